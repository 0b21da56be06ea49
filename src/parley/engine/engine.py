"""The transport-free API every front door (stdio server, CLI, later HTTP) drives."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from parley.config import Settings
from parley.core.errors import ErrorCode, ParleyError
from parley.core.ids import new_id
from parley.core.messages import ImageBlock, Message, TextBlock, message_to_dict
from parley.engine.authorize import Authorizer
from parley.engine.permissions import ApprovalPort, NoApprovals
from parley.engine.profile_files import load_profiles
from parley.engine.profiles import Profile
from parley.engine.rules import Rule, parse_rules
from parley.engine.session import Listener, RunningTurn, Session
from parley.engine.turn import run_turn
from parley.protocol import types as wire
from parley.protocol.codec import structure, unstructure
from parley.providers import registry
from parley.providers.base import Provider
from parley.store.base import Store
from parley.store.records import SessionRecord, TurnStatus
from parley.tools.mcp.config import session_tables
from parley.tools.session_tools import session_tools

log = logging.getLogger(__name__)


def session_info(
    session: Session | None,
    record: SessionRecord,
    messages: list[wire.MessageView] | None = None,
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
        running_turn_id=session.running.turn_id if session and session.running else None,
        forked_from=record.forked_from,
        additional_directories=list(record.additional_directories),
    )
    if messages is None:
        return wire.SessionInfo(**fields)
    return wire.SessionDetail(**fields, messages=messages)


def prompt_message(prompt: str | Sequence[wire.ContentBlock]) -> Message:
    if isinstance(prompt, str):
        return Message("user", (TextBlock(prompt),))
    blocks = tuple(
        TextBlock(b.text) if isinstance(b, wire.TextContent) else ImageBlock(b.mime_type, b.data)
        for b in prompt
    )
    return Message("user", blocks)


class Engine:
    def __init__(self, settings: Settings, store: Store, listener: Listener) -> None:
        self.settings = settings
        self.store = store
        self.listener = listener
        self.sessions: dict[str, Session] = {}
        self.rules: list[Rule] = parse_rules(
            settings.rules, settings.sources.get("rules", "config")
        )

    # --- sessions ----------------------------------------------------------------------------

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

    def create_session(self, params: wire.SessionCreateParams) -> Session:
        session_id = params.session_id or new_id("ses")
        if session_id in self.sessions or self.store.load_session(session_id) is not None:
            raise ParleyError(ErrorCode.SESSION_EXISTS, f"session {session_id!r} already exists")
        cwd = _directory(params.cwd or os.getcwd(), "cwd")
        extra = [str(_directory(d, "additionalDirectories")) for d in params.additional_directories]
        profile = self._profile(params.profile or self.settings.profile, cwd)
        # Request, then flags / environment / config file (settings), then the profile.
        config = registry.resolve(
            self.settings,
            params.provider or self.settings.provider or profile.provider,
            params.model or self.settings.model or profile.model,
        )
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
            provider=config.kind,
            model=config.model,
            permission_mode=mode,
            title=params.title,
            tags=list(params.tags),
            additional_directories=extra,
            mcp_servers=session_tables(params.mcp_servers),
        )
        session = self._open(record, [], profile)
        session.provider  # noqa: B018  # a bad provider or script fails before anything is stored
        self.store.create_session(record)
        self.store.commit()
        self.sessions[session_id] = session
        return session

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
            self.listener,
            self.settings.tool_timeout,
        )

    def session(self, session_id: str) -> Session:
        """A live session, loaded from the store if it is not in memory."""
        if (session := self.sessions.get(session_id)) is not None:
            return session
        record = self.store.load_session(session_id)
        if record is None:
            raise ParleyError(ErrorCode.SESSION_NOT_FOUND, f"no session {session_id!r}")
        history = [m.message for m in self.store.load_messages(session_id)]
        session = self._open(record, history, self._profile(record.profile, Path(record.cwd)))
        self.sessions[session_id] = session
        return session

    def _record(self, session_id: str) -> tuple[Session | None, SessionRecord]:
        session = self.sessions.get(session_id)
        record = session.record if session else self.store.load_session(session_id)
        if record is None:
            raise ParleyError(ErrorCode.SESSION_NOT_FOUND, f"no session {session_id!r}")
        return session, record

    def info(self, session_id: str) -> wire.SessionInfo:
        return session_info(*self._record(session_id))

    def detail(self, session_id: str) -> wire.SessionDetail:
        session, record = self._record(session_id)
        messages = [
            wire.MessageView(m.message.role, message_to_dict(m.message)["content"], m.turn_id)
            for m in self.store.load_messages(session_id)
        ]
        detail = session_info(session, record, messages)
        assert isinstance(detail, wire.SessionDetail)
        return detail

    def list_sessions(self, params: wire.SessionListParams) -> wire.SessionListResult:
        records, cursor = self.store.list_sessions(
            limit=params.limit, cursor=params.cursor, tags=params.tags, cwd=params.cwd
        )
        return wire.SessionListResult(
            [session_info(self.sessions.get(r.session_id), r) for r in records], cursor
        )

    def fork(self, session_id: str, at_turn: int | None, new_session_id: str | None) -> Session:
        """A new session with the source's settings and its history up to `at_turn`."""
        source = self.session(session_id)
        record = self.store.fork_session(session_id, new_session_id or new_id("ses"), at_turn)
        self.store.commit()
        history = [m.message for m in self.store.load_messages(record.session_id)]
        session = self._open(record, history, source.profile)
        self.sessions[record.session_id] = session
        return session

    def delete(self, session_id: str) -> None:
        session = self.sessions.get(session_id)
        if session is not None and session.running is not None:
            raise ParleyError(
                ErrorCode.SESSION_BUSY, f"session {session_id!r} is running a turn; cancel it first"
            )
        if not self.store.delete_session(session_id):
            raise ParleyError(ErrorCode.SESSION_NOT_FOUND, f"no session {session_id!r}")
        self.store.commit()
        self.sessions.pop(session_id, None)

    def provider_list(self) -> wire.ProviderListResult:
        return registry.describe(self.settings)

    # --- turns -------------------------------------------------------------------------------

    async def submit(
        self,
        session_id: str,
        prompt: str | Sequence[wire.ContentBlock],
        turn_id: str | None,
        approvals: ApprovalPort | None,
    ) -> wire.TurnResult:
        """Run a turn. `approvals` asks a person; None means nobody can be asked."""
        session = self.session(session_id)
        if turn_id is not None:
            if session.running and session.running.turn_id == turn_id:
                return await asyncio.shield(session.running.task)  # same turn: attach to it
            if (done := self.store.load_turn(session_id, turn_id)) is not None and done.result:
                return structure(done.result, wire.TurnResult)
        if session.running is not None:
            raise ParleyError(
                ErrorCode.SESSION_BUSY,
                f"session {session_id!r} is running turn {session.running.turn_id!r}; "
                "wait for it or cancel it first",
                data={"runningTurnId": session.running.turn_id},
            )
        turn_id = turn_id or new_id("turn")
        authorize = Authorizer(
            approvals or NoApprovals(),
            self.rules + list(_profile_rules(session.profile)),
            self.settings.approval_timeout,
        )
        stored = self.store.begin_turn(session_id, turn_id)  # the lease: busy in another process
        if stored.last_seq != session.record.last_seq:
            # Another process ran turns on this session since it was loaded here.
            session.record = stored
            session.history = [m.message for m in self.store.load_messages(session_id)]
        session.record.turn_count = stored.turn_count
        task = asyncio.create_task(run_turn(session, turn_id, prompt_message(prompt), authorize))
        session.running = RunningTurn(turn_id, task)
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            # The caller went away (e.g. $/cancelRequest): cancel the turn, let it finish cleanly.
            task.cancel()
            result = await task
        finally:
            session.running = None
        self._finish(session, result)
        return result

    def _finish(self, session: Session, result: wire.TurnResult) -> None:
        session.record.totals.add(result.usage)
        status: TurnStatus = "interrupted" if result.stop_reason == "cancelled" else "completed"
        self.store.finish_turn(session.id, result.turn_id, status, unstructure(result))
        session.touch()
        self.store.commit()

    def cancel(self, session_id: str, turn_id: str | None = None) -> bool:
        session = self.session(session_id)
        running = session.running
        if running is None or (turn_id is not None and running.turn_id != turn_id):
            return False
        running.task.cancel()
        return True

    async def shutdown(self) -> None:
        """Cancel every running turn and wait until each has ended and been stored."""
        tasks = [s.running.task for s in self.sessions.values() if s.running]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        # submit() finishes the bookkeeping once its shielded task is done; let it run.
        await asyncio.sleep(0)
        for session in self.sessions.values():
            await session.aclose()
        self.store.commit()


def _profile_rules(profile: Profile) -> list[Rule]:
    return parse_rules(profile.rules, profile.source)


def _directory(raw: str, field: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise ParleyError(
            ErrorCode.INVALID_PARAMS,
            f"{field} must be an absolute path, got {raw!r}",
            data={"pointer": f"/{field}"},
        )
    if not path.is_dir():
        raise ParleyError(
            ErrorCode.INVALID_PARAMS,
            f"{field} {raw!r} is not a directory",
            data={"pointer": f"/{field}"},
        )
    return path.resolve()
