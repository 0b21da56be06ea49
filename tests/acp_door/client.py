"""The ACP Python SDK (`agent-client-protocol`) driving `parley acp` as a subprocess, as an
editor would: a Client that records what it is shown and answers permission requests, file
reads and writes the way the test says."""

from __future__ import annotations

import asyncio
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
    DeniedOutcome,
    FileSystemCapabilities,
    Implementation,
    InitializeResponse,
    PermissionOption,
    ReadTextFileResponse,
    ToolCallUpdate,
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
            client_capabilities=ClientCapabilities(fs=fs, terminal=False),
            client_info=Implementation(name="parley-tests", version="1"),
        )
        editor.init = init
        yield conn, process
