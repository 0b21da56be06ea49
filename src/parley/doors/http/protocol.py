"""uvicorn's httptools protocol with what it lacks.

- Slow clients: a client must finish a request's headers within `header_timeout` of
  connecting (or of starting the request), in at most MAX_HEADER_BYTES, and then its body
  within `body_timeout`; otherwise it gets a 408 (or 431) and the connection is closed. A
  client that connects and sends nothing, drips its headers or stalls its body holds nothing
  for long, and blocks no other request.
- A way for server-sent events to skip the ASGI `send` path: each request's scope carries a
  ChunkWriter (extension CHUNKS) that writes already-framed chunks of the response body
  straight to the connection. One event for a thousand subscribers is then framed once and
  written a thousand times, with no task switch per subscriber (sse.py).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from parley.doors.http.raw import error_body

MAX_HEADER_BYTES = 64 * 1024
CHUNKS = "parley.chunks"
_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


def chunk(data: bytes) -> bytes:
    """`data` framed as one chunk of a chunked response body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


class ChunkWriter:
    """Writes chunks of a streamed (chunked) response straight to its connection, after the
    app has sent the response's start through ASGI and before it sends the end."""

    __slots__ = ("_cycle", "_transport")

    def __init__(self, cycle: RequestResponseCycle) -> None:
        self._cycle = cycle
        self._transport = cycle.transport

    def usable(self) -> bool:
        """The response is started, chunked and open: chunks may be written."""
        cycle = self._cycle
        return bool(
            cycle.response_started
            and cycle.chunked_encoding
            and not cycle.response_complete
            and not cycle.disconnected
        )

    def write(self, framed: bytes, limit: int) -> bool | None:
        """Write a chunk (framed with chunk()). True: written; None: the client is gone;
        False: not written, the client has over `limit` bytes it has not read yet."""
        transport = self._transport
        if transport.is_closing():
            return None
        if transport.get_write_buffer_size() > limit:
            return False
        transport.write(framed)
        return True


def limited_protocol(header_timeout: float, body_timeout: float) -> type[HttpToolsProtocol]:
    class LimitedProtocol(HttpToolsProtocol):
        _timer: asyncio.TimerHandle | None = None
        _header_bytes = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(header_timeout, self._headers_too_slow)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._header_bytes = 0
            self._arm(header_timeout, self._headers_too_slow)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._header_bytes += len(name) + len(value) + 4
            if self._header_bytes > MAX_HEADER_BYTES:
                self._refuse(431, f"request headers over {MAX_HEADER_BYTES} bytes")
                raise _Refused
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()
            cycle = self.cycle
            if cycle is None or cycle.scope is not self.scope:
                return  # an upgrade, which the daemon does not serve
            extensions: dict[str, object] = self.scope.setdefault("extensions", {})  # type: ignore[assignment]
            extensions[CHUNKS] = ChunkWriter(cycle)
            if _has_body(self.headers):
                self._arm(body_timeout, self._body_too_slow)

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def _arm(self, seconds: float, then: object) -> None:
            self._disarm()
            self._timer = self.loop.call_later(seconds, then)  # type: ignore[arg-type]

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _headers_too_slow(self) -> None:
            self._timer = None
            self._refuse(408, f"the request's headers did not arrive within {header_timeout} s")

        def _body_too_slow(self) -> None:
            self._timer = None
            if self.cycle is not None and self.cycle.response_started:
                self.transport.close()  # too late for a status: just hang up
                return
            self._refuse(408, f"the request's body did not arrive within {body_timeout} s")

        def _refuse(self, status: int, message: str) -> None:
            if self.transport.is_closing():
                return
            code = "REQUEST_TIMEOUT" if status == 408 else "HEADERS_TOO_LARGE"
            body = error_body(code, message)
            head = b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n" % (
                status,
                _REASONS[status],
            )
            self.transport.write(
                head + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body
            )
            # The route reading the body (if any) sees the client gone once this closes.
            self.transport.close()

    return LimitedProtocol


class _Refused(Exception):
    """Stops the parser once a refusal has been written."""


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False
