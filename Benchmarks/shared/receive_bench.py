"""The tab client's CPU per delivery, without a broker: the old client against this one.

A stand-in for Web-STOMP runs in a child process on 127.0.0.1 (this file with --serve): it
answers the WebSocket handshake, CONNECT and SUBSCRIBE, and once every connection has subscribed
sends --messages rounds, --rate rounds a second, each one MESSAGE frame to every connection as
RabbitMQ fans a post out (the headers of a tab queue's delivery, a room event as body; --rate 0:
all at once), and reads the ACKs. This process opens --connections STOMP clients, each handling
its deliveries as a tab of tabs_bench.py does (count, read a post's JSON, ACK), and measures its
own CPU (process time) and wall time until every message is in, per delivery:

  old  stomp_ws.py of git revision --old-rev (default e119ac5, the last before ws_client.py), over
       the `websockets` package (17.4: the venv of scripts/bench-tabs from before, or any Python
       with it; without it only the new client runs), every body read with json.loads and every
       ACK awaited, as tabs_bench.py did then;
  new  this tree's: ws_client.py, the synchronous receive path, tabs_book.is_post_event on the
       bodies that can be a post, ack_now.

--rounds times in turn. Not a test; ends by itself. The defaults, 200 connections at 50 rounds a
second, are 10,000 deliveries a second: what 5,000 tabs get from a post a second and its reply.

  python3 Benchmarks/shared/receive_bench.py --old-rev none
  .warren/bench-tabs-venv/bin/python Benchmarks/shared/receive_bench.py --connections 1000 --rate 10 --messages 100
"""

import argparse
import asyncio
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tabs"))  # tabs_book

from tabs_book import is_post_event  # noqa: E402
from ws_client import CLOSE, TEXT, FrameDecoder, accept_value, encode_frame  # noqa: E402


# ---- the stand-in broker (child process) ----

def delivery(number, subscription):
    """One MESSAGE frame as Web-STOMP sends a tab queue's event."""
    body = json.dumps({"kind": "message", "id": str(uuid.uuid4()), "room": "general", "from": "bench1",
                       "text": f"tabs bench {number} at 20/s", "clientId": str(uuid.uuid4()), "at": 1764892800000 + number})
    headers = [("subscription", subscription), ("destination", "/amq/queue/chat.user.bench7.Xy3"),
               ("message-id", f"T_{subscription}@@session-Ab12@@{number}"), ("redelivered", "false"),
               ("ack", f"T_{subscription}@@session-Ab12@@{number}"), ("content-type", "application/json"),
               ("persistent", "true"), ("content-length", str(len(body.encode())))]
    return ("MESSAGE\n" + "".join(f"{name}:{value}\n" for name, value in headers) + "\n" + body + "\0").encode()


async def serve(port_file, connections, messages, rate, spread):
    subscribed = []  # (writer, subscription id) of every connection of this client run
    everyone = asyncio.Event()  # set once `connections` have subscribed

    async def broadcast():
        await everyone.wait()
        everyone.clear()
        started = time.perf_counter()
        for number in range(messages):
            if rate > 0:
                await asyncio.sleep(max(0.0, started + number / rate - time.perf_counter()))
            for index, (writer, subscription) in enumerate(subscribed):
                if spread and rate > 0 and index % 10 == 9:  # the round's frames spread over its time, as queues deliver one by one
                    await asyncio.sleep(max(0.0, started + (number + index / len(subscribed)) / rate - time.perf_counter()))
                writer.write(encode_frame(TEXT, delivery(number, subscription)))
            if rate <= 0 and number % 50 == 49:
                await asyncio.gather(*(writer.drain() for writer, _ in subscribed))
        subscribed.clear()

    async def one(reader, writer):
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        key = next(line.split(":", 1)[1].strip() for line in head.decode().split("\r\n") if line.lower().startswith("sec-websocket-key:"))
        writer.write((f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept_value(key)}\r\nSec-WebSocket-Protocol: v12.stomp\r\n\r\n").encode())
        decoder = FrameDecoder()
        while True:
            data = await asyncio.wait_for(reader.read(65536), 600)
            if not data:
                break
            for _, opcode, payload in decoder.feed(data):
                if opcode == CLOSE:
                    writer.write(encode_frame(CLOSE, payload))
                    writer.close()
                    return
                if payload.startswith(b"CONNECT\n"):
                    writer.write(encode_frame(TEXT, b"CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0"))
                elif payload.startswith(b"SUBSCRIBE\n"):
                    fields = dict(line.split(":", 1) for line in payload.split(b"\n\n")[0].decode().split("\n")[1:])
                    writer.write(encode_frame(TEXT, f"RECEIPT\nreceipt-id:{fields['receipt']}\n\n\0".encode()))
                    subscribed.append((writer, fields["id"]))
                    if len(subscribed) == connections:
                        everyone.set()
                elif payload.startswith(b"DISCONNECT\n"):
                    receipt = payload.split(b"receipt:")[1].split(b"\n")[0].decode()
                    writer.write(encode_frame(TEXT, f"RECEIPT\nreceipt-id:{receipt}\n\n\0".encode()))
        writer.close()

    server = await asyncio.start_server(one, "127.0.0.1", 0, backlog=4096)
    Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))
    async with asyncio.timeout(3600):
        while True:  # one broadcast per client run
            await broadcast()


