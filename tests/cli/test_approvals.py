"""`parley run` and approvals: a y / n / a prompt on the terminal, -y and -n, and exit 3 when a
call needed approval and there was no terminal to ask on."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import select
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parley.cli.approvals import (
    AnswerYes,
    TerminalAnswers,
    Unanswerable,
    approvals_for_run,
    terminal_available,
)
from parley.core.errors import ParleyError
from parley.engine.askers import NoApprovals
from parley.engine.permissions import ALL_DECISIONS
from parley.protocol import types as wire
from parley.protocol.codec import unstructure
from tests.conftest import ScriptWriter, scripted_env

PARLEY = [sys.executable, "-m", "parley"]


@pytest.fixture
def pty() -> Iterator[tuple[int, str]]:
    """A pseudo-terminal: the controlling side's fd, and the terminal's path."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    yield master, path
    os.close(master)
    os.close(slave)


def read_until(fd: int, marker: bytes, timeout: float = 10.0) -> bytes:
    """What the terminal showed, up to and including `marker`."""
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{marker!r} never appeared; the terminal showed {seen!r}"
        if select.select([fd], [], [], left)[0]:
            seen += os.read(fd, 4096)
    return seen


def question(name: str = "bash", **display: object) -> dict[str, Any]:
    """An `approval/requested` question's params, as the terminal gets them."""
    asked = wire.ApprovalRequestParams(
        session_id="ses_1",
        turn_id="turn_1",
        approval_id="appr_1",
        tool_call_id="call_1",
        tool=name,
        input={"command": "git push"},
        options=list(ALL_DECISIONS),
        timeout_ms=60_000,
        reason=f"{name} needs approval (mode)",
        display=dict(display) or None,
    )
    return unstructure(asked)


@pytest.mark.parametrize(
    ("typed", "decision"),
    [
        (b"y\n", "allow_once"),
        (b"yes\n", "allow_once"),
        (b"a\n", "allow_always"),
        (b"n\n", "reject_once"),
        (b"\n", "reject_once"),
        (b"\x04", "reject_once"),  # Ctrl-D: end of input
    ],
)
async def test_the_terminal_prompt_maps_keys_to_decisions(
    pty: tuple[int, str], typed: bytes, decision: str
) -> None:
    master, path = pty
    asking = asyncio.create_task(TerminalAnswers(path)(question(command="git push")))

    await asyncio.to_thread(read_until, master, b"in this session: ")
    os.write(master, typed)

    assert await asking == decision


async def test_the_terminal_prompt_shows_the_command_or_the_diff(pty: tuple[int, str]) -> None:
    master, path = pty
    approvals = TerminalAnswers(path)
    asking = asyncio.create_task(approvals(question(command="git push origin main")))
    shown = await asyncio.to_thread(read_until, master, b"in this session: ")
    os.write(master, b"n\n")
    await asking

    diff = "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-old\n+new\n"
    asking = asyncio.create_task(approvals(question("edit_file", path="a.txt", diff=diff)))
    shown_edit = await asyncio.to_thread(read_until, master, b"in this session: ")
    os.write(master, b"n\n")
    await asking

    assert b"parley: bash needs approval (mode)" in shown
    assert b"  $ git push origin main" in shown
    assert b"[y]es once, [n]o, [a]lways allow bash in this session: " in shown
    assert b"  edit_file a.txt" in shown_edit
    assert b"  -old\r\n  +new" in shown_edit


async def test_an_unclear_answer_is_asked_again(pty: tuple[int, str]) -> None:
    master, path = pty
    asking = asyncio.create_task(TerminalAnswers(path)(question(command="ls")))
    await asyncio.to_thread(read_until, master, b"in this session: ")

    os.write(master, b"maybe\n")
    await asyncio.to_thread(read_until, master, b"Please answer y, n or a: ")
    os.write(master, b"y\n")

    assert await asking == "allow_once"


async def test_a_prompt_nobody_answers_can_be_cancelled(pty: tuple[int, str]) -> None:
    master, path = pty
    asking = asyncio.create_task(TerminalAnswers(path)(question(command="ls")))
    await asyncio.to_thread(read_until, master, b"in this session: ")

    asking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asking

    await asyncio.to_thread(read_until, master, b"(no longer waiting for an answer)")


