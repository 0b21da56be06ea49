"""JSON-RPC over a byte stream: requests with futures, notifications, and server requests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from parley.client.errors import ParleyClientError, ParleyRpcError
from parley.doors.jsonrpc.framing import FrameError, FrameReader, Framing, encode

log = logging.getLogger(__name__)

NotificationCallback = Callable[[str, dict[str, Any]], None]
RequestHandler = Callable[[str, Any], Awaitable[Any]]


class Connection:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        framing: Framing,
        on_notification: NotificationCallback,
        on_request: RequestHandler,
    ) -> None:
        self._frames = FrameReader(reader, framing)
        self._writer = writer
        self.framing = framing
        self._on_notification = on_notification
        self._on_request = on_request
        self._ids = itertools.count(1)
        self._pending: dict[int | str, asyncio.Future[Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Server -> host requests being answered, so the server can withdraw one.
        self._answering: dict[Any, asyncio.Task[None]] = {}
        self._reading = asyncio.create_task(self._read_loop())
        self.closed = asyncio.Event()

    async def request(
        self, method: str, params: Any = None, msg_id: int | str | None = None
    ) -> Any:
        """Send a request and wait for its answer; `msg_id` is chosen here unless given."""
        msg_id = next(self._ids) if msg_id is None else msg_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            await self.send(message)
            return await future
        except asyncio.CancelledError:
            # Tell the server, so a turn/submit we stop waiting for is cancelled too.
            if not self.closed.is_set():
                with contextlib.suppress(Exception):
                    await self.notify("$/cancelRequest", {"id": msg_id})
            raise
        finally:
            self._pending.pop(msg_id, None)

    async def notify(self, method: str, params: Any = None) -> None:
        await self.send({"jsonrpc": "2.0", "method": method, "params": params})

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_raw(encode(json.dumps(message).encode(), self.framing))

    async def send_raw(self, data: bytes) -> None:
        """Write bytes as they are; tests use it to send broken frames."""
        if self.closed.is_set():
            raise ParleyClientError("the connection to the server is closed")
        self._writer.write(data)
        await self._writer.drain()

    async def _read_loop(self) -> None:
        try:
            while (frame := await self._frames.read()) is not None:
                if isinstance(frame, FrameError):
                    log.warning("unreadable frame from server: %s", frame.message)
                    continue
                self._dispatch(json.loads(frame))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.closed.set()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ParleyClientError("the server closed the connection"))

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" in message:
            if "id" in message:
                task = asyncio.create_task(self._answer(message))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                self._answering[message["id"]] = task
            elif message["method"] == "$/cancelRequest":
                # The server stopped waiting (answered elsewhere, timed out): stop asking.
                withdrawn = self._answering.pop((message.get("params") or {}).get("id"), None)
                if withdrawn is not None:
                    withdrawn.cancel()
            else:
                self._on_notification(message["method"], message.get("params") or {})
            return
        future = self._pending.get(message.get("id"))  # type: ignore[arg-type]
        if future is None or future.done():
            return
        if "error" in message:
            err = message["error"]
            future.set_exception(
                ParleyRpcError(err.get("code", 0), err.get("message", ""), err.get("data"))
            )
        else:
            future.set_result(message.get("result"))

    async def _answer(self, message: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
        try:
            reply["result"] = await self._on_request(message["method"], message.get("params"))
        except Exception as exc:  # the handler's failure is the server's answer, not ours
            reply["error"] = {"code": -32603, "message": f"host handler failed: {exc}"}
        finally:
            self._answering.pop(message["id"], None)
        with contextlib.suppress(ParleyClientError, ConnectionError):
            await self.send(reply)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()
        self._reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reading
