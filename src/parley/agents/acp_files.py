"""`fs/read_text_file` and `fs/write_text_file` served to an ACP agent: Parley's confined file
access (tools/paths.py, tools/file_io.py) inside the session's working and additional
directories, off the event loop.

A file that does not exist is answered the ACP way, `resource_not_found` (-32002, "Resource not
found: PATH"), except to Gemini CLI: its JSON-RPC connection rejects with the bare error object,
which its file service turns into the string "[object Object]" before looking for "Resource not
found" or ENOENT in it, so no error answer can tell it a file is missing (gemini-cli#9280) and
it could never create one. It gets what Zed's editor gives it, an empty text.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from parley.agents.rpc import Refusal
from parley.tools.base import ToolContext, ToolError
from parley.tools.file_io import MAX_EDIT_BYTES, looks_binary, read_existing, write_atomic
from parley.tools.paths import display_path, resolve_inside

RESOURCE_NOT_FOUND = -32002
# Agents (their `agentInfo.name`) that cannot read an error answer; see above.
_MISSING_IS_EMPTY = frozenset({"gemini-cli"})


def not_found(path: str) -> Refusal:
    """ACP's resource_not_found, as its SDK words it."""
    return Refusal(RESOURCE_NOT_FOUND, f"Resource not found: {path}", {"uri": path})


class AgentFiles:
    def __init__(self, ctx: ToolContext, agent_name: str) -> None:
        self.ctx = ctx
        self.missing_is_empty = agent_name in _MISSING_IS_EMPTY

    async def read(self, params: dict[str, Any]) -> dict[str, Any]:
        raw = params.get("path")
        if not isinstance(raw, str) or not Path(raw).is_absolute():
            raise ToolError("path must be an absolute path")
        line, limit = params.get("line"), params.get("limit")
        for name, value in (("line", line), ("limit", limit)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ToolError(f"{name} must be a positive integer")
        text = await asyncio.to_thread(self._read, raw)
        if text is None:
            if self.missing_is_empty:
                return {"content": ""}
            raise not_found(raw)
        if line is not None or limit is not None:
            start = (line or 1) - 1
            lines = text.splitlines(keepends=True)
            text = "".join(lines[start : None if limit is None else start + limit])
        return {"content": text}

    def _read(self, raw: str) -> str | None:
        path = resolve_inside(self.ctx, raw)
        shown = display_path(self.ctx, path)
        if path.is_dir():
            raise ToolError(f"{raw} is a directory, not a file")
        data = read_existing(self.ctx, path, shown, MAX_EDIT_BYTES)
        if data is None:
            return None
        if looks_binary(data):
            raise ToolError(f"{raw} looks like a binary file ({len(data)} bytes), not text")
        return data.decode("utf-8", errors="replace")

    async def write(self, params: dict[str, Any]) -> None:
        """Written the way Parley's write_file tool writes: confined, atomic."""
        path = resolve_inside(self.ctx, str(params.get("path")))
        content = params.get("content")
        if not isinstance(content, str):
            raise ToolError("content must be a string")
        await asyncio.to_thread(write_atomic, self.ctx, path, content.encode(), str(path))
