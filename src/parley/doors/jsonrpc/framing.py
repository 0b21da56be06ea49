"""Reading and writing frames: LSP-style Content-Length headers, or one JSON object per line.

The framing is detected from the first line the host sends (`Content-Length` -> headers, `{` or
`[` -> NDJSON; a UTF-8 byte order mark is ignored; a line that is neither is reported and skipped
until one is) and replies use the same framing. Header names are case-insensitive, LF-only line
ends are accepted, and `Content-Length` counts bytes. A broken frame is reported and skipped; the
parser resynchronises on the next header or line instead of dropping the rest of the stream. A
Content-Length beyond any frame the server takes cannot be skipped safely (the bytes after it may
be anything), so it is reported and ends the stream.

`FrameParser` does no I/O: it is fed whatever bytes arrived and hands back every complete frame
in them, so a burst of pipelined requests costs one read, not two awaits per frame.
"""

from __future__ import annotations

import collections
import enum
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:  # kept off the import path: the handshake answers before asyncio loads
    import asyncio

# NDJSON lines and header blocks may be large (tool output, images): no 1 MiB cap here.
MAX_FRAME_BYTES = 256 * 1024 * 1024
READ_CHUNK = 1 << 16
_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:", re.IGNORECASE)
# The header block nearly every host sends, taken in one step; anything else goes line by line.
_PLAIN_HEADER = re.compile(rb"Content-Length: ([0-9]{1,12})\r\n\r\n")
_BOM = b"\xef\xbb\xbf"
_BLANK = b" \t\r\n"


class Framing(enum.Enum):
    HEADERS = "content-length"
    NDJSON = "ndjson"


@attrs.frozen
class FrameError:
    """A frame that could not be read; the parser has already skipped past it."""

    message: str


Frame = bytes | FrameError


def encode(body: bytes, framing: Framing) -> bytes:
    if framing is Framing.NDJSON:
        return body + b"\n"
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


