"""`parley` and `parley run` in a real pseudo-terminal, as a person uses them: what is drawn,
approvals answered inline, Ctrl-C, slash commands, continuing a session."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.terminal import Terminal
from tests.conftest import NO_LOCAL_MODEL, ScriptWriter, scripted_env

Open = Callable[..., Terminal]

READ_EDIT = [
    {"type": "thinking", "text": "The README first."},
    {"type": "text", "text": "Let me look."},
    {"type": "tool_call", "name": "read_file", "input": {"path": "README.md"}},
    {
        "type": "tool_call",
        "name": "edit_file",
        "input": {"path": "README.md", "edits": [{"old_string": "hello", "new_string": "bye"}]},
    },
]
REPLY = [{"type": "text", "text": "I changed **one** word."}]
WRITE = [
    {"type": "tool_call", "name": "write_file", "input": {"path": "out.txt", "content": "hi\n"}}
]
SLOW = [
    {"type": "text", "text": "Working on it"},
    {"type": "text", "text": " never shown", "delayMs": 30_000},
]


@pytest.fixture
def terminal(isolated_env: dict[str, str], workspace: Path) -> Iterator[Open]:
    """terminal(args, script=None) -> `parley ARGS` running in a pseudo-terminal."""
    opened: list[Terminal] = []

    def open_(args: list[str], script: Path | None = None) -> Terminal:
        env = scripted_env(isolated_env, script) if script else isolated_env
        opened.append(Terminal(args, env, workspace))
        return opened[-1]

    yield open_
    for term in opened:
        term.close()


def sessions(env: dict[str, str], cwd: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "parley", "sessions", "list", "--json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )
    listed: list[dict[str, object]] = json.loads(done.stdout)["sessions"]
    return listed


def test_run_in_a_terminal_draws_the_work_and_asks_inline(
    terminal: Open, write_script: ScriptWriter, workspace: Path
) -> None:
    term = terminal(["run", "change it"], write_script(READ_EDIT, REPLY))

    term.expect("The README first.")
    term.expect("Let me look.")
    term.expect("✓ read_file README.md  2 lines")
    term.expect("? edit_file needs approval (permission mode 'ask'): README.md")
    term.expect("-hello world")
    term.expect("Allow? [y]es once, [n]o, [a]lways allow edit_file in this session:")
    term.send("y\r")
    term.expect("allowed once")
    term.expect("✓ edit_file README.md  changed, +1 -1")
    term.expect("I changed one word.")  # Markdown, not asterisks
    term.expect(" in · ")
    term.expect("session ses_")

    assert term.exit_status() == 0
    assert (workspace / "README.md").read_text() == "# Demo\nbye world\n"
    assert "\x1b[" in term.raw  # colour and live drawing, on a terminal only


def test_a_conversation_answers_reports_cost_and_says_how_to_continue(
    terminal: Open, write_script: ScriptWriter, isolated_env: dict[str, str], workspace: Path
) -> None:
    term = terminal([], write_script([{"type": "text", "text": "Hi there."}]))

    term.expect("new session · scripted/")
    term.expect(">")
    term.line("hello")
    term.expect("Hi there.")
    term.line("/cost")
    term.expect(" in · ")
    term.expect("over 1 turn")
    term.send("\x04")  # Ctrl-D
    term.expect("continue it with `parley -c`")

    assert term.exit_status() == 0
    [stored] = sessions(isolated_env, workspace)
    assert (stored["turnCount"], stored["title"]) == (1, "hello")
    assert stored["sessionId"] in term.shown


def test_ctrl_c_cancels_the_running_turn_and_a_second_one_exits(
    terminal: Open, write_script: ScriptWriter, isolated_env: dict[str, str], workspace: Path
) -> None:
    term = terminal(["chat"], write_script(SLOW))
    term.expect(">")
    term.line("go")
    term.expect("Working on it")

    term.send("\x03")
    term.expect("cancelling the turn (Ctrl-C again to exit)")
    term.expect("cancelled")
    term.expect(">")
    term.send("\x03")

    assert term.exit_status() == 0
    [stored] = sessions(isolated_env, workspace)
    assert stored["turnCount"] == 1


def test_approvals_are_asked_inline_and_slash_commands_change_the_session(
    terminal: Open, write_script: ScriptWriter, isolated_env: dict[str, str], workspace: Path
) -> None:
    term = terminal([], write_script(WRITE, [{"type": "text", "text": "ok"}], WRITE, REPLY))
    term.expect(">")
    term.line("write it")
    term.expect("? write_file needs approval (permission mode 'ask'): out.txt")
    term.expect("Allow?")
    term.send("n\r")
    term.expect("rejected")
    term.expect("⊘ write_file out.txt  refused: the user rejected this tool call")

    term.line("/mode allow")
    term.expect("mode allow: everything runs without asking")
    term.line("again")
    term.expect("✓ write_file out.txt  created, +1 -0")
    term.line("/fork")
    term.expect("you are in the copy now")
    term.line("/sessions")
    term.expect("continue one with /resume N")
    term.line("/resume 2")
    term.expect("2 turns")
    term.line("/exit")

    assert term.exit_status() == 0
    assert (workspace / "out.txt").read_text() == "hi\n"
    stored = sessions(isolated_env, workspace)
    assert [s["permissionMode"] for s in stored] == ["allow", "allow"]  # the fork, the original
    assert stored[0]["forkedFrom"] == stored[1]["sessionId"]


def test_continuing_shows_where_the_session_stands(
    terminal: Open, write_script: ScriptWriter, isolated_env: dict[str, str], workspace: Path
) -> None:
    script = write_script([{"type": "text", "text": "The **first** answer."}])
    subprocess.run(
        [sys.executable, "-m", "parley", "run", "first question"],
        env=scripted_env(isolated_env, script),
        cwd=workspace,
        capture_output=True,
        timeout=30,
        check=True,
    )

    term = terminal(["-c"])  # no PARLEY_SCRIPT: the session knows its script

    term.expect('"first question" · 1 turn · scripted/')
    term.expect("> first question")
    term.expect("The first answer.")
    term.expect(">")  # the prompt is up: Enter typed ahead of it would be a newline (Ctrl-J)
    term.line("more")
    term.expect("The first answer.")  # a scripted model replays its script from the start
    term.send("\x04")
    assert term.exit_status() == 0
    [stored] = sessions(isolated_env, workspace)
    assert stored["turnCount"] == 2


def test_input_spans_lines(
    terminal: Open, write_script: ScriptWriter, isolated_env: dict[str, str], workspace: Path
) -> None:
    done = [{"type": "text", "text": "Noted."}]
    term = terminal([], write_script(done, done))
    term.expect(">")
    term.send("first line\x1b\r")  # Alt-Enter: a new line, not sent
    term.line("second line")
    term.expect("Noted.")
    term.line("one\\")  # a trailing backslash continues on the next line
    term.line("two")
    term.expect("Noted.")
    term.send("\x04")
    assert term.exit_status() == 0

    [stored] = sessions(isolated_env, workspace)
    shown = subprocess.run(
        [sys.executable, "-m", "parley", "sessions", "show", str(stored["sessionId"]), "--json"],
        env=isolated_env,
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=30,
    )
    prompts = [
        m["content"][0]["text"] for m in json.loads(shown.stdout)["messages"] if m["role"] == "user"
    ]
    assert prompts == ["first line\nsecond line", "one\ntwo"]
    history = (Path(isolated_env["PARLEY_HOME"]) / "chat-history").read_text()
    assert "+first line\n+second line" in history


def test_a_conversation_needs_a_terminal(isolated_env: dict[str, str], workspace: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "parley"],
        env=isolated_env,
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )

    assert done.returncode == 2
    assert "a conversation needs a terminal" in done.stderr
    assert "parley run" in done.stderr


def test_a_conversation_without_a_provider_says_what_to_set(
    terminal: Open, isolated_env: dict[str, str]
) -> None:
    isolated_env.update(NO_LOCAL_MODEL)  # no key and no local model either
    term = terminal([])

    term.expect("no model provider is configured")
    assert term.exit_status() == 2
    assert not Path(isolated_env["PARLEY_HOME"]).exists()
