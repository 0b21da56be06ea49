"""`read_file`: a text file, or a range of its lines, with line numbers.

The file is streamed: only the requested lines are kept, each cut at `_MAX_LINE` characters,
and the output stops at the context's output budget, so a file of any size is read in bounded
memory. Lines end at "\\n" (a "\\r" before it is dropped), as editors and `wc -l` count them.
"""

from __future__ import annotations

import io
import os
import threading
from typing import Any, BinaryIO

from parley.tools.base import Tool, ToolContext, ToolError, ToolOutput, in_thread
from parley.tools.file_io import looks_binary, open_regular
from parley.tools.paths import PATH_INPUT, display_path, resolve_inside

_MAX_LINE = 2_000
# Bytes read at once when a line is longer than shown, or when counting the lines after it.
_CHUNK = 1 << 20


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
        return await in_thread(lambda stop: _read(input, ctx, stop))


def _read(input: dict[str, Any], ctx: ToolContext, stop: threading.Event) -> ToolOutput:
    raw = input["path"]
    path = resolve_inside(ctx, raw, must_exist=True)
    shown = display_path(ctx, path)
    if path.is_dir():
        raise ToolError(f"{raw} is a directory; use list_files to see its contents")
    if ctx.files is not None and ctx.files.reads:  # the editor's buffer, saved or not
        text = ctx.files.read(path)
        if text is None:
            raise ToolError(f"{raw} does not exist")
        return _lines(io.BytesIO(text.encode("utf-8")), input, ctx, stop, shown)
    try:
        fd = open_regular(ctx, path, shown)
    except FileNotFoundError:
        raise ToolError(f"{raw} does not exist") from None
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if looks_binary(fh.read(8192)):
            raise ToolError(f"{raw} looks like a binary file ({size} bytes)")
        fh.seek(0)
        return _lines(fh, input, ctx, stop, shown)


def _lines(
    fh: BinaryIO, input: dict[str, Any], ctx: ToolContext, stop: threading.Event, shown: str
) -> ToolOutput:
    start: int = input.get("offset", 1)
    limit: int | None = input.get("limit")
    end = None if limit is None else start + limit - 1  # the last line asked for
    kept: list[tuple[int, str]] = []
    used = 0
    cut_at: int | None = None  # the first line the output budget left out
    total = 0
    while not stop.is_set():
        line = fh.readline(_MAX_LINE * 4 + 2)  # UTF-8: at most 4 bytes a character
        if not line:
            break
        cut = not line.endswith(b"\n") and _skip_rest_of_line(fh)
        total += 1
        if total < start:
            continue
        if (end is not None and total > end) or cut_at is not None:
            total += _count_lines(fh, stop)
            break
        text = line.rstrip(b"\n").removesuffix(b"\r").decode("utf-8", errors="replace")
        if cut or len(text) > _MAX_LINE:
            text = text[:_MAX_LINE] + " [line cut]"
        used += len(str(total)) + len(text) + 2
        if used > ctx.max_output_chars:
            cut_at = total
            continue
        kept.append((total, text))
    if stop.is_set():
        raise ToolError("read_file was stopped")
    if start > max(total, 1):
        raise ToolError(f"offset {start} is past the end of the file ({total} lines)")
    last = total if end is None else min(end, total)
    width = len(str(kept[-1][0] + 1 if kept else start))
    body = [f"{number:>{width}}\t{text}" for number, text in kept]
    if cut_at is not None:
        body.append(f"[output cut at line {cut_at - 1} of {total}; read on with offset={cut_at}]")
    return ToolOutput(
        "\n".join(body) if body else "(empty file)",
        display={
            "path": shown,
            "startLine": start,
            "endLine": last,
            "totalLines": total,
        },
    )


def _skip_rest_of_line(fh: BinaryIO) -> bool:
    """Read past the rest of an overlong line without keeping it; whether there was any."""
    skipped = False
    while chunk := fh.readline(_CHUNK):
        skipped = True
        if chunk.endswith(b"\n"):
            break
    return skipped


def _count_lines(fh: BinaryIO, stop: threading.Event) -> int:
    """Lines from here to the end, counted in chunks: only `totalLines` needs them."""
    count, last = 0, b"\n"
    while not stop.is_set() and (chunk := fh.read(_CHUNK)):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    return count + (last != b"\n")
