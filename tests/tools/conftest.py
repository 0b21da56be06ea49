from __future__ import annotations

from pathlib import Path

import pytest

from parley.tools.base import ToolContext


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The session's working directory (resolved: tmp_path may sit behind a symlink)."""
    path = tmp_path / "project"
    path.mkdir()
    return path.resolve()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the project that tools must not touch."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_text("top secret\n")
    return path.resolve()


@pytest.fixture
def ctx(project: Path) -> ToolContext:
    return ToolContext(roots=(project,), timeout_s=10.0)
