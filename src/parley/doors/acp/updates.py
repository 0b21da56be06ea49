"""Parley's session events as ACP `session/update`s.

One `SessionView` per session a connection follows: it remembers what later updates need
(each call's diffs, which approval belongs to which call, the cost so far).
"""

from __future__ import annotations

from typing import Any

from parley.doors.acp import tool_view


def text(kind: str, value: str) -> dict[str, Any]:
    return {"sessionUpdate": kind, "content": {"type": "text", "text": value}}


class SessionView:
    def __init__(self, cwd: str, context_window: int, cost_usd: float = 0.0) -> None:
        self.cwd = cwd
        self.context_window = context_window
        self.cost_usd = cost_usd
        # Content a call keeps when it ends (its diffs, its terminal), by tool call id.
        self._kept: dict[str, list[dict[str, Any]]] = {}
        self._approval_calls: dict[str, str] = {}

    def updates(self, method: str, p: dict[str, Any]) -> list[dict[str, Any]]:
        if method == "result/delta":
            return [text("agent_message_chunk", p["text"])]
        if method == "thinking/delta":
            return [text("agent_thought_chunk", p["text"])]
        if method == "tool/started":
            return [self.tool_started(p["toolCallId"], p["name"], p["input"], p.get("kind"))]
        if method == "tool/completed":
            return [self.tool_completed(p["toolCallId"], p["output"], p["isError"])]
        if method == "approval/requested":
            self._approval_calls[p["approvalId"]] = p["toolCallId"]
        elif method == "approval/resolved":
            call_id = self._approval_calls.pop(p["approvalId"], None)
            if call_id is not None and p["decision"].startswith("allow"):
                running = {"toolCallId": call_id, "status": "in_progress"}
                return [{"sessionUpdate": "tool_call_update", **running}]
        elif method == "approval/timeout":
            self._approval_calls.pop(p["approvalId"], None)
        elif method == "usage":
            return [self.usage(p)]
        return []

    def tool_started(
        self, call_id: str, name: str, input: dict[str, Any], kind: str | None
    ) -> dict[str, Any]:
        update = tool_view.tool_call(call_id, name, input, kind, self.cwd)
        if "content" in update:
            self._kept[call_id] = update["content"]
        return update

    def tool_completed(self, call_id: str, output: str, is_error: bool) -> dict[str, Any]:
        update = tool_view.tool_result(call_id, output, is_error)
        # Diffs and terminals stay on show: `content` in an update replaces the call's content.
        update["content"] = self._kept.pop(call_id, []) + update["content"]
        return update

    def terminal_shown(self, call_id: str, terminal_id: str) -> dict[str, Any]:
        """The call runs in the editor's terminal: the client shows it live in the call."""
        terminal = {"type": "terminal", "terminalId": terminal_id}
        self._kept.setdefault(call_id, []).append(terminal)
        running = {"toolCallId": call_id, "status": "in_progress", "content": [terminal]}
        return {"sessionUpdate": "tool_call_update", **running}

    def usage(self, p: dict[str, Any]) -> dict[str, Any]:
        used = sum(
            p.get(k) or 0
            for k in ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens")
        )
        update: dict[str, Any] = {
            "sessionUpdate": "usage_update",
            "used": used,
            "size": self.context_window,
        }
        if p.get("costUsd") is not None:
            self.cost_usd += p["costUsd"]
            update["cost"] = {"amount": round(self.cost_usd, 6), "currency": "USD"}
        return update
