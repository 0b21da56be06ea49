"""The one interface every tool implements."""

from __future__ import annotations

import abc
import asyncio
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


@attrs.frozen
class ToolContext:
    """Where a tool may act. Paths must resolve inside one of `roots` (the first is the cwd),
    and never into `protected`: Parley's own configuration and session store."""

    roots: tuple[Path, ...]
    timeout_s: float = 120.0
    max_output_chars: int = 30_000
    protected: tuple[Path, ...] = ()

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
