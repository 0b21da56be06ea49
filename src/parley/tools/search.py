"""The search `grep` runs, in a process of its own: `python -m parley.tools.search`.

Python's `re` backtracks, and a pattern such as `(a+)+$` can take longer than the universe on a
short line while holding the interpreter's lock. Run inside the server, one such call would
freeze every session; run here, it only burns this process until the tool's time limit kills
it. The request comes as one JSON object on stdin, the answer as one on stdout.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from parley.tools.base import ToolContext, ToolError
from parley.tools.file_io import looks_binary, open_regular, read_bounded
from parley.tools.paths import display_path, is_protected
from parley.tools.walk import iter_files

MAX_MATCHES = 500
MAX_FILE_BYTES = 5_000_000
MAX_LINE = 500


def search(pattern: str, target: Path, ctx: ToolContext) -> dict[str, Any]:
    """Matching lines as 'file:line: text', in files under `target` (resolved and checked)."""
    try:
        regex = re.compile(pattern)
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        return {"error": f"invalid regular expression: {exc}"}
    files = [target] if target.is_file() else iter_files(target, skip=ctx.protected)
    hits: list[str] = []
    scanned = skipped = 0
    for path in files:
        if len(hits) >= MAX_MATCHES:
            break
        data = _text_of(path, ctx)
        if data is None:
            skipped += 1
            continue
        scanned += 1
        shown = display_path(ctx, path)
        for number, raw in enumerate(data.split(b"\n"), 1):
            line = raw.removesuffix(b"\r").decode("utf-8", errors="replace")
            if regex.search(line):
                hits.append(f"{shown}:{number}: {line[:MAX_LINE]}")
                if len(hits) >= MAX_MATCHES:
                    break
    if not hits:
        return {"text": f"no matches in {scanned} file(s)", "matches": 0}
    text = "\n".join(hits)
    if len(hits) >= MAX_MATCHES:
        text += f"\n[stopped at {MAX_MATCHES} matches; narrow the pattern or path]"
    if len(text) > ctx.max_output_chars:
        text = text[: ctx.max_output_chars] + "\n[output cut]"
    return {"text": text, "matches": len(hits)}


def _text_of(path: Path, ctx: ToolContext) -> bytes | None:
    """A text file's bytes; None for what grep skips: links out of the roots, Parley's own
    files, files that are not regular, larger than MAX_FILE_BYTES or binary."""
    try:
        real = path.resolve()
        if not any(real == r or real.is_relative_to(r) for r in ctx.roots):
            return None
        if is_protected(ctx, real):
            return None
        data = read_bounded(open_regular(ctx, real, str(path)), MAX_FILE_BYTES)
    except (OSError, RuntimeError, ToolError):
        return None
    if len(data) > MAX_FILE_BYTES or looks_binary(data):
        return None
    return data


def main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    ctx = ToolContext(
        roots=tuple(Path(r) for r in request["roots"]),
        max_output_chars=request["max_output_chars"],
        protected=tuple(Path(p) for p in request["protected"]),
    )
    answer = search(request["pattern"], Path(request["target"]), ctx)
    os.write(1, json.dumps(answer).encode())


if __name__ == "__main__":
    main()
