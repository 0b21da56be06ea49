"""Server-sent events: a hub subscription written as an SSE stream.

Every stored event goes out as `event: <method>` with the Parley notification params as data,
and carries `id: <seq>` so a client that reconnects with `Last-Event-ID` gets exactly what it
missed. The seed API's events ride along: `message` (a turn's final text), `metadata`
(usage) and `done` (the turn ended). Frames derived from one stored event carry its id on
the last of them only, so a reconnect never loses or repeats part of the group. A session
stream starts with `open` (its id: the seq it starts after).

A stream that falls behind (its client reads slower than events come) ends with `reconnect`
naming the seq to resume after; a stream ended by the daemon's shutdown ends with `shutdown`.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, MutableMapping
from typing import Any

import orjson

from parley.doors.http.protocol import CHUNKS, ChunkWriter, chunk
from parley.doors.http.raw import Receive, Send
from parley.engine.hub import DEFAULT_QUEUE_LIMIT, FellBehind, Hub, Subscription
from parley.engine.turn_handle import TurnHandle
from parley.protocol import types as wire
from parley.store.base import Store
from parley.store.records import StoredEvent

TICK_S = 1.0  # at most; shorter for a keep-alive interval under two seconds
DELETED_CHECK_S = 2.0  # how soon a deletion by another process ends the session's streams
# Bytes a live stream's client may leave unread (beyond what the kernel buffers) before it is
# ended with `reconnect` and resumes from the store: bounds the daemon's memory per stream.
STREAM_BUFFER_LIMIT = 256 * 1024
OPEN = b": stream open\n\n"
KEEPALIVE = b": keep-alive\n\n"
_KEEPALIVE_CHUNK = chunk(KEEPALIVE)
SSE_HEAD = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
CACHE_SIZE = 4096
_TERMINAL = (wire.ResultFinal.method, wire.TurnError.method)


def frame(event: str, data: Any, seq: int | None = None) -> bytes:
    head = b"" if seq is None else b"id: %d\n" % seq
    return b"%sevent: %s\ndata: %s\n\n" % (head, event.encode(), orjson.dumps(data))


def encode(session_id: str, event: StoredEvent, *, done: bool = True) -> bytes:
    """The frames of one stored event; `done`: follow a turn's last event with `done`."""
    params = wire.notification_params(session_id, event.turn_id, event.seq, event.params)
    frames: list[tuple[str, Any]] = []
    method = event.method
    if method == wire.ResultFinal.method:
        text = event.params.get("text", "")
        frames.append(("message", {"content": text, "session_id": session_id, **_turn(event)}))
    elif method == wire.UsageReport.method:
        p = event.params
        tokens_in, tokens_out = p.get("inputTokens", 0), p.get("outputTokens", 0)
        frames.append(
            (
                "metadata",
                {
                    "tokens": tokens_in + tokens_out,
                    "input_tokens": tokens_in,
                    "output_tokens": tokens_out,
                    "cost_usd": p.get("costUsd"),
                    **_turn(event),
                },
            )
        )
    frames.append((method, params))
    if done and method in _TERMINAL:
        frames.append(("done", {"status": turn_status(event), **_turn(event)}))
    last = len(frames) - 1
    return b"".join(
        frame(name, data, event.seq if i == last else None) for i, (name, data) in enumerate(frames)
    )


def turn_status(event: StoredEvent) -> str:
    if event.method == wire.ResultFinal.method:
        return "completed"
    return "cancelled" if event.params.get("code") == "cancelled" else "error"


def _turn(event: StoredEvent) -> dict[str, Any]:
    return {"turn_id": event.turn_id}


class StreamSubscription(Subscription):
    """A stream's own subscription: the session being deleted ends it (hub.forget removes the
    session from its subscribers), with `deleted`."""

    deleted = False

    def remove(self, session_id: str) -> None:
        super().remove(session_id)
        self.deleted = True
        self.close()


class _Client:
    """A stream on the live fan-out: its writer, the last seq written to it, and what it
    awaits: the frame to end with (None: the client went away)."""

    __slots__ = ("after", "answers", "ended", "writer")

    def __init__(self, writer: ChunkWriter, after: int, answers: bool) -> None:
        self.writer = writer
        self.after = after
        self.answers = answers
        self.ended: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()


