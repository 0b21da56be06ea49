"""Whole turns through the engine with a real provider: what a host sees on the wire."""

from __future__ import annotations

from typing import Any

import pytest

from parley.core.messages import Message, TextBlock
from parley.engine.service import Service
from parley.protocol import types as wire
from parley.store.memory import MemoryStore
from tests.engine_turns import Events, submit
from tests.providers.conftest import settings_for
from tests.providers.fake_server import FakeServer, Reply
from tests.providers.wire import Anthropic, Responses, Text, Tokens, ToolCall


async def run_turn(kind: str, server: FakeServer, cwd: str, prompt: str) -> tuple[Any, ...]:
    """The result, the events a host saw, and the session (still loaded) the turn ran in."""
    recorder = Events()
    service = Service(settings_for(kind, server), MemoryStore())
    session_id = service.create_session(wire.SessionCreateParams(cwd=cwd, provider=kind)).session_id
    try:
        result, _ = await submit(service, session_id, prompt, events=recorder)
        session = service._session(session_id)
    finally:
        await service.shutdown()
    return result, recorder, session


async def test_a_tool_using_turn_reports_usage_with_cost_and_the_turn_totals(server, tmp_path):
    (tmp_path / "notes.txt").write_text("remember the milk\n")
    server.script(
        Reply(
            events=tuple(
                Anthropic.reply(
                    Text("Reading."),
                    ToolCall("toolu_1", "read_file", {"path": "notes.txt"}),
                    tokens=Tokens(input=1000, output=100),
                )
            )
        ),
        Reply(events=tuple(Anthropic.reply(Text("It says: milk."), tokens=Tokens(2000, 50)))),
    )

    result, recorder, _ = await run_turn("anthropic", server, str(tmp_path), "What's in notes?")

    assert result.stop_reason == "end_turn"
    assert result.reply == "Reading.\n\nIt says: milk."
    usages = recorder.of("usage")
    assert [(u["inputTokens"], u["outputTokens"]) for u in usages] == [(1000, 100), (2000, 50)]
    assert all(u["provider"] == "anthropic" and u["costUsd"] > 0 for u in usages)
    assert result.usage.input_tokens == 3000
    assert result.usage.output_tokens == 150
    assert result.usage.cost_usd == pytest.approx(sum(u["costUsd"] for u in usages))
    tool_result = server.requests[1].body["messages"][2]["content"][0]
    assert tool_result["tool_use_id"] == "toolu_1"
    assert "remember the milk" in tool_result["content"]


async def test_a_stream_broken_halfway_ends_the_turn_and_keeps_the_shown_text(server, tmp_path):
    events = Responses.reply(Text("The answer begins here and then the line goes dead."))
    server.script(Reply(events=tuple(events), cut_after=len(events) // 2))

    result, recorder, session = await run_turn("openai", server, str(tmp_path), "Explain.")

    assert result.stop_reason == "error"
    assert result.error.code == "provider_error"
    assert result.error.recoverable
    [error] = recorder.of("error")
    assert error["code"] == "provider_error"
    assert error["recoverable"] is True
    shown = "".join(d["text"] for d in recorder.of("result/delta"))
    assert shown
    assert result.reply == shown
    assert session.history[-1] == Message("assistant", (TextBlock(shown),))


async def test_a_retry_is_announced_as_progress(server, tmp_path):
    server.script(
        Reply(429, body=Anthropic.error("rate_limit_error", "slow"), headers={"retry-after": "0"}),
        Reply(events=tuple(Anthropic.reply(Text("Fine.")))),
    )

    result, recorder, _ = await run_turn("anthropic", server, str(tmp_path), "Hi")

    assert result.reply == "Fine."
    retrying = [p for p in recorder.of("progress") if p["stage"] == "retrying"]
    assert retrying
    assert retrying[0]["data"]["attempt"] == 1
    assert "rate limited (429)" in retrying[0]["message"]
