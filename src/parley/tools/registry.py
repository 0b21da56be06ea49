"""The tool set a session can use, and input validation against each tool's schema.

Built-in tools are there from the start. Tools that must be discovered (an MCP server's) come
from sources, loaded at the start of each turn: the first load starts what they need, later
ones only pick up what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from parley.tools.base import Tool
from parley.tools.bash import Bash
from parley.tools.edit_file import EditFile
from parley.tools.grep import Grep
from parley.tools.list_files import ListFiles
from parley.tools.read_file import ReadFile
from parley.tools.write_file import WriteFile

log = logging.getLogger(__name__)

BUILTIN_TOOLS: tuple[type[Tool], ...] = (ReadFile, ListFiles, Grep, WriteFile, EditFile, Bash)

# (progress stage, message, data): what a source says while it loads, e.g. a server failing.
Report = Callable[[str, str, dict[str, Any]], None]


class ToolSource(Protocol):
    async def load(self, taken: set[str], report: Report | None) -> list[Tool]:
        """Every tool the source offers now, named apart from `taken`. Never raises for a
        source's trouble: it is reported, and the tools that work are offered."""

    async def aclose(self) -> None: ...


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool], sources: Sequence[ToolSource] = ()) -> None:
        self._tools: dict[str, Tool] = {t.name: t for t in tools}
        self._builtin = dict(self._tools)
        self.sources = list(sources)

    @classmethod
    def builtin(
        cls, allowed: Iterable[str] | None = None, disallowed: Iterable[str] = ()
    ) -> ToolRegistry:
        names = set(allowed) if allowed is not None else None
        blocked = set(disallowed)
        return cls(
            t()
            for t in BUILTIN_TOOLS
            if (names is None or t.name in names) and t.name not in blocked
        )

    async def load(self, report: Report | None = None) -> None:
        """Bring the sources' tools up to date; before a turn's first model request."""
        if not self.sources:
            return
        tools = dict(self._builtin)
        for source in self.sources:
            for tool in await source.load(set(tools), report):
                tools[tool.name] = tool
        self._tools = tools

    async def aclose(self) -> None:
        for source in self.sources:
            try:
                await source.aclose()
            except Exception:
                log.exception("closing a tool source failed")

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __iter__(self) -> Any:
        return iter(self._tools.values())

    def names(self) -> list[str]:
        return list(self._tools)

    def validate_input(self, tool: Tool, data: Mapping[str, Any]) -> str | None:
        """The first problem with the model's input, phrased for the model; None if it is fine."""
        from parley.protocol.validation import first_error

        try:
            return first_error(tool.input_schema, data)
        except Exception:  # a server's schema that cannot be used: the server judges the input
            if tool.server is None:
                raise
            log.warning("the input schema of %s cannot be checked", tool.name, exc_info=True)
            return None
