"""OpenAI's Responses API, streamed through the official SDK's typed events.

The default for OpenAI's own models (see docs/providers.md): reasoning models stream a summary
of their reasoning (thinking), and their reasoning items go back on the next request, so the
model keeps its chain of thought across tool calls. Requests use `store: false`: the
conversation lives in Parley, so each reasoning item travels with its `encrypted_content`,
kept unchanged as the ThinkingBlock's opaque `signature`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import openai

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
from parley.providers.openai_chat import cached_usage, image_url, tool_input, tool_result_text
from parley.providers.sdk import SdkProvider

# Models that reason, and so take `reasoning` and return reasoning items; the "-chat" models
# of those families do not.
REASONING_PREFIXES = ("gpt-5", "gpt-6", "o1", "o3", "o4")


def is_reasoning_model(model: str) -> bool:
    return model.startswith(REASONING_PREFIXES) and "-chat" not in model


class ResponsesProvider(SdkProvider[openai.AsyncOpenAI]):
    def __init__(self, config: ProviderConfig, client: openai.AsyncOpenAI, service: str) -> None:
        super().__init__(config, client, service, openai_errors.fault)

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model,
            "input": input_items(request.messages, self.name),
            "stream": True,
            "store": False,
            "max_output_tokens": request.max_tokens or self.config.max_tokens,
        }
        if request.system:
            params["instructions"] = request.system
        if request.tools:
            params["tools"] = _tools(request.tools)
        reasoning = self.config.options.get("reasoning")
        if reasoning is None:
            reasoning = is_reasoning_model(request.model)
        if reasoning:
            params["reasoning"] = {"summary": self.config.options.get("reasoning_summary", "auto")}
            if effort := self.config.options.get("reasoning_effort"):
                params["reasoning"]["effort"] = effort
            params["include"] = ["reasoning.encrypted_content"]
        return params

    async def _attempt(self, params: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]:
        final: Any = None
        stream = await self._client.responses.create(**params)
        async with stream:
            with faults.mid_stream(self._service):
                async for event in stream:
                    kind = event.type
                    if kind in ("response.output_text.delta", "response.refusal.delta"):
                        yield TextDelta(event.delta)
                    elif kind in (
                        "response.reasoning_summary_text.delta",
                        "response.reasoning_text.delta",
                    ):
                        yield ThinkingDelta(event.delta)
                    elif kind == "response.reasoning_summary_part.added" and event.summary_index:
                        yield ThinkingDelta("\n\n")  # keep summary paragraphs apart
                    elif kind in ("response.completed", "response.incomplete"):
                        final = event.response
                    elif kind == "response.failed":
                        raise faults.FaultError(_response_fault(event.response))
                    elif kind == "error":
                        status = faults.stream_error_status(event.code)
                        raise faults.FaultError(faults.Fault(status, event.message, event.code))
        if final is None:
            raise faults.StreamIncomplete("the stream ended without response.completed")
        blocks = _blocks(final.output, self.name)
        usage = _usage(final.usage)
        prices = self.config.prices
        usage.cost_usd = pricing.cost(self.name, params["model"], usage, prices, final.model)
        yield Completion(Message("assistant", tuple(blocks)), _stop(final, blocks), usage)


def _response_fault(response: Any) -> faults.Fault:
    error = response.error
    code = error.code if error else None
    message = error.message if error else "the response failed"
    return faults.Fault(faults.stream_error_status(code), message, code)


def _stop(response: Any, blocks: Sequence[Block]) -> ModelStopReason:
    if any(isinstance(b, ToolUseBlock) for b in blocks):
        return "tool_use"
    if any(
        part.type == "refusal"
        for item in response.output
        if item.type == "message"
        for part in item.content
    ):
        return "refusal"
    reason = response.incomplete_details.reason if response.incomplete_details else None
    if reason == "max_output_tokens":
        return "max_tokens"
    if reason == "content_filter":
        return "refusal"
    return "end_turn"


def _blocks(output: Sequence[Any], provider: str) -> list[Block]:
    blocks: list[Block] = []
    for item in output:
        if item.type == "reasoning":
            parts = [s.text for s in item.summary] or [c.text for c in item.content or []]
            # The whole item, as returned, is what the next request needs back.
            signature = json.dumps(item.to_dict(), separators=(",", ":"))
            blocks.append(ThinkingBlock("\n\n".join(parts), signature=signature, provider=provider))
        elif item.type == "message":
            text = "".join(p.text if p.type == "output_text" else p.refusal for p in item.content)
            if text:
                blocks.append(TextBlock(text))
        elif item.type == "function_call":
            blocks.append(ToolUseBlock(item.call_id, item.name, tool_input(item.arguments)))
    return blocks


def _usage(raw: Any) -> Usage:
    if raw is None:
        return Usage()
    return cached_usage(raw.input_tokens, raw.output_tokens, raw.input_tokens_details)


def _tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "name": t.name,
            "description": t.description,
            "parameters": t.input_schema,
            "strict": False,
        }
        for t in tools
    ]


def input_items(messages: Sequence[Message], provider: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for message in messages:
        parts: list[dict[str, Any]] = []
        for block in message.content:
            if isinstance(block, TextBlock) and block.text:
                if message.role == "assistant":
                    items.append({"role": "assistant", "content": block.text})
                else:
                    parts.append({"type": "input_text", "text": block.text})
            elif isinstance(block, ToolResultBlock):
                items.append(
                    {
                        "type": "function_call_output",
                        "call_id": block.tool_use_id,
                        "output": tool_result_text(block),
                    }
                )
            elif isinstance(block, ToolUseBlock):
                items.append(
                    {
                        "type": "function_call",
                        "call_id": block.id,
                        "name": block.name,
                        "arguments": json.dumps(block.input),
                    }
                )
            elif isinstance(block, ThinkingBlock):
                if block.provider == provider and (item := _reasoning_item(block.signature)):
                    items.append(item)
            elif isinstance(block, ImageBlock):
                parts.append(
                    {"type": "input_image", "image_url": image_url(block), "detail": "auto"}
                )
        if parts:
            items.append({"role": "user", "content": parts})
    return items


def _reasoning_item(signature: str | None) -> dict[str, Any] | None:
    try:
        item = json.loads(signature or "")
    except json.JSONDecodeError:
        return None
    return item if isinstance(item, dict) and item.get("type") == "reasoning" else None
