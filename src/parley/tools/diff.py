"""Unified diffs of a file's old and new text, as hosts and approval prompts show them."""

from __future__ import annotations

import difflib

_NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(old: str | None, new: str, path: str, *, limit: int = 30_000) -> str:
    """`git diff`-style text; `old` None means the file is being created.

    Cut at `limit` characters (on a line boundary) with a note, so a huge rewrite cannot flood
    a notification or an approval prompt.
    """
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        new.splitlines(keepends=True),
        "/dev/null" if old is None else f"a/{path}",
        f"b/{path}",
    )
    out: list[str] = []
    used = 0
    for line in lines:
        if not line.endswith("\n"):  # the last line of a side without a final newline
            line += "\n" + _NO_NEWLINE
        if used + len(line) > limit:
            rest = sum(1 for _ in lines)
            out.append(f"[diff cut: {rest + 1} more lines]\n")
            break
        out.append(line)
        used += len(line)
    return "".join(out)
