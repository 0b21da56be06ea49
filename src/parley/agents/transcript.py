"""The conversation so far as text, for an agent that starts a new session of its own in the
middle of a Parley session (its stored one could not be loaded or forked)."""

from __future__ import annotations

from collections.abc import Sequence

from parley.core.messages import ImageBlock, Message, TextBlock

_ROLES = {"user": "User", "assistant": "You"}


def earlier_conversation(history: Sequence[Message]) -> str:
    """The earlier turns, framed so the agent takes them as its own past, not as a task; empty
    when there were none."""
    parts: list[str] = []
    for message in history:
        texts = [b.text for b in message.content if isinstance(b, TextBlock) and b.text]
        if any(isinstance(b, ImageBlock) for b in message.content):
            texts.append("[an image]")
        if texts and message.role in _ROLES:
            parts.append(f"{_ROLES[message.role]}:\n" + "\n\n".join(texts))
    if not parts:
        return ""
    body = "\n\n".join(parts)
    return (
        "<earlier_conversation>\n"
        "This conversation continues one we had before, in a session you can no longer see "
        "(your tool calls then are not included). What was said:\n\n"
        f"{body}\n"
        "</earlier_conversation>\n\n"
        "The new message follows."
    )
