#!/usr/bin/env python3
"""AMQP 0-9-1 client throughput baselines: pika (blocking) and aio-pika (asyncio).

Measures, against one broker, for N messages of S bytes (transient, default exchange):

  publish          publish all N to a fresh exclusive auto-delete queue, then poll a passive
                   queue.declare until the queue holds all N; time = first publish to that point
  publish-confirm  the same on a channel in confirm mode; time = first publish to the last
                   confirm. pika: BlockingChannel.confirm_delivery(), so every publish waits for
                   its own confirm (one in flight). aio-pika: publisher_confirms=True with
                   windows of 1000 publishes in flight (asyncio.gather): its best case
  consume-noack    consume N messages with automatic acknowledgement (no prefetch limit)
  consume-ack      consume N messages with basic.qos prefetch 100, acknowledging each one
                   (basic.ack, multiple=false)
                   For both consume scenarios the queue is filled beforehand by this runner
                   (pika, another process) so that the consumer's process does nothing else:
                   time = basic.consume to the N-th delivery.

Every (client, scenario) runs in a process of its own, so the peak RSS it reports
(getrusage ru_maxrss) is that scenario's alone: for the consume scenarios, the consumer's.
Prints one JSON line per (client, scenario) on stdout:

  {"client": "pika", "scenario": "publish", "messages": 100000, "size": 100,
   "seconds": 4.2, "msg_per_s": 23809.5, "peak_rss_kb": 21000,
   "start": <epoch s>, "end": <epoch s>, "note": "...", "broker_cpu": 0.93}

broker_cpu (added by this runner when --broker-pid is given) is the broker's CPU time over the
timed interval [start, end] divided by its length: 1.0 = one core busy all along.

Other programs (Warren's own client) are run the same way with --program NAME=PATH: for each
scenario, PATH --url URL --messages N --size S --scenario SCENARIO [--queue QUEUE], where QUEUE
is given for the consume scenarios only (a queue this runner filled with exactly N messages of
S bytes; the program consumes N from it and exits). The program prints one JSON line as above
(client, scenario, messages, size, seconds, msg_per_s, peak_rss_kb, start, end; note optional).

Usage:
  baseline.py [--url URL] [--messages N] [--size S] [--clients pika,aio-pika]
              [--scenarios publish,publish-confirm,consume-noack,consume-ack]
              [--broker-pid PID] [--program NAME=PATH ...]
  baseline.py --run CLIENT --scenario SCENARIO [--queue QUEUE] ...   (one scenario, in-process)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import threading
import time
import uuid

SCENARIOS = ["publish", "publish-confirm", "consume-noack", "consume-ack"]
CONSUME_SCENARIOS = {"consume-noack", "consume-ack"}
CLIENTS = ["pika", "aio-pika"]
CONFIRM_WINDOW = 1000
PREFETCH = 100
DEFAULT_URL = os.environ.get("WARREN_AMQP_URL", "amqp://warren:warren@127.0.0.1:5672/warren")


def peak_rss_kb() -> int:
    # Linux reports kilobytes; macOS bytes.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss // 1024 if sys.platform == "darwin" else rss


def result(client, scenario, args, start, end, note=None):
    seconds = end - start
    line = {
        "client": client,
        "scenario": scenario,
        "messages": args.messages,
        "size": args.size,
        "seconds": round(seconds, 4),
        "msg_per_s": round(args.messages / seconds, 1) if seconds > 0 else None,
        "peak_rss_kb": peak_rss_kb(),
        "start": round(start, 4),
        "end": round(end, 4),
    }
    if note:
        line["note"] = note
    return line


# --------------------------------------------------------------------------------------------
# pika (BlockingConnection)


def pika_connect(url):
    import pika

    return pika.BlockingConnection(pika.URLParameters(url))


def pika_wait_for_depth(channel, queue, count, timeout=600.0):
    """Polls a passive declare until `queue` holds `count` messages."""
    limit = time.monotonic() + timeout
    while True:
        depth = channel.queue_declare(queue=queue, passive=True).method.message_count
        if depth >= count:
            return
        if time.monotonic() > limit:
            raise TimeoutError(f"queue {queue} holds {depth} of {count} messages")
        time.sleep(0.002)


def pika_scenario(scenario, args):
    import pika

    body = b"x" * args.size
    connection = pika_connect(args.url)
    channel = connection.channel()
    note = None
    try:
        if scenario in ("publish", "publish-confirm"):
            queue = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
            if scenario == "publish-confirm":
                channel.confirm_delivery()
                note = "confirm_delivery: each publish waits for its confirm (1 in flight)"
            publish = channel.basic_publish
            start = time.time()
            for _ in range(args.messages):
                publish(exchange="", routing_key=queue, body=body)
            if scenario == "publish":
                pika_wait_for_depth(channel, queue, args.messages)
            end = time.time()
        else:
            queue = args.queue
            received = 0
            if scenario == "consume-noack":
                auto_ack = True
            else:
                auto_ack = False
                channel.basic_qos(prefetch_count=PREFETCH)

            def on_message(ch, method, properties, payload):
                nonlocal received
                received += 1
                if not auto_ack:
                    ch.basic_ack(method.delivery_tag)
                if received >= args.messages:
                    ch.stop_consuming()

            start = time.time()
            channel.basic_consume(queue=queue, on_message_callback=on_message, auto_ack=auto_ack)
            channel.start_consuming()
            end = time.time()
            if scenario == "consume-ack":
                note = f"prefetch {PREFETCH}, one basic.ack per message"
    finally:
        try:
            connection.close()
        except Exception:
            pass
    return result("pika", scenario, args, start, end, note)


# --------------------------------------------------------------------------------------------
# aio-pika (asyncio)


async def aio_wait_for_depth(channel, queue, count, timeout=600.0):
    limit = time.monotonic() + timeout
    while True:
        declared = await channel.declare_queue(queue, passive=True)
        depth = declared.declaration_result.message_count
        if depth >= count:
            return
        if time.monotonic() > limit:
            raise TimeoutError(f"queue {queue} holds {depth} of {count} messages")
        await asyncio.sleep(0.002)


async def aio_scenario(scenario, args):
    import aio_pika

    body = b"x" * args.size
    connection = await aio_pika.connect(args.url)
    note = None
    try:
        if scenario in ("publish", "publish-confirm"):
            confirms = scenario == "publish-confirm"
            channel = await connection.channel(publisher_confirms=confirms)
            queue = await channel.declare_queue("", exclusive=True, auto_delete=True)
            exchange = channel.default_exchange
            name = queue.name
            start = time.time()
            if confirms:
                note = f"publisher_confirms=True, windows of {CONFIRM_WINDOW} publishes in flight (gather)"
                left = args.messages
                while left > 0:
                    window = min(CONFIRM_WINDOW, left)
                    await asyncio.gather(
                        *(exchange.publish(aio_pika.Message(body), routing_key=name) for _ in range(window))
                    )
                    left -= window
            else:
                for _ in range(args.messages):
                    await exchange.publish(aio_pika.Message(body), routing_key=name)
                await aio_wait_for_depth(channel, name, args.messages)
            end = time.time()
        else:
            channel = await connection.channel()
            no_ack = scenario == "consume-noack"
            if not no_ack:
                await channel.set_qos(prefetch_count=PREFETCH)
                note = f"prefetch {PREFETCH}, one basic.ack per message"
            queue = await channel.declare_queue(args.queue, passive=True)
            done = asyncio.get_running_loop().create_future()
            received = 0

            async def on_message(message):
                nonlocal received
                received += 1
                if not no_ack:
                    await message.ack()
                if received >= args.messages and not done.done():
                    done.set_result(None)

            start = time.time()
            tag = await queue.consume(on_message, no_ack=no_ack)
            await done
            end = time.time()
            await queue.cancel(tag)
    finally:
        await connection.close()
    return result("aio-pika", scenario, args, start, end, note)


def run_one(args):
    """One (client, scenario) in this process: prints its JSON line."""
    if args.run == "pika":
        line = pika_scenario(args.scenario, args)
    elif args.run == "aio-pika":
        line = asyncio.run(aio_scenario(args.scenario, args))
    else:
        raise SystemExit(f"unknown client {args.run}")
    print(json.dumps(line), flush=True)


# --------------------------------------------------------------------------------------------
# Runner: fills queues, runs each (client, scenario) in a fresh process, samples the broker's CPU


def fill_queue(url, messages, size):
    """Declares a queue that dies with its consumer and fills it with `messages` messages."""
    body = b"x" * size
    connection = pika_connect(url)
    try:
        channel = connection.channel()
        name = f"warren.bench.{uuid.uuid4().hex[:12]}"
        # auto_delete: gone once the benchmark's consumer cancels; x-expires: gone after 10
        # minutes unused, should the consumer never come.
        channel.queue_declare(queue=name, auto_delete=True, arguments={"x-expires": 600_000})
        for _ in range(messages):
            channel.basic_publish(exchange="", routing_key=name, body=body)
        pika_wait_for_depth(channel, name, messages)
        return name
    finally:
        connection.close()


def delete_queue(url, name):
    try:
        connection = pika_connect(url)
        try:
            connection.channel().queue_delete(queue=name)
        finally:
            connection.close()
    except Exception:
        pass


class CPUSampler(threading.Thread):
    """Samples a process's CPU time (utime + stime from /proc/PID/stat) every 20 ms."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.path = f"/proc/{pid}/stat"
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.samples = []  # (epoch seconds, cpu seconds)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.sample()

    def sample(self):
        with open(self.path) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        # After "pid (comm)": state is fields[0]; utime and stime are fields 14 and 15 of the
        # whole line, so 11 and 12 here.
        cpu = (int(fields[11]) + int(fields[12])) / self.ticks
        with self.lock:
            self.samples.append((time.time(), cpu))

    def run(self):
        while not self.stopping.wait(0.02):
            try:
                self.sample()
            except OSError:
                return

    def cpu_at(self, when):
        with self.lock:
            samples = list(self.samples)
        before = [s for s in samples if s[0] <= when]
        after = [s for s in samples if s[0] >= when]
        if not before or not after:
            return None
        (t0, c0), (t1, c1) = before[-1], after[0]
        if t1 == t0:
            return c0
        return c0 + (c1 - c0) * (when - t0) / (t1 - t0)

    def share(self, start, end):
        """CPU seconds per wall second over [start, end]; waits for a sample after `end`."""
        limit = time.time() + 1
        while time.time() < limit:
            with self.lock:
                if self.samples[-1][0] >= end:
                    break
            time.sleep(0.01)
        first, last = self.cpu_at(start), self.cpu_at(end)
        if first is None or last is None or end <= start:
            return None
        return round((last - first) / (end - start), 3)


