"""`grep`: lines matching a regular expression, in a file or under a directory."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from parley.tools.base import Tool, ToolContext, ToolError, ToolOutput
from parley.tools.file_io import looks_binary
from parley.tools.paths import display_path, resolve_inside
from parley.tools.walk import iter_files

_MAX_MATCHES = 500
_MAX_FILE_BYTES = 5_000_000


class Grep(Tool):
    name = "grep"
    kind = "read"
    description = (
        "Search file contents with a regular expression (Python syntax). Searches every text file "
        "under path (default: the working directory) and returns matching lines as "
        "'file:line: text'."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "pattern": {"type": "string", "description": "Regular expression to search for."},
            "path": {"type": "string", "description": "File or directory to search (default '.')."},
        },
        "required": ["pattern"],
        "additionalProperties": False,
    }

    async def run(self, input: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        try:
            regex = re.compile(input["pattern"])
        except re.error as exc:
            raise ToolError(f"invalid regular expression: {exc}") from None
        target = resolve_inside(ctx, input.get("path", "."), must_exist=True)
        # File I/O off the event loop: a big tree must not stall other sessions.
        return await asyncio.to_thread(self._search, regex, target, ctx)

    def _search(self, regex: re.Pattern[str], target: Path, ctx: ToolContext) -> ToolOutput:
        files = [target] if target.is_file() else iter_files(target)
        hits: list[str] = []
        scanned = 0
        for path in files:
            if len(hits) >= _MAX_MATCHES:
                break
            try:
                real = path.resolve()
                if not any(real.is_relative_to(root) for root in ctx.roots):
                    continue  # a symlink pointing out of the tree
                if real.stat().st_size > _MAX_FILE_BYTES:
                    continue
                data = real.read_bytes()
            except OSError:
                continue
            if looks_binary(data):
                continue
            scanned += 1
            shown = display_path(ctx, path)
            for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
                if regex.search(line):
                    hits.append(f"{shown}:{number}: {line[:500]}")
                    if len(hits) >= _MAX_MATCHES:
                        break
        if not hits:
            return ToolOutput(f"no matches in {scanned} file(s)", display={"matches": 0})
        text = "\n".join(hits)
        if len(hits) >= _MAX_MATCHES:
            text += f"\n[stopped at {_MAX_MATCHES} matches; narrow the pattern or path]"
        if len(text) > ctx.max_output_chars:
            text = text[: ctx.max_output_chars] + "\n[output cut]"
        return ToolOutput(text, display={"matches": len(hits)})
