"""What Parley answers an ACP agent's fs/read_text_file: the file's text (or some of its lines)
inside the session's directories, ACP's resource_not_found for a missing file (an empty text
for Gemini CLI, which cannot read error answers), a refusal outside."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.agents.acp_files import RESOURCE_NOT_FOUND, AgentFiles
from parley.agents.rpc import Refusal
from parley.tools.base import ToolContext, ToolError


@pytest.fixture
def files(tmp_path: Path) -> AgentFiles:
    (tmp_path / "project").mkdir()
    (tmp_path / "extra").mkdir()
    (tmp_path / "project" / "a.txt").write_text("one\ntwo\nthree\n")
    (tmp_path / "extra" / "b.txt").write_text("bee")
    (tmp_path / "secret.txt").write_text("no")
    roots = (tmp_path / "project", tmp_path / "extra")
    return AgentFiles(ToolContext(roots=tuple(r.resolve() for r in roots)), "some-agent")


async def test_whole_file_and_lines(files: AgentFiles, tmp_path: Path) -> None:
    path = str(tmp_path / "project" / "a.txt")
    assert await files.read({"path": path}) == {"content": "one\ntwo\nthree\n"}
    assert await files.read({"path": path, "line": 2}) == {"content": "two\nthree\n"}
    assert await files.read({"path": path, "line": 2, "limit": 1}) == {"content": "two\n"}
    assert await files.read({"path": path, "limit": 1}) == {"content": "one\n"}
    assert await files.read({"path": str(tmp_path / "extra" / "b.txt")}) == {"content": "bee"}


async def test_missing_outside_and_bad_input(files: AgentFiles, tmp_path: Path) -> None:
    missing = str(tmp_path / "project" / "nope.txt")
    with pytest.raises(Refusal) as caught:
        await files.read({"path": missing})
    assert caught.value.code == RESOURCE_NOT_FOUND
    assert str(caught.value) == f"Resource not found: {missing}"
    assert caught.value.data == {"uri": missing}
    with pytest.raises(ToolError, match="outside"):
        await files.read({"path": str(tmp_path / "secret.txt")})
    with pytest.raises(ToolError, match="absolute"):
        await files.read({"path": "a.txt"})
    with pytest.raises(ToolError, match="line"):
        await files.read({"path": str(tmp_path / "project" / "a.txt"), "line": 0})
    (tmp_path / "project" / "bin").write_bytes(b"\x00\x01")
    with pytest.raises(ToolError, match="binary"):
        await files.read({"path": str(tmp_path / "project" / "bin")})


async def test_gemini_cli_gets_an_empty_text_for_a_missing_file(tmp_path: Path) -> None:
    gemini = AgentFiles(ToolContext(roots=(tmp_path.resolve(),)), "gemini-cli")
    assert await gemini.read({"path": str(tmp_path / "new.txt")}) == {"content": ""}
    with pytest.raises(ToolError, match="outside"):
        await gemini.read({"path": "/etc/hostname"})
