"""The ACP Python SDK (`agent-client-protocol`) driving `parley acp` as a subprocess, as an
editor would: a Client that records what it is shown and answers permission requests, file
reads and writes the way the test says."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from acp import RequestPermissionResponse, spawn_agent_process
from acp.client.connection import ClientSideConnection
from acp.connection import StreamDirection, StreamEvent
from acp.exceptions import RequestError
from acp.interfaces import Client
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    CreateTerminalResponse,
    DeniedOutcome,
    EnvVariable,
    FileSystemCapabilities,
    Implementation,
    InitializeResponse,
    PermissionOption,
    ReadTextFileResponse,
    TerminalExitStatus,
    TerminalOutputResponse,
    ToolCallUpdate,
    WaitForTerminalExitResponse,
    WriteTextFileResponse,
)

from tests.acp_door.conformance import Conformance

PermissionPolicy = Callable[[str, ToolCallUpdate, list[PermissionOption]], Awaitable[str | None]]


async def allow_once(session_id: str, call: ToolCallUpdate, options: list[PermissionOption]) -> str:
    return "allow_once"


class Editor(Client):
    """Records every update; answers permission requests with `policy` (an option id, or None
    for the `cancelled` outcome); serves fs/* from `buffers` (unsaved editor content) first."""

    def __init__(self, policy: PermissionPolicy = allow_once) -> None:
        self.policy = policy
        self.updates: list[tuple[str, dict[str, Any]]] = []
        self.permissions: list[tuple[str, dict[str, Any], list[str]]] = []
        self.buffers: dict[str, str] = {}
        self.reads: list[str] = []
        self.writes: list[tuple[str, str]] = []
        self.init: InitializeResponse | None = None
        self.terminals: dict[str, asyncio.subprocess.Process] = {}
        self.released: list[str] = []

    async def request_permission(
        self, options: list[PermissionOption], session_id: str, tool_call: ToolCallUpdate, **_: Any
    ) -> RequestPermissionResponse:
        call = tool_call.model_dump(by_alias=True, exclude_none=True)
        self.permissions.append((session_id, call, [o.option_id for o in options]))
        choice = await self.policy(session_id, tool_call, options)
        if choice is None:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=choice)
        )

    async def session_update(self, session_id: str, update: Any, **_: Any) -> None:
        self.updates.append((session_id, update.model_dump(by_alias=True, exclude_none=True)))

    async def read_text_file(self, path: str, session_id: str, **_: Any) -> ReadTextFileResponse:
        self.reads.append(path)
        if path in self.buffers:
            return ReadTextFileResponse(content=self.buffers[path])
        try:
            return ReadTextFileResponse(content=Path(path).read_text())
        except FileNotFoundError:
            raise RequestError(-32002, "Resource not found", {"path": path}) from None

    async def write_text_file(
        self, content: str, path: str, session_id: str, **_: Any
    ) -> WriteTextFileResponse:
        self.writes.append((path, content))
        self.buffers[path] = content
        return WriteTextFileResponse()

    # A terminal: the command runs as a process of the editor's (here: the test's).

    async def create_terminal(
        self,
        command: str,
        session_id: str,
        args: list[str] | None = None,
        cwd: str | None = None,
        env: list[EnvVariable] | None = None,
        **_: Any,
    ) -> CreateTerminalResponse:
        process = await asyncio.create_subprocess_exec(
            command,
            *(args or []),
            cwd=cwd,
            env={**os.environ, **{v.name: v.value for v in env or []}},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        terminal_id = f"term-{len(self.terminals) + 1}"
        self.terminals[terminal_id] = process
        return CreateTerminalResponse(terminal_id=terminal_id)

    async def wait_for_terminal_exit(
        self, session_id: str, terminal_id: str, **_: Any
    ) -> WaitForTerminalExitResponse:
        code = await self.terminals[terminal_id].wait()
        return WaitForTerminalExitResponse(exit_code=code)

    async def terminal_output(
        self, session_id: str, terminal_id: str, **_: Any
    ) -> TerminalOutputResponse:
        process = self.terminals[terminal_id]
        assert process.stdout is not None
        output = (await process.stdout.read()).decode()
        status = TerminalExitStatus(exit_code=process.returncode)
        return TerminalOutputResponse(output=output, truncated=False, exit_status=status)

    async def kill_terminal(self, session_id: str, terminal_id: str, **_: Any) -> None:
        self.terminals[terminal_id].kill()

    async def release_terminal(self, session_id: str, terminal_id: str, **_: Any) -> None:
        self.released.append(terminal_id)

    def kinds(self, session_id: str | None = None) -> list[str]:
        return [u["sessionUpdate"] for s, u in self.updates if session_id in (None, s)]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [u for _, u in self.updates if u["sessionUpdate"] == kind]

    def text(self, kind: str = "agent_message_chunk") -> str:
        return "".join(u["content"]["text"] for u in self.of_kind(kind))


@asynccontextmanager
async def acp_agent(
    env: dict[str, str],
    editor: Editor,
    conformance: Conformance,
    *args: str,
    files: bool = False,
    terminal: bool = False,
    protocol_version: int = 1,
) -> AsyncIterator[tuple[ClientSideConnection, asyncio.subprocess.Process]]:
    """`parley acp` spawned and initialized; every message it sends goes to `conformance`."""

    def observe(event: StreamEvent) -> None:
        if event.direction is StreamDirection.INCOMING:
            conformance.sent_by_agent(event.message)
        else:
            conformance.sent_by_client(event.message)

    async with spawn_agent_process(
        editor,
        sys.executable,
        "-m",
        "parley",
        "acp",
        *args,
        env=env,
        transport_kwargs={"stderr": None},  # the agent's log goes to the test's stderr
        observers=[observe],
    ) as (conn, process):
        fs = FileSystemCapabilities(read_text_file=files, write_text_file=files)
        init = await conn.initialize(
            protocol_version=protocol_version,
            client_capabilities=ClientCapabilities(fs=fs, terminal=terminal),
            client_info=Implementation(name="parley-tests", version="1"),
        )
        editor.init = init
        yield conn, process
