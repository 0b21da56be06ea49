"""Each provider's real streaming wire format, as the fake server sends it.

Shapes follow the API references: Anthropic Messages streaming (message_start, content_block_*,
message_delta, message_stop), OpenAI Chat Completions chunks (tool calls in fragments, a final
usage chunk, `[DONE]`) and OpenAI Responses streaming events (sequence-numbered, ending with
response.completed). A reply is built from neutral parts: Text, Thinking, ToolCall.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from tests.providers.fake_server import pieces, sse


@attrs.frozen
class Text:
    text: str


@attrs.frozen
class Thinking:
    text: str
    signature: str = "sig-EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"


@attrs.frozen
class ToolCall:
    id: str
    name: str
    input: dict[str, Any]
    namespace: str | None = None  # Responses: a tool inside a `namespace` tool (Codex's MCP)


@attrs.frozen
class Tokens:
    input: int = 100
    output: int = 20
    cache_read: int = 0
    cache_write: int = 0


Part = Text | Thinking | ToolCall


class Anthropic:
    kind = "anthropic"

    @staticmethod
    def reply(
        *parts: Part,
        tokens: Tokens = Tokens(),
        stop: str | None = None,
        model: str = "claude-sonnet-5-5",
    ) -> list[bytes]:
        usage = {
            "input_tokens": tokens.input,
            "output_tokens": 1,
            "cache_creation_input_tokens": tokens.cache_write,
            "cache_read_input_tokens": tokens.cache_read,
        }
        message = {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        events = [
            sse("message_start", {"type": "message_start", "message": message}),
            sse("ping", {"type": "ping"}),
        ]
        for index, part in enumerate(parts):
            events += Anthropic._block(index, part)
        if stop is None:
            stop = "tool_use" if any(isinstance(p, ToolCall) for p in parts) else "end_turn"
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": tokens.output},
        }
        events.append(sse("message_delta", delta))
        events.append(sse("message_stop", {"type": "message_stop"}))
        return events

    @staticmethod
    def _block(index: int, part: Part) -> list[bytes]:
        def start(block: dict[str, Any]) -> bytes:
            return sse(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": block},
            )

        def delta(d: dict[str, Any]) -> bytes:
            return sse(
                "content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}
            )

        stop = sse("content_block_stop", {"type": "content_block_stop", "index": index})
        if isinstance(part, Text):
            body = [delta({"type": "text_delta", "text": p}) for p in pieces(part.text)]
            return [start({"type": "text", "text": ""}), *body, stop]
        if isinstance(part, Thinking):
            body = [delta({"type": "thinking_delta", "thinking": p}) for p in pieces(part.text)]
            signed = delta({"type": "signature_delta", "signature": part.signature})
            return [
                start({"type": "thinking", "thinking": "", "signature": ""}),
                *body,
                signed,
                stop,
            ]
        raw = json.dumps(part.input)
        body = [delta({"type": "input_json_delta", "partial_json": p}) for p in pieces(raw, 5)]
        block = {"type": "tool_use", "id": part.id, "name": part.name, "input": {}}
        return [start(block), delta({"type": "input_json_delta", "partial_json": ""}), *body, stop]

    @staticmethod
    def error(kind: str, message: str) -> dict[str, Any]:
        return {"type": "error", "error": {"type": kind, "message": message}}


class Chat:
    """Chat Completions chunks; thinking is streamed as `reasoning_content` (DeepSeek, vLLM)."""

    kind = "openai-compatible"

    @staticmethod
    def reply(*parts: Part, tokens: Tokens = Tokens(), finish: str | None = None) -> list[bytes]:
        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            return sse(None, {**Chat._head(), "choices": [choice]})

        events = [chunk({"role": "assistant", "content": "", "refusal": None})]
        calls = 0
        for part in parts:
            if isinstance(part, Text):
                events += [chunk({"content": p}) for p in pieces(part.text)]
            elif isinstance(part, Thinking):
                events += [chunk({"reasoning_content": p}) for p in pieces(part.text)]
            else:
                first = {
                    "index": calls,
                    "id": part.id,
                    "type": "function",
                    "function": {"name": part.name, "arguments": ""},
                }
                events.append(chunk({"tool_calls": [first]}))
                events += [
                    chunk({"tool_calls": [{"index": calls, "function": {"arguments": p}}]})
                    for p in pieces(json.dumps(part.input), 5)
                ]
                calls += 1
        events.append(chunk({}, finish or ("tool_calls" if calls else "stop")))
        usage = {
            "prompt_tokens": tokens.input + tokens.cache_read,
            "completion_tokens": tokens.output,
            "total_tokens": tokens.input + tokens.cache_read + tokens.output,
            "prompt_tokens_details": {"cached_tokens": tokens.cache_read},
        }
        events.append(sse(None, {**Chat._head(), "choices": [], "usage": usage}))
        events.append(sse(None, "[DONE]"))
        return events

    @staticmethod
    def _head() -> dict[str, Any]:
        return {
            "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
            "object": "chat.completion.chunk",
            "created": 1741569952,
            "model": "gpt-4o-2024-08-06",
            "system_fingerprint": "fp_eb9dce56a8",
            "usage": None,
        }

    @staticmethod
    def error(kind: str, message: str, code: str | None = None) -> dict[str, Any]:
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class Responses:
    kind = "openai"

    @staticmethod
    def reply(
        *parts: Part,
        tokens: Tokens = Tokens(),
        status: str = "completed",
        model: str = "gpt-6.1-sol",
    ) -> list[bytes]:
        seq = iter(range(10_000))
        events: list[bytes] = []

        def emit(kind: str, **data: Any) -> None:
            events.append(sse(kind, {"type": kind, "sequence_number": next(seq), **data}))

        emit("response.created", response=Responses._response("in_progress", [], model))
        emit("response.in_progress", response=Responses._response("in_progress", [], model))
        output: list[dict[str, Any]] = []
        for index, part in enumerate(parts):
            item = Responses._item(index, part, emit)
            output.append(item)
        usage = {
            "input_tokens": tokens.input + tokens.cache_read,
            "input_tokens_details": {"cached_tokens": tokens.cache_read, "cache_write_tokens": 0},
            "output_tokens": tokens.output,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": tokens.input + tokens.cache_read + tokens.output,
        }
        final = {**Responses._response(status, output, model), "usage": usage}
        if status == "incomplete":
            final["incomplete_details"] = {"reason": "max_output_tokens"}
        emit(f"response.{status}", response=final)
        return events

    @staticmethod
    def _item(index: int, part: Part, emit: Any) -> dict[str, Any]:
        if isinstance(part, Thinking):
            item_id = f"rs_{index:04d}"
            emit(
                "response.output_item.added",
                output_index=index,
                item={"id": item_id, "type": "reasoning", "summary": []},
            )
            at = {"item_id": item_id, "output_index": index, "summary_index": 0}
            emit(
                "response.reasoning_summary_part.added",
                **at,
                part={"type": "summary_text", "text": ""},
            )
            for p in pieces(part.text):
                emit("response.reasoning_summary_text.delta", **at, delta=p)
            emit("response.reasoning_summary_text.done", **at, text=part.text)
            emit(
                "response.reasoning_summary_part.done",
                **at,
                part={"type": "summary_text", "text": part.text},
            )
            item = {
                "id": item_id,
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": part.text}],
                "encrypted_content": f"gAAAAenc-{part.signature}",
            }
            emit("response.output_item.done", output_index=index, item=item)
            return item
        if isinstance(part, Text):
            item_id = f"msg_{index:04d}"
            added = {
                "id": item_id,
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            }
            emit("response.output_item.added", output_index=index, item=added)
            at = {"item_id": item_id, "output_index": index, "content_index": 0}
            empty = {"type": "output_text", "text": "", "annotations": []}
            emit("response.content_part.added", **at, part=empty)
            for p in pieces(part.text):
                emit("response.output_text.delta", **at, delta=p, logprobs=[])
            emit("response.output_text.done", **at, text=part.text, logprobs=[])
            full = {"type": "output_text", "text": part.text, "annotations": []}
            emit("response.content_part.done", **at, part=full)
            item = {**added, "status": "completed", "content": [full]}
            emit("response.output_item.done", output_index=index, item=item)
            return item
        item_id = f"fc_{index:04d}"
        args = json.dumps(part.input)
        added = {
            "id": item_id,
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": part.id,
            "name": part.name,
        }
        if part.namespace is not None:
            added["namespace"] = part.namespace
        emit("response.output_item.added", output_index=index, item=added)
        for p in pieces(args, 5):
            emit(
                "response.function_call_arguments.delta",
                item_id=item_id,
                output_index=index,
                delta=p,
            )
        emit(
            "response.function_call_arguments.done",
            item_id=item_id,
            output_index=index,
            arguments=args,
        )
        item = {**added, "status": "completed", "arguments": args}
        emit("response.output_item.done", output_index=index, item=item)
        return item

    @staticmethod
    def _response(status: str, output: list[dict[str, Any]], model: str) -> dict[str, Any]:
        return {
            "id": "resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41",
            "object": "response",
            "created_at": 1741476777,
            "status": status,
            "error": None,
            "incomplete_details": None,
            "instructions": None,
            "max_output_tokens": None,
            "model": model,
            "output": output,
            "parallel_tool_calls": True,
            "previous_response_id": None,
            "reasoning": {"effort": "medium", "summary": "auto"},
            "store": False,
            "temperature": 1.0,
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": None,
            "user": None,
            "metadata": {},
        }

    error = Chat.error
