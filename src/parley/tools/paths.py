"""Confinement: every path a tool touches must resolve inside the session's roots."""

from __future__ import annotations

import os
from pathlib import Path

from parley.tools.base import ToolContext, ToolError

# The `path` input of the file tools, as the model sees it.
PATH_INPUT = {
    "type": "string",
    "minLength": 1,
    "description": "File path, relative to the working directory.",
}


def resolve_inside(ctx: ToolContext, raw: str, *, must_exist: bool = False) -> Path:
    """Resolve `raw` (relative to the cwd) through `..` and symlinks; refuse anything outside.

    Resolution follows symlinks, so a link inside the cwd that points outside is refused too.
    """
    if not isinstance(raw, str) or not raw or "\x00" in raw:
        raise ToolError("path must be a non-empty string")
    try:
        resolved = resolve_path(ctx.cwd, raw)
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop, on Python 3.11-3.12
        raise ToolError(f"cannot resolve {raw}: {exc}") from None
    if not any(resolved == root or resolved.is_relative_to(root) for root in ctx.roots):
        where = (
            f"the session's working directory ({ctx.cwd})"
            if len(ctx.roots) == 1
            else f"the session's directories ({', '.join(map(str, ctx.roots))})"
        )
        raise ToolError(f"{raw} is outside {where}; only paths inside it may be used")
    if is_protected(ctx, resolved):
        raise ToolError(
            f"{raw} is one of Parley's own files (its configuration or session store); "
            "tools may not use it"
        )
    if must_exist:
        try:
            exists = resolved.exists()
        except OSError as exc:
            raise ToolError(f"cannot use {raw}: {exc.strerror}") from None
        if not exists:
            raise ToolError(f"{raw} does not exist")
    return resolved


def is_protected(ctx: ToolContext, path: Path) -> bool:
    """Whether `path` (resolved) is Parley's own configuration or data, or lies inside it."""
    return any(path == p or path.is_relative_to(p) for p in ctx.protected)


def resolve_path(cwd: Path, raw: str) -> Path:
    """`raw` made absolute against `cwd`, with `~`, `..` and every symlink resolved."""
    candidate = Path(os.path.expanduser(raw)) if raw.startswith("~") else Path(raw)
    return (cwd / candidate).resolve(strict=False)


def display_path(ctx: ToolContext, path: Path) -> str:
    """A path as the model and the host should see it: relative to the cwd when inside it."""
    try:
        return str(path.relative_to(ctx.cwd))
    except ValueError:
        return str(path)
