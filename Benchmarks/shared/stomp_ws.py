"""A small STOMP 1.2 client over WebSocket for the benchmarks, frames written by hand.

Shared by Benchmarks/auth (auth_bench.py), Benchmarks/tabs (tabs_bench.py, tabs_restart.py,
fanout_probe.py) and scripts/lib/compose_chat.py, which put this folder on sys.path. Only what
the page does (web/stomp*.js): CONNECT with login, passcode and heart-beats, SEND with a receipt,
a request with `reply-to: /temp-queue/NAME` and a `correlation-id` (the reply arrives without a
SUBSCRIBE), SUBSCRIBE with `ack: client-individual` and a prefetch, ACK, DISCONNECT. Every wait
has a timeout; a refused frame (an ERROR, or Web-STOMP closing the socket) fails every wait.

The WebSocket is the project's own (ws_client.py, standard library only), and the receive path
is synchronous, for thousands of tabs on one event loop: frames are parsed and dispatched from
the socket's data_received, `on_message(headers, body)` is a plain function called there, and
ACKs (ack_now) and heart-beats (a timer) are written at once, with no task, future or await per
message. Only the waits of connect, send, request, subscribe and close are coroutines.
"""

import asyncio
import time

from ws_client import WebSocketError
from ws_client import connect as ws_connect

_ESCAPES = {"\\": "\\\\", ":": "\\c", "\n": "\\n", "\r": "\\r"}
_UNESCAPES = {"\\\\": "\\", "\\c": ":", "\\n": "\n", "\\r": "\r"}


class StompFailure(Exception):
    """The broker refused something or the connection ended; the message says what.

    `kind` sorts failures for a report: "timeout" (a wait ran out), "closed" (the socket
    ended), "error" (an ERROR frame), "refused" (a reply said no) or "failure".
    """

    def __init__(self, message, kind="failure"):
        super().__init__(message)
        self.kind = kind


def negotiate_heartbeat(client, server_header):
    """STOMP 1.2 heart-beats as (outgoing ms, incoming ms): each direction is the larger of what
    one side can do and the other wants, and 0 (none) when either side says 0.

    `client` is what the CONNECT said (cx, cy); `server_header` the CONNECTED frame's
    `heart-beat` header ("sx,sy"), or None.
    """
    cx, cy = client
    try:
        sx, sy = (int(part) for part in (server_header or "0,0").split(","))
    except ValueError:
        sx, sy = 0, 0
    outgoing = 0 if cx == 0 or sy == 0 else max(cx, sy)
    incoming = 0 if cy == 0 or sx == 0 else max(cy, sx)
    return outgoing, incoming


def escape(value):
    """A STOMP 1.2 header value with backslash, colon, LF and CR escaped."""
    value = str(value)
    if "\\" not in value and ":" not in value and "\n" not in value and "\r" not in value:  # the common case, thousands of times a second
        return value
    return "".join(_ESCAPES.get(c, c) for c in value)


def unescape(value):
    """Undoes escape(); an unknown escape is kept as it is."""
    if "\\" not in value:
        return value
    out, i = [], 0
    while i < len(value):
        pair = value[i : i + 2]
        if pair in _UNESCAPES:
            out.append(_UNESCAPES[pair])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def encode_frame(command, headers, body=""):
    """One frame as text: command, escaped headers (content-length added for a body), body, NUL."""
    data = body.encode() if isinstance(body, str) else bytes(body)
    lines = [command]
    escape_values = command not in ("CONNECT", "CONNECTED")
    for name, value in headers.items():
        lines.append(f"{escape(name)}:{escape(value)}" if escape_values else f"{name}:{value}")
    if data:
        lines.append(f"content-length:{len(data)}")
    return ("\n".join(lines) + "\n\n").encode() + data + b"\0"


