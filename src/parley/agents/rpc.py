"""A JSON-RPC client over an agent process's NDJSON pipes (Codex app-server, ACP agents).

A reader task owns stdout: answers settle our requests' futures; the agent's notifications
and requests go, in order, onto `incoming` for the turn in progress to handle. When the
process ends, every waiting request fails with AgentExited and `incoming` gets None.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Coroutine
from typing import Any

from parley.agents.process import AgentExited, AgentProcess
from parley.core.errors import ParleyError
from parley.tools.base import ToolError

log = logging.getLogger(__name__)

INCOMING_LIMIT = 1024


class RemoteError(Exception):
    """The agent answered one of our requests with an error."""

    def __init__(self, method: str, error: Any) -> None:
        error = error if isinstance(error, dict) else {}
        self.code = error.get("code")
        self.message = str(error.get("message") or "no message")
        super().__init__(f"{method} failed: {self.message}")


class Refusal(Exception):
    """Answer the agent's request with this JSON-RPC error (code, message, data)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        self.code = code
        self.data = data
        super().__init__(message)


class RpcClient:
    def __init__(self, process: AgentProcess, *, jsonrpc_field: bool = True) -> None:
        self.process = process
        # Codex's app-server leaves "jsonrpc": "2.0" out of its messages; ACP has it.
        self._envelope: dict[str, Any] = {"jsonrpc": "2.0"} if jsonrpc_field else {}
        self._ids = itertools.count(1)
        self._waiting: dict[int, tuple[str, asyncio.Future[Any]]] = {}
        self.incoming: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._taken = asyncio.Event()  # a message was taken from `incoming`
        self.exited: AgentExited | None = None
        self._answering: set[asyncio.Task[None]] = set()
        self._reader = asyncio.create_task(self._read())

    async def request(self, method: str, params: Any, timeout_s: float | None = None) -> Any:
        if self.exited is not None:
            raise self.exited
        msg_id = next(self._ids)
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = (method, answer)
        try:
            self.process.send({**self._envelope, "id": msg_id, "method": method, "params": params})
            async with asyncio.timeout(timeout_s):
                return await answer
        finally:
            self._waiting.pop(msg_id, None)

    def notify(self, method: str, params: Any = None) -> None:
        message = {**self._envelope, "method": method}
        if params is not None:
            message["params"] = params
        self.process.send(message)

    def answer(self, msg_id: Any, result: Any) -> None:
        with contextlib.suppress(AgentExited):  # it is gone: nobody to answer
            self.process.send({**self._envelope, "id": msg_id, "result": result})

    def refuse(self, msg_id: Any, message: str, code: int = -32601, data: Any = None) -> None:
        with contextlib.suppress(AgentExited):
            error: dict[str, Any] = {"code": code, "message": message}
            if data is not None:
                error["data"] = data
            self.process.send({**self._envelope, "id": msg_id, "error": error})

    def answer_later(self, msg_id: Any, work: Coroutine[Any, Any, Any]) -> asyncio.Task[None]:
        """Answer with what `work` returns, or with its error's message (never a traceback);
        cancelled, with JSON-RPC's "request cancelled"."""

        async def run() -> None:
            try:
                result = await work
            except asyncio.CancelledError:
                self.refuse(msg_id, "cancelled", -32800)
                raise
            except Refusal as exc:
                self.refuse(msg_id, str(exc), exc.code, exc.data)
            except (ToolError, ParleyError) as exc:
                self.refuse(msg_id, str(exc), -32602)
            except Exception:
                log.exception("answering %s's request failed", self.process.name)
                self.refuse(msg_id, "internal error", -32603)
            else:
                self.answer(msg_id, result)

        task = asyncio.create_task(run())
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)
        return task

    async def _read(self) -> None:
        try:
            while True:
                message = await self.process.receive()
                if "method" in message:
                    # A turn that waits for the store (AgentTurn.room) stops taking messages:
                    # the agent is then held on its pipe instead of filling this memory. Only
                    # the reader waits: markers and the end still go in at once.
                    while self.incoming.qsize() >= INCOMING_LIMIT:
                        self._taken.clear()
                        await self._taken.wait()
                    self.incoming.put_nowait(message)
                    continue
                waiting = self._waiting.get(message.get("id"))  # type: ignore[arg-type]
                if waiting is None or waiting[1].done():
                    continue
                method, answer = waiting
                if "error" in message:
                    answer.set_exception(RemoteError(method, message["error"]))
                else:
                    answer.set_result(message.get("result"))
        except AgentExited as exc:
            self.exited = exc
        except Exception as exc:  # the reader must always end the waits below
            log.exception("reading from %s failed", self.process.name)
            self.exited = AgentExited(f"reading from {self.process.name} failed: {exc}")
        for _, answer in self._waiting.values():
            if not answer.done():
                answer.set_exception(self.exited)
        self.incoming.put_nowait(None)

    async def next(self) -> dict[str, Any]:
        """The agent's next notification or request; AgentExited once it is gone."""
        message = await self.incoming.get()
        self._taken.set()
        if message is None:
            self.incoming.put_nowait(None)  # every later call sees the end too
            assert self.exited is not None
            raise self.exited
        return message

    async def close(self) -> None:
        for task in self._answering:
            task.cancel()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
