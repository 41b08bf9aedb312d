"""The three ways a post reaches its proof of work, side by side: `!pow` (a job queue), `!rpc`
(RPC over the broker) and `!grpc` (a direct gRPC call from the reverser to a PoW worker).

Run by scripts/bench-paths (which builds warren and starts a private broker). This program starts
the roles itself, as separate processes: `warren web` (REST accounts and the gRPC chat),
`warren login`, `warren reverser` and N `warren pow-worker --threads 1` (each its own gRPC port,
all listed to the reverser). A client speaks the gRPC chat (stubs generated from Protos/ at run
time): it subscribes as bob, posts as alice and times each post from `Post` to its proof event in
bob's stream. It prints, per difficulty and number of workers:

- latency p50 / p99 of one post at a time, per path;
- throughput: proofs a second with `--burst` posts of one path sent at once;
- with no worker running: what each path does (`!pow` waits in its queue and completes once a
  worker starts; `!rpc` and `!grpc` fail, the sender told by an error event: the time the
  reverser took to give up is read from its log);
- a worker killed mid-proof: for each path, with one and with two workers (`--kill-workers`), a
  post at `--kill-bits` is sent, the worker hashing it (the one burning CPU) gets SIGKILL about a
  second later (`--kill-after`) and a fresh worker is started on its gRPC port; printed: what the
  sender saw (the proof, and which worker proved it, or the reverser's error) and when, from the
  post and from the kill.

A benchmark, not a test: nothing passes or fails on speed.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import grpc
from grpc_tools import protoc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATHS = ("pow", "rpc", "grpc")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stubs(folder):
    protos = os.path.join(ROOT, "Protos")
    files = sorted(os.path.relpath(os.path.join(d, n), protos) for d, _, ns in os.walk(protos) for n in ns if n.endswith(".proto"))
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    if protoc.main(["protoc", f"-I{protos}", f"-I{include}", f"--python_out={folder}", f"--grpc_python_out={folder}", *files]) != 0:
        sys.exit("grpc_tools.protoc failed")
    sys.path.insert(0, folder)
    from warren.v1 import chat_pb2, chat_pb2_grpc

    return chat_pb2, chat_pb2_grpc


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


class Roles:
    """The warren processes, each with its own log in `folder`."""

    def __init__(self, warren, folder, env):
        self.warren, self.folder, self.env = warren, folder, env
        self.running = {}

    def start(self, name, args, **extra):
        env = dict(self.env, **{k: str(v) for k, v in extra.items()})
        log = open(os.path.join(self.folder, f"{name}.log"), "ab")
        self.running[name] = (subprocess.Popen([self.warren, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log)

    def stop(self, name):
        process, log = self.running.pop(name, (None, None))
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()

    def pid(self, name):
        return self.running[name][0].pid

    def kill(self, name):
        """SIGKILL, as a crash: no graceful shutdown, no ack, the sockets closed by the kernel."""
        process, log = self.running.pop(name)
        process.kill()
        process.wait()
        log.close()

    def stop_matching(self, prefix):
        for name in [n for n in self.running if n.startswith(prefix)]:
            self.stop(name)

    def stop_all(self):
        for name in list(self.running):
            self.stop(name)

    def log(self, name):
        with open(os.path.join(self.folder, f"{name}.log"), errors="replace") as f:
            return f.read()


class Client:
    """alice posts, bob's subscription sees every event; `wait` gives the time a proof came."""

    def __init__(self, chat_pb2, chat_pb2_grpc, grpc_port, alice, bob):
        self.pb, self.alice = chat_pb2, alice
        self.channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
        self.chat = chat_pb2_grpc.ChatStub(self.channel)
        self.arrived, self.lock = {}, threading.Condition()
        self.stream = self.chat.Subscribe(chat_pb2.SubscribeRequest(session="bench" + os.urandom(12).hex()), metadata=bob)
        threading.Thread(target=self.follow, daemon=True).start()

    def follow(self):
        try:
            for event in self.stream:
                if event.kind == "proof" and event.client_id:
                    with self.lock:
                        self.arrived[event.client_id] = (time.monotonic(), event)
                        self.lock.notify_all()
        except grpc.RpcError:
            pass

    def post(self, text, client_id):
        self.chat.Post(self.pb.PostRequest(text=text, client_id=client_id), metadata=self.alice, timeout=30)

    def wait(self, client_ids, timeout):
        deadline = time.monotonic() + timeout
        with self.lock:
            while not all(c in self.arrived for c in client_ids):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.lock.wait(left)
            return [self.arrived[c][0] for c in client_ids]

    def close(self):
        self.stream.cancel()
        self.channel.close()


