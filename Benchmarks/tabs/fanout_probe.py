"""Broker-only fan-out probe: can another topology deliver a room's posts to N Web-STOMP tabs?

No Warren role runs. N Web-STOMP connections go straight to a private broker (scripts/bench-fanout
starts one per mode), each subscribed the way the --mode says, and one more STOMP connection
publishes --rate messages a second for --seconds to one fanout exchange, `probe.room`:

  queues  every connection has its own classic queue bound to `probe.room`, declared over AMQP
          (pika) as the login service declares a tab's queue (durable, x-expires 30 min,
          x-max-length 1000: TopologyDeclarer.userQueueArguments) and read with SUBSCRIBE
          /amq/queue/<queue>, ack client-individual, prefetch 50, as the page reads its tab queue;
  stream  every connection reads ONE stream queue `probe.stream` (bound to `probe.room`) with
          SUBSCRIBE /amq/queue/probe.stream, x-stream-offset next, ack client-individual,
          prefetch 50 (Web-STOMP refuses a stream subscription without an ack mode and prefetch).

Every delivery is ACKed, as the page does (or, with --ack client --ack-every k, every k-th, an
ACK covering every message before it). Messages are persistent (as Warren's events are) and
published with a receipt, which the STOMP plugin sends once the broker confirms the message;
the body holds the message's number and wall-clock send time. Broker settings (e.g. the metrics
collector off) are the script's business: it starts a fresh broker per mode.

One JSON line per run on stdout; `--table FILE` prints a Markdown table of such lines, the first
mode as the baseline. A benchmark, not a test: it passes or fails nothing, and ends by itself.
"""

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))  # stomp_ws, figures

from figures import percentile, rounded  # noqa: E402
from stomp_ws import StompClient  # noqa: E402
from tabs_bench import LoopLag, raise_file_limit, read_lines, run_on_loop  # noqa: E402
from tabs_book import CPUMeter, FanoutBook, count_reasons, reason_of, rss_kib  # noqa: E402

EXCHANGE = "probe.room"
STREAM = "probe.stream"
QUEUE_PREFIX = "probe.tab."
# A tab queue's arguments (TopologyDeclarer.userQueueArguments with Limits' defaults).
TAB_QUEUE_ARGUMENTS = {"x-expires": 30 * 60 * 1000, "x-max-length": 1000}
MODES = ("queues", "stream")


def say(text):
    print(f"fanout-probe: {text}", file=sys.stderr, flush=True)


def topology_of(mode):
    """'queues' or 'stream' from a mode name such as 'queues-nometrics' (the suffix is the
    script's broker setting)."""
    base = mode.split("-", 1)[0]
    if base not in MODES:
        raise ValueError(f"a mode starts with queues or stream, not {mode!r}")
    return base


def declare(args, mode):
    """Declares the exchange and the mode's queues over AMQP; returns the seconds it took."""
    import pika  # only here: --table and the unit tests need none of it

    started = time.perf_counter()
    parameters = pika.URLParameters(args.amqp_url)
    parameters.blocked_connection_timeout = args.timeout
    parameters.socket_timeout = args.timeout
    try:
        connection = pika.BlockingConnection(parameters)
    except pika.exceptions.AMQPError as error:
        raise SystemExit(f"fanout-probe: no AMQP connection to {parameters.host}:{parameters.port} "
                         f"vhost {parameters.virtual_host} as {parameters.credentials.username}: {error!r}") from None
    try:
        channel = connection.channel()
        channel.exchange_declare(EXCHANGE, exchange_type="fanout", durable=True)
        if topology_of(mode) == "stream":
            channel.queue_declare(STREAM, durable=True, arguments={"x-queue-type": "stream"})
            channel.queue_bind(STREAM, EXCHANGE)
        else:
            for index in range(args.connections):
                queue = f"{QUEUE_PREFIX}{index}"
                channel.queue_declare(queue, durable=True, arguments=TAB_QUEUE_ARGUMENTS)
                channel.queue_bind(queue, EXCHANGE)
    finally:
        connection.close()
    return time.perf_counter() - started


def parse_delivery(body):
    """The message number of a probe body ("<number> <epoch s> <padding>"), as a string."""
    end = body.find(b" ")
    return (body[:end] if end > 0 else body).decode("ascii", errors="replace")


def make_body(number, size):
    """A probe body of about `size` bytes: number, wall-clock time, padding."""
    head = f"{number} {time.time():.6f} "
    return head + "x" * max(0, size - len(head))


