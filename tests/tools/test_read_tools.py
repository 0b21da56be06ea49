"""read_file, list_files and grep: what they return, and that they stay inside the roots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from parley.tools.base import ToolContext, ToolError
from parley.tools.grep import Grep
from parley.tools.list_files import ListFiles
from parley.tools.read_file import ReadFile


@pytest.fixture
def ctx(workspace: Path) -> ToolContext:
    return ToolContext(roots=(workspace.resolve(),), max_output_chars=2_000)


async def test_read_file_numbers_lines_and_reads_ranges(workspace: Path, ctx: ToolContext) -> None:
    (workspace / "many.txt").write_text("".join(f"line {i}\n" for i in range(1, 101)))
    whole = await ReadFile().run({"path": "README.md"}, ctx)
    assert whole.text == "1\t# Demo\n2\thello world"
    part = await ReadFile().run({"path": "many.txt", "offset": 10, "limit": 3}, ctx)
    assert part.text.splitlines() == ["10\tline 10", "11\tline 11", "12\tline 12"]
    assert part.display == {"path": "many.txt", "startLine": 10, "endLine": 12, "totalLines": 100}


async def test_read_file_cuts_long_output_and_says_how_to_read_on(
    workspace: Path, ctx: ToolContext
) -> None:
    (workspace / "big.txt").write_text("".join("x" * 90 + "\n" for _ in range(100)))
    out = await ReadFile().run({"path": "big.txt"}, ctx)
    assert len(out.text) <= 2_100
    assert "read on with offset=" in out.text.splitlines()[-1]


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("missing.txt", "does not exist"),
        ("src", "is a directory"),
        ("../outside.txt", "outside"),
        ("/etc/passwd", "outside"),
        ("", "non-empty"),
    ],
)
async def test_read_file_refuses_what_it_cannot_or_may_not_read(
    ctx: ToolContext, tmp_path: Path, path: str, problem: str
) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    with pytest.raises(ToolError, match=problem):
        await ReadFile().run({"path": path}, ctx)


async def test_symlinks_out_of_the_workspace_are_refused(
    workspace: Path, ctx: ToolContext, tmp_path: Path
) -> None:
    secret_dir = tmp_path / "secret"
    secret_dir.mkdir()
    (secret_dir / "key.txt").write_text("TOKEN=abc")
    os.symlink(secret_dir / "key.txt", workspace / "link.txt")
    os.symlink(secret_dir, workspace / "linkdir")
    for path in ("link.txt", "linkdir/key.txt"):
        with pytest.raises(ToolError, match="outside"):
            await ReadFile().run({"path": path}, ctx)
    found = await Grep().run({"pattern": "TOKEN"}, ctx)
    assert "TOKEN" not in found.text


async def test_list_files_globs_recursively_and_skips_vcs_folders(
    workspace: Path, ctx: ToolContext
) -> None:
    (workspace / ".git").mkdir()
    (workspace / ".git" / "config").write_text("x")
    (workspace / "src" / "pkg").mkdir()
    (workspace / "src" / "pkg" / "mod.py").write_text("")
    out = await ListFiles().run({"pattern": "**/*.py"}, ctx)
    assert out.text.splitlines() == ["src/app.py", "src/pkg/mod.py"]
    everything = await ListFiles().run({"pattern": "**/*"}, ctx)
    assert ".git/config" not in everything.text
    with pytest.raises(ToolError, match="no files match"):
        await ListFiles().run({"pattern": "*.rs"}, ctx)
    with pytest.raises(ToolError, match="outside"):
        await ListFiles().run({"pattern": "../*"}, ctx)


async def test_grep_reports_file_line_and_text(workspace: Path, ctx: ToolContext) -> None:
    out = await Grep().run({"pattern": r"h.llo"}, ctx)
    assert out.text.splitlines() == ["README.md:2: hello world", "src/app.py:2:     return 'héllo'"]
    one = await Grep().run({"pattern": "def", "path": "src/app.py"}, ctx)
    assert one.text == "src/app.py:1: def main():"
    none = await Grep().run({"pattern": "zzz"}, ctx)
    assert none.text.startswith("no matches")
    with pytest.raises(ToolError, match="invalid regular expression"):
        await Grep().run({"pattern": "("}, ctx)
