"""The openai-compatible provider and the ollama preset against a real third-party server:
llama.cpp's own OpenAI-compatible server (the one the local provider runs), beside the fake
servers of test_chat_completions.py. What it checks is what the fakes cannot: that a real
server takes the requests Parley builds and that its real answers and errors map right."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import pytest

from parley.config import Settings
from parley.core.errors import ErrorCode, ParleyError
from parley.core.messages import Message, TextBlock, ToolResultBlock, ToolUseBlock, user_text
from parley.providers import llama_server, registry
from parley.providers.base import Completion, ModelRequest, Provider, TextDelta
from tests.providers.conftest import READ_FILE, collect
from tests.providers.test_local import LONG, busy_slots, text_of

KINDS = ["openai-compatible", "ollama"]


def compatible(kind: str, server: llama_server.LlamaServer) -> Provider:
    if kind == "ollama":
        settings = Settings(env={"OLLAMA_HOST": urlsplit(server.url).netloc}, max_retries=0)
    else:
        section = {"base_url": f"{server.url}/v1", "api_key": "not-checked"}
        settings = Settings(env={}, max_retries=0, providers={kind: section})
    return registry.create(registry.resolve(settings, kind, "smollm2"))


@pytest.fixture
async def open_compatible(llama):
    made: list[Provider] = []

    def make(kind: str) -> Provider:
        made.append(compatible(kind, llama))
        return made[-1]

    yield make
    for provider in made:
        await provider.aclose()


def ask(*messages: Message, max_tokens: int = 24, **fields: Any) -> ModelRequest:
    return ModelRequest("smollm2", "Be brief.", messages, max_tokens=max_tokens, **fields)


@pytest.mark.parametrize("kind", KINDS)
async def test_text_streams_from_a_real_server_with_usage(open_compatible, kind):
    provider = open_compatible(kind)

    events = await collect(provider.stream(ask(user_text("Name three colours."))))

    completion = events[-1]
    assert isinstance(completion, Completion)
    assert sum(isinstance(e, TextDelta) for e in events) > 1
    assert text_of(events) == completion.message.text != ""
    assert completion.stop_reason in ("end_turn", "max_tokens")
    assert completion.usage.input_tokens + completion.usage.cache_read_tokens > 5
    assert 0 < completion.usage.output_tokens <= 24
    assert completion.usage.cost_usd is None  # a server we cannot know the prices of


@pytest.mark.parametrize("kind", KINDS)
async def test_max_tokens_reaches_the_server_and_ends_as_max_tokens(open_compatible, kind):
    provider = open_compatible(kind)

    completion = (await collect(provider.stream(ask(user_text(LONG), max_tokens=4))))[-1]

    assert isinstance(completion, Completion)
    assert completion.usage.output_tokens == 4
    assert completion.stop_reason == "max_tokens"


@pytest.mark.parametrize("kind", KINDS)
async def test_tools_and_a_tool_exchange_in_the_history_are_accepted(open_compatible, kind):
    """The model's template has no tools, so llama.cpp answers in text; what matters is that a
    real server takes Parley's tool definitions, assistant tool calls and tool results."""
    provider = open_compatible(kind)
    history = (
        user_text("What is in notes.txt?"),
        Message(
            "assistant",
            (TextBlock("Reading it."), ToolUseBlock("call_1", "read_file", {"path": "notes.txt"})),
        ),
        Message("user", (ToolResultBlock("call_1", "Buy milk."),)),
    )

    completion = (await collect(provider.stream(ask(*history, tools=(READ_FILE,)))))[-1]

    assert isinstance(completion, Completion)
    assert completion.message.role == "assistant"
    assert completion.stop_reason in ("end_turn", "max_tokens", "tool_use")


async def test_a_prompt_beyond_the_context_window_is_context_window_exceeded(open_compatible):
    provider = open_compatible("openai-compatible")
    huge = " ".join(["word"] * 10_000)  # the model takes 8,192 tokens

    with pytest.raises(ParleyError) as caught:
        await collect(provider.stream(ask(user_text(huge))))

    assert caught.value.code == ErrorCode.CONTEXT_WINDOW_EXCEEDED


async def test_cancelling_closes_the_stream_and_the_server_stops_generating(open_compatible, llama):
    provider = open_compatible("openai-compatible")
    streaming = asyncio.Event()

    async def consume() -> None:
        async for event in provider.stream(ask(user_text(LONG), max_tokens=400)):
            if isinstance(event, TextDelta):
                streaming.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(streaming.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(200):
        if not busy_slots(llama):
            break
        await asyncio.sleep(0.05)
    assert busy_slots(llama) == 0
