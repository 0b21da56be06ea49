"""A tool call inside a real turn: what the model gets back and what a host sees."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.engine_turns import Host, Turns, call
from tests.processes import dead


async def test_bad_input_from_the_model_is_a_tool_error_and_the_turn_goes_on(
    tmp_path: Path, project: Path
) -> None:
    turns = Turns(tmp_path, project)

    result = await turns.run(
        [
            call("edit_file", path="a.txt", old_string="x", new_string="y"),
            call("bash", command=42),
            call("write_file", path="a.txt"),
        ],
        mode="allow",
    )

    assert result.stop_reason == "end_turn"
    assert result.reply == "done"
    outputs = [(c["name"], c["isError"], c["output"]) for c in turns.completed()]
    assert outputs == [
        (
            "edit_file",
            True,
            "invalid input for edit_file: input: Additional properties are not allowed "
            "('new_string', 'old_string' were unexpected)",
        ),
        ("bash", True, "invalid input for bash: /command: 42 is not valid: expected string"),
        (
            "write_file",
            True,
            "invalid input for write_file: /content: missing required field 'content'",
        ),
    ]


async def test_edit_calls_carry_path_and_diff_on_started_and_completed(
    tmp_path: Path, project: Path
) -> None:
    (project / "a.txt").write_text("old\n")
    turns = Turns(tmp_path, project)

    await turns.run(
        [call("edit_file", path="a.txt", edits=[{"old_string": "old", "new_string": "new"}])],
        mode="accept-edits",
    )

    diff = "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-old\n+new\n"
    [started] = turns.events.of("tool/started")
    assert started["kind"] == "edit"
    assert started["display"] == {"path": "a.txt", "diff": diff, "replacements": 1}
    [completed] = turns.completed()
    assert completed["display"] == {"path": "a.txt", "diff": diff, "replacements": 1}
    assert (project / "a.txt").read_text() == "new\n"


async def test_an_edit_that_cannot_apply_fails_without_asking_anyone(
    tmp_path: Path, project: Path
) -> None:
    (project / "a.txt").write_text("old\n")
    turns = Turns(tmp_path, project)
    host = Host("allow_once")

    await turns.run(
        [call("edit_file", path="a.txt", edits=[{"old_string": "nope", "new_string": "x"}])],
        port=host,
    )

    assert host.questions == []
    [completed] = turns.completed()
    assert completed["isError"] is True
    assert completed["output"].startswith("edit: old_string was not found in a.txt")


async def test_a_write_outside_the_roots_fails_without_asking_anyone(
    tmp_path: Path, project: Path
) -> None:
    turns = Turns(tmp_path, project)
    host = Host("allow_once")

    await turns.run([call("write_file", path="../escape.txt", content="x")], port=host)

    assert host.questions == []
    assert "outside the session's working directory" in turns.completed()[0]["output"]
    assert not (tmp_path / "escape.txt").exists()


async def test_bash_calls_carry_command_and_exit_code(tmp_path: Path, project: Path) -> None:
    turns = Turns(tmp_path, project)

    await turns.run([call("bash", command="exit 3")], mode="allow")

    [started] = turns.events.of("tool/started")
    assert started["kind"] == "execute"
    assert started["display"] == {"command": "exit 3", "cwd": str(project)}
    [completed] = turns.completed()
    assert completed["display"] == {"command": "exit 3", "exitCode": 3, "timedOut": False}
    assert completed["output"] == "[exit code 3]"


async def test_bash_timeout_from_the_model_is_not_cut_short_by_the_tool_timeout(
    tmp_path: Path, project: Path
) -> None:
    turns = Turns(tmp_path, project, tool_timeout=0.2)

    await turns.run([call("bash", command="sleep 0.5; echo finished", timeout=5)], mode="allow")

    assert turns.completed()[0]["output"] == "finished\n[exit code 0]"


async def test_bash_without_a_timeout_gets_the_sessions_tool_timeout(
    tmp_path: Path, project: Path
) -> None:
    turns = Turns(tmp_path, project, tool_timeout=0.3)

    await turns.run([call("bash", command="sleep 30")], mode="allow")

    [completed] = turns.completed()
    assert completed["display"]["timedOut"] is True
    assert "timed out after 0.3s" in completed["output"]


async def test_a_command_running_when_the_turn_is_cancelled_is_stopped_and_completed(
    tmp_path: Path, project: Path
) -> None:
    turns = Turns(tmp_path, project)
    turn = asyncio.create_task(
        turns.run([call("bash", command="echo $$ > shell.pid; sleep 30")], mode="allow")
    )
    pid_file = project / "shell.pid"
    while not pid_file.exists() or not pid_file.read_text().strip():
        await asyncio.sleep(0.01)

    [session_id] = turns.service._loaded
    assert turns.service.cancel_turn(session_id)
    result = await turn

    assert result.stop_reason == "cancelled"
    assert turns.events.methods()[-2:] == ["tool/completed", "error"]
    [completed] = turns.completed()
    assert completed["isError"] is True
    assert completed["output"].startswith("The tool call was interrupted")
    assert await dead(int(pid_file.read_text()))
