"""`grep`: lines matching a regular expression, in a file or under a directory.

The search runs in a child process (tools/search.py): a pattern that backtracks forever is
stopped with that process when the tool's time limit ends, and the server never waits on it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from parley.core.redact import command_env
from parley.tools.base import Tool, ToolContext, ToolError, ToolOutput
from parley.tools.paths import resolve_inside
from parley.tools.search import MAX_FILE_BYTES, MAX_LINE, MAX_MATCHES

# What the child may answer: its text is cut at the output budget, so this is generous.
_MAX_ANSWER = 4_000_000


class Grep(Tool):
    name = "grep"
    kind = "read"
    description = (
        "Search file contents with a regular expression (Python syntax). Searches every text file "
        "under path (default: the working directory) and returns matching lines as "
        f"'file:line: text' (at most {MAX_MATCHES} matches, lines cut at {MAX_LINE} "
        f"characters; files over {MAX_FILE_BYTES // 1_000_000} MB and binary files are skipped)."
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
        target = resolve_inside(ctx, input.get("path", "."), must_exist=True)
        request = {
            "pattern": input["pattern"],
            "target": str(target),
            "roots": [str(r) for r in ctx.roots],
            "protected": [str(p) for p in ctx.protected],
            "max_output_chars": ctx.max_output_chars,
        }
        answer = await _in_child(json.dumps(request).encode())
        if "error" in answer:
            raise ToolError(answer["error"])
        return ToolOutput(answer["text"], display={"matches": answer["matches"]})


async def _in_child(request: bytes) -> dict[str, Any]:
    """Run the search in `python -m parley.tools.search`; it is killed if this is cancelled
    (the tool's time limit, a cancelled turn)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "parley.tools.search",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=command_env(),
    )
    try:
        out, err = await proc.communicate(request)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    if proc.returncode != 0 or len(out) > _MAX_ANSWER:
        detail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise ToolError(f"grep failed: {detail[0][:500]}")
    answer: dict[str, Any] = json.loads(out)
    return answer
