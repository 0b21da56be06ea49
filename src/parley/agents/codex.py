"""Codex (`codex app-server`) as a backend: JSON-RPC over NDJSON, one thread per session.

`initialize` / `initialized`, then `thread/start` (or `thread/resume`, `thread/fork` for a
stored or forked session), then `turn/start` per prompt, whose `item/*` notifications become
Parley events until `turn/completed`. Its approval requests go to Parley's Authorizer. Codex
asks before any command it does not know to be safe (approval policy `untrusted`); the
session's permission mode picks its sandbox: `allow` none, `deny` read-only, otherwise the
workspace, whose writable roots get the session's additional directories. The session's MCP
servers go in as `mcp_servers` config overrides; Codex asks before their calls with an
elicitation, which the Authorizer answers too. Images go in as data URLs. Cancel is
`turn/interrupt`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from parley import __version__
from parley.agents.base import AgentTurn
from parley.agents.mcp_servers import codex_config
from parley.agents.process import AgentExited
from parley.agents.rpc import RemoteError, RpcClient
from parley.agents.rpc_backend import RpcBackend
from parley.core.errors import ErrorCode, ParleyError
from parley.core.ids import new_id
from parley.core.messages import ImageBlock, Message, TextBlock
from parley.protocol import types as wire
from parley.tools.mcp.naming import tool_name

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
INTERRUPT_GRACE_S = 10.0
SANDBOX = {"allow": "danger-full-access", "deny": "read-only"}
# Codex's item types that are tool calls, and their kind.
TOOL_ITEMS: dict[str, wire.ToolKind] = {
    "commandExecution": "execute",
    "fileChange": "edit",
    "mcpToolCall": "execute",
    "dynamicToolCall": "execute",
    "webSearch": "read",
}


class Codex(RpcBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.thread_id = ""
        self._model = ""

    async def _start(self) -> RpcClient:
        process = await self.start_process([*self.spec.command, "app-server"])
        self.rpc = rpc = RpcClient(process, jsonrpc_field=False)
        client = {"name": "parley", "title": "Parley", "version": __version__}
        await rpc.request("initialize", {"clientInfo": client}, START_TIMEOUT_S)
        rpc.notify("initialized")
        record = self.session.record
        params: dict[str, Any] = {
            "cwd": record.cwd,
            "approvalPolicy": "untrusted",
            "sandbox": _sandbox(record.permission_mode),
        }
        if record.model != "default":
            params["model"] = record.model
        if config := self._config():
            params["config"] = config
        result = await self._open_thread(rpc, params)
        thread = result.get("thread") or {}
        self.thread_id = str(thread.get("id"))
        log.info("codex thread %s runs in the sandbox %s", self.thread_id, result.get("sandbox"))
        self._model = str(result.get("model") or thread.get("model") or record.model)
        self.remember_agent_session(self.thread_id)
        return rpc

    def _config(self) -> dict[str, Any]:
        """Config overrides for the thread: Parley's MCP servers, and the session's other
        directories as writable roots of the workspace sandbox."""
        config = codex_config(self.servers)
        record = self.session.record
        if record.additional_directories and _sandbox(record.permission_mode) == "workspace-write":
            config["sandbox_workspace_write.writable_roots"] = record.additional_directories
        return config

    async def _open_thread(self, rpc: RpcClient, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.session.record.agent_session
        if stored is None:
            return dict(await rpc.request("thread/start", params, START_TIMEOUT_S))
        method = "thread/fork" if self.session.record.agent_fork else "thread/resume"
        try:
            return dict(await rpc.request(method, {**params, "threadId": stored}, START_TIMEOUT_S))
        except RemoteError as exc:
            # Codex writes a thread only once a turn has run in it: nothing to resume yet.
            if "no rollout found" not in exc.message:
                raise
            log.info("codex thread %s was never written; starting a new one", stored)
            return dict(await rpc.request("thread/start", params, START_TIMEOUT_S))

    async def turn(self, turn: AgentTurn, prompt: Message) -> wire.StopReason:
        try:
            rpc = await self._ensure()
            started = await rpc.request(
                "turn/start", {"threadId": self.thread_id, "input": _input(prompt)}
            )
        except RemoteError as exc:
            raise ParleyError(ErrorCode.PROVIDER_ERROR, f"codex: {exc}", recoverable=True) from None
        turn_id = str((started.get("turn") or {}).get("id"))
        items = _Items(turn, self._model)
        asks: dict[Any, asyncio.Task[None]] = {}
        try:
            while True:
                await turn.room()
                message = await rpc.next()
                if "id" in message:
                    self._request(rpc, items, message, asks)
                    continue
                done = items.notification(message)
                if done is not None:
                    return _stop(done)
        except asyncio.CancelledError:
            await self._interrupt(rpc, items, turn_id, asks)
            raise
        finally:
            for task in asks.values():
                task.cancel()

    def _request(
        self,
        rpc: RpcClient,
        items: _Items,
        message: dict[str, Any],
        asks: dict[Any, asyncio.Task[None]],
    ) -> None:
        """Codex asks to run a command or change files: Parley's permission layer decides."""
        msg_id, method = message["id"], message.get("method")
        params = message.get("params") or {}
        item_id = str(params.get("itemId"))
        if method == "item/commandExecution/requestApproval":
            name, kind = "commandExecution", "execute"
            call_input = {"command": params.get("command"), "cwd": params.get("cwd")}
        elif method == "item/fileChange/requestApproval":
            name, kind = "fileChange", "edit"
            call_input = {"changes": items.changes.get(item_id, []), "reason": params.get("reason")}
        elif method == "mcpServer/elicitation/request" and _is_tool_approval(params):
            # Codex asks before an MCP tool call as an elicitation of its own making.
            meta = params["_meta"]
            name = tool_name(str(params.get("serverName")), str(meta.get("tool_name")))
            kind = "execute"
            item_id = items.mcp_call(name)
            tool_params = meta.get("tool_params")
            call_input = tool_params if isinstance(tool_params, dict) else {}
        else:
            rpc.refuse(msg_id, f"Parley does not support {method}")
            return
        elicitation = method == "mcpServer/elicitation/request"

        async def ask() -> None:
            verdict = await items.turn.authorize(item_id, name, call_input, kind)  # type: ignore[arg-type]
            asks.pop(msg_id, None)
            if elicitation:
                rpc.answer(msg_id, {"action": "accept" if verdict.allowed else "decline"})
            else:
                rpc.answer(msg_id, {"decision": "accept" if verdict.allowed else "decline"})

        asks[msg_id] = asyncio.create_task(ask())

    async def _interrupt(
        self,
        rpc: RpcClient,
        items: _Items,
        turn_id: str,
        asks: dict[Any, asyncio.Task[None]],
    ) -> None:
        for task in asks.values():
            task.cancel()
        try:
            async with asyncio.timeout(INTERRUPT_GRACE_S):
                await rpc.request("turn/interrupt", {"threadId": self.thread_id, "turnId": turn_id})
                while True:
                    message = await rpc.next()
                    if "id" in message:  # a late approval request: the turn is over
                        late = message.get("method") == "mcpServer/elicitation/request"
                        rpc.answer(message["id"], {"action" if late else "decision": "cancel"})
                    elif items.notification(message) is not None:
                        return
        except (TimeoutError, AgentExited, RemoteError):
            await self.aclose()


