#!/usr/bin/env python3
"""Check that docs/configuration.md lists every setting of ConfigurationKey with its default.

Reads the keys and defaults from Sources/WarrenCore/ConfigurationKey.swift (`case name =
"WARREN_…"` and `case .name: "default"`), and the rows `| \`WARREN_…\` | default | …` of the
settings table of docs/configuration.md and of README.md's short table. Every key must have a
row in docs/configuration.md showing its default in backticks (an empty default: "unset"); a row
in either page for a WARREN_ variable must show the same default as the code. Prints one line per
check and a closing "N passed, N failed" line; exits 1 on any failure.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Defaults the Swift file names by a constant rather than a literal.
CONSTANTS = {"Topology.defaultPrefix": "chat", "HistoryMode.store.rawValue": "store", "LogLevel.info.rawValue": "info"}


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return handle.read()


def limit(name):
    """The value of `Limits.name` (an integer literal or a product of them) in Limits.swift."""
    match = re.search(r"static let %s = ([0-9_ *]+)\n" % re.escape(name), read("Sources/WarrenCore/Limits.swift"))
    if not match:
        return None
    value = 1
    for factor in match.group(1).split("*"):
        value *= int(factor.strip().replace("_", ""))
    return str(value)


def resolve(value):
    """A default as the code writes it: a literal, a named constant, or `String(Limits.x)`."""
    if value in CONSTANTS:
        return CONSTANTS[value]
    match = re.fullmatch(r"String\(Limits\.(\w+)\)", value)
    if match and limit(match.group(1)) is not None:
        return limit(match.group(1))
    return value.strip('"')


def code_defaults():
    source = read("Sources/WarrenCore/ConfigurationKey.swift")
    keys = dict(re.findall(r'case (\w+) = "(WARREN_\w+)"', source))
    block = source.split("public var defaultValue", 1)[1].split("public var expected", 1)[0]
    defaults = {}
    for name, value in re.findall(r"case \.(\w+): (.+)", block):
        value = value.strip()
        defaults[keys[name]] = resolve(value)
    return keys, defaults


def rows(page):
    return dict(re.findall(r"^\| `(WARREN_\w+)` \| ([^|]*) \|", read(page), re.M))


def main() -> int:
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")

    keys, defaults = code_defaults()
    check("ConfigurationKey.swift has a default for every key", set(keys.values()) == set(defaults), str(sorted(set(keys.values()) ^ set(defaults))))
    documented = rows("docs/configuration.md")
    short = rows("README.md")
    for variable, default in sorted(defaults.items()):
        shown = documented.get(variable)
        expected = "unset" if default == "" else f"`{default}`"
        check(f"docs/configuration.md: {variable}, default {expected}", shown is not None and expected in shown, shown or "no row")
        if variable in short:
            check(f"README.md: {variable}, default {expected}", expected in short[variable], short[variable])
    print(f"settings doc: {sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
