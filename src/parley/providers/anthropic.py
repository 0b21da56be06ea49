"""Anthropic's Messages API, streamed through the official SDK's stream helper.

Thinking blocks come back with their signatures and go out again unchanged on the next request
(the API verifies them); redacted thinking travels as its opaque `data`. The system prompt, the
tool definitions and the conversation so far are marked for prompt caching.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

import anthropic

from parley.config import ConfigError, Settings
from parley.core.messages import (
    Block,
    ImageBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from parley.providers import faults, pricing, registry, sdk
from parley.providers.base import (
    Completion,
    ModelRequest,
    ModelStopReason,
    Provider,
    ProviderConfig,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolSpec,
    Usage,
)
from parley.providers.sdk import SdkProvider

NAME = "anthropic"
_CACHE = {"type": "ephemeral"}
_THINKING = ("auto", "off", "adaptive")
_STOP: dict[str, ModelStopReason] = {
    "end_turn": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "max_tokens",
    "stop_sequence": "stop_sequence",
    "pause_turn": "pause_turn",
    "refusal": "refusal",
}


def make_config(settings: Settings, name: str, model: str | None) -> ProviderConfig:
    section = registry.section(settings, name)
    thinking = section.get("thinking", "auto")
    if thinking not in _THINKING:
        raise ConfigError(
            f"providers.{name}.thinking must be one of {', '.join(_THINKING)}; got {thinking!r}"
        )
    budget = section.get("thinking_budget")
    if budget is not None and budget < 1024:
        raise ConfigError(f"providers.{name}.thinking_budget must be at least 1024, got {budget}")
    display = section.get("thinking_display")
    if display not in (None, "summarized", "omitted"):
        raise ConfigError(f'providers.{name}.thinking_display must be "summarized" or "omitted"')
    return registry.common_config(
        settings,
        name,
        model,
        api_key=registry.setting(settings, name, "api_key", "ANTHROPIC_API_KEY"),
        base_url=registry.setting(settings, name, "base_url", "ANTHROPIC_BASE_URL"),
        key_hint=registry.key_hint(settings, name, "ANTHROPIC_API_KEY"),
        options={"thinking": thinking, "thinking_budget": budget, "thinking_display": display},
    )


def create(config: ProviderConfig) -> Provider:
    return AnthropicProvider(config)


class AnthropicProvider(SdkProvider[anthropic.AsyncAnthropic]):
    def __init__(self, config: ProviderConfig) -> None:
        client = anthropic.AsyncAnthropic(
            api_key=config.api_key,
            base_url=config.base_url,
            max_retries=0,
            timeout=sdk.timeout(config),
            http_client=anthropic.DefaultAsyncHttpxClient(verify=sdk.tls()),
        )
        super().__init__(config, client, "Anthropic", _fault)

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        max_tokens = request.max_tokens or self.config.max_tokens
        params: dict[str, Any] = {
            "model": request.model,
            "max_tokens": max_tokens,
            "messages": _messages(request.messages),
        }
        if request.system:
            params["system"] = [{"type": "text", "text": request.system, "cache_control": _CACHE}]
        if request.tools:
            params["tools"] = _tools(request.tools)
        thinking = self._thinking(request.thinking_budget)
        if thinking is not None:
            params["thinking"] = thinking
            if "budget_tokens" in thinking:  # thinking counts toward max_tokens
                params["max_tokens"] = max_tokens + thinking["budget_tokens"]
        return params

    def _thinking(self, budget: int | None) -> dict[str, Any] | None:
        """The `thinking` parameter; None leaves the model's default (adaptive on newer models).

        A budget (the request's, else thinking_budget) means extended thinking with that budget.
        """
        options = self.config.options
        budget = budget or options.get("thinking_budget")
        mode = options.get("thinking", "auto")
        if budget is not None:
            config: dict[str, Any] = {"type": "enabled", "budget_tokens": budget}
        elif mode == "adaptive":
            config = {"type": "adaptive"}
        elif mode == "off":
            return {"type": "disabled"}
        else:
            return None
        if display := options.get("thinking_display"):
            config["display"] = display
        return config

    async def _attempt(self, params: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]:
        complete = False
        async with self._client.messages.stream(**params) as stream:
            with faults.mid_stream(self._service):
                async for event in stream:
                    if event.type == "text":
                        yield TextDelta(event.text)
                    elif event.type == "thinking":
                        yield ThinkingDelta(event.thinking)
                    elif event.type == "message_stop":
                        complete = True
            if not complete:
                raise faults.StreamIncomplete("the stream ended without message_stop")
            final = stream.current_message_snapshot
        usage = Usage(
            input_tokens=final.usage.input_tokens,
            output_tokens=final.usage.output_tokens,
            cache_read_tokens=final.usage.cache_read_input_tokens or 0,
            cache_write_tokens=final.usage.cache_creation_input_tokens or 0,
        )
        prices = self.config.prices
        usage.cost_usd = pricing.cost(NAME, params["model"], usage, prices, final.model)
        message = Message("assistant", tuple(_from_api(final.content)))
        yield Completion(message, _STOP.get(final.stop_reason or "end_turn", "end_turn"), usage)


def _fault(exc: Exception) -> faults.Fault | None:
    if not isinstance(exc, anthropic.APIStatusError):
        return None
    status = exc.status_code
    if status < 400:  # an `error` event inside a stream that began with 200
        status = faults.stream_error_status(exc.type)
    return faults.Fault(status, exc.api_message or "", exc.type, exc.response.headers)


def _from_api(content: Sequence[Any]) -> list[Block]:
    blocks: list[Block] = []
    for block in content:
        if block.type == "text":
            blocks.append(TextBlock(block.text))
        elif block.type == "thinking":
            blocks.append(ThinkingBlock(block.thinking, signature=block.signature, provider=NAME))
        elif block.type == "redacted_thinking":
            blocks.append(ThinkingBlock("", redacted=block.data, provider=NAME))
        elif block.type == "tool_use":
            blocks.append(ToolUseBlock(block.id, block.name, dict(block.input or {})))
    return blocks


def _tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"name": t.name, "description": t.description, "input_schema": t.input_schema}
        for t in tools
    ]
    out[-1]["cache_control"] = _CACHE  # caches every tool definition before it too
    return out


def _messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"role": m.role, "content": content}
        for m in messages
        if (content := [b for b in map(_block, m.content) if b is not None])
    ]
    if out:
        # A breakpoint on the newest block caches the conversation for the next step.
        last = out[-1]["content"][-1]
        if last["type"] in ("text", "image", "tool_result"):
            last["cache_control"] = _CACHE
    return out


def _block(block: Block) -> dict[str, Any] | None:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text} if block.text else None
    if isinstance(block, ThinkingBlock):
        if block.provider != NAME:
            return None  # another provider's reasoning means nothing to Claude
        if block.redacted is not None:
            return {"type": "redacted_thinking", "data": block.redacted}
        if block.signature is None:
            return None
        return {"type": "thinking", "thinking": block.text, "signature": block.signature}
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    if isinstance(block, ToolResultBlock):
        return {
            "type": "tool_result",
            "tool_use_id": block.tool_use_id,
            "content": block.content,
            "is_error": block.is_error,
        }
    if isinstance(block, ImageBlock):
        source = {"type": "base64", "media_type": block.media_type, "data": block.data}
        return {"type": "image", "source": source}
    return None
