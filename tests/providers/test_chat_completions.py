"""Chat Completions providers (Azure OpenAI, openai-compatible, the ollama preset), through the
real SDK, against a server speaking Chat Completions chunks."""

from __future__ import annotations

import json

import pytest

from parley.core.messages import (
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    user_text,
)
from parley.providers.base import Completion, TextDelta, ThinkingDelta
from tests.providers.conftest import READ_FILE, SECRET, collect, request
from tests.providers.fake_server import Reply, sse
from tests.providers.wire import Chat, Text, Thinking, Tokens, ToolCall

CHAT_KINDS = ["azure-openai", "openai-compatible", "ollama"]


@pytest.mark.parametrize("kind", CHAT_KINDS)
async def test_text_streams_with_usage(server, open_provider, kind):
    tokens = Tokens(input=120, output=30, cache_read=64)
    server.script(Reply(events=tuple(Chat.reply(Text("Hello over chat."), tokens=tokens))))
    provider = open_provider(kind, "my-model")

    events = await collect(provider.stream(request("my-model")))

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello over chat."
    reply = events[-1]
    assert isinstance(reply, Completion)
    assert reply.message == Message("assistant", (TextBlock("Hello over chat."),))
    assert reply.stop_reason == "end_turn"
    usage = reply.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (120, 30, 64)
    body = server.requests[0].body
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
    ]
    assert body["stream_options"] == {"include_usage": True}


async def test_azure_uses_the_deployment_path_api_version_and_api_key_header(server, open_provider):
    server.script(Reply(events=tuple(Chat.reply(Text("ok")))))
    provider = open_provider("azure-openai", "prod-gpt4o")

    await collect(provider.stream(request("prod-gpt4o")))

    sent = server.requests[0]
    assert sent.path == "/openai/deployments/prod-gpt4o/chat/completions"
    assert sent.query["api-version"] == ["2024-10-21"]
    assert sent.headers["api-key"] == SECRET
    assert sent.body["max_completion_tokens"] == 8192


async def test_azure_content_filter_chunks_are_skipped(server, open_provider):
    prompt_filter = {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": [
            {"prompt_index": 0, "content_filter_results": {"hate": {"filtered": False}}}
        ],
    }
    server.script(Reply(events=(sse(None, prompt_filter), *Chat.reply(Text("Filtered fine.")))))
    provider = open_provider("azure-openai", "prod")

    events = await collect(provider.stream(request("prod")))

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Filtered fine."
    assert isinstance(events[-1], Completion)


async def test_azure_prices_deployments_from_the_price_overrides(server, open_provider):
    server.script(Reply(events=tuple(Chat.reply(Text("ok"), tokens=Tokens(1000, 100)))))
    prices = {"prod-gpt4o": {"input": 2.5, "output": 10.0}}
    provider = open_provider("azure-openai", "prod-gpt4o", prices=prices)

    reply = (await collect(provider.stream(request("prod-gpt4o"))))[-1]

    assert isinstance(reply, Completion)
    assert reply.usage.cost_usd == pytest.approx((1000 * 2.5 + 100 * 10.0) / 1e6)


async def test_azure_deployments_are_priced_by_the_model_the_api_reports(server, open_provider):
    # The chunks say "gpt-4o-2024-08-06": the model behind the deployment.
    server.script(Reply(events=tuple(Chat.reply(Text("ok"), tokens=Tokens(1000, 100)))))
    provider = open_provider("azure-openai", "prod-deployment")

    reply = (await collect(provider.stream(request("prod-deployment"))))[-1]

    assert isinstance(reply, Completion)
    assert reply.usage.cost_usd == pytest.approx((1000 * 2.5 + 100 * 10.0) / 1e6)


@pytest.mark.parametrize("kind", ["openai-compatible", "ollama"])
async def test_local_and_compatible_servers_are_not_priced_by_the_built_in_table(
    server, open_provider, kind
):
    server.script(Reply(events=tuple(Chat.reply(Text("ok"), tokens=Tokens(1000, 100)))))
    provider = open_provider(kind, "gpt-4o")

    reply = (await collect(provider.stream(request("gpt-4o"))))[-1]

    assert isinstance(reply, Completion)
    assert reply.usage.cost_usd is None


async def test_compatible_server_gets_max_tokens_and_its_key(server, open_provider):
    server.script(Reply(events=tuple(Chat.reply(Text("ok")))))
    provider = open_provider("openai-compatible", "qwen3-coder")

    await collect(provider.stream(request("qwen3-coder")))

    sent = server.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {SECRET}"
    assert sent.body["max_tokens"] == 8192
    assert "max_completion_tokens" not in sent.body


