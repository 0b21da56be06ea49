"""`parley serve`: the stdio JSON-RPC front door. Owns what is Parley's on the connection
(framing detection, the handshake, routing, delivery of the sessions' events as Parley
notifications); the connection itself is doors/jsonrpc/connection.py, everything else is the
engine service's."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parley.config import Settings
from parley.doors.jsonrpc.connection import JsonRpcConnection, run
from parley.doors.jsonrpc.dispatch import route
from parley.doors.jsonrpc.handshake import EarlyInput
from parley.doors.jsonrpc.peer import MsgId
from parley.doors.stdio.approvals import HostApprovals
from parley.doors.stdio.handlers import handlers
from parley.doors.stdio.lifecycle import Negotiated, negotiate
from parley.protocol import types as wire
from parley.store.base import Store

if TYPE_CHECKING:
    from parley.engine.pump import Batch

log = logging.getLogger(__name__)


class ParleyServer(JsonRpcConnection):
    def __init__(
        self, settings: Settings, open_store: Callable[[], Store], persistent: bool
    ) -> None:
        super().__init__(settings, open_store)
        self.persistent = persistent
        self.negotiated: Negotiated | None = None
        # In-flight turn/submit requests, so $/cancelRequest on one cancels its turn.
        self.turn_requests: dict[MsgId, tuple[str, str]] = {}
        self.protocol.on_cancel = self._cancel_turn_request
        for method, handler in handlers(self).items():
            self.feature(method)(route(method, handler, lambda: self.negotiated is not None))

    @functools.cached_property
    def approvals(self) -> HostApprovals | None:
        assert self.negotiated is not None
        options = self.negotiated.approval_options
        return HostApprovals(self.protocol, lambda: self.service, options) if options else None

    def answers_approvals(self) -> bool:
        return self.approvals is not None

    # --- called by handlers --------------------------------------------------------------------

    def initialize(self, params: wire.InitializeParams) -> wire.InitializeResult:
        negotiated, result = negotiate(params, self.persistent)
        self.accept_early(negotiated)
        assert self.outbox is not None
        self.outbox.after_next_flush(lambda: self.service)
        return result

    def accept_early(self, negotiated: Any) -> None:
        assert isinstance(negotiated, Negotiated)
        self.negotiated = negotiated
        client = negotiated.client
        log.info("initialized by %s %s", client.name, client.version or "")

    def follow(self, session_id: str, after_seq: int | None = None) -> int:
        """Send this host the session's events from now on (after `after_seq` first), and ask
        it about the session's open approvals. Returns the seq that is out once replayed."""
        if after_seq is None and self.pump.follows(session_id):
            return 0
        until = self.pump.follow(session_id, after_seq)
        if self.approvals is not None:
            for question in self.service.pending_approvals(session_id):
                self.approvals.ask(question)
        return until

    def _cancel_turn_request(self, msg_id: MsgId) -> bool:
        turn = self.turn_requests.get(msg_id)
        if turn is None:
            return False
        # Cancel the turn, not the request: its answer is a result with stopReason cancelled.
        self.service.cancel_turn(*turn)
        return True

    # --- events --------------------------------------------------------------------------------

    def direct(self) -> ParleyServer:
        return self

    async def deliver(self, batch: Batch) -> None:
        assert self.outbox is not None
        self._write(batch)
        # A host that stops reading holds the pump here; the hub drops it once its queue is
        # full, and it follows again from the store when the host reads: nothing is lost.
        await self.outbox.writable()

    def write_now(self, batch: Batch) -> bool:
        assert self.outbox is not None
        if not self.outbox.takes_more():
            return False
        self._write(batch)
        return True

    def flush(self) -> None:
        assert self.outbox is not None
        self.outbox.flush()

    def _write(self, batch: Batch) -> None:
        assert self.negotiated is not None
        events = self.negotiated.events
        notify = self.protocol.notify_json
        params = wire.notification_params_json
        approvals = self.approvals
        for session_id, event in batch:
            if event.method in events:
                notify(event.method, params(session_id, event.turn_id, event.seq, event.json))
            if approvals is not None:
                approvals.see(event)


def serve(
    settings: Settings,
    open_store: Callable[[], Store],
    fds: tuple[int, int],
    early: EarlyInput,
    *,
    persistent: bool,
) -> int:
    """Serve on the protocol fds (stdio.claim_stdio), carrying on from the handshake."""
    return run(ParleyServer(settings, open_store, persistent), fds, early)
