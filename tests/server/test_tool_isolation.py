"""What a tool meets never stops the server: over a real `parley serve`, a turn whose tool
would freeze (a regex that backtracks forever, a named pipe, a device) ends within the tool
timeout, and other requests are answered while it runs."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from parley.client import Notification
from tests.conftest import ScriptWriter

# Backtracks for ages on a line of 40 "a"s followed by "!": (a+)+$ tries every split.
CATASTROPHIC = "(a+)+$"
TOOL_TIMEOUT_S = 3


def tool_turn(name: str, input: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [
        [{"type": "tool_call", "id": "call_1", "name": name, "input": input}],
        [{"type": "text", "text": "done"}],
    ]


async def assert_responsive_while_turn_runs(
    agent: Any, session_id: str, started: asyncio.Event
) -> None:
    """While the tool runs, other requests are answered promptly, again and again."""
    await asyncio.wait_for(started.wait(), 10)
    for _ in range(5):
        began = time.monotonic()
        listing = await asyncio.wait_for(agent.list_sessions(), 5)
        assert session_id in [s.session_id for s in listing.sessions]
        assert time.monotonic() - began < 1.0
        await asyncio.sleep(0.2)


async def run_frozen_tool_turn(
    spawn: Any, write_script: ScriptWriter, workspace: Path, name: str, input: dict[str, Any]
) -> Notification:
    agent = await spawn(
        write_script(*tool_turn(name, input)),
        env={"PARLEY_TOOL_TIMEOUT": str(TOOL_TIMEOUT_S)},
    )
    session = await agent.create_session(cwd=str(workspace))
    started = asyncio.Event()
    events: list[Notification] = []

    def seen(event: Notification) -> None:
        events.append(event)
        if event.method == "tool/started":
            started.set()

    began = time.monotonic()
    turn = asyncio.create_task(agent.submit_turn(session.session_id, "go", on_event=seen))
    await assert_responsive_while_turn_runs(agent, session.session_id, started)
    result = await asyncio.wait_for(turn, TOOL_TIMEOUT_S + 15)
    assert result.stop_reason == "end_turn"
    assert time.monotonic() - began < TOOL_TIMEOUT_S + 10
    return next(e for e in events if e.method == "tool/completed")


async def test_a_catastrophic_grep_pattern_times_out_while_the_server_keeps_answering(
    spawn: Any, write_script: ScriptWriter, workspace: Path
) -> None:
    (workspace / "trap.txt").write_text("a" * 40 + "!\n")

    completed = await run_frozen_tool_turn(
        spawn, write_script, workspace, "grep", {"pattern": CATASTROPHIC}
    )

    assert completed.params["isError"] is True
    assert "timed out" in completed.params["output"]


async def test_read_file_on_a_named_pipe_is_refused_at_once(
    spawn: Any, write_script: ScriptWriter, workspace: Path
) -> None:
    os.mkfifo(workspace / "pipe")

    completed = await run_frozen_tool_turn(
        spawn, write_script, workspace, "read_file", {"path": "pipe"}
    )

    assert completed.params["isError"] is True
    assert "named pipe" in completed.params["output"]
    assert completed.params["durationMs"] < 2_000


@pytest.mark.parametrize(
    ("name", "input"),
    [
        ("write_file", {"path": "pipe", "content": "x"}),
        ("edit_file", {"path": "pipe", "edits": [{"old_string": "a", "new_string": "b"}]}),
        ("grep", {"pattern": "x"}),
    ],
    ids=["write_file", "edit_file", "grep-a-tree-with-a-pipe"],
)
async def test_other_file_tools_never_wait_on_a_named_pipe(
    spawn: Any, write_script: ScriptWriter, workspace: Path, name: str, input: dict[str, Any]
) -> None:
    os.mkfifo(workspace / "pipe")

    completed = await run_frozen_tool_turn(spawn, write_script, workspace, name, input)

    assert completed.params["durationMs"] < 2_000
    assert "no matches" in completed.params["output"] or completed.params["isError"] is True


async def test_stdin_closing_mid_grep_stops_the_server(
    spawn: Any, write_script: ScriptWriter, workspace: Path
) -> None:
    """The host going away is noticed even while a tool burns CPU."""
    (workspace / "trap.txt").write_text("a" * 40 + "!\n")
    agent = await spawn(
        write_script(*tool_turn("grep", {"pattern": CATASTROPHIC})),
        env={"PARLEY_TOOL_TIMEOUT": "60"},
    )
    session = await agent.create_session(cwd=str(workspace))
    started = asyncio.Event()

    def seen(event: Notification) -> None:
        if event.method == "tool/started":
            started.set()

    turn = asyncio.create_task(agent.submit_turn(session.session_id, "go", on_event=seen))
    await asyncio.wait_for(started.wait(), 10)
    await asyncio.sleep(0.5)  # the search is running now
    assert agent.process.stdin is not None
    agent.process.stdin.close()

    code = await asyncio.wait_for(agent.process.wait(), 15)
    turn.cancel()
    await asyncio.gather(turn, return_exceptions=True)
    assert code == 0


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
async def test_read_file_with_a_limit_streams_a_300_mb_file(
    spawn: Any, write_script: ScriptWriter, workspace: Path
) -> None:
    line = b"x" * 99 + b"\n"
    with (workspace / "big.log").open("wb") as fh:
        block = line * 10_000  # 1 MB
        for _ in range(300):
            fh.write(block)
    agent = await spawn(
        write_script(*tool_turn("read_file", {"path": "big.log", "offset": 5, "limit": 1}))
    )
    session = await agent.create_session(cwd=str(workspace))
    before = peak_rss_mb(agent.process.pid)
    events: list[Notification] = []

    began = time.monotonic()
    await agent.submit_turn(session.session_id, "go", on_event=events.append)

    completed = next(e for e in events if e.method == "tool/completed")
    assert completed.params["isError"] is False
    assert completed.params["output"] == "5\t" + "x" * 99
    assert completed.params["display"]["totalLines"] == 3_000_000
    assert time.monotonic() - began < 10
    assert peak_rss_mb(agent.process.pid) - before < 100
