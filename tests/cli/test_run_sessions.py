"""`parley run` on stored sessions: -c, --resume, flags that win for one run, and runs that fail
on configuration leaving nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_run import run
from tests.conftest import NO_LOCAL_MODEL, ScriptWriter, scripted_env

WRITE = [
    {"type": "tool_call", "name": "write_file", "input": {"path": "out.txt", "content": "hi\n"}}
]
DONE = [{"type": "text", "text": "done"}]


def show(session_id: str, env: dict[str, str], cwd: Path) -> dict[str, object]:
    done = run(["sessions", "show", session_id, "--json"], env, cwd)
    assert done.returncode == 0, done.stderr
    info: dict[str, object] = json.loads(done.stdout)
    return info


def only_session(env: dict[str, str], cwd: Path) -> str:
    sessions = json.loads(run(["sessions", "list", "--json"], env, cwd).stdout)["sessions"]
    assert len(sessions) == 1
    session_id: str = sessions[0]["sessionId"]
    return session_id


def test_continue_picks_the_session_last_used_in_this_directory(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    env = scripted_env(isolated_env, write_script(DONE))
    first = json.loads(run(["run", "a", "--output", "json"], env, workspace).stdout)["sessionId"]
    second = json.loads(run(["run", "b", "--output", "json"], env, workspace).stdout)["sessionId"]
    run(["run", "--resume", first, "again"], env, workspace)  # now the first is the last used

    done = run(["run", "-c", "and again", "--output", "json"], env, workspace)

    assert json.loads(done.stdout)["sessionId"] == first
    assert show(first, env, workspace)["turnCount"] == 3
    assert show(second, env, workspace)["turnCount"] == 1


def test_continue_with_no_session_here_says_so_and_stores_nothing(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    env = scripted_env(isolated_env, write_script(DONE))

    done = run(["run", "-c", "hello"], env, workspace)

    assert done.returncode == 2
    assert f"no earlier session in {workspace.resolve()} to continue" in done.stderr
    assert not (Path(isolated_env["PARLEY_HOME"]) / "parley.db").exists()


def test_a_run_without_a_provider_creates_no_database(
    isolated_env: dict[str, str], workspace: Path
) -> None:
    done = run(["run", "hello"], {**isolated_env, **NO_LOCAL_MODEL}, workspace)

    assert done.returncode == 2
    assert not Path(isolated_env["PARLEY_HOME"]).exists()


def test_a_run_that_cannot_build_its_provider_leaves_no_empty_turn(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    script = write_script(DONE, DONE)
    session_id = json.loads(
        run(["run", "a", "--output", "json"], scripted_env(isolated_env, script), workspace).stdout
    )["sessionId"]
    before = show(session_id, isolated_env, workspace)
    script.unlink()

    done = run(["run", "--resume", session_id, "b"], isolated_env, workspace)

    assert done.returncode == 2
    assert "provider 'scripted' is not configured" in done.stderr
    after = show(session_id, isolated_env, workspace)
    assert (after["turnCount"], after["lastSeq"]) == (before["turnCount"], before["lastSeq"])


def test_a_resumed_scripted_session_finds_its_script(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    env = scripted_env(isolated_env, write_script(DONE))
    session_id = json.loads(run(["run", "a", "--output", "json"], env, workspace).stdout)[
        "sessionId"
    ]

    done = run(["run", "--resume", session_id, "b"], isolated_env, workspace)  # no PARLEY_SCRIPT

    assert (done.returncode, done.stdout) == (0, "done\n"), done.stderr


def test_a_mode_flag_wins_for_that_run_only_and_says_so(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    env = scripted_env(isolated_env, write_script(WRITE, DONE))
    asked = run(["run", "write it"], env, workspace)  # mode ask, nobody to ask
    session_id = only_session(env, workspace)

    done = run(["run", "-y", "--resume", session_id, "write it"], env, workspace)

    assert asked.returncode == 3
    assert done.returncode == 0, done.stderr
    assert (workspace / "out.txt").read_text() == "hi\n"
    assert "permission mode allow for this run (from the command line)" in done.stderr
    assert "the session's own is ask" in done.stderr
    assert show(session_id, env, workspace)["permissionMode"] == "ask"


def test_a_profile_flag_on_a_stored_session_says_why_it_does_not_apply(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    env = scripted_env(isolated_env, write_script(DONE))
    run(["run", "a"], env, workspace)

    done = run(["run", "-c", "--profile", "plan", "b"], env, workspace)

    assert done.returncode == 0, done.stderr
    assert "--profile applies to new sessions" in done.stderr
    assert "keeps profile default" in done.stderr


def test_ephemeral_cannot_continue(isolated_env: dict[str, str], workspace: Path) -> None:
    done = run(["run", "--ephemeral", "-c", "x"], isolated_env, workspace)

    assert done.returncode == 2
    assert "--ephemeral" in done.stderr
