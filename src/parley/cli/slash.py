"""Slash commands in a conversation (`parley chat`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from parley.cli.render.describe import usage_line
from parley.config.settings import PERMISSION_MODES
from parley.core.errors import ParleyError
from parley.protocol.codec import unstructure
from parley.providers.registry import KINDS

if TYPE_CHECKING:
    from parley.cli.chat import Chat

# name -> (arguments, what it does)
COMMANDS: dict[str, tuple[str, str]] = {
    "/model": ("[NAME | PROVIDER/NAME]", "show or change the model (kept by the session)"),
    "/mode": ("[" + "|".join(PERMISSION_MODES) + "]", "show or change the permission mode"),
    "/sessions": ("", "the sessions in this directory, newest first"),
    "/resume": ("ID | N", "continue another session (N: its number in /sessions)"),
    "/fork": ("", "continue in a copy of this session, leaving the original as it is"),
    "/new": ("", "start a new session"),
    "/cost": ("", "this session's tokens and cost"),
    "/help": ("", "this list"),
    "/exit": ("", "leave (Ctrl-D does too)"),
}
_MODES = {
    "ask": "reads run; edits and commands are asked about",
    "accept-edits": "reads and edits run; commands are asked about",
    "allow": "everything runs without asking (deny rules still hold)",
    "deny": "read-only: every change is refused",
}
_SESSIONS_SHOWN = 20


async def run(chat: Chat, line: str) -> bool:
    """Carry out one command line; False when the conversation should end."""
    name, _, rest = line.partition(" ")
    handler = _HANDLERS.get(name.lower())
    if handler is None:
        chat.error(f"unknown command {name}; /help lists them")
        return True
    try:
        return await handler(chat, rest.strip())
    except ParleyError as exc:
        chat.error(exc.message)
        return True


async def _help(chat: Chat, arg: str) -> bool:
    width = max(len(f"{n} {a}".strip()) for n, (a, _) in COMMANDS.items())
    for name, (args, what) in COMMANDS.items():
        chat.say(f"{f'{name} {args}'.strip():<{width}}  {what}")
    return True


async def _model(chat: Chat, arg: str) -> bool:
    if not arg:
        assert chat.shown is not None
        chat.say(f"provider {chat.shown.provider}, model {chat.shown.model}")
        usable = [p for p in chat.bridge.providers().providers if p.configured]
        chat.say(
            "configured: "
            + ", ".join(f"{p.name} (default {p.default_model})" for p in usable)
            + " · change with /model NAME or /model PROVIDER/NAME"
        )
        return True
    provider, model = split_model(arg)
    if chat.session_id is None:
        choices = {**chat.choices, "model": model}
        if provider:
            choices["provider"] = provider
        chat.shown = await chat.bridge.preview(chat.cwd, **choices)
        chat.choices = choices
    else:
        await chat.bridge.set_model(chat.session_id, provider, model)
        chat.shown = chat.bridge.info(chat.session_id)
    chat.say(f"provider {chat.shown.provider}, model {chat.shown.model}")
    return True


def split_model(text: str) -> tuple[str | None, str | None]:
    """`NAME`, `PROVIDER` or `PROVIDER/NAME` (a model's own slashes are kept)."""
    if text in KINDS:
        return text, None
    head, _, tail = text.partition("/")
    if head in KINDS and tail:
        return head, tail
    return None, text


async def _mode(chat: Chat, arg: str) -> bool:
    assert chat.shown is not None
    if not arg:
        chat.say(f"mode {chat.shown.permission_mode}")
        for mode, what in _MODES.items():
            chat.say(f"  {mode:<12}  {what}")
        return True
    if arg not in PERMISSION_MODES:
        chat.error(f"no mode {arg!r}; one of {', '.join(PERMISSION_MODES)}")
        return True
    if chat.session_id is None:
        chat.choices["permission_mode"] = arg
        chat.shown = await chat.bridge.preview(chat.cwd, **chat.choices)
    else:
        chat.bridge.set_mode(chat.session_id, arg)
        chat.shown = chat.bridge.info(chat.session_id)
    chat.approver = chat.ask  # a mode chosen here is asked about here, whatever -y / -n said
    chat.say(f"mode {arg}: {_MODES[arg]}")
    return True


async def _sessions(chat: Chat, arg: str) -> bool:
    infos = chat.bridge.sessions(chat.cwd, _SESSIONS_SHOWN) if chat.stored() else []
    chat.listed = [info.session_id for info in infos]
    if not infos:
        chat.say("no sessions in this directory yet")
        return True
    for number, info in enumerate(infos, 1):
        mark = "*" if info.session_id == chat.session_id else " "
        when = info.updated_at[:16].replace("T", " ")
        chat.say(
            f"{mark}{number:>3}  {info.session_id}  {when}  {turns(info.turn_count):>9}  "
            f"{info.title or ''}".rstrip()
        )
    chat.say("continue one with /resume N")
    return True


async def _resume(chat: Chat, arg: str) -> bool:
    if not arg:
        return await _sessions(chat, arg)
    if arg.isdigit() and 1 <= int(arg) <= len(chat.listed):
        arg = chat.listed[int(arg) - 1]
    chat.switch(arg)
    return True


async def _fork(chat: Chat, arg: str) -> bool:
    if chat.session_id is None:
        chat.error("nothing to fork yet: this session has no turns")
        return True
    source = chat.session_id
    chat.shown = chat.bridge.fork(source)
    chat.session_id = chat.shown.session_id
    chat.say(f"forked {source} into {chat.session_id}; you are in the copy now")
    return True


async def _new(chat: Chat, arg: str) -> bool:
    chat.choices = {}
    await chat.new()
    return True


async def _cost(chat: Chat, arg: str) -> bool:
    if chat.session_id is None:
        chat.say("no turns yet")
        return True
    info = chat.bridge.info(chat.session_id)
    chat.say(
        f"{chat.session_id}: {usage_line(unstructure(info.usage))} over {turns(info.turn_count)}"
    )
    return True


def turns(count: int) -> str:
    return f"{count} turn" + ("" if count == 1 else "s")


async def _exit(chat: Chat, arg: str) -> bool:
    return False


_HANDLERS: dict[str, Callable[[Chat, str], Awaitable[bool]]] = {
    "/model": _model,
    "/mode": _mode,
    "/sessions": _sessions,
    "/resume": _resume,
    "/fork": _fork,
    "/new": _new,
    "/cost": _cost,
    "/help": _help,
    "/exit": _exit,
    "/quit": _exit,
}
