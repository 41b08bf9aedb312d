"""The tabs benchmark's pure parts, tested without a broker (test_tabs_bench.py): option
parsing, failure reasons, /proc readings, the fan-out bookkeeping and the table.
"""

import json
import os
import re
from array import array

from figures import percentile, rounded


def parse_counts(text, name="--tabs", low=1, high=20000):
    """A comma list of whole numbers within [low, high], e.g. "100,1000" -> [100, 1000]."""
    counts = []
    for part in text.split(","):
        part = part.strip().replace("_", "")
        if not part:
            continue
        if not part.isdigit() or not low <= int(part) <= high:
            raise ValueError(f"{name} takes whole numbers from {low} to {high}, not {part!r}")
        counts.append(int(part))
    if not counts:
        raise ValueError(f"{name} needs at least one number")
    return counts


def parse_rates(text):
    """A comma list of posts per second (more than 0, at most 1000), e.g. "1,20" -> [1.0, 20.0];
    "none": no fan-out phase (e.g. a run of restart drills only)."""
    if text.strip() == "none":
        return []
    rates = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            rate = float(part)
        except ValueError:
            raise ValueError(f"--rates takes numbers of posts per second, not {part!r}") from None
        if not 0 < rate <= 1000:
            raise ValueError(f"--rates takes posts per second above 0 and at most 1000, not {part}")
        rates.append(rate)
    if not rates:
        raise ValueError("--rates needs at least one rate")
    return rates


_NAMES = [
    (re.compile(r"chat\.user\.[\w.-]+"), "chat.user.<tab>"),
    (re.compile(r"amq\.gen-[\w-]+"), "amq.gen-<id>"),
    (re.compile(r"\bbench\d+\b"), "<name>"),
    (re.compile(r"\b(req|send|subscribed|sub|disconnect)-\d+\b"), r"\1-<n>"),
]


def reason_of(error):
    """A failure as a short reason that many tabs share: the step, then the message with tab
    names and ids taken out, so failures can be counted by reason."""
    text = str(error) or type(error).__name__
    for pattern, replacement in _NAMES:
        text = pattern.sub(replacement, text)
    return text[:200]


def count_reasons(reasons):
    """{reason: count}, the most frequent first."""
    counted = {}
    for reason in reasons:
        counted[reason] = counted.get(reason, 0) + 1
    return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))


def stat_cpu_seconds(text, ticks_per_second):
    """utime + stime of a /proc/<pid>/stat line, in seconds. The command (field 2) is in
    parentheses and may hold spaces, so fields are counted after the last ')': utime is field 14,
    stime 15. None when the line is not of that shape."""
    close = text.rfind(")")
    fields = text[close + 1 :].split()
    if close < 0 or len(fields) < 13:
        return None
    try:
        return (int(fields[11]) + int(fields[12])) / ticks_per_second
    except ValueError:
        return None


def breakdown_mb(text):
    """{category: MB} from `rabbitmq-diagnostics memory_breakdown --unit MB` output
    (lines such as "connection_other: 64.7214 mb (21.04%)")."""
    found = {}
    for match in re.finditer(r"^(\w+): ([\d.]+) mb", text, re.MULTILINE):
        found[match.group(1)] = float(match.group(2))
    return found


def breakdown_per_tab_kib(before, after, tabs, top=8):
    """What each category grew by per tab, in KiB, the largest first (at most `top`)."""
    if not tabs:
        return {}
    grown = {name: (after[name] - before.get(name, 0.0)) * 1024 / tabs for name in after}
    largest = sorted(grown.items(), key=lambda item: -abs(item[1]))[:top]
    return {name: round(kib, 1) for name, kib in largest}


