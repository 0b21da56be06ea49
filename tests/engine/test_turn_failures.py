"""However a model call fails, the turn ends with exactly one terminal event and a result."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from parley.core.messages import Message, TextBlock, ToolUseBlock, user_text
from parley.engine.approvals import Approvals
from parley.engine.authorize import Authorizer
from parley.engine.hub import Hub
from parley.engine.profiles import BUILTIN_PROFILES
from parley.engine.session import Session
from parley.engine.turn import TRUNCATED_CALL, run_turn
from parley.protocol import types as wire
from parley.protocol.codec import structure, unstructure
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
from parley.store.records import SessionRecord, StoredEvent
from parley.tools.registry import ToolRegistry


def nobody_to_ask() -> Authorizer:
    return Authorizer(Approvals(), lambda _: False, [], 1)


def published(hub: Hub, session_id: str) -> list[StoredEvent]:
    """What the session published, as stored (and so as every subscriber sees it)."""
    hub.flush()
    return list(hub.store.events_after(session_id, 0))


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
    hub = Hub(store)
    session = Session(
        record,
        [],
        BUILTIN_PROFILES["default"],
        BrokenProvider(ProviderConfig("broken", "m")),
        ToolRegistry.builtin(),
        store,
        hub,
        tool_timeout_s=5,
    )

    result = await run_turn(session, "t1", user_text("hi"), nobody_to_ask())

    events = published(hub, "s")
    terminal = [
        (e.method, e.params)
        for e in events
        if e.method in (wire.ResultFinal.method, wire.TurnError.method)
    ]
    error = wire.TurnError("internal", "internal error: RuntimeError: boom", False)
    assert terminal == [(error.method, unstructure(error))]
    assert result.stop_reason == "error"
    assert result.reply == "partial "
    assert session.history[-1].text == "partial "  # what the host saw stays in the session
    assert result.error is not None
    assert result.error.code == "internal"
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert record.last_seq == len(events)


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
    hub = Hub(store)
    session = Session(
        record,
        [],
        BUILTIN_PROFILES["default"],
        CutOffProvider(ProviderConfig("cut", "m")),
        ToolRegistry.builtin(),
        store,
        hub,
        tool_timeout_s=5,
    )

    result = await run_turn(session, "t1", user_text("hi"), nobody_to_ask())

    completed = [
        structure(e.params, wire.ToolCompleted)
        for e in published(hub, "s")
        if e.method == wire.ToolCompleted.method
    ]
    done = {e.tool_call_id: e for e in completed}
    assert (done["a"].is_error, done["a"].output) == (False, "1\tcontent")
    assert (done["b"].is_error, done["b"].output) == (True, TRUNCATED_CALL)
    assert result.stop_reason == "end_turn"
