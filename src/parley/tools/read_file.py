"""`read_file`: a text file, or a range of its lines, with line numbers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from parley.tools.base import Tool, ToolContext, ToolError, ToolOutput
from parley.tools.file_io import looks_binary, read_existing
from parley.tools.paths import PATH_INPUT, display_path, resolve_inside

_MAX_LINE = 2_000


class ReadFile(Tool):
    name = "read_file"
    kind = "read"
    description = (
        "Read a text file in the working directory. Lines come back numbered from 1. "
        "Use offset (first line, 1-based) and limit (number of lines) to read part of a large file."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "path": PATH_INPUT,
            "offset": {
                "type": "integer",
                "minimum": 1,
                "description": "First line to read (1-based).",
            },
            "limit": {"type": "integer", "minimum": 1, "description": "How many lines to read."},
        },
        "required": ["path"],
        "additionalProperties": False,
    }

    async def run(self, input: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path = resolve_inside(ctx, input["path"], must_exist=True)
        if path.is_dir():
            raise ToolError(f"{input['path']} is a directory; use list_files to see its contents")
        data = await asyncio.to_thread(_read, ctx, path, input["path"])
        if looks_binary(data):
            raise ToolError(f"{input['path']} looks like a binary file ({len(data)} bytes)")
        lines = data.decode("utf-8", errors="replace").splitlines()
        start = input.get("offset", 1)
        limit = input.get("limit", len(lines))
        if start > max(len(lines), 1):
            raise ToolError(f"offset {start} is past the end of the file ({len(lines)} lines)")
        selected = lines[start - 1 : start - 1 + limit]
        width = len(str(start + len(selected)))
        body: list[str] = []
        used = 0
        for number, line in enumerate(selected, start):
            if len(line) > _MAX_LINE:
                line = line[:_MAX_LINE] + " [line cut]"
            entry = f"{number:>{width}}\t{line}"
            used += len(entry) + 1
            if used > ctx.max_output_chars:
                body.append(
                    f"[output cut at line {number - 1} of {len(lines)}; "
                    f"read on with offset={number}]"
                )
                break
            body.append(entry)
        shown = display_path(ctx, path)
        end = start + len(selected) - 1
        return ToolOutput(
            "\n".join(body) if body else "(empty file)",
            display={"path": shown, "startLine": start, "endLine": end, "totalLines": len(lines)},
        )


def _read(ctx: ToolContext, path: Path, shown: str) -> bytes:
    data = read_existing(ctx, path, shown)
    if data is None:
        raise ToolError(f"{shown} does not exist")
    return data
