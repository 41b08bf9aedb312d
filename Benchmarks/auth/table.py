"""Puts the auth benchmark's JSON lines (auth on and off) side by side as a Markdown table.

  python3 table.py RESULTS.jsonl

With several rounds, a figure is the median of the rounds and the last column lists each
round's figure (on / off), so the spread that the machine's load makes is in sight.
"""

import json
import statistics
import sys


def figure(value, unit=""):
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{value:,.0f}{unit}" if abs(value) >= 100 else f"{value:.1f}{unit}" if unit == "" else f"{value:.2f}{unit}"


def change(on, off, higher_is_better):
    """`on` against `off`: a share for rates, a difference for times."""
    if on is None or off is None or off == 0:
        return "–"
    if higher_is_better:
        return f"{on / off:.0%} of off"
    return f"{on - off:+.2f} ms"


def median(lines, key):
    values = [line[key] for line in lines if line.get(key) is not None]
    return statistics.median(values) if values else None


def each_round(on, off, key, unit=""):
    if max(len(on), len(off)) < 2:
        return ""
    show = lambda lines: ", ".join(figure(line.get(key)) for line in lines) or "–"
    return f"{show(on)} / {show(off)}{unit}"


def rows(lines):
    groups = {}
    for line in lines:
        groups.setdefault((line["measure"], line.get("browsers"), line["auth"]), []).append(line)
    for group in groups.values():
        group.sort(key=lambda line: line.get("round", 1))
    out = []

    def add(label, on, off, key, unit, higher_is_better):
        a, b = median(on, key), median(off, key)
        out.append((label, figure(a, unit), figure(b, unit), change(a, b, higher_is_better), each_round(on, off, key)))

    on, off = groups.get(("connect", None, "on"), []), groups.get(("connect", None, "off"), [])
    if on or off:
        n = (on or off)[0]["connections"]
        turns = " (on and off taking turns)" if (on or off)[0].get("interleaved") == ["off", "on"] else ""
        for key, label in [("first_ms", "first (cold)"), ("repeat_2_10_mean_ms", "2nd–10th, mean"), ("p50_ms", "p50"),
                           ("p90_ms", "p90"), ("p99_ms", "p99"), ("ws_open_p50_ms", "WebSocket open p50 (before CONNECT)")]:
            add(f"CONNECT→CONNECTED, {n} sequential{turns}: {label}", on, off, key, " ms", False)
    for count in sorted({line["browsers"] for line in lines if line["measure"] == "posts"}):
        on, off = groups.get(("posts", count, "on"), []), groups.get(("posts", count, "off"), [])
        window = (on or off)[0].get("window")
        label = f"{count} browser{'s' if count != 1 else ''}, window {window} each"
        add(f"{label}: posts/s", on, off, "posts_per_s", "", True)
        add(f"{label}: deliveries/s", on, off, "deliveries_per_s", "", True)
        add(f"{label}: post→delivery p50", on, off, "p50_ms", " ms", False)
        add(f"{label}: post→delivery p99", on, off, "p99_ms", " ms", False)
        add(f"{label}: join p50 (CONNECT, login request, SUBSCRIBE)", on, off, "join_p50_ms", " ms", False)
        for key, part in [("join_connect_p50_ms", "CONNECT"), ("join_login_p50_ms", "login request"), ("join_subscribe_p50_ms", "SUBSCRIBE")]:
            add(f"{label}: join p50, {part} alone", on, off, key, " ms", False)
        if any(line.get("missing_posts") for line in on + off):
            add(f"{label}: posts not delivered to every browser", on, off, "missing_posts", "", False)
    return out


def table(lines):
    text = ["| measure | auth on | auth off | on vs off | each round (on / off) |", "|---|---:|---:|---|---|"]
    text += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows(lines)]
    return "\n".join(text)


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as file:
        lines = [json.loads(line) for line in file if line.startswith("{")]
    print(table(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
