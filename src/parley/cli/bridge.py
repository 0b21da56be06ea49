"""The one place `parley run` and `parley chat` drive the engine.

The terminal sees a turn only as the wire sees it: `emit(method, params)` for every
notification (params with sessionId, turnId and seq) and for every approval question
(`approval/request` with the wire's ApprovalRequestParams), which the front door answers.
When the engine is served through an event hub, this module is what changes; the displays
(cli/render/) and the commands stay as they are.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs

from parley.config import Settings
from parley.core.errors import ErrorCode, ParleyError
from parley.engine.engine import Engine, session_info
from parley.engine.permissions import ApprovalPort, ApprovalQuestion, Decision
from parley.protocol import types as wire
from parley.protocol.codec import unstructure
from parley.providers import registry
from parley.store.base import Store

Emit = Callable[[str, Mapping[str, Any]], None]
# A person's answer to an `approval/request` (its params): a decision, or None for no answer.
Answer = Callable[[Mapping[str, Any]], Awaitable[Decision | None]]
# Who answers approval questions: a fixed policy (-y, -n, nobody) or a person.
Approver = ApprovalPort | Answer


class Bridge:
    def __init__(self, settings: Settings, store: Store, emit: Emit) -> None:
        self.settings = settings
        self.store = store
        self.emit = emit
        self.engine = Engine(settings, store, self._publish)
        self._opened: set[str] = set()
        # Sessions run here on another provider/model than they stored (a flag won).
        self._models: dict[str, tuple[str, str]] = {}

    def _publish(
        self, session_id: str, turn_id: str, seq: int, event: wire.Event, params: dict[str, Any]
    ) -> None:
        self.emit(event.method, wire.notification_params(session_id, turn_id, seq, params))

    # --- sessions ------------------------------------------------------------------------------

    async def preview(self, cwd: str, **choices: Any) -> wire.SessionInfo:
        """What a new session in `cwd` would be, without storing it: a configuration problem
        (no provider, a bad script or profile) fails here. `choices`: provider, model,
        permission_mode, as for `create`."""
        session = self.engine.new_session(wire.SessionCreateParams(cwd=cwd, **choices))
        await session.aclose()
        return session_info(None, session.record)

    def create(self, cwd: str, title: str | None, **choices: Any) -> wire.SessionInfo:
        session = self.engine.create_session(
            wire.SessionCreateParams(cwd=cwd, title=title, **choices)
        )
        self._opened.add(session.id)
        return self.info(session.id)

    def open(self, session_id: str) -> list[str]:
        """Load a stored session and make this invocation's command-line flags win over what
        the session stored (for this process only: nothing is saved). Returns notes saying
        what the flags changed, or why one could not."""
        session = self.engine.session(session_id)
        if session_id in self._opened:
            return []
        self._opened.add(session_id)
        record, notes = session.record, []
        if (mode := self._flag("permission_mode")) and mode != record.permission_mode:
            session.mode_override = mode
            notes.append(
                f"permission mode {mode} for this run (from the command line); "
                f"the session's own is {record.permission_mode}"
            )
        provider, model = self._flag("provider"), self._flag("model")
        if provider or model:
            name = provider or record.provider
            want = model or (record.model if name == record.provider else None)
            config = registry.resolve(self.settings, name, want)
            if (config.kind, config.model) != (record.provider, record.model):
                session.provider = registry.create(config)
                self._models[session_id] = (config.kind, config.model)
                notes.append(
                    f"{config.kind}/{config.model} for this run (from the command line); "
                    f"the session's own is {record.provider}/{record.model}"
                )
        if (profile := self._flag("profile")) and profile != record.profile:
            notes.append(
                f"--profile applies to new sessions; {session_id} keeps profile {record.profile}"
            )
        return notes

    def _flag(self, name: str) -> Any:
        """A setting given on this command line, else None."""
        given = self.settings.sources.get(name, "").startswith("flag")
        return getattr(self.settings, name) if given else None

    def resume(
        self, session_id: str | None, cwd: str, *, anything_stored: bool = True
    ) -> tuple[str, list[str]]:
        """The stored session to continue, `session_id` or else the one last used in `cwd`,
        opened (see `open`) with its provider built, so a configuration problem fails before
        a turn is stored. Returns its id and `open`'s notes. `anything_stored` False: there is
        no store yet, and none is created just to look."""
        target = (session_id or self.last(cwd)) if anything_stored else None
        if target is None:
            raise (
                ParleyError(ErrorCode.SESSION_NOT_FOUND, f"no session {session_id!r}")
                if session_id
                else ParleyError(
                    ErrorCode.SESSION_NOT_FOUND,
                    f"no earlier session in {cwd} to continue; start one with `parley` or "
                    "`parley run PROMPT`",
                )
            )
        notes = self.open(target)
        self.engine.session(target).provider  # noqa: B018
        return target, notes

    def info(self, session_id: str) -> wire.SessionInfo:
        """The session as this process runs it (a flag's mode or model, if one won)."""
        session = self.engine.sessions.get(session_id)
        if session is None:
            return self.engine.info(session_id)
        record = session.record
        provider, model = self._models.get(session_id, (record.provider, record.model))
        shown = attrs.evolve(
            record, permission_mode=session.permission_mode, provider=provider, model=model
        )
        return session_info(session, shown)

    def messages(self, session_id: str) -> list[wire.MessageView]:
        return self.engine.detail(session_id).messages

    def last(self, cwd: str) -> str | None:
        """The session in `cwd` used most recently."""
        newest: wire.SessionInfo | None = None
        cursor: str | None = None
        while True:
            page = self.engine.list_sessions(
                wire.SessionListParams(limit=1000, cursor=cursor, cwd=cwd)
            )
            for info in page.sessions:
                if newest is None or info.updated_at > newest.updated_at:
                    newest = info
            if (cursor := page.next_cursor) is None:
                return newest.session_id if newest else None

    def sessions(self, cwd: str, limit: int) -> list[wire.SessionInfo]:
        return self.engine.list_sessions(wire.SessionListParams(limit=limit, cwd=cwd)).sessions

    def fork(self, session_id: str) -> wire.SessionInfo:
        session = self.engine.fork(session_id, None, None)
        self.open(session.id)  # the flags that won over the source win over its copy too
        return self.info(session.id)

    def set_mode(self, session_id: str, mode: str) -> None:
        """The session's permission mode from now on, stored."""
        session = self.engine.session(session_id)
        session.mode_override = None
        session.record.permission_mode = mode
        self.store.save_session(session.record)
        self.store.commit()

    async def set_model(self, session_id: str, provider: str | None, model: str | None) -> None:
        """The session's provider and model from now on, stored; the provider is built first,
        so a bad choice changes nothing."""
        session = self.engine.session(session_id)
        name = provider or session.provider.name
        config = registry.resolve(self.settings, name, model)
        replacement = registry.create(config)
        await session.aclose()
        session.provider = replacement
        session.record.provider, session.record.model = config.kind, config.model
        self._models.pop(session_id, None)
        self.store.save_session(session.record)
        self.store.commit()

    def providers(self) -> wire.ProviderListResult:
        return self.engine.provider_list()

    # --- turns ---------------------------------------------------------------------------------

    async def submit(self, session_id: str, prompt: str, approver: Approver) -> wire.TurnResult:
        port = approver if isinstance(approver, ApprovalPort) else _Asking(self.emit, approver)
        return await self.engine.submit(session_id, prompt, None, port)

    def cancel(self, session_id: str) -> bool:
        return self.engine.cancel(session_id)

    async def close(self) -> None:
        await self.engine.shutdown()


class _Asking(ApprovalPort):
    """A person answers: the question goes to the displays as `approval/request`, then to
    `answer`."""

    def __init__(self, emit: Emit, answer: Answer) -> None:
        self.emit = emit
        self.answer = answer

    @property
    def available(self) -> bool:
        return True

    async def ask(self, question: ApprovalQuestion) -> Decision | None:
        params = unstructure(question.request())
        self.emit("approval/request", params)
        return await self.answer(params)


def resolve_cwd(cwd: str | None) -> str:
    return os.path.realpath(cwd or ".")
