"""Approvals for `parley run`: ask the person at the terminal, or decide by -y / -n.

-y  permission mode `allow`, and any `ask` a rule still raises is answered yes;
-n  permission mode `deny` (read-only), and any `ask` is answered no;
neither, with a terminal: each `ask` is a y / n / a prompt on the terminal;
neither, without a terminal: each `ask` is denied, and `parley run` exits 3 naming -y.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import threading
from collections.abc import Mapping
from typing import Any

import attrs

from parley.cli.bridge import Approver
from parley.cli.render.describe import allow_prompt
from parley.core.errors import ErrorCode, ParleyError
from parley.engine.askers import ApprovalPort, NoApprovals
from parley.engine.permissions import Decision
from parley.protocol import types as wire

TTY = "/dev/tty"
_ANSWERS: dict[str, Decision] = {
    "y": "allow_once",
    "yes": "allow_once",
    "a": "allow_always",
    "always": "allow_always",
    "n": "reject_once",
    "no": "reject_once",
    "": "reject_once",
}
_DIFF_LINES = 60


def terminal_available(path: str = TTY) -> bool:
    """Whether this process has a terminal to ask on (stdin and stdout may be redirected)."""
    try:
        with open(path, "rb"):
            return True
    except OSError:
        return False


class TerminalAnswers:
    """A person answers on the controlling terminal: y (allow once), n (reject), a (always
    allow the tool for this session). The terminal is read on a thread, so other work goes on
    meanwhile. With `describe`, the question itself is written there first; without, a display
    already showed it on this terminal."""

    def __init__(self, tty: str = TTY, *, describe: bool = True) -> None:
        self.tty = tty
        self.describe = describe
        self._one_at_a_time = asyncio.Lock()

    async def __call__(self, params: Mapping[str, Any]) -> Decision | None:
        prompt = render(params) if self.describe else allow_prompt(params["tool"])
        async with self._one_at_a_time:
            return await _on_thread(self.tty, prompt)


def render(params: Mapping[str, Any]) -> str:
    """The whole question (`approval/requested` params): what would run or change, why we ask,
    and the keys."""
    display = params.get("display") or {}
    tool = params["tool"]
    lines = ["", f"parley: {params.get('reason', '')}"]
    if "command" in display:
        lines.append(f"  $ {display['command']}")
    elif "path" in display:
        lines.append(f"  {tool} {display['path']}")
    else:
        lines.append(f"  {tool} {json.dumps(params.get('input'), ensure_ascii=False)[:500]}")
    if diff := display.get("diff"):
        diff_lines = str(diff).splitlines()
        lines += ["  " + d for d in diff_lines[:_DIFF_LINES]]
        if len(diff_lines) > _DIFF_LINES:
            lines.append(f"  ... {len(diff_lines) - _DIFF_LINES} more lines")
    lines.append(allow_prompt(tool))
    return "\n".join(lines)


def parse_answer(text: str) -> Decision | None:
    """A typed answer as a decision; None when it is not one of the answers."""
    return _ANSWERS.get(text.strip().lower())


async def _on_thread(tty: str, prompt: str) -> Decision:
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[Decision] = loop.create_future()
    stop = threading.Event()

    def work() -> None:
        try:
            decision = _prompt(tty, prompt, stop)
        except OSError:
            decision = "reject_once"  # the terminal went away
        if decision is not None:
            with contextlib.suppress(RuntimeError):  # the loop may have closed meanwhile
                loop.call_soon_threadsafe(_settle, answer, decision)

    # A daemon thread: an unanswered prompt must not keep the process alive at exit.
    threading.Thread(target=work, name="parley-approval", daemon=True).start()
    try:
        return await answer
    finally:
        stop.set()  # timed out or cancelled: the thread stops reading


def _settle(future: asyncio.Future[Decision], decision: Decision) -> None:
    if not future.done():
        future.set_result(decision)


def _prompt(tty: str, prompt: str, stop: threading.Event) -> Decision | None:
    """Ask until a valid answer; end of input is a no. None once `stop` is set."""
    with open(tty, "r+b", buffering=0) as term:
        term.write(prompt.encode())
        pending = b""
        while not stop.is_set():
            ready, _, _ = select.select([term], [], [], 0.1)
            if not ready:
                continue
            chunk = os.read(term.fileno(), 1024)
            if not chunk:
                return "reject_once"
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                decision = parse_answer(line.decode(errors="replace"))
                if decision is not None:
                    return decision
                term.write(b"Please answer y, n or a: ")
        with contextlib.suppress(OSError):
            term.write(b"\n(no longer waiting for an answer)\n")
    return None


class AnswerYes(ApprovalPort):
    """`-y`: every question is answered "allow once"."""

    @property
    def available(self) -> bool:
        return True

    async def ask(self, question: wire.ApprovalRequestParams) -> Decision | None:
        return "allow_once"


class Unanswerable(NoApprovals):
    """No terminal and no -y / -n: each `ask` is denied, and `parley run` exits 3."""


@attrs.frozen
class RunApprovals:
    approver: Approver
    permission_mode: str | None  # set by -y / -n; None leaves flags, config and profile to decide

    def refusal(self, unasked: list[str]) -> str | None:
        """Why `parley run` must exit 3: a call needed approval and nobody could give it
        (`unasked`: the turn's, see TurnHandle.unasked)."""
        refused = unasked if isinstance(self.approver, Unanswerable) else []
        if not refused:
            return None
        names = ", ".join(dict.fromkeys(refused))
        return (
            f"{names} needed approval and there is no terminal to ask on; "
            "run with -y to allow tool calls, or -n to refuse them without failing"
        )


def approvals_for_run(
    yes: bool, no: bool, interactive: bool, *, describe: bool = True
) -> RunApprovals:
    """Who answers in `parley run`. `describe`: the terminal prompt shows the whole question
    (no display shows it on the terminal already)."""
    if yes and no:
        raise ParleyError(ErrorCode.INVALID_PARAMS, "-y and -n contradict each other; give one")
    if yes:
        return RunApprovals(AnswerYes(), "allow")
    if no:
        return RunApprovals(NoApprovals(), "deny")
    if interactive:
        return RunApprovals(TerminalAnswers(describe=describe), None)
    return RunApprovals(Unanswerable(), None)
