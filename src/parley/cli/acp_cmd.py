"""`parley acp`: the Agent Client Protocol on stdin/stdout, for Zed, JetBrains and any ACP
client (docs/acp.md)."""

from __future__ import annotations

import argparse

from parley.cli.common import add_settings_flags, fail, open_store, settings_from, setup_logging
from parley.core.errors import ParleyError


def add_acp_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    acp = sub.add_parser("acp", help="serve the Agent Client Protocol (editors) on stdin/stdout")
    acp.add_argument("--permission-mode", choices=["ask", "accept-edits", "allow", "deny"])
    add_settings_flags(acp)
    acp.set_defaults(func=acp_command)


def acp_command(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args, permission_mode=args.permission_mode)
    except ParleyError as exc:
        fail(exc)
        return 2
    setup_logging(settings)
    from parley.doors.acp.negotiate import answer_early
    from parley.doors.jsonrpc.framing import Framing
    from parley.doors.jsonrpc.handshake import answer_early as answer_handshake
    from parley.doors.stdio.stdio import claim_stdio

    fds = claim_stdio()
    early = answer_handshake(*fds, "initialize", answer_early, Framing.NDJSON)
    # Only now the server's heavy imports (asyncio, pygls), while the client reads the answer.
    from parley.doors.jsonrpc import pygls_core

    pygls_core.install()
    from parley.doors.acp.app import serve

    return serve(settings, lambda: open_store(settings, False), fds, early)
