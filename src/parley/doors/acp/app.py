"""`parley acp`: one ACP client on stdio. Owns what is ACP's on the connection (the handshake,
which sessions the client follows and how their events look to it, permission requests);
the connection is doors/jsonrpc/connection.py, everything else the engine service's."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parley.config import Settings
from parley.doors.acp import spec
from parley.doors.acp.editor_files import EditorFiles
from parley.doors.acp.editor_terminal import EditorTerminal
from parley.doors.acp.errors import acp_code
from parley.doors.acp.handlers import handlers, notification_handlers
from parley.doors.acp.negotiate import ClientSide
from parley.doors.acp.permissions import PermissionRequests
from parley.doors.acp.updates import SessionView
from parley.doors.jsonrpc.connection import JsonRpcConnection, run
from parley.doors.jsonrpc.dispatch import route
from parley.doors.jsonrpc.handshake import EarlyInput
from parley.doors.jsonrpc.peer import JsonRpcPeer, MsgId
from parley.store.base import Store

if TYPE_CHECKING:
    from parley.core.errors import ParleyError
    from parley.engine.pump import Batch
    from parley.protocol import types as wire

log = logging.getLogger(__name__)
SESSION_UPDATE = "session/update"


class AcpPeer(JsonRpcPeer):
    cancel_method = "$/cancel_request"


class AcpServer(JsonRpcConnection):
    peer_class = AcpPeer

    def __init__(self, settings: Settings, open_store: Callable[[], Store]) -> None:
        super().__init__(settings, open_store)
        self.client: ClientSide | None = None
        self.views: dict[str, SessionView] = {}
        # In-flight session/prompt requests, so $/cancel_request on one cancels its turn.
        self.prompt_requests: dict[MsgId, str] = {}
        self.protocol.on_cancel = self._cancel_prompt_request
        # Held while a batch or a replay is written: a replay is never interleaved with events.
        self.writing = asyncio.Lock()
        for method, handler in handlers(self).items():
            self.feature(method)(
                route(
                    method,
                    handler,
                    lambda: self.client is not None,
                    initialize="initialize",
                    parse=spec.parse,
                    code=self.error_code,
                )
            )
        self.protocol.notification_handlers.update(notification_handlers(self))

    @functools.cached_property
    def permissions(self) -> PermissionRequests:
        return PermissionRequests(self.protocol, lambda: self.service)

    def answers_approvals(self) -> bool:
        return True  # every ACP client answers session/request_permission

    def error_code(self, exc: ParleyError) -> int:
        return acp_code(exc)

    def accept_early(self, negotiated: Any) -> None:
        assert isinstance(negotiated, ClientSide)
        self.client = negotiated
        log.info("initialized by %s", negotiated.name)

    def build_service_soon(self) -> None:
        super().build_service_soon()
        # The schema is read on the first check; read it while the client reads the answer.
        asyncio.get_running_loop().call_soon(spec.validator, "PromptRequest")

    # --- sessions the client follows -----------------------------------------------------------

    def view(self, info: wire.SessionInfo) -> SessionView:
        view = self.views.get(info.session_id)
        if view is None:
            window = self.service.context_window(info.provider, info.model)
            view = SessionView(info.cwd, window, info.usage.cost_usd or 0.0)
            self.views[info.session_id] = view
        return view

    def follow(self, info: wire.SessionInfo) -> None:
        """Send the client the session's events from now on, and ask it the open questions."""
        view = self.view(info)
        if self.pump.follows(info.session_id):
            return
        self.pump.follow(info.session_id)
        for question in self.service.pending_approvals(info.session_id):
            self.permissions.ask(question, view.cwd)

    def unfollow(self, session_id: str) -> None:
        if "pump" in self.__dict__:
            self.pump.unfollow(session_id)
        self.views.pop(session_id, None)
        self.permissions.cancelled(session_id)

    def files(self, session_id: str) -> EditorFiles | None:
        """The editor's files for a turn of the session, if the client offered any."""
        client = self.client
        if client is None or not (client.read_text_file or client.write_text_file):
            return None
        return EditorFiles(
            self.protocol,
            session_id,
            reads=client.read_text_file,
            writes=client.write_text_file,
            timeout_s=self.settings.tool_timeout,
        )

    def terminal(self, session_id: str) -> EditorTerminal | None:
        """The editor's terminal for a turn's commands, if the client offered it."""
        if self.client is None or not self.client.terminal:
            return None
        return EditorTerminal(self.protocol, session_id, functools.partial(self._shown, session_id))

    def _shown(self, session_id: str, call_id: str, terminal_id: str) -> None:
        view = self.views.get(session_id)
        if view is not None:
            self.update(session_id, view.terminal_shown(call_id, terminal_id))

    def update(self, session_id: str, update: dict[str, Any]) -> None:
        self.protocol.notify(SESSION_UPDATE, {"sessionId": session_id, "update": update})

    def _cancel_prompt_request(self, msg_id: MsgId) -> bool:
        session_id = self.prompt_requests.get(msg_id)
        if session_id is None:
            return False
        # Cancel the turn, not the request: its answer is stopReason cancelled.
        self.service.cancel_turn(session_id)
        return True

    async def wind_down(self) -> None:
        # A tool thread waiting for the editor's answer must not hold up the exit.
        self.protocol.withdraw_all()
        await super().wind_down()

    # --- events --------------------------------------------------------------------------------

    async def deliver(self, batch: Batch) -> None:
        assert self.outbox is not None
        async with self.writing:
            for session_id, event in batch:
                view = self.views.get(session_id)
                if view is None:
                    continue
                for update in view.updates(event.method, event.params):
                    self.update(session_id, update)
                self.permissions.see(event.method, event.params, view.cwd)
            # A client that stops reading holds the pump here; the hub drops it once its queue
            # is full, and it follows again from the store when the client reads.
            await self.outbox.writable()


def serve(
    settings: Settings, open_store: Callable[[], Store], fds: tuple[int, int], early: EarlyInput
) -> int:
    return run(AcpServer(settings, open_store), fds, early)