class _Items:
    """Codex's item notifications, as Parley events for one turn."""

    def __init__(self, turn: AgentTurn, model: str) -> None:
        self.turn = turn
        self.model = model
        self.changes: dict[str, Any] = {}  # fileChange item -> its changes, for approvals
        self.output: dict[str, list[str]] = {}  # command item -> output so far
        self.mcp_calls: dict[str, str] = {}  # MCP tool call item, not completed -> its name

    def notification(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """Publish what the notification says; the turn's record once it has completed."""
        method = message.get("method")
        params = message.get("params") or {}
        turn = self.turn
        if method == "item/agentMessage/delta":
            turn.text(str(params.get("delta", "")))
        elif method in ("item/reasoning/summaryTextDelta", "item/reasoning/textDelta"):
            turn.thinking(str(params.get("delta", "")))
        elif method == "item/commandExecution/outputDelta":
            self.output.setdefault(str(params.get("itemId")), []).append(str(params.get("delta")))
        elif method == "item/started":
            self._started(params.get("item") or {})
        elif method == "item/completed":
            self._completed(params.get("item") or {})
        elif method == "thread/tokenUsage/updated":
            last = (params.get("tokenUsage") or {}).get("last") or {}
            cached = int(last.get("cachedInputTokens") or 0)
            turn.account(
                self.model,
                int(last.get("inputTokens") or 0) - cached,
                int(last.get("outputTokens") or 0),
                cached,
                int(last.get("cacheWriteInputTokens") or 0),
            )
        elif method == "error":
            log.info("codex reported an error: %s", (params.get("error") or {}).get("message"))
        elif method == "turn/completed":
            return dict(params.get("turn") or {})
        return None

    def _started(self, item: dict[str, Any]) -> None:
        kind = item.get("type")
        if kind == "agentMessage":
            self.turn.end_thinking()
        elif kind in TOOL_ITEMS:
            item_id = str(item.get("id"))
            if kind == "fileChange":
                self.changes[item_id] = item.get("changes") or []
            elif kind == "mcpToolCall":
                self.mcp_calls[item_id] = _tool_name(item)
            self.turn.tool_started(item_id, _tool_name(item), _tool_input(item), TOOL_ITEMS[kind])

    def mcp_call(self, name: str) -> str:
        """The running MCP tool call item named `name` (an approval names no item)."""
        running = [i for i, n in self.mcp_calls.items() if n == name]
        return running[0] if len(running) == 1 else new_id("call")

    def _completed(self, item: dict[str, Any]) -> None:
        kind = item.get("type")
        if kind == "reasoning":
            self.turn.end_thinking()
        elif kind in TOOL_ITEMS:
            item_id = str(item.get("id"))
            self.mcp_calls.pop(item_id, None)
            output = item.get("aggregatedOutput")
            if output is None:
                output = "".join(self.output.pop(item_id, [])) or _summary(item)
            failed = item.get("status") not in ("completed", None) or item.get("exitCode") not in (
                0,
                None,
            )
            self.turn.tool_completed(item_id, str(output), failed, _tool_name(item))


def _sandbox(permission_mode: str) -> str:
    return SANDBOX.get(permission_mode, "workspace-write")


def _input(prompt: Message) -> list[dict[str, Any]]:
    """The prompt as turn/start's input items: text, and images as data URLs."""
    items: list[dict[str, Any]] = []
    for block in prompt.content:
        if isinstance(block, TextBlock):
            items.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            items.append({"type": "image", "url": f"data:{block.media_type};base64,{block.data}"})
    return items


def _tool_name(item: dict[str, Any]) -> str:
    if item.get("type") == "mcpToolCall":  # named as Parley names MCP tools, for its rules
        return tool_name(str(item.get("server")), str(item.get("tool")))
    return str(item.get("type"))


def _tool_input(item: dict[str, Any]) -> dict[str, Any]:
    kind = item.get("type")
    if kind == "commandExecution":
        return {"command": item.get("command"), "cwd": item.get("cwd")}
    if kind == "fileChange":
        return {"changes": item.get("changes") or []}
    if kind == "webSearch":
        return {"query": item.get("query")}
    arguments = item.get("arguments")
    return arguments if isinstance(arguments, dict) else {}


def _is_tool_approval(params: dict[str, Any]) -> bool:
    meta = params.get("_meta")
    return isinstance(meta, dict) and meta.get("codex_approval_kind") == "mcp_tool_call"


def _summary(item: dict[str, Any]) -> str:
    if item.get("type") == "fileChange":
        return "\n".join(f"{c.get('kind')} {c.get('path')}" for c in item.get("changes") or [])
    result = item.get("result")
    if item.get("type") == "mcpToolCall" and isinstance(result, dict):
        content = result.get("content") or []
        return "\n".join(str(c.get("text")) for c in content if c.get("type") == "text")
    if item.get("type") == "mcpToolCall" and isinstance(item.get("error"), dict):
        return str(item["error"].get("message"))
    return str(item.get("result") or item.get("status") or "")


def _stop(turn: dict[str, Any]) -> wire.StopReason:
    status = turn.get("status")
    if status == "completed":
        return "end_turn"
    if status == "interrupted":  # interrupted by Codex itself, not by us: report as such
        raise ParleyError(ErrorCode.CANCELLED, "codex interrupted the turn", recoverable=True)
    error = turn.get("error") or {}
    raise ParleyError(
        ErrorCode.PROVIDER_ERROR,
        f"codex: the turn failed: {error.get('message') or status}",
        recoverable=True,
    )