class FrameBuffer:
    """Splits received bytes into frames (command, headers, body bytes); heart-beats are skipped.

    Fast for the usual case, a chunk that holds whole frames: they are cut out of it without a
    copy into the buffer, and a head with no backslash takes no unescaping."""

    def __init__(self, max_bytes=1 << 20):
        self.data = bytearray()
        self.max_bytes = max_bytes

    def feed(self, chunk):
        """Adds bytes and returns every complete frame in them."""
        if self.data:
            self.data += chunk
            data = self.data
        else:
            data = chunk
        frames = []
        pos, end = 0, len(data)
        while pos < end:
            if data[pos] in (0x0A, 0x0D):  # an EOL: a heart-beat, or what ends a frame
                pos += 1
                continue
            after = self._frame(data, pos, end, frames)
            if after < 0:
                break
            pos = after
        if data is self.data:
            del self.data[:pos]
        elif pos < end:
            self.data += data[pos:]
        if len(self.data) > self.max_bytes:
            raise StompFailure(f"more than {self.max_bytes} bytes without a complete frame")
        return frames

    @staticmethod
    def _frame(data, pos, end, frames):
        """Appends the frame at `pos` to `frames` and returns where it ends, or -1 when it is not
        complete yet."""
        lf = data.find(b"\n\n", pos)
        crlf = -1 if data.find(b"\r", pos, lf if lf >= 0 else end) < 0 else data.find(b"\n\r\n", pos, lf if lf >= 0 else end)
        if crlf >= 0:
            head_end, body_start = crlf, crlf + 3
        elif lf >= 0:
            head_end, body_start = lf, lf + 2
        else:
            return -1
        text = data[pos:head_end].decode()
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        lines = text.split("\n")
        command = lines[0]
        headers = {}
        if "\\" in text:
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers.setdefault(unescape(name), unescape(value))  # the first of a repeated header wins
        else:
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name not in headers:
                    headers[name] = value
        length = headers.get("content-length")
        if length is not None:
            try:
                body_end = body_start + int(length)
            except ValueError:
                raise StompFailure(f"a {command} frame with content-length {length!r}") from None
            if end < body_end + 1:
                return -1
            if data[body_end] != 0:
                raise StompFailure(f"a {command} frame whose body does not end at its content-length")
        else:
            body_end = data.find(b"\0", body_start)
            if body_end < 0:
                return -1
        frames.append((command, headers, bytes(data[body_start:body_end])))
        return body_end + 1


