"""The `scripted` provider: replays a JSON script of model responses, deterministically.

Script format (documented in docs/scripted-provider.md):
    {"responses": [[{"type": "thinking", "text": "..."}, {"type": "text", "text": "Hi"},
                    {"type": "tool_call", "name": "read_file", "input": {"path": "a"}}],
                   [{"type": "text", "text": "Done."}]]}
Each inner list is one model response. Every session replays from the first response.
A session's model is its script's path, which is how a resumed session finds the script.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from parley.config import Settings
from parley.core.errors import ErrorCode, ParleyError
from parley.core.estimate import message_chars, request_overhead_chars, tokens
from parley.core.messages import Block, Message, TextBlock, ThinkingBlock, ToolUseBlock
from parley.providers.base import (
    Completion,
    ModelRequest,
    ModelStopReason,
    Provider,
    ProviderConfig,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    Usage,
)

_ITEM_TYPES = {"text", "thinking", "tool_call", "error"}
_CHUNK = re.compile(r"\S{1,12}\s*|\s+")


# Checked scripts by path, with the (mtime, size) they were read at: every session's provider
# loads its script, and a thousand sessions starting turns at once read the same file.
_loaded: dict[str, tuple[tuple[int, int], list[list[dict[str, Any]]]]] = {}


def load_script(path: str | Path) -> list[list[dict[str, Any]]]:
    """Read and check a script file (again only once it changed); errors name the file and
    the offending item. The script is shared: nothing may change it."""
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise _config_error(f"cannot read script {path}: {exc.strerror}") from None
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _loaded.get(str(path))
    if cached is not None and cached[0] == version:
        return cached[1]
    responses = _read_script(path)
    _loaded[str(path)] = (version, responses)
    return responses


def _read_script(path: str | Path) -> list[list[dict[str, Any]]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise _config_error(f"cannot read script {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise _config_error(f"script {path} is not valid JSON: {exc}") from None
    responses = data.get("responses") if isinstance(data, dict) else None
    if not isinstance(responses, list):
        raise _config_error(f'script {path}: expected an object with a "responses" array')
    for i, response in enumerate(responses):
        if not isinstance(response, list):
            raise _config_error(f"script {path}: responses[{i}] must be an array of items")
        for j, item in enumerate(response):
            where = f"script {path}: responses[{i}][{j}]"
            if not isinstance(item, dict) or item.get("type") not in _ITEM_TYPES:
                raise _config_error(f"{where}: type must be one of {sorted(_ITEM_TYPES)}")
            kind = item["type"]
            if kind in ("text", "thinking") and not isinstance(item.get("text"), str):
                raise _config_error(f'{where}: "{kind}" needs a string "text"')
            if kind == "tool_call" and not (
                isinstance(item.get("name"), str) and isinstance(item.get("input", {}), dict)
            ):
                raise _config_error(f'{where}: "tool_call" needs "name" and an object "input"')
            delay = item.get("delayMs", 0)
            if not isinstance(delay, int | float) or delay < 0:
                raise _config_error(f'{where}: "delayMs" must be a non-negative number')
    return responses


def _config_error(message: str) -> ParleyError:
    return ParleyError(ErrorCode.PROVIDER_NOT_CONFIGURED, message)


def chunks(text: str) -> list[str]:
    """Split text the way streaming models do: short pieces, whitespace kept."""
    return _CHUNK.findall(text) or [text]


class ScriptedProvider(Provider):
    def __init__(self, config: ProviderConfig, script: list[list[dict[str, Any]]]) -> None:
        super().__init__(config)
        self._script = script
        self._next = 0

    @classmethod
    def from_config(cls, config: ProviderConfig) -> ScriptedProvider:
        path = config.options.get("script")
        if not path:
            raise ParleyError(
                ErrorCode.PROVIDER_NOT_CONFIGURED,
                "the scripted provider needs a script: set PARLEY_SCRIPT or pass --script PATH",
            )
        return cls(config, load_script(path))

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        if self._next >= len(self._script):
            raise ParleyError(
                ErrorCode.PROVIDER_ERROR,
                f"the script has no response left (it has {len(self._script)})",
            )
        response = self._script[self._next]
        self._next += 1
        blocks: list[Block] = []
        out_chars = 0
        for index, item in enumerate(response):
            if delay := item.get("delayMs"):
                await asyncio.sleep(delay / 1000)
            kind = item["type"]
            if kind == "error":
                code = ErrorCode(item.get("code", ErrorCode.PROVIDER_ERROR))
                raise ParleyError(
                    code,
                    item.get("message", "scripted error"),
                    recoverable=item.get("recoverable", True),
                )
            if kind == "tool_call":
                call_id = item.get("id") or f"call_{self._next}_{index}"
                blocks.append(ToolUseBlock(call_id, item["name"], dict(item.get("input", {}))))
                continue
            text = item["text"]
            out_chars += len(text)
            for piece in chunks(text):
                yield TextDelta(piece) if kind == "text" else ThinkingDelta(piece)
            blocks.append(
                TextBlock(text)
                if kind == "text"
                else ThinkingBlock(text, signature=item.get("signature"), provider=self.name)
            )
        stop: ModelStopReason = (
            "tool_use" if any(isinstance(b, ToolUseBlock) for b in blocks) else "end_turn"
        )
        in_chars = request_overhead_chars(request.system, request.tools) + sum(
            message_chars(m) for m in request.messages
        )
        usage = Usage(input_tokens=tokens(in_chars), output_tokens=tokens(out_chars))
        yield Completion(Message("assistant", tuple(blocks)), stop, usage)


def make_config(settings: Settings, name: str, model: str | None) -> ProviderConfig:
    """The model's name is the script's absolute path, so a stored session finds its script
    again when it is resumed without PARLEY_SCRIPT / --script; a script given now wins."""
    script = settings.script or model
    if model is None and settings.script:
        model = str(Path(settings.script).expanduser().resolve())
    return ProviderConfig(kind=name, model=model or "scripted", options={"script": script})


def create(config: ProviderConfig) -> Provider:
    return ScriptedProvider.from_config(config)
