"""`parley run "prompt"`: one turn from a shell.

Exit codes: 0 ok, 1 engine or provider error, 2 usage or configuration error,
3 a tool call needed approval nobody could give, 130 interrupted, 141 stdout was closed
(`parley run ... | head`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import Any

from parley.cli.approvals import RunApprovals, approvals_for_run, terminal_available
from parley.cli.bridge import Bridge, resolve_cwd
from parley.cli.common import (
    EXIT_BROKEN_PIPE,
    fail,
    has_stored_sessions,
    lazy_store,
    settings_from,
    setup_logging,
)
from parley.cli.guard import guard_process
from parley.cli.render.base import Display, Displays, Pipe
from parley.cli.render.plain import ActivityLog, NdjsonDisplay, ReplyStream
from parley.core.errors import ErrorCode, ParleyError
from parley.protocol import types as wire
from parley.protocol.codec import unstructure
from parley.protocol.version import PROTOCOL_VERSION

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_DENIED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
_CONFIG_CODES = {
    ErrorCode.CONFIG_INVALID,
    ErrorCode.PROVIDER_NOT_CONFIGURED,
    ErrorCode.INVALID_PARAMS,
    ErrorCode.PROFILE_NOT_FOUND,
    ErrorCode.SESSION_NOT_FOUND,
}


class Screen:
    """Where `parley run` shows what: the reply on stdout; the work (tool calls, diffs,
    thinking, tokens and cost) drawn with rich when stdout is a terminal, else as plain lines
    on stderr; `--quiet` the reply alone; `--display ndjson` every notification on stderr."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.pipes = [Pipe(sys.stdout), Pipe(sys.stderr)]
        out, err = self.pipes
        text = args.output == "text"
        reply = ReplyStream(out) if text else None
        parts: list[Display] = []
        self.shows_errors = False  # the display says how a failed turn failed
        self.asks_on_terminal = False  # the display shows approval questions on the terminal
        if args.display == "ndjson":
            parts.append(NdjsonDisplay(err))
        elif args.quiet:
            pass
        elif text and sys.stdout.isatty():
            from parley.cli.render.terminal import TerminalDisplay, terminal_console

            parts.append(TerminalDisplay(terminal_console(sys.stdout), show_session=True))
            reply = None
            self.shows_errors = self.asks_on_terminal = True
        else:
            shared = reply is not None and _same_file(sys.stdout, sys.stderr)
            parts.append(ActivityLog(err, reply if shared else None, show_session=True))
            self.shows_errors = True
            self.asks_on_terminal = sys.stderr.isatty()
        if reply is not None:
            parts.insert(0, reply)
        self.display = Displays(*parts)

    @property
    def broken(self) -> bool:
        return any(p.broken for p in self.pipes)


def _same_file(a: Any, b: Any) -> bool:
    try:
        return os.path.sameopenfile(a.fileno(), b.fileno())
    except (OSError, ValueError):
        return False


def run(args: argparse.Namespace) -> int:
    screen = Screen(args)
    try:
        approvals = approvals_for_run(
            args.yes, args.no, terminal_available(), describe=not screen.asks_on_terminal
        )
        settings = settings_from(
            args, permission_mode=approvals.permission_mode or args.permission_mode
        )
        prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
        if not prompt.strip():
            raise ParleyError(ErrorCode.INVALID_PARAMS, "the prompt is empty")
    except ParleyError as exc:
        fail(exc)
        return EXIT_USAGE
    setup_logging(settings)
    guard_process()
    store = lazy_store(settings, args.ephemeral)
    try:
        result, unasked = asyncio.run(_turn(args, settings, store, screen, prompt, approvals))
    except ParleyError as exc:
        fail(exc)
        return EXIT_USAGE if exc.code in _CONFIG_CODES else EXIT_ERROR
    except KeyboardInterrupt:  # a second Ctrl-C while the first was being handled
        return EXIT_INTERRUPTED
    finally:
        store.close()
        screen.display.close()
    if screen.broken:
        return EXIT_BROKEN_PIPE
    if args.output == "json":
        envelope = {"protocolVersion": PROTOCOL_VERSION, **unstructure(result)}
        envelope.setdefault("error", None)
        print(json.dumps(envelope))
    if result.error is not None and result.stop_reason != "cancelled" and not screen.shows_errors:
        fail(result.error.message)
    return _exit_code(result, approvals, unasked)


async def _turn(
    args: argparse.Namespace,
    settings: Any,
    store: Any,
    screen: Screen,
    prompt: str,
    approvals: RunApprovals,
) -> tuple[wire.TurnResult, list[str]]:
    """The turn's result and the tools that needed an approval nobody could give."""
    display = screen.display
    bridge = Bridge(settings, store, display.notify)
    loop = asyncio.get_running_loop()
    try:
        cwd = resolve_cwd(args.cwd)
        if args.cont or args.session:
            session_id, notes = bridge.resume(
                args.session, cwd, anything_stored=has_stored_sessions(settings)
            )
            for note in notes:
                display.note(note)
        else:
            agent = {"agent": args.agent, "model": args.model} if args.agent else {}
            session_id = bridge.create(cwd, prompt[:80], **agent).session_id

        def stop() -> None:  # nobody reads any more: stop, as a killed pipeline would
            bridge.cancel(session_id)

        for pipe in screen.pipes:
            pipe.on_broken = stop

        def interrupt() -> None:
            bridge.cancel(session_id)
            loop.remove_signal_handler(signal.SIGINT)  # a second Ctrl-C ends the process

        loop.add_signal_handler(signal.SIGINT, interrupt)
        result = await bridge.submit(session_id, prompt, approvals.approver)
        display.finish(unstructure(result))
        return result, bridge.unasked
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        await bridge.close()


def _exit_code(result: wire.TurnResult, approvals: RunApprovals, unasked: list[str]) -> int:
    if result.stop_reason == "cancelled":
        return EXIT_INTERRUPTED
    if result.stop_reason == "error":
        code = result.error.code if result.error else ErrorCode.INTERNAL
        return EXIT_USAGE if code in _CONFIG_CODES else EXIT_ERROR
    if (refusal := approvals.refusal(unasked)) is not None:
        fail(refusal)
        return EXIT_DENIED
    return EXIT_OK
