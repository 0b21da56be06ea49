"""The tool set a session can use, and input validation against each tool's schema."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from parley.tools.base import Tool
from parley.tools.bash import Bash
from parley.tools.edit_file import EditFile
from parley.tools.grep import Grep
from parley.tools.list_files import ListFiles
from parley.tools.read_file import ReadFile
from parley.tools.write_file import WriteFile

BUILTIN_TOOLS: tuple[type[Tool], ...] = (ReadFile, ListFiles, Grep, WriteFile, EditFile, Bash)


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools: dict[str, Tool] = {t.name: t for t in tools}

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

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __iter__(self) -> Any:
        return iter(self._tools.values())

    def names(self) -> list[str]:
        return list(self._tools)

    def validate_input(self, tool: Tool, data: Mapping[str, Any]) -> str | None:
        """The first problem with the model's input, phrased for the model; None if it is fine."""
        from parley.protocol.validation import first_error

        return first_error(tool.input_schema, data)
