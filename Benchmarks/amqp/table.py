#!/usr/bin/env python3
"""Prints baseline.py's JSON lines (from files or stdin) as a Markdown table.

Rows of any client other than pika and aio-pika (Warren's own) get ratio columns against pika
and aio-pika from the same run, and whether they meet the targets: at least the pika rate and
twice the aio-pika rate in every scenario, three times the aio-pika rate with confirms.

Usage: table.py [RESULTS.jsonl ...]
"""
import fileinput
import json
import sys

ORDER = ["publish", "publish-confirm", "consume-noack", "consume-ack"]
BASELINES = ("pika", "aio-pika")
TARGET_VS_AIO = {"publish-confirm": 3.0}
DEFAULT_TARGET_VS_AIO = 2.0


def rate(row):
    value = row.get("msg_per_s")
    return float(value) if value else None


def ratio(value, base):
    return value / base if value and base else None


def main():
    rows = []
    for line in fileinput.input(sys.argv[1:]):
        line = line.strip()
        if line.startswith("{"):
            rows.append(json.loads(line))
    if not rows:
        print("no results", file=sys.stderr)
        return 1
    base = {(r["client"], r["scenario"]): rate(r) for r in rows if r["client"] in BASELINES}
    others = any(r["client"] not in BASELINES for r in rows)
    clients = []
    for r in rows:
        if r["client"] not in clients:
            clients.append(r["client"])
    rows.sort(key=lambda r: (ORDER.index(r["scenario"]) if r["scenario"] in ORDER else 99, clients.index(r["client"])))

    first = rows[0]
    print(f"{first['messages']} messages of {first['size']} B, transient, default exchange; "
          "broker CPU: cores busy during the timed part (1.0 = one core)\n")
    head = ["scenario", "client", "msg/s", "seconds", "peak RSS MB", "broker CPU"]
    if others:
        head += ["vs pika", "vs aio-pika", "target"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        value = rate(r)
        cpu = r.get("broker_cpu")
        cells = [
            r["scenario"],
            r["client"],
            f"{value:,.0f}" if value else "-",
            f"{r['seconds']:.2f}",
            f"{r['peak_rss_kb'] / 1024:.1f}" if r.get("peak_rss_kb") else "-",
            f"{cpu:.2f}" if isinstance(cpu, (int, float)) else "-",
        ]
        if others:
            if r["client"] in BASELINES:
                cells += ["", "", ""]
            else:
                vs_pika = ratio(value, base.get(("pika", r["scenario"])))
                vs_aio = ratio(value, base.get(("aio-pika", r["scenario"])))
                need = TARGET_VS_AIO.get(r["scenario"], DEFAULT_TARGET_VS_AIO)
                if vs_pika is None or vs_aio is None:
                    verdict = "no baseline"
                elif vs_pika >= 1 and vs_aio >= need:
                    verdict = "met"
                else:
                    verdict = f"MISSED (≥ pika, ≥{need:g}× aio-pika)"
                cells += [
                    f"{vs_pika:.2f}×" if vs_pika else "-",
                    f"{vs_aio:.2f}×" if vs_aio else "-",
                    verdict,
                ]
        print("| " + " | ".join(cells) + " |")
    notes = {r["client"] + " " + r["scenario"]: r["note"] for r in rows if r.get("note")}
    if notes:
        print()
        for key, note in notes.items():
            print(f"- {key}: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
