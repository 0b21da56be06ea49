"""Walking the working directory the way a developer expects: no VCS or dependency folders."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from parley.core.globs import compile_glob

SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        "dist",
        "build",
        ".idea",
        ".parley",
    }
)


def iter_files(
    root: Path,
    pattern: str = "**/*",
    *,
    skip: Iterable[Path] = (),
    stop: threading.Event | None = None,
) -> Iterator[Path]:
    """Files under `root` whose root-relative path matches `pattern`; symlinks are not followed
    into directories, so a walk never leaves the tree. Directories in `skip` (Parley's own
    files) are not entered; the walk ends early once `stop` is set."""
    regex = compile_glob(pattern.removeprefix("./"))
    skipped = {str(p) for p in skip}
    for dirpath, dirnames, filenames in os.walk(root):
        if stop is not None and stop.is_set():
            return
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIPPED_DIRS and os.path.join(dirpath, d) not in skipped
        )
        base = Path(dirpath)
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if os.sep != "/":
                rel = rel.replace(os.sep, "/")
            if regex.match(rel) and os.path.join(dirpath, name) not in skipped:
                yield base / name
