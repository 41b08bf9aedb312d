#!/usr/bin/env python3
"""What a registration flood does to the cheap answers of the web role: the latency of
GET /config.json (what every page load asks) and POST /auth/user (what the broker asks on every
Web-STOMP CONNECT) while --concurrency clients register new people as fast as they are answered.

Run by `scripts/bench-auth --flood` once per side against a `warren up` of its own: `off`
(WARREN_HASH_THREADS=off: hashing on Dispatch's shared threads without a bound, as before the
pool) and `on` (the bounded pool, as by default); both with the registration throttle lifted, so
the flood really hashes. Prints one JSON line per phase (idle, then flood). Not a test: nothing
passes or fails on speed. Standard library only.
"""

import argparse
import http.client
import json
import secrets
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))  # figures, warren_http

from figures import percentile, rounded  # noqa: E402
from warren_http import register  # noqa: E402

PASSWORD = "flood-bench-password"


class Client:
    """One keep-alive HTTP connection; reconnects after a failure."""

    def __init__(self, web, timeout):
        parsed = urllib.parse.urlsplit(web)
        self.host, self.port, self.timeout = parsed.hostname, parsed.port or 80, timeout
        self.connection = None

    def request(self, method, path, body=None, content_type=None):
        """Returns (status, body bytes); status 0 when the request failed."""
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, data
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, b""

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class Prober(threading.Thread):
    """Asks one cheap endpoint, one request at a time, every `gap` seconds, on a keep-alive
    connection of its own (as the page and the broker do); one prober per endpoint, so a stalled
    answer of one does not hold the other's probes back."""

    def __init__(self, web, what, method, path, body, content_type, expected, gap, timeout):
        super().__init__(daemon=True)
        self.client = Client(web, timeout)
        self.what, self.method, self.path, self.body = what, method, path, body
        self.content_type, self.expected, self.gap = content_type, expected, gap
        self.stop = threading.Event()
        self.phase = "idle"
        self.latencies = {}  # phase -> [ms]
        self.failures = {}  # phase -> count

    def run(self):
        while not self.stop.is_set():
            phase = self.phase
            started = time.perf_counter()
            status, data = self.client.request(self.method, self.path, self.body, self.content_type)
            elapsed = (time.perf_counter() - started) * 1000
            if status == 200 and (self.expected is None or data == self.expected):
                self.latencies.setdefault(phase, []).append(elapsed)
            else:
                self.failures[phase] = self.failures.get(phase, 0) + 1
            time.sleep(self.gap)


def probers(web, user, token, gap, timeout):
    """The two probers: the page's /config.json and the broker's /auth/user with a valid token."""
    form = urllib.parse.urlencode({"username": user, "password": token})
    return [
        Prober(web, "config", "GET", "/config.json", None, None, None, gap, timeout),
        Prober(web, "auth_user", "POST", "/auth/user", form, "application/x-www-form-urlencoded", b"allow", gap, timeout),
    ]


class Flooder(threading.Thread):
    """Registers new people one after another until told to stop, counting the answers."""

    def __init__(self, web, stem, timeout, stop):
        super().__init__(daemon=True)
        self.client = Client(web, timeout)
        self.stem, self.stop = stem, stop
        self.statuses = {}

    def run(self):
        index = 0
        while not self.stop.is_set():
            body = json.dumps({"name": f"{self.stem}{index}", "password": PASSWORD})
            status, _ = self.client.request("POST", "/api/register", body, "application/json")
            self.statuses[status] = self.statuses.get(status, 0) + 1
            index += 1
            if status in (0, 429, 503):
                time.sleep(0.05)  # a refused client backs off a little, as a script would
        self.client.close()


def summary(values, failed):
    """The figures of one endpoint in one phase."""
    return {
        "n": len(values),
        "p50_ms": rounded(percentile(values, 0.50)),
        "p99_ms": rounded(percentile(values, 0.99)),
        "max_ms": rounded(max(values) if values else None),
        "failed": failed,
    }


