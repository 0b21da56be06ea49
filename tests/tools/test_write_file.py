from __future__ import annotations

import stat
from pathlib import Path

import pytest

from parley.tools.base import ToolContext, ToolError
from parley.tools.write_file import WriteFile


async def test_write_file_creates_the_file_and_missing_parent_directories(
    project: Path, ctx: ToolContext
) -> None:
    out = await WriteFile().run({"path": "src/pkg/new.py", "content": "x = 1\ny = 2\n"}, ctx)

    assert (project / "src/pkg/new.py").read_text() == "x = 1\ny = 2\n"
    assert out.text == "Created src/pkg/new.py (2 lines)"
    assert not out.is_error
    assert out.display == {
        "path": "src/pkg/new.py",
        "created": True,
        "diff": "--- /dev/null\n+++ b/src/pkg/new.py\n@@ -0,0 +1,2 @@\n+x = 1\n+y = 2\n",
    }


async def test_write_file_replaces_content_and_reports_a_diff_against_the_old_text(
    project: Path, ctx: ToolContext
) -> None:
    (project / "a.txt").write_text("one\ntwo\n")

    out = await WriteFile().run({"path": "./a.txt", "content": "one\nthree"}, ctx)

    assert (project / "a.txt").read_text() == "one\nthree"
    assert out.text == "Wrote a.txt (2 lines)"
    assert out.display is not None
    assert out.display["created"] is False
    assert out.display["diff"] == (
        "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+three\n"
        "\\ No newline at end of file\n"
    )


async def test_write_file_counts_lines_like_a_person(project: Path, ctx: ToolContext) -> None:
    one = await WriteFile().run({"path": "one.txt", "content": "only line"}, ctx)
    empty = await WriteFile().run({"path": "empty.txt", "content": ""}, ctx)

    assert (one.text, empty.text) == ("Created one.txt (1 line)", "Created empty.txt (0 lines)")
    assert (project / "empty.txt").read_bytes() == b""


async def test_write_file_keeps_an_existing_files_permissions(
    project: Path, ctx: ToolContext
) -> None:
    script = project / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o750)

    await WriteFile().run({"path": "run.sh", "content": "#!/bin/sh\necho hi\n"}, ctx)

    assert stat.S_IMODE(script.stat().st_mode) == 0o750
    assert [p.name for p in project.iterdir()] == ["run.sh"]  # no temporary file left


async def test_write_file_preview_shows_the_diff_without_writing(
    project: Path, ctx: ToolContext
) -> None:
    display = WriteFile().preview({"path": "b.txt", "content": "hello\n"}, ctx)

    assert display["created"] is True
    assert "+hello" in display["diff"]
    assert not (project / "b.txt").exists()


async def test_write_file_refuses_a_directory(project: Path, ctx: ToolContext) -> None:
    (project / "docs").mkdir()

    with pytest.raises(ToolError, match="docs is a directory"):
        await WriteFile().run({"path": "docs", "content": "x"}, ctx)


async def test_write_file_reports_a_parent_that_is_a_file(project: Path, ctx: ToolContext) -> None:
    (project / "notes").write_text("a file, not a directory")

    with pytest.raises(ToolError, match=r"cannot create the directory for notes/today\.md"):
        await WriteFile().run({"path": "notes/today.md", "content": "x"}, ctx)
