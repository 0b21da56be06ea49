"""`parley serve`: the stdio JSON-RPC front door. Owns the connection's lifecycle (framing
detection, the handshake, routing, idle timeout, a clean shutdown) and its delivery of the
sessions' events; everything else is the engine service's."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import cattrs
from pygls.server import JsonRPCServer

from parley.config import Settings
from parley.doors.jsonrpc.dispatch import route
from parley.doors.jsonrpc.framing import FrameError, FrameReader
from parley.doors.jsonrpc.peer import JsonRpcPeer, MsgId
from parley.doors.jsonrpc.transport import Outbox, open_reader
from parley.doors.stdio.approvals import HostApprovals
from parley.doors.stdio.handlers import handlers
from parley.doors.stdio.handshake import EarlyInput
from parley.doors.stdio.lifecycle import Negotiated, negotiate
from parley.protocol import types as wire
from parley.protocol.errors import RpcCode
from parley.store.base import Store

if TYPE_CHECKING:
    from parley.engine.pump import Batch, Pump
    from parley.engine.service import Service

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_S = 1.5


class ParleyServer(JsonRPCServer):
    protocol: JsonRpcPeer

    def __init__(
        self, settings: Settings, open_store: Callable[[], Store], persistent: bool
    ) -> None:
        # A bare converter: pygls only unstructures its own envelopes with it (params and
        # results are converted by dispatch.route), and its default one loads the LSP types.
        super().__init__(protocol_cls=JsonRpcPeer, converter_factory=cattrs.Converter)
        self.settings = settings
        self._open_store = open_store
        self._store: Store | None = None
        self.persistent = persistent
        self.negotiated: Negotiated | None = None
        self.outbox: Outbox | None = None
        self._stop = asyncio.Event()
        self._last_input = 0.0
        # In-flight turn/submit requests, so $/cancelRequest on one cancels its turn.
        self.turn_requests: dict[MsgId, tuple[str, str]] = {}
        self.protocol.on_cancel = self._cancel_turn_request
        for method, handler in handlers(self).items():
            self.feature(method)(route(method, handler, lambda: self.negotiated is not None))

    # The service and the store are built on first use, which normally is right after the
    # initialize answer has been written: the handshake does not wait for them.

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = self._open_store()
        return self._store

    @functools.cached_property
    def service(self) -> Service:
        from parley.engine.service import Service

        return Service(self.settings, self.store)

    @functools.cached_property
    def pump(self) -> Pump:
        """This connection's delivery of the sessions it created, resumed or ran turns on."""
        from parley.engine.pump import Pump

        pump = Pump(self.service.hub, self._deliver, answers_approvals=self.approvals is not None)
        self._delivering = asyncio.get_running_loop().create_task(pump.run())
        return pump

    @functools.cached_property
    def approvals(self) -> HostApprovals | None:
        assert self.negotiated is not None
        options = self.negotiated.approval_options
        return HostApprovals(self.protocol, lambda: self.service, options) if options else None

    # --- called by handlers --------------------------------------------------------------------

    def initialize(self, params: wire.InitializeParams) -> wire.InitializeResult:
        negotiated, result = negotiate(params, self.persistent)
        self._accept(negotiated)
        assert self.outbox is not None
        self.outbox.after_next_flush(lambda: self.service)
        return result

    def _accept(self, negotiated: Negotiated) -> None:
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

    def request_stop(self) -> None:
        asyncio.get_running_loop().call_soon(self._stop.set)

    def _cancel_turn_request(self, msg_id: MsgId) -> bool:
        turn = self.turn_requests.get(msg_id)
        if turn is None:
            return False
        # Cancel the turn, not the request: its answer is a result with stopReason cancelled.
        self.service.cancel_turn(*turn)
        return True

    # --- events --------------------------------------------------------------------------------

    async def _deliver(self, batch: Batch) -> None:
        assert self.negotiated is not None
        assert self.outbox is not None
        events = self.negotiated.events
        notify = self.protocol.notify
        approvals = self.approvals
        for session_id, event in batch:
            if event.method in events:
                notify(
                    event.method,
                    wire.notification_params(session_id, event.turn_id, event.seq, event.params),
                )
            if approvals is not None:
                approvals.see(event)
        # A host that stops reading holds the pump here; the hub drops it once its queue is
        # full, and it follows again from the store when the host reads: nothing is lost.
        await self.outbox.writable()

    # --- the connection ------------------------------------------------------------------------

    async def serve(self, fd_in: int, fd_out: int, early: EarlyInput) -> None:
        reader = FrameReader(await open_reader(fd_in), parser=early.parser, ready=early.unhandled)
        self.outbox = Outbox(fd_out)
        await self.outbox.open()
        self.protocol.set_writer(self.outbox, include_headers=False)
        if early.negotiated is not None:
            self._accept(early.negotiated)
            # As after the server's own initialize answer: build it while the host reads.
            asyncio.get_running_loop().call_soon(lambda: self.service)
        waiters = {
            asyncio.create_task(self._read_loop(reader)),
            asyncio.create_task(self._stop.wait()),
        }
        if self.settings.idle_timeout:
            waiters.add(asyncio.create_task(self._idle_watch(self.settings.idle_timeout)))
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for task in waiters:
            task.cancel()
        await self._wind_down()

    async def _read_loop(self, reader: FrameReader) -> None:
        assert self.outbox is not None
        framing = await reader.detect()
        if framing is None:
            return
        self.outbox.framing = framing
        loop = asyncio.get_running_loop()
        while (frame := await reader.read()) is not None:
            self._last_input = loop.time()
            if isinstance(frame, FrameError):
                self.protocol.send_error(None, RpcCode.PARSE_ERROR, f"parse error: {frame.message}")
                continue
            try:
                self.protocol.receive(frame)
            except Exception:  # a bug must cost one message, never the connection
                log.exception("failed to handle a message")
                self.protocol.send_error(None, RpcCode.INTERNAL_ERROR, "internal error")

    async def _idle_watch(self, idle_s: float) -> None:
        """End the process after `idle_s` with no traffic in either direction."""
        loop = asyncio.get_running_loop()
        self._last_input = loop.time()
        while True:
            assert self.outbox is not None
            quiet = loop.time() - max(self._last_input, self.outbox.last_write)
            if quiet >= idle_s:
                log.info("idle for %.0fs; shutting down", quiet)
                return
            await asyncio.sleep(min(idle_s - quiet + 0.01, 1.0))

    async def _wind_down(self) -> None:
        """Cancel in-flight turns, let every request be answered, flush, close the store."""
        if "service" in self.__dict__:
            await self.service.shutdown()
        # Handler tasks of requests still being answered.
        futures: list[Any] = list(self.protocol._request_futures.values())
        pending = [f for f in futures if isinstance(f, asyncio.Task)]
        if pending:
            _, late = await asyncio.wait(pending, timeout=SHUTDOWN_GRACE_S)
            for task in late:
                task.cancel()
            await asyncio.sleep(0)
        if "pump" in self.__dict__:
            self.pump.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._delivering, SHUTDOWN_GRACE_S)
        assert self.outbox is not None
        await self.outbox.drain()
        self.outbox.close()
        if self._store is not None:
            self._store.close()


def serve(
    settings: Settings,
    open_store: Callable[[], Store],
    fds: tuple[int, int],
    early: EarlyInput,
    *,
    persistent: bool,
) -> int:
    """Serve on the protocol fds (stdio.claim_stdio), carrying on from the handshake."""
    server = ParleyServer(settings, open_store, persistent)

    async def main() -> None:
        await server.serve(*fds, early)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0
