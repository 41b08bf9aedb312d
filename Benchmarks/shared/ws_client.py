"""A small WebSocket client (RFC 6455) for the benchmarks' thousands of browser tabs.

Written for the project from the RFC, standard library only: an asyncio.Protocol, so it runs on
asyncio's loop and on uvloop, with no task, future or await per message. What it does:

- the client handshake: GET with Upgrade: websocket, a random Sec-WebSocket-Key, version 13 and
  the subprotocol asked for (v12.stomp for Web-STOMP); the answer must be 101 with the right
  Sec-WebSocket-Accept, that subprotocol and no extension;
- masked frames out (a fresh 4-byte key per frame; the XOR is one big-integer operation on the
  whole payload, not a loop over its bytes), unmasked frames in: text and binary messages, also
  in fragments (continuation frames), ping answered with pong, close answered with close;
- limits: a frame or message over `max_size` (1 MiB) fails the connection with close code 1009,
  the handshake answer may take 16 KiB, and the bytes queued to send at most `max_write_buffer`;
- every wait (TCP connect and handshake, the closing handshake) has a timeout.

Text payloads are handed over as bytes and not checked for valid UTF-8: the STOMP layer decodes
what it reads. What is written while received data is processed (ACKs) goes out in one write at
the end of it. No TLS (wss:), no extensions (no compression): the benchmarks need neither.
"""

import asyncio
import base64
import hashlib
import os
import struct
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
MAX_SIZE = 1 << 20  # largest frame or message accepted
MAX_HANDSHAKE = 16 << 10  # largest handshake answer accepted
MAX_WRITE_BUFFER = 4 << 20  # most bytes waiting to be sent before the connection fails

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_CONTROL = (CLOSE, PING, PONG)


class WebSocketError(Exception):
    """The handshake was refused, the peer broke the protocol, a limit was passed or a wait ran
    out; the message says which. `code` is the close code sent for it, when one was."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


# ---- the handshake ----

def new_key():
    """A Sec-WebSocket-Key: 16 random bytes in base64."""
    return base64.b64encode(os.urandom(16)).decode()


def accept_value(key):
    """The Sec-WebSocket-Accept a server must answer `key` with: base64(SHA-1(key + GUID))."""
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def handshake_request(host, path, key, subprotocol=None):
    """The opening GET as bytes; `host` is the Host header (name[:port])."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if subprotocol:
        lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def check_handshake(head, key, subprotocol=None):
    """Raises WebSocketError unless `head` (the answer up to its blank line, as bytes) accepts
    the upgrade asked with `key` and `subprotocol`; returns the headers (names lower case)."""
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ", 2)
    if len(status) < 2 or not status[0].startswith("HTTP/"):
        raise WebSocketError(f"handshake: not an HTTP answer: {lines[0][:100]!r}")
    if status[1] != "101":
        raise WebSocketError(f"handshake: HTTP {' '.join(status[1:])[:100]} instead of 101")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            continue
        name, value = name.strip().lower(), value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    if headers.get("upgrade", "").lower() != "websocket":
        raise WebSocketError(f"handshake: Upgrade is {headers.get('upgrade')!r}, not websocket")
    if "upgrade" not in (token.strip().lower() for token in headers.get("connection", "").split(",")):
        raise WebSocketError(f"handshake: Connection is {headers.get('connection')!r}, not Upgrade")
    if headers.get("sec-websocket-accept") != accept_value(key):
        raise WebSocketError("handshake: wrong Sec-WebSocket-Accept")
    if subprotocol is not None and headers.get("sec-websocket-protocol") != subprotocol:
        raise WebSocketError(f"handshake: subprotocol {headers.get('sec-websocket-protocol')!r}, not {subprotocol}")
    if headers.get("sec-websocket-extensions"):
        raise WebSocketError(f"handshake: extensions not asked for: {headers['sec-websocket-extensions']}")
    return headers


# ---- frames ----

_keys = [b"", 0]  # a pool of random bytes and the next unused one: one getrandom call per 1,024 keys


