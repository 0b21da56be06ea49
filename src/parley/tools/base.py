"""The one interface every tool implements."""

from __future__ import annotations

import abc
import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeAlias, TypeVar

import attrs

from parley.core.messages import ImageBlock
from parley.core.tools import ToolSpec

# What a tool does decides how the permission layer treats it: reads are allowed in `ask`,
# edits are allowed in `accept-edits`, commands only in `allow` (or by rule / the host's answer).
ToolKind: TypeAlias = Literal["read", "edit", "execute"]
T = TypeVar("T")
# Tools' file work runs here, not on the event loop and not in asyncio's default pool (which
# resolves host names for the providers): a file system that hangs cannot stall either.
_POOL_SIZE = 16
_pool: ThreadPoolExecutor | None = None


class ToolError(Exception):
    """A failure the model should read and can recover from (bad path, no match, ...)."""


class HostFiles(abc.ABC):
    """Text files as the host sees them (an editor's unsaved buffers), which the file tools
    read (`reads`) and write (`writes`) instead of the disk. Paths are absolute and have passed
    the confinement check. Blocking: called from tool threads, never on the event loop."""

    reads: bool = False
    writes: bool = False

    @abc.abstractmethod
    def read(self, path: Path) -> str | None:
        """The file's text; None when there is no such file. ToolError for other failures."""

    @abc.abstractmethod
    def write(self, path: Path, text: str) -> None:
        """Create or replace the file. ToolError when the host refuses."""


@attrs.frozen
class CommandRun:
    """How a command the host ran ended: its output (stdout and stderr, bounded), and its exit
    code, or the signal that stopped it, or that it timed out and was stopped."""

    output: str
    exit_code: int | None
    signal: str | None = None
    timed_out: bool = False


class HostCommands(abc.ABC):
    """Shell commands run where the host runs them (an editor's terminal) instead of in a
    process of Parley's own. Confinement and permissions are checked before this is called."""

    @abc.abstractmethod
    async def run(
        self,
        command: str,
        *,
        cwd: Path,
        env: dict[str, str],
        timeout_s: float,
        output_limit: int,
        tool_call_id: str | None,
    ) -> CommandRun:
        """Run `command` with bash; stop it after `timeout_s`. ToolError when it cannot run."""


@attrs.frozen
class ToolContext:
    """Where a tool may act. Paths must resolve inside one of `roots` (the first is the cwd),
    and never into `protected`: Parley's own configuration and session store. `files` and
    `commands`, when a door gave the turn the host's, are where the file tools read and write
    and where `bash` runs; `tool_call_id` is the call being run."""

    roots: tuple[Path, ...]
    timeout_s: float = 120.0
    max_output_chars: int = 30_000
    protected: tuple[Path, ...] = ()
    files: HostFiles | None = None
    commands: HostCommands | None = None
    tool_call_id: str | None = None

    @property
    def cwd(self) -> Path:
        return self.roots[0]


@attrs.frozen
class ToolOutput:
    """What goes back to the model (`text`, and `images` beside the tool result) and what a
    host needs to render the call (`display`)."""

    text: str
    is_error: bool = False
    display: dict[str, Any] | None = None
    images: tuple[ImageBlock, ...] = ()


class Tool(abc.ABC):
    """Built-in tools set these on the class; tools found at run time (MCP) on the instance."""

    name: str
    kind: ToolKind
    description: str
    input_schema: dict[str, Any]
    # The MCP server a tool comes from; None for built-in tools.
    server: str | None = None

    def spec(self) -> ToolSpec:
        return self._spec

    @functools.cached_property
    def _spec(self) -> ToolSpec:
        # Asked for at every model request (and by compaction's estimate), never changing.
        return ToolSpec(self.name, self.description, self.input_schema)

    def preview(self, input: dict[str, Any], ctx: ToolContext) -> dict[str, Any] | None:
        """Render hints for tool/started and approval requests (path, diff, command).

        Called with validated input before anyone is asked; raise ToolError when the call
        cannot succeed (a path outside the roots, an edit that does not apply), and the call
        fails at once instead of asking for approval of something that cannot happen.
        """
        return None

    def time_limit(self, input: dict[str, Any], ctx: ToolContext) -> float:
        """Seconds the caller lets `run` take before cancelling it."""
        return ctx.timeout_s

    @abc.abstractmethod
    async def run(self, input: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        """Do the work. Raise ToolError for failures the model should see."""


async def in_thread(work: Callable[[threading.Event], T]) -> T:
    """`work(stop)` in a tool thread. When the call is cancelled (the tool timed out, the turn
    was cancelled), `stop` is set: work that loops over files or lines checks it and ends."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(_POOL_SIZE, thread_name_prefix="parley-tool")
    stop = threading.Event()
    try:
        return await asyncio.get_running_loop().run_in_executor(_pool, work, stop)
    finally:
        stop.set()
