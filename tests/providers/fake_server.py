"""A scripted HTTP server on 127.0.0.1 that stands in for a model provider.

Each request takes the next scripted `Reply` and is recorded (path, query, headers, JSON body)
so tests can assert on what the real SDK sent. Streams are written one SSE event per HTTP chunk,
and a reply can break off mid-stream, stall, or never answer.
"""

from __future__ import annotations

import collections
import json
import select
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs


@attrs.frozen
class Reply:
    status: int = 200
    events: tuple[bytes, ...] = ()  # SSE events, each sent as its own chunk
    body: Any = None  # JSON body for an error reply
    headers: dict[str, str] = attrs.field(factory=dict)
    cut_after: int | None = None  # drop the connection after this many events
    stall_after: int | None = None  # send this many events, then hold the stream open
    hang: bool = False  # accept the request and never answer


@attrs.frozen
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class FakeServer:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        """`tls`: serve HTTPS with this server-side context."""
        self.requests: list[Received] = []
        self.client_gone = threading.Event()  # a client hung up on a stream
        self._replies: collections.deque[Reply] = collections.deque()
        self._release = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._scheme = "http"
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
            self._scheme = "https"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}"

    @property
    def hostport(self) -> str:
        return self.url.split("://", 1)[1]

    def script(self, *replies: Reply) -> None:
        self._replies.extend(replies)

    def bodies(self) -> list[Any]:
        return [r.body for r in self.requests]

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def next_reply(self) -> Reply:
        if not self._replies:
            return Reply(500, body={"error": {"message": "the fake server has no reply left"}})
        return self._replies.popleft()


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            server.requests.append(
                Received(
                    "POST",
                    url.path,
                    parse_qs(url.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    json.loads(raw) if raw else None,
                )
            )
            reply = server.next_reply()
            if reply.hang:
                server._release.wait(30)
                self.close_connection = True
                return
            if reply.status != 200 or reply.body is not None:
                self._send_json(reply)
                return
            try:
                self._send_stream(reply)
            except (BrokenPipeError, ConnectionResetError):
                server.client_gone.set()  # the client hung up while we were still writing
                self.close_connection = True

        def _send_json(self, reply: Reply) -> None:
            data = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _send_stream(self, reply: Reply) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.send_header("cache-control", "no-cache")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            for index, event in enumerate(reply.events):
                if index == reply.cut_after:
                    self._drop()
                    return
                if index == reply.stall_after:
                    self._stall()
                    return
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _drop(self) -> None:
            """Close the socket mid-body, without the chunked terminator."""
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

        def _stall(self) -> None:
            """Hold the stream open until the client hangs up (or the test ends)."""
            self.wfile.flush()
            self.close_connection = True
            while not server._release.is_set():
                readable, _, _ = select.select([self.connection], [], [], 0.05)
                if readable and not self.connection.recv(1):
                    server.client_gone.set()
                    return

    return Handler


def sse(event: str | None, data: Any) -> bytes:
    head = f"event: {event}\n" if event else ""
    body = data if isinstance(data, str) else json.dumps(data)
    return f"{head}data: {body}\n\n".encode()


def pieces(text: str, size: int = 7) -> Iterator[str]:
    """Split text the way a model streams it: several small deltas."""
    for i in range(0, len(text), size):
        yield text[i : i + size]
