"""How many browser tabs one broker node holds, signed in through the page's full path.

For each tab count N (--tabs): N tabs sign in at once (or --concurrency at a time) the way
web/app.js does, then the room quiets down, the broker's memory is read, and one tab posts at
each --rates rate while every tab's deliveries are timed and counted. One JSON line per
measurement on stdout, then a Markdown table. A benchmark, not a test: it passes or fails
nothing, and ends by itself (every wait has a timeout).

The sign-in of one tab (web/auth.js, web/app.js, web/session.js, web/stomp*.js):
  1. an access token from the web role (POST /api/login; measured apart, see below);
  2. a WebSocket to Web-STOMP and CONNECT with login = name, passcode = token, host = the vhost
     of /config.json, heart-beat 10000,10000;
  3. SEND to /exchange/<prefix>.in/<prefix>.login with reply-to:/temp-queue/replies, a correlation-id and
     user-id:<name>, body {"action":"login","login":..,"session":<128-bit id>,"resume":false};
     the reply names the tab's queue;
  4. SUBSCRIBE /amq/queue/<that queue>, ack:client-individual, prefetch-count:50, with a receipt.
When /config.json names generalStream (WARREN_GENERAL_STREAM=on), the tab SUBSCRIBEs that stream
between 2 and 3, as the page does (tabs_stream.py), and posts in general reach it there.
Steps 2-4 are the timed sign-in. Step 1 is not: a person's password is hashed (PBKDF2, ~0.3 s of
CPU) by every /api/login, and the tabs of one browser share one sign-in, so the tabs are spread
over --accounts people (bench1..benchM, one password), each signed in once per run in a phase of
its own ("tokens"). Accounts are registered once, before anything is timed, and remembered in
--accounts-file so later runs against the same store register only those missing.

All tabs run on one event loop (uvloop when installed), and at thousands of deliveries a second
the client's own CPU matters: it shares the cores with the broker. Its STOMP client
(Benchmarks/shared/stomp_ws.py) runs over the project's own WebSocket client (ws_client.py) and
hands each delivery to Tab.received, a plain function called from the socket's data_received,
which times and counts it (a body is read as JSON only when it can be a post) and writes its
ACK at once. Once the tabs are in, what is alive is frozen out of the cyclic garbage collector.
"""

import argparse
import asyncio
import contextlib
import gc
import json
import os
import resource
import secrets
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))  # stomp_ws, warren_http, figures

from figures import percentile, rounded  # noqa: E402
from stomp_ws import StompClient, StompFailure  # noqa: E402
from tabs_restart import RestartDrill  # noqa: E402
from tabs_stream import QUEUE, STREAM, SUBSCRIPTION, Arrivals, StreamReader, delivery_path, general_stream, stream_terms  # noqa: E402
from tabs_book import (  # noqa: E402
    CPUMeter, FanoutBook, breakdown_mb, breakdown_per_tab_kib, broker_pids, brokers_rss_kib, count_reasons, is_post_event,
    parse_counts, parse_pids, parse_rates, reason_of, rss_kib, signin_comparison, stomp_urls, table,
)
from warren_http import HTTPFailure, get_json, login, register  # noqa: E402

PAGE_LOGIN_TIMEOUT_S = 15  # web/app.js loginRequest(): a login reply later than this fails the page


def say(text):
    print(f"tabs-bench: {text}", file=sys.stderr, flush=True)


def emit(line, lines, args):
    """Prints one measurement as a JSON line (tagged with the broker nodes it ran on, and general's
    stream when the tabs read one) and keeps it."""
    line = {**line, "nodes": args.nodes}
    if args.general_stream:
        line["general_stream"] = args.general_stream
    lines.append(line)
    print(json.dumps(line), flush=True)


# ---- accounts and tokens (HTTP) ----

def account_names(args):
    return [f"{args.account_prefix}{i}" for i in range(1, args.accounts + 1)]


