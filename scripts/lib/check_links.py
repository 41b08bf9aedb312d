#!/usr/bin/env python3
"""Check the relative links of the Markdown pages: README.md, docs/*.md and Benchmarks/**/README.md.

Every link that is not a URL must name a file or folder of the repository, and a `#anchor` must
name a heading (GitHub's slug) or an `<a id>` of the page it points to. Prints each broken link
and a closing "links: N passed, N failed" line; exits 1 if any is broken.

Usage: check_links.py [PAGE...]   (default: the pages above)
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def slug(heading: str) -> str:
    text = re.sub(r"[`*_]|<[^>]+>", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: str) -> set:
    found, counts, fenced = set(), {}, False
    with open(path, encoding="utf-8") as page:
        for line in page:
            if FENCE.match(line):
                fenced = not fenced
                continue
            if fenced:
                continue
            heading = re.match(r"^#{1,6}\s+(.*)", line)
            if heading:
                base = slug(heading.group(1))
                n = counts.get(base, 0)
                counts[base] = n + 1
                found.add(base if n == 0 else f"{base}-{n}")
            found.update(re.findall(r'<a\s+(?:id|name)="([^"]+)"', line))
    return found


def links(path: str):
    fenced = False
    with open(path, encoding="utf-8") as page:
        for number, line in enumerate(page, 1):
            if FENCE.match(line):
                fenced = not fenced
                continue
            if fenced:
                continue
            for match in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
                yield number, match.group(1) or match.group(2)


def main() -> int:
    pages = sys.argv[1:] or (
        ["README.md"] + sorted(glob.glob("docs/*.md")) + sorted(glob.glob("Benchmarks/**/README.md", recursive=True))
    )
    passed = failed = 0
    for page in pages:
        path = os.path.join(ROOT, page)
        for number, target in links(path):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # a URL or mailto:
            file_part, _, anchor = target.partition("#")
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            problem = None
            if not resolved.startswith(ROOT + os.sep) and resolved != ROOT:
                problem = "points outside the repository"
            elif not os.path.exists(resolved):
                problem = "no such file"
            elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
                problem = f"no heading #{anchor}"
            if problem:
                failed += 1
                print(f"FAIL {page}:{number}: {target}: {problem}")
            else:
                passed += 1
    print(f"links: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
