"""Estimating the size of a model request, the same way for every provider: about four
characters a token, close enough for English and code (real tokenizers differ by tens of
percent, which compaction's margins absorb)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from parley.core.messages import (
    Block,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from parley.core.tools import ToolSpec

CHARS_PER_TOKEN = 4
IMAGE_TOKENS = 1_600  # about what providers charge for a screen-sized image


def tokens(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


def block_chars(block: Block) -> int:
    if isinstance(block, TextBlock | ThinkingBlock):
        return len(block.text)
    if isinstance(block, ToolUseBlock):
        return len(block.name) + len(orjson.dumps(block.input))
    if isinstance(block, ToolResultBlock):
        return len(block.content)
    return IMAGE_TOKENS * CHARS_PER_TOKEN


def message_chars(message: Message) -> int:
    return sum(block_chars(b) for b in message.content)


def request_overhead_chars(system: str, tools: Sequence[ToolSpec]) -> int:
    """What every request carries besides the history: the system prompt and the tool specs."""
    specs = sum(len(t.name) + len(t.description) + len(orjson.dumps(t.input_schema)) for t in tools)
    return len(system) + specs
