"""A stream whose client reads slower than events come ends with `reconnect`, naming the seq
to resume after; resuming from it loses and repeats nothing. Both while it replays (its own
hub queue overflows) and once live (its connection's unread bytes pass the limit)."""

from __future__ import annotations

import asyncio
from typing import Any

from parley.client.sse import SseEvent, read_events
from parley.doors.http.protocol import CHUNKS
from parley.doors.http.raw import Message
from parley.doors.http.settings import DaemonSettings
from parley.doors.http.sse import Streams
from parley.engine.hub import Hub
from parley.store.memory import MemoryStore
from parley.store.records import SessionRecord, StoredEvent


class Client:
    """The ASGI side of one stream: what it was sent, and a disconnect on demand."""

    def __init__(self, writer: Any = None) -> None:
        self.body = b""
        self.ended = False
        self.gone = asyncio.Event()
        self.scope: dict[str, Any] = {"extensions": {CHUNKS: writer} if writer else {}}

    async def receive(self) -> Message:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.body":
            self.body += message.get("body", b"")
            self.ended = not message.get("more_body", False)

    async def events(self) -> list[SseEvent]:
        async def lines() -> Any:
            for line in self.body.decode().split("\n"):
                yield line

        return [e async for e in read_events(lines())]


class SlowWriter:
    """A ChunkWriter whose client has `room` chunks of room, then reads no more."""

    def __init__(self, client: Client, room: int) -> None:
        self.client, self.room = client, room

    def usable(self) -> bool:
        return True

    def write(self, framed: bytes, limit: int) -> bool | None:
        if self.room == 0:
            return False
        self.room -= 1
        size, _, rest = framed.partition(b"\r\n")
        self.client.body += rest[: int(size, 16)]
        return True


def _hub() -> Hub:
    store = MemoryStore()
    store.create_session(SessionRecord("s1", "/", "default", "scripted", "scripted", "ask"))
    return Hub(store)


def _publish(hub: Hub, seqs: range) -> None:
    for seq in seqs:
        hub.publish("s1", StoredEvent(seq, "t1", "result/delta", {"text": f"{seq} "}))


async def test_slow_replaying_stream_ends_with_reconnect_and_resumes_exactly() -> None:
    hub, streams = _hub(), Streams(DaemonSettings().keepalive_interval)
    slow = streams.subscribe(hub, answers_approvals=False)
    slow.limit = 4
    slow.add("s1")
    _publish(hub, range(1, 21))
    await asyncio.sleep(0)  # the hub commits, then offers: the slow queue overflows
    client = Client()
    await streams.serve_session(slow, "s1", client.scope, client.receive, client.send)
    got = await client.events()
    assert got[0].event == "open"
    assert got[-1].event == "reconnect"
    assert client.ended
    after = got[-1].json()["after"]
    delivered = [int(e.id) for e in got[1:-1] if e.id is not None]
    assert delivered == list(range(1, after + 1))

    resumed = streams.subscribe(hub, answers_approvals=False)
    resumed.add("s1", after)
    streams.close_all()  # ends the resumed stream once it has replayed what is stored
    again = Client()
    await streams.serve_session(resumed, "s1", again.scope, again.receive, again.send)
    rest = await again.events()
    assert [int(e.id) for e in rest[1:-1] if e.id is not None] == list(range(after + 1, 21))
    assert rest[-1].event == "shutdown"


async def test_slow_live_stream_ends_with_reconnect_the_others_go_on() -> None:
    hub, streams = _hub(), Streams(DaemonSettings().keepalive_interval)
    prompt, slow = Client(), Client()
    prompt.scope["extensions"][CHUNKS] = SlowWriter(prompt, 1000)
    slow.scope["extensions"][CHUNKS] = SlowWriter(slow, 3)
    tasks = []
    for client in (prompt, slow):
        subscription = streams.subscribe(hub, answers_approvals=True)
        subscription.add("s1")
        tasks.append(
            asyncio.create_task(
                streams.serve_session(subscription, "s1", client.scope, client.receive, client.send)
            )
        )
    await asyncio.sleep(0.01)  # both live, on the session's channel
    assert hub.has_answerer("s1")
    for seq in range(1, 11):
        _publish(hub, range(seq, seq + 1))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    await asyncio.wait_for(tasks[1], 5)
    got = await slow.events()
    assert got[-1].event == "reconnect"
    assert [int(e.id) for e in got[1:-1] if e.id] == [1, 2, 3]
    assert got[-1].json()["after"] == 3
    assert not tasks[0].done()
    hub.forget("s1")  # the session is deleted: the other stream ends, saying so
    await asyncio.wait_for(tasks[0], 5)
    rest = await prompt.events()
    assert [int(e.id) for e in rest[1:-1] if e.id] == list(range(1, 11))
    assert rest[-1].event == "deleted"
    assert rest[-1].json()["after"] == 10
    assert not hub.has_answerer("s1")


async def test_a_client_that_goes_leaves_the_channel() -> None:
    hub, streams = _hub(), Streams(DaemonSettings().keepalive_interval)
    client = Client()
    client.scope["extensions"][CHUNKS] = SlowWriter(client, 1000)
    subscription = streams.subscribe(hub, answers_approvals=True)
    subscription.add("s1")
    task = asyncio.create_task(
        streams.serve_session(subscription, "s1", client.scope, client.receive, client.send)
    )
    await asyncio.sleep(0.01)
    assert hub.has_answerer("s1")
    client.gone.set()
    await asyncio.wait_for(task, 5)
    assert not hub.has_answerer("s1")
    assert not streams._channels
    assert not client.ended  # nothing is sent to a client that went
