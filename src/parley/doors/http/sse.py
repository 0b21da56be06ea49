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
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import orjson

from parley.engine.hub import FellBehind, Subscription
from parley.engine.turn_handle import TurnHandle
from parley.protocol import types as wire
from parley.store.records import StoredEvent

KEEPALIVE_S = 15.0
OPEN = b": stream open\n\n"
KEEPALIVE = b": keep-alive\n\n"
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


class Streams:
    """The daemon's open streams (so shutdown can end them) and the frames they share: a
    thousand subscribers of one session encode each event once, not a thousand times."""

    def __init__(self) -> None:
        self._open: set[Subscription] = set()
        # By the event object the hub hands every subscriber (kept, so its id stays unique).
        self._frames: OrderedDict[int, tuple[StoredEvent, bytes]] = OrderedDict()
        self.closing = False

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

    def encoded(self, session_id: str, event: StoredEvent) -> bytes:
        cached = self._frames.get(id(event))
        if cached is not None and cached[0] is event:
            return cached[1]
        data = encode(session_id, event)
        self._frames[id(event)] = (event, data)
        if len(self._frames) > CACHE_SIZE:
            self._frames.popitem(last=False)
        return data

    async def session_stream(
        self, subscription: Subscription, session_id: str
    ) -> AsyncIterator[bytes]:
        """Every event of the session the subscription follows, until the client goes. It
        starts with `open`, whose id is the seq it starts after: a client that reconnects with
        it misses nothing even if no event came in between."""
        self.opened(subscription)
        try:
            start = subscription.cursor(session_id) or 0
            yield frame("open", {"session_id": session_id, "after": start}, start)
            while True:
                try:
                    async with asyncio.timeout(KEEPALIVE_S):
                        batch = await subscription.next_batch()
                except TimeoutError:
                    yield KEEPALIVE
                    continue
                except FellBehind as behind:
                    yield _reconnect(behind.cursors.get(session_id, 0))
                    return
                if not batch:
                    yield _shutdown(subscription.cursor(session_id))
                    return
                encoded = self.encoded
                yield b"".join(encoded(sid, event) for sid, event in batch)
        finally:
            self.closed(subscription)

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
                    async with asyncio.timeout(KEEPALIVE_S):
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


def _shutdown(after: int | None) -> bytes:
    return frame("shutdown", {"reason": "the daemon is stopping", "after": after or 0})
