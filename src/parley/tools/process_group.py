"""A command in a process group of its own, its stdout and stderr read into a bounded buffer:
what `bash` runs, and the terminals Parley serves to an ACP agent (agents/acp_terminals.py).

Stopping it stops the whole group: the command, its children and anything it left running in
the background (short of a process that detaches into a new session on purpose).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

from parley.tools.base import ToolError

# How long a stopped group gets between SIGTERM and SIGKILL.
KILL_GRACE_S = 2.0
# How long to wait for the output pipe to close once the group is gone (a process that left
# the group on purpose may hold it open).
DRAIN_S = 1.0


class Sink(Protocol):
    def feed(self, chunk: bytes) -> None: ...


class GroupCommand:
    def __init__(self, proc: asyncio.subprocess.Process, pipe: BinaryIO, sink: Sink) -> None:
        self.proc = proc
        self._pipe = pipe
        self._reader = asyncio.create_task(_collect(pipe, sink))

    @classmethod
    async def start(
        cls, argv: Sequence[str], cwd: Path, env: Mapping[str, str], sink: Sink
    ) -> GroupCommand:
        # Output goes to a pipe of our own rather than asyncio's: on Python 3.11 `proc.wait()`
        # would also wait for asyncio's pipes to close, which a background process can delay.
        read_fd, write_fd = os.pipe()
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=cwd,
                env=dict(env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                start_new_session=True,  # its own process group: one signal reaches them all
            )
        except BaseException as exc:
            pipe.close()
            if isinstance(exc, OSError):
                raise ToolError(f"cannot start the command: {exc.strerror}") from None
            raise
        finally:
            os.close(write_fd)
        return cls(proc, pipe, sink)

    async def stop(self) -> None:
        """Stop the group (at once if the command still runs, else what it left behind), then
        give the output a moment to drain."""
        await stop_group(self.proc)
        await asyncio.wait({self._reader}, timeout=DRAIN_S)

    async def close(self) -> None:
        """Stop reading; the group must have been stopped."""
        self._reader.cancel()
        await asyncio.wait({self._reader})
        self._pipe.close()


async def _collect(pipe: BinaryIO, sink: Sink) -> None:
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), pipe)
    try:
        while chunk := await stream.read(65_536):
            sink.feed(chunk)
    finally:
        transport.close()


async def stop_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM to the whole group; SIGKILL to what is left once the leader has gone or the grace
    period is over. The command leads the group, so its pid is the group id."""
    _signal_group(proc.pid, signal.SIGTERM)
    if proc.returncode is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), KILL_GRACE_S)
    _signal_group(proc.pid, signal.SIGKILL)
    await proc.wait()


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # everyone has already gone
        os.killpg(pgid, sig)
