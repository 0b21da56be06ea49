"""Tools read regular files only, never block the event loop, and stop when their time is up:
named pipes, sockets and devices are refused at once, a regex that backtracks forever is
stopped with its process, and every read is bounded."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import stat
import time
from pathlib import Path

import pytest

from parley.config import ConfigError, load_settings
from parley.engine.service import Service
from parley.protocol import types as wire
from parley.store.memory import MemoryStore
from parley.tools.base import ToolContext, ToolError
from parley.tools.edit_file import EditFile
from parley.tools.grep import Grep
from parley.tools.list_files import ListFiles
from parley.tools.read_file import ReadFile
from parley.tools.write_file import WriteFile


async def loop_stalls_during(work: asyncio.Future[object] | asyncio.Task[object]) -> float:
    """The longest the event loop went without running a 10 ms ticker while `work` ran."""
    worst = 0.0
    last = time.monotonic()
    while not work.done():
        await asyncio.sleep(0.01)
        now = time.monotonic()
        worst = max(worst, now - last)
        last = now
    return worst


@pytest.fixture
def fifo(project: Path) -> Path:
    os.mkfifo(project / "pipe")
    return project / "pipe"


@pytest.fixture
def unix_socket(project: Path) -> object:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(project / "sock"))
    yield sock
    sock.close()


@pytest.mark.parametrize(("name", "kind"), [("pipe", "a named pipe (FIFO)"), ("sock", "a socket")])
async def test_read_file_refuses_what_is_not_a_regular_file_without_waiting(
    name: str, kind: str, fifo: Path, unix_socket: object, ctx: ToolContext
) -> None:
    began = time.monotonic()
    message = re.escape(f"{name} is {kind}; only regular files are read")
    with pytest.raises(ToolError, match=message):
        await asyncio.wait_for(ReadFile().run({"path": name}, ctx), 5)
    assert time.monotonic() - began < 1


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
async def test_read_file_refuses_a_device(project: Path, ctx: ToolContext) -> None:
    os.mknod(project / "zero", stat.S_IFCHR | 0o666, os.makedev(1, 5))  # like /dev/zero

    with pytest.raises(ToolError, match="zero is a device"):
        await asyncio.wait_for(ReadFile().run({"path": "zero"}, ctx), 5)


async def test_edits_refuse_a_named_pipe_in_preview_and_run(fifo: Path, ctx: ToolContext) -> None:
    write = {"path": "pipe", "content": "x"}
    edit = {"path": "pipe", "edits": [{"old_string": "a", "new_string": "b"}]}

    for tool, input in ((WriteFile(), write), (EditFile(), edit)):
        with pytest.raises(ToolError, match="named pipe"):
            await asyncio.wait_for(asyncio.to_thread(tool.preview, input, ctx), 5)
        with pytest.raises(ToolError, match="named pipe"):
            await asyncio.wait_for(tool.run(input, ctx), 5)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


async def test_grep_skips_a_named_pipe_in_the_tree(
    fifo: Path, project: Path, ctx: ToolContext
) -> None:
    (project / "a.txt").write_text("needle\n")

    out = await asyncio.wait_for(Grep().run({"pattern": "needle"}, ctx), 10)

    assert out.text == "a.txt:1: needle"


async def test_a_backtracking_grep_never_stalls_the_loop_and_is_stopped(
    project: Path, ctx: ToolContext
) -> None:
    (project / "trap.txt").write_text("a" * 40 + "!\n")
    search = asyncio.ensure_future(asyncio.wait_for(Grep().run({"pattern": "(a+)+$"}, ctx), 2))

    stall = await loop_stalls_during(search)

    with pytest.raises(TimeoutError):
        await search
    assert stall < 0.5


async def test_read_file_keeps_the_loop_free_and_memory_bounded_on_a_huge_line(
    project: Path, ctx: ToolContext
) -> None:
    with (project / "one-line.txt").open("wb") as fh:
        for _ in range(64):
            fh.write(b"y" * (1 << 20))  # 64 MB, no newline
    read = asyncio.ensure_future(ReadFile().run({"path": "one-line.txt"}, ctx))

    stall = await loop_stalls_during(read)
    out = read.result()

    assert stall < 0.5
    assert out.text.endswith(" [line cut]")
    assert len(out.text) < 2_100
    assert out.display is not None
    assert out.display["totalLines"] == 1


async def test_read_file_counts_and_cuts_lines_like_editors_do(
    project: Path, ctx: ToolContext
) -> None:
    (project / "crlf.txt").write_bytes(b"one\r\ntwo\x0cstill two\r\nthree")

    out = await ReadFile().run({"path": "crlf.txt", "offset": 2}, ctx)

    assert out.text == "2\ttwo\x0cstill two\n3\tthree"
    assert out.display == {"path": "crlf.txt", "startLine": 2, "endLine": 3, "totalLines": 3}


async def test_edit_file_refuses_a_file_too_large_to_hold(project: Path, ctx: ToolContext) -> None:
    (project / "huge.txt").write_bytes(b"a\n" * 5_000_001)  # 10 MB + 2 bytes
    edit = {"path": "huge.txt", "edits": [{"old_string": "a", "new_string": "b"}]}

    with pytest.raises(ToolError, match="larger than 10,000,000 bytes"):
        await EditFile().run(edit, ctx)


async def test_list_files_stops_walking_when_its_call_is_cancelled(
    project: Path, ctx: ToolContext
) -> None:
    for i in range(50):
        (project / f"d{i}").mkdir()
        for j in range(50):
            (project / f"d{i}" / f"f{j}").touch()
    listing = asyncio.ensure_future(ListFiles().run({"pattern": "**/nothing"}, ctx))
    await asyncio.sleep(0)
    listing.cancel()

    with pytest.raises(asyncio.CancelledError):
        await listing


def test_a_context_file_that_is_a_named_pipe_fails_session_create_at_once(
    tmp_path: Path,
) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": [[{"type": "text", "text": "ok"}]]}))
    settings = load_settings(
        env={
            "PARLEY_CONFIG_DIR": str(tmp_path / "config"),
            "PARLEY_SCRIPT": str(script),
            "PARLEY_PROVIDER": "scripted",
        }
    )
    project = tmp_path / "project"
    (project / ".parley" / "profiles").mkdir(parents=True)
    (project / ".parley" / "profiles" / "docs.toml").write_text('context_files = ["GUIDE.md"]\n')
    os.mkfifo(project / "GUIDE.md")

    with pytest.raises(ConfigError, match=r"GUIDE\.md is a named pipe"):
        Service(settings, MemoryStore()).create_session(
            wire.SessionCreateParams(cwd=str(project), profile="docs")
        )
