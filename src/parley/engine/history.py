"""Keeping the conversation valid for every provider, whatever interrupted it."""

from __future__ import annotations

from collections.abc import Sequence

from parley.core.messages import Block, Message, ToolResultBlock, ToolUseBlock

INTERRUPTED = "The tool call was interrupted before it finished; it did not complete."


def repair(messages: Sequence[Message]) -> list[Message]:
    """Give every tool_use a tool_result, and merge neighbours with the same role.

    A turn cancelled or killed mid-tool leaves calls without results, which every provider
    rejects; an interrupted call is reported to the model as such.
    """
    out: list[Message] = []
    pending: list[ToolUseBlock] = []
    for message in messages:
        if pending:
            answered = (
                {b.tool_use_id for b in message.content if isinstance(b, ToolResultBlock)}
                if message.role == "user"
                else set()
            )
            missing = [c for c in pending if c.id not in answered]
            if missing:
                fill = Message(
                    "user", tuple(ToolResultBlock(c.id, INTERRUPTED, True) for c in missing)
                )
                _append(out, fill)
            pending = []
        _append(out, message)
        if message.role == "assistant":
            pending = message.tool_uses()
    if pending:
        _append(
            out, Message("user", tuple(ToolResultBlock(c.id, INTERRUPTED, True) for c in pending))
        )
    return out


def _append(out: list[Message], message: Message) -> None:
    if not message.content:
        return
    if out and out[-1].role == message.role:
        merged: tuple[Block, ...] = out[-1].content + message.content
        if message.role == "user":
            # Tool results must come first in a user message.
            merged = tuple(sorted(merged, key=lambda b: not isinstance(b, ToolResultBlock)))
        out[-1] = Message(message.role, merged)
    else:
        out.append(message)
