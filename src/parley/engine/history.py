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
    runs: list[list[Message]] = []  # neighbours with the same role, merged once at the end
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
                _add(runs, fill)
            pending = []
        _add(runs, message)
        if message.role == "assistant":
            pending = message.tool_uses()
    if pending:
        _add(
            runs, Message("user", tuple(ToolResultBlock(c.id, INTERRUPTED, True) for c in pending))
        )
    return [_merged(run) for run in runs]


def _add(runs: list[list[Message]], message: Message) -> None:
    if not message.content:
        return
    if runs and runs[-1][0].role == message.role:
        runs[-1].append(message)
    else:
        runs.append([message])


def _merged(run: list[Message]) -> Message:
    """One message of a run's blocks, in order (a run of thousands costs one pass, not a
    pass per message); tool results first in a user message, as providers require."""
    if len(run) == 1:
        return run[0]
    role = run[0].role
    blocks: list[Block] = [b for m in run for b in m.content]
    if role == "user":
        blocks.sort(key=lambda b: not isinstance(b, ToolResultBlock))  # stable
    return Message(role, tuple(blocks))