def ensure_accounts(args):
    """Registers the accounts not yet in --accounts-file, a few at a time (setup, not timed)."""
    known = set()
    if args.accounts_file and os.path.exists(args.accounts_file):
        with open(args.accounts_file, encoding="utf-8") as file:
            known = {line.strip() for line in file if line.strip()}
    missing = [name for name in account_names(args) if name not in known]
    if not missing:
        return
    say(f"registering {len(missing)} account(s), {args.register_concurrency} at a time (PBKDF2 each; once per store)")
    started = time.perf_counter()

    def one(name):
        try:
            register(args.web_url, name, args.password, args.http_timeout)
        except HTTPFailure as failure:
            if failure.status != 409:  # 409: the name is taken, by an earlier run with a lost record
                raise
        return name

    record = open(args.accounts_file, "a", encoding="utf-8") if args.accounts_file else None
    try:
        with ThreadPoolExecutor(args.register_concurrency) as pool:
            for done, name in enumerate(pool.map(one, missing), 1):
                if record:
                    record.write(name + "\n")
                    record.flush()
                if done % 50 == 0:
                    say(f"  {done} of {len(missing)} registered")
    finally:
        if record:
            record.close()
    say(f"registered {len(missing)} in {time.perf_counter() - started:.1f} s")


def fetch_tokens(args, pids, lines):
    """One POST /api/login per account, --token-concurrency at a time, timed: the HTTP half of
    signing in, apart from the tabs. Returns {name: token}."""
    meter = CPUMeter(pids)
    times, tokens, failures = [], {}, []

    def one(name):
        started = time.perf_counter()
        token = login(args.web_url, name, args.password, args.http_timeout)
        return name, token, (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(args.token_concurrency) as pool:
        futures = [pool.submit(one, name) for name in account_names(args)]
        for future in futures:
            try:
                name, token, ms = future.result()
                tokens[name] = token
                times.append(ms)
            except Exception as error:  # noqa: BLE001: every failure is a reason in the report
                failures.append(reason_of(error))
    seconds = time.perf_counter() - started
    emit({
        "bench": "tabs", "phase": "tokens", "tokens": len(tokens), "failed": len(failures),
        "reasons": count_reasons(failures), "concurrency": args.token_concurrency, "seconds": rounded(seconds),
        "per_s": rounded(len(tokens) / seconds, 1) if seconds > 0 else None,
        "p50_ms": rounded(percentile(times, 0.50)), "p99_ms": rounded(percentile(times, 0.99)),
        "max_ms": rounded(max(times)) if times else None, "cpu_s": meter.used(),
    }, lines, args)
    if not tokens:
        raise SystemExit("tabs-bench: no account could sign in; see the reasons above")
    return tokens


# ---- one tab ----

class Tab:
    """One browser tab: its STOMP connection, session, queue, and what it received."""

    def __init__(self, bench, index, name, token):
        self.bench = bench
        self.index = index  # its place in the current fan-out book
        self.name = name
        self.token = token
        self.session = secrets.token_urlsafe(16)  # 128 bits, base64url, like web/session.js
        urls = bench.args.stomp_urls
        self.url = urls[index % len(urls)]  # a cluster's Web-STOMP endpoints in turn, so each node gets N/K tabs
        self.client = StompClient(self.url, timeout=bench.args.timeout)
        self.queue = None
        self.stream = StreamReader(bench.args.general_stream, *bench.args.stream_terms) if bench.args.general_stream else None
        self.arrivals = None  # with a stream, per fan-out phase: which way each post came (Arrivals)
        self.failure = None  # why sign-in failed
        self.times = None  # (whole, socket open, CONNECT, login request, SUBSCRIBE, stream SUBSCRIBE or None) in ms

    def headers(self, extra=None):
        return {"content-type": "application/json", **(extra or {}), "user-id": self.name}

    async def sign_in(self):
        args = self.bench.args
        started = time.perf_counter()
        step = "WebSocket open / CONNECT"
        try:
            opened_ms, connect_ms = await self.client.connect(self.name, self.token, args.vhost, heartbeat=(args.heartbeat, args.heartbeat))
            self.client.on_message = self.received
            stream_ms = None
            if self.stream is not None:
                step = "SUBSCRIBE general's stream"
                subscribing = time.perf_counter()
                await self.subscribe_general()
                stream_ms = (time.perf_counter() - subscribing) * 1000
            step = "login request"
            sent = time.perf_counter()
            body = json.dumps({"action": "login", "login": self.name, "session": self.session, "resume": False})
            reply = json.loads(await self.client.request(f"/exchange/{args.prefix}.in/{args.prefix}.login", body, self.headers()))
            replied = time.perf_counter()
            if not isinstance(reply, dict) or reply.get("ok") is not True or not reply.get("queue"):
                raise StompFailure(f"the login service refused: {reply}", "refused")
            self.queue = reply["queue"]
            step = "SUBSCRIBE"
            await self.client.subscribe(f"/amq/queue/{self.queue}", ack="client-individual", prefetch=args.prefetch)
            done = time.perf_counter()
        except asyncio.CancelledError:
            self.failure = f"{step}: still waiting when the join phase ended (--join-timeout)"
            raise
        except Exception as error:  # noqa: BLE001: a failed sign-in is a result, with its reason
            self.failure = f"{step}: {reason_of(error)}"
            return
        self.times = ((done - started) * 1000, opened_ms, connect_ms, (replied - sent) * 1000, (done - replied) * 1000, stream_ms)

    async def subscribe_general(self):
        """SUBSCRIBE general's stream as the page does: from the next event, or after a reconnect
        from the one after the newest seen (tabs_stream.py)."""
        await self.stream.subscribe(self.client)

    def source_of(self, headers):
        """QUEUE or STREAM: which subscription delivered a MESSAGE."""
        return STREAM if self.stream is not None and headers.get("subscription") == SUBSCRIPTION else QUEUE

    def acknowledge(self, headers, source):
        """As the page: every delivery of the tab queue acknowledged, general's stream once every
        streamAckEvery deliveries (one cumulative ACK). Written at once (StompClient.ack_now)."""
        if source == STREAM and not self.stream.taken(headers):
            return None
        return self.client.ack_now(headers)

    def received(self, headers, body):
        """A plain function, called from the socket's data_received for every delivery: timed,
        counted, ACKed. Only a body with both "clientId" and "message" in it can be a post (kind
        message), so only such a body is parsed as JSON (replies, presence events and the like
        are not)."""
        bench = self.bench
        now = time.perf_counter()
        bench.events += 1
        bench.last_event = now
        source = self.source_of(headers)
        book = bench.book
        if book is not None and b'"clientId"' in body and b'"message"' in body:
            kind, client_id, event_id = is_post_event(body)
            if kind == "message" and client_id is not None and (self.arrivals is None or self.arrivals.counts(event_id, source)):
                book.delivered(self.index, client_id, now)
        return self.acknowledge(headers, source)


# ---- the run ----

class Bench:
    def __init__(self, args, pids, tokens):
        self.args = args
        self.pids = pids
        self.tokens = tokens
        self.names = sorted(tokens, key=lambda n: int(n[len(args.account_prefix):]) if n[len(args.account_prefix):].isdigit() else 0)
        self.book = None
        self.memory_before = None
        self.events = 0
        self.last_event = time.perf_counter()
        self.lines = []

    def emit(self, line):
        emit(line, self.lines, self.args)

    async def run(self, count):
        args = self.args
        rss_before = brokers_rss_kib(self.pids)
        self.memory_before = await self.memory_breakdown(f"memory-{count}tabs-before.txt")
        tabs = [Tab(self, i, self.names[i % len(self.names)], self.tokens[self.names[i % len(self.names)]]) for i in range(count)]
        try:
            live = await self.join(tabs)
            settle_garbage()
            await self.settle(count, live, rss_before)
            for rate in args.rate_list:
                if not live:
                    break
                await self.fanout(count, live, rate)
                live = [tab for tab in live if tab.client.failure is None]
            for how in args.restart_list:
                if not live:
                    break
                self.emit(await RestartDrill(self, live, how).run())
                live = [tab for tab in live if tab.client.failure is None]
        finally:
            await self.close(tabs)

    async def join(self, tabs):
        args = self.args
        count = len(tabs)
        concurrency = args.concurrency or count
        gate = asyncio.Semaphore(concurrency)
        meter = CPUMeter(self.pids)
        lag = LoopLag()
        started = time.perf_counter()
        last_in = [started]

        async def one(tab):
            async with gate:
                await tab.sign_in()
            if tab.times is not None:
                last_in[0] = time.perf_counter()

        say(f"{count} tabs signing in, {'all at once' if concurrency >= count else f'{concurrency} at a time'}")
        tasks = [asyncio.create_task(one(tab)) for tab in tabs]
        progress = asyncio.create_task(self.progress(tabs, started))
        _, pending = await asyncio.wait(tasks, timeout=args.join_timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        progress.cancel()
        lag.stop()
        ended = time.perf_counter()
        live = [tab for tab in tabs if tab.times is not None and tab.client.failure is None]
        inside = {id(tab) for tab in live}
        out = [tab for tab in tabs if id(tab) not in inside]
        failed = [self.why_out(tab) for tab in out]
        await self.close(out)  # as the page gives up: the socket goes, so the memory figures count tabs in
        times = [tab.times for tab in live]

        def p(index, fraction):
            return rounded(percentile([t[index] for t in times], fraction))

        self.emit({
            "bench": "tabs", "phase": "join", "tabs": count, "in": len(live), "failed": len(failed),
            "reasons": count_reasons(failed), "concurrency": "all at once" if concurrency >= count else f"{concurrency} at a time",
            "all_in_s": rounded(last_in[0] - started) if not failed else None,
            "phase_s": rounded(ended - started),
            "p50_ms": p(0, 0.50), "p99_ms": p(0, 0.99), "max_ms": rounded(max(t[0] for t in times)) if times else None,
            "open_p50_ms": p(1, 0.50), "connect_p50_ms": p(2, 0.50), "connect_p99_ms": p(2, 0.99),
            "login_p50_ms": p(3, 0.50), "login_p99_ms": p(3, 0.99), "subscribe_p50_ms": p(4, 0.50), "subscribe_p99_ms": p(4, 0.99),
            "login_over_page_timeout": sum(1 for t in times if t[3] > PAGE_LOGIN_TIMEOUT_S * 1000),
            **({"stream_subscribe_p50_ms": p(5, 0.50), "stream_subscribe_p99_ms": p(5, 0.99)} if args.general_stream else {}),
            "heartbeat_ms": live[0].client.heartbeat if live else None, "accounts": len(self.names), "loop": args.loop_name,
            "loop_lag_max_ms": lag.max_ms(), "cpu_s": meter.used(),
        })
        return live

    @staticmethod
    def why_out(tab):
        if tab.failure is not None:
            return tab.failure
        if tab.times is None:
            return "not started: the join phase ended first (--join-timeout)"
        return f"lost after sign-in: {reason_of(tab.client.failure)}"

    async def progress(self, tabs, started):
        while True:
            await asyncio.sleep(5)
            done = sum(1 for tab in tabs if tab.times is not None)
            failed = sum(1 for tab in tabs if tab.failure is not None)
            say(f"  {time.perf_counter() - started:.0f} s: {done} in, {failed} failed, {len(tabs) - done - failed} signing in")

    async def settle(self, count, live, rss_before):
        """Until no tab received anything for --quiet s (backfills, presence), at most --settle s;
        then the broker's memory with the tabs in."""
        args = self.args
        meter = CPUMeter(self.pids)
        started = time.perf_counter()
        events_before = self.events
        while time.perf_counter() - started < args.settle:
            if time.perf_counter() - self.last_event >= args.quiet:
                break
            await asyncio.sleep(0.1)
        seconds = time.perf_counter() - started
        rss_in = brokers_rss_kib(self.pids)
        line = {
            "bench": "tabs", "phase": "settle", "tabs": count, "in": len(live), "seconds": rounded(seconds),
            "quiet": time.perf_counter() - self.last_event >= args.quiet, "events": self.events - events_before,
            "events_since_join": self.events, "rss_before_kib": rss_before, "rss_in_kib": rss_in,
            "rss_per_tab_kib": rounded((rss_in - rss_before) / len(live), 1) if rss_in and rss_before and live else None,
            "warren_rss_kib": rss_kib(self.pids.get("warren")), "cpu_s": meter.used(),
        }
        memory_in = await self.memory_breakdown(f"memory-{count}tabs.txt")
        if memory_in is not None and self.memory_before is not None:
            line["breakdown_per_tab_kib"] = breakdown_per_tab_kib(breakdown_mb(self.memory_before), breakdown_mb(memory_in), len(live))
            line["rss_after_memory_cmd_kib"] = brokers_rss_kib(self.pids)  # a --memory-cmd may collect garbage
        self.emit(line)

    async def memory_breakdown(self, name):
        """--memory-cmd's output (kept in --out-dir/name), or None without one."""
        if not self.args.memory_cmd:
            return None
        try:
            result = await asyncio.to_thread(subprocess.run, self.args.memory_cmd, shell=True, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return None
        text = result.stdout + result.stderr
        (Path(self.args.out_dir) / name).write_text(text, encoding="utf-8")
        return text

    async def fanout(self, count, live, rate):
        """One tab posts at `rate` for --seconds; every live tab must receive every post once."""
        args = self.args
        posts = max(1, int(rate * args.seconds))
        book = FanoutBook(len(live), posts)
        for index, tab in enumerate(live):
            tab.index = index
            tab.arrivals = Arrivals() if tab.stream else None  # this phase's posts only
        poster = live[0]
        inbox = f"/exchange/{args.prefix}.in/{args.prefix}.inbox"
        self.book = book
        meter = CPUMeter(self.pids)
        lag = LoopLag()
        say(f"  fan-out: {posts} posts at {rate:g}/s to {len(live)} tabs")
        events_before = self.events
        started = time.perf_counter()
        post_failure = None
        for k in range(posts):
            delay = started + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            client_id = str(uuid.uuid4())
            body = json.dumps({"text": f"tabs bench {k} at {rate:g}/s", "clientId": client_id, "login": poster.name, "session": poster.session})
            book.sending(client_id, time.perf_counter())
            try:
                await poster.client.send(inbox, body, poster.headers({"persistent": "true"}))
            except StompFailure as failure:
                post_failure = reason_of(failure)
                break
        posted = time.perf_counter()
        # Until every tab has every post, or nothing arrived for --drain s (stalled: what is
        # still missing is lost, not late), or --drain-max s in all.
        while not book.complete() and time.perf_counter() - posted < args.drain_max:
            if time.perf_counter() - max(posted, book.last_delivery or posted) >= args.drain:
                break
            await asyncio.sleep(0.05)
        self.book = None
        for tab in live:
            tab.arrivals = None
        lag.stop()
        lost = [tab for tab in live if tab.client.failure is not None]
        self.emit({
            "bench": "tabs", "phase": "fanout", "tabs": count, "receivers": len(live), "rate": rate,
            "posting_s": rounded(posted - started), "drain_s": rounded(time.perf_counter() - posted),
            **book.summary(), "tabs_lost": len(lost), "lost_reasons": count_reasons(reason_of(t.client.failure) for t in lost),
            "post_failure": post_failure, "loop_lag_max_ms": lag.max_ms(), "rss_kib": brokers_rss_kib(self.pids),
            "events": self.events - events_before, "cpu_s": meter.used(),
        })

    async def close(self, tabs):
        """DISCONNECT every tab (a few hundred at a time, 2 s each at most); queues stay and expire."""
        gate = asyncio.Semaphore(200)

        async def one(tab):
            async with gate:
                with contextlib.suppress(Exception):
                    await tab.client.close()

        tasks = [asyncio.create_task(one(tab)) for tab in tabs]
        _, pending = await asyncio.wait(tasks, timeout=120) if tasks else (None, [])
        for task in pending:
            task.cancel()


def settle_garbage():
    """Once the tabs are in: one full collection, then what is alive moved out of the cyclic
    garbage collector's sight (gc.freeze), so its full collections during the fan-out do not walk
    every tab's objects again and again: the client's housekeeping, not the broker's time."""
    gc.collect()
    gc.freeze()


class LoopLag:
    """How late this process's event loop runs a 100 ms timer: when the benchmark itself is the
    bottleneck, its latencies are its own, and this says so."""

    def __init__(self):
        self.worst = 0.0
        self.task = asyncio.create_task(self._tick())

    async def _tick(self):
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.1)
            self.worst = max(self.worst, time.perf_counter() - before - 0.1)

    def stop(self):
        self.task.cancel()

    def max_ms(self):
        return rounded(self.worst * 1000, 1)


# ---- options and main ----

def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="tabs_bench.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--tabs", default="100,1000", help="tab counts, one run each")
    parser.add_argument("--web-url", default="http://127.0.0.1:8080", help="the web role (/config.json, /api/*)")
    parser.add_argument("--stomp-url", help="Web-STOMP, or a comma list of a cluster's endpoints, tab i on endpoint i mod K "
                        "(default: /config.json's stompURLs)")
    parser.add_argument("--nodes", type=int, help="broker nodes the run is on, a tag of every line (default: the Web-STOMP endpoints)")
    parser.add_argument("--vhost", help="default: /config.json's vhost")
    parser.add_argument("--prefix", help="default: /config.json's prefix")
    parser.add_argument("--accounts", type=int, default=100, help="people the tabs belong to (tab i is person i mod M)")
    parser.add_argument("--account-prefix", default="bench")
    parser.add_argument("--password", default="bench-tabs-password", help="every bench account's password")
    parser.add_argument("--accounts-file", help="the accounts registered so far (one name a line), kept with the store")
    parser.add_argument("--register-concurrency", type=int, default=2)
    parser.add_argument("--token-concurrency", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=0, help="sign-ins in flight at once (0: all N at once)")
    parser.add_argument("--rates", default="1,20", help="posts per second of the fan-out phases (none: no fan-out)")
    parser.add_argument("--seconds", type=float, default=20, help="posting time per rate")
    parser.add_argument("--drain", type=float, default=10, help="after the last post, wait for deliveries until none came for this many seconds")
    parser.add_argument("--drain-max", type=float, default=120, help="most seconds to wait for deliveries after the last post")
    parser.add_argument("--settle", type=float, default=60, help="most seconds to wait for the room to quiet after the joins")
    parser.add_argument("--quiet", type=float, default=2, help="seconds without a delivery that count as quiet")
    parser.add_argument("--timeout", type=float, default=30, help="seconds any one wait of a tab may take")
    parser.add_argument("--join-timeout", type=float, default=300, help="most seconds for all N sign-ins")
    parser.add_argument("--http-timeout", type=float, default=30)
    parser.add_argument("--heartbeat", type=int, default=10000, help="STOMP heart-beat offered both ways, ms (the page: 10000)")
    parser.add_argument("--prefetch", type=int, default=50, help="the tab subscription's prefetch-count (the page: 50)")
    parser.add_argument("--general-stream", action="store_true", dest="expect_general_stream",
                        help="fail unless /config.json names general's stream (warren up with WARREN_GENERAL_STREAM=on); "
                        "without it the tabs read the stream when /config.json names one")
    parser.add_argument("--restarts", default="", help="after the fan-out, restart the broker under the tabs: graceful, kill (-9), or both, in order")
    parser.add_argument("--restart-cmd-graceful", help="shell command that stops the broker gracefully and starts it again (state kept)")
    parser.add_argument("--restart-cmd-kill", help="shell command that kills the broker (SIGKILL) and starts it again (state kept)")
    parser.add_argument("--restart-rate", type=float, default=1, help="posts per second during a restart drill")
    parser.add_argument("--restart-before", type=float, default=10, help="seconds of posts before the restart")
    parser.add_argument("--restart-after", type=float, default=10, help="seconds of posts after every tab is back")
    parser.add_argument("--restart-timeout", type=float, default=180, help="most seconds for every tab to be back")
    parser.add_argument("--broker-pid", default="", help="beam.smp's pid, or a comma list of a cluster's: RSS (summed) and CPU (per node)")
    parser.add_argument("--warren-pid", type=int, help="warren up's pid: CPU")
    parser.add_argument("--memory-cmd", help="a shell command run with the tabs in (e.g. memory_breakdown); output kept in --out-dir")
    parser.add_argument("--out-dir", default=".")
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto", help="auto: uvloop when installed")
    parser.add_argument("--table", metavar="JSONL", help="only print the table of earlier JSON lines")
    parser.add_argument("--compare", metavar="JSONL", help="only print the sign-in on one node and on a cluster side by side, from earlier JSON lines")
    parser.add_argument("--no-table", action="store_true", help="JSON lines only (scripts/bench-tabs prints one table at the end)")
    parser.add_argument("--check", action="store_true", help="only check the options")
    args = parser.parse_args(argv)
    try:
        args.counts = parse_counts(args.tabs)
        args.broker_pids = parse_pids(args.broker_pid)
        args.rate_list = parse_rates(args.rates)
        args.restart_list = [how for how in args.restarts.split(",") if how.strip()]
        args.restart_cmd = {"graceful": args.restart_cmd_graceful, "kill": args.restart_cmd_kill}
        for how in args.restart_list:
            if how not in args.restart_cmd:
                raise ValueError(f"--restarts takes graceful and kill, not {how!r}")
            if not args.restart_cmd[how]:
                raise ValueError(f"--restarts {how} needs --restart-cmd-{how}")
        if args.restart_list and args.restart_rate <= 0:
            raise ValueError("--restart-rate must be more than 0")
    except ValueError as error:
        parser.error(str(error))
    if args.accounts < 1 or args.token_concurrency < 1 or args.register_concurrency < 1 or args.concurrency < 0:
        parser.error("--accounts, --token-concurrency and --register-concurrency need at least 1, --concurrency 0 or more")
    if min(args.seconds, args.drain, args.timeout, args.join_timeout, args.quiet) <= 0 or args.heartbeat < 0:
        parser.error("durations must be more than 0 (--heartbeat 0 means none)")
    args.general_stream, args.stream_terms = None, None  # /config.json's and web/rules.json's, read in amain
    return args


def raise_file_limit(needed):
    """Lifts the soft RLIMIT_NOFILE towards the hard one: one descriptor per tab and some."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        soft = want
    if soft != resource.RLIM_INFINITY and soft < needed:
        say(f"warning: only {soft} file descriptors (hard limit {hard}); {needed} wanted")
    return soft


def read_general(args, config):
    """How general reaches the tabs: /config.json's generalStream (with web/rules.json's terms
    for reading it) into args; returns it as the run's header says it."""
    try:
        args.general_stream = general_stream(config)
        args.stream_terms = stream_terms() if args.general_stream else None
    except ValueError as error:
        raise SystemExit(f"tabs-bench: {error}") from None
    if args.expect_general_stream and not args.general_stream:
        raise SystemExit("tabs-bench: --general-stream, but /config.json names no generalStream "
                         "(warren up without WARREN_GENERAL_STREAM=on, or a warren from before it)")
    if not args.general_stream:
        return delivery_path(None)
    prefetch, every = args.stream_terms
    return f"{delivery_path(args.general_stream)} (prefetch {prefetch}, an ACK every {every}: web/rules.json)"


