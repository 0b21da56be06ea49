"""`parley sessions list|show|export|delete|prune`: the stored sessions, from a shell.

Exit codes: 0 ok, 1 the session does not exist (or another engine error), 2 bad configuration.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.cli.common import fail, open_store
from parley.config import Settings, load_settings
from parley.core.errors import ErrorCode, ParleyError

if TYPE_CHECKING:  # the engine is imported when a command runs, not when `parley` starts
    from parley.engine.service import Service
    from parley.store.base import Store
    from parley.store.records import SessionRecord

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
EXPORT_FORMAT = "parley.session"
EXPORT_VERSION = 1
_PREVIEW_CHARS = 300  # of a tool output in `sessions show`


def add_sessions_parser(subparsers: Any) -> None:
    sessions = subparsers.add_parser(
        "sessions", help="list, show, export, delete and prune stored sessions"
    )
    commands = sessions.add_subparsers(dest="sessions_command", required=True, metavar="COMMAND")

    ls = commands.add_parser("list", help="stored sessions, newest first")
    ls.add_argument("--tag", action="append", default=[], metavar="TAG", help="only with this tag")
    ls.add_argument("--cwd", metavar="DIR", help="only sessions in this directory")
    ls.add_argument("--limit", type=_positive_int, default=50, metavar="N", help="at most N")
    ls.add_argument("--json", action="store_true", help="as session/list's result")

    show = commands.add_parser("show", help="a session's info and messages")
    show.add_argument("session_id", metavar="ID")
    show.add_argument("--json", action="store_true", help="as session/get's result")

    export = commands.add_parser("export", help="the whole session as JSON: info, messages, events")
    export.add_argument("session_id", metavar="ID")
    export.add_argument("-o", "--output", type=Path, metavar="FILE", help="default: stdout")

    delete = commands.add_parser("delete", help="delete a session and everything stored for it")
    delete.add_argument("session_id", metavar="ID")

    prune = commands.add_parser("prune", help="delete sessions not used for a number of days")
    prune.add_argument(
        "--older-than", type=float, required=True, metavar="DAYS", help="last used before this"
    )
    prune.add_argument("--dry-run", action="store_true", help="only say what would be deleted")

    for command in (ls, show, export, delete, prune):
        command.add_argument("--data-dir", metavar="DIR", help="where sessions are stored")
        command.add_argument("--config", metavar="FILE", type=Path, help="config file to read")
        command.set_defaults(func=_main)


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _main(args: argparse.Namespace) -> int:
    try:
        settings = load_settings({"data_dir": args.data_dir}, config_path=args.config)
    except ParleyError as exc:
        fail(exc)
        return EXIT_USAGE
    return sessions(args, settings)


def sessions(args: argparse.Namespace, settings: Settings, store: Store | None = None) -> int:
    """Run one `sessions` subcommand on `store` (default: the persistent store)."""
    from parley.engine.service import Service

    own = store is None
    store = store or open_store(settings, False)
    try:
        return _COMMANDS[args.sessions_command](args, Service(settings, store), store)
    except ParleyError as exc:
        fail(exc)
        return EXIT_USAGE if exc.code == ErrorCode.CONFIG_INVALID else EXIT_ERROR
    finally:
        if own:
            store.close()


def _list(args: argparse.Namespace, service: Service, store: Store) -> int:
    from parley.protocol.codec import unstructure
    from parley.protocol.types import SessionListParams

    cwd = str(Path(args.cwd).resolve()) if args.cwd else None
    page = service.list_sessions(SessionListParams(limit=args.limit, tags=args.tag, cwd=cwd))
    if args.json:
        _print_json(unstructure(page))
        return EXIT_OK
    if not page.sessions:
        print("no sessions", file=sys.stderr)
        return EXIT_OK
    rows = [("ID", "UPDATED", "TURNS", "PROFILE", "MODEL", "TITLE")]
    rows += [
        (
            s.session_id,
            s.updated_at[:19].replace("T", " "),
            str(s.turn_count),
            s.profile,
            f"{s.provider}/{s.model}",
            s.title or "",
        )
        for s in page.sessions
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[5]]).rstrip())
    if page.next_cursor:
        print(f"(more sessions: raise --limit above {args.limit})", file=sys.stderr)
    return EXIT_OK


def _show(args: argparse.Namespace, service: Service, store: Store) -> int:
    from parley.protocol.codec import unstructure

    detail = service.session_detail(args.session_id, limit=None)
    if args.json:
        _print_json(unstructure(detail))
        return EXIT_OK
    usage = detail.usage
    cost = f", ${usage.cost_usd:.4f}" if usage.cost_usd is not None else ""
    print(f"session  {detail.session_id}" + (f"  ({detail.title})" if detail.title else ""))
    print(f"cwd      {detail.cwd}")
    print(f"profile  {detail.profile}, {detail.provider}/{detail.model}, {detail.permission_mode}")
    print(f"turns    {detail.turn_count}, created {detail.created_at}, updated {detail.updated_at}")
    print(f"usage    {usage.input_tokens} in, {usage.output_tokens} out{cost}")
    if detail.tags:
        print(f"tags     {', '.join(detail.tags)}")
    for message in detail.messages:
        print()
        for block in message.content:
            print(_render_block(message.role, block))
    return EXIT_OK


def _render_block(role: str, block: dict[str, Any]) -> str:
    kind = block["type"]
    if kind == "text":
        return f"[{role}] {block['text']}"
    if kind == "thinking":
        return f"[{role} thinking] {block.get('text', '')}"
    if kind == "tool_use":
        return f"[{role} -> {block['name']}] {json.dumps(block['input'], ensure_ascii=False)}"
    if kind == "tool_result":
        text = block["content"]
        more = (
            f" [... {len(text) - _PREVIEW_CHARS} more chars]" if len(text) > _PREVIEW_CHARS else ""
        )
        error = " error" if block.get("isError") else ""
        return f"[tool{error}] {text[:_PREVIEW_CHARS]}{more}"
    return f"[{role} {kind}]"


def export_session(service: Service, store: Store, session_id: str) -> dict[str, Any]:
    """Everything stored for a session: its info, its messages and every notification sent."""
    from parley.protocol.codec import unstructure

    detail = unstructure(service.session_detail(session_id, limit=None))
    messages = detail.pop("messages", [])
    events = [
        {"seq": e.seq, "turnId": e.turn_id, "method": e.method, "params": e.params}
        for e in store.events_after(session_id, 0)
    ]
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "session": detail,
        "messages": messages,
        "events": events,
    }


def _export(args: argparse.Namespace, service: Service, store: Store) -> int:
    text = json.dumps(export_session(service, store, args.session_id), ensure_ascii=False, indent=2)
    if args.output is None:
        print(text)
        return EXIT_OK
    try:
        args.output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise ParleyError(
            ErrorCode.INVALID_PARAMS, f"cannot write {args.output}: {exc.strerror}"
        ) from None
    print(f"exported {args.session_id} to {args.output}", file=sys.stderr)
    return EXIT_OK


def _delete(args: argparse.Namespace, service: Service, store: Store) -> int:
    service.delete_session(args.session_id)
    print(f"deleted {args.session_id}", file=sys.stderr)
    return EXIT_OK


def stale_sessions(store: Store, cutoff: dt.datetime) -> list[SessionRecord]:
    """Every session last used before `cutoff`."""
    stale: list[SessionRecord] = []
    cursor: str | None = None
    while True:
        page, cursor = store.list_sessions(limit=1000, cursor=cursor, tags=(), cwd=None)
        stale += [r for r in page if dt.datetime.fromisoformat(r.updated_at) < cutoff]
        if cursor is None:
            return stale


def _prune(args: argparse.Namespace, service: Service, store: Store) -> int:
    if args.older_than < 0:
        raise ParleyError(ErrorCode.INVALID_PARAMS, "--older-than must not be negative")
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=args.older_than)
    stale = stale_sessions(store, cutoff)
    for record in stale:
        if not args.dry_run:
            store.delete_session(record.session_id)
        verb = "would delete" if args.dry_run else "deleted"
        print(f"{verb} {record.session_id} (last used {record.updated_at})")
    store.commit()
    verb = "would be deleted" if args.dry_run else "deleted"
    print(f"{len(stale)} sessions {verb}", file=sys.stderr)
    return EXIT_OK


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


_COMMANDS = {
    "list": _list,
    "show": _show,
    "export": _export,
    "delete": _delete,
    "prune": _prune,
}