class FrameParser:
    """Frames out of a byte stream fed in arbitrary pieces."""

    def __init__(self, framing: Framing | None = None, max_frame: int = MAX_FRAME_BYTES) -> None:
        self.framing = framing
        self._max = max_frame
        self._buf = bytearray()
        self._pos = 0  # start of the unparsed bytes in _buf (compacted after each feed)
        self._scanned = 0  # _buf[_pos:_scanned] holds no line end (long lines stay linear)
        self._skip_line = False  # dropping the rest of an oversized line
        self._body: int | None = None  # length of the body being waited for
        self.broken = False  # a frame length nobody can skip: nothing after it can be trusted
        self._reset_headers()

    def _oversized(self) -> FrameError:
        return FrameError(f"frame larger than {self._max} bytes skipped")

    def _reset_headers(self) -> None:
        self._length: int | None = None
        self._problem = ""
        self._seen_header = False

    def feed(self, data: bytes) -> list[Frame]:
        if self.broken:
            return []
        self._buf += data
        frames: list[Frame] = []
        if self.framing is None and not self._detect(frames):
            del self._buf[: self._pos]
            self._scanned = max(0, self._scanned - self._pos)
            self._pos = 0
            return frames
        if self.framing is Framing.NDJSON:
            self._lines(frames)
        else:
            self._header_frames(frames)
        del self._buf[: self._pos]
        self._scanned = max(0, self._scanned - self._pos)
        self._pos = 0
        return frames

    def _detect(self, frames: list[Frame]) -> bool:
        """Decide the framing from the first line that starts like a frame; report the lines
        before it. False while no such line has arrived."""
        while True:
            if not self._skip_line:
                start = self._pos
                if self._buf.startswith(_BOM, start):
                    start += len(_BOM)
                while start < len(self._buf) and self._buf[start] in _BLANK:
                    start += 1
                self._pos = self._scanned = start
                if start == len(self._buf):
                    return False
                first = self._buf[start]
                if first in b"{[":
                    self.framing = Framing.NDJSON
                    return True
                if first in b"Cc":
                    self.framing = Framing.HEADERS
                    return True
            try:
                line = self._line()
            except _Oversized:
                frames.append(self._oversized())
                continue
            if line is None:
                return False
            frames.append(
                FrameError(
                    f"expected a JSON message or a Content-Length header; skipped {line[:40]!r}"
                )
            )

    def end(self) -> list[Frame]:
        """The stream ended: whatever is left is a last line or an incomplete frame."""
        if self.broken:
            return []
        rest, self._buf, self._pos = bytes(self._buf[self._pos :]), bytearray(), 0
        if self.framing is None:
            line = rest.strip()
            return (
                [FrameError(f"expected a JSON message; the stream ended with {line[:40]!r}")]
                if line
                else []
            )
        if self._skip_line:
            return [self._oversized()]
        if self.framing is Framing.NDJSON:
            line = rest.strip()
            return [line] if line else []
        if self._body is not None:
            return [FrameError(f"stream ended inside a frame body of {self._body} bytes")]
        if self._seen_header or rest.strip():
            return [FrameError("stream ended inside a header block")]
        return []

    def _line(self) -> bytes | None:
        """The next complete line (without its LF), or None; drops an oversized one."""
        end = self._buf.find(b"\n", max(self._pos, self._scanned))
        if end < 0:
            self._scanned = len(self._buf)
            if self._scanned - self._pos > self._max:
                self._skip_line = True
                self._pos = self._scanned = len(self._buf)
            return None
        start, self._pos = self._pos, end + 1
        self._scanned = self._pos
        if self._skip_line or end - start > self._max:
            self._skip_line = False
            raise _Oversized
        return bytes(self._buf[start:end])

    def _lines(self, frames: list[Frame]) -> None:
        while True:
            try:
                line = self._line()
            except _Oversized:
                frames.append(self._oversized())
                continue
            if line is None:
                return
            line = line.strip()
            if line:
                frames.append(line)

    def _header_frames(self, frames: list[Frame]) -> None:
        while True:
            if self.broken:
                return
            if self._body is not None:
                if len(self._buf) - self._pos < self._body:
                    return
                body = bytes(self._buf[self._pos : self._pos + self._body])
                self._pos += self._body
                self._body = None
                frames.append(FrameError(self._problem) if self._problem and not body else body)
                self._reset_headers()
                continue
            plain = None
            if not (self._seen_header or self._skip_line):
                plain = _PLAIN_HEADER.match(self._buf, self._pos)
            if plain:
                self._pos = self._scanned = plain.end()
                self._seen_header = True
                self._length = int(plain[1])
                error = self._header_line(b"")  # the block's blank line
            else:
                try:
                    line = self._line()
                except _Oversized:
                    frames.append(self._oversized())
                    self._reset_headers()
                    continue
                if line is None:
                    return
                error = self._header_line(line.strip())
            if error is not None:
                frames.append(error)
                self._reset_headers()

    def _header_line(self, line: bytes) -> FrameError | None:
        """Take one header line; an error ends the frame, a blank line may start the body."""
        if not line:
            if not self._seen_header:
                return None  # blank lines between frames are harmless
            if self._length is None:
                return FrameError(self._problem or "header block without Content-Length")
            if self._length > self._max:
                self.broken = True
                self._buf.clear()
                self._pos = self._scanned = 0
                return FrameError(
                    f"frame of {self._length} bytes is larger than {self._max}; the stream "
                    "cannot be read past it, so the connection is closed"
                )
            self._body = self._length
            return None
        if not self._seen_header and not _CONTENT_LENGTH.match(line):
            # Garbage where a header should start: resync on a header later in the line.
            found = _CONTENT_LENGTH.search(line)
            if found is None:
                return FrameError("expected a Content-Length header; skipped a line")
            line = line[found.start() :]
            self._problem = "skipped bytes before a Content-Length header"
        self._seen_header = True
        name, sep, value = line.partition(b":")
        if not sep:
            self._problem = f"malformed header line {line[:40]!r}"
        elif name.strip().lower() == b"content-length":
            try:
                self._length = int(value.strip())
                if self._length < 0:
                    raise ValueError
            except ValueError:
                self._problem = f"invalid Content-Length {value.strip()[:20]!r}"
                self._length = None
        return None


class _Oversized(Exception):
    pass


class FrameReader:
    """Frames from an asyncio stream, read in chunks. `parser` and `ready` carry on from bytes
    read before the stream was opened (see doors/stdio/handshake.py)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        framing: Framing | None = None,
        parser: FrameParser | None = None,
        ready: Iterable[Frame] = (),
    ) -> None:
        self._reader = reader
        self._parser = parser or FrameParser(framing)
        self._ready: collections.deque[Frame] = collections.deque(ready)
        self._eof = False

    @property
    def framing(self) -> Framing | None:
        return self._parser.framing

    async def detect(self) -> Framing | None:
        """Wait for the first non-blank byte; None if the stream ends first."""
        while self._parser.framing is None:
            if not await self._fill():
                return None
        return self._parser.framing

    async def read(self) -> Frame | None:
        """The next frame body, a FrameError, or None at end of stream (or once the stream
        broke: nothing after a frame length that cannot be skipped is read)."""
        while not self._ready:
            if self._parser.broken or not await self._fill():
                return None
        return self._ready.popleft()

    async def _fill(self) -> bool:
        """Read once more; False when the stream has ended and nothing more will come."""
        if self._eof:
            return False
        chunk = await self._reader.read(READ_CHUNK)
        if chunk:
            self._ready.extend(self._parser.feed(chunk))
        else:
            self._eof = True
            self._ready.extend(self._parser.end())
        return True
