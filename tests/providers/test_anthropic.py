"""The anthropic provider, through the real SDK, against a server speaking Messages SSE."""

from __future__ import annotations

import attrs
import pytest

from parley.core.messages import (
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    user_text,
)
from parley.providers.base import Completion, Retrying, TextDelta, ThinkingDelta
from tests.providers.conftest import READ_FILE, SECRET, collect, request
from tests.providers.fake_server import Reply, sse
from tests.providers.wire import Anthropic, Text, Thinking, Tokens, ToolCall

MODEL = "claude-sonnet-5-5"


async def test_text_streams_as_deltas_with_usage_and_cost(server, open_provider):
    tokens = Tokens(input=1000, output=200, cache_read=4000, cache_write=500)
    server.script(Reply(events=tuple(Anthropic.reply(Text("Hello from Claude."), tokens=tokens))))
    provider = open_provider("anthropic")

    events = await collect(provider.stream(request(MODEL)))

    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 1
    assert "".join(deltas) == "Hello from Claude."
    completion = events[-1]
    assert isinstance(completion, Completion)
    assert completion.message == Message("assistant", (TextBlock("Hello from Claude."),))
    assert completion.stop_reason == "end_turn"
    usage = completion.usage
    assert (usage.input_tokens, usage.output_tokens) == (1000, 200)
    assert (usage.cache_read_tokens, usage.cache_write_tokens) == (4000, 500)
    # claude-sonnet-5-5: $2 in, $10 out, $0.10 cache read, $2.50 cache write per MTok.
    assert usage.cost_usd == pytest.approx((1000 * 2 + 200 * 10 + 4000 * 0.10 + 500 * 2.5) / 1e6)


async def test_request_carries_key_model_and_cache_breakpoints(server, open_provider):
    server.script(Reply(events=tuple(Anthropic.reply(Text("ok")))))
    provider = open_provider("anthropic")

    await collect(provider.stream(request(MODEL, tools=(READ_FILE,), system="You are Parley.")))

    sent = server.requests[0]
    assert sent.path == "/v1/messages"
    assert SECRET in (sent.headers.get("x-api-key", "") + sent.headers.get("authorization", ""))
    body = sent.body
    assert body["model"] == MODEL
    assert body["stream"] is True
    assert body["system"] == [
        {"type": "text", "text": "You are Parley.", "cache_control": {"type": "ephemeral"}}
    ]
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "thinking" not in body  # "auto": the model's own default


async def test_thinking_streams_and_goes_back_with_its_signature_unchanged(server, open_provider):
    signature = "EqoBCkgIARABGAIiQL2UoU0b1OHYi+signature/with+odd=chars"
    first = Anthropic.reply(
        Thinking("The user wants a file read.", signature),
        ToolCall("toolu_01A", "read_file", {"path": "notes.txt"}),
    )
    server.script(Reply(events=tuple(first)), Reply(events=tuple(Anthropic.reply(Text("Done.")))))
    provider = open_provider("anthropic", providers={"anthropic": {"thinking": "adaptive"}})

    events = await collect(provider.stream(request(MODEL, tools=(READ_FILE,))))

    thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    assert thinking == "The user wants a file read."
    reply = events[-1]
    assert isinstance(reply, Completion)
    assert reply.message.content[0] == ThinkingBlock(
        "The user wants a file read.", signature=signature, provider="anthropic"
    )
    assert server.requests[0].body["thinking"] == {"type": "adaptive"}

    results = Message("user", (ToolResultBlock("toolu_01A", "hello"),))
    await collect(provider.stream(request(MODEL, user_text("Read notes"), reply.message, results)))

    assistant = server.requests[1].body["messages"][1]
    assert assistant["content"][0] == {
        "type": "thinking",
        "thinking": "The user wants a file read.",
        "signature": signature,
    }