async def amain(args):
    lines = []
    config = get_json(f"{args.web_url}/config.json", args.http_timeout)
    args.stomp_urls = stomp_urls(args.stomp_url, config)
    args.nodes = args.nodes or len(args.stomp_urls)
    args.vhost = args.vhost or config["vhost"]
    args.prefix = args.prefix or config["prefix"]
    path = read_general(args, config)
    pids = {**broker_pids(args.broker_pids), "warren": args.warren_pid, "bench": os.getpid()}
    args.loop_name = type(asyncio.get_running_loop()).__module__.split(".")[0]
    say(f"Web-STOMP {', '.join(args.stomp_urls)}{' (tabs in turn)' if len(args.stomp_urls) > 1 else ''}, vhost {args.vhost}, prefix {args.prefix}; {path}; "
        f"event loop {args.loop_name}; {raise_file_limit(max(args.counts) + 256)} file descriptors")
    await asyncio.to_thread(ensure_accounts, args)
    tokens = await asyncio.to_thread(fetch_tokens, args, pids, lines)
    fetched = time.monotonic()
    bench = Bench(args, pids, tokens)
    for count in args.counts:
        if time.monotonic() - fetched > 600:  # access tokens live 15 minutes
            bench.tokens = await asyncio.to_thread(fetch_tokens, args, pids, lines)
            fetched = time.monotonic()
        await bench.run(count)
        lines += bench.lines
        bench.lines = []
    if not args.no_table:
        print()
        print_tables(lines)
    return 0


