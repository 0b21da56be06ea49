"""`ParleyClient`: spawn `parley serve`, initialize, and drive sessions and turns."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import attrs

from parley import __version__
from parley.client.connection import Connection
from parley.client.errors import ParleyClientError, ParleyRpcError
from parley.doors.jsonrpc.framing import Framing
from parley.protocol import methods as m
from parley.protocol import types as wire
from parley.protocol.codec import structure, unstructure
from parley.protocol.version import PROTOCOL_VERSION

# Decides an approval request: gets its params, returns one of its `options`.
ApprovalHandler = Callable[[wire.ApprovalRequestParams], Awaitable[str]]
EVENT_TYPES: dict[str, type] = {e.name: e.params for e in m.NOTIFICATIONS}
_HEADER = ("sessionId", "turnId", "seq")


@attrs.frozen
class Notification:
    method: str
    params: dict[str, Any]

    @property
    def session_id(self) -> str:
        return str(self.params.get("sessionId", ""))

    @property
    def turn_id(self) -> str:
        return str(self.params.get("turnId", ""))

    @property
    def seq(self) -> int:
        return int(self.params.get("seq", 0))

    def event(self) -> Any:
        """The typed event (e.g. wire.ResultDelta); None for a method this client does not know."""
        cls = EVENT_TYPES.get(self.method)
        if cls is None:
            return None
        return structure({k: v for k, v in self.params.items() if k not in _HEADER}, cls)


class ParleyClient:
    def __init__(self, process: asyncio.subprocess.Process, connection: Connection) -> None:
        self.process = process
        self.connection = connection
        self.server: wire.InitializeResult | None = None
        self.approval_handler: ApprovalHandler | None = None
        self.approval_timeout_s: float | None = None
        self.stderr: collections.deque[str] = collections.deque(maxlen=500)
        self._listeners: list[Callable[[Notification], None]] = []
        self._queues: list[tuple[str | None, asyncio.Queue[Notification]]] = []
        self._stderr_task: asyncio.Task[None] | None = None

    # --- start and stop ----------------------------------------------------------------------

    @classmethod
    async def spawn(
        cls,
        *,
        command: Sequence[str] | None = None,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        framing: Framing = Framing.HEADERS,
        approval_handler: ApprovalHandler | None = None,
        approval_timeout_s: float | None = None,
        events: Sequence[str] | None = None,
        client_name: str = "parley-python-client",
        protocol_version: int = PROTOCOL_VERSION,
    ) -> ParleyClient:
        """Start `parley serve` and initialize. `env` is added to this process's environment."""
        argv = [*(command or (sys.executable, "-m", "parley")), "serve", *args]
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            limit=256 * 1024 * 1024,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        client: ParleyClient
        connection = Connection(
            process.stdout,
            process.stdin,
            framing,
            lambda method, params: client._notified(method, params),
            lambda method, params: client._server_request(method, params),
        )
        client = cls(process, connection)
        client.approval_handler = approval_handler
        client.approval_timeout_s = approval_timeout_s
        client._stderr_task = asyncio.create_task(client._drain_stderr(process.stderr))
        try:
            await client.initialize(client_name, events, protocol_version)
        except BaseException:
            await client.close()
            raise
        return client

    async def initialize(
        self, client_name: str, events: Sequence[str] | None, protocol_version: int
    ) -> wire.InitializeResult:
        capabilities: dict[str, Any] = {}
        if self.approval_handler is not None:
            capabilities["approvals"] = {}
        if events is not None:
            capabilities["events"] = list(events)
        raw = await self.connection.request(
            m.INITIALIZE,
            {
                "protocolVersion": protocol_version,
                "clientInfo": {"name": client_name, "version": __version__},
                "capabilities": capabilities,
            },
        )
        self.server = structure(raw, wire.InitializeResult)
        if self.server.protocol_version != protocol_version:
            raise ParleyClientError(
                f"server speaks protocol {self.server.protocol_version}, "
                f"this client {protocol_version}"
            )
        return self.server

    async def shutdown(self, timeout_s: float = 5.0) -> int:
        """Ask the server to stop; make sure the process ends either way. Returns its exit code."""
        if self.process.returncode is None and not self.connection.closed.is_set():
            with contextlib.suppress(ParleyRpcError, ParleyClientError, TimeoutError):
                await asyncio.wait_for(self.connection.request(m.SHUTDOWN, {}), timeout_s)
        return await self.close(grace_s=timeout_s)

    async def close(self, grace_s: float = 3.0) -> int:
        """Stop the process without asking: EOF, then SIGTERM, then SIGKILL, `grace_s` apart."""
        proc = self.process
        if proc.returncode is None and proc.stdin is not None:
            with contextlib.suppress(Exception):
                proc.stdin.close()
        for step in (proc.terminate, proc.kill):
            try:
                await asyncio.wait_for(proc.wait(), grace_s)
                break
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    step()
        await proc.wait()
        await self.connection.close()
        if self._stderr_task is not None:
            self._stderr_task.cancel()
        return proc.returncode if proc.returncode is not None else -1

    async def __aenter__(self) -> ParleyClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    # --- sessions ------------------------------------------------------------------------------

    async def call(self, method: str, params: Any, result_type: type[Any]) -> Any:
        return structure(await self.connection.request(method, params), result_type)

    async def create_session(self, **fields: Any) -> wire.SessionInfo:
        """Fields of session/create in snake_case: cwd, session_id, profile, provider, model, ..."""
        params = unstructure(wire.SessionCreateParams(**fields))
        result: wire.SessionInfo = await self.call(m.SESSION_CREATE, params, wire.SessionInfo)
        return result

    async def resume_session(
        self, session_id: str, after_seq: int | None = None
    ) -> wire.SessionInfo:
        """With `after_seq`, every stored notification after it arrives (to listeners) first."""
        params = unstructure(wire.SessionResumeParams(session_id, after_seq))
        result: wire.SessionInfo = await self.call(m.SESSION_RESUME, params, wire.SessionInfo)
        return result

    async def list_sessions(self, **fields: Any) -> wire.SessionListResult:
        params = unstructure(wire.SessionListParams(**fields))
        result: wire.SessionListResult = await self.call(
            m.SESSION_LIST, params, wire.SessionListResult
        )
        return result

    async def get_session(self, session_id: str) -> wire.SessionDetail:
        result: wire.SessionDetail = await self.call(
            m.SESSION_GET, {"sessionId": session_id}, wire.SessionDetail
        )
        return result

    async def fork_session(
        self, session_id: str, at_turn: int | None = None, new_session_id: str | None = None
    ) -> wire.SessionInfo:
        params = unstructure(wire.SessionForkParams(session_id, at_turn, new_session_id))
        result: wire.SessionInfo = await self.call(m.SESSION_FORK, params, wire.SessionInfo)
        return result

    async def delete_session(self, session_id: str) -> None:
        await self.connection.request(m.SESSION_DELETE, {"sessionId": session_id})

    async def list_profiles(self, cwd: str | None = None) -> list[wire.ProfileInfo]:
        """Built-in, the user's, then the project's in `cwd` (default: the server's directory)."""
        params = unstructure(wire.ProfileListParams(cwd))
        result: wire.ProfileListResult = await self.call(
            m.PROFILE_LIST, params, wire.ProfileListResult
        )
        return result.profiles

    async def get_profile(self, name: str, cwd: str | None = None) -> wire.ProfileInfo:
        params = unstructure(wire.ProfileGetParams(name, cwd))
        result: wire.ProfileInfo = await self.call(m.PROFILE_GET, params, wire.ProfileInfo)
        return result

    async def list_providers(self) -> wire.ProviderListResult:
        result: wire.ProviderListResult = await self.call(
            m.PROVIDER_LIST, {}, wire.ProviderListResult
        )
        return result

    async def list_tools(self, session_id: str) -> wire.ToolListResult:
        """The session's tools (built-in and MCP) and its MCP servers; starts those not started."""
        result: wire.ToolListResult = await self.call(
            m.TOOL_LIST, {"sessionId": session_id}, wire.ToolListResult
        )
        return result

    # --- turns ---------------------------------------------------------------------------------

    async def submit_turn(
        self,
        session_id: str,
        prompt: str | Sequence[Mapping[str, Any]],
        *,
        turn_id: str | None = None,
        on_event: Callable[[Notification], None] | None = None,
    ) -> wire.TurnResult:
        """Run a turn; `on_event` gets each of its notifications, in order, before this returns."""
        params: dict[str, Any] = {"sessionId": session_id, "prompt": prompt}
        if turn_id is not None:
            params["turnId"] = turn_id

        def forward(n: Notification) -> None:
            if on_event is not None and n.session_id == session_id:
                on_event(n)

        self._listeners.append(forward)
        try:
            result: wire.TurnResult = await self.call(m.TURN_SUBMIT, params, wire.TurnResult)
            return result
        finally:
            self._listeners.remove(forward)

    async def cancel(self, session_id: str, turn_id: str | None = None) -> None:
        params: dict[str, Any] = {"sessionId": session_id}
        if turn_id is not None:
            params["turnId"] = turn_id
        await self.connection.request(m.TURN_CANCEL, params)

    def on_notification(self, callback: Callable[[Notification], None]) -> Callable[[], None]:
        """Call `callback` for every notification; returns a function that stops it."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    async def events(self, session_id: str | None = None) -> AsyncIterator[Notification]:
        """Notifications as an async iterator (optionally one session's), from now on."""
        queue: asyncio.Queue[Notification] = asyncio.Queue()
        entry = (session_id, queue)
        self._queues.append(entry)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.remove(entry)

    # --- internals -----------------------------------------------------------------------------

    def _notified(self, method: str, params: dict[str, Any]) -> None:
        note = Notification(method, params)
        for listener in list(self._listeners):
            listener(note)
        for session_id, queue in self._queues:
            if session_id is None or note.session_id == session_id:
                queue.put_nowait(note)

    async def _server_request(self, method: str, params: Any) -> Any:
        if method != m.APPROVAL_REQUEST or self.approval_handler is None:
            raise ParleyClientError(f"this host does not handle {method}")
        request = structure(params, wire.ApprovalRequestParams)
        try:
            decision = await asyncio.wait_for(
                self.approval_handler(request), self.approval_timeout_s or request.timeout_ms / 1000
            )
        except TimeoutError:
            decision = "reject_once"
        return {"decision": decision}

    async def _drain_stderr(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.stderr.append(line.decode(errors="replace").rstrip())
