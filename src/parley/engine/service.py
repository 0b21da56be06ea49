"""The engine service: the one transport-free API every front door drives.

Sessions (create, list, get, fork, delete), turns (start -> a handle; cancel), approvals
(answer by id) and events (subscribe). Doors translate their wire to these calls and the
events back; none of them runs a turn itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from parley.config import Settings, paths
from parley.core.errors import ErrorCode, ParleyError
from parley.core.ids import new_id
from parley.core.messages import ImageBlock, Message, TextBlock, message_to_dict
from parley.engine.approvals import Approvals
from parley.engine.authorize import Authorizer
from parley.engine.hub import DEFAULT_QUEUE_LIMIT, Hub, Subscription
from parley.engine.profile_files import load_profiles
from parley.engine.profiles import Profile
from parley.engine.rules import Rule, parse_rules
from parley.engine.session import Session, touch
from parley.engine.session_tools import session_tools
from parley.engine.turn import run_turn, turn_result
from parley.engine.turn_handle import TurnHandle
from parley.protocol import types as wire
from parley.protocol.codec import structure, unstructure
from parley.providers import registry
from parley.providers.base import Provider
from parley.store.base import Store
from parley.store.records import SessionRecord, TurnStatus
from parley.tools.base import HostCommands, HostFiles
from parley.tools.mcp.config import session_tables
from parley.tools.registry import ToolRegistry

log = logging.getLogger(__name__)

# Sessions without a running turn kept loaded (history, provider client) for the next turn.
IDLE_SESSIONS = 32
# Turns past which a session's history is read on a worker thread (a few hundred messages and
# more; ~3.5 µs each to build).
LONG_HISTORY_TURNS = 50


def session_info(
    running_turn_id: str | None,
    record: SessionRecord,
    messages: list[wire.MessageView] | None = None,
    next_cursor: str | None = None,
) -> wire.SessionInfo:
    """The wire view of a session; with `messages`, its detail (the session/get answer)."""
    # Any-typed: permission_mode is a plain str in the store and a Literal on the wire.
    fields: dict[str, Any] = dict(
        session_id=record.session_id,
        cwd=record.cwd,
        profile=record.profile,
        provider=record.provider,
        model=record.model,
        permission_mode=record.permission_mode,
        created_at=record.created_at,
        updated_at=record.updated_at,
        title=record.title,
        tags=list(record.tags),
        turn_count=record.turn_count,
        last_seq=record.last_seq,
        usage=wire.usage_of(record.totals),
        running_turn_id=running_turn_id,
        forked_from=record.forked_from,
        additional_directories=list(record.additional_directories),
        agent=record.agent,
    )
    if messages is None:
        return wire.SessionInfo(**fields)
    return wire.SessionDetail(**fields, messages=messages, next_cursor=next_cursor)


def prompt_message(prompt: str | Sequence[wire.ContentBlock]) -> Message:
    if isinstance(prompt, str):
        return Message("user", (TextBlock(prompt),))
    blocks = tuple(
        TextBlock(b.text) if isinstance(b, wire.TextContent) else ImageBlock(b.mime_type, b.data)
        for b in prompt
    )
    return Message("user", blocks)


class Service:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.hub = Hub(store)
        self.approvals = Approvals()
        self.rules: list[Rule] = parse_rules(
            settings.rules, settings.sources.get("rules", "config")
        )
        # Parley's own files, which no tool may read or change: its configuration (keys,
        # rules, profiles) and its session store (every session's conversation).
        self.protected = tuple(
            p.expanduser().resolve()
            for p in (settings.config_path, paths.config_dir(settings.env), settings.data_path())
            if p is not None
        )
        self._loaded: OrderedDict[str, Session] = OrderedDict()
        self._turns: dict[str, TurnHandle] = {}  # by session id: its running turn

    # --- profiles and providers -------------------------------------------------------------

    def profiles(self, cwd: str | None = None) -> list[Profile]:
        """Built-in, the user's, then the project's in `cwd` (default: the server's directory).

        Files are read on every call, so edits show at once.
        """
        return list(load_profiles(self.settings, _directory(cwd or os.getcwd(), "cwd")).values())

    def profile(self, name: str, cwd: str | None = None) -> Profile:
        return self._profile(name, _directory(cwd or os.getcwd(), "cwd"))

    def _profile(self, name: str, cwd: Path) -> Profile:
        """The profile a session uses; the max_turns setting, when set, overrides the profile's."""
        profiles = load_profiles(self.settings, cwd)
        profile = profiles.get(name)
        if profile is None:
            raise ParleyError(
                ErrorCode.PROFILE_NOT_FOUND,
                f"no profile named {name!r}; available: {', '.join(profiles)}",
            )
        if self.settings.max_turns is not None:
            profile = attrs.evolve(profile, max_turns=self.settings.max_turns)
        return profile

    def provider_list(self) -> wire.ProviderListResult:
        return registry.describe(self.settings)

    def tools(self) -> ToolRegistry:
        """Every built-in tool (a session's profile may allow fewer)."""
        return ToolRegistry.builtin(None, [])

    async def tool_list(self, session_id: str) -> wire.ToolListResult:
        """The session's tools and where each comes from; its MCP servers start if needed."""
        from parley.engine.tool_list import tool_list

        return await tool_list(await self._session_off_loop(session_id))

    # --- sessions ----------------------------------------------------------------------------

    def create_session(self, params: wire.SessionCreateParams) -> wire.SessionInfo:
        # Only a host-chosen id can be taken (a generated one is random): check it before
        # anything is built, and leave the store alone otherwise until the session is stored.
        if (wanted := params.session_id) is not None and self.store.load_session(wanted):
            raise ParleyError(ErrorCode.SESSION_EXISTS, f"session {wanted!r} already exists")
        session = self._new_session(params)
        self.store.create_session(session.record)
        self.store.commit()
        self._keep(session)
        return session_info(None, session.record)

    async def preview_session(self, params: wire.SessionCreateParams) -> wire.SessionInfo:
        """What `create_session` would make, neither stored nor kept: whatever can fail on
        configuration (directories, profile, provider, script) fails here, and the store is
        not touched."""
        session = self._new_session(params)
        await session.aclose()
        return session_info(None, session.record)

    def _new_session(self, params: wire.SessionCreateParams) -> Session:
        """A new session, its provider built (a bad provider or script fails here)."""
        session_id = params.session_id or new_id("ses")
        cwd = _directory(params.cwd or os.getcwd(), "cwd")
        extra = [str(_directory(d, "additionalDirectories")) for d in params.additional_directories]
        profile = self._profile(params.profile or self.settings.profile, cwd)
        if params.agent is not None:
            from parley.agents import registry as agents

            agents.spec(params.agent, self.settings)  # unknown or not installed: fail now
            # The agent's own model (Amp: its mode); "default" lets the agent choose.
            provider, model = params.agent, params.model or "default"
        else:
            # Request, then flags / environment / config file (settings), then the profile.
            config = registry.resolve(
                self.settings,
                params.provider or self.settings.provider or profile.provider,
                params.model or self.settings.model or profile.model,
            )
            provider, model = config.kind, config.model
        mode = (
            params.permission_mode
            or self.settings.permission_mode
            or profile.permission_mode
            or "ask"
        )
        record = SessionRecord(
            session_id=session_id,
            cwd=str(cwd),
            profile=profile.name,
            provider=provider,
            model=model,
            permission_mode=mode,
            title=params.title,
            tags=list(params.tags),
            additional_directories=extra,
            mcp_servers=session_tables(params.mcp_servers),
            agent=params.agent,
        )
        session = self._open(record, [], profile)
        if record.agent is None:
            session.provider  # noqa: B018  # a bad provider or script fails before anything is stored
        return session

    def session_info(self, session_id: str) -> wire.SessionInfo:
        """What the store says now (whichever process wrote it), and the turn running here."""
        return session_info(self._running_turn_id(session_id), self._stored(session_id))

    def open_session(
        self,
        session_id: str,
        *,
        permission_mode: str | None = None,
        provider: str | None = None,
        model: str | None = None,
    ) -> wire.SessionInfo:
        """Load a stored session for this process's turns with its provider built, so a
        configuration problem fails before a turn is stored. `permission_mode`, `provider`,
        `model`: this process runs the session with these instead of what it stored (a
        command-line flag that wins for one run); nothing is stored, and `configure_session`
        ends them. A session on an external agent takes the mode only. Returns the session as
        it runs here."""
        session = self._session(session_id)
        record = session.record
        if permission_mode is not None:
            session.mode_override = permission_mode
        # An external agent's model is the agent's own business.
        if record.agent is None and (provider is not None or model is not None):
            name = provider or record.provider
            wanted = model or (record.model if name == record.provider else None)
            config = registry.resolve(self.settings, name, wanted)
            if (config.kind, config.model) != (record.provider, record.model):
                old = session.replace_provider(registry.create(config))
                if old is not None:
                    _close_later(old)
        return self._as_run(session)

    def _as_run(self, session: Session) -> wire.SessionInfo:
        """The session's info with what this process runs it with; its provider is built, so a
        bad provider or script fails here."""
        shown = attrs.evolve(session.record, permission_mode=session.permission_mode)
        if shown.agent is None:
            shown = attrs.evolve(
                shown, provider=session.provider.name, model=session.provider.model
            )
        return session_info(self._running_turn_id(session.id), shown)

    def session_detail(
        self, session_id: str, limit: int | None = 1000, cursor: str | None = None
    ) -> wire.SessionDetail:
        """Info and a page of messages, oldest first; `limit` None: all of them."""
        record = self._stored(session_id)
        offset = _message_offset(cursor)
        stored = self.store.load_messages(
            session_id, offset=offset, limit=None if limit is None else limit + 1
        )
        more = limit is not None and len(stored) > limit
        messages = [
            wire.MessageView(m.message.role, message_to_dict(m.message)["content"], m.turn_id)
            for m in stored[:limit]
        ]
        next_cursor = str(offset + len(messages)) if more else None
        detail = session_info(self._running_turn_id(session_id), record, messages, next_cursor)
        assert isinstance(detail, wire.SessionDetail)
        return detail

    def list_sessions(self, params: wire.SessionListParams) -> wire.SessionListResult:
        records, cursor = self.store.list_sessions(
            limit=params.limit, cursor=params.cursor, tags=params.tags, cwd=params.cwd
        )
        return wire.SessionListResult(
            [session_info(self._running_turn_id(r.session_id), r) for r in records], cursor
        )

    def session_count(self) -> int:
        return self.store.count_sessions()

    def running_turn_count(self) -> int:
        return len(self._turns)

    def fork_session(
        self, session_id: str, at_turn: int | None, new_session_id: str | None
    ) -> wire.SessionInfo:
        """A new session with the source's settings and its history up to `at_turn`."""
        source = self._stored(session_id)
        if source.agent is not None and at_turn is not None and at_turn < source.turn_count:
            raise ParleyError(
                ErrorCode.INVALID_PARAMS,
                f"session {session_id!r} runs on the agent {source.agent!r}, whose own session "
                "can only be forked at its last turn",
                data={"pointer": "/atTurn"},
            )
        record = self.store.fork_session(session_id, new_session_id or new_id("ses"), at_turn)
        self.store.commit()
        return session_info(None, record)

    def delete_session(self, session_id: str) -> None:
        if (running := self._running_turn_id(session_id)) is not None:
            raise ParleyError(
                ErrorCode.SESSION_BUSY,
                f"session {session_id!r} is running turn {running!r}; cancel it first",
                data={"runningTurnId": running},
            )
        if not self.store.delete_session(session_id):
            raise ParleyError(ErrorCode.SESSION_NOT_FOUND, f"no session {session_id!r}")
        self.store.commit()
        self.hub.forget(session_id)
        if (session := self._loaded.pop(session_id, None)) is not None:
            _close_later(session)

    def configure_session(
        self,
        session_id: str,
        *,
        permission_mode: str | None = None,
        provider: str | None = None,
        model: str | None = None,
    ) -> wire.SessionInfo:
        """Change a session's permission mode (it applies to the next tool call, also in a
        running turn) or its provider and model (from the next turn; not while one runs).
        Only its record changes: a session not loaded here is not loaded for this (a long
        history takes the event loop hundreds of milliseconds to build)."""
        session = self._loaded.get(session_id)
        record = session.record if session is not None else self._stored(session_id)
        if provider is not None or model is not None:
            if (running := self._running_turn_id(session_id)) is not None:
                raise ParleyError(
                    ErrorCode.SESSION_BUSY,
                    f"session {session_id!r} is running turn {running!r}; "
                    "change its model once the turn has ended",
                    data={"runningTurnId": running},
                )
            config = registry.resolve(
                self.settings, provider or record.provider, model or record.model
            )
            record.provider, record.model = config.kind, config.model
            if session is not None:
                _close_later(session)  # its provider client is for the old model
                self._loaded.pop(session_id, None)
        if permission_mode is not None:
            record.permission_mode = permission_mode
            if session is not None:
                session.mode_override = None
        touch(self.store, record)
        self.store.commit()
        return session_info(self._running_turn_id(session_id), record)

    def context_window(self, provider: str, model: str) -> int:
        """The input tokens a provider's model takes, as far as the configuration says."""
        try:
            return registry.resolve(self.settings, provider, model).context_window or 0
        except ParleyError:  # no longer configured: the kind's own default
            return registry.KINDS[provider].context_window if provider in registry.KINDS else 0

    def _stored(self, session_id: str) -> SessionRecord:
        record = self.store.load_session(session_id)
        if record is None:
            raise ParleyError(ErrorCode.SESSION_NOT_FOUND, f"no session {session_id!r}")
        return record

    def _running_turn_id(self, session_id: str) -> str | None:
        handle = self._turns.get(session_id)
        return handle.turn_id if handle is not None else None

    def _open(self, record: SessionRecord, history: list[Message], profile: Profile) -> Session:
        def make_provider() -> Provider:
            return registry.create(registry.resolve(self.settings, record.provider, record.model))

        return Session(
            record,
            history,
            profile,
            make_provider,
            session_tools(record, profile, self.settings),
            self.store,
            self.hub,
            self.settings.tool_timeout,
            self.protected,
        )

    def _session(self, session_id: str) -> Session:
        """The session loaded, as it is stored now: another process may have run turns on it."""
        session = self._loaded.get(session_id)
        if session is not None:
            self._loaded.move_to_end(session_id)
            return session
        return self._load(self._stored(session_id), self._history(session_id))

    def _history(self, session_id: str) -> list[Message]:
        return [m.message for m in self.store.load_messages(session_id)]

    async def _session_off_loop(self, session_id: str) -> Session:
        """_session, reading a long history that is not loaded yet on a worker thread: it
        takes up to hundreds of milliseconds to build, which every other session would wait
        for. A short one is read at once: a thread and a connection cost more than it does,
        and a thousand turns starting together would queue for the threads."""
        if session_id not in self._loaded:
            record = self._stored(session_id)
            if record.turn_count < LONG_HISTORY_TURNS:
                return self._load(record, self._history(session_id))
            history = [m.message for m in await self.store.read_history(session_id)]
            if session_id not in self._loaded:  # nobody loaded it meanwhile
                return self._load(record, history)
        return self._session(session_id)

    def _load(self, record: SessionRecord, history: list[Message]) -> Session:
        session = self._open(record, history, self._profile(record.profile, Path(record.cwd)))
        self._keep(session)
        return session

    def _keep(self, session: Session) -> None:
        """Keep a loaded session for its next turn; forget the least recently used idle ones."""
        self._loaded[session.id] = session
        self._loaded.move_to_end(session.id)
        excess = len(self._loaded) - IDLE_SESSIONS
        for session_id in list(self._loaded):
            if excess <= 0:
                break
            if session_id not in self._turns:
                _close_later(self._loaded.pop(session_id))
                excess -= 1

    # --- turns -------------------------------------------------------------------------------

    async def start_turn(
        self,
        session_id: str,
        prompt: str | Sequence[wire.ContentBlock],
        turn_id: str | None = None,
        files: HostFiles | None = None,
        commands: HostCommands | None = None,
    ) -> TurnHandle:
        """Start a turn and return at once; await the handle for its result. `files`,
        `commands`: the host's files (an editor's buffers) and terminals, for the turn's tools.

        A turn id already used on the session gives that turn's handle (running) or its stored
        result (finished). A turn being cancelled is waited for, then this one runs.
        """
        session = await self._session_off_loop(session_id)
        if turn_id is not None:
            running = self._turns.get(session_id)
            if running is not None and running.turn_id == turn_id:
                return running
            if (done := self.store.load_turn(session_id, turn_id)) is not None and done.result:
                return TurnHandle.finished(session_id, structure(done.result, wire.TurnResult))
        while (running := self._turns.get(session_id)) is not None and running.cancelling:
            await asyncio.wait([running.outcome])
        if running is not None:
            raise ParleyError(
                ErrorCode.SESSION_BUSY,
                f"session {session_id!r} is running turn {running.turn_id!r}; "
                "wait for it or cancel it first",
                data={"runningTurnId": running.turn_id},
            )
        if session.record.agent is not None and session.agent is None:
            from parley.agents import registry as agents  # the layer above: only when used

            # Not installed (any more): fails here, before the lease.
            session.agent = agents.open_backend(session.record.agent, self.settings, session)
        turn_id = turn_id or new_id("turn")
        stored = self.store.begin_turn(session_id, turn_id)  # the lease: busy in another process
        if stored.last_seq != session.record.last_seq:
            # Another process ran turns on this session since it was loaded here.
            session.record = stored
            session.history = self._history(session_id)
            if session.agent is not None:  # its process holds a stale copy of the session
                await session.agent.aclose()
        session.record.turn_count = stored.turn_count
        authorize = Authorizer(
            self.approvals,
            self.hub.has_answerer,
            self.rules + _profile_rules(session.profile),
            self.settings.approval_timeout,
        )
        handle = TurnHandle(session_id, turn_id)
        handle.unasked = authorize.unasked
        message = prompt_message(prompt)
        handle.task = asyncio.create_task(
            run_turn(session, turn_id, message, authorize, files, commands)
            if session.agent is None
            else session.agent.run_turn(session, turn_id, message, authorize)  # a whole turn
        )
        handle.task.add_done_callback(lambda task: self._finish(session, handle, task))
        self._turns[session_id] = handle
        return handle

    def _finish(self, session: Session, handle: TurnHandle, task: asyncio.Task[Any]) -> None:
        """The turn's task is over: once its events are durable, store how it ended, free
        the session and give the result (a host never has a result before its events)."""
        result = _outcome(session, handle, task)
        handle.end(result, session.record.last_seq)
        self.hub.when_stored(
            session.id, handle.final_seq, lambda: self._finished(session, handle, result)
        )

    def _finished(self, session: Session, handle: TurnHandle, result: wire.TurnResult) -> None:
        """Store how the turn ended and free the session, whatever went wrong on the way."""
        try:
            session.record.totals.add(result.usage)
            status: TurnStatus = "interrupted" if result.stop_reason == "cancelled" else "completed"
            self.store.finish_turn(session.id, handle.turn_id, status, unstructure(result))
            session.touch()
        except Exception:  # the session must never stay leased to a turn that is over
            log.exception("could not store the end of turn %s", handle.turn_id)
            with contextlib.suppress(Exception):
                self.store.finish_turn(session.id, handle.turn_id, "interrupted", None)
        finally:
            if self._turns.get(session.id) is handle:
                del self._turns[session.id]
            handle.outcome.set_result(result)

    def cancel_turn(self, session_id: str, turn_id: str | None = None) -> bool:
        """Cancel the session's running turn (only if it is `turn_id`, when given)."""
        handle = self._turns.get(session_id)
        if handle is None:
            self._stored(session_id)  # session_not_found for an unknown id
        if handle is None or (turn_id is not None and handle.turn_id != turn_id):
            return False
        return handle.cancel()

    def running_turn(self, session_id: str) -> TurnHandle | None:
        return self._turns.get(session_id)

    # --- approvals and events ----------------------------------------------------------------

    def answer_approval(
        self, approval_id: str, decision: str, session_id: str | None = None
    ) -> None:
        self.approvals.answer(approval_id, decision, session_id)

    def pending_approvals(self, session_id: str) -> list[wire.ApprovalRequestParams]:
        return self.approvals.pending(session_id)

    def subscribe(
        self, *, limit: int = DEFAULT_QUEUE_LIMIT, answers_approvals: bool = False
    ) -> Subscription:
        return self.hub.subscribe(limit=limit, answers_approvals=answers_approvals)

    # --- lifecycle ---------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Cancel every running turn and wait until each has ended and been stored."""
        handles = list(self._turns.values())
        for handle in handles:
            handle.cancel()
        if handles:
            await asyncio.wait([h.outcome for h in handles])
        for session in self._loaded.values():
            await session.aclose()
        self._loaded.clear()
        await self.hub.drain()
        self.store.commit()


def _outcome(session: Session, handle: TurnHandle, task: asyncio.Task[Any]) -> wire.TurnResult:
    """The turn's result; a turn cancelled before it ran, or that crashed, still ends with its
    one terminal `error` event."""
    if not task.cancelled() and task.exception() is None:
        result: wire.TurnResult = task.result()
        return result
    if task.cancelled():
        error = ParleyError(ErrorCode.CANCELLED, "the turn was cancelled", recoverable=True)
    else:
        log.error("turn %s failed", handle.turn_id, exc_info=task.exception())
        error = ParleyError(ErrorCode.INTERNAL, "internal error: the turn failed")
    with contextlib.suppress(Exception):
        session.publish(
            handle.turn_id, wire.TurnError(error.code, error.message, error.recoverable)
        )
    return turn_result(session.id, handle.turn_id, "", wire.Usage(), None, error)


def _close_later(session: Session | Provider) -> None:
    """Close a session (its provider client, its MCP servers) or a provider client without
    making the caller wait for it."""
    with contextlib.suppress(RuntimeError):  # no running loop: nothing was opened on one
        task = asyncio.get_running_loop().create_task(session.aclose())
        _closing.add(task)
        task.add_done_callback(_closing.discard)


_closing: set[asyncio.Task[None]] = set()


def _message_offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise ParleyError(
            ErrorCode.INVALID_PARAMS,
            "cursor is not one this server gave out",
            data={"pointer": "/cursor"},
        )
    return int(cursor)


def _profile_rules(profile: Profile) -> list[Rule]:
    return parse_rules(profile.rules, profile.source)


def _directory(raw: str, field: str) -> Path:
    try:
        path = Path(raw).expanduser()
    except RuntimeError:  # `~name` of no user: not absolute, refused below
        path = Path(raw)
    if not path.is_absolute():
        raise ParleyError(
            ErrorCode.INVALID_PARAMS,
            f"{field} must be an absolute path, got {raw!r}",
            data={"pointer": f"/{field}"},
        )
    try:
        if path.is_dir():
            return path.resolve(strict=True)
        problem = "is not a directory"
    except (OSError, RuntimeError) as exc:  # a name too long, a symlink loop, no permission
        problem = f"cannot be used: {getattr(exc, 'strerror', None) or exc}"
    raise ParleyError(
        ErrorCode.INVALID_PARAMS,
        f"{field} {raw[:200]!r} {problem}",
        data={"pointer": f"/{field}"},
    )