async def test_ollama_preset_adds_v1_to_ollama_host(server, open_provider):
    server.script(Reply(events=tuple(Chat.reply(Text("ok")))))
    provider = open_provider("ollama")

    await collect(provider.stream(request("llama3.2")))

    assert server.requests[0].path == "/v1/chat/completions"
    assert server.requests[0].body["model"] == "llama3.2"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_deltas_become_thinking_and_are_not_sent_back(server, open_provider, field):
    events = Chat.reply(Thinking("Check the units."), Text("42 m/s."))
    if field == "reasoning":
        events = [e.replace(b'"reasoning_content"', b'"reasoning"') for e in events]
    server.script(Reply(events=tuple(events)), Reply(events=tuple(Chat.reply(Text("ok")))))
    provider = open_provider("openai-compatible", "deepseek-r1")

    got = await collect(provider.stream(request("deepseek-r1")))

    assert "".join(e.text for e in got if isinstance(e, ThinkingDelta)) == "Check the units."
    assert "".join(e.text for e in got if isinstance(e, TextDelta)) == "42 m/s."
    reply = got[-1]
    assert isinstance(reply, Completion)
    assert reply.message.content == (
        ThinkingBlock("Check the units.", provider="openai-compatible"),
        TextBlock("42 m/s."),
    )
    await collect(
        provider.stream(request("deepseek-r1", user_text("Speed?"), reply.message, user_text("ok")))
    )
    assert server.requests[1].body["messages"][2] == {"role": "assistant", "content": "42 m/s."}


@pytest.mark.parametrize("kind", CHAT_KINDS)
async def test_tool_calls_are_assembled_from_fragments_and_results_go_back(
    server, open_provider, kind
):
    calls = (
        ToolCall("call_a", "read_file", {"path": "one.txt"}),
        ToolCall("call_b", "read_file", {"path": "two.txt"}),
    )
    server.script(
        Reply(events=tuple(Chat.reply(Text("Reading both."), *calls))),
        Reply(events=tuple(Chat.reply(Text("Both read.")))),
    )
    provider = open_provider(kind, "m")

    reply = (await collect(provider.stream(request("m", tools=(READ_FILE,)))))[-1]

    assert isinstance(reply, Completion)
    assert reply.stop_reason == "tool_use"
    assert reply.message.tool_uses() == [
        ToolUseBlock("call_a", "read_file", {"path": "one.txt"}),
        ToolUseBlock("call_b", "read_file", {"path": "two.txt"}),
    ]
    results = Message(
        "user",
        (ToolResultBlock("call_a", "first"), ToolResultBlock("call_b", "denied", is_error=True)),
    )
    await collect(provider.stream(request("m", user_text("Read"), reply.message, results)))

    messages = server.requests[1].body["messages"]
    assert messages[2] == {
        "role": "assistant",
        "content": "Reading both.",
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "read_file", "arguments": json.dumps({"path": "one.txt"})},
            },
            {
                "id": "call_b",
                "type": "function",
                "function": {"name": "read_file", "arguments": json.dumps({"path": "two.txt"})},
            },
        ],
    }
    assert messages[3:] == [
        {"role": "tool", "tool_call_id": "call_a", "content": "first"},
        {"role": "tool", "tool_call_id": "call_b", "content": "Error: denied"},
    ]
    assert server.requests[0].body["tools"][0]["function"]["name"] == "read_file"


async def test_arguments_that_are_not_json_reach_the_tool_as_such(server, open_provider):
    events = Chat.reply(ToolCall("call_x", "read_file", {"path": "a"}))
    fragment = {"tool_calls": [{"index": 0, "function": {"arguments": "{oops"}}]}
    choice = {"index": 0, "delta": fragment, "finish_reason": None}
    events.insert(-3, sse(None, {**Chat._head(), "choices": [choice]}))  # before finish
    server.script(Reply(events=tuple(events)))
    provider = open_provider("openai-compatible", "m")

    reply = (await collect(provider.stream(request("m", tools=(READ_FILE,)))))[-1]

    assert isinstance(reply, Completion)
    [use] = reply.message.tool_uses()
    assert use.input == {"invalid_json_arguments": '{"path": "a"}{oops'}


async def test_content_filter_ends_as_refusal(server, open_provider):
    server.script(Reply(events=tuple(Chat.reply(Text("I can't"), finish="content_filter"))))
    provider = open_provider("azure-openai", "prod")

    reply = (await collect(provider.stream(request("prod"))))[-1]

    assert isinstance(reply, Completion)
    assert reply.stop_reason == "refusal"
