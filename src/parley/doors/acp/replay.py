"""`session/load`: the stored conversation as the `session/update`s a client would have seen.

Replayed from the messages (what the model sees), so forks and sessions started by any door
replay too; a compacted session replays its summary in place of what was compacted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from parley.doors.acp.updates import SessionView, text
from parley.protocol import types as wire


def replay(messages: Iterable[wire.MessageView], view: SessionView) -> Iterator[dict[str, Any]]:
    for message in messages:
        for block in message.content:
            kind = block.get("type")
            if kind == "text" and block["text"]:
                role = "user_message_chunk" if message.role == "user" else "agent_message_chunk"
                yield text(role, block["text"])
            elif kind == "image" and message.role == "user":
                image = {"type": "image", "mimeType": block["mediaType"], "data": block["data"]}
                yield {"sessionUpdate": "user_message_chunk", "content": image}
            elif kind == "thinking" and block.get("text"):
                yield text("agent_thought_chunk", block["text"])
            elif kind == "tool_use":
                yield view.tool_started(block["id"], block["name"], block["input"], None)
            elif kind == "tool_result":
                yield view.tool_completed(
                    block["toolUseId"], block["content"], bool(block.get("isError"))
                )
