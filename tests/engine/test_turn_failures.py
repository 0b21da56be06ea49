"""However a model call fails, the turn ends with exactly one terminal event and a result."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from parley.core.messages import Message, TextBlock, ToolUseBlock, user_text
from parley.engine.authorize import Authorizer
from parley.engine.permissions import NoApprovals
from parley.engine.profiles import BUILTIN_PROFILES
from parley.engine.session import Session
from parley.engine.turn import TRUNCATED_CALL, run_turn
from parley.protocol import types as wire
from parley.providers.base import (
    Completion,
    ModelRequest,
    Provider,
    ProviderConfig,
    StreamEvent,
    TextDelta,
    Usage,
)
from parley.store.memory import MemoryStore
from parley.store.records import SessionRecord
from parley.tools.registry import ToolRegistry


class BrokenProvider(Provider):
    """Streams a little, then fails the way a bug would (not a ParleyError)."""

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        yield TextDelta("partial ")
        raise RuntimeError("boom")


async def test_an_unexpected_provider_failure_ends_the_turn_with_one_internal_error(
    tmp_path: Path,
) -> None:
    store = MemoryStore()
    record = SessionRecord("s", str(tmp_path), "default", "broken", "m", "ask")
    store.create_session(record)
    events: list[tuple[int, Any]] = []
    session = Session(
        record,
        [],
        BUILTIN_PROFILES["default"],
        BrokenProvider(ProviderConfig("broken", "m")),
        ToolRegistry.builtin(),
        store,
        lambda sid, tid, seq, ev, params: events.append((seq, ev)),
        tool_timeout_s=5,
    )

    result = await run_turn(session, "t1", user_text("hi"), Authorizer(NoApprovals(), [], 1))

    terminal = [ev for _, ev in events if isinstance(ev, wire.ResultFinal | wire.TurnError)]
    assert terminal == [wire.TurnError("internal", "internal error: RuntimeError: boom", False)]
    assert result.stop_reason == "error"
    assert result.reply == "partial "
    assert session.history[-1].text == "partial "  # what the host saw stays in the session
    assert result.error is not None
    assert result.error.code == "internal"
    assert [seq for seq, _ in events] == list(range(1, len(events) + 1))
    assert [e.seq for e in store.events_after("s", 0)] == [seq for seq, _ in events]


class CutOffProvider(Provider):
    """First response: a complete call, then one cut off by the output limit; then done."""

    calls = 0

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        CutOffProvider.calls += 1
        if CutOffProvider.calls == 1:
            blocks = (
                ToolUseBlock("a", "read_file", {"path": "f.txt"}),
                ToolUseBlock("b", "read_file", {"path": "f.t"}),
            )
            yield Completion(Message("assistant", blocks), "max_tokens", Usage())
        else:
            yield Completion(Message("assistant", (TextBlock("ok"),)), "end_turn", Usage())


async def test_the_last_call_of_a_response_cut_off_at_max_tokens_is_not_run(
    tmp_path: Path,
) -> None:
    (tmp_path / "f.txt").write_text("content")
    store = MemoryStore()
    record = SessionRecord("s", str(tmp_path), "default", "cut", "m", "ask")
    store.create_session(record)
    events: list[Any] = []
    session = Session(
        record,
        [],
        BUILTIN_PROFILES["default"],
        CutOffProvider(ProviderConfig("cut", "m")),
        ToolRegistry.builtin(),
        store,
        lambda *a: events.append(a[3]),
        tool_timeout_s=5,
    )

    result = await run_turn(session, "t1", user_text("hi"), Authorizer(NoApprovals(), [], 1))

    done = {e.tool_call_id: e for e in events if isinstance(e, wire.ToolCompleted)}
    assert (done["a"].is_error, done["a"].output) == (False, "1\tcontent")
    assert (done["b"].is_error, done["b"].output) == (True, TRUNCATED_CALL)
    assert result.stop_reason == "end_turn"