class _Channel(Subscription):
    """One session's live fan-out: one hub subscriber for every stream of the session that
    has caught up. The hub offers it each committed event (synchronously, in its flush); the
    frames of everything offered in one loop iteration go out at the end of it, as one chunk
    framed once, written to each client's connection with no task switch per client."""

    def __init__(self, streams: Streams, hub: Hub, session_id: str) -> None:
        super().__init__(hub, DEFAULT_QUEUE_LIMIT, answers_approvals=False)
        self.streams = streams
        self.session_id = session_id
        self.clients: set[_Client] = set()
        self._answering = 0  # clients that answer approvals
        self._pending: list[tuple[int, bytes]] = []
        self._scheduled = False
        self.last_write = time.monotonic()
        self.add(session_id)

    def join(self, client: _Client) -> None:
        self.clients.add(client)
        self._answering += client.answers
        self.answers_approvals = self._answering > 0

    def leave(self, client: _Client) -> None:
        if client not in self.clients:
            return
        self.clients.remove(client)
        self._answering -= client.answers
        self.answers_approvals = self._answering > 0
        if not self.clients:
            self.streams._channel_closed(self)

    def offer(self, session_id: str, event: StoredEvent) -> None:
        self._pending.append((event.seq, self.streams.encoded(session_id, event)))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        if not pending or not self.clients:
            return
        first, last = pending[0][0], pending[-1][0]
        framed = chunk(b"".join(frames for _, frames in pending))
        self.last_write = time.monotonic()
        for client in tuple(self.clients):
            if client.after < first:
                written = client.writer.write(framed, STREAM_BUFFER_LIMIT)
            else:  # it joined after some of these were written to it from the store
                own = b"".join(frames for seq, frames in pending if seq > client.after)
                written = client.writer.write(chunk(own), STREAM_BUFFER_LIMIT) if own else True
            if written:
                client.after = last
            elif written is False:  # reads too slowly: resume from the store instead
                self.end(client, _reconnect(client.after))
            # None: gone; its stream sees the disconnect and leaves

    def keep_alive(self) -> None:
        self.last_write = time.monotonic()
        for client in tuple(self.clients):
            client.writer.write(_KEEPALIVE_CHUNK, STREAM_BUFFER_LIMIT)

    def end(self, client: _Client, final: bytes | None) -> None:
        self.leave(client)
        if not client.ended.done():
            client.ended.set_result(final)

    def end_all(self, final: Callable[[int], bytes]) -> None:
        self.flush()  # what was offered goes out first
        for client in tuple(self.clients):
            self.end(client, final(client.after))

    def remove(self, session_id: str) -> None:
        """The hub forgets the session: it was deleted."""
        super().remove(session_id)
        self.end_all(_deleted)


