"""The one place `parley run` and `parley chat` drive the engine service.

The terminal sees a turn only as the wire sees it: `emit(method, params)` for every event of
the session (params with sessionId, turnId and seq), delivered by a Pump from the service's
hub, `approval/requested` questions included; a person's answer goes back through an
Answerer. The displays (cli/render/) and the commands know nothing of the service.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from parley.config import Settings
from parley.core.errors import ErrorCode, ParleyError
from parley.engine.askers import Answerer, ApprovalPort
from parley.engine.permissions import Decision
from parley.engine.pump import Batch, Pump
from parley.engine.service import Service
from parley.protocol import types as wire
from parley.protocol.codec import unstructure
from parley.providers import registry
from parley.store.base import Store

Emit = Callable[[str, Mapping[str, Any]], None]
# A person's answer to an `approval/requested` question (its params): a decision, or None.
Answer = Callable[[Mapping[str, Any]], Awaitable[Decision | None]]
# Who answers approval questions: a fixed policy (-y, -n, nobody) or a person.
Approver = ApprovalPort | Answer


class Bridge:
    def __init__(self, settings: Settings, store: Store, emit: Emit) -> None:
        self.settings = settings
        self.store = store
        self.emit = emit
        self.service = Service(settings, store)
        self._opened: set[str] = set()
        # The permission mode a flag gave, by session: kept when /model reloads the session.
        self._modes: dict[str, str] = {}
        # The tools of the last turn that needed an approval nobody could give.
        self.unasked: list[str] = []

    # --- sessions ------------------------------------------------------------------------------

    async def preview(self, cwd: str, **choices: Any) -> wire.SessionInfo:
        """What a new session in `cwd` would be, without storing it: a configuration problem
        (no provider, a bad script or profile) fails here. `choices`: provider, model,
        permission_mode, as for `create`."""
        return await self.service.preview_session(wire.SessionCreateParams(cwd=cwd, **choices))

    def create(self, cwd: str, title: str | None, **choices: Any) -> wire.SessionInfo:
        info = self.service.create_session(
            wire.SessionCreateParams(cwd=cwd, title=title, **choices)
        )
        self._opened.add(info.session_id)
        return self.info(info.session_id)

    def open(self, session_id: str) -> list[str]:
        """Load a stored session, its provider built, and make this invocation's command-line
        flags win over what the session stored (for this process only: nothing is saved).
        Returns notes saying what the flags changed, or why one could not."""
        if session_id in self._opened:
            self.service.open_session(session_id)
            return []
        stored = self.service.session_info(session_id)
        mode, provider, model = (self._flag(n) for n in ("permission_mode", "provider", "model"))
        if mode is not None and mode != stored.permission_mode:
            self._modes[session_id] = mode
        else:
            mode = None
        shown = self.service.open_session(
            session_id, permission_mode=mode, provider=provider, model=model
        )
        self._opened.add(session_id)
        notes = []
        if mode is not None:
            notes.append(
                f"permission mode {mode} for this run (from the command line); "
                f"the session's own is {stored.permission_mode}"
            )
        if (shown.provider, shown.model) != (stored.provider, stored.model):
            notes.append(
                f"{shown.provider}/{shown.model} for this run (from the command line); "
                f"the session's own is {stored.provider}/{stored.model}"
            )
        if (profile := self._flag("profile")) and profile != stored.profile:
            notes.append(
                f"--profile applies to new sessions; {session_id} keeps profile {stored.profile}"
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
        return target, self.open(target)

    def info(self, session_id: str) -> wire.SessionInfo:
        """The session as this process runs it (a flag's mode or model, if one won)."""
        if session_id in self._opened:
            return self.service.open_session(session_id)
        return self.service.session_info(session_id)

    def messages(self, session_id: str) -> list[wire.MessageView]:
        return self.service.session_detail(session_id, limit=None).messages

    def last(self, cwd: str) -> str | None:
        """The session in `cwd` used most recently."""
        newest: wire.SessionInfo | None = None
        cursor: str | None = None
        while True:
            page = self.service.list_sessions(
                wire.SessionListParams(limit=1000, cursor=cursor, cwd=cwd)
            )
            for info in page.sessions:
                if newest is None or info.updated_at > newest.updated_at:
                    newest = info
            if (cursor := page.next_cursor) is None:
                return newest.session_id if newest else None

    def sessions(self, cwd: str, limit: int) -> list[wire.SessionInfo]:
        return self.service.list_sessions(wire.SessionListParams(limit=limit, cwd=cwd)).sessions

    def fork(self, session_id: str) -> wire.SessionInfo:
        info = self.service.fork_session(session_id, None, None)
        self.open(info.session_id)  # the flags that won over the source win over its copy too
        return self.info(info.session_id)

    def set_mode(self, session_id: str, mode: str) -> None:
        """The session's permission mode from now on, stored."""
        self._modes.pop(session_id, None)
        self.service.configure_session(session_id, permission_mode=mode)

    async def set_model(self, session_id: str, provider: str | None, model: str | None) -> None:
        """The session's provider and model from now on, stored; the provider is built first,
        so a bad choice changes nothing."""
        info = self.service.session_info(session_id)
        config = registry.resolve(self.settings, provider or info.provider, model)
        await registry.create(config).aclose()
        self.service.configure_session(session_id, provider=config.kind, model=config.model)
        # The session was loaded again for its new model: a flag's mode still wins here.
        self.service.open_session(session_id, permission_mode=self._modes.get(session_id))

    def providers(self) -> wire.ProviderListResult:
        return self.service.provider_list()

    # --- turns ---------------------------------------------------------------------------------

    async def submit(self, session_id: str, prompt: str, approver: Approver) -> wire.TurnResult:
        """Run a turn, its events to the displays as they happen, approval questions to
        `approver`; the tools that needed an approval nobody could give end up in `unasked`."""
        port = approver if isinstance(approver, ApprovalPort) else _Asking(approver)
        answerer = Answerer(self.service.approvals, port)

        async def deliver(batch: Batch) -> None:
            for sid, event in batch:
                self.emit(
                    event.method,
                    wire.notification_params(sid, event.turn_id, event.seq, event.params),
                )
                answerer.see(event)

        pump = Pump(self.service.hub, deliver, answers_approvals=port.available)
        pump.follow(session_id)
        delivering = asyncio.create_task(pump.run())
        try:
            handle = await self.service.start_turn(session_id, prompt)
            result = await handle
            await pump.reached(session_id, handle.final_seq)
            self.unasked = list(handle.unasked)
            return result
        finally:
            pump.close()
            await delivering
            await answerer.aclose()

    def cancel(self, session_id: str) -> bool:
        return self.service.cancel_turn(session_id)

    async def close(self) -> None:
        await self.service.shutdown()


class _Asking(ApprovalPort):
    """A person answers: each question (the display has shown it) goes to `answer`."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer

    @property
    def available(self) -> bool:
        return True

    async def ask(self, question: wire.ApprovalRequestParams) -> Decision | None:
        return await self.answer(unstructure(question))


def resolve_cwd(cwd: str | None) -> str:
    return os.path.realpath(cwd or ".")
