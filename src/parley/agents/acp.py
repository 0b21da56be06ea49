"""Any ACP agent (Gemini CLI `--acp`, ACP adapters, `parley acp`) as a backend: Parley is
the ACP client.

`initialize`, then `session/new` (or `session/load` to resume a stored session), then one
`session/prompt` per turn, whose `session/update` notifications become Parley events until it
answers with a stop reason. `session/request_permission` goes to Parley's Authorizer; Parley
keeps "always" answers itself, so the agent is only ever told "once". `fs/*` (agents/acp_files.py)
and `terminal/*` (agents/acp_terminals.py) are served with Parley's own confined file access and
permission-checked commands. Cancel is `session/cancel`, and stops the agent's terminals.

An agent that cannot load or fork a stored session (Gemini CLI 0.61's load fails when it comes
within the wall-clock minute its session started: its new record for the same session lands in
the same file and hides the old one; agents without `session/fork`) gets a new session whose
first prompt carries the Parley session's conversation so far, once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from parley import __version__
from parley.agents.acp_files import AgentFiles
from parley.agents.acp_terminals import AgentTerminals
from parley.agents.base import AgentTurn
from parley.agents.mcp_servers import acp_servers
from parley.agents.process import AgentExited
from parley.agents.rpc import RemoteError, RpcClient
from parley.agents.rpc_backend import RpcBackend
from parley.agents.transcript import earlier_conversation
from parley.core.errors import ErrorCode, ParleyError
from parley.core.messages import ImageBlock, Message, TextBlock
from parley.protocol import types as wire

log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
# How long a loaded session's replayed history may take, and the quiet that ends it.
REPLAY_LIMIT_S = 10.0
REPLAY_QUIET_S = 0.3
START_TIMEOUT_S = 60.0
CANCEL_GRACE_S = 10.0
# ACP tool kinds as Parley's.
KINDS: dict[str, wire.ToolKind] = {
    "read": "read",
    "search": "read",
    "fetch": "read",
    "think": "read",
    "edit": "edit",
    "delete": "edit",
    "move": "edit",
}
# The terminal methods served by name: ACP's method, AgentTerminals' coroutine.
TERMINAL_CALLS = {
    "terminal/output": "output",
    "terminal/wait_for_exit": "wait_for_exit",
    "terminal/kill": "kill",
    "terminal/release": "release",
}
STOP_REASONS: dict[str, wire.StopReason] = {
    "end_turn": "end_turn",
    "max_tokens": "end_turn",
    "max_turn_requests": "max_turns",
    "refusal": "refusal",
}


class AcpAgent(RpcBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acp_session = ""
        self.capabilities: dict[str, Any] = {}
        self.files = AgentFiles(self.session.tool_context, "")
        self.terminals = AgentTerminals(self.session.tool_context)
        # The next prompt carries the conversation so far: the agent's session is a new one.
        self.catch_up = False
        self.pending: set[asyncio.Task[None]] = set()  # terminal/create waiting for permission

    async def _start(self) -> RpcClient:
        self.rpc = rpc = RpcClient(await self.start_process(self.argv()))
        init = await rpc.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "clientCapabilities": {
                    "fs": {"readTextFile": True, "writeTextFile": True},
                    "terminal": True,
                },
                "clientInfo": {"name": "parley", "title": "Parley", "version": __version__},
            },
            START_TIMEOUT_S,
        )
        self.capabilities = dict((init or {}).get("agentCapabilities") or {})
        agent_info = (init or {}).get("agentInfo") or {}
        self.files = AgentFiles(self.session.tool_context, str(agent_info.get("name") or ""))
        await self._open_session(rpc)
        return rpc

    def argv(self) -> list[str]:
        return list(self.spec.command)

    async def _open_session(self, rpc: RpcClient) -> None:
        record = self.session.record
        # The session's MCP servers, in the transports the agent said it takes.
        servers = acp_servers(self.servers, self.capabilities, self.spec.name)
        base: dict[str, Any] = {"cwd": record.cwd, "mcpServers": servers}
        if record.additional_directories:  # ACP v1 has no field; Zed's adapters read this
            base["_meta"] = {"additionalRoots": list(record.additional_directories)}
        stored = record.agent_session
        if stored is None:
            result = await rpc.request("session/new", base, START_TIMEOUT_S)
            self.acp_session = str(result["sessionId"])
        elif record.agent_fork:
            # An object when offered, even an empty one.
            if (self.capabilities.get("sessionCapabilities") or {}).get("fork") is None:
                await self._continue_in_new_session(rpc, base, "cannot fork its sessions")
            else:
                result = await rpc.request(
                    "session/fork", {**base, "sessionId": stored}, START_TIMEOUT_S
                )
                self.acp_session = str(result["sessionId"])
        elif not self.capabilities.get("loadSession"):
            await self._continue_in_new_session(rpc, base, "cannot load its sessions")
        else:
            try:
                await rpc.request("session/load", {**base, "sessionId": stored}, START_TIMEOUT_S)
            except RemoteError as exc:
                await self._continue_in_new_session(rpc, base, str(exc))
            else:
                self.acp_session = stored
                await _skip_replayed_history(rpc)
        self.remember_agent_session(self.acp_session)

    async def _continue_in_new_session(
        self, rpc: RpcClient, base: dict[str, Any], why: str
    ) -> None:
        """The stored session cannot be had: a new one, told the conversation so far."""
        log.info(
            "%s: %s; going on in a new session with the conversation so far", self.spec.name, why
        )
        result = await rpc.request("session/new", base, START_TIMEOUT_S)
        self.acp_session = str(result["sessionId"])
        self.catch_up = True

    async def turn(self, turn: AgentTurn, prompt: Message) -> wire.StopReason:
        try:
            rpc = await self._ensure()
        except RemoteError as exc:
            raise ParleyError(
                ErrorCode.PROVIDER_ERROR, f"{self.spec.name}: {exc}", recoverable=True
            ) from None
        blocks = _content(prompt)
        if self.catch_up:
            earlier = earlier_conversation(self.session.history[:-1])  # the last is `prompt`
            if earlier:
                blocks.insert(0, {"type": "text", "text": earlier})
            self.catch_up = False
        self.terminals.allowed.clear()
        answer = asyncio.ensure_future(
            rpc.request("session/prompt", {"sessionId": self.acp_session, "prompt": blocks})
        )
        asks: dict[Any, asyncio.Task[None]] = {}
        try:
            result = await self._follow(turn, rpc, answer, asks)
        except asyncio.CancelledError:
            await self._cancel(turn, rpc, answer, asks)
            raise
        except RemoteError as exc:
            raise ParleyError(
                ErrorCode.PROVIDER_ERROR, f"{self.spec.name}: {exc}", recoverable=True
            ) from None
        finally:
            for task in [*asks.values(), *self.pending]:
                task.cancel()
            answer.cancel()
        self._account(turn, result)
        stop = str(result.get("stopReason"))
        if stop == "cancelled":  # the agent stopped by itself
            raise ParleyError(
                ErrorCode.CANCELLED, f"{self.spec.name} cancelled the turn", recoverable=True
            )
        return STOP_REASONS.get(stop, "end_turn")

    async def _follow(
        self,
        turn: AgentTurn,
        rpc: RpcClient,
        answer: asyncio.Future[Any],
        asks: dict[Any, asyncio.Task[None]],
    ) -> dict[str, Any]:
        """Handle the agent's messages until the prompt is answered. The answer comes in line:
        the reader queues what the agent sent before it, then settles it, and only then does
        the marker below join the queue."""
        marker = {"answered": id(answer)}
        if answer.done():
            rpc.incoming.put_nowait(marker)
        else:
            answer.add_done_callback(lambda _: rpc.incoming.put_nowait(marker))
        while True:
            await turn.room()
            message = await rpc.next()
            if message is marker:
                return dict(answer.result() or {})
            if "answered" not in message:  # another prompt's marker: that turn is over
                self._handle(turn, rpc, message, asks)

    def _handle(
        self,
        turn: AgentTurn,
        rpc: RpcClient,
        message: dict[str, Any],
        asks: dict[Any, asyncio.Task[None]],
    ) -> None:
        method = message.get("method")
        params = message.get("params") or {}
        if "id" not in message:
            if method == "session/update":
                _update(turn, params.get("update") or {})
            return
        msg_id = message["id"]
        if method == "session/request_permission":
            asks[msg_id] = asyncio.create_task(self._permission(turn, rpc, msg_id, params, asks))
        elif method == "fs/read_text_file":
            rpc.answer_later(msg_id, self.files.read(params))
        elif method == "fs/write_text_file":
            rpc.answer_later(msg_id, self.files.write(params))
        elif method == "terminal/create":
            task = rpc.answer_later(msg_id, self.terminals.create(turn, params))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)
        elif method in TERMINAL_CALLS:
            rpc.answer_later(msg_id, getattr(self.terminals, TERMINAL_CALLS[method])(params))
        else:
            rpc.refuse(msg_id, f"Parley does not support {method}")

    async def _permission(
        self,
        turn: AgentTurn,
        rpc: RpcClient,
        msg_id: Any,
        params: dict[str, Any],
        asks: dict[Any, asyncio.Task[None]],
    ) -> None:
        call = params.get("toolCall") or {}
        call_id = str(call.get("toolCallId"))
        kind = str(call.get("kind") or "other")
        raw = call.get("rawInput")
        call_input = raw if isinstance(raw, dict) else _describe(call)
        verdict = await turn.authorize(
            call_id, kind, call_input, KINDS.get(kind, "execute"), {"title": call.get("title")}
        )
        asks.pop(msg_id, None)
        if verdict.allowed:  # the command is not asked about again when it reaches a terminal
            self.terminals.allowed_by_agent_prompt(raw)
        else:  # ACP agents need not report a call that never ran
            turn.tool_completed(call_id, verdict.reason, True)
        options = params.get("options") or []
        wanted = (
            ("allow_once", "allow_always") if verdict.allowed else ("reject_once", "reject_always")
        )
        chosen = next(
            (o["optionId"] for kind in wanted for o in options if o.get("kind") == kind), None
        )
        outcome = (
            {"outcome": "selected", "optionId": chosen}
            if chosen is not None
            else {"outcome": "cancelled"}
        )
        rpc.answer(msg_id, {"outcome": outcome})

    async def _cancel(
        self,
        turn: AgentTurn,
        rpc: RpcClient,
        answer: asyncio.Future[Any],
        asks: dict[Any, asyncio.Task[None]],
    ) -> None:
        """session/cancel, then wait for the prompt's answer (ACP: stopReason cancelled);
        an agent that does not answer in time is closed, and the next turn reloads it."""
        for task in [*asks.values(), *self.pending]:
            task.cancel()
        try:
            rpc.notify("session/cancel", {"sessionId": self.acp_session})
            for msg_id in list(asks):  # ACP: pending permission requests answer "cancelled"
                rpc.answer(msg_id, {"outcome": {"outcome": "cancelled"}})
            await self.terminals.kill_all()  # so that the agent's commands end now
            async with asyncio.timeout(CANCEL_GRACE_S):
                await self._follow(turn, rpc, answer, {})
        except (TimeoutError, AgentExited, RemoteError):
            await self.aclose()

    async def aclose(self) -> None:
        await self.terminals.close()
        await super().aclose()

    def _account(self, turn: AgentTurn, result: dict[str, Any]) -> None:
        """Token counts where the agent reports them: ACP's draft `usage`, or Gemini CLI's
        `_meta.quota`."""
        usage = result.get("usage")
        if isinstance(usage, dict):
            turn.account(
                self.session.record.model,
                int(usage.get("inputTokens") or 0),
                int(usage.get("outputTokens") or 0),
                int(usage.get("cachedReadTokens") or 0),
                int(usage.get("cachedWriteTokens") or 0),
            )
            return
        quota = ((result.get("_meta") or {}).get("quota") or {}).get("token_count")
        if isinstance(quota, dict):
            turn.account(
                self.session.record.model,
                int(quota.get("input_tokens") or 0),
                int(quota.get("output_tokens") or 0),
            )


class GeminiCli(AcpAgent):
    """Gemini CLI takes the session's additional directories on its command line: ACP's
    session/new has no field for them (one process serves one Parley session)."""

    def argv(self) -> list[str]:
        extra = self.session.record.additional_directories
        return [*super().argv(), *(["--include-directories", ",".join(extra)] if extra else [])]


def _update(turn: AgentTurn, update: dict[str, Any]) -> None:
    kind = update.get("sessionUpdate")
    content = update.get("content")
    if kind == "agent_message_chunk" and isinstance(content, dict):
        turn.text(str(content.get("text", "")) if content.get("type") == "text" else "")
    elif kind == "agent_thought_chunk" and isinstance(content, dict):
        turn.thinking(str(content.get("text", "")) if content.get("type") == "text" else "")
    elif kind == "tool_call":
        _tool_call(turn, update)
    elif kind == "tool_call_update":
        status = update.get("status")
        if status in ("completed", "failed"):
            call_id = str(update.get("toolCallId"))
            output = _content_text(update.get("content"))
            turn.tool_completed(call_id, output, status == "failed", str(update.get("kind") or ""))
        elif update.get("kind") or update.get("title"):
            _tool_call(turn, update)


def _tool_call(turn: AgentTurn, update: dict[str, Any]) -> None:
    kind = str(update.get("kind") or "other")
    raw = update.get("rawInput")
    turn.tool_started(
        str(update.get("toolCallId")),
        kind,
        raw if isinstance(raw, dict) else _describe(update),
        KINDS.get(kind, "execute"),
    )


def _describe(call: dict[str, Any]) -> dict[str, Any]:
    """What an ACP tool call says about itself when it has no raw input."""
    out: dict[str, Any] = {"title": call.get("title")}
    if locations := call.get("locations"):
        out["locations"] = [loc.get("path") for loc in locations if isinstance(loc, dict)]
    return out


def _content_text(content: Any) -> str:
    parts: list[str] = []
    for item in content if isinstance(content, list) else []:
        if not isinstance(item, dict):
            continue
        inner = item.get("content")
        if item.get("type") == "content" and isinstance(inner, dict) and "text" in inner:
            parts.append(str(inner["text"]))
        elif item.get("type") == "diff":
            parts.append(f"edited {item.get('path')}")
    return "\n".join(parts)


def _content(prompt: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for block in prompt.content:
        if isinstance(block, TextBlock):
            blocks.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            blocks.append({"type": "image", "mimeType": block.media_type, "data": block.data})
    return blocks


async def _skip_replayed_history(rpc: RpcClient) -> None:
    """A loaded session's history comes back as session/update, shown to the host already. Gemini
    CLI streams it without waiting for it before it answers session/load, so what arrives until
    the agent has been quiet for a moment is still that history, not the next turn."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + REPLAY_LIMIT_S
    while (left := deadline - loop.time()) > 0:
        try:
            message = await asyncio.wait_for(rpc.incoming.get(), min(REPLAY_QUIET_S, left))
        except TimeoutError:
            return
        if message is None:  # the agent is gone: whoever reads next must learn it too
            rpc.incoming.put_nowait(None)
            return
        if "id" in message:
            rpc.refuse(message["id"], "the session is loading")
