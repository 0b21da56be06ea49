"""The event hub and the service, in-process on a real SQLite file: fan-out, replay-then-live,
slow subscribers, approvals answered by any door, turns started without waiting on them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from parley.core.errors import ErrorCode, ParleyError
from parley.engine.hub import STORE_BACKLOG_LIMIT, FellBehind, Subscription
from parley.engine.service import Service
from parley.protocol import types as wire
from parley.store.records import StoredEvent
from parley.store.sqlite import open_store
from tests.conftest import ScriptWriter
from tests.engine_turns import backlog_peak

WORDS = 1000  # the scripted provider streams one delta per word


def session(service: Service, tmp_path: Path, script_path: Path, mode: str = "ask") -> str:
    service.settings.script = str(script_path)
    return service.create_session(
        wire.SessionCreateParams(cwd=str(tmp_path), permission_mode=mode)  # type: ignore[arg-type]
    ).session_id


async def drain(sub: Subscription, session_id: str, until_seq: int) -> list[StoredEvent]:
    """Read a subscription until it has handed out `until_seq` of the session."""
    seen: list[StoredEvent] = []
    while not seen or seen[-1].seq < until_seq:
        batch = await asyncio.wait_for(sub.next_batch(), 10)
        seen += [e for sid, e in batch if sid == session_id]
    return seen


async def test_two_subscribers_on_one_session_see_identical_sequences(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    sid = session(service, tmp_path, write_script([{"type": "text", "text": "w " * WORDS}]))
    first, second = service.subscribe(), service.subscribe()
    first.add(sid)
    second.add(sid)

    handle = await service.start_turn(sid, "go")
    result = await handle

    assert result.stop_reason == "end_turn"
    a = await drain(first, sid, handle.final_seq)
    b = await drain(second, sid, handle.final_seq)
    assert [e.seq for e in a] == list(range(1, handle.final_seq + 1))
    assert a == b
    assert sum(e.method == "result/delta" for e in a) >= WORDS


async def test_a_subscriber_that_stops_reading_is_dropped_and_never_delays_another(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    sid = session(service, tmp_path, write_script([{"type": "text", "text": "w " * WORDS}]))
    stalled = service.subscribe(limit=50)
    reader = service.subscribe()
    stalled.add(sid)
    reader.add(sid)

    handle = await service.start_turn(sid, "go")
    result = await asyncio.wait_for(handle, 10)
    events = await drain(reader, sid, handle.final_seq)

    assert result.stop_reason == "end_turn"
    assert [e.seq for e in events] == list(range(1, handle.final_seq + 1))
    # The stalled one held at most its limit, then was told where it stopped.
    handed: list[StoredEvent] = []
    behind: FellBehind | None = None
    while behind is None:
        try:
            handed += [e for _, e in await stalled.next_batch()]
        except FellBehind as exc:
            behind = exc
    assert len(handed) == 50
    assert behind.cursors == {sid: handed[-1].seq}
    # Following again from there replays exactly what it missed, from the store.
    again = service.subscribe()
    again.add(sid, behind.cursors[sid])
    rest = await drain(again, sid, handle.final_seq)
    assert [e.seq for e in handed + rest] == list(range(1, handle.final_seq + 1))


async def test_replay_hands_over_to_live_events_mid_turn_with_no_gap_or_duplicate(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    slow = [{"type": "text", "text": f"w{i} ", "delayMs": 2} for i in range(200)]
    sid = session(service, tmp_path, write_script(slow))
    handle = await service.start_turn(sid, "go")
    while service.hub.committed_seq(sid) < 50:  # well into the turn
        await asyncio.sleep(0.005)

    late = service.subscribe()
    late.add(sid, after_seq=0)
    await handle
    seen = await drain(late, sid, handle.final_seq)

    assert [e.seq for e in seen] == list(range(1, handle.final_seq + 1))
    assert seen[-1].method == "result/final"


async def test_an_approval_is_answered_by_a_second_door_and_the_first_answer_wins(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    call = {"type": "tool_call", "name": "write_file", "input": {"path": "a.txt", "content": "hi"}}
    sid = session(service, tmp_path, write_script([call], [{"type": "text", "text": "ok"}]))
    asker, viewer = (service.subscribe(answers_approvals=True), service.subscribe())
    asker.add(sid)
    viewer.add(sid)

    handle = await service.start_turn(sid, "go")
    requested: StoredEvent | None = None
    while requested is None:
        batch = await asyncio.wait_for(viewer.next_batch(), 10)
        requested = next((e for _, e in batch if e.method == "approval/requested"), None)
    approval_id = requested.params["approvalId"]
    assert [q.approval_id for q in service.pending_approvals(sid)] == [approval_id]

    service.answer_approval(approval_id, "allow_once")  # the viewer's door answers
    with pytest.raises(ParleyError) as late:  # the asker's answer comes second
        service.answer_approval(approval_id, "reject_once")
    result = await handle

    assert late.value.code == ErrorCode.APPROVAL_NOT_FOUND
    assert result.stop_reason == "end_turn"
    assert (tmp_path / "a.txt").read_text() == "hi"
    resolved = [
        e.params
        for e in await drain(asker, sid, handle.final_seq)
        if e.method == "approval/resolved"
    ]
    assert resolved == [{"approvalId": approval_id, "decision": "allow_once"}]
    assert service.pending_approvals(sid) == []


async def test_nobody_to_ask_means_the_question_is_never_opened(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    call = {"type": "tool_call", "name": "write_file", "input": {"path": "a.txt", "content": "hi"}}
    sid = session(service, tmp_path, write_script([call], [{"type": "text", "text": "ok"}]))
    viewer = service.subscribe()  # follows, but cannot answer
    viewer.add(sid)

    handle = await service.start_turn(sid, "go")
    await handle

    assert handle.unasked == ["write_file"]
    seen = await drain(viewer, sid, handle.final_seq)
    assert "approval/requested" not in [e.method for e in seen]
    assert not (tmp_path / "a.txt").exists()


async def test_cancel_then_start_at_once_waits_for_the_cancellation_instead_of_busy(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    slow = [{"type": "text", "text": "slow", "delayMs": 5000}]
    sid = session(service, tmp_path, write_script(slow, slow))
    first = await service.start_turn(sid, "one")

    assert service.cancel_turn(sid)
    second = await service.start_turn(sid, "two")

    assert (await first).stop_reason == "cancelled"
    assert second.turn_id != first.turn_id
    assert service.running_turn(sid) is second
    second.cancel()
    assert (await second).stop_reason == "cancelled"


async def test_a_turn_id_already_used_attaches_or_answers_from_the_store(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    slow = [{"type": "text", "text": "hello", "delayMs": 100}]
    sid = session(service, tmp_path, write_script(slow))
    handle = await service.start_turn(sid, "go", "turn-1")

    assert await service.start_turn(sid, "go", "turn-1") is handle
    result = await handle
    again = await service.start_turn(sid, "go", "turn-1")
    assert again.done()
    assert await again == result


async def test_session_reads_the_store_so_turns_of_another_process_show(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    sid = session(service, tmp_path, write_script([{"type": "text", "text": "hi"}]))
    before = service.session_info(sid)
    other = Service(service.settings, open_store(tmp_path / "data"))  # another process's view
    try:
        await (await other.start_turn(sid, "go"))
    finally:
        await other.shutdown()
        other.store.close()

    after = service.session_info(sid)
    assert (before.turn_count, before.last_seq) == (0, 0)
    assert after.turn_count == 1
    assert after.last_seq > 0
    assert len(service.session_detail(sid).messages) == 2


async def test_session_get_pages_messages_oldest_first(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    reply = [{"type": "text", "text": "hi"}]
    sid = session(service, tmp_path, write_script(reply, reply, reply))
    for _ in range(3):
        await (await service.start_turn(sid, "go"))

    first = service.session_detail(sid, limit=4)
    rest = service.session_detail(sid, limit=4, cursor=first.next_cursor)

    assert len(first.messages) == 4
    assert first.next_cursor == "4"
    assert len(rest.messages) == 2
    assert rest.next_cursor is None
    assert [m.role for m in first.messages + rest.messages] == ["user", "assistant"] * 3
    with pytest.raises(ParleyError) as bad:
        service.session_detail(sid, cursor="x")
    assert bad.value.code == ErrorCode.INVALID_PARAMS


async def test_a_turn_s_result_comes_only_once_its_events_are_durable(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    sid = session(service, tmp_path, write_script([{"type": "text", "text": "w " * WORDS}]))
    handle = await service.start_turn(sid, "go")
    await handle
    # Another connection sees what a host may now rely on: every event, and the turn's end.
    other = open_store(tmp_path / "data")
    try:
        assert [e.seq for e in other.events_after(sid, 0)] == list(range(1, handle.final_seq + 1))
        turn = other.load_turn(sid, handle.turn_id)
        assert turn is not None
        assert turn.status == "completed"
    finally:
        other.close()


async def test_a_model_faster_than_the_store_waits_for_it_instead_of_filling_memory(
    service: Service, tmp_path: Path, write_script: ScriptWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = 3 * STORE_BACKLOG_LIMIT
    sid = session(service, tmp_path, write_script([{"type": "text", "text": "w " * words}]))

    async def turn() -> wire.TurnResult:
        return await (await service.start_turn(sid, "go"))

    result, peak = await backlog_peak(service, monkeypatch, turn)
    assert result.stop_reason == "end_turn"
    assert STORE_BACKLOG_LIMIT <= peak < STORE_BACKLOG_LIMIT + 100


async def test_events_go_to_an_idle_store_writer_at_once_and_wait_for_a_busy_one(
    service: Service, tmp_path: Path, write_script: ScriptWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy loop's turn takes a millisecond or more: an event the store's writer could take
    now is not held until its end; one published while the writer is busy joins the next batch."""
    sid = session(service, tmp_path, write_script([{"type": "text", "text": "hi"}]))
    hub, store = service.hub, service.store
    hub.publish(sid, StoredEvent(1, "t1", "progress", json="{}"))
    await hub.drain()
    for _ in range(500):  # the writer thread says it waits for work
        if store.takes_events_now():
            break
        await asyncio.sleep(0.01)
    batches: list[int] = []
    write = store.write_events
    monkeypatch.setattr(
        store, "write_events", lambda batch, done: (batches.append(len(batch)), write(batch, done))
    )
    store._begin()  # type: ignore[attr-defined]  # holds the writer at its next batch
    hub.publish(sid, StoredEvent(2, "t1", "progress", json="{}"))
    assert batches == [1]  # handed over at once
    hub.publish(sid, StoredEvent(3, "t1", "progress", json="{}"))
    hub.publish(sid, StoredEvent(4, "t1", "progress", json="{}"))
    assert batches == [1]
    await asyncio.sleep(0)
    assert batches == [1, 2]  # together, at the end of the loop's turn
    store._end()  # type: ignore[attr-defined]
    await asyncio.wait_for(hub.drain(), 10)
    assert [e.seq for e in store.events_after(sid, 0)] == [1, 2, 3, 4]