class Tab:
    """One Web-STOMP connection and its subscription."""

    def __init__(self, probe, index):
        self.probe = probe
        self.index = index
        self.client = StompClient(probe.args.stomp_url, timeout=probe.args.timeout)
        self.client.on_message = self.received
        self.failure = None
        self.ms = None
        self.unacked = 0

    def destination(self):
        if self.probe.topology == "stream":
            return f"/amq/queue/{STREAM}", {"x-stream-offset": "next"}
        return f"/amq/queue/{QUEUE_PREFIX}{self.index}", None

    async def join(self):
        args = self.probe.args
        started = time.perf_counter()
        step = "CONNECT"
        try:
            await self.client.connect(args.login, args.passcode, args.vhost, heartbeat=(args.heartbeat, args.heartbeat))
            step = "SUBSCRIBE"
            destination, extra = self.destination()
            await self.client.subscribe(destination, ack=args.ack, prefetch=args.prefetch, extra=extra)
        except asyncio.CancelledError:
            self.failure = f"{step}: still waiting when the connect phase ended (--connect-timeout)"
            raise
        except Exception as error:  # noqa: BLE001: a failed connection is a result, with its reason
            self.failure = f"{step}: {reason_of(error)}"
            return
        self.ms = (time.perf_counter() - started) * 1000

    def received(self, headers, body):
        probe = self.probe
        now = time.perf_counter()
        if probe.book is not None:
            probe.book.delivered(self.index, parse_delivery(body), now)
        self.unacked += 1
        if self.unacked < probe.args.ack_every:
            return None
        self.unacked = 0
        return self.client.ack_now(headers)  # as the page: every delivery (or, with ack client, every k-th) acknowledged


