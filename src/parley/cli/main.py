"""`parley`: the command line. Subcommands import what they need only when they run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from parley import PROTOCOL_VERSION, SCHEMA_VERSION, __version__
from parley.cli.acp_cmd import add_acp_parser
from parley.cli.common import EXIT_BROKEN_PIPE, add_settings_flags, silence_stdout
from parley.cli.config_cmd import add_config_parser
from parley.cli.daemon import add_daemon_parser
from parley.cli.mcp_cmd import add_mcp_parser
from parley.cli.sessions_cmd import add_sessions_parser

VERSION = f"parley {__version__} (protocol {PROTOCOL_VERSION}, schema {SCHEMA_VERSION})"
_TOP_LEVEL = ("-h", "--help", "--version")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parley",
        description="An agent in your terminal and a server for hosts. `parley` alone opens a "
        "conversation in this directory (`parley -c` continues the last one); `parley run` "
        "answers one prompt; `parley serve` speaks JSON-RPC on stdio to a host.",
    )
    parser.add_argument("--version", action="version", version=VERSION)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = sub.add_parser(
        "chat", help="a conversation in this directory (what `parley` alone opens)"
    )
    _add_session_flags(chat)
    chat.set_defaults(func=_chat)

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
    run.add_argument(
        "-q", "--quiet", action="store_true", help="print the reply alone, not the work"
    )
    run.add_argument(
        "--agent",
        metavar="NAME",
        help="run the turn in an external agent: claude-code, codex, gemini, amp "
        "(docs/agents.md); --model is then the agent's model",
    )
    _add_session_flags(run)
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


def _add_session_flags(parser: argparse.ArgumentParser) -> None:
    """What `run` and `chat` share: which session, its directory, who approves, settings."""
    parser.add_argument("--cwd", help="working directory for the tools (default: here)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "-c",
        "--continue",
        dest="cont",
        action="store_true",
        help="continue the session last used in this directory",
    )
    which.add_argument(
        "--resume", "--session", dest="session", metavar="ID", help="continue this stored session"
    )
    which.add_argument("--ephemeral", action="store_true", help="do not store the session")
    perm = parser.add_mutually_exclusive_group()
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
    add_settings_flags(parser)


def _chat(args: argparse.Namespace) -> int:
    from parley.cli.chat import chat

    return chat(args)


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
        print(VERSION)
    return 0


def with_default_command(argv: Sequence[str]) -> list[str]:
    """`parley` alone, or with only options (`parley -c`, `parley -y --model m`), is `chat`."""
    if not argv or (argv[0].startswith("-") and argv[0] not in _TOP_LEVEL):
        return ["chat", *argv]
    return list(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(with_default_command(sys.argv[1:] if argv is None else argv))
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:  # `parley sessions list | head`: the reader has what it wanted
        code = EXIT_BROKEN_PIPE
    if code == EXIT_BROKEN_PIPE:
        silence_stdout()
    return code


if __name__ == "__main__":
    sys.exit(main())
