"""Walking the working directory the way a developer expects: no VCS or dependency folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


def iter_files(root: Path, pattern: str = "**/*") -> Iterator[Path]:
    """Files under `root` whose root-relative path matches `pattern`; symlinks are not followed
    into directories, so a walk never leaves the tree."""
    regex = compile_glob(pattern.removeprefix("./"))
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        base = Path(dirpath)
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if os.sep != "/":
                rel = rel.replace(os.sep, "/")
            if regex.match(rel):
                yield base / name
