"""Confinement: every path a tool touches must resolve inside the session's roots."""

from __future__ import annotations

import os
from pathlib import Path

from parley.tools.base import ToolContext, ToolError


def resolve_inside(ctx: ToolContext, raw: str, *, must_exist: bool = False) -> Path:
    """Resolve `raw` (relative to the cwd) through `..` and symlinks; refuse anything outside.

    Resolution follows symlinks, so a link inside the cwd that points outside is refused too.
    """
    if not isinstance(raw, str) or not raw or "\x00" in raw:
        raise ToolError("path must be a non-empty string")
    candidate = Path(os.path.expanduser(raw)) if raw.startswith("~") else Path(raw)
    if not candidate.is_absolute():
        candidate = ctx.cwd / candidate
    resolved = candidate.resolve(strict=False)
    if not any(resolved == root or resolved.is_relative_to(root) for root in ctx.roots):
        raise ToolError(
            f"{raw} is outside the session's working directory ({ctx.cwd}); "
            "only paths inside it may be used"
        )
    if must_exist and not resolved.exists():
        raise ToolError(f"{raw} does not exist")
    return resolved


def display_path(ctx: ToolContext, path: Path) -> str:
    """A path as the model and the host should see it: relative to the cwd when inside it."""
    try:
        return str(path.relative_to(ctx.cwd))
    except ValueError:
        return str(path)
