#!/usr/bin/env python3
"""Checks the broker's AMQP-over-TLS listener: the handshake verifies against the test CA (for
127.0.0.1 and for localhost) and the AMQP protocol header gets connection.start back.

Reads WARREN_AMQPS_URL and WARREN_TLS_CA_FILE (scripts/broker env prints both when
WARREN_AMQPS_PORT is set). Exits non-zero with a message when anything is off.
"""
import os
import socket
import ssl
import struct
import sys
from urllib.parse import urlsplit


def connection_start(host, port, server_name, ca_file):
    context = ssl.create_default_context(cafile=ca_file)
    with socket.create_connection((host, port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as tls:
            tls.sendall(b"AMQP\x00\x00\x09\x01")
            data = b""
            while len(data) < 7 or len(data) < 8 + struct.unpack(">I", data[3:7])[0]:
                chunk = tls.recv(4096)
                if not chunk:
                    raise RuntimeError(f"the broker closed the connection after {len(data)} bytes")
                data += chunk
            kind, channel, size = struct.unpack(">BHI", data[:7])
            class_id, method_id = struct.unpack(">HH", data[7:11])
            if (kind, channel, class_id, method_id, data[7 + size]) != (1, 0, 10, 10, 0xCE):
                raise RuntimeError(f"not a connection.start frame: {data[:16]!r}")
            return tls.version()


def main():
    url = os.environ.get("WARREN_AMQPS_URL")
    ca_file = os.environ.get("WARREN_TLS_CA_FILE")
    if not url or not ca_file:
        print("check_amqps: WARREN_AMQPS_URL and WARREN_TLS_CA_FILE must be set", file=sys.stderr)
        return 1
    parts = urlsplit(url)
    if parts.scheme != "amqps":
        print(f"check_amqps: not an amqps URL: {parts.scheme}://...", file=sys.stderr)
        return 1
    host, port = parts.hostname, parts.port or 5671
    for name in ("127.0.0.1", "localhost"):
        try:
            version = connection_start(host, port, name, ca_file)
        except (OSError, ssl.SSLError, RuntimeError) as error:
            print(f"check_amqps: {host}:{port} as {name}: {error}", file=sys.stderr)
            return 1
        print(f"AMQP over TLS on {host}:{port}: {version}, certificate valid for {name}, connection.start received")
    return 0


if __name__ == "__main__":
    sys.exit(main())
