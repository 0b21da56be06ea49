"""`write_file`: create a file or replace its whole content."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parley.tools.base import Tool, ToolContext, ToolOutput, in_thread
from parley.tools.diff import unified_diff
from parley.tools.file_io import looks_binary, read_existing, write_atomic
from parley.tools.paths import PATH_INPUT, display_path, resolve_inside


class WriteFile(Tool):
    name = "write_file"
    kind = "edit"
    description = (
        "Create a file, or replace the whole content of an existing file, in the working "
        "directory. Missing parent directories are created. To change part of a file, use "
        "edit_file instead."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "path": PATH_INPUT,
            "content": {"type": "string", "description": "The file's complete new content."},
        },
        "required": ["path", "content"],
        "additionalProperties": False,
    }

    def preview(self, input: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        path, shown = _target(input, ctx)
        return _display(shown, read_existing(ctx, path, shown), input["content"], ctx)

    async def run(self, input: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        return await in_thread(lambda _stop: self._write(input, ctx))

    def _write(self, input: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path, shown = _target(input, ctx)
        content: str = input["content"]
        old = read_existing(ctx, path, shown)
        write_atomic(ctx, path, content.encode("utf-8"), shown)
        lines = content.count("\n") + (1 if content and not content.endswith("\n") else 0)
        verb = "Created" if old is None else "Wrote"
        return ToolOutput(
            f"{verb} {shown} ({lines} line{'' if lines == 1 else 's'})",
            display=_display(shown, old, content, ctx),
        )


def _target(input: dict[str, Any], ctx: ToolContext) -> tuple[Path, str]:
    path = resolve_inside(ctx, input["path"])
    return path, display_path(ctx, path)


def _display(shown: str, old: bytes | None, new: str, ctx: ToolContext) -> dict[str, Any]:
    if old is not None and looks_binary(old):
        diff = f"Binary file {shown} replaced with text\n"
    else:
        before = None if old is None else old.decode("utf-8", errors="replace")
        diff = unified_diff(before, new, shown, limit=ctx.max_output_chars)
    return {"path": shown, "created": old is None, "diff": diff}
