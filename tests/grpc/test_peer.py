"""An outside peer of Warren's gRPC chat, in Python (grpcio): posts, subscribes, reads history.

Run by scripts/test (needs the test broker: WARREN_AMQP_URL and WARREN_AUTH_HTTP_URL from
`scripts/broker env`). It generates the Python stubs from Protos/ with grpcio-tools into a
temporary folder, starts `warren up` (the debug build; built when missing or stale) with its own
state, ports and prefix, registers two people over the REST API and speaks warren.v1.Chat to it.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

import grpc
from grpc_tools import protoc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def warren_binary():
    """The debug `warren`, built first when missing or older than a source file."""
    explicit = os.environ.get("WARREN_PEER_WARREN")
    if explicit:
        return explicit
    bin_path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    binary = os.path.join(bin_path, "warren")
    newest = max(
        os.path.getmtime(os.path.join(folder, name))
        for base in ("Sources", ".")
        for folder, _, names in (os.walk(os.path.join(ROOT, base)) if base == "Sources" else [(ROOT, [], ["Package.swift"])])
        for name in names
    )
    if not os.path.exists(binary) or os.path.getmtime(binary) < newest:
        subprocess.run(["swift", "build", "--product", "warren"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return binary


def generate_stubs(folder):
    """warren/v1/*_pb2.py and *_pb2_grpc.py from Protos/, into `folder` (on sys.path)."""
    protos = os.path.join(ROOT, "Protos")
    files = sorted(os.path.relpath(os.path.join(d, n), protos) for d, _, ns in os.walk(protos) for n in ns if n.endswith(".proto"))
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    status = protoc.main(["grpc_tools.protoc", f"-I{protos}", f"-I{include}", f"--python_out={folder}", f"--grpc_python_out={folder}", *files])
    if status != 0:
        raise RuntimeError(f"grpc_tools.protoc failed with {status}")
    sys.path.insert(0, folder)


class GRPCPeerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for name in ("WARREN_AMQP_URL", "WARREN_AUTH_HTTP_URL"):
            if not os.environ.get(name):
                raise unittest.SkipTest(f"{name} is not set (eval \"$(scripts/broker env)\")")
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/?", os.environ["WARREN_AUTH_HTTP_URL"])
        if not match:
            raise unittest.SkipTest("WARREN_AUTH_HTTP_URL is not http://127.0.0.1:PORT")
        cls.folder = tempfile.mkdtemp(prefix="warren-grpc-peer-")
        generate_stubs(cls.folder)
        global chat_pb2, chat_pb2_grpc
        from warren.v1 import chat_pb2, chat_pb2_grpc  # noqa: E402 (generated above)

        cls.http_port = int(match.group(1))
        cls.grpc_port = free_port()
        pow_port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("WARREN_PREFIX", "WARREN_AUTH_KEY", "WARREN_HISTORY", "WARREN_BROKER_AUTH")}
        env.update(
            WARREN_PREFIX=f"peer{os.getpid()}",
            WARREN_HTTP_HOST="127.0.0.1",
            WARREN_HTTP_PORT=str(cls.http_port),
            WARREN_GRPC_PORT=str(cls.grpc_port),
            WARREN_POW_GRPC_PORT=str(pow_port),
            WARREN_POW_GRPC_TARGETS=f"127.0.0.1:{pow_port}",
            WARREN_WEB_ROOT=os.path.join(ROOT, "web"),
            WARREN_DATABASE_URL="sqlite:" + os.path.join(cls.folder, "warren.sqlite"),
            WARREN_AUTH_KEY_FILE=os.path.join(cls.folder, "auth.key"),
            WARREN_POW_BITS="8",
            WARREN_CRON_SCHEDULE="@every 1h",
        )
        cls.log = open(os.path.join(cls.folder, "warren.log"), "wb")
        cls.warren = subprocess.Popen([warren_binary(), "up"], cwd=ROOT, env=env, stdout=cls.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if cls.warren.poll() is not None or time.monotonic() > deadline:
                cls.tearDownClass()
                raise RuntimeError("warren up did not start; its log:\n" + open(os.path.join(cls.folder, "warren.log")).read()[-3000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{cls.http_port}/healthz", timeout=2) as answer:
                    if answer.status == 200 and cls.port_open(cls.grpc_port):
                        break
            except OSError:
                pass
            time.sleep(0.2)
        cls.channel = grpc.insecure_channel(f"127.0.0.1:{cls.grpc_port}")
        cls.chat = chat_pb2_grpc.ChatStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "channel", None):
            cls.channel.close()
        if getattr(cls, "warren", None) and cls.warren.poll() is None:
            cls.warren.send_signal(signal.SIGTERM)
            try:
                cls.warren.wait(timeout=15)
            except subprocess.TimeoutExpired:
                cls.warren.kill()
                cls.warren.wait()
        if getattr(cls, "log", None):
            cls.log.close()
        shutil.rmtree(cls.folder, ignore_errors=True)

    @staticmethod
    def port_open(port):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    def register(self, name):
        body = json.dumps({"name": name, "password": "a long enough password"}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}/api/register", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return [("authorization", "Bearer " + json.load(answer)["accessToken"])]

    def test_posts_subscribes_and_reads_history(self):
        alice = self.register("alice")
        bob = self.register("bob")
        session = "py" + os.urandom(16).hex()
        seen, ready = [], threading.Event()

        def follow():
            stream = self.chat.Subscribe(chat_pb2.SubscribeRequest(session=session), metadata=bob)
            ready.set()
            try:
                for event in stream:
                    seen.append(event)
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.CANCELLED:
                    seen.append(error)

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        ready.wait(10)
        time.sleep(1)  # the subscription's queue is bound before the post

        answer = self.chat.Post(chat_pb2.PostRequest(text="hello from python", client_id="py-1"), metadata=alice, timeout=10)
        self.assertTrue(answer.id)
        self.assertEqual(answer.client_id, "py-1")
        self.assertEqual(getattr(answer, "from"), "alice")

        deadline = time.monotonic() + 15
        while not any(getattr(e, "id", None) == answer.id for e in seen) and time.monotonic() < deadline:
            time.sleep(0.1)
        event = next((e for e in seen if getattr(e, "id", None) == answer.id), None)
        self.assertIsNotNone(event, f"bob's subscription got {seen}")
        self.assertEqual((event.kind, event.text, event.room), ("message", "hello from python", "general"))

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            history = self.chat.History(chat_pb2.HistoryRequest(room="general"), metadata=alice, timeout=10)
            if any(e.id == answer.id for e in history.events):
                break
            time.sleep(0.2)
        self.assertIn(answer.id, [e.id for e in history.events])

        with self.assertRaises(grpc.RpcError) as refused:
            self.chat.Post(chat_pb2.PostRequest(text="x"), metadata=[("authorization", "Bearer nope")], timeout=10)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        with self.assertRaises(grpc.RpcError) as refused:
            self.chat.Post(chat_pb2.PostRequest(text="x" * 2001), metadata=alice, timeout=10)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(refused.exception.details().startswith("text.tooLong"), refused.exception.details())


if __name__ == "__main__":
    unittest.main()
