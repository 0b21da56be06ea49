"""The displays, fed notifications as they are on the wire: what a person or a log sees."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from parley.cli.render import describe
from parley.cli.render.base import Displays, Pipe
from parley.cli.render.plain import ActivityLog, NdjsonDisplay, ReplyStream
from parley.cli.render.terminal import TerminalDisplay

DIFF = "--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,2 @@\n def main():\n-    return 1\n+    return 2\n"


def note(method: str, seq: int, **fields: Any) -> tuple[str, dict[str, Any]]:
    return method, {"sessionId": "ses_1", "turnId": "turn_1", "seq": seq, **fields}


TURN = [
    note("progress", 1, stage="turn_started", message="turn started"),
    note("progress", 2, stage="model_request", message="asking scripted"),
    note("thinking/delta", 3, text="I should read it."),
    note("thinking/final", 4, text="I should read it."),
    note("result/delta", 5, text="Let me **look**."),
    note(
        "tool/started",
        6,
        toolCallId="c1",
        name="read_file",
        input={"path": "README.md"},
        kind="read",
        display={"path": "README.md"},
    ),
    note(
        "tool/completed",
        7,
        toolCallId="c1",
        name="read_file",
        output="1\t# Demo\n2\thello",
        isError=False,
        durationMs=3,
        display={"path": "README.md", "startLine": 1, "endLine": 2, "totalLines": 2},
    ),
    note(
        "tool/started",
        8,
        toolCallId="c2",
        name="edit_file",
        input={"path": "app.py", "edits": []},
        kind="edit",
        display={"path": "app.py", "diff": DIFF},
    ),
    note(
        "tool/completed",
        9,
        toolCallId="c2",
        name="edit_file",
        output="edited app.py",
        isError=False,
        durationMs=2,
        display={"path": "app.py", "diff": DIFF, "replacements": 1},
    ),
    note(
        "tool/started",
        10,
        toolCallId="c3",
        name="bash",
        input={"command": "git push"},
        kind="execute",
        display={"command": "git push", "cwd": "/p"},
    ),
    note(
        "tool/completed",
        11,
        toolCallId="c3",
        name="bash",
        output="Permission denied: bash needs approval (permission mode 'ask'). "
        "The tool did not run.",
        isError=True,
        durationMs=0,
        display={"denied": True, "code": "approval_denied"},
    ),
    note("result/delta", 12, text="\n\nDone."),
    note("usage", 13, inputTokens=1234, outputTokens=56, provider="scripted", model="s"),
    note("result/final", 14, text="Let me **look**.\n\nDone."),
]
RESULT = {
    "sessionId": "ses_1",
    "turnId": "turn_1",
    "reply": "Let me **look**.\n\nDone.",
    "stopReason": "end_turn",
    "usage": {"inputTokens": 1234, "outputTokens": 56, "costUsd": 0.0123},
}


def play(display: Any, result: dict[str, Any] = RESULT) -> None:
    for method, params in TURN:
        display.notify(method, params)
    display.finish(result)


def test_the_activity_log_shows_each_call_its_end_the_diff_and_the_cost() -> None:
    out = io.StringIO()
    play(ActivityLog(Pipe(out), show_session=True))

    assert out.getvalue().splitlines() == [
        "thinking: I should read it.",
        "-> read_file README.md",
        "   ok: 2 lines",
        "-> edit_file app.py",
        "   ok: changed, +1 -1",
        "     @@ -1,2 +1,2 @@",
        "      def main():",
        "     -    return 1",
        "     +    return 2",
        "-> bash git push",
        "   refused: bash needs approval (permission mode 'ask')",
        "1,234 in · 56 out · $0.0123 · session ses_1",
    ]


def test_the_reply_stream_is_the_reply_exactly_and_a_final_newline() -> None:
    out = io.StringIO()
    play(ReplyStream(Pipe(out)))

    assert out.getvalue() == "Let me **look**.\n\nDone.\n"


def test_into_one_file_activity_starts_on_a_line_of_its_own() -> None:
    shared = io.StringIO()
    reply = ReplyStream(Pipe(shared))
    play(Displays(reply, ActivityLog(Pipe(shared), reply)))

    lines = shared.getvalue().splitlines()
    assert "Let me **look**." in lines
    assert "-> read_file README.md" in lines
    assert lines[-1] == "1,234 in · 56 out · $0.0123"


def test_ndjson_writes_notifications_only() -> None:
    out = io.StringIO()
    display = NdjsonDisplay(Pipe(out))
    play(display)
    display.notify("approval/requested", {"approvalId": "a", "tool": "bash", "toolCallId": "c"})

    assert len(out.getvalue().splitlines()) == len(TURN)


def test_the_terminal_display_draws_markdown_marks_and_the_diff() -> None:
    console = Console(file=io.StringIO(), width=80, color_system=None, markup=False)
    play(TerminalDisplay(console, show_session=True))
    shown = console.file.getvalue()  # type: ignore[attr-defined]

    assert "I should read it." in shown
    assert "Let me look." in shown  # Markdown: no asterisks
    assert "✓ read_file README.md  2 lines" in shown
    assert "✓ edit_file app.py  changed, +1 -1" in shown
    assert "    -    return 1\n    +    return 2" in shown
    assert "⊘ bash git push  refused: bash needs approval (permission mode 'ask')" in shown
    assert shown.rstrip().endswith("1,234 in · 56 out · $0.0123 · session ses_1")


@pytest.mark.parametrize(
    ("result", "said"),
    [
        ({"stopReason": "cancelled"}, "cancelled"),
        (
            {"stopReason": "error", "error": {"code": "rate_limited", "message": "slow down"}},
            "error (rate_limited): slow down",
        ),
        ({"stopReason": "max_turns"}, "stopped: the turn reached its profile's max_turns"),
    ],
)
def test_how_a_turn_ended_is_said(result: dict[str, Any], said: str) -> None:
    out = io.StringIO()
    ActivityLog(Pipe(out)).finish({"sessionId": "s", "usage": {}, **result})

    assert out.getvalue() == said + "\n"  # no tokens were used: no usage line


def test_an_approval_question_shows_its_diff_once() -> None:
    out = io.StringIO()
    log = ActivityLog(Pipe(out))
    log.notify(*note("tool/started", 1, toolCallId="c", name="edit_file", input={"path": "a"}))
    log.notify(
        "approval/requested",
        {
            "toolCallId": "c",
            "tool": "edit_file",
            "input": {"path": "a"},
            "reason": "edit_file needs approval (permission mode 'ask')",
            "display": {"path": "app.py", "diff": DIFF},
        },
    )
    log.notify(*note("approval/resolved", 2, approvalId="x", decision="allow_always"))
    log.notify(
        *note(
            "tool/completed",
            3,
            toolCallId="c",
            name="edit_file",
            output="ok",
            isError=False,
            durationMs=1,
            display={"path": "app.py", "diff": DIFF},
        )
    )

    text = out.getvalue()
    assert "? edit_file needs approval (permission mode 'ask'): app.py" in text
    assert "allowed for the rest of this session" in text
    assert text.count("+    return 2") == 1


class Closed(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError


def test_a_closed_pipe_is_reported_once_and_then_ignored() -> None:
    calls: list[bool] = []
    pipe = Pipe(Closed())
    pipe.on_broken = lambda: calls.append(True)

    pipe.write("a")
    pipe.write("b")

    assert (pipe.broken, calls) == (True, [True])


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (
            {"display": {"exitCode": 0}, "isError": False, "durationMs": 1500},
            ("ok", "exit 0 · 1.5s"),
        ),
        ({"display": {"exitCode": 2}, "isError": True, "durationMs": 10}, ("error", "exit 2")),
        ({"display": {"exitCode": 1, "timedOut": True}, "isError": True}, ("error", "timed out")),
        ({"display": {"matches": 3}, "output": "x"}, ("ok", "3 matches")),
        ({"display": {"count": 1}, "output": "x"}, ("ok", "1 file")),
        ({"display": {"diff": "+a\n", "created": True}}, ("ok", "created, +1 -0")),
        ({"display": {"startLine": 5, "endLine": 9, "totalLines": 90}}, ("ok", "lines 5-9 of 90")),
        ({"isError": True, "output": "no such file: x\nmore"}, ("error", "no such file: x …")),
    ],
)
def test_outcomes_in_a_few_words(params: dict[str, Any], words: tuple[str, str]) -> None:
    done = describe.outcome(params)
    assert (done.status, done.summary) == words


def test_the_key_argument_is_one_short_line() -> None:
    long = "x" * 500
    assert describe.key_argument({"name": "bash", "input": {"command": "ls\nrm -rf /"}}) == "ls …"
    assert describe.key_argument({"name": "grep", "input": {"pattern": "TODO", "path": "src"}}) == (
        "TODO  in src"
    )
    assert describe.key_argument({"name": "mcp_tool", "input": {"n": 1, "q": "cats"}}) == "cats"
    assert len(describe.key_argument({"name": "bash", "input": {"command": long}})) == 120
