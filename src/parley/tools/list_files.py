"""`list_files`: paths matching a glob, relative to the working directory."""

from __future__ import annotations

import threading
from typing import Any

from parley.core.globs import GlobError, compile_glob
from parley.tools.base import Tool, ToolContext, ToolError, ToolOutput, in_thread
from parley.tools.paths import display_path, resolve_inside
from parley.tools.walk import iter_files

_MAX_RESULTS = 1_000


class ListFiles(Tool):
    name = "list_files"
    kind = "read"
    description = (
        "List files in the working directory whose path matches a glob pattern "
        "(e.g. '**/*.py', 'src/*'). Hidden and ignored directories (.git, node_modules, ...) "
        "are skipped. Results are sorted."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "pattern": {
                "type": "string",
                "description": "Glob, relative to the working directory.",
            },
        },
        "required": ["pattern"],
        "additionalProperties": False,
    }

    async def run(self, input: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        return await in_thread(lambda stop: _list(input["pattern"], ctx, stop))


def _list(pattern: str, ctx: ToolContext, stop: threading.Event) -> ToolOutput:
    pattern = pattern.strip() or "**/*"
    if pattern.startswith("/") or ".." in pattern.split("/"):
        # Globs may not climb out: resolve the fixed prefix like any other path.
        resolve_inside(ctx, pattern.split("*", 1)[0] or ".")
    matches: list[str] = []
    truncated = False
    try:
        compile_glob(pattern.removeprefix("./"))
    except GlobError as exc:
        raise ToolError(f"invalid pattern {pattern!r}: {exc}") from None
    for path in iter_files(ctx.cwd, pattern, skip=ctx.protected, stop=stop):
        if len(matches) >= _MAX_RESULTS:
            truncated = True
            break
        matches.append(display_path(ctx, path))
    if not matches:
        raise ToolError(f"no files match {pattern!r}")
    matches.sort()
    text = "\n".join(matches)
    if truncated:
        text += f"\n[only the first {_MAX_RESULTS} matches are shown; narrow the pattern]"
    return ToolOutput(text, display={"pattern": pattern, "count": len(matches)})
