"""`parley serve`."""

from __future__ import annotations

import argparse

from parley.cli.common import fail, open_store, settings_from, setup_logging
from parley.core.errors import ParleyError


def serve(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(
            args, idle_timeout=args.idle_timeout, permission_mode=args.permission_mode
        )
    except ParleyError as exc:
        fail(exc)
        return 2
    setup_logging(settings)
    from parley.doors.stdio.handshake import answer_initialize
    from parley.doors.stdio.stdio import claim_stdio

    fds = claim_stdio()
    persistent = not args.ephemeral
    early = answer_initialize(*fds, persistent)
    # Only now the server's heavy imports (asyncio, pygls), while the host reads the answer.
    from parley.doors.jsonrpc import pygls_core

    pygls_core.install()
    from parley.cli.guard import guard_process

    guard_process()  # before any tool can run; after the early answer, which it would delay
    from parley.doors.stdio.app import serve as serve_stdio

    return serve_stdio(
        settings, lambda: open_store(settings, args.ephemeral), fds, early, persistent=persistent
    )
