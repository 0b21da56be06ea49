"""`parley`: the command line. Subcommands import what they need only when they run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from parley.cli.acp_cmd import add_acp_parser
from parley.cli.common import add_settings_flags
from parley.cli.config_cmd import add_config_parser
from parley.cli.daemon import add_daemon_parser
from parley.cli.mcp_cmd import add_mcp_parser
from parley.cli.sessions_cmd import add_sessions_parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parley",
        description="An agent server: `parley run` answers one prompt, `parley serve` speaks "
        "JSON-RPC on stdio to a host.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run one turn and print the reply")
    run.add_argument("prompt", help="what to ask; '-' reads it from stdin")
    run.add_argument(
        "--output",
        choices=["text", "json"],
        default="text",
        help="text: the reply on stdout; json: one result envelope",
    )
    run.add_argument(
        "--display",
        choices=["none", "ndjson"],
        default="none",
        help="ndjson: stream every notification on stderr as it happens",
    )
    run.add_argument("--cwd", help="working directory for the tools (default: here)")
    run.add_argument("--session", metavar="ID", help="continue this stored session")
    run.add_argument("--ephemeral", action="store_true", help="do not store the session")
    run.add_argument(
        "--agent",
        metavar="NAME",
        help="run the turn in an external agent: claude-code, codex, gemini, amp "
        "(docs/agents.md); --model is then the agent's model",
    )
    perm = run.add_mutually_exclusive_group()
    perm.add_argument(
        "-y", "--yes", action="store_true", help="allow every tool call (permission mode allow)"
    )
    perm.add_argument(
        "-n",
        "--no",
        action="store_true",
        help="read-only: refuse every change (permission mode deny)",
    )
    perm.add_argument("--permission-mode", choices=["ask", "accept-edits", "allow", "deny"])
    add_settings_flags(run)
    run.set_defaults(func=_run)

    serve = sub.add_parser("serve", help="serve the JSON-RPC protocol on stdin/stdout")
    serve.add_argument(
        "--idle-timeout", type=float, metavar="SECONDS", help="exit after this long without traffic"
    )
    serve.add_argument("--ephemeral", action="store_true", help="keep sessions in memory only")
    serve.add_argument("--permission-mode", choices=["ask", "accept-edits", "allow", "deny"])
    add_settings_flags(serve)
    serve.set_defaults(func=_serve)

    add_daemon_parser(sub)
    add_acp_parser(sub)
    add_config_parser(sub)
    add_sessions_parser(sub)
    add_mcp_parser(sub)

    doctor = sub.add_parser("doctor", help="check the installation and each provider's setup")
    doctor.add_argument(
        "--online",
        action="store_true",
        help="also make one tiny real call to each configured provider",
    )
    add_settings_flags(doctor)
    doctor.set_defaults(func=_doctor)

    version = sub.add_parser("version", help="print the version")
    version.add_argument("--json", action="store_true", help="as JSON")
    version.set_defaults(func=_version)
    return parser


def _run(args: argparse.Namespace) -> int:
    from parley.cli.run import run

    return run(args)


def _serve(args: argparse.Namespace) -> int:
    from parley.cli.serve import serve

    return serve(args)


def _doctor(args: argparse.Namespace) -> int:
    from parley.cli.common import fail, settings_from
    from parley.cli.doctor import doctor
    from parley.core.errors import ParleyError

    try:
        settings = settings_from(args)
    except ParleyError as exc:
        fail(exc)
        return 2
    code, text = doctor(settings, args.online, config_path=args.config)
    print(text)
    return code


def _version(args: argparse.Namespace) -> int:
    import json

    from parley import PROTOCOL_VERSION, SCHEMA_VERSION, __version__

    if args.json:
        print(
            json.dumps(
                {
                    "version": __version__,
                    "protocolVersion": PROTOCOL_VERSION,
                    "schemaVersion": SCHEMA_VERSION,
                }
            )
        )
    else:
        print(f"parley {__version__} (protocol {PROTOCOL_VERSION}, schema {SCHEMA_VERSION})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