def test_run_flags_choose_the_mode_and_who_answers() -> None:
    yes = approvals_for_run(yes=True, no=False, interactive=True)
    no = approvals_for_run(yes=False, no=True, interactive=True)
    tty = approvals_for_run(yes=False, no=False, interactive=True)
    headless = approvals_for_run(yes=False, no=False, interactive=False)

    assert (yes.permission_mode, type(yes.approver)) == ("allow", AnswerYes)
    assert (no.permission_mode, type(no.approver)) == ("deny", NoApprovals)
    assert (tty.permission_mode, type(tty.approver)) == (None, TerminalAnswers)
    assert (headless.permission_mode, type(headless.approver)) == (None, Unanswerable)
    with pytest.raises(ParleyError, match="-y and -n contradict each other"):
        approvals_for_run(yes=True, no=True, interactive=False)


def test_a_missing_terminal_is_detected(tmp_path: Path, pty: tuple[int, str]) -> None:
    assert terminal_available(pty[1])
    assert not terminal_available(str(tmp_path / "no-tty"))


# --- `parley run` end to end ----------------------------------------------------------------


WRITE = [
    {"type": "tool_call", "name": "write_file", "input": {"path": "out.txt", "content": "hi\n"}}
]
DONE = [{"type": "text", "text": "done"}]


def run_headless(
    args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """`parley run` in a new session: no controlling terminal, as under CI or a service."""
    return subprocess.run(
        [*PARLEY, "run", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_run_without_a_terminal_denies_an_ask_and_exits_3_naming_y(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    env = scripted_env(isolated_env, write_script(WRITE, DONE))

    done = run_headless(["write it"], env, workspace)

    assert done.returncode == 3, done.stderr
    assert done.stdout == "done\n"
    assert "parley: write_file needed approval and there is no terminal to ask on" in done.stderr
    assert "run with -y" in done.stderr
    assert not (workspace / "out.txt").exists()


def test_run_y_allows_and_exits_0(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    env = scripted_env(isolated_env, write_script(WRITE, DONE))

    done = run_headless(["-y", "write it"], env, workspace)

    assert done.returncode == 0, done.stderr
    assert (workspace / "out.txt").read_text() == "hi\n"


def test_run_n_refuses_without_failing(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    env = scripted_env(isolated_env, write_script(WRITE, DONE))

    done = run_headless(["-n", "write it"], env, workspace)

    assert done.returncode == 0, done.stderr
    assert not (workspace / "out.txt").exists()


def test_run_y_answers_yes_to_ask_rules_too(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[rules]]\ntool = "write_file"\naction = "ask"\n')
    env = scripted_env(isolated_env, write_script(WRITE, DONE))

    done = run_headless(
        ["-y", "--config", str(config), "--display", "ndjson", "write it"], env, workspace
    )

    assert done.returncode == 0, done.stderr
    approvals = [json.loads(line) for line in done.stderr.splitlines() if "approval/" in line]
    # The question is an event of the session too, then the answer -y gave.
    assert [(m["method"], m["params"].get("decision")) for m in approvals] == [
        ("approval/requested", None),
        ("approval/resolved", "allow_once"),
    ]
    assert approvals[0]["params"]["tool"] == "write_file"
    assert approvals[0]["params"]["approvalId"] == approvals[1]["params"]["approvalId"]
    assert (workspace / "out.txt").exists()


@pytest.mark.parametrize(("key", "written"), [(b"y\n", True), (b"n\n", False)])
def test_run_in_a_terminal_asks_there(
    isolated_env: dict[str, str],
    write_script: ScriptWriter,
    workspace: Path,
    pty: tuple[int, str],
    key: bytes,
    written: bool,
) -> None:
    master, path = pty
    env = scripted_env(isolated_env, write_script(WRITE, DONE))
    with open(path, "rb") as terminal:
        proc = subprocess.Popen(
            [*PARLEY, "run", "write it"],
            env=env,
            cwd=workspace,
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            # Make the pty this process's controlling terminal, as a login shell would.
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
    shown = read_until(master, b"in this session: ")
    os.write(master, key)
    out, err = proc.communicate(timeout=30)

    assert b"write_file needs approval (permission mode 'ask')" in shown
    assert b"+++ b/out.txt" in shown
    assert proc.returncode == 0, err
    assert out == "done\n"
    assert (workspace / "out.txt").exists() == written
