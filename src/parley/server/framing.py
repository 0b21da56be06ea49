"""Reading and writing frames: LSP-style Content-Length headers, or one JSON object per line.

The framing is detected from the first byte the host sends (`C`/`c` -> headers, `{` -> NDJSON)
and replies use the same framing. Header names are case-insensitive, LF-only line ends are
accepted, and `Content-Length` counts bytes. A broken frame is reported and skipped; the reader
resynchronises on the next header or line instead of dropping the rest of the stream.
"""

from __future__ import annotations

import asyncio
import enum
import re

import attrs

# NDJSON lines and header blocks may be large (tool output, images): no 1 MiB cap here.
MAX_FRAME_BYTES = 256 * 1024 * 1024
_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:", re.IGNORECASE)


class Framing(enum.Enum):
    HEADERS = "content-length"
    NDJSON = "ndjson"


@attrs.frozen
class FrameError:
    """A frame that could not be read; the reader has already skipped past it."""

    message: str


Frame = bytes | FrameError


def encode(body: bytes, framing: Framing) -> bytes:
    if framing is Framing.NDJSON:
        return body + b"\n"
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


class FrameReader:
    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader
        self.framing: Framing | None = None
        self._pushback = b""  # the byte read to detect the framing

    async def detect(self) -> Framing | None:
        """Wait for the first non-blank byte; None if the stream ends first."""
        while True:
            head = await self._reader.read(1)
            if not head:
                return None
            if not head.isspace():
                break
        self._pushback = head
        self.framing = Framing.NDJSON if head in (b"{", b"[") else Framing.HEADERS
        return self.framing

    async def _readline(self) -> bytes:
        try:
            line = await self._reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            line = exc.partial
        except asyncio.LimitOverrunError as exc:
            # Drop the oversized line and report it; do not die.
            await self._reader.readexactly(exc.consumed)
            raise _Oversized from None
        if self._pushback:
            line, self._pushback = self._pushback + line, b""
        return line

    async def read(self) -> Frame | None:
        """The next frame body, a FrameError, or None at end of stream."""
        try:
            if self.framing is Framing.NDJSON:
                return await self._read_line_frame()
            return await self._read_header_frame()
        except _Oversized:
            return FrameError(f"frame larger than {MAX_FRAME_BYTES} bytes skipped")

    async def _read_line_frame(self) -> Frame | None:
        while True:
            line = await self._readline()
            if not line:
                return None
            if line.strip():
                return line.strip()

    async def _read_header_frame(self) -> Frame | None:
        length: int | None = None
        problem = ""
        seen_header = False
        while True:
            line = await self._readline()
            if not line:
                return FrameError("stream ended inside a header block") if seen_header else None
            stripped = line.strip()
            if not stripped:
                if seen_header:
                    break
                continue  # blank lines between frames are harmless
            if not seen_header and not _CONTENT_LENGTH.match(stripped):
                # Garbage where a header should start: resync on a header later in the line.
                found = _CONTENT_LENGTH.search(stripped)
                if found is None:
                    return FrameError("expected a Content-Length header; skipped a line")
                stripped = stripped[found.start() :]
                problem = "skipped bytes before a Content-Length header"
            seen_header = True
            name, sep, value = stripped.partition(b":")
            if not sep:
                problem = f"malformed header line {stripped[:40]!r}"
                continue
            if name.strip().lower() == b"content-length":
                try:
                    length = int(value.strip())
                    if length < 0:
                        raise ValueError
                except ValueError:
                    problem = f"invalid Content-Length {value.strip()[:20]!r}"
                    length = None
        if length is None:
            return FrameError(problem or "header block without Content-Length")
        if length > MAX_FRAME_BYTES:
            await self._discard(length)
            return FrameError(f"frame of {length} bytes is larger than {MAX_FRAME_BYTES}")
        try:
            body = await self._reader.readexactly(length)
        except asyncio.IncompleteReadError:
            return FrameError(f"stream ended {length} bytes into a frame body")
        return FrameError(problem) if problem and not body else body

    async def _discard(self, n: int) -> None:
        while n > 0:
            chunk = await self._reader.read(min(n, 1 << 20))
            if not chunk:
                return
            n -= len(chunk)


class _Oversized(Exception):
    pass