def read_lines(path):
    """The JSON lines of a results file (other lines skipped)."""
    with open(path, encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.startswith("{")]


def run_on_loop(coroutine, loop, program):
    """Runs `coroutine` on uvloop (loop "uvloop", or "auto" when installed) or asyncio's loop."""
    if loop != "asyncio":
        try:
            import uvloop  # optional: a faster loop for thousands of sockets
        except ImportError:
            if loop == "uvloop":
                coroutine.close()
                raise SystemExit(f"{program}: --loop uvloop, but uvloop is not installed") from None
        else:
            return uvloop.run(coroutine)
    return asyncio.run(coroutine)


def print_tables(lines):
    """The table of every measurement, then the sign-in side by side when a tab count ran on
    more than one node count (scripts/bench-tabs --nodes 1,3)."""
    print(table(lines))
    comparison = signin_comparison(lines)
    if comparison:
        print()
        print(comparison)


def main(argv):
    args = parse_arguments(argv)
    if args.check:
        return 0
    if args.table or args.compare:
        lines = read_lines(args.table or args.compare)
        if args.table:
            print_tables(lines)
        else:
            print(signin_comparison(lines) or "tabs-bench: no tab count ran on more than one node count")
        return 0
    return run_on_loop(amain(args), args.loop, "tabs-bench")


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except HTTPFailure as failure:
        print(f"tabs-bench: {failure}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
