"""The one interface every tool implements."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, Literal, TypeAlias

import attrs

from parley.core.messages import ImageBlock
from parley.core.tools import ToolSpec

# What a tool does decides how the permission layer treats it: reads are allowed in `ask`,
# edits are allowed in `accept-edits`, commands only in `allow` (or by rule / the host's answer).
ToolKind: TypeAlias = Literal["read", "edit", "execute"]


class ToolError(Exception):
    """A failure the model should read and can recover from (bad path, no match, ...)."""


@attrs.frozen
class ToolContext:
    """Where a tool may act. Paths must resolve inside one of `roots` (the first is the cwd)."""

    roots: tuple[Path, ...]
    timeout_s: float = 120.0
    max_output_chars: int = 30_000

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
