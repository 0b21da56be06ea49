"""uvicorn's httptools protocol with the limits it lacks. A client must finish a request's
headers within `header_timeout` of connecting (or of starting the request), and the headers
may not pass MAX_HEADER_BYTES; otherwise it gets a 408 or 431 and the connection is closed. A
client that connects and sends nothing, or drips its headers, holds nothing for long."""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from parley.doors.http.raw import error_body

MAX_HEADER_BYTES = 64 * 1024
_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class _Refused(Exception):
    """Stops the parser once a refusal has been written."""


def limited_protocol(header_timeout: float) -> type[HttpToolsProtocol]:
    class LimitedProtocol(HttpToolsProtocol):
        _timer: asyncio.TimerHandle | None = None
        _header_bytes = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._header_bytes = 0
            self._arm()

        def on_header(self, name: bytes, value: bytes) -> None:
            self._header_bytes += len(name) + len(value) + 4
            if self._header_bytes > MAX_HEADER_BYTES:
                self._refuse(431, f"request headers over {MAX_HEADER_BYTES} bytes")
                raise _Refused
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def _arm(self) -> None:
            self._disarm()
            self._timer = self.loop.call_later(header_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _too_slow(self) -> None:
            self._timer = None
            self._refuse(408, f"the request's headers did not arrive within {header_timeout} s")

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
            self.transport.close()

    return LimitedProtocol
