"""`parley daemon`: the HTTP + SSE door (docs/http.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from parley.cli.common import add_settings_flags, fail, open_store, settings_from, setup_logging
from parley.core.errors import ParleyError


def add_daemon_parser(subparsers: Any) -> None:
    daemon = subparsers.add_parser("daemon", help="serve the HTTP API (REST + SSE) on localhost")
    g = daemon.add_argument_group(
        "daemon (override PARLEY_DAEMON_* variables and the config file's [daemon] table)"
    )
    g.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    g.add_argument("--port", type=int, help="port (default 8410; 0: any free port)")
    g.add_argument("--url-file", type=Path, metavar="PATH", help="write the bound URL here")
    g.add_argument(
        "--api-key-file", metavar="PATH", help="file holding the API key clients must send"
    )
    g.add_argument(
        "--allowed-origin",
        action="append",
        dest="allowed_origins",
        metavar="ORIGIN",
        help="a browser origin allowed to call the daemon (repeatable)",
    )
    g.add_argument("--default-working-dir", metavar="DIR", help="cwd of sessions that name none")
    g.add_argument("--tls-certfile", metavar="PATH", help="serve HTTPS with this certificate")
    g.add_argument("--tls-keyfile", metavar="PATH", help="and this private key")
    g.add_argument("--max-body-bytes", type=int, metavar="N", help="request body limit")
    daemon.add_argument("--ephemeral", action="store_true", help="keep sessions in memory only")
    daemon.add_argument("--permission-mode", choices=["ask", "accept-edits", "allow", "deny"])
    add_settings_flags(daemon)
    daemon.set_defaults(func=run_daemon)


def run_daemon(args: argparse.Namespace) -> int:
    from parley.config import paths
    from parley.doors.http.settings import daemon_settings

    try:
        settings = settings_from(args, permission_mode=args.permission_mode)
        flags = {
            name: getattr(args, name)
            for name in (
                "host",
                "port",
                "api_key_file",
                "allowed_origins",
                "default_working_dir",
                "tls_certfile",
                "tls_keyfile",
                "max_body_bytes",
            )
        }
        flags["log_level"] = args.log_level
        daemon = daemon_settings(settings, flags)
    except ParleyError as exc:
        fail(exc)
        return 2
    setup_logging(settings)
    from parley.doors.http.server import serve

    return serve(
        settings,
        daemon,
        lambda: open_store(settings, args.ephemeral),
        settings.config_path or paths.config_file(settings.env),
        args.url_file,
    )
