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
from parley.cli.guard import guard_process
from parley.core.errors import ErrorCode, ParleyError
from parley.engine.askers import Answerer
from parley.engine.pump import Batch, Pump
from parley.engine.service import Service
from parley.protocol import types as wire
from parley.protocol.codec import unstructure
from parley.protocol.version import PROTOCOL_VERSION
from parley.store.records import StoredEvent

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

    def __call__(self, session_id: str, event: StoredEvent) -> None:
        if self.ndjson:
            body = wire.notification_params(session_id, event.turn_id, event.seq, event.params)
            line = json.dumps({"jsonrpc": "2.0", "method": event.method, "params": body})
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        if self.stream_text and event.method == wire.ResultDelta.method:
            sys.stdout.write(event.params["text"])
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
    guard_process()
    printer = _Printer(stream_text=args.output == "text", ndjson=args.display == "ndjson")
    store = open_store(settings, args.ephemeral)
    try:
        cwd = os.path.abspath(args.cwd or ".")
        result, unasked = asyncio.run(_turn(args, settings, store, printer, prompt, cwd, approvals))
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
    return _exit_code(result, approvals, unasked)


async def _turn(
    args: argparse.Namespace,
    settings: Any,
    store: Any,
    printer: _Printer,
    prompt: str,
    cwd: str,
    approvals: RunApprovals,
) -> tuple[wire.TurnResult, list[str]]:
    """The turn's result and the tools that needed an approval nobody could give."""
    service = Service(settings, store)
    if args.session:
        session_id = service.session_info(args.session).session_id
    else:
        session_id = service.create_session(
            wire.SessionCreateParams(
                cwd=cwd,
                title=prompt[:80],
                agent=args.agent,
                model=args.model if args.agent else None,  # the agent's own model
            )
        ).session_id
    answerer = Answerer(service.approvals, approvals.port)

    async def show(batch: Batch) -> None:
        for sid, event in batch:
            printer(sid, event)
            answerer.see(event)

    pump = Pump(service.hub, show, answers_approvals=approvals.port.available)
    pump.follow(session_id)
    delivering = asyncio.create_task(pump.run())
    loop = asyncio.get_running_loop()
    try:
        handle = await service.start_turn(session_id, prompt)
        loop.add_signal_handler(signal.SIGINT, handle.cancel)
        result = await handle
        await pump.reached(session_id, handle.final_seq)
        return result, handle.unasked
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        pump.close()
        await delivering
        await answerer.aclose()
        await service.shutdown()


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
