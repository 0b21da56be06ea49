"""The protocol's fds (see stdio.py) as an asyncio reader and a coalescing writer."""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import threading
from collections.abc import Callable

from parley.doors.jsonrpc.framing import MAX_FRAME_BYTES, READ_CHUNK, Framing, encode


async def open_reader(fd: int) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_FRAME_BYTES)
    pipe = os.fdopen(fd, "rb", buffering=0)
    if _pollable(fd):
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    else:  # e.g. `parley serve < requests` or < /dev/null: blocking reads in a thread
        threading.Thread(target=_pump, args=(loop, reader, pipe), daemon=True).start()
    return reader


def _pollable(fd: int) -> bool:
    """epoll takes pipes, sockets and terminals; it refuses regular files and /dev/null."""
    mode = os.fstat(fd).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)


def _pump(loop: asyncio.AbstractEventLoop, reader: asyncio.StreamReader, pipe: object) -> None:
    read = pipe.read  # type: ignore[attr-defined]
    while chunk := read(READ_CHUNK):
        loop.call_soon_threadsafe(reader.feed_data, chunk)
    loop.call_soon_threadsafe(reader.feed_eof)


class _Flow(asyncio.Protocol):
    """Knows when the pipe to the peer is full: the peer is not reading."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.writable.set()  # nobody waits for a peer that is gone


class Outbox:
    """Frames written in one event-loop tick leave together, in one write."""

    # Past this much unsent output, event delivery waits for the peer to read (replies do not).
    HIGH_WATER = 1 << 20

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._parts: list[bytes] = []
        self._scheduled = False
        self._transport: asyncio.WriteTransport | None = None
        self._flow = _Flow()
        self._closed = False
        self.framing = Framing.HEADERS
        self.last_write = 0.0
        self._after_flush: list[Callable[[], object]] = []

    def after_next_flush(self, callback: Callable[[], object]) -> None:
        """Run `callback` once the frames written so far have been handed to the OS."""
        self._after_flush.append(callback)

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        pipe = os.fdopen(self._fd, "wb", buffering=0)
        try:
            self._transport, _ = await loop.connect_write_pipe(lambda: self._flow, pipe)
            self._transport.set_write_buffer_limits(high=self.HIGH_WATER)
        except ValueError:  # stdout is a regular file: plain blocking writes are fine there
            self._transport = None
            self._file = pipe

    async def writable(self) -> None:
        """Wait while the peer is not reading what was sent."""
        self.flush()
        if not self._closed:
            await self._flow.writable.wait()

    def takes_more(self) -> bool:
        """Whether the peer is reading what was sent (or is gone: nothing waits for it)."""
        return self._closed or self._flow.writable.is_set()

    def write(self, body: bytes) -> None:
        """pygls's writer interface: `body` is one serialized JSON-RPC message."""
        if self._closed:
            return
        self._parts.append(encode(body, self.framing))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if not self._parts or self._closed:
            return
        data = b"".join(self._parts)
        self._parts.clear()
        self.last_write = asyncio.get_running_loop().time()
        try:
            if self._transport is not None:
                self._transport.write(data)
            else:
                self._file.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self._closed = True  # the host is gone; keep running to shut down cleanly
        callbacks, self._after_flush = self._after_flush, []
        for callback in callbacks:
            callback()

    async def drain(self, limit_s: float = 1.0) -> None:
        """Wait until everything written has left the process (or the host stopped reading)."""
        self.flush()
        if self._transport is None:
            return
        deadline = asyncio.get_running_loop().time() + limit_s
        while self._transport.get_write_buffer_size() and not self._transport.is_closing():
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.005)

    def close(self) -> None:
        """pygls calls this on its writer at shutdown."""
        self.flush()
        self._closed = True
        if self._transport is not None:
            with contextlib.suppress(Exception):
                self._transport.close()
