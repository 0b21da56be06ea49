"""Claude Code's stream-json messages as Parley events; Amp writes the same format.

`system` init names the agent's session and model; `assistant` messages carry text, thinking
and tool_use blocks; `user` messages carry tool results; `result` ends the turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from parley.agents.base import AgentTurn
from parley.core.messages import ImageBlock, Message, TextBlock
from parley.protocol import types as wire


def init_of(message: Mapping[str, Any]) -> tuple[str | None, str]:
    """A `system` init message's session id and model; (None, "") for any other message."""
    if message.get("type") != "system" or message.get("subtype") != "init":
        return None, ""
    session_id = message.get("session_id")
    return (session_id if isinstance(session_id, str) else None), str(message.get("model") or "")


def show(turn: AgentTurn, message: Mapping[str, Any], kinds: Mapping[str, wire.ToolKind]) -> None:
    """Publish an `assistant` or `user` message's blocks; tools not in `kinds` execute."""
    kind = message.get("type")
    body = message.get("message")
    if kind not in ("assistant", "user") or not isinstance(body, dict):
        return
    content = body.get("content")
    nested = message.get("parent_tool_use_id") is not None  # a subagent's own steps
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        tag = block.get("type")
        if kind == "assistant" and tag == "text" and not nested:
            turn.text(str(block.get("text", "")))
        elif kind == "assistant" and tag == "thinking" and not nested:
            turn.thinking(str(block.get("thinking", "")))
        elif kind == "assistant" and tag == "tool_use":
            name = str(block.get("name", ""))
            tool_input = block.get("input")
            turn.tool_started(
                str(block.get("id")),
                name,
                tool_input if isinstance(tool_input, dict) else {},
                kinds.get(name, "execute"),
            )
        elif kind == "user" and tag == "tool_result":
            turn.tool_completed(
                str(block.get("tool_use_id")),
                result_text(block.get("content")),
                bool(block.get("is_error")),
            )


def result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(b.get("text", ""))
            for b in content
            if isinstance(b, dict) and b.get("type") == "text"
        )
    return ""


def usage_of(message: Mapping[str, Any]) -> tuple[int, int, int, int]:
    """A `result` message's input, output, cache read and cache write tokens."""
    usage = message.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    return (
        int(usage.get("input_tokens") or 0),
        int(usage.get("output_tokens") or 0),
        int(usage.get("cache_read_input_tokens") or 0),
        int(usage.get("cache_creation_input_tokens") or 0),
    )


def user_line(prompt: Message) -> dict[str, Any]:
    """The prompt as a stdin `user` line, images as base64 image blocks."""
    content: list[dict[str, Any]] = []
    for block in prompt.content:
        if isinstance(block, TextBlock):
            content.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            source = {"type": "base64", "media_type": block.media_type, "data": block.data}
            content.append({"type": "image", "source": source})
    message = {"role": "user", "content": content}
    return {"type": "user", "message": message, "parent_tool_use_id": None}
