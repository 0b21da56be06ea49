"""Writes cannot be raced out of the workspace: the path is checked, then opened one directory
at a time without following symlinks, so a directory swapped for a symlink mid-write makes the
call fail instead of writing through it; temporary files never outlive a call."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.tools.base import ToolContext, ToolError
from parley.tools.edit_file import EditFile
from parley.tools.read_file import ReadFile
from parley.tools.write_file import WriteFile

# Swaps project/sub for a symlink to the outside directory, over and over, until killed.
SWAPPER = """
import itertools, os, sys
project, outside = sys.argv[1], sys.argv[2]
sub = os.path.join(project, "sub")
for n in itertools.count():
    try:
        os.rename(sub, os.path.join(project, f"moved-{n}"))
    except OSError:
        pass
    try:
        os.symlink(outside, sub)
    except OSError:
        continue
    for _ in range(50):
        pass
    try:
        os.unlink(sub)
    except OSError:
        pass
"""


def everything_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.mark.timeout(60)
def test_a_directory_swapped_for_a_symlink_mid_write_never_leads_outside(
    project: Path, outside: Path, ctx: ToolContext
) -> None:
    (project / "sub").mkdir()
    before = everything_under(outside)
    swapper = subprocess.Popen([sys.executable, "-c", SWAPPER, str(project), str(outside)])
    written = refused = 0
    try:
        deadline = time.monotonic() + 4
        n = 0
        while time.monotonic() < deadline:
            n += 1
            try:
                write = {"path": f"sub/deep/file-{n}.txt", "content": "x\n"}
                asyncio.run(WriteFile().run(write, ctx))
                written += 1
            except ToolError:
                refused += 1
    finally:
        swapper.kill()
        swapper.wait()

    assert everything_under(outside) == before, "something was written outside the workspace"
    assert (outside / "secret.txt").read_text() == "top secret\n"
    assert not [p for p in everything_under(project) if p.endswith(".parley-tmp")]
    assert written > 0, "the race made every write fail: the test proves nothing"
    assert refused > 0, "no write met the swap: the test proves nothing"


async def test_edit_file_through_a_directory_swapped_after_the_check_is_refused(
    project: Path, outside: Path, ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic version of the race: the swap happens between the check and the open."""
    (project / "sub").mkdir()
    (project / "sub" / "secret.txt").write_text("top secret\n")
    from parley.tools import edit_file

    real_plan = edit_file._plan

    def plan_then_swap(input: dict, ctx: ToolContext):  # type: ignore[no-untyped-def]
        change = real_plan(input, ctx)
        (project / "sub").rename(project / "moved")
        (project / "sub").symlink_to(outside, target_is_directory=True)
        return change

    monkeypatch.setattr(edit_file, "_plan", plan_then_swap)
    edit = {"path": "sub/secret.txt", "edits": [{"old_string": "top", "new_string": "pwned"}]}

    with pytest.raises(ToolError, match="changed while it was being used"):
        await EditFile().run(edit, ctx)

    assert (outside / "secret.txt").read_text() == "top secret\n"
    assert everything_under(outside) == ["secret.txt"]


async def test_a_failed_write_leaves_no_temporary_file(project: Path, ctx: ToolContext) -> None:
    (project / "target").mkdir()  # a directory where the file should go: the rename fails

    with pytest.raises(ToolError, match="is a directory"):
        await WriteFile().run({"path": "target", "content": "x"}, ctx)

    assert everything_under(project) == ["target"]


async def test_a_hard_link_is_replaced_by_a_write_not_written_through(
    project: Path, outside: Path, ctx: ToolContext
) -> None:
    """Documented: a hard link to an outside file reads as that file (it is the same file),
    but a write replaces the link, so the outside name keeps its content."""
    os.link(outside / "secret.txt", project / "linked.txt")

    read = await ReadFile().run({"path": "linked.txt"}, ctx)
    await WriteFile().run({"path": "linked.txt", "content": "new\n"}, ctx)
    edit = {"path": "linked.txt", "edits": [{"old_string": "new", "new_string": "newer"}]}
    await EditFile().run(edit, ctx)

    assert "top secret" in read.text
    assert (outside / "secret.txt").read_text() == "top secret\n"
    assert (project / "linked.txt").read_text() == "newer\n"


# Path confinement, as a property: whatever path a model sends, every tool either refuses it
# or acts on a file inside the workspace; nothing outside is read, created or changed.
_PARTS = st.sampled_from(
    ["..", ".", "sub", "link_out", "link_in", "dangling", "file.txt", "new", "~", "", "x" * 300]
)
_PATHS = st.one_of(
    st.lists(_PARTS, min_size=1, max_size=6).map("/".join),
    st.lists(_PARTS, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts)),
)


def _tree() -> tuple[Path, Path, ToolContext]:
    base = Path(tempfile.mkdtemp()).resolve()
    project, outside = base / "project", base / "outside"
    (project / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "file.txt").write_text("outside\n")
    (project / "file.txt").write_text("inside\n")
    (project / "link_out").symlink_to(outside, target_is_directory=True)
    (project / "link_in").symlink_to(project / "sub", target_is_directory=True)
    (project / "dangling").symlink_to(outside / "new")
    return project, outside, ToolContext(roots=(project,), timeout_s=10.0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=_PATHS)
def test_no_path_leads_a_tool_outside_the_workspace(path: str) -> None:
    project, outside, ctx = _tree()
    calls = [
        (ReadFile(), {"path": path}),
        (WriteFile(), {"path": path, "content": "written\n"}),
        (EditFile(), {"path": path, "edits": [{"old_string": "inside", "new_string": "x"}]}),
        (EditFile(), {"path": path, "edits": [{"old_string": "outside", "new_string": "x"}]}),
    ]
    for tool, input in calls:
        try:
            output = asyncio.run(tool.run(input, ctx))
        except ToolError:
            continue
        assert "outside\n" not in output.text.replace("\t", "")
    assert everything_under(outside) == ["file.txt"]
    assert (outside / "file.txt").read_text() == "outside\n"
    for written in project.rglob("*"):
        if not written.is_symlink():
            assert written.resolve().is_relative_to(project)