class Probe:
    def __init__(self, args):
        self.args = args
        self.topology = topology_of(args.mode)
        self.book = None
        self.pids = {"broker": args.broker_pid, "probe": os.getpid()}

    async def connect_all(self, tabs):
        """Connects and subscribes every tab, --concurrency at a time; returns the seconds."""
        gate = asyncio.Semaphore(self.args.concurrency or len(tabs))

        async def one(tab):
            async with gate:
                await tab.join()

        started = time.perf_counter()
        tasks = [asyncio.create_task(one(tab)) for tab in tabs]
        _, pending = await asyncio.wait(tasks, timeout=self.args.connect_timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        return time.perf_counter() - started

    async def publish(self, publisher, confirms_ms, confirm_failures):
        """Sends --rate messages a second for --seconds on a fixed schedule; each receipt
        (the broker's confirm) is timed by a task of its own, so a slow confirm does not hold
        the schedule back."""
        args = self.args
        total = round(args.rate * args.seconds)
        started = time.perf_counter()
        waits = []

        async def send(number):
            sent = time.perf_counter()
            try:
                await publisher.send(f"/exchange/{EXCHANGE}", make_body(number, args.size),
                                     {"persistent": "true", "content-type": "text/plain"}, wait_receipt=True)
                confirms_ms.append((time.perf_counter() - sent) * 1000)
            except Exception as error:  # noqa: BLE001: counted and reported
                confirm_failures.append(reason_of(error))

        for number in range(total):
            delay = started + number / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.book.sending(str(number), time.perf_counter()) is None:
                break
            waits.append(asyncio.create_task(send(number)))
        return waits

    async def drain(self, tabs):
        """Waits until every tab has every message, or nothing came for --drain s, or --drain-max."""
        args = self.args
        started = last_count = time.perf_counter()
        count = self.book.deliveries
        while time.perf_counter() - started < args.drain_max:
            live = sum(1 for tab in tabs if tab.failure is None and tab.client.failure is None)
            if self.book.complete(live):
                return
            await asyncio.sleep(0.2)
            if self.book.deliveries != count:
                count, last_count = self.book.deliveries, time.perf_counter()
            elif time.perf_counter() - last_count >= args.drain:
                return

    async def run(self):
        args = self.args
        line = {"mode": args.mode, "connections": args.connections, "rate": args.rate, "seconds": args.seconds,
                "ack": args.ack if args.ack_every == 1 else f"{args.ack}, every {args.ack_every}",
                "load_before": os.getloadavg()[0]}
        rss_before = rss_kib(args.broker_pid)
        line["setup_s"] = rounded(await asyncio.to_thread(declare, args, args.mode))
        say(f"{args.mode}: declared in {line['setup_s']} s; connecting {args.connections} (concurrency {args.concurrency or 'all'})")

        tabs = [Tab(self, index) for index in range(args.connections)]
        lag = LoopLag()
        cpu = CPUMeter(self.pids)
        connect_s = await self.connect_all(tabs)
        joined = [tab for tab in tabs if tab.failure is None]
        times = [tab.ms for tab in joined]
        line.update({
            "connected": len(joined), "connect_all_s": rounded(connect_s) if len(joined) == len(tabs) else None,
            "connect_p50_ms": rounded(percentile(times, 0.5)), "connect_p99_ms": rounded(percentile(times, 0.99)),
            "connect_failures": count_reasons(tab.failure for tab in tabs if tab.failure is not None),
            "connect_cpu_s": cpu.used(), "connect_loop_lag_max_ms": lag.max_ms(),
        })
        say(f"{args.mode}: {len(joined)} of {len(tabs)} in after {connect_s:.1f} s")
        await asyncio.sleep(args.settle)
        rss_in = rss_kib(args.broker_pid)
        line["broker_rss_mib"] = rounded(rss_in / 1024, 1) if rss_in else None
        if rss_in and rss_before and joined:
            line["rss_per_connection_kib"] = round((rss_in - rss_before) / len(joined))

        publisher = StompClient(args.stomp_url, timeout=args.timeout)  # a failure here ends the run: nothing to measure
        await publisher.connect(args.login, args.passcode, args.vhost, heartbeat=(args.heartbeat, args.heartbeat))
        self.book = book = FanoutBook(len(tabs), round(args.rate * args.seconds) + 1)
        lag.worst = 0.0
        cpu = CPUMeter(self.pids)
        confirms_ms, confirm_failures = [], []
        first_send = time.perf_counter()
        waits = await self.publish(publisher, confirms_ms, confirm_failures)
        say(f"{args.mode}: {book.posts} messages sent; draining")
        await self.drain(tabs)
        if waits:
            await asyncio.wait(waits, timeout=args.timeout)
        used = cpu.used()
        summary = book.summary()
        summary["missing"] = book.posts * len(joined) - book.deliveries  # a tab that never joined expects nothing
        elapsed = (book.last_delivery or time.perf_counter()) - first_send
        lost = [tab for tab in joined if tab.client.failure is not None]
        line.update({
            "messages": book.posts, "expected": book.posts * len(joined), "deliveries": book.deliveries,
            "missing": summary["missing"], "duplicates": book.duplicates,
            "deliveries_per_s": round(book.deliveries / elapsed) if elapsed > 0 else None,
            "needed_per_s": round(args.rate * len(joined)),
            "latency_p50_ms": summary["p50_ms"], "latency_p99_ms": summary["p99_ms"], "latency_max_ms": summary["max_ms"],
            "confirm_p50_ms": rounded(percentile(confirms_ms, 0.5)), "confirm_p99_ms": rounded(percentile(confirms_ms, 0.99)),
            "confirm_failures": count_reasons(confirm_failures),
            "connections_lost": len(lost), "lost_reasons": count_reasons(reason_of(tab.client.failure) for tab in lost),
            "fanout_s": rounded(elapsed), "fanout_cpu_s": used, "loop_lag_max_ms": lag.max_ms(),
            # What one delivery costs the node, whatever the rate: the figure to scale from.
            "broker_cpu_ms_per_1000": rounded(used["broker"] * 1e6 / book.deliveries) if used.get("broker") is not None and book.deliveries else None,
            "load_after": os.getloadavg()[0],
        })
        lag.stop()
        return line


def _figure(value, unit=""):
    if value is None:
        return "–"
    if isinstance(value, float) and value >= 100:
        value = round(value)
    return f"{value:,}{unit}" if isinstance(value, (int, float)) else str(value)


def _against(value, base):
    """`value (×k of the baseline)` when both are numbers."""
    if value is None or not base:
        return _figure(value)
    return f"{_figure(value)} (×{value / base:.2f})"


def table(lines):
    """A Markdown table, one row per run, the first run's mode as the baseline beside the rest."""
    if not lines:
        return "(no runs)"
    base = lines[0]
    out = [
        f"Baseline: the first row ({base.get('mode')}). Figures in parentheses: × the baseline.",
        "",
        "| mode | N | rate/s × s | connected (all in after) | connect p50 / p99 ms | broker RSS per connection | "
        "deliveries/s (needed) | latency p50 / p99 / max ms | missing | dup | confirm p50 / p99 ms | "
        "CPU s broker / probe in the fan-out (s) | broker CPU ms per 1,000 deliveries | loop lag max | lost |",
        "|---|---:|---|---|---|---:|---|---|---:|---:|---|---|---:|---:|---:|",
    ]
    for line in lines:
        cpu = line.get("fanout_cpu_s") or {}
        same = line is base
        out.append("| " + " | ".join([
            str(line.get("mode")) + ("" if line.get("ack", "client-individual") == "client-individual" else f" (ack {line['ack']})"),
            _figure(line.get("connections")), f"{line.get('rate')} × {line.get('seconds')}",
            f"{_figure(line.get('connected'))} ({_figure(line.get('connect_all_s'), ' s')})",
            f"{_figure(line.get('connect_p50_ms'))} / {_figure(line.get('connect_p99_ms'))}",
            _figure(line.get("rss_per_connection_kib"), " KiB") if same else _against(line.get("rss_per_connection_kib"), base.get("rss_per_connection_kib")),
            (_figure(line.get("deliveries_per_s")) if same else _against(line.get("deliveries_per_s"), base.get("deliveries_per_s")))
            + f" ({_figure(line.get('needed_per_s'))})",
            f"{_figure(line.get('latency_p50_ms'))} / "
            + (_figure(line.get("latency_p99_ms")) if same else _against(line.get("latency_p99_ms"), base.get("latency_p99_ms")))
            + f" / {_figure(line.get('latency_max_ms'))}",
            _figure(line.get("missing")), _figure(line.get("duplicates")),
            f"{_figure(line.get('confirm_p50_ms'))} / {_figure(line.get('confirm_p99_ms'))}",
            f"{_figure(cpu.get('broker'))} / {_figure(cpu.get('probe'))} ({_figure(line.get('fanout_s'))})",
            _figure(line.get("broker_cpu_ms_per_1000")) if same else _against(line.get("broker_cpu_ms_per_1000"), base.get("broker_cpu_ms_per_1000")),
            _figure(line.get("loop_lag_max_ms"), " ms"), _figure(line.get("connections_lost")),
        ]) + " |")
    return "\n".join(out)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="fanout_probe.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--mode", default="queues", help="queues or stream, optionally with a suffix naming the broker setting (queues-nometrics)")
    parser.add_argument("--connections", type=int, default=200, help="Web-STOMP connections (tabs)")
    parser.add_argument("--rate", type=float, default=2, help="messages a second to the room (a post and the bot's reply: 2)")
    parser.add_argument("--seconds", type=float, default=30, help="publishing time")
    parser.add_argument("--size", type=int, default=300, help="body bytes of a message")
    parser.add_argument("--concurrency", type=int, default=250, help="connects in flight at once (0: all)")
    parser.add_argument("--stomp-url", default="ws://127.0.0.1:15674/ws")
    parser.add_argument("--amqp-url", default="amqp://warren:warren@127.0.0.1:5672/warren", help="declares the exchange and queues (the login service's account)")
    parser.add_argument("--vhost", default="warren")
    parser.add_argument("--login", default="fanout-probe", help="the STOMP user (an internal user of the bench's broker)")
    parser.add_argument("--passcode", default=os.environ.get("WARREN_FANOUT_PROBE_PASSCODE", ""), help="default: $WARREN_FANOUT_PROBE_PASSCODE")
    parser.add_argument("--prefetch", type=int, default=50, help="prefetch-count (the page: 50)")
    parser.add_argument("--ack", choices=["client-individual", "client"], default="client-individual",
                        help="the subscription's ack mode (the page: client-individual, every message ACKed)")
    parser.add_argument("--ack-every", type=int, default=1,
                        help="ACK every k-th message only (with --ack client an ACK covers every message before it); at most --prefetch")
    parser.add_argument("--heartbeat", type=int, default=10000, help="STOMP heart-beat offered both ways, ms (the page: 10000)")
    parser.add_argument("--settle", type=float, default=2, help="seconds between the last connect and the first message")
    parser.add_argument("--drain", type=float, default=10, help="after the last message, wait until nothing came for this many seconds")
    parser.add_argument("--drain-max", type=float, default=120, help="most seconds to wait after the last message")
    parser.add_argument("--timeout", type=float, default=30, help="seconds any one wait of a connection may take")
    parser.add_argument("--connect-timeout", type=float, default=600, help="most seconds for all N to connect")
    parser.add_argument("--broker-pid", type=int, help="beam.smp's pid: CPU and RSS")
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto", help="auto: uvloop when installed")
    parser.add_argument("--table", metavar="JSONL", help="only print the table of earlier JSON lines")
    args = parser.parse_args(argv)
    if args.table:
        return args
    try:
        topology_of(args.mode)
    except ValueError as error:
        parser.error(str(error))
    if args.connections < 1 or args.rate <= 0 or args.seconds <= 0 or args.concurrency < 0 or args.prefetch < 1:
        parser.error("--connections, --rate, --seconds and --prefetch must be more than 0, --concurrency 0 or more")
    if not 1 <= args.ack_every <= args.prefetch or (args.ack_every > 1 and args.ack != "client"):
        parser.error("--ack-every is 1 to --prefetch, and more than 1 only with --ack client (cumulative ACKs)")
    return args


async def amain(args):
    say(f"{raise_file_limit(args.connections + 256)} file descriptors; event loop "
        f"{type(asyncio.get_running_loop()).__module__.split('.')[0]}")
    line = await Probe(args).run()
    print(json.dumps(line), flush=True)
    return 0


def main(argv):
    args = parse_arguments(argv)
    if args.table:
        print(table(read_lines(args.table)))
        return 0
    return run_on_loop(amain(args), args.loop, "fanout-probe")


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # noqa: BLE001: the broker refused the setup or the publisher; say what, no traceback
        print(f"fanout-probe: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
