"""The provider-neutral conversation: what the engine keeps, stores, and hands to providers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeAlias

import attrs

from parley.core.naming import camel


@attrs.frozen
class TextBlock:
    text: str


@attrs.frozen
class ThinkingBlock:
    """Model reasoning. `signature`/`redacted` belong to `provider` and go back to it unchanged."""

    text: str
    signature: str | None = None
    redacted: str | None = None
    provider: str | None = None


@attrs.frozen
class ToolUseBlock:
    id: str
    name: str
    input: dict[str, Any]


@attrs.frozen
class ToolResultBlock:
    tool_use_id: str
    content: str
    is_error: bool = False


@attrs.frozen
class ImageBlock:
    media_type: str
    data: str  # base64


Block: TypeAlias = TextBlock | ThinkingBlock | ToolUseBlock | ToolResultBlock | ImageBlock
Role: TypeAlias = Literal["user", "assistant"]


@attrs.frozen
class Message:
    role: Role
    content: tuple[Block, ...]

    @property
    def text(self) -> str:
        return "".join(b.text for b in self.content if isinstance(b, TextBlock))

    def tool_uses(self) -> list[ToolUseBlock]:
        return [b for b in self.content if isinstance(b, ToolUseBlock)]


def user_text(text: str) -> Message:
    return Message("user", (TextBlock(text),))


# Serialization for the store and for session export: a tagged, JSON-ready dict per block.

_TAGS: dict[type[Any], str] = {
    TextBlock: "text",
    ThinkingBlock: "thinking",
    ToolUseBlock: "tool_use",
    ToolResultBlock: "tool_result",
    ImageBlock: "image",
}


def block_to_dict(block: Block) -> dict[str, Any]:
    """camelCase keys, as on the wire; unset optional fields are left out."""
    out: dict[str, Any] = {"type": _TAGS[type(block)]}
    for field in attrs.fields(type(block)):
        value = getattr(block, field.name)
        if value is not None and value is not False:
            out[camel(field.name)] = value
    return out


# Per tag, the block as block_to_dict wrote it: spelled out, because resuming a long session
# decodes tens of thousands of blocks and this is three times faster than a generic walk of the
# fields (tests/core holds the two directions to each other for every field).
_DECODE: dict[str, Callable[[dict[str, Any]], Block]] = {
    "text": lambda d: TextBlock(d["text"]),
    "thinking": lambda d: ThinkingBlock(
        d["text"], d.get("signature"), d.get("redacted"), d.get("provider")
    ),
    "tool_use": lambda d: ToolUseBlock(d["id"], d["name"], d["input"]),
    "tool_result": lambda d: ToolResultBlock(d["toolUseId"], d["content"], d.get("isError", False)),
    "image": lambda d: ImageBlock(d["mediaType"], d["data"]),
}


def block_from_dict(data: dict[str, Any]) -> Block:
    return _DECODE[data["type"]](data)


def message_to_dict(message: Message) -> dict[str, Any]:
    return {"role": message.role, "content": [block_to_dict(b) for b in message.content]}


def message_from_dict(data: dict[str, Any]) -> Message:
    return Message(data["role"], tuple([_DECODE[b["type"]](b) for b in data["content"]]))