def table(lines):
    """A Markdown table of the JSON lines of both sides: each figure with the pool off and on."""
    def cell(side, phase, what, key):
        values = [line[what][key] for line in lines if line["side"] == side and line["phase"] == phase
                  and line[what][key] is not None]
        return " / ".join(f"{value:,.1f}" for value in values) or "–"

    out = ["| measure | pool off (WARREN_HASH_THREADS=off) | pool on (default) |", "|---|---:|---:|"]
    for what, label in (("config", "GET /config.json"), ("auth_user", "POST /auth/user")):
        for phase in ("idle", "flood"):
            for key in ("p50_ms", "p99_ms", "max_ms"):
                out.append(f"| {label}, {phase}, {key.replace('_ms', '')} (ms) | {cell('off', phase, what, key)} | {cell('on', phase, what, key)} |")
            out.append(f"| {label}, {phase}, probes (failed) | "
                       + " | ".join(" / ".join(f"{line[what]['n']} ({line[what]['failed']})" for line in lines
                                               if line["side"] == side and line["phase"] == phase) or "–"
                                    for side in ("off", "on")) + " |")
    for key, label in (("registered_per_s", "registrations made per second"), ("statuses", "registration answers")):
        out.append(f"| {label} | "
                   + " | ".join(" / ".join(str(line[key]) for line in lines if line["side"] == side and line["phase"] == "flood")
                                for side in ("off", "on")) + " |")
    return "\n".join(out)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--web-url", required=True, help="the web role, e.g. http://127.0.0.1:18096")
    parser.add_argument("--side", required=True, help="a label for the output: off or on")
    parser.add_argument("--round", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=50, help="registrations in flight at once (50)")
    parser.add_argument("--seconds", type=float, default=10, help="how long the flood lasts (10)")
    parser.add_argument("--idle-seconds", type=float, default=3, help="probing before the flood (3)")
    parser.add_argument("--gap", type=float, default=0.005, help="seconds between two probes (0.005)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds a request may take (30)")
    parser.add_argument("--check", action="store_true", help="check the options and exit")
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.seconds <= 0 or args.idle_seconds <= 0:
        parser.error("--concurrency needs at least 1, --seconds and --idle-seconds more than 0")
    return args


def main(argv):
    if argv[:1] == ["--table"]:
        with open(argv[1], encoding="utf-8") as handle:
            print(table([json.loads(line) for line in handle if line.strip()]))
        return 0
    args = parse_arguments(argv)
    if args.check:
        return 0
    stem = "flood" + secrets.token_hex(3)
    user = stem + "probe"
    token = register(args.web_url, user, PASSWORD, args.timeout)
    probes = probers(args.web_url, user, token, args.gap, args.timeout)
    for prober in probes:
        prober.start()
    time.sleep(args.idle_seconds)

    stop = threading.Event()
    flooders = [Flooder(args.web_url, f"{stem}f{index}x", args.timeout, stop) for index in range(args.concurrency)]
    for prober in probes:
        prober.phase = "flood"
    started = time.perf_counter()
    for flooder in flooders:
        flooder.start()
    time.sleep(args.seconds)
    stop.set()
    for prober in probes:
        prober.phase = "after"
    for flooder in flooders:
        flooder.join(args.timeout)
    seconds = time.perf_counter() - started
    for prober in probes:
        prober.stop.set()
        prober.join(args.timeout)

    statuses = {}
    for flooder in flooders:
        for status, count in flooder.statuses.items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    for phase in ("idle", "flood"):
        line = {"side": args.side, "round": args.round, "phase": phase}
        for prober in probes:
            line[prober.what] = summary(prober.latencies.get(phase, []), prober.failures.get(phase, 0))
        if phase == "flood":
            line.update({"concurrency": args.concurrency, "seconds": rounded(seconds),
                         "registered_per_s": rounded(statuses.get("201", 0) / seconds), "statuses": statuses})
        print(json.dumps(line, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