def run_child(command, timeout):
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True, timeout=timeout)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"{command[0]} exited with {completed.returncode}, printed: {completed.stdout.strip()[-500:]}")
    return json.loads(lines[-1])


def run_all(args):
    programs = [(client, None) for client in args.clients]
    for spec in args.program:
        name, _, path = spec.partition("=")
        if not path:
            raise SystemExit(f"--program wants NAME=PATH, not {spec}")
        programs.append((name, path))
    sampler = None
    if args.broker_pid:
        sampler = CPUSampler(args.broker_pid)
        sampler.start()
    timeout = max(300, args.messages / 200)
    failures = 0
    for name, path in programs:
        for scenario in args.scenarios:
            queue = fill_queue(args.url, args.messages, args.size) if scenario in CONSUME_SCENARIOS else None
            common = ["--url", args.url, "--messages", str(args.messages), "--size", str(args.size), "--scenario", scenario]
            if queue:
                common += ["--queue", queue]
            if path is None:
                command = [sys.executable, os.path.abspath(__file__), "--run", name] + common
            else:
                command = [path] + common
            try:
                line = run_child(command, timeout)
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                print(f"baseline: {name} {scenario} failed: {error}", file=sys.stderr)
                failures += 1
                continue
            finally:
                if queue:
                    delete_queue(args.url, queue)
            line.setdefault("client", name)
            if sampler and "start" in line and "end" in line:
                line["broker_cpu"] = sampler.share(float(line["start"]), float(line["end"]))
            print(json.dumps(line), flush=True)
    if sampler:
        sampler.stopping.set()
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="AMQP URL (default: $WARREN_AMQP_URL)")
    parser.add_argument("--messages", "-n", type=int, default=100_000)
    parser.add_argument("--size", "-s", type=int, default=100, help="message body size in bytes")
    parser.add_argument("--clients", default=",".join(CLIENTS), help="comma list of pika, aio-pika (may be empty)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma list of " + ", ".join(SCENARIOS))
    parser.add_argument("--broker-pid", type=int, help="the broker's (beam) process, to report its CPU share")
    parser.add_argument("--program", action="append", default=[], metavar="NAME=PATH",
                        help="another benchmark program to run per scenario (same arguments, same JSON)")
    parser.add_argument("--run", metavar="CLIENT", help=argparse.SUPPRESS)
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    parser.add_argument("--queue", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.messages <= 0 or args.size < 0:
        parser.error("--messages must be positive and --size not negative")
    if args.run:
        if args.scenario not in SCENARIOS:
            parser.error(f"--scenario must be one of {', '.join(SCENARIOS)}")
        if args.scenario in CONSUME_SCENARIOS and not args.queue:
            parser.error("consume scenarios need --queue (a queue holding --messages messages)")
        run_one(args)
        return 0
    args.clients = [c for c in args.clients.split(",") if c]
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    for client in args.clients:
        if client not in CLIENTS:
            parser.error(f"unknown client {client}; known: {', '.join(CLIENTS)}")
    for scenario in args.scenarios:
        if scenario not in SCENARIOS:
            parser.error(f"unknown scenario {scenario}; known: {', '.join(SCENARIOS)}")
    return run_all(args)


if __name__ == "__main__":
    sys.exit(main())
