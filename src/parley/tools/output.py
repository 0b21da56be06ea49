"""Keeping a bounded view of a command's output: its beginning and its end, or its end."""

from __future__ import annotations


class HeadTail:
    """The first and last `limit / 2` bytes of a stream, and how much fell between them."""

    def __init__(self, limit: int) -> None:
        self.half = max(limit // 2, 1)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            del self.tail[: max(len(self.tail) - self.half, 0)]

    def text(self) -> str:
        cut = self.total - len(self.head) - len(self.tail)
        if not cut:
            return (self.head + self.tail).decode("utf-8", errors="replace")
        head = self.head.decode("utf-8", errors="replace")
        tail = self.tail.decode("utf-8", errors="replace")
        return f"{head}\n[... {cut} bytes of output cut ...]\n{tail}"


class Tail:
    """The last `limit` bytes of a stream (ACP terminals keep the end of their output)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(limit, 0)
        self.data = bytearray()
        self.truncated = False

    def feed(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > self.limit:
            del self.data[: len(self.data) - self.limit]
            self.truncated = True

    def text(self) -> str:
        """Cut at a character boundary: continuation bytes left at the start are dropped."""
        start = 0
        if self.truncated:
            while start < min(len(self.data), 3) and self.data[start] & 0xC0 == 0x80:
                start += 1
        return self.data[start:].decode("utf-8", errors="replace")