async def test_redacted_thinking_travels_back_as_its_data(server, open_provider):
    events = Anthropic.reply(Text("Hi."))
    start = sse(
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
        },
    )
    stop = sse("content_block_stop", {"type": "content_block_stop", "index": 0})
    renumbered = [e.replace(b'"index": 0', b'"index": 1') for e in events[2:]]
    server.script(
        Reply(events=(*events[:2], start, stop, *renumbered)),
        Reply(events=tuple(Anthropic.reply(Text("Again.")))),
    )
    provider = open_provider("anthropic")

    reply = (await collect(provider.stream(request(MODEL))))[-1]
    assert isinstance(reply, Completion)
    await collect(
        provider.stream(request(MODEL, user_text("Hello"), reply.message, user_text("More")))
    )

    assert server.requests[1].body["messages"][1]["content"][0] == {
        "type": "redacted_thinking",
        "data": "EmwKAhgBEgy3va3pzix/LafPsn4a",
    }


async def test_tool_input_is_assembled_from_json_deltas_and_result_goes_back(server, open_provider):
    call = ToolCall("toolu_01B", "read_file", {"path": "src/app.py", "limit": 40})
    server.script(
        Reply(events=tuple(Anthropic.reply(Text("Let me look."), call))),
        Reply(events=tuple(Anthropic.reply(Text("It defines main().")))),
    )
    provider = open_provider("anthropic")

    reply = (await collect(provider.stream(request(MODEL, tools=(READ_FILE,)))))[-1]

    assert isinstance(reply, Completion)
    assert reply.stop_reason == "tool_use"
    assert reply.message.tool_uses() == [
        ToolUseBlock("toolu_01B", "read_file", {"path": "src/app.py", "limit": 40})
    ]
    results = Message("user", (ToolResultBlock("toolu_01B", "no such file", is_error=True),))
    follow_up = request(MODEL, user_text("What is in app.py?"), reply.message, results)
    await collect(provider.stream(follow_up))

    messages = server.requests[1].body["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Let me look."},
            {
                "type": "tool_use",
                "id": "toolu_01B",
                "name": "read_file",
                "input": {"path": "src/app.py", "limit": 40},
            },
        ],
    }
    assert messages[2]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "toolu_01B",
        "content": "no such file",
        "is_error": True,
        "cache_control": {"type": "ephemeral"},
    }


@pytest.mark.parametrize(
    ("api_stop", "ours"),
    [
        ("refusal", "refusal"),
        ("max_tokens", "max_tokens"),
        ("model_context_window_exceeded", "max_tokens"),
        ("pause_turn", "pause_turn"),
        ("stop_sequence", "stop_sequence"),
    ],
)
async def test_stop_reasons_map_to_ours(server, open_provider, api_stop, ours):
    server.script(Reply(events=tuple(Anthropic.reply(Text("..."), stop=api_stop))))
    provider = open_provider("anthropic")

    reply = (await collect(provider.stream(request(MODEL))))[-1]

    assert isinstance(reply, Completion)
    assert reply.stop_reason == ours


async def test_thinking_budget_enables_extended_thinking_and_widens_max_tokens(
    server, open_provider
):
    server.script(Reply(events=tuple(Anthropic.reply(Text("ok")))))
    provider = open_provider(
        "anthropic",
        "claude-haiku-4-5",
        providers={"anthropic": {"thinking_budget": 4096, "thinking_display": "summarized"}},
    )

    await collect(provider.stream(request("claude-haiku-4-5")))

    body = server.requests[0].body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 4096, "display": "summarized"}
    assert body["max_tokens"] == 8192 + 4096


async def test_overloaded_error_event_before_any_output_is_retried(server, open_provider):
    overloaded = sse("error", Anthropic.error("overloaded_error", "Overloaded"))
    broken = [*Anthropic.reply(Text("never shown"))[:2], overloaded]
    server.script(Reply(events=tuple(broken)), Reply(events=tuple(Anthropic.reply(Text("Hi.")))))
    provider = open_provider("anthropic")

    events = await collect(provider.stream(request(MODEL)))

    assert events[0] == Retrying(1, events[0].delay_s, "overloaded (529)")
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hi."
    assert len(server.requests) == 2


async def test_max_tokens_from_the_provider_section_applies_unless_the_request_sets_it(
    server, open_provider
):
    server.script(*(Reply(events=tuple(Anthropic.reply(Text("ok")))) for _ in range(2)))
    provider = open_provider("anthropic", providers={"anthropic": {"max_tokens": 32000}})

    await collect(provider.stream(request(MODEL)))
    await collect(provider.stream(attrs.evolve(request(MODEL), max_tokens=500)))

    assert [r.body["max_tokens"] for r in server.requests] == [32000, 500]
