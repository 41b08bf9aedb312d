"""Unit tests of the benchmarks' WebSocket client (ws_client.py) and of the STOMP client over it
(stomp_ws.py): frames, masking, the handshake check, limits, and a connection to a small
WebSocket server of the test's own on 127.0.0.1. Standard library only:

  python3 -m unittest discover -s Benchmarks/shared -p 'test_*.py'
"""

import asyncio
import base64
import os
import struct
import unittest

from stomp_ws import StompClient, StompFailure, encode_frame as stomp_frame
from ws_client import (
    BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, FrameDecoder, WebSocket, WebSocketError, accept_value, check_handshake,
    close_payload, connect, encode_frame, handshake_request, mask, parse_close,
)

KEY = b"\x37\xfa\x21\x3d"


def naive_mask(payload, key):
    return bytes(byte ^ key[i % 4] for i, byte in enumerate(payload))


class MaskTests(unittest.TestCase):
    def test_masking_is_the_xor_of_the_key_repeated_and_its_own_inverse(self):
        for size in (0, 1, 3, 4, 5, 125, 126, 1000, 65537):
            payload = os.urandom(size)
            masked = mask(payload, KEY)
            self.assertEqual(masked, naive_mask(payload, KEY), size)
            self.assertEqual(mask(masked, KEY), payload, size)

    def test_leading_and_trailing_zero_bytes_survive(self):
        self.assertEqual(mask(b"\0\0\0\0\0", b"\0\0\0\0"), b"\0\0\0\0\0")
        self.assertEqual(mask(mask(b"\0a\0", KEY), KEY), b"\0a\0")


class FrameTests(unittest.TestCase):
    def test_lengths_at_each_edge_of_the_length_forms_round_trip_masked_and_not(self):
        for size, head in ((0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)):
            payload = os.urandom(size)
            for key in (None, KEY):
                frame = encode_frame(BINARY, payload, key)
                self.assertEqual(len(frame), head + (4 if key else 0) + size, (size, key))
                self.assertEqual(FrameDecoder().feed(frame), [(0x80, BINARY, payload)], (size, key))

    def test_frames_fed_byte_by_byte_come_out_whole_and_in_order(self):
        frames = [encode_frame(TEXT, b"CONNECTED\n\n\0", KEY), encode_frame(PING, b"hi"),
                  encode_frame(TEXT, b"x" * 300, KEY), encode_frame(TEXT, b"", None), encode_frame(BINARY, b"y" * 70000, KEY)]
        data = b"".join(frames)
        decoder, out = FrameDecoder(), []
        for i in range(len(data)):
            out += decoder.feed(data[i : i + 1])
        self.assertEqual([(opcode, payload) for _, opcode, payload in out],
                         [(TEXT, b"CONNECTED\n\n\0"), (PING, b"hi"), (TEXT, b"x" * 300), (TEXT, b""), (BINARY, b"y" * 70000)])
        self.assertEqual(decoder.rest, bytearray())

    def test_a_frame_over_the_limit_fails_once_its_length_is_known_without_buffering_it(self):
        decoder = FrameDecoder(max_size=1 << 20)
        self.assertEqual(len(decoder.feed(encode_frame(TEXT, b"a" * (1 << 20)))), 1)
        with self.assertRaises(WebSocketError) as caught:
            decoder.feed(encode_frame(TEXT, b"a" * ((1 << 20) + 1))[:10])
        self.assertEqual(caught.exception.code, 1009)
        self.assertIn("over the limit", str(caught.exception))

    def test_broken_frames_are_refused_with_1002(self):
        broken = [
            bytes([0x80 | TEXT | 0x40, 0]),  # a reserved bit
            bytes([0x80 | 0x3, 0]),  # an unknown data opcode
            bytes([0x80 | 0xB, 0]),  # an unknown control opcode
            bytes([PING, 0]),  # a control frame in fragments
            bytes([0x80 | PING, 126, 0, 126]) + b"p" * 126,  # a control frame over 125 bytes
        ]
        for data in broken:
            with self.assertRaises(WebSocketError) as caught:
                FrameDecoder().feed(data)
            self.assertEqual(caught.exception.code, 1002, data[:4])

    def test_close_payloads(self):
        self.assertEqual(parse_close(close_payload(1000, "bye")), (1000, "bye"))
        self.assertEqual(parse_close(b""), (1005, ""))
        self.assertEqual(len(close_payload(1009, "é" * 200)), 125)
        with self.assertRaises(WebSocketError):
            parse_close(b"\x03")


