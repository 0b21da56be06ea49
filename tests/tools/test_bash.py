from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from parley.tools import bash as bash_module
from parley.tools.base import ToolContext, ToolError
from parley.tools.bash import Bash
from tests.processes import dead


def pids(text: str) -> list[int]:
    return [int(word) for word in text.split() if word.isdigit()]


async def test_bash_runs_in_the_session_directory_and_reports_the_exit_code(
    project: Path, ctx: ToolContext
) -> None:
    out = await Bash().run({"command": "pwd; echo to-stderr >&2"}, ctx)

    assert out.text == f"{project}\nto-stderr\n[exit code 0]"
    assert not out.is_error
    assert out.display == {
        "command": "pwd; echo to-stderr >&2",
        "exitCode": 0,
        "timedOut": False,
    }


async def test_bash_failure_is_an_error_result_with_its_output(ctx: ToolContext) -> None:
    out = await Bash().run({"command": "echo partial; exit 7"}, ctx)

    assert out.is_error
    assert out.text == "partial\n[exit code 7]"
    assert out.display is not None
    assert out.display["exitCode"] == 7


async def test_bash_reports_a_command_killed_by_a_signal(ctx: ToolContext) -> None:
    out = await Bash().run({"command": "kill -KILL $$"}, ctx)

    assert out.is_error
    assert out.text == "[killed by signal SIGKILL]"


async def test_bash_timeout_stops_the_command_and_all_its_children(ctx: ToolContext) -> None:
    command = "sleep 30 & echo $!; (sleep 30 & echo $!; wait) & sleep 30"

    out = await Bash().run({"command": command, "timeout": 0.5}, ctx)

    assert out.is_error
    assert out.text.endswith("[timed out after 0.5s; the command and its processes were stopped]")
    assert out.display is not None
    assert out.display["timedOut"] is True
    children = pids(out.text)
    assert len(children) == 2
    assert [await dead(pid) for pid in children] == [True, True]


async def test_bash_kills_children_that_ignore_sigterm(
    ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bash_module, "KILL_GRACE_S", 0.2)

    out = await Bash().run(
        {"command": "trap '' TERM; sleep 30 & echo $!; sleep 30", "timeout": 0.3}, ctx
    )

    assert out.display is not None
    assert out.display["timedOut"] is True
    assert out.display["exitCode"] == -9
    assert await dead(pids(out.text)[0])


async def test_bash_stops_background_processes_when_the_command_ends(ctx: ToolContext) -> None:
    out = await Bash().run({"command": "sleep 30 & echo $!"}, ctx)

    assert out.text.endswith("[exit code 0]")
    assert await dead(pids(out.text)[0])


async def test_bash_cancelled_mid_run_kills_its_process_group(
    project: Path, ctx: ToolContext
) -> None:
    task = asyncio.create_task(
        Bash().run({"command": "sleep 30 & echo $! > child.pid; sleep 30"}, ctx)
    )
    pid_file = project / "child.pid"
    while not pid_file.exists() or not pid_file.read_text().strip():
        await asyncio.sleep(0.01)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await dead(int(pid_file.read_text()))


async def test_bash_keeps_the_head_and_tail_of_long_output(project: Path) -> None:
    ctx = ToolContext(roots=(project,), max_output_chars=1_000)

    out = await Bash().run(
        {"command": "echo START; head -c 100000 /dev/zero | tr '\\0' x; echo; echo END"}, ctx
    )

    assert out.text.startswith("START\nxxx")
    assert "bytes of output cut ...]" in out.text
    assert out.text.endswith("xxx\nEND\n[exit code 0]")
    assert len(out.text) < 1_200
    cut = int(out.text.split("[... ")[1].split()[0])
    assert cut == len("START\n") + 100_000 + len("\nEND\n") - 1_000


async def test_bash_does_not_pass_provider_credentials_to_commands(
    ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    monkeypatch.setenv("SOME_SETTING", "visible")

    out = await Bash().run({"command": 'echo "${ANTHROPIC_API_KEY:-hidden} $SOME_SETTING"'}, ctx)

    assert out.text == "hidden visible\n[exit code 0]"


async def test_bash_gets_no_stdin(ctx: ToolContext) -> None:
    out = await Bash().run({"command": "cat; echo read-done"}, ctx)

    assert out.text == "read-done\n[exit code 0]"


async def test_bash_in_a_missing_directory_is_a_tool_error(tmp_path: Path) -> None:
    ctx = ToolContext(roots=(tmp_path / "gone",))

    with pytest.raises(ToolError, match="cannot start the command"):
        await Bash().run({"command": "true"}, ctx)
