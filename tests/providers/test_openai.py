"""The openai provider: the Responses API by default, Chat Completions with `api = "chat"`."""

from __future__ import annotations

import json

import pytest

from parley.core.messages import (
    ImageBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    user_text,
)
from parley.providers.base import Completion, TextDelta, ThinkingDelta
from tests.providers.conftest import READ_FILE, SECRET, collect, request
from tests.providers.fake_server import Reply
from tests.providers.wire import Chat, Responses, Text, Thinking, Tokens, ToolCall

MODEL = "gpt-6.1-sol"


async def test_text_streams_with_usage_and_cost(server, open_provider):
    tokens = Tokens(input=2000, output=300, cache_read=6000)
    server.script(Reply(events=tuple(Responses.reply(Text("Hello from GPT."), tokens=tokens))))
    provider = open_provider("openai")

    events = await collect(provider.stream(request(MODEL)))

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello from GPT."
    reply = events[-1]
    assert isinstance(reply, Completion)
    assert reply.message == Message("assistant", (TextBlock("Hello from GPT."),))
    assert reply.stop_reason == "end_turn"
    # input_tokens on the wire (8000) include the 6000 cached ones; ours count them apart.
    usage = reply.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (2000, 300, 6000)
    assert usage.cost_usd == pytest.approx((2000 * 2.0 + 300 * 10.0 + 6000 * 0.10) / 1e6)

    sent = server.requests[0]
    assert sent.path == "/v1/responses"
    assert sent.headers["authorization"] == f"Bearer {SECRET}"
    assert sent.body["store"] is False
    assert sent.body["stream"] is True
    assert sent.body["instructions"] == "Be brief."
    assert sent.body["input"] == [
        {"role": "user", "content": [{"type": "input_text", "text": "Hello"}]}
    ]


async def test_reasoning_summary_streams_as_thinking_and_the_item_goes_back_unchanged(
    server, open_provider
):
    first = Responses.reply(
        Thinking("Need to read the file first.", "sig-1"),
        ToolCall("call_9Xk", "read_file", {"path": "README.md"}),
    )
    server.script(Reply(events=tuple(first)), Reply(events=tuple(Responses.reply(Text("Read.")))))
    provider = open_provider("openai")

    events = await collect(provider.stream(request(MODEL, tools=(READ_FILE,))))

    thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    assert thinking == "Need to read the file first."
    reply = events[-1]
    assert isinstance(reply, Completion)
    assert reply.stop_reason == "tool_use"
    block = reply.message.content[0]
    assert isinstance(block, ThinkingBlock)
    assert block.text == thinking
    body = server.requests[0].body
    assert body["reasoning"] == {"summary": "auto"}
    assert body["include"] == ["reasoning.encrypted_content"]

    results = Message("user", (ToolResultBlock("call_9Xk", "# Parley"),))
    await collect(provider.stream(request(MODEL, user_text("Summarise"), reply.message, results)))

    sent = server.requests[1].body["input"]
    assert sent[1] == {
        "id": "rs_0000",
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "Need to read the file first."}],
        "encrypted_content": "gAAAAenc-sig-1",
    }
    assert sent[2] == {
        "type": "function_call",
        "call_id": "call_9Xk",
        "name": "read_file",
        "arguments": json.dumps({"path": "README.md"}),
    }
    assert sent[3] == {"type": "function_call_output", "call_id": "call_9Xk", "output": "# Parley"}


async def test_tool_arguments_are_assembled_from_deltas(server, open_provider):
    call = ToolCall("call_1", "read_file", {"path": "a/b.txt", "offset": 10})
    server.script(Reply(events=tuple(Responses.reply(call))))
    provider = open_provider("openai")

    reply = (await collect(provider.stream(request(MODEL, tools=(READ_FILE,)))))[-1]

    assert isinstance(reply, Completion)
    assert reply.message.tool_uses() == [
        ToolUseBlock("call_1", "read_file", {"path": "a/b.txt", "offset": 10})
    ]
    assert server.requests[0].body["tools"] == [
        {
            "type": "function",
            "name": "read_file",
            "description": "Read a text file.",
            "parameters": READ_FILE.input_schema,
            "strict": False,
        }
    ]


async def test_models_that_do_not_reason_get_no_reasoning_parameters(server, open_provider):
    server.script(Reply(events=tuple(Responses.reply(Text("ok")))))
    provider = open_provider("openai", "gpt-4.1")

    await collect(provider.stream(request("gpt-4.1")))

    assert "reasoning" not in server.requests[0].body
    assert "include" not in server.requests[0].body


async def test_an_incomplete_response_ends_with_max_tokens(server, open_provider):
    server.script(Reply(events=tuple(Responses.reply(Text("Cut"), status="incomplete"))))
    provider = open_provider("openai")

    reply = (await collect(provider.stream(request(MODEL))))[-1]

    assert isinstance(reply, Completion)
    assert reply.stop_reason == "max_tokens"


async def test_images_and_errors_in_tool_results_are_sent_as_input_items(server, open_provider):
    server.script(Reply(events=tuple(Responses.reply(Text("A cat.")))))
    provider = open_provider("openai")
    prompt = Message("user", (TextBlock("What is this?"), ImageBlock("image/png", "iVBORw0KGgo=")))

    await collect(provider.stream(request(MODEL, prompt)))

    assert server.requests[0].body["input"][0]["content"] == [
        {"type": "input_text", "text": "What is this?"},
        {
            "type": "input_image",
            "image_url": "data:image/png;base64,iVBORw0KGgo=",
            "detail": "auto",
        },
    ]


async def test_chat_completions_api_when_configured(server, open_provider):
    server.script(Reply(events=tuple(Chat.reply(Text("Via chat.")))))
    provider = open_provider("openai", providers={"openai": {"api": "chat"}})

    events = await collect(provider.stream(request(MODEL)))

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Via chat."
    sent = server.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["max_completion_tokens"] == 8192