class HandshakeTests(unittest.TestCase):
    KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's own example

    def answer(self, **changes):
        headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": accept_value(self.KEY),
                   "Sec-WebSocket-Protocol": "v12.stomp", **changes}
        status = headers.pop("status", "HTTP/1.1 101 Switching Protocols")
        return "\r\n".join([status] + [f"{name}: {value}" for name, value in headers.items() if value is not None]).encode()

    def test_the_accept_value_is_the_rfc_s(self):
        self.assertEqual(accept_value(self.KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")

    def test_the_request_asks_for_version_13_and_the_subprotocol(self):
        request = handshake_request("127.0.0.1:15674", "/ws", self.KEY, "v12.stomp").decode()
        self.assertTrue(request.startswith("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:15674\r\n"))
        for line in ("Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {self.KEY}",
                     "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: v12.stomp"):
            self.assertIn(line + "\r\n", request)
        self.assertTrue(request.endswith("\r\n\r\n"))

    def test_a_right_answer_passes_and_each_wrong_one_fails_with_its_reason(self):
        self.assertEqual(check_handshake(self.answer(Connection="keep-alive, Upgrade"), self.KEY, "v12.stomp")["upgrade"], "websocket")
        wrong = {
            "instead of 101": {"status": "HTTP/1.1 403 Forbidden"},
            "wrong Sec-WebSocket-Accept": {"Sec-WebSocket-Accept": accept_value("another key")},
            "subprotocol None": {"Sec-WebSocket-Protocol": None},
            "not websocket": {"Upgrade": "h2c"},
            "not Upgrade": {"Connection": "close"},
            "extensions": {"Sec-WebSocket-Extensions": "permessage-deflate"},
            "not an HTTP answer": {"status": "SSH-2.0"},
        }
        for reason, changes in wrong.items():
            with self.assertRaises(WebSocketError) as caught:
                check_handshake(self.answer(**changes), self.KEY, "v12.stomp")
            self.assertIn(reason, str(caught.exception))


class FakeTransport:
    def __init__(self):
        self.written = []
        self.closing = False
        self.aborted = False

    def write(self, data):
        self.written.append(bytes(data))

    def is_closing(self):
        return self.closing

    def close(self):
        self.closing = True

    def abort(self):
        self.closing = self.aborted = True

    def get_write_buffer_size(self):
        return 0

    def frames(self):
        """What the client wrote, as (opcode, unmasked payload); every frame must be masked."""
        out = []
        for fin, opcode, payload in FrameDecoder().feed(b"".join(self.written)):
            out.append((opcode, payload))
        masked = all(data[1] & 0x80 for data in self.written)
        return out, masked


def open_socket(on_message=None, on_close=None, max_size=1 << 20):
    """A WebSocket whose handshake is done, on a FakeTransport; call inside a running loop."""
    socket = WebSocket("k", None, on_message or (lambda payload: None), on_close or (lambda reason: None), max_size)
    socket.connection_made(FakeTransport())
    socket.opened.set_result(None)
    return socket


class ProtocolTests(unittest.TestCase):
    def run_with_socket(self, scenario, **options):
        async def main():
            socket = open_socket(**options)
            scenario(socket)
            return socket

        return asyncio.run(main())

    def test_messages_in_fragments_are_joined_and_pings_answered_with_the_same_payload(self):
        received = []

        def scenario(socket):
            socket.data_received(encode_frame(TEXT, b"MESS", fin=False) + encode_frame(PING, b"are you there")
                                 + encode_frame(CONTINUATION, b"AGE", fin=False))
            socket.data_received(encode_frame(CONTINUATION, b"\n\n\0") + encode_frame(PONG, b"unasked") + encode_frame(BINARY, b"b"))

        socket = self.run_with_socket(scenario, on_message=received.append)
        self.assertEqual(received, [b"MESSAGE\n\n\0", b"b"])
        frames, masked = socket.transport.frames()
        self.assertEqual(frames, [(PONG, b"are you there")])
        self.assertTrue(masked)

    def test_what_handlers_send_while_data_is_processed_goes_out_in_one_write(self):
        def scenario(socket):
            socket.on_message = lambda payload: socket.send(b"ACK " + payload)
            socket.data_received(encode_frame(TEXT, b"1") + encode_frame(TEXT, b"2") + encode_frame(TEXT, b"3"))
            socket.send("after")

        socket = self.run_with_socket(scenario)
        self.assertEqual(len(socket.transport.written), 2)
        self.assertEqual(socket.transport.frames()[0], [(TEXT, b"ACK 1"), (TEXT, b"ACK 2"), (TEXT, b"ACK 3"), (TEXT, b"after")])

    def test_a_close_is_answered_with_its_code_and_reported_once(self):
        closed = []

        def scenario(socket):
            socket.data_received(encode_frame(CLOSE, close_payload(1001, "going away")) + encode_frame(TEXT, b"late"))
            socket.connection_lost(None)
            with self.assertRaises(WebSocketError):
                socket.send("too late")

        socket = self.run_with_socket(scenario, on_close=closed.append)
        self.assertEqual(socket.transport.frames()[0], [(CLOSE, struct.pack("!H", 1001))])
        self.assertEqual(closed, ["the peer closed the connection (1001 going away)"])

    def test_an_oversize_message_or_broken_frame_closes_with_its_code(self):
        for data, code in ((encode_frame(TEXT, b"a" * 11), 1009),
                           (encode_frame(TEXT, b"a" * 6, fin=False) + encode_frame(CONTINUATION, b"a" * 6), 1009),
                           (encode_frame(CONTINUATION, b"a"), 1002),
                           (encode_frame(TEXT, b"a", fin=False) + encode_frame(TEXT, b"b"), 1002)):
            closed, received = [], []
            socket = self.run_with_socket(lambda socket: socket.data_received(data), max_size=10,
                                          on_close=closed.append, on_message=received.append)
            frames, _ = socket.transport.frames()
            self.assertEqual((frames[0][0], parse_close(frames[0][1])[0]), (CLOSE, code), data[:4])
            self.assertTrue(socket.transport.closing)
            self.assertEqual(len(closed), 1)
            self.assertEqual(received, [])


class StompTests(unittest.TestCase):
    def test_an_ack_written_directly_is_the_frame_encode_frame_makes(self):
        written = []
        client = StompClient("ws://unused")
        client._write = lambda frame, command: written.append((command, frame))
        for ack in ("T_sub-1@@session-Ab12@@7", "odd:id\\x"):
            client.ack_now({"ack": ack, "subscription": "sub-1"})
            self.assertEqual(written[-1], ("ACK", stomp_frame("ACK", {"id": ack})))

    def test_a_message_comes_to_a_plain_handler_from_the_socket_s_data_and_its_ack_goes_in_the_same_write(self):
        async def scenario():
            client = StompClient("ws://unused")
            client.ws = open_socket(client._received, client._socket_closed)
            client.on_message = lambda headers, body: client.ack_now(headers)
            message = stomp_frame("MESSAGE", {"subscription": "sub-1", "ack": "a1"}, '{"n":1}')
            client.ws.data_received(encode_frame(TEXT, message) + encode_frame(TEXT, b"\n") + encode_frame(TEXT, message.replace(b"a1", b"a2")))
            return client

        client = asyncio.run(scenario())
        self.assertEqual(len(client.ws.transport.written), 1)
        self.assertEqual(client.ws.transport.frames()[0], [(TEXT, b"ACK\nid:a1\n\n\0"), (TEXT, b"ACK\nid:a2\n\n\0")])


# ---- over a real socket on 127.0.0.1 ----

class Server:
    """A small WebSocket server for the tests: answers the handshake, then hands every frame the
    client sends (unmasked) to `on_frame(server, opcode, payload)`; `send` writes unmasked frames."""

    def __init__(self, on_frame, answer_handshake=True, subprotocol="v12.stomp"):
        self.on_frame = on_frame
        self.answer_handshake = answer_handshake
        self.subprotocol = subprotocol
        self.request = None
        self.writer = None
        self.raw = bytearray()  # every byte the client sent after the handshake
        self.tasks = set()
        self.stopping = asyncio.Event()

    async def start(self):
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        return f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/ws"

    async def serve(self, reader, writer):
        self.tasks.add(asyncio.current_task())
        self.writer = writer
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        self.request = head.decode()
        if not self.answer_handshake:
            await asyncio.wait_for(self.stopping.wait(), 5)
            writer.close()
            return
        key = next(line.split(":", 1)[1].strip() for line in self.request.split("\r\n") if line.lower().startswith("sec-websocket-key:"))
        writer.write((f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept_value(key)}\r\nSec-WebSocket-Protocol: {self.subprotocol}\r\n\r\n").encode())
        decoder = FrameDecoder()
        for _ in range(10_000):
            data = await asyncio.wait_for(reader.read(65536), 5)
            if not data:
                break
            self.raw += data
            for _, opcode, payload in decoder.feed(data):
                self.on_frame(self, opcode, payload)
        writer.close()

    def send(self, opcode, payload):
        self.writer.write(encode_frame(opcode, payload))

    def all_masked(self):
        """Whether every frame the client sent had its mask bit set."""
        pos, flags = 0, []
        while pos + 2 <= len(self.raw):
            size, head = self.raw[pos + 1] & 0x7F, 2
            if size == 126:
                size, head = int.from_bytes(self.raw[pos + 2 : pos + 4], "big"), 4
            elif size == 127:
                size, head = int.from_bytes(self.raw[pos + 2 : pos + 10], "big"), 10
            flags.append(bool(self.raw[pos + 1] & 0x80))
            pos += head + 4 * flags[-1] + size
        return bool(flags) and all(flags)

    async def stop(self):
        """Ends every connection (the handlers end by themselves: a cancelled one is reported
        by asyncio 3.11 as an error), at most 5 s."""
        self.server.close()
        self.stopping.set()
        if self.writer is not None:
            self.writer.close()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=5)


class ConnectionTests(unittest.TestCase):
    def test_a_connection_opens_echoes_and_closes_cleanly(self):
        async def scenario():
            received, closed = [], []

            def on_frame(server, opcode, payload):
                if opcode == TEXT:
                    server.send(TEXT, payload.upper())
                elif opcode == CLOSE:
                    server.send(CLOSE, payload)
                    server.writer.close()

            server = Server(on_frame)
            url = await server.start()
            socket = await connect(url, received.append, closed.append, subprotocol="v12.stomp", timeout=5)
            socket.send("hello")
            socket.send(b"x" * 70000)
            for _ in range(100):
                if len(received) == 2:
                    break
                await asyncio.sleep(0.02)
            await socket.close(timeout=2)
            await server.stop()
            return server, received, closed

        server, received, closed = asyncio.run(scenario())
        self.assertEqual(received, [b"HELLO", b"X" * 70000])
        self.assertIn("Sec-WebSocket-Version: 13\r\n", server.request)
        self.assertIn("Sec-WebSocket-Protocol: v12.stomp\r\n", server.request)
        self.assertEqual(len(base64.b64decode(server.request.split("Sec-WebSocket-Key: ")[1].split("\r\n")[0])), 16)
        self.assertTrue(server.all_masked())
        self.assertEqual(closed, ["the peer closed the connection (1000)"])

    def test_a_handshake_never_answered_times_out_and_a_wrong_subprotocol_is_refused(self):
        async def scenario():
            silent = Server(lambda *a: None, answer_handshake=False)
            url = await silent.start()
            started = asyncio.get_running_loop().time()
            with self.assertRaises(TimeoutError):
                await connect(url, print, print, subprotocol="v12.stomp", timeout=0.3)
            self.assertLess(asyncio.get_running_loop().time() - started, 2)
            await silent.stop()
            other = Server(lambda *a: None, subprotocol="mqtt")
            url = await other.start()
            with self.assertRaises(WebSocketError):
                await connect(url, print, print, subprotocol="v12.stomp", timeout=2)
            await other.stop()

        asyncio.run(scenario())

    def test_the_stomp_client_acks_from_data_received_and_a_closed_socket_fails_every_waiter(self):
        frames = []

        def on_frame(server, opcode, payload):
            if opcode != TEXT or payload == b"\n":
                return
            command, headers = payload.split(b"\n", 1)[0].decode(), dict(
                line.split(":", 1) for line in payload.split(b"\n\n", 1)[0].decode().split("\n")[1:])
            frames.append((command, headers))
            if command == "CONNECT":
                server.send(TEXT, stomp_frame("CONNECTED", {"version": "1.2", "heart-beat": "0,0"}))
            elif command == "SUBSCRIBE":
                server.send(TEXT, stomp_frame("RECEIPT", {"receipt-id": headers["receipt"]})
                            + stomp_frame("MESSAGE", {"subscription": headers["id"], "ack": "m1", "message-id": "1"}, '{"n":1}'))
                server.send(TEXT, stomp_frame("MESSAGE", {"subscription": headers["id"], "ack": "m2", "message-id": "2"}, '{"n":2}'))
            elif command == "SEND":
                server.writer.close()  # the broker drops the connection instead of answering

        async def scenario():
            server = Server(on_frame)
            url = await server.start()
            client = StompClient(url, timeout=2)
            delivered = []
            client.on_message = lambda headers, body: (delivered.append(body), client.ack_now(headers))
            await client.connect("bob", "token", "warren", heartbeat=(0, 0))
            await client.subscribe("/amq/queue/q1")
            for _ in range(100):
                if sum(1 for command, _ in frames if command == "ACK") == 2:
                    break
                await asyncio.sleep(0.02)
            with self.assertRaises(StompFailure) as caught:
                await client.request("/exchange/chat.in/chat.login", "{}", {})
            await client.close()
            await server.stop()
            return client, delivered, caught.exception

        client, delivered, failure = asyncio.run(scenario())
        self.assertEqual(delivered, [b'{"n":1}', b'{"n":2}'])
        self.assertEqual([command for command, _ in frames], ["CONNECT", "SUBSCRIBE", "ACK", "ACK", "SEND"])
        self.assertEqual([headers["id"] for command, headers in frames if command == "ACK"], ["m1", "m2"])
        self.assertEqual(failure.kind, "closed")
        self.assertIs(client.failure, failure)


if __name__ == "__main__":
    unittest.main()
