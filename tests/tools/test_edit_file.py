from __future__ import annotations

from pathlib import Path

import pytest

from parley.tools.base import ToolContext, ToolError
from parley.tools.edit_file import EditFile

SOURCE = "def greet(name):\n    return 'hello ' + name\n\n\ndef part():\n    return 'bye'\n"


@pytest.fixture
def source(project: Path) -> Path:
    path = project / "app.py"
    path.write_text(SOURCE)
    return path


def edit(old: str, new: str, **extra: object) -> dict[str, object]:
    return {"old_string": old, "new_string": new, **extra}


async def test_edit_file_replaces_a_unique_match_and_shows_the_diff(
    source: Path, ctx: ToolContext
) -> None:
    out = await EditFile().run({"path": "app.py", "edits": [edit("'hello '", "'hi '")]}, ctx)

    assert source.read_text() == SOURCE.replace("'hello '", "'hi '")
    assert out.text == "Edited app.py (1 replacement)"
    assert out.display is not None
    assert out.display["path"] == "app.py"
    assert out.display["replacements"] == 1
    assert "-    return 'hello ' + name\n+    return 'hi ' + name\n" in out.display["diff"]
    assert out.display["diff"].startswith("--- a/app.py\n+++ b/app.py\n")


async def test_edit_file_applies_several_edits_in_order_in_one_write(
    source: Path, ctx: ToolContext
) -> None:
    out = await EditFile().run(
        {
            "path": "app.py",
            "edits": [edit("greet", "welcome"), edit("welcome(name)", "welcome(person)")],
        },
        ctx,
    )

    assert "def welcome(person):" in source.read_text()
    assert out.text == "Edited app.py (2 edits, 2 replacements)"


async def test_edit_file_changes_nothing_when_a_later_edit_fails(
    source: Path, ctx: ToolContext
) -> None:
    with pytest.raises(ToolError) as failure:
        await EditFile().run(
            {"path": "app.py", "edits": [edit("greet", "welcome"), edit("greet(", "x(")]}, ctx
        )

    assert "edit 2 of 2: old_string was not found in app.py (after applying edits 1-1)" in str(
        failure.value
    )
    assert source.read_text() == SOURCE


async def test_edit_file_refuses_an_ambiguous_match_and_suggests_context_or_replace_all(
    source: Path, ctx: ToolContext
) -> None:
    with pytest.raises(ToolError) as failure:
        await EditFile().run({"path": "app.py", "edits": [edit("return", "yield")]}, ctx)

    message = str(failure.value)
    assert "old_string was found 2 times in app.py" in message
    assert "surrounding lines" in message
    assert "replace_all" in message
    assert source.read_text() == SOURCE


async def test_edit_file_counts_overlapping_matches_as_ambiguous(
    project: Path, ctx: ToolContext
) -> None:
    (project / "a.txt").write_text("aaa\n")

    with pytest.raises(ToolError, match="found 2 times"):
        await EditFile().run({"path": "a.txt", "edits": [edit("aa", "b")]}, ctx)


async def test_edit_file_replace_all_changes_every_occurrence(
    source: Path, ctx: ToolContext
) -> None:
    out = await EditFile().run(
        {"path": "app.py", "edits": [edit("return", "yield", replace_all=True)]}, ctx
    )

    assert source.read_text().count("yield") == 2
    assert out.text == "Edited app.py (2 replacements)"


async def test_edit_file_refuses_an_edit_that_changes_nothing(
    source: Path, ctx: ToolContext
) -> None:
    with pytest.raises(ToolError, match="old_string and new_string are the same"):
        await EditFile().run({"path": "app.py", "edits": [edit("greet", "greet")]}, ctx)


async def test_edit_file_on_a_missing_file_points_to_write_file(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match=r"new\.py does not exist; use write_file"):
        await EditFile().run({"path": "new.py", "edits": [edit("a", "b")]}, ctx)


async def test_edit_file_keeps_windows_line_endings(project: Path, ctx: ToolContext) -> None:
    path = project / "win.txt"
    path.write_bytes(b"first\r\nsecond\r\nthird\r\n")

    await EditFile().run({"path": "win.txt", "edits": [edit("first\nsecond", "one\ntwo")]}, ctx)

    assert path.read_bytes() == b"one\r\ntwo\r\nthird\r\n"


async def test_edit_file_refuses_binary_files(project: Path, ctx: ToolContext) -> None:
    (project / "blob.bin").write_bytes(b"\x00\x01abc")

    with pytest.raises(ToolError, match="looks like a binary file"):
        await EditFile().run({"path": "blob.bin", "edits": [edit("abc", "x")]}, ctx)


async def test_edit_file_preview_fails_like_the_edit_would(source: Path, ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="not found"):
        EditFile().preview({"path": "app.py", "edits": [edit("nope", "x")]}, ctx)

    display = EditFile().preview({"path": "app.py", "edits": [edit("bye", "ciao")]}, ctx)
    assert "+    return 'ciao'" in display["diff"]
    assert source.read_text() == SOURCE