class StompClient:
    """One STOMP connection over WebSocket; call the coroutines from one event loop."""

    def __init__(self, url, timeout=10.0):
        self.url = url
        self.timeout = timeout
        self.ws = None
        self.on_message = None  # a plain function called with (headers, body bytes) for subscription messages
        self.failure = None
        self.failed_at = None
        self._connected = None
        self._receipts = {}
        self._replies = {}
        self._seq = 0
        self._buffer = FrameBuffer()
        self._beat = None  # the heart-beat timer
        self._last_sent = 0.0
        self.heartbeat = (0, 0)  # negotiated (outgoing ms, incoming ms)
        self.receipts_seen = 0

    def _next_id(self, kind):
        self._seq += 1
        return f"{kind}-{self._seq}"

    async def connect(self, login, passcode, host, heartbeat=(0, 0)):
        """Opens the socket and logs in; returns (socket open ms, CONNECT to CONNECTED ms).

        `heartbeat` is what CONNECT offers, (can send every ms, wants every ms); the page offers
        (10000, 10000). Beats are then sent as negotiated; incoming ones are only skipped.
        """
        started = time.perf_counter()
        try:
            self.ws = await ws_connect(self.url, self._received, self._socket_closed, subprotocol="v12.stomp", timeout=self.timeout)
        except TimeoutError:
            raise StompFailure(f"no WebSocket open within {self.timeout:g} s", "timeout") from None
        except (OSError, WebSocketError) as error:
            raise StompFailure(f"the WebSocket did not open: {error}", "closed") from None
        opened = time.perf_counter()
        self._connected = asyncio.get_running_loop().create_future()
        headers = {"accept-version": "1.2", "host": host, "login": login, "passcode": passcode,
                   "heart-beat": f"{heartbeat[0]},{heartbeat[1]}"}
        self._send("CONNECT", headers)
        connected = await self._wait(self._connected, "CONNECTED")
        done = time.perf_counter()
        self.heartbeat = negotiate_heartbeat(heartbeat, connected.get("heart-beat"))
        if self.heartbeat[0] > 0:
            self._beat = asyncio.get_running_loop().call_later(self.heartbeat[0] / 1000, self._send_beat)
        return (opened - started) * 1000, (done - opened) * 1000

    async def send(self, destination, body, headers, wait_receipt=False):
        """SEND with a receipt, as the page does; waits for the RECEIPT only when asked."""
        receipt = self._next_id("send")
        waiter = asyncio.get_running_loop().create_future() if wait_receipt else None
        if waiter is not None:
            self._receipts[receipt] = waiter
        frame = {"destination": destination, **headers, "receipt": receipt}
        self._send("SEND", frame, body)
        if waiter is not None:
            await self._wait(waiter, f"RECEIPT for SEND {destination}")

    async def request(self, destination, body, headers, reply_queue="replies"):
        """SEND with reply-to /temp-queue/ and a correlation-id; returns the reply's body.

        As the page's client does, the request carries `expiration` = how long this client waits
        for the reply, so the broker drops it once nobody waits for it any more."""
        correlation = self._next_id("req")
        waiter = asyncio.get_running_loop().create_future()
        self._replies[correlation] = waiter
        extra = {"expiration": str(max(1, round(self.timeout * 1000))), **headers,
                 "reply-to": f"/temp-queue/{reply_queue}", "correlation-id": correlation}
        await self.send(destination, body, extra)
        return await self._wait(waiter, f"reply from {destination}")

    async def subscribe(self, destination, ack="client-individual", prefetch=50, extra=None, subscription=None):
        """SUBSCRIBE and wait for its RECEIPT; `extra` headers are added (e.g. a stream's
        `x-stream-offset`). `subscription` is the id, which every MESSAGE of it carries in its
        `subscription` header (default: sub-<n>); one known before the SUBSCRIBE goes tells this
        subscription's messages apart even when they come before its RECEIPT."""
        receipt = self._next_id("subscribed")
        waiter = asyncio.get_running_loop().create_future()
        self._receipts[receipt] = waiter
        headers = {"id": subscription or self._next_id("sub"), "destination": destination, "ack": ack,
                   "prefetch-count": str(prefetch), **(extra or {}), "receipt": receipt}
        self._send("SUBSCRIBE", headers)
        await self._wait(waiter, f"RECEIPT for SUBSCRIBE {destination}")

    def ack_now(self, headers):
        """ACK a message at once, from on_message: what one chunk of received data makes the
        handlers ACK goes out in one write. Raises StompFailure once the connection failed.
        The frame is encode_frame's ("ACK", {"id": ...}), put together directly: it goes out for
        every delivery."""
        self._write(b"ACK\nid:" + escape(headers["ack"]).encode() + b"\n\n\0", "ACK")

    async def close(self):
        """DISCONNECT with a receipt (waited for at most 2 s), then close the socket (2 s at most)."""
        if self.ws is None:
            return
        try:
            if self.failure is None and self._connected is not None and self._connected.done():
                receipt = self._next_id("disconnect")
                waiter = asyncio.get_running_loop().create_future()
                self._receipts[receipt] = waiter
                self._send("DISCONNECT", {"receipt": receipt})
                async with asyncio.timeout(2):
                    await waiter
        except (StompFailure, TimeoutError):
            pass
        finally:
            self._stop_beats()
            await self.ws.close(timeout=2)

    def _send(self, command, headers, body=""):
        self._write(encode_frame(command, headers, body), command)

    def _write(self, frame, command):
        if self.failure is not None:
            raise self.failure
        try:
            self.ws.send(frame)
        except WebSocketError as error:
            raise StompFailure(f"the socket closed before {command}: {error}", "closed") from None
        self._last_sent = time.monotonic()

    def _send_beat(self):
        """An EOL whenever nothing else went out for most of the interval, as the page does; the
        timer runs again when the next beat may be due."""
        self._beat = None
        if self.failure is not None:
            return
        interval = self.heartbeat[0] / 1000
        idle = time.monotonic() - self._last_sent
        if idle >= interval * 0.9:
            try:
                self.ws.send(b"\n")
            except WebSocketError:
                return  # the socket's end is reported by _socket_closed
            self._last_sent = time.monotonic()
            idle = 0.0
        self._beat = asyncio.get_running_loop().call_later(max(0.05, interval - idle), self._send_beat)

    def _stop_beats(self):
        if self._beat is not None:
            self._beat.cancel()
            self._beat = None

    async def _wait(self, future, what):
        try:
            async with asyncio.timeout(self.timeout):
                return await future
        except TimeoutError:
            raise StompFailure(f"no {what} within {self.timeout:g} s", "timeout") from None

    def _received(self, payload):
        """One WebSocket message, from the socket's data_received: its frames dispatched."""
        try:
            for command, headers, body in self._buffer.feed(payload):
                self._dispatch(command, headers, body)
        except StompFailure as failure:
            self._fail(failure)
            self.ws.abort()
        except Exception as error:  # noqa: BLE001: a handler's bug ends this connection, with its reason
            self._fail(StompFailure(f"on_message failed: {error!r}"))
            self.ws.abort()

    def _socket_closed(self, reason):
        """From the socket, once, when it ended for whatever cause."""
        if self.ws is not None and self.ws.close_code is not None and self.ws.error is None:
            text = f"the broker closed the socket ({' '.join(filter(None, (str(self.ws.close_code), self.ws.close_reason)))})"
        else:
            text = f"the socket closed: {reason}"
        self._fail(StompFailure(text, "closed"))

    def _dispatch(self, command, headers, body):
        if command == "MESSAGE":
            if headers.get("subscription", "").startswith("/temp-queue/"):
                waiter = self._replies.pop(headers.get("correlation-id"), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(body)
            elif self.on_message is not None and self.failure is None:
                self.on_message(headers, body)
        elif command == "RECEIPT":
            self.receipts_seen += 1
            waiter = self._receipts.pop(headers.get("receipt-id"), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(headers)
        elif command == "CONNECTED":
            if self._connected is not None and not self._connected.done():
                self._connected.set_result(headers)
        elif command == "ERROR":
            detail = body.decode(errors="replace").strip()
            self._fail(StompFailure(f"ERROR {headers.get('message', '')}: {detail[:300]}".strip(), "error"))

    def _fail(self, failure):
        if self.failure is None:
            self.failure = failure
            self.failed_at = time.perf_counter()
        self._stop_beats()
        waiters = [self._connected, *self._receipts.values(), *self._replies.values()]
        self._receipts.clear()
        self._replies.clear()
        for waiter in waiters:
            if waiter is not None and not waiter.done():
                waiter.set_exception(self.failure)
