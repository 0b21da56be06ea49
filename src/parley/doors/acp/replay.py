"""`session/load`: the stored conversation as the `session/update`s a client would have seen.

Replayed from the messages (what the model sees), so forks and sessions started by any door
replay too; a compacted session replays its summary in place of what was compacted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from parley.doors.acp.updates import SessionView, text
from parley.protocol import types as wire


class Replay:
    def __init__(self, view: SessionView) -> None:
        self.view = view
        self._replied = False  # the current turn has shown reply text

    def updates(self, messages: Iterable[wire.MessageView]) -> Iterator[dict[str, Any]]:
        for message in messages:
            for block in message.content:
                yield from self._block(message.role, block)

    def _block(self, role: str, block: dict[str, Any]) -> Iterator[dict[str, Any]]:
        view = self.view
        kind = block.get("type")
        if kind == "text" and block["text"]:
            if role == "user":
                self._replied = False
                yield text("user_message_chunk", block["text"])
            else:
                # As live: a turn's reply separates the texts of its model calls.
                yield text("agent_message_chunk", "\n\n" * self._replied + block["text"])
                self._replied = True
        elif kind == "image" and role == "user":
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
