"""A stream whose client reads slower than events come ends with `reconnect`, naming the seq
to resume after; resuming from it loses and repeats nothing."""

from __future__ import annotations

import asyncio

from parley.client.sse import read_events
from parley.doors.http.sse import Streams
from parley.engine.hub import Hub
from parley.store.memory import MemoryStore
from parley.store.records import SessionRecord, StoredEvent


async def _frames(stream: object) -> list[str]:
    lines: list[str] = []
    async for chunk in stream:  # type: ignore[attr-defined]
        lines += chunk.decode().split("\n")
    return lines


async def _lines(items: list[str]) -> object:
    for item in items:
        yield item


async def test_slow_stream_ends_with_reconnect_and_resumes_exactly() -> None:
    store = MemoryStore()
    store.create_session(SessionRecord("s1", "/", "default", "scripted", "scripted", "ask"))
    hub = Hub(store)
    streams = Streams()
    slow = hub.subscribe(limit=4)
    slow.add("s1")
    for seq in range(1, 21):
        hub.publish("s1", StoredEvent(seq, "t1", "result/delta", {"text": f"{seq} "}))
    await asyncio.sleep(0)  # the hub commits, then offers: the slow queue overflows
    lines = await _frames(streams.session_stream(slow, "s1"))
    got = [e async for e in read_events(_lines(lines))]  # type: ignore[arg-type]
    assert got[0].event == "open"
    assert got[-1].event == "reconnect"
    after = got[-1].json()["after"]
    delivered = [int(e.id) for e in got[1:-1] if e.id is not None]
    assert delivered == list(range(1, after + 1))

    resumed = hub.subscribe()
    resumed.add("s1", after)
    streams.close_all()  # ends the resumed stream once it has replayed what is stored
    lines = await _frames(streams.session_stream(resumed, "s1"))
    rest = [e async for e in read_events(_lines(lines))]  # type: ignore[arg-type]
    assert [int(e.id) for e in rest[1:-1] if e.id is not None] == list(range(after + 1, 21))
    assert rest[-1].event == "shutdown"
