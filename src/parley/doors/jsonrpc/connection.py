"""One JSON-RPC connection on the process's stdio, as the stdio and ACP doors share it: the
read loop, the outbox, the engine service built after the handshake, delivery of the sessions'
events through a pump, an idle timeout and a clean shutdown. A door subclasses it, registers
its methods and writes its events in `deliver`."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import cattrs
from pygls.server import JsonRPCServer

from parley.config import Settings
from parley.core import loop
from parley.core.errors import ParleyError
from parley.doors.jsonrpc.dispatch import wire_error
from parley.doors.jsonrpc.framing import FrameError, FrameReader
from parley.doors.jsonrpc.handshake import EarlyInput
from parley.doors.jsonrpc.peer import JsonRpcPeer
from parley.doors.jsonrpc.transport import Outbox, open_reader
from parley.protocol.codec import unstructure
from parley.protocol.errors import RpcCode, rpc_code
from parley.store.base import Store

if TYPE_CHECKING:
    from parley.engine.pump import Batch, Direct, Pump
    from parley.engine.service import Service
    from parley.engine.turn_handle import TurnHandle
    from parley.protocol import types as wire

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_S = 1.5
T = TypeVar("T")


# Frames handled before the loop runs anything else: a burst of requests read at once (a
# thousand turn/submits) otherwise starts every turn in one turn of the loop, holding back the
# deltas and results of the turns already running for as long (~150 ms). The turns a slice
# starts take their first steps together in the next turn of the loop (32: ~10 ms), and
# running turns' events wait about two of those.
FRAMES_PER_TURN_OF_THE_LOOP = 32


class JsonRpcConnection(JsonRPCServer, abc.ABC):
    protocol: JsonRpcPeer
    peer_class: type[JsonRpcPeer] = JsonRpcPeer

    def __init__(self, settings: Settings, open_store: Callable[[], Store]) -> None:
        # A bare converter: pygls only unstructures its own envelopes with it (params and
        # results are converted by dispatch.route), and its default one loads the LSP types.
        super().__init__(protocol_cls=self.peer_class, converter_factory=cattrs.Converter)
        self.settings = settings
        self._open_store = open_store
        self._store: Store | None = None
        self.outbox: Outbox | None = None
        self._stop = asyncio.Event()
        self._last_input = 0.0

    # The service and the store are built on first use, which normally is right after the
    # handshake answer has been written: the handshake does not wait for them.

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = self._open_store()
        return self._store

    @functools.cached_property
    def service(self) -> Service:
        from parley.engine.service import Service

        service = Service(self.settings, self.store)
        loop.engine_built()
        return service

    @functools.cached_property
    def pump(self) -> Pump:
        """This connection's delivery of the sessions it follows."""
        from parley.engine.pump import Pump

        pump = Pump(
            self.service.hub,
            self.deliver,
            answers_approvals=self.answers_approvals(),
            direct=self.direct(),
        )
        self._delivering = asyncio.get_running_loop().create_task(pump.run())
        return pump

    def answers_approvals(self) -> bool:
        return False

    def direct(self) -> Direct | None:
        """The door, if it can also write events without waiting (see engine/pump.py)."""
        return None

    def error_code(self, exc: ParleyError) -> int:
        """The JSON-RPC error code `exc` travels with on this door's wire."""
        return rpc_code(exc)

    async def answer_turn(
        self, session_id: str, handle: TurnHandle, answer: Callable[[wire.TurnResult], T]
    ) -> T:
        """The answer of the request being handled, which started the turn: `answer` makes it
        from the turn's result, or raises ParleyError for an error answer. It is written right
        after the turn's last event, and so before any later event of the session (a client
        may start its next turn the moment this one ends, and the request's task would answer
        a few turns of the loop later); what this returns or raises is then not sent again,
        unless writing it failed."""
        request_id = self.protocol.msg_id
        assert request_id is not None  # pygls sets it for every request handler

        def send() -> None:
            assert handle.result is not None
            try:
                value = answer(handle.result)
            except ParleyError as exc:
                self.protocol.answer_error(request_id, wire_error(exc, self.error_code))
            else:
                self.protocol.answer(request_id, unstructure(value))

        handle.when_ended(lambda: self.pump.when_delivered(session_id, handle.final_seq, send))
        result = await handle
        await self.pump.reached(session_id, handle.final_seq)
        return answer(result)

    @abc.abstractmethod
    async def deliver(self, batch: Batch) -> None:
        """Write a batch of the followed sessions' events to the wire."""

    def accept_early(self, negotiated: Any) -> None:
        """The handshake was answered before the server started (doors/jsonrpc/handshake)."""

    def build_service_soon(self) -> None:
        """Build the engine while the client reads the handshake answer."""
        asyncio.get_running_loop().call_soon(lambda: self.service)

    def request_stop(self) -> None:
        asyncio.get_running_loop().call_soon(self._stop.set)

    # --- the connection ------------------------------------------------------------------------

    async def serve(self, fd_in: int, fd_out: int, early: EarlyInput) -> None:
        reader = FrameReader(await open_reader(fd_in), parser=early.parser, ready=early.unhandled)
        self.outbox = Outbox(fd_out)
        await self.outbox.open()
        self.protocol.set_writer(self.outbox, include_headers=False)
        if early.negotiated is not None:
            self.accept_early(early.negotiated)
            self.build_service_soon()
        waiters = {
            asyncio.create_task(self._read_loop(reader)),
            asyncio.create_task(self._stop.wait()),
        }
        if self.settings.idle_timeout:
            waiters.add(asyncio.create_task(self._idle_watch(self.settings.idle_timeout)))
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for task in waiters:
            task.cancel()
        await self.wind_down()

    async def _read_loop(self, reader: FrameReader) -> None:
        assert self.outbox is not None
        framing = await reader.detect()
        if framing is None:
            return
        self.outbox.framing = framing
        loop = asyncio.get_running_loop()
        handled = 0
        while (frame := await reader.read()) is not None:
            self._last_input = loop.time()
            handled += 1
            if handled % FRAMES_PER_TURN_OF_THE_LOOP == 0:
                await asyncio.sleep(0)
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

    async def wind_down(self) -> None:
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


def run(connection: JsonRpcConnection, fds: tuple[int, int], early: EarlyInput) -> int:
    """Serve on the protocol fds (stdio.claim_stdio), carrying on from the handshake."""

    async def main() -> None:
        await connection.serve(*fds, early)

    with contextlib.suppress(KeyboardInterrupt), loop.runner() as runner:
        runner.run(main())
    return 0