def status_rss_kib(text):
    """VmRSS of a /proc/<pid>/status text, in KiB; None when absent."""
    match = re.search(r"^VmRSS:\s+(\d+)\s+kB", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def cpu_seconds(pid):
    """CPU seconds (user + system) of a process so far; None when unreadable (gone, no /proc)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            return stat_cpu_seconds(file.read(), os.sysconf("SC_CLK_TCK"))
    except OSError:
        return None


def rss_kib(pid):
    """Resident memory of a process in KiB; None when unreadable."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as file:
            return status_rss_kib(file.read())
    except OSError:
        return None


def stomp_urls(option, config):
    """The Web-STOMP endpoints the tabs sign in on: --stomp-url's comma list when given, else
    /config.json's stompURLs (a cluster's nodes), else its one stompURL."""
    if option:
        urls = [url.strip() for url in option.split(",") if url.strip()]
        if urls:
            return urls
    return list(config.get("stompURLs") or [config["stompURL"]])


def parse_pids(text):
    """--broker-pid: one pid, or a comma list of them (one per node of a cluster); [] for none."""
    pids = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise ValueError(f"--broker-pid takes process ids (a comma list for a cluster), not {part!r}")
        pids.append(int(part))
    return pids


def broker_pids(pids):
    """{name: pid} of the broker nodes: "broker" for one node, "broker1".."brokerK" for a cluster
    (CPUMeter reads each node apart)."""
    if len(pids) <= 1:
        return {"broker": pids[0] if pids else None}
    return {f"broker{k}": pid for k, pid in enumerate(pids, 1)}


def brokers_rss_kib(pids, read=rss_kib):
    """The RSS of every broker node (names as broker_pids) summed, in KiB; None when one is unreadable."""
    values = [read(pid) for name, pid in pids.items() if name.startswith("broker")]
    return None if not values or None in values else sum(values)


class CPUMeter:
    """CPU seconds used by named processes between two readings (`pids`: name -> pid or None)."""

    def __init__(self, pids, read=cpu_seconds):
        self.pids = pids
        self.read = read
        self.start = {name: read(pid) for name, pid in pids.items()}

    def used(self):
        """{name: seconds used since creation} (None where unknown)."""
        out = {}
        for name, pid in self.pids.items():
            now, then = self.read(pid), self.start[name]
            out[name] = None if now is None or then is None else round(max(0.0, now - then), 2)
        return out


class FanoutBook:
    """Who received which post, for one fan-out phase: every tab must receive every post once.

    Posts are numbered 0, 1, ... by the poster (their clientId maps to the number); a tab is
    an index 0..tabs-1. Per tab one byte per post records receipt, so a duplicate is seen and a
    missing delivery is counted at the end without a set per post.
    """

    def __init__(self, tabs, max_posts, max_samples=2_000_000):
        self.tabs = tabs
        self.max_posts = max_posts
        self.seen = [bytearray(max_posts) for _ in range(tabs)]
        self.sent_at = {}  # clientId -> (number, time sent)
        self.receivers = array("i", [0] * max_posts)  # tabs that have post k
        self.latencies_ms = array("d")
        self.max_samples = max_samples
        self.deliveries = 0
        self.duplicates = 0
        self.strangers = 0  # a message event with a clientId this phase did not send
        self.posts = 0
        self.last_delivery = None

    def sending(self, client_id, now):
        """Records a post about to be sent; returns its number, or None when the book is full."""
        if self.posts >= self.max_posts:
            return None
        number = self.posts
        self.sent_at[client_id] = (number, now)
        self.posts += 1
        return number

    def delivered(self, tab, client_id, now):
        """Records that tab `tab` received the post `client_id` at `now`."""
        entry = self.sent_at.get(client_id)
        if entry is None:
            self.strangers += 1
            return
        number, sent = entry
        if self.seen[tab][number]:
            self.duplicates += 1
            return
        self.seen[tab][number] = 1
        self.receivers[number] += 1
        self.deliveries += 1
        self.last_delivery = now
        if len(self.latencies_ms) < self.max_samples:
            self.latencies_ms.append((now - sent) * 1000)

    def complete(self, tabs_counted=None):
        """Whether every counted tab has every post sent so far."""
        want = self.tabs if tabs_counted is None else tabs_counted
        return all(self.receivers[k] >= want for k in range(self.posts))

    def missing(self):
        """Deliveries that did not happen: posts sent times tabs, less those received."""
        return self.posts * self.tabs - self.deliveries

    def summary(self):
        """The phase's figures as a dict (latencies in ms)."""
        values = self.latencies_ms.tolist()
        return {
            "posts": self.posts, "deliveries": self.deliveries, "missing": self.missing(),
            "duplicates": self.duplicates, "strangers": self.strangers,
            "p50_ms": rounded(percentile(values, 0.50)), "p99_ms": rounded(percentile(values, 0.99)),
            "max_ms": rounded(max(values)) if values else None,
        }


_JSON = json.JSONDecoder()


def is_post_event(body):
    """(kind, clientId, event id) of a room event body (bytes or str); (None, None, None) when it
    is not a JSON object. Read for thousands of deliveries a second: the JSON value at the start
    of the body is decoded without json.loads' checks (what follows it is not looked at)."""
    try:
        event, _ = _JSON.raw_decode(body.decode() if isinstance(body, (bytes, bytearray)) else body)
    except ValueError:  # UnicodeDecodeError too
        return None, None, None
    if not isinstance(event, dict):
        return None, None, None
    return event.get("kind"), event.get("clientId"), event.get("id")


def _figure(value, unit=""):
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    else:
        text = f"{value:,}"
    return text + unit


def _node_names(cpu):
    """The broker node names of a cpu_s dict, in node order (broker, or broker1..brokerK)."""
    return sorted((name for name in cpu if name.startswith("broker")), key=lambda name: (len(name), name))


def broker_cpu(cpu):
    """A line's broker CPU: "22.1 s" for one node, "24.0 s (8.10 + 7.90 + 8.00)" for a cluster."""
    names = _node_names(cpu or {})
    values = [cpu[name] for name in names]
    if not values or None in values:
        return "–"
    if len(values) == 1:
        return _figure(values[0], " s")
    return f"{_figure(float(sum(values)), ' s')} ({' + '.join(_figure(v) for v in values)})"


def _cpu(line):
    cpu = line.get("cpu_s") or {}
    parts = [f"broker {broker_cpu(cpu)}"] if _node_names(cpu) else []
    parts += [f"{name} {_figure(cpu.get(name), ' s')}" for name in ("warren", "bench") if name in cpu]
    return ", ".join(parts) or "–"


def _tabs(line):
    """The tabs column: "1,000", or "1,000 on 3 nodes" for a cluster; ", general by stream" when
    the tabs read general from one stream (WARREN_GENERAL_STREAM=on), so runs are not mixed up."""
    nodes = line.get("nodes") or 1
    return (f"{line['tabs']:,}" + (f" on {nodes} nodes" if nodes > 1 else "")
            + (", general by stream" if line.get("general_stream") else ""))


def table(lines):
    """A Markdown table of the JSON lines of one or more runs (one row per measurement)."""
    out = ["| tabs | measure | figures | CPU (broker, warren, bench) |", "|---:|---|---|---|"]
    for line in lines:
        phase = line.get("phase")
        if phase == "tokens":
            figures = (f"{line['tokens']} tokens (POST /api/login), {_figure(line.get('seconds'), ' s')}, "
                       f"p50 {_figure(line.get('p50_ms'), ' ms')}, p99 {_figure(line.get('p99_ms'), ' ms')}, "
                       f"failed {line.get('failed', 0)}")
            out.append(f"| – | HTTP sign-in (tokens, {line.get('concurrency')} at a time) | {figures} | {_cpu(line)} |")
        elif phase == "join":
            n = line["tabs"]
            reasons = "; ".join(f"{count}× {reason}" for reason, count in (line.get("reasons") or {}).items())
            all_in = f"all in after {_figure(line.get('all_in_s'), ' s')}" if line.get("failed") == 0 else f"not all in: {line.get('in')} of {n}"
            figures = (f"{all_in}, sign-in p50 {_figure(line.get('p50_ms'), ' ms')}, "
                       f"p99 {_figure(line.get('p99_ms'), ' ms')}, failed {line.get('failed')}"
                       + (f" ({reasons})" if reasons else ""))
            out.append(f"| {_tabs(line)} | sign-in (CONNECT + login + SUBSCRIBE, {line.get('concurrency')}) | {figures} | {_cpu(line)} |")
        elif phase == "settle":
            per_tab = line.get("rss_per_tab_kib")
            figures = (f"broker RSS {_figure(line.get('rss_before_kib'), ' KiB')} → {_figure(line.get('rss_in_kib'), ' KiB')}"
                       f" = **{_figure(per_tab, ' KiB')} per tab**; {line.get('events_since_join', 0):,} deliveries"
                       f" (backfill, presence) since the first sign-in, quiet {_figure(line.get('seconds'), ' s')} after the last")
            grown = line.get("breakdown_per_tab_kib") or {}
            if grown:
                figures += "; per tab by memory_breakdown: " + ", ".join(f"{k} {_figure(v, ' KiB')}" for k, v in list(grown.items())[:5])
            if line.get("in") is not None and line.get("in") != line["tabs"]:
                figures += f" (only {line['in']} of {line['tabs']:,} in: per tab of those)"
            out.append(f"| {_tabs(line)} | memory with the tabs in | {figures} | {_cpu(line)} |")
        elif phase == "fanout":
            figures = (f"{line.get('posts')} posts, p50 {_figure(line.get('p50_ms'), ' ms')}, "
                       f"p99 {_figure(line.get('p99_ms'), ' ms')}, max {_figure(line.get('max_ms'), ' ms')}, "
                       f"missing **{line.get('missing')}**, duplicates {line.get('duplicates')}, tabs lost {line.get('tabs_lost', 0)}")
            out.append(f"| {_tabs(line)} | fan-out at {line.get('rate'):g} post/s | {figures} | {_cpu(line)} |")
        elif phase == "restart":
            back = (f"all {line['back']:,} back after {_figure(line.get('all_back_s'), ' s')}" if line.get("back") == line["tabs"]
                    else f"only {line.get('back')} of {line['tabs']:,} back")
            posts = "; ".join(
                f"{name} {line.get(f'posts_{name}', 0)}: missing **{line.get(f'missing_{name}', 0)}**, "
                f"twice {line.get(f'twice_{name}', 0)}, redelivered {line.get(f'redelivered_{name}', 0)}"
                for name in ("before", "during", "after"))
            figures = (f"{back} (p50 {_figure(line.get('back_p50_s'), ' s')}, p99 {_figure(line.get('back_p99_s'), ' s')}; "
                       f"restart took {_figure(line.get('restart_cmd_s'), ' s')}; {line.get('attempts', 0):,} attempts); "
                       f"posts (per tab) {posts}")
            out.append(f"| {_tabs(line)} | broker restart ({line.get('how')}) | {figures} | – |")
    return "\n".join(out)


def _pair(line, key_50, key_99, unit=" ms"):
    if not line:
        return "–"
    return f"{_figure(line.get(key_50), unit)} / {_figure(line.get(key_99), unit)}"


def signin_comparison(lines):
    """The sign-in of the same N tabs on one node and on a cluster, side by side: one Markdown
    table per tab count that ran on more than one node count (lines tagged "nodes"), or "" when
    there is none."""
    joins, settles = {}, {}
    for line in lines:
        key = (line.get("tabs"), line.get("nodes") or 1)
        if line.get("phase") == "join":
            joins[key] = line
        elif line.get("phase") == "settle":
            settles[key] = line
    out = []
    for tabs in sorted({tabs for tabs, _ in joins}):
        counts = sorted(nodes for t, nodes in joins if t == tabs)
        if len(counts) < 2:
            continue
        columns = [(joins[(tabs, k)], settles.get((tabs, k))) for k in counts]

        def row(label, cell):
            return f"| {label} | " + " | ".join(cell(join, settle) for join, settle in columns) + " |"

        def all_in(join, _):
            if join.get("failed") == 0:
                return f"**{_figure(join.get('all_in_s'), ' s')}**"
            return f"not all in: {join.get('in')} of {join['tabs']:,}"

        def failed(join, _):
            reasons = "; ".join(f"{count}× {reason}" for reason, count in (join.get("reasons") or {}).items())
            return f"{join.get('failed')}" + (f" ({reasons})" if reasons else "")

        out += [
            f"{tabs:,} tabs signing in ({columns[0][0].get('concurrency')}), the same accounts on each",
            "",
            "| | " + " | ".join(f"{k} node" + ("s" if k > 1 else "") for k in counts) + " |",
            "|---|" + "---:|" * len(counts),
            row("all in after", all_in),
            row("sign-in p50 / p99", lambda j, _: _pair(j, "p50_ms", "p99_ms")),
            row("CONNECT p50 / p99", lambda j, _: _pair(j, "connect_p50_ms", "connect_p99_ms")),
            row("login reply p50 / p99", lambda j, _: _pair(j, "login_p50_ms", "login_p99_ms")),
            row("SUBSCRIBE p50 / p99", lambda j, _: _pair(j, "subscribe_p50_ms", "subscribe_p99_ms")),
            row("failed", failed),
            row("login replies later than the page's 15 s", lambda j, _: f"{j.get('login_over_page_timeout', 0)}"),
            row("broker CPU in the sign-in (per node)", lambda j, _: broker_cpu(j.get("cpu_s"))),
            row("warren / client CPU in the sign-in", lambda j, _: f"{_figure((j.get('cpu_s') or {}).get('warren'), ' s')} / "
                f"{_figure((j.get('cpu_s') or {}).get('bench'), ' s')}"),
            row("deliveries until quiet (backfill, presence)", lambda _, s: f"{s.get('events_since_join', 0):,}" if s else "–"),
            row("broker RSS per tab (all nodes)", lambda _, s: _figure(s.get("rss_per_tab_kib"), " KiB") if s else "–"),
            row("client's event loop late by at most", lambda j, _: _figure(j.get("loop_lag_max_ms"), " ms")),
            "",
        ]
    return "\n".join(out).rstrip("\n")