def new_mask_key():
    """A fresh 4-byte masking key, from the operating system's random source (os.urandom)."""
    pool, at = _keys
    if at >= len(pool):
        pool, at = os.urandom(4096), 0
    _keys[0], _keys[1] = pool, at + 4
    return pool[at : at + 4]


def mask(payload, key):
    """`payload` XOR the 4-byte `key` repeated (masking and unmasking are the same)."""
    size = len(payload)
    if size == 0:
        return b""
    keys = (key * ((size + 3) // 4))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(keys, "little")).to_bytes(size, "little")


def encode_frame(opcode, payload=b"", mask_key=None, fin=True):
    """One frame as bytes: masked with `mask_key` (4 bytes, as a client must), or not (None: as
    a server sends, for tests)."""
    size = len(payload)
    first = (0x80 if fin else 0) | opcode
    flag = 0x80 if mask_key is not None else 0
    if size < 126:
        head = struct.pack("!BB", first, flag | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", first, flag | 126, size)
    else:
        head = struct.pack("!BBQ", first, flag | 127, size)
    if mask_key is None:
        return head + payload
    return head + mask_key + mask(payload, mask_key)


def close_payload(code, reason=""):
    """A close frame's payload: the code (2 bytes) and a UTF-8 reason cut to fit 125 bytes."""
    return struct.pack("!H", code) + reason.encode()[:123]


def parse_close(payload):
    """(code, reason) of a close frame's payload; 1005 (none given) when it is empty."""
    if len(payload) == 0:
        return 1005, ""
    if len(payload) == 1:
        raise WebSocketError("a close frame with a 1-byte payload", 1002)
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode(errors="replace")


class FrameDecoder:
    """Splits received bytes into frames (fin, opcode, payload), unmasked, checked and bounded:
    no frame over `max_size`, and at most one unfinished frame kept."""

    def __init__(self, max_size=MAX_SIZE):
        self.max_size = max_size
        self.rest = bytearray()  # the start of an unfinished frame
        self.need = 0  # bytes the rest must reach before another look

    def feed(self, data):
        """Adds bytes; returns every complete frame in them. Raises WebSocketError (with the
        close code to send) on a broken or oversize frame."""
        if self.rest:
            self.rest += data
            if len(self.rest) < self.need:
                return []
            data = bytes(self.rest)
            self.rest = bytearray()
        frames = []
        pos, end = 0, len(data)
        while end - pos >= 2:
            first, second = data[pos], data[pos + 1]
            size = second & 0x7F
            head = 2
            if size == 126:
                head = 4
                if end - pos < head:
                    self.need = head
                    break
                size = (data[pos + 2] << 8) | data[pos + 3]
            elif size == 127:
                head = 10
                if end - pos < head:
                    self.need = head
                    break
                size = int.from_bytes(data[pos + 2 : pos + 10], "big")
            opcode = first & 0x0F
            if first & 0x70:
                raise WebSocketError("a frame with reserved bits set (no extension was agreed)", 1002)
            if opcode >= 0x8:
                if opcode not in _CONTROL:
                    raise WebSocketError(f"a frame of unknown opcode {opcode:#x}", 1002)
                if size > 125 or not first & 0x80:
                    raise WebSocketError("a control frame over 125 bytes or in fragments", 1002)
            elif opcode not in (CONTINUATION, TEXT, BINARY):
                raise WebSocketError(f"a frame of unknown opcode {opcode:#x}", 1002)
            if size > self.max_size:
                raise WebSocketError(f"a frame of {size} bytes, over the limit of {self.max_size}", 1009)
            masked = second & 0x80
            if masked:
                head += 4
            stop = pos + head + size
            if stop > end:
                self.need = stop - pos
                break
            payload = data[pos + head : stop]
            if masked:
                payload = mask(payload, data[pos + head - 4 : pos + head])
            frames.append((first & 0x80, opcode, payload))
            pos = stop
        else:
            self.need = 2
        if pos < end:
            self.rest = bytearray(data[pos:])
        return frames


# ---- the connection ----

class WebSocket(asyncio.Protocol):
    """One client connection. `on_message(payload bytes)` is called for each whole text or binary
    message, from data_received; `on_close(reason)` once when the connection ends, for whatever
    cause (a close frame, the socket, a broken frame, a limit). Open one with connect()."""

    def __init__(self, key, subprotocol, on_message, on_close, max_size=MAX_SIZE, max_write_buffer=MAX_WRITE_BUFFER):
        self.key = key
        self.subprotocol = subprotocol
        self.on_message = on_message
        self.on_close = on_close
        self.max_size = max_size
        self.max_write_buffer = max_write_buffer
        self.transport = None
        self.opened = asyncio.get_running_loop().create_future()  # the handshake's outcome
        self.ended = asyncio.get_running_loop().create_future()  # set once the socket is gone
        self.close_code = None  # the peer's close code, when it sent one
        self.close_reason = ""
        self.error = None  # why the connection ended, when not by a clean closing handshake
        self._head = bytearray()
        self._decoder = FrameDecoder(max_size)
        self._fragments = None  # the payloads of a message in fragments so far
        self._fragments_size = 0
        self._closing = False  # a close frame was sent
        self._held = None  # writes held while received data is processed: sent in one go after
        self._told = False

    # -- asyncio.Protocol --

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if not self.opened.done():
            data = self._handshake(data)
            if not data:
                return
        self._held = []
        try:
            for fin, opcode, payload in self._decoder.feed(data):
                self._frame(fin, opcode, payload)
        except WebSocketError as error:
            self._fail(error)
        finally:
            held, self._held = self._held, None
            if held and self.transport is not None and not self.transport.is_closing():
                self.transport.write(b"".join(held))

    def connection_lost(self, exc):
        if not self.opened.done():
            self._settle_opened(WebSocketError(f"the socket closed during the handshake{f': {exc}' if exc else ''}"))
        if self.error is None and self.close_code is None:
            self.error = WebSocketError(f"the socket closed without a closing handshake{f': {exc}' if exc else ''}")
        if not self.ended.done():
            self.ended.set_result(None)
        self._tell()

    def pause_writing(self):
        pass  # the write buffer is bounded in send() instead

    def resume_writing(self):
        pass

    # -- sending --

    def send(self, data, opcode=TEXT):
        """Sends one message (bytes, or str as UTF-8), masked. Raises WebSocketError once the
        connection is closing or its write buffer is over the limit."""
        if self.transport is None or self.transport.is_closing() or self._closing:
            raise WebSocketError("the connection is closed")
        if isinstance(data, str):
            data = data.encode()
        self._write(encode_frame(opcode, data, new_mask_key()))

    def _write(self, frame):
        if self._held is not None:
            self._held.append(frame)
            return
        if self.transport.get_write_buffer_size() > self.max_write_buffer:
            self._fail(WebSocketError(f"over {self.max_write_buffer} bytes wait to be sent: the peer does not read"))
            raise self.error
        self.transport.write(frame)

    async def close(self, code=1000, reason="", timeout=2.0):
        """The closing handshake: a close frame, then the peer's close and the end of the socket,
        waited for `timeout` s at most; the socket is then dropped."""
        if self.transport is None:
            return
        if not self._closing and not self.transport.is_closing():
            self._closing = True
            self.transport.write(encode_frame(CLOSE, close_payload(code, reason), new_mask_key()))
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(self.ended)
        except TimeoutError:
            self.abort()

    def abort(self):
        """Drops the socket at once."""
        if self.transport is not None:
            self.transport.abort()

    # -- receiving --

    def _handshake(self, data):
        """Collects the handshake answer; returns the bytes after it (frames already), or None."""
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) > MAX_HANDSHAKE:
                self._fail_handshake(WebSocketError(f"handshake: no end of the answer in {MAX_HANDSHAKE} bytes"))
            return None
        try:
            check_handshake(bytes(self._head[:end]), self.key, self.subprotocol)
        except WebSocketError as error:
            self._fail_handshake(error)
            return None
        rest = bytes(self._head[end + 4 :])
        self._head = None
        self.opened.set_result(None)
        return rest

    def _fail_handshake(self, error):
        self.error = error
        self._settle_opened(error)
        self.transport.abort()

    def _settle_opened(self, error):
        """Fails the handshake's future; marked as seen, so nobody is told of it when connect()
        stopped waiting (its timeout) before it failed."""
        if not self.opened.done():
            self.opened.set_exception(error)
            self.opened.exception()

    def _frame(self, fin, opcode, payload):
        if opcode == TEXT or opcode == BINARY:
            if self._fragments is not None:
                raise WebSocketError("a new message before the last one's fragments ended", 1002)
            if fin:
                if not self._closing:
                    self.on_message(payload)
                return
            self._fragments, self._fragments_size = [payload], len(payload)
        elif opcode == CONTINUATION:
            if self._fragments is None:
                raise WebSocketError("a continuation frame with no message to continue", 1002)
            self._fragments_size += len(payload)
            if self._fragments_size > self.max_size:
                raise WebSocketError(f"a message of over {self.max_size} bytes", 1009)
            self._fragments.append(payload)
            if fin:
                message, self._fragments = b"".join(self._fragments), None
                if not self._closing:
                    self.on_message(message)
        elif opcode == PING:
            if not self._closing:
                self._write(encode_frame(PONG, payload, new_mask_key()))
        elif opcode == CLOSE:
            self.close_code, self.close_reason = parse_close(payload)
            if not self._closing:  # the peer began: answer with its code, then it drops the socket
                self._closing = True
                echo = b"" if self.close_code == 1005 else struct.pack("!H", self.close_code)
                self._write(encode_frame(CLOSE, echo, new_mask_key()))
                asyncio.get_running_loop().call_later(2.0, self.abort)  # in case it does not
            else:  # our close was answered: the closing handshake is done
                self.transport.close()
            self._tell()
        # PONG: nothing was pinged; ignored, as RFC 6455 allows

    def _fail(self, error):
        """Ends the connection for `error`: a close frame with its code when it has one, then the
        socket goes."""
        if self.error is None:
            self.error = error
        if self.transport is not None and not self.transport.is_closing():
            if error.code is not None and not self._closing:
                self._closing = True
                self.transport.write(encode_frame(CLOSE, close_payload(error.code, str(error)), new_mask_key()))
            self.transport.close()
            asyncio.get_running_loop().call_later(2.0, self.abort)  # when the peer reads nothing more
        self._tell()

    def _tell(self):
        if not self._told and self.opened.done() and not self.opened.cancelled() and self.opened.exception() is None:
            self._told = True
            self.on_close(self.reason())

    def reason(self):
        """Why the connection ended, in words."""
        if self.error is not None:
            return str(self.error)
        if self.close_code is not None:
            return f"the peer closed the connection ({self.close_code}{' ' + self.close_reason if self.close_reason else ''})"
        return "the connection closed"


def parse_url(url):
    """(host, port, Host header, path) of a ws:// URL; wss: is not supported."""
    parts = urlsplit(url)
    if parts.scheme != "ws":
        raise WebSocketError(f"only ws:// URLs are supported, not {url!r}")
    if not parts.hostname:
        raise WebSocketError(f"no host in {url!r}")
    port = parts.port or 80
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    header = host if port == 80 else f"{host}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, port, header, path


async def connect(url, on_message, on_close, subprotocol=None, timeout=10.0, max_size=MAX_SIZE,
                  max_write_buffer=MAX_WRITE_BUFFER):
    """Opens a WebSocket to `url` (TCP connect and handshake within `timeout` s) and returns it.
    Raises WebSocketError (or TimeoutError, OSError for the TCP connect)."""
    host, port, header, path = parse_url(url)
    key = new_key()
    loop = asyncio.get_running_loop()
    socket = None
    try:
        async with asyncio.timeout(timeout):
            _, socket = await loop.create_connection(
                lambda: WebSocket(key, subprotocol, on_message, on_close, max_size, max_write_buffer), host, port)
            socket.transport.write(handshake_request(header, path, key, subprotocol))
            await socket.opened
    except BaseException:
        if socket is not None:
            socket.abort()
        raise
    return socket
