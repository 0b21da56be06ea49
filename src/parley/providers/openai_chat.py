"""Chat Completions streaming, shared by OpenAI (`api = "chat"`), Azure OpenAI and any
OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama, gateways).

Chunks are accumulated with the SDK's ChatCompletionStreamState, which assembles tool calls from
their streamed fragments; usage comes from the last chunk (`stream_options.include_usage`).
Reasoning that compatible servers stream as `reasoning_content` or `reasoning` becomes thinking.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import openai
from openai.lib.streaming.chat import ChatCompletionStreamState

from parley.core.messages import (
    Block,
    ImageBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from parley.providers import faults, openai_errors, pricing
from parley.providers.base import (
    Completion,
    ModelRequest,
    ModelStopReason,
    ProviderConfig,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolSpec,
    Usage,
)
from parley.providers.sdk import SdkProvider

_STOP: dict[str, ModelStopReason] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
_REASONING_FIELDS = ("reasoning_content", "reasoning")


class ChatCompletionsProvider(SdkProvider[openai.AsyncOpenAI]):
    """`client` is built by the calling module (OpenAI, Azure or a compatible base URL);
    `token_limit` names the max-tokens parameter the server understands."""

    def __init__(
        self,
        config: ProviderConfig,
        client: openai.AsyncOpenAI,
        service: str,
        token_limit: str = "max_completion_tokens",
    ) -> None:
        super().__init__(config, client, service, openai_errors.fault)
        self._token_limit = token_limit

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model,
            "messages": chat_messages(request.system, request.messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            self._token_limit: request.max_tokens or self.config.max_tokens,
        }
        if request.tools:
            params["tools"] = _tools(request.tools)
        if effort := self.config.options.get("reasoning_effort"):
            params["reasoning_effort"] = effort
        return params

    async def _attempt(self, params: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]:
        state: ChatCompletionStreamState[None] = ChatCompletionStreamState()
        finish: str | None = None
        usage = Usage()
        thinking: list[str] = []
        stream = await self._client.chat.completions.create(**params)
        async with stream:
            with faults.mid_stream(self._service):
                async for chunk in stream:
                    # Azure's asynchronous content filter sends chunks of another kind.
                    if getattr(chunk, "object", "chat.completion.chunk") != "chat.completion.chunk":
                        continue
                    state.handle_chunk(chunk)
                    if chunk.usage is not None:
                        usage = _usage(chunk.usage)
                    for choice in chunk.choices:
                        if choice.index != 0:
                            continue
                        if reasoning := _reasoning(choice.delta):
                            thinking.append(reasoning)
                            yield ThinkingDelta(reasoning)
                        if text := choice.delta.content or choice.delta.refusal:
                            yield TextDelta(text)
                        finish = choice.finish_reason or finish
        if finish is None:
            raise faults.StreamIncomplete("the stream ended without a finish_reason")
        snapshot = state.current_completion_snapshot
        message = _message(snapshot.choices[0].message, "".join(thinking), self.name)
        prices = self.config.prices
        usage.cost_usd = pricing.cost(self.name, params["model"], usage, prices, snapshot.model)
        yield Completion(message, _stop(finish, message, snapshot.choices[0].message), usage)


def _message(reply: Any, thinking: str, provider: str) -> Message:
    blocks: list[Block] = [ThinkingBlock(thinking, provider=provider)] if thinking else []
    if text := reply.content or reply.refusal:
        blocks.append(TextBlock(text))
    for call in reply.tool_calls or []:
        arguments = tool_input(call.function.arguments)
        blocks.append(ToolUseBlock(call.id, call.function.name, arguments))
    return Message("assistant", tuple(blocks))


def _stop(finish: str, message: Message, reply: Any) -> ModelStopReason:
    if reply.refusal:
        return "refusal"
    stop = _STOP.get(finish, "end_turn")
    if stop == "end_turn" and message.tool_uses():
        return "tool_use"  # some servers say "stop" after tool calls
    return stop


def tool_input(arguments: str | None) -> dict[str, Any]:
    """The model's JSON arguments; text that is not a JSON object is handed on for the tool's
    validation to report, rather than ending the turn."""
    try:
        value = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return {"invalid_json_arguments": arguments}
    return value if isinstance(value, dict) else {"invalid_json_arguments": arguments}


def _reasoning(delta: Any) -> str:
    extra = delta.model_extra or {}
    for field in _REASONING_FIELDS:
        if isinstance(value := extra.get(field), str) and value:
            return value
    return ""


def _usage(raw: Any) -> Usage:
    details = getattr(raw, "prompt_tokens_details", None)
    return cached_usage(raw.prompt_tokens or 0, raw.completion_tokens or 0, details)


def cached_usage(input_tokens: int, output_tokens: int, details: Any) -> Usage:
    """OpenAI-style input counts include the cached and cache-written tokens; ours count them
    apart. `details` is the API's input-token details object, if any."""
    cached = (getattr(details, "cached_tokens", None) or 0) if details else 0
    written = (getattr(details, "cache_write_tokens", None) or 0) if details else 0
    return Usage(
        input_tokens=max(0, input_tokens - cached - written),
        output_tokens=output_tokens,
        cache_read_tokens=cached,
        cache_write_tokens=written,
    )


def _tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": t.name,
                "description": t.description,
                "parameters": t.input_schema,
            },
        }
        for t in tools
    ]


def tool_result_text(block: ToolResultBlock) -> str:
    """Chat-style APIs have no error flag on tool results; say it in the text."""
    return f"Error: {block.content}" if block.is_error else block.content


def image_url(block: ImageBlock) -> str:
    return f"data:{block.media_type};base64,{block.data}"


def chat_messages(system: str, messages: Sequence[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        if message.role == "assistant":
            out.extend(_assistant(message))
        else:
            out.extend(_user(message))
    return out


def _assistant(message: Message) -> list[dict[str, Any]]:
    # Thinking is dropped: OpenAI-style APIs do not take reasoning back.
    calls = [
        {
            "id": b.id,
            "type": "function",
            "function": {"name": b.name, "arguments": json.dumps(b.input)},
        }
        for b in message.tool_uses()
    ]
    entry: dict[str, Any] = {"role": "assistant", "content": message.text or None}
    if calls:
        entry["tool_calls"] = calls
    return [entry] if message.text or calls else []


def _user(message: Message) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"role": "tool", "tool_call_id": b.tool_use_id, "content": tool_result_text(b)}
        for b in message.content
        if isinstance(b, ToolResultBlock)
    ]
    parts: list[dict[str, Any]] = []
    for b in message.content:
        if isinstance(b, TextBlock) and b.text:
            parts.append({"type": "text", "text": b.text})
        elif isinstance(b, ImageBlock):
            parts.append({"type": "image_url", "image_url": {"url": image_url(b)}})
    if parts:
        plain = all(p["type"] == "text" for p in parts)
        content = "\n\n".join(p["text"] for p in parts) if plain else parts
        out.append({"role": "user", "content": content})
    return out