class Streams:
    """The daemon's open streams (so shutdown can end them), the frames they share (a
    thousand subscribers of one session encode each event once, not a thousand times), and
    the live fan-out per session.

    A session stream starts on its own subscription, which replays what it asked for from
    the store; once it has caught up (and where the server lets chunks be written directly:
    protocol.py), it moves to the session's channel, which writes each event to every
    caught-up stream in one pass. One ticker, not a timer per stream, sends keep-alives and
    notices a session deleted by another process."""

    def __init__(self, keepalive_s: float) -> None:
        self.keepalive_s = keepalive_s
        self._open: set[Subscription] = set()
        self._channels: dict[str, _Channel] = {}
        # By the event object the hub hands every subscriber (kept, so its id stays unique).
        self._frames: OrderedDict[int, tuple[StoredEvent, bytes]] = OrderedDict()
        self._ticker: asyncio.Task[None] | None = None
        self._store: Store | None = None
        self.closing = False

    def subscribe(self, hub: Hub, *, answers_approvals: bool) -> StreamSubscription:
        return StreamSubscription(hub, DEFAULT_QUEUE_LIMIT, answers_approvals)

    def opened(self, subscription: Subscription) -> None:
        if self.closing:
            subscription.close()
        self._open.add(subscription)

    def closed(self, subscription: Subscription) -> None:
        self._open.discard(subscription)
        subscription.close()

    def close_all(self) -> None:
        """End every stream once it has written what it was given (the daemon is stopping)."""
        self.closing = True
        for subscription in tuple(self._open):
            subscription.close()
        for channel in tuple(self._channels.values()):
            channel.end_all(_shutdown)
        if self._ticker is not None:
            self._ticker.cancel()

    def encoded(self, session_id: str, event: StoredEvent) -> bytes:
        cached = self._frames.get(id(event))
        if cached is not None and cached[0] is event:
            return cached[1]
        data = encode(session_id, event)
        self._frames[id(event)] = (event, data)
        if len(self._frames) > CACHE_SIZE:
            self._frames.popitem(last=False)
        return data

    async def serve_session(
        self,
        subscription: Subscription,
        session_id: str,
        scope: MutableMapping[str, Any],
        receive: Receive,
        send: Send,
    ) -> None:
        """A session stream, as an ASGI response: every event of the session the subscription
        follows, until the client goes. It starts with `open`, whose id is the seq it starts
        after: a client that reconnects with it misses nothing even if no event came in
        between. It ends with `reconnect` (it read too slowly), `deleted` or `shutdown`."""
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEAD})
        writer: ChunkWriter | None = scope.get("extensions", {}).get(CHUNKS)
        self.opened(subscription)
        self._tick(subscription.hub.store)
        gone = asyncio.ensure_future(_disconnected(receive))
        gone.add_done_callback(lambda _: subscription.close())
        try:
            final = await self._session_frames(subscription, session_id, writer, send, gone)
            if final is not None and not gone.done():
                await send({"type": "http.response.body", "body": final})
        finally:
            gone.cancel()
            self.closed(subscription)

    async def _session_frames(
        self,
        subscription: Subscription,
        session_id: str,
        writer: ChunkWriter | None,
        send: Send,
        gone: asyncio.Future[None],
    ) -> bytes | None:
        """Write the stream; return the frame to end it with."""

        async def body(data: bytes) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": True})

        start = subscription.cursor(session_id) or 0
        await body(frame("open", {"session_id": session_id, "after": start}, start))
        while True:
            if (
                writer is not None
                and subscription.idle()
                and subscription.follows(session_id)
                and not self.closing
                and writer.usable()
            ):
                return await self._live(subscription, session_id, writer, gone)
            try:
                async with asyncio.timeout(self.keepalive_s):
                    batch = await subscription.next_batch()
            except TimeoutError:
                await body(KEEPALIVE)
                continue
            except FellBehind as behind:
                return _reconnect(behind.cursors.get(session_id, 0))
            if not batch:
                after = subscription.cursor(session_id) or start
                if isinstance(subscription, StreamSubscription) and subscription.deleted:
                    return _deleted(after)
                return None if gone.done() else _shutdown(after)
            encoded = self.encoded
            await body(b"".join(encoded(sid, event) for sid, event in batch))

    async def _live(
        self,
        subscription: Subscription,
        session_id: str,
        writer: ChunkWriter,
        gone: asyncio.Future[None],
    ) -> bytes | None:
        """Move to the session's channel: it has been handed everything committed, and the
        channel gets what comes next (no await in between, so no gap and no duplicate)."""
        client = _Client(
            writer, subscription.cursor(session_id) or 0, subscription.answers_approvals
        )
        channel = self._channels.get(session_id)
        if channel is None:
            channel = self._channels[session_id] = _Channel(self, subscription.hub, session_id)
        channel.join(client)
        self.closed(subscription)  # after joining: the session always has an answerer
        gone.add_done_callback(lambda _: channel.end(client, None))
        return await client.ended

    def _channel_closed(self, channel: _Channel) -> None:
        if self._channels.get(channel.session_id) is channel:
            del self._channels[channel.session_id]
        channel.close()

    def _tick(self, store: Store) -> None:
        self._store = store
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self._ticking())

    async def _ticking(self) -> None:
        """Keep-alives for live streams that had nothing for `keepalive_s`, and the end of the
        streams of a session deleted by another process, checked every DELETED_CHECK_S."""
        checked = time.monotonic()
        tick = min(TICK_S, self.keepalive_s / 2)
        while self._open or self._channels:
            await asyncio.sleep(tick)
            now = time.monotonic()
            for channel in tuple(self._channels.values()):
                if now - channel.last_write >= self.keepalive_s:
                    channel.keep_alive()
            if now - checked >= DELETED_CHECK_S and self._store is not None:
                checked = now
                self._forget_deleted(self._store)

    def _forget_deleted(self, store: Store) -> None:
        followed = set(self._channels)
        for subscription in self._open:
            followed.update(subscription.sessions)
        for session_id in followed:
            if store.load_session(session_id) is None:
                hubs = {s.hub for s in self._open if s.follows(session_id)}
                channel = self._channels.get(session_id)
                if channel is not None:
                    hubs.add(channel.hub)
                for hub in hubs:
                    hub.forget(session_id)

    async def turn_stream(
        self, subscription: Subscription, handle: TurnHandle, started: float
    ) -> AsyncIterator[bytes]:
        """One turn's events, then `metadata` for the whole turn and `done`. The client going
        away does not cancel the turn: POST .../cancel does."""
        from parley.doors.http.views import turn_metadata

        session_id, turn_id = handle.session_id, handle.turn_id
        loop = asyncio.get_running_loop()
        self.opened(subscription)
        try:
            yield OPEN
            seen = 0
            ending: StoredEvent | None = None
            while ending is None or seen < handle.final_seq:
                try:
                    async with asyncio.timeout(self.keepalive_s):
                        batch = await subscription.next_batch()
                except TimeoutError:
                    yield KEEPALIVE
                    continue
                except FellBehind as behind:
                    yield _reconnect(behind.cursors.get(session_id, seen))
                    return
                if not batch:
                    yield _shutdown(seen)
                    return
                chunks = []
                for _, event in batch:
                    seen = event.seq
                    if event.turn_id != turn_id:
                        continue
                    chunks.append(encode(session_id, event, done=False))
                    if event.method in _TERMINAL:
                        ending = event
                yield b"".join(chunks)
                if ending is not None:
                    await handle  # ends right after its last event; then final_seq is set
            result = await handle
            duration = int((loop.time() - started) * 1000)
            yield frame("metadata", {**turn_metadata(result.usage, duration), "turn_id": turn_id})
            yield frame(
                "done",
                {
                    "status": turn_status(ending),
                    "turn_id": turn_id,
                    "stop_reason": result.stop_reason,
                },
            )
        finally:
            self.closed(subscription)


def _reconnect(after: int) -> bytes:
    return frame(
        "reconnect",
        {"reason": "fell_behind", "after": after, "message": "reconnect with Last-Event-ID"},
    )


def _deleted(after: int) -> bytes:
    return frame("deleted", {"reason": "the session was deleted", "after": after})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _shutdown(after: int | None) -> bytes:
    return frame("shutdown", {"reason": "the daemon is stopping", "after": after or 0})
