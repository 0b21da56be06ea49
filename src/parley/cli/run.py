"""`parley run "prompt"`: one turn from a shell.

Exit codes: 0 ok, 1 engine or provider error, 2 usage or configuration error,
3 a tool call needed approval nobody could give, 130 interrupted.
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
from parley.cli.common import fail, open_store, settings_from, setup_logging
from parley.core.errors import ErrorCode, ParleyError
from parley.engine.engine import Engine
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


class _Printer:
    """Renders the turn's events: reply text on stdout, notifications on stderr as NDJSON."""

    def __init__(self, stream_text: bool, ndjson: bool) -> None:
        self.stream_text = stream_text
        self.ndjson = ndjson

    def __call__(
        self, session_id: str, turn_id: str, seq: int, event: wire.Event, params: dict[str, Any]
    ) -> None:
        if self.ndjson:
            body = wire.notification_params(session_id, turn_id, seq, params)
            line = json.dumps({"jsonrpc": "2.0", "method": event.method, "params": body})
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        if self.stream_text and isinstance(event, wire.ResultDelta):
            sys.stdout.write(event.text)
            sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    approvals = approvals_for_run(args.yes, args.no, terminal_available())
    try:
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
    printer = _Printer(stream_text=args.output == "text", ndjson=args.display == "ndjson")
    store = open_store(settings, args.ephemeral)
    try:
        cwd = os.path.abspath(args.cwd or ".")
        result = asyncio.run(_turn(args, settings, store, printer, prompt, cwd, approvals))
    except ParleyError as exc:
        fail(exc)
        return EXIT_USAGE if exc.code in _CONFIG_CODES else EXIT_ERROR
    finally:
        store.close()
    if args.output == "json":
        envelope = {"protocolVersion": PROTOCOL_VERSION, **unstructure(result)}
        envelope.setdefault("error", None)
        print(json.dumps(envelope))
    elif result.reply and not result.reply.endswith("\n"):
        print()
    if result.error is not None and result.stop_reason != "cancelled":
        fail(result.error.message)
    return _exit_code(result, approvals)


async def _turn(
    args: argparse.Namespace,
    settings: Any,
    store: Any,
    printer: _Printer,
    prompt: str,
    cwd: str,
    approvals: RunApprovals,
) -> wire.TurnResult:
    engine = Engine(settings, store, printer)
    if args.session:
        session = engine.session(args.session)
    else:
        session = engine.create_session(wire.SessionCreateParams(cwd=cwd, title=prompt[:80]))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, lambda: engine.cancel(session.id))
    try:
        return await engine.submit(session.id, prompt, None, approvals.port)
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        await engine.shutdown()


def _exit_code(result: wire.TurnResult, approvals: RunApprovals) -> int:
    if result.stop_reason == "cancelled":
        return EXIT_INTERRUPTED
    if result.stop_reason == "error":
        code = result.error.code if result.error else ErrorCode.INTERNAL
        return EXIT_USAGE if code in _CONFIG_CODES else EXIT_ERROR
    if (refusal := approvals.refusal()) is not None:
        fail(refusal)
        return EXIT_DENIED
    return EXIT_OK