# ---- the clients (this process) ----

def load_client(rev):
    """stomp_ws.py of this tree, or of git revision `rev` (as module stomp_ws_<rev>)."""
    if rev is None:
        import stomp_ws
        return stomp_ws
    text = subprocess.run(["git", "-C", str(HERE), "show", f"{rev}:Benchmarks/shared/stomp_ws.py"],
                          check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / f"stomp_ws_{rev}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def measure(module, url, connections, messages, timeout):
    """(CPU µs per delivery, wall s, posts read) of `connections` clients of `module` taking `messages` each."""
    clients = [module.StompClient(url, timeout=timeout) for _ in range(connections)]
    state = {"events": 0, "posts": 0}
    want = connections * messages
    done = asyncio.get_running_loop().create_future()
    new = hasattr(module.StompClient, "ack_now")

    def handler(client):
        def received(headers, body):  # what a tab of tabs_bench.py does with a delivery, then and now
            state["events"] += 1
            if new:
                kind = is_post_event(body)[0] if b'"clientId"' in body and b'"message"' in body else None
            else:
                kind = json.loads(body).get("kind")
            if kind == "message":
                state["posts"] += 1
            if state["events"] == want and not done.done():
                done.set_result(None)
            if new:
                return client.ack_now(headers)
            return client.ack(headers)  # the old client awaited what on_message returned
        return received

    for client in clients:
        await client.connect("bench1", "token", "warren", heartbeat=(0, 0))
        client.on_message = handler(client)
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client.subscribe("/amq/queue/q") for client in clients))
    await asyncio.wait_for(done, timeout)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await asyncio.gather(*(client.close() for client in clients))
    return cpu / want * 1e6, wall, state["posts"]


def main(argv):
    parser = argparse.ArgumentParser(prog="receive_bench.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--messages", type=int, default=500, help="per connection")
    parser.add_argument("--rate", type=float, default=50, help="rounds a second (one message to every connection each); 0: all at once")
    parser.add_argument("--burst", dest="spread", action="store_false",
                        help="each round's frames all at once (default: spread over the round, ten at a time)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--old-rev", default="e119ac5", help="git revision of the old client (none: only this tree's)")
    parser.add_argument("--loop", choices=["auto", "asyncio"], default="auto", help="auto: uvloop when installed")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--serve", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve(args.serve, args.connections, args.messages, args.rate, args.spread))
        return 0
    kinds = {"new": load_client(None)}
    if args.old_rev != "none":
        old = load_client(args.old_rev)
        if getattr(old, "ws_connect", True) is None:
            print(f"receive_bench: the client of {args.old_rev} needs the websockets package (17.4), not installed here: "
                  "only this tree's client runs", file=sys.stderr)
        else:
            kinds = {"old": old, **kinds}
    port_file = Path(tempfile.mkdtemp()) / "port"
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file), "--connections", str(args.connections),
                               "--messages", str(args.messages), "--rate", str(args.rate)] + ([] if args.spread else ["--burst"]))
    try:
        for _ in range(100):
            if port_file.exists() and port_file.read_text():
                break
            time.sleep(0.1)
        url = f"ws://127.0.0.1:{port_file.read_text()}/ws"
        run = asyncio.run
        if args.loop == "auto":
            try:
                import uvloop
                run = uvloop.run
            except ImportError:
                pass
        for round_ in range(1, args.rounds + 1):
            for name, module in kinds.items():
                per_delivery, wall, posts = run(measure(module, url, args.connections, args.messages, args.timeout))
                print(json.dumps({"bench": "receive", "client": name, "round": round_, "connections": args.connections,
                                  "deliveries": args.connections * args.messages, "rate_per_s": args.rate * args.connections,
                                  "sent": "spread" if args.spread else "in bursts",
                                  "posts_read": posts, "cpu_us_per_delivery": round(per_delivery, 1),
                                  "wall_s": round(wall, 2), "loop": "uvloop" if run is not asyncio.run else "asyncio"}), flush=True)
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
