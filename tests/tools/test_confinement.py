"""Every path a tool is given must resolve inside the session's roots: `..`, absolute paths
and symlinks (to files and to directories) that lead outside are refused, and nothing outside
is read, created or changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.tools.base import Tool, ToolContext, ToolError
from parley.tools.edit_file import EditFile
from parley.tools.read_file import ReadFile
from parley.tools.write_file import WriteFile


def inputs(path: str) -> list[tuple[Tool, dict[str, Any]]]:
    return [
        (ReadFile(), {"path": path}),
        (WriteFile(), {"path": path, "content": "pwned\n"}),
        (EditFile(), {"path": path, "edits": [{"old_string": "top", "new_string": "pwned"}]}),
    ]


@pytest.fixture
def escapes(project: Path, outside: Path) -> dict[str, str]:
    """Names of ways out, each as the path a model would pass."""
    (project / "file_link").symlink_to(outside / "secret.txt")
    (project / "dir_link").symlink_to(outside, target_is_directory=True)
    (project / "dangling_link").symlink_to(outside / "not-yet.txt")
    return {
        "dot-dot": "../outside/secret.txt",
        "dot-dot-inside-first": "sub/../../outside/secret.txt",
        "absolute": str(outside / "secret.txt"),
        "home": "~/../../" + str(outside / "secret.txt").lstrip("/"),
        "symlinked-file": "file_link",
        "through-symlinked-dir": "dir_link/secret.txt",
        "new-file-through-symlinked-dir": "dir_link/new.txt",
        "dangling-symlink-to-outside": "dangling_link",
    }


ESCAPES = [
    "dot-dot",
    "dot-dot-inside-first",
    "absolute",
    "home",
    "symlinked-file",
    "through-symlinked-dir",
    "new-file-through-symlinked-dir",
    "dangling-symlink-to-outside",
]


@pytest.mark.parametrize("escape", ESCAPES)
@pytest.mark.parametrize("tool_index", [0, 1, 2], ids=["read_file", "write_file", "edit_file"])
async def test_paths_leading_outside_the_roots_are_refused(
    escape: str, tool_index: int, escapes: dict[str, str], outside: Path, ctx: ToolContext
) -> None:
    tool, input = inputs(escapes[escape])[tool_index]

    with pytest.raises(ToolError, match="is outside the session's working directory"):
        await tool.run(input, ctx)

    assert (outside / "secret.txt").read_text() == "top secret\n"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


@pytest.mark.parametrize("escape", ESCAPES)
@pytest.mark.parametrize("tool_index", [1, 2], ids=["write_file", "edit_file"])
async def test_previews_refuse_the_same_paths(
    escape: str, tool_index: int, escapes: dict[str, str], ctx: ToolContext
) -> None:
    """The preview runs before anyone is asked: a refused path is never offered for approval."""
    tool, input = inputs(escapes[escape])[tool_index]

    with pytest.raises(ToolError, match="is outside the session's working directory"):
        tool.preview(input, ctx)


async def test_a_symlink_that_stays_inside_is_followed(project: Path, ctx: ToolContext) -> None:
    (project / "real.txt").write_text("top\n")
    (project / "alias.txt").symlink_to(project / "real.txt")

    await EditFile().run(
        {"path": "alias.txt", "edits": [{"old_string": "top", "new_string": "bottom"}]}, ctx
    )

    assert (project / "real.txt").read_text() == "bottom\n"
    assert (project / "alias.txt").is_symlink()


async def test_an_additional_directory_is_inside_the_roots(project: Path, outside: Path) -> None:
    ctx = ToolContext(roots=(project, outside))

    await WriteFile().run({"path": str(outside / "notes.txt"), "content": "ok\n"}, ctx)

    assert (outside / "notes.txt").read_text() == "ok\n"


async def test_with_additional_directories_the_refusal_names_them_all(
    project: Path, outside: Path, tmp_path: Path
) -> None:
    ctx = ToolContext(roots=(project, outside))

    with pytest.raises(ToolError, match=f"outside the session's directories \\({project}, "):
        await WriteFile().run({"path": str(tmp_path / "x.txt"), "content": ""}, ctx)


async def test_a_symlink_loop_is_refused_not_crashed(project: Path, ctx: ToolContext) -> None:
    (project / "loop").symlink_to(project / "loop")

    with pytest.raises(ToolError):
        await WriteFile().run({"path": "loop/x.txt", "content": ""}, ctx)
