"""A small STOMP 1.2 client over WebSocket for the benchmarks, frames written by hand.

Shared by Benchmarks/auth (auth_bench.py) and Benchmarks/tabs (tabs_bench.py), which put this
folder on sys.path. Only what the page does (web/stomp*.js): CONNECT with login, passcode and
heart-beats, SEND with a receipt, a request with `reply-to: /temp-queue/NAME` and a
`correlation-id` (the reply arrives without a SUBSCRIBE), SUBSCRIBE with `ack: client-individual`
and a prefetch, ACK, DISCONNECT. Every wait has a timeout; a refused frame (an ERROR, or
Web-STOMP closing the socket) fails every wait.
"""

import asyncio
import inspect
import time

try:
    from websockets.asyncio.client import connect as ws_connect
    from websockets.exceptions import ConnectionClosed
    from websockets.typing import Subprotocol
except ImportError:  # the frame code and its unit tests need only the standard library
    ws_connect = None

    class ConnectionClosed(Exception):
        """Stands in for websockets' exception when the package is not installed."""

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
    if not any(c in value for c in "\\:\n\r"):  # the common case, thousands of times a second
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
    """Splits received bytes into frames (command, headers, body bytes); heart-beats are skipped."""

    def __init__(self, max_bytes=1 << 20):
        self.data = bytearray()
        self.max_bytes = max_bytes

    def feed(self, chunk):
        """Adds bytes and returns every complete frame in them."""
        self.data += chunk
        if len(self.data) > self.max_bytes:
            raise StompFailure(f"more than {self.max_bytes} bytes without a complete frame")
        frames = []
        while True:
            frame = self._next()
            if frame is None:
                return frames
            frames.append(frame)

    def _next(self):
        start = 0
        while start < len(self.data) and self.data[start] in (0x0A, 0x0D):
            start += 1
        del self.data[:start]
        end_of_headers = self.data.find(b"\n\n")
        if end_of_headers < 0:
            return None
        head = self.data[:end_of_headers].decode().replace("\r\n", "\n").split("\n")
        command, headers = head[0].rstrip("\r"), {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(unescape(name), unescape(value))  # the first of a repeated header wins
        body_start = end_of_headers + 2
        if "content-length" in headers:
            body_end = body_start + int(headers["content-length"])
            if len(self.data) < body_end + 1:
                return None
        else:
            body_end = self.data.find(b"\0", body_start)
            if body_end < 0:
                return None
        body = bytes(self.data[body_start:body_end])
        del self.data[: body_end + 1]
        return command, headers, body


class StompClient:
    """One STOMP connection over WebSocket; call the coroutines from one event loop."""

    def __init__(self, url, timeout=10.0):
        self.url = url
        self.timeout = timeout
        self.ws = None
        self.on_message = None  # called with (headers, body bytes) for subscription messages
        self.failure = None
        self.failed_at = None
        self._reader = None
        self._connected = None
        self._receipts = {}
        self._replies = {}
        self._seq = 0
        self._buffer = FrameBuffer()
        self._beat = None
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
        if ws_connect is None:
            raise StompFailure("the websockets package is missing (scripts/bench-auth and scripts/bench-tabs install it in a venv)")
        started = time.perf_counter()
        async with asyncio.timeout(self.timeout):
            self.ws = await ws_connect(
                self.url,
                subprotocols=[Subprotocol("v12.stomp")],
                compression=None,
                ping_interval=None,
                max_size=1 << 20,
                open_timeout=self.timeout,
                close_timeout=2,
            )
        opened = time.perf_counter()
        self._connected = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())
        headers = {"accept-version": "1.2", "host": host, "login": login, "passcode": passcode,
                   "heart-beat": f"{heartbeat[0]},{heartbeat[1]}"}
        await self._send("CONNECT", headers)
        connected = await self._wait(self._connected, "CONNECTED")
        done = time.perf_counter()
        self.heartbeat = negotiate_heartbeat(heartbeat, connected.get("heart-beat"))
        if self.heartbeat[0] > 0:
            self._beat = asyncio.create_task(self._send_beats(self.heartbeat[0] / 1000))
        return (opened - started) * 1000, (done - opened) * 1000

    async def send(self, destination, body, headers, wait_receipt=False):
        """SEND with a receipt, as the page does; waits for the RECEIPT only when asked."""
        receipt = self._next_id("send")
        waiter = asyncio.get_running_loop().create_future() if wait_receipt else None
        if waiter is not None:
            self._receipts[receipt] = waiter
        frame = {"destination": destination, **headers, "receipt": receipt}
        await self._send("SEND", frame, body)
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
        await self._send("SUBSCRIBE", headers)
        await self._wait(waiter, f"RECEIPT for SUBSCRIBE {destination}")

    async def ack(self, headers):
        """ACK a message from a client or client-individual subscription."""
        await self._send("ACK", {"id": headers["ack"]})

    async def close(self):
        """DISCONNECT with a receipt (waited for at most 2 s), then close the socket."""
        if self.ws is None:
            return
        try:
            if self.failure is None and self._connected is not None and self._connected.done():
                receipt = self._next_id("disconnect")
                waiter = asyncio.get_running_loop().create_future()
                self._receipts[receipt] = waiter
                await self._send("DISCONNECT", {"receipt": receipt})
                async with asyncio.timeout(2):
                    await waiter
        except (StompFailure, TimeoutError, ConnectionClosed):
            pass
        finally:
            if self._beat is not None:
                self._beat.cancel()
            await self.ws.close()
            if self._reader is not None:
                self._reader.cancel()
                try:
                    await self._reader
                except (asyncio.CancelledError, StompFailure):
                    pass

    async def _send(self, command, headers, body=""):
        if self.failure is not None:
            raise self.failure
        try:
            await self.ws.send(encode_frame(command, headers, body).decode())
            self._last_sent = time.monotonic()
        except ConnectionClosed as closed:
            raise StompFailure(f"the socket closed before {command}: {closed}", "closed") from closed

    async def _send_beats(self, interval):
        """An EOL whenever nothing else went out for most of the interval, as the page does."""
        try:
            while self.failure is None:
                await asyncio.sleep(max(0.05, interval - (time.monotonic() - self._last_sent)))
                if time.monotonic() - self._last_sent >= interval * 0.9:
                    await self.ws.send("\n")
                    self._last_sent = time.monotonic()
        except ConnectionClosed:
            pass  # the reader reports the closed socket

    async def _wait(self, future, what):
        try:
            async with asyncio.timeout(self.timeout):
                return await future
        except TimeoutError:
            raise StompFailure(f"no {what} within {self.timeout:g} s", "timeout") from None

    async def _read(self):
        try:
            async for message in self.ws:
                chunk = message.encode() if isinstance(message, str) else message
                for command, headers, body in self._buffer.feed(chunk):
                    await self._dispatch(command, headers, body)
            self._fail(StompFailure(f"the broker closed the socket ({self.ws.close_code} {self.ws.close_reason})", "closed"))
        except ConnectionClosed as closed:
            self._fail(StompFailure(f"the socket closed: {closed}", "closed"))
        except StompFailure as failure:
            self._fail(failure)

    async def _dispatch(self, command, headers, body):
        if command == "CONNECTED":
            if not self._connected.done():
                self._connected.set_result(headers)
        elif command == "RECEIPT":
            self.receipts_seen += 1
            waiter = self._receipts.pop(headers.get("receipt-id"), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(headers)
        elif command == "MESSAGE":
            if headers.get("subscription", "").startswith("/temp-queue/"):
                waiter = self._replies.pop(headers.get("correlation-id"), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(body)
            elif self.on_message is not None:
                result = self.on_message(headers, body)  # a plain function or a coroutine function
                if inspect.isawaitable(result):
                    await result
        elif command == "ERROR":
            detail = body.decode(errors="replace").strip()
            self._fail(StompFailure(f"ERROR {headers.get('message', '')}: {detail[:300]}".strip(), "error"))

    def _fail(self, failure):
        if self.failure is None:
            self.failure = failure
            self.failed_at = time.perf_counter()
        waiters = [self._connected, *self._receipts.values(), *self._replies.values()]
        self._receipts.clear()
        self._replies.clear()
        for waiter in waiters:
            if waiter is not None and not waiter.done():
                waiter.set_exception(self.failure)