def register(http_port, name):
    body = json.dumps({"name": name, "password": "a long enough password"}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{http_port}/api/register", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return [("authorization", "Bearer " + json.load(answer)["accessToken"])]


def cpu_ticks(pid):
    """User plus system CPU time of `pid` in clock ticks (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_until(what, check, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"paths bench: {what} did not come within {timeout} s")


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warren", required=True, help="the warren executable")
    parser.add_argument("--http-port", type=int, required=True, help="the web role's port (the broker's auth backend asks it)")
    parser.add_argument("--bits", default="8,24", help="difficulties, comma-separated (default 8,24)")
    parser.add_argument("--workers", default="1,4", help="numbers of PoW workers, comma-separated (default 1,4)")
    parser.add_argument("--posts", type=int, default=20, help="posts per path for the latency (default 20)")
    parser.add_argument("--burst", type=int, default=16, help="posts sent at once for the throughput (default 16)")
    parser.add_argument("--rpc-timeout-ms", type=int, default=3000, help="WARREN_RPC_TIMEOUT_MS for the no-worker case")
    parser.add_argument("--kill-bits", type=int, default=24, help="difficulty of the killed-mid-proof posts (default 24; 0 skips that phase)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the roles' logs (their folder is printed)")
    parser.add_argument("--kill-workers", default="1,2", help="numbers of PoW workers for the killed-mid-proof phase (default 1,2)")
    parser.add_argument("--kill-after", type=float, default=1.0, help="seconds after the post before the hashing worker is killed (default 1)")
    parser.add_argument("--kill-rpc-timeout-ms", type=int, default=30000,
                        help="WARREN_RPC_TIMEOUT_MS for the killed-mid-proof phase (default 30000, the setting's default)")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="warren-bench-paths-")
    chat_pb2, chat_pb2_grpc = stubs(folder)
    grpc_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("WARREN_PREFIX", "WARREN_AUTH_KEY", "WARREN_HISTORY")}
    env.update(
        WARREN_PREFIX=f"paths{os.getpid()}", WARREN_HTTP_HOST="127.0.0.1", WARREN_HTTP_PORT=str(args.http_port),
        WARREN_GRPC_PORT=str(grpc_port), WARREN_WEB_ROOT=os.path.join(ROOT, "web"), WARREN_HISTORY="none",
        WARREN_DATABASE_URL="sqlite:" + os.path.join(folder, "warren.sqlite"), WARREN_AUTH_KEY_FILE=os.path.join(folder, "auth.key"),
        WARREN_LOG_LEVEL="info", WARREN_POW_GRPC_PORT="off",
    )
    roles = Roles(args.warren, folder, env)
    rows, failures, kills = [], [], []
    try:
        roles.start("web", ["web"])
        roles.start("login", ["login"])
        wait_until("the web role", lambda: port_open(args.http_port) and port_open(grpc_port))
        alice, bob = register(args.http_port, "alice"), register(args.http_port, "bob")
        client = Client(chat_pb2, chat_pb2_grpc, grpc_port, alice, bob)
        time.sleep(1)
        serial = 0

        def next_id():
            nonlocal serial
            serial += 1
            return serial

        def one(path, timeout):
            serial = next_id()
            client_id = f"b{serial}"
            started = time.monotonic()
            client.post(f"post {serial} !{path}", client_id)
            arrived = client.wait([client_id], timeout)
            return None if arrived is None else (arrived[0] - started) * 1000

        for workers in [int(w) for w in args.workers.split(",")]:
            ports = [free_port() for _ in range(workers)]
            targets = ",".join(f"127.0.0.1:{p}" for p in ports)
            for index, port in enumerate(ports):
                roles.start(f"pow-{index}", ["pow-worker", "--threads", "1", "--grpc-port", str(port)])
            wait_until("the PoW workers", lambda: all(port_open(p) for p in ports))
            for bits in [int(b) for b in args.bits.split(",")]:
                roles.stop("reverser")
                roles.start("reverser", ["reverser"], WARREN_POW_BITS=bits, WARREN_POW_GRPC_TARGETS=targets, WARREN_RPC_TIMEOUT_MS=60000)
                time.sleep(1.5)
                for path in PATHS:
                    one(path, 60)  # warm-up: connections, first channel
                    latencies = [one(path, 60) for _ in range(args.posts)]
                    done = [l for l in latencies if l is not None]
                    burst_ids = []
                    started = time.monotonic()
                    for _ in range(args.burst):
                        serial += 1
                        burst_ids.append(f"b{serial}")
                        client.post(f"burst {serial} !{path}", burst_ids[-1])
                    arrived = client.wait(burst_ids, 120)
                    rate = args.burst / (max(arrived) - started) if arrived else float("nan")
                    rows.append((bits, workers, path, len(done), args.posts, percentile(done, 50), percentile(done, 99), rate))
                    print(f"  {bits:>2} bits, {workers} worker(s), !{path:<4}: p50 {rows[-1][5]:8.1f} ms  p99 {rows[-1][6]:8.1f} ms  "
                          f"{rate:7.1f} proofs/s ({len(done)}/{args.posts})", flush=True)
            roles.stop_matching("pow-")

        # No worker running: what each path does.
        bits = min(int(b) for b in args.bits.split(","))
        dead_port = free_port()
        roles.stop("reverser")
        roles.start("reverser", ["reverser"], WARREN_POW_BITS=bits, WARREN_POW_GRPC_TARGETS=f"127.0.0.1:{dead_port}",
                    WARREN_RPC_TIMEOUT_MS=args.rpc_timeout_ms)
        time.sleep(1.5)
        for path in ("rpc", "grpc"):
            before = roles.log("reverser").count(f"{path} proof failed")
            started = time.monotonic()
            serial += 1
            client.post(f"nobody {serial} !{path}", f"b{serial}")
            wait_until(f"the reverser giving up on !{path}", lambda: roles.log("reverser").count(f"{path} proof failed") > before, 60)
            failures.append((path, (time.monotonic() - started) * 1000))
        serial += 1
        waiting_id = f"b{serial}"
        started = time.monotonic()
        client.post(f"waits {serial} !pow", waiting_id)
        time.sleep(3)
        roles.start("pow-late", ["pow-worker", "--threads", "1", "--grpc-port", str(dead_port)])
        arrived = client.wait([waiting_id], 60)
        pow_wait = None if arrived is None else (arrived[0] - started) * 1000
        roles.stop_matching("pow-")

        # A worker killed mid-proof: the one hashing the post killed, a fresh one started on its port.
        if args.kill_bits > 0:
            for workers, path in [(int(w), p) for w in args.kill_workers.split(",") for p in PATHS]:
                ports = [free_port() for _ in range(workers)]
                names = [f"pow-kill-{path}-{i}" for i in range(workers)]
                for name, port in zip(names, ports):
                    roles.start(name, ["pow-worker", "--threads", "1", "--grpc-port", str(port)])
                wait_until("the PoW workers", lambda: all(port_open(p) for p in ports))
                roles.stop("reverser")
                roles.start("reverser", ["reverser"], WARREN_POW_BITS=args.kill_bits, WARREN_RPC_TIMEOUT_MS=args.kill_rpc_timeout_ms,
                            WARREN_POW_GRPC_TARGETS=",".join(f"127.0.0.1:{p}" for p in ports))
                time.sleep(1.5)
                kills.append((workers, kill_mid_proof(path, roles, client, names, ports, args, next_id)))
                roles.stop_matching("pow-")
        client.close()
    finally:
        roles.stop_all()

    print()
    print("| bits | workers | path | posts | p50 ms | p99 ms | proofs/s (burst) |")
    print("|---|---|---|---|---|---|---|")
    for bits, workers, path, done, posts, p50, p99, rate in rows:
        print(f"| {bits} | {workers} | !{path} | {done}/{posts} | {p50:.1f} | {p99:.1f} | {rate:.1f} |")
    print()
    print("No PoW worker running:")
    for path, ms in failures:
        print(f"- !{path}: no proof; the reverser gave up after {ms:.0f} ms and told the sender (pow.failed)")
    if pow_wait is not None:
        print(f"- !pow: waited in its queue; a worker started 3 s later and the proof came {pow_wait:.0f} ms after the post")
    if kills:
        print()
        print(f"A worker killed mid-proof ({args.kill_bits} bits, SIGKILL to the worker hashing, a fresh one started at once on its port;"
              f" WARREN_RPC_TIMEOUT_MS={args.kill_rpc_timeout_ms}):")
        for workers, line in kills:
            print(f"- {workers} worker(s), {line}")
    if args.keep_logs:
        print(f"\nThe roles' logs: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


def kill_mid_proof(path, roles, client, names, ports, args, next_id):
    """Posts one `!path` at `--kill-bits`, kills the worker hashing it, starts a fresh one on its
    port, and says what came to the sender and when. A proof that comes before the kill is posted
    again (at most three tries)."""
    for _ in range(3):
        serial = next_id()
        client_id = f"b{serial}"
        failed_before = roles.log("reverser").count(f"{path} proof failed")
        started = time.monotonic()
        client.post(f"killed {serial} !{path}", client_id)
        ticks = {n: cpu_ticks(roles.pid(n)) for n in names}
        busy = None
        while client.wait([client_id], 0.25) is None:
            now = {n: cpu_ticks(roles.pid(n)) for n in names}
            spent = {n: now[n] - ticks[n] for n in names}
            ticks = now
            hashing = max(names, key=lambda n: spent[n])
            others = [spent[n] for n in names if n != hashing]
            if spent[hashing] >= 5 and spent[hashing] > 3 * max(others, default=0):
                busy = hashing
            if busy is not None and time.monotonic() - started >= args.kill_after:
                break
            if time.monotonic() - started > 30:
                return f"!{path}: no worker was seen hashing within 30 s; nothing killed"
        else:
            continue  # proven before the kill: post again
        roles.kill(busy)
        killed = time.monotonic()
        port = ports[names.index(busy)]
        fresh = busy + "-fresh"
        names[names.index(busy)] = fresh
        roles.start(fresh, ["pow-worker", "--threads", "1", "--grpc-port", str(port)])
        proven_before = {n: roles.log(n).count(" proven") for n in names}
        deadline = killed + args.kill_rpc_timeout_ms / 1000 + 60
        kill_ms = (killed - started) * 1000
        while time.monotonic() < deadline:
            arrived = client.wait([client_id], 0.1)
            if arrived is not None:
                time.sleep(0.3)  # the worker's log line follows its publish
                by = [n for n in names if roles.log(n).count(" proven") > proven_before.get(n, 0)]
                who = ("the fresh worker" if by[0] == fresh else "the other worker") if len(by) == 1 else "a worker"
                # The proving worker's own search time: the rest of the time after the kill is redelivery or retry.
                hashing = re.findall(r"elapsedMs=(\d+)[^\n]* proven", roles.log(by[0])) if len(by) == 1 else []
                searched = f", of which {int(hashing[-1])} ms its search" if hashing else ""
                return (f"!{path}: killed {kill_ms:.0f} ms after the post; proven by {who}, the proof in the room "
                        f"{(arrived[0] - started) * 1000:.0f} ms after the post ({(arrived[0] - killed) * 1000:.0f} ms after the kill{searched})")
            log = roles.log("reverser")
            if log.count(f"{path} proof failed") > failed_before:
                now = time.monotonic()
                reason = re.findall(rf"reason=(.*?) \[\w+\] {path} proof failed", log)
                return (f"!{path}: killed {kill_ms:.0f} ms after the post; no proof, the sender told (pow.failed) "
                        f"{(now - started) * 1000:.0f} ms after the post ({(now - killed) * 1000:.0f} ms after the kill): "
                        f"{reason[-1].strip() if reason else '?'}")
        return f"!{path}: killed {kill_ms:.0f} ms after the post; nothing came within {deadline - killed:.0f} s of the kill"
    return f"!{path}: three posts were proven before {args.kill_after} s; nothing killed (raise --kill-bits)"


if __name__ == "__main__":
    main()
