"""The event hub: every session's events, stored first, then fanned out to subscribers.

A subscriber (a stdio connection, an SSE stream, an ACP connection, the terminal) follows any
number of sessions. For each it starts either live (from what is stored now) or from a seq:
stored events after that seq are read from the store a page at a time, then it hands over to
live events with no gap and no duplicate, because both happen on the event loop and events
reach subscribers only once the store has made them durable (it may do that on another thread
or machine, and says when). Each subscriber's queue is bounded: one that stops
reading is dropped, never slowing the turn or the others, and is told the seq it had reached
in each session so it can subscribe again from there without losing anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol

from parley.engine.waiters import Waiters
from parley.store.base import Store
from parley.store.records import StoredEvent

log = logging.getLogger(__name__)

DEFAULT_QUEUE_LIMIT = 8192
# Events published and not yet durable past which a turn waits for the store to catch up: a
# model streaming faster than the disk takes it must not fill the memory.
STORE_BACKLOG_LIMIT = 8192
REPLAY_PAGE = 512


class Sink(Protocol):
    """Where a subscriber that can write at once takes events from the hub's callback, without
    a turn of the loop through its queue: a stdio connection writes them to its pipe."""

    def take(self, session_id: str, event: StoredEvent) -> bool:
        """Deliver the event now; False when it cannot now (it is then queued)."""

    def taken(self) -> None:
        """The batch whose events `take` was given is over (write them out)."""


class FellBehind(Exception):  # a state a subscriber learns of, not a bug
    """The subscriber stopped reading and was dropped; `cursors` is the last seq it was given
    in each session: subscribe again from those to get exactly what it missed."""

    def __init__(self, cursors: dict[str, int]) -> None:
        super().__init__("the subscriber fell behind and was dropped")
        self.cursors = cursors


class Hub:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._subscribers: dict[str, set[Subscription]] = {}
        self._pending: list[tuple[str, StoredEvent]] = []
        self._scheduled = False
        self._storing = 0  # batches handed to the store and not yet durable
        self.backlog = 0  # events published and not yet durable
        # Per session published here: the highest seq committed (what subscribers may see).
        self._committed: dict[str, int] = {}
        self._when = Waiters("stored events")
        self._progressed: asyncio.Event | None = None
        self._took: set[Sink] = set()  # sinks given events in the batch being handed out

    # --- publishing ---------------------------------------------------------------------------

    def publish(self, session_id: str, event: StoredEvent) -> None:
        """Queue the event for the store; subscribers get it once the store has it."""
        if session_id not in self._committed:
            self._committed[session_id] = event.seq - 1
        self._pending.append((session_id, event))
        self.backlog += 1
        # Turns publish every few microseconds under load: a good moment to hand out what the
        # store made durable meanwhile, rather than after the rest of this turn of the loop.
        self.store.report_written()
        if self.store.takes_events_now():
            self.flush()  # what is published meanwhile goes with the next one
            return
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Hand what was published to the store, as one batch: a burst of deltas from many
        turns costs one write, not one each (and the store may add later batches to it). At
        the end of this turn of the loop, or at once while the store's writer is idle: a busy
        loop's turn takes a millisecond or more, which every event would wait otherwise."""
        self._scheduled = False
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        self._storing += 1
        try:
            self.store.write_events(batch, lambda: self._stored(batch))
        except Exception:  # the store is broken: say so, but never leave subscribers waiting
            log.exception("could not store %d events", len(batch))
            self._stored(batch)

    def _stored(self, batch: list[tuple[str, StoredEvent]]) -> None:
        self._storing -= 1
        self.backlog -= len(batch)
        subscribers = self._subscribers
        committed = self._committed
        for session_id, event in batch:
            committed[session_id] = event.seq
            for subscriber in tuple(subscribers.get(session_id, ())):
                subscriber.offer(session_id, event)
        if self._took:
            took, self._took = self._took, set()
            for sink in took:
                sink.taken()
        for session_id in {session_id for session_id, _ in batch} & self._when.sessions():
            self._when.reached(session_id, committed[session_id])
        if self._progressed is not None:
            self._progressed.set()  # waiters look again

    def when_stored(self, session_id: str, seq: int, callback: Callable[[], object]) -> None:
        """Call `callback` once the session's events up to `seq` are durable (now if they are).
        Events not yet handed to the store go with the flush publishing them scheduled: a
        thousand turns ending at once make one batch, not one each."""
        if self._committed.get(session_id, seq) >= seq:
            callback()
            return
        self._when.add(session_id, seq, callback)

    async def drain(self) -> None:
        """Wait until every event published so far is durable."""
        self.flush()
        while self._storing:
            await self._progress()

    async def room(self) -> None:
        """Wait while the store is far behind (see STORE_BACKLOG_LIMIT); at once otherwise."""
        if self.backlog < STORE_BACKLOG_LIMIT:
            return
        self.flush()
        while self.backlog >= STORE_BACKLOG_LIMIT and self._storing:
            await self._progress()

    async def _progress(self) -> None:
        if self._progressed is None or self._progressed.is_set():
            self._progressed = asyncio.Event()
        await self._progressed.wait()

    def committed_seq(self, session_id: str) -> int:
        """The last seq of the session a subscriber may be given now."""
        seq = self._committed.get(session_id)
        if seq is not None:
            return seq
        record = self.store.load_session(session_id)
        return record.last_seq if record is not None else 0

    def forget(self, session_id: str) -> None:
        """The session was deleted: end its subscriptions' interest in it."""
        for subscriber in tuple(self._subscribers.get(session_id, ())):
            subscriber.remove(session_id)
        self._committed.pop(session_id, None)

    # --- subscribing --------------------------------------------------------------------------

    def subscribe(
        self, *, limit: int = DEFAULT_QUEUE_LIMIT, answers_approvals: bool = False
    ) -> Subscription:
        return Subscription(self, limit, answers_approvals)

    def has_answerer(self, session_id: str) -> bool:
        """Whether some subscriber of the session can answer its approval requests."""
        return any(s.answers_approvals for s in self._subscribers.get(session_id, ()))

    def _attach(self, session_id: str, subscriber: Subscription) -> None:
        self._subscribers.setdefault(session_id, set()).add(subscriber)

    def _detach(self, session_id: str, subscriber: Subscription) -> None:
        followers = self._subscribers.get(session_id)
        if followers is not None:
            followers.discard(subscriber)
            if not followers:
                del self._subscribers[session_id]


class Subscription:
    """Events of the sessions it follows, in seq order per session; see the module doc."""

    def __init__(self, hub: Hub, limit: int, answers_approvals: bool) -> None:
        self.hub = hub
        self.limit = limit
        self.answers_approvals = answers_approvals
        self._queue: deque[tuple[str, StoredEvent]] = deque()
        self._cursors: dict[str, int] = {}  # per session: the last seq handed out or queued
        self._replaying: dict[str, None] = {}  # sessions still reading from the store, in order
        self._waiter: asyncio.Future[None] | None = None
        self._dropped = False
        self._closed = False
        self.sink: Sink | None = None

    @property
    def sessions(self) -> Iterable[str]:
        return self._cursors.keys()

    def follows(self, session_id: str) -> bool:
        return session_id in self._cursors

    def add(self, session_id: str, after_seq: int | None = None) -> int:
        """Follow a session: live from now (None), or every event after `after_seq` first.
        Returns the session's committed seq now: once the subscriber has been given that seq,
        it has everything stored so far."""
        committed = self.hub.committed_seq(session_id)
        start = committed if after_seq is None else max(0, min(after_seq, committed))
        if self._dropped or self._closed:
            return committed
        self._cursors[session_id] = start
        if start < committed:
            self._replaying[session_id] = None
        else:
            self._replaying.pop(session_id, None)
        self.hub._attach(session_id, self)
        self._wake()
        return committed

    def remove(self, session_id: str) -> None:
        self._cursors.pop(session_id, None)
        self._replaying.pop(session_id, None)
        self.hub._detach(session_id, self)

    def offer(self, session_id: str, event: StoredEvent) -> None:
        """Called by the hub with each committed event of a followed session."""
        if session_id in self._replaying or event.seq <= self._cursors.get(session_id, event.seq):
            return  # the replay reads it from the store, or it was handed out already
        if not self._queue and (sink := self.sink) is not None and sink.take(session_id, event):
            self._cursors[session_id] = event.seq
            self.hub._took.add(sink)
            return
        if len(self._queue) >= self.limit:
            self._drop()
            return
        self._queue.append((session_id, event))
        self._cursors[session_id] = event.seq
        self._wake()

    async def next_batch(self, max_events: int = REPLAY_PAGE) -> list[tuple[str, StoredEvent]]:
        """The next events (at least one), as (session id, event). Raises FellBehind once the
        queue is drained after a drop, and returns [] once closed."""
        while True:
            if self._queue:
                count = min(max_events, len(self._queue))
                return [self._queue.popleft() for _ in range(count)]
            if self._replaying and not self._dropped:
                page = self._replay_page(max_events)
                if page:
                    return page
                continue
            if self._dropped:
                raise FellBehind(dict(self._cursors))
            if self._closed:
                return []
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def _replay_page(self, max_events: int) -> list[tuple[str, StoredEvent]]:
        session_id = next(iter(self._replaying))
        after = self._cursors[session_id]
        up_to = self.hub.committed_seq(session_id)
        page = list(self.hub.store.events_after(session_id, after, limit=max_events, up_to=up_to))
        if page:
            self._cursors[session_id] = page[-1].seq
        if not page or page[-1].seq >= up_to:
            # Caught up with what is committed; later events arrive live, in order.
            del self._replaying[session_id]
        return [(session_id, e) for e in page]

    def cursor(self, session_id: str) -> int | None:
        return self._cursors.get(session_id)

    def idle(self) -> bool:
        """Nothing queued or left to replay: it has been handed everything committed so far."""
        return not self._queue and not self._replaying and not self._dropped

    def close(self) -> None:
        for session_id in tuple(self._cursors):
            self.hub._detach(session_id, self)
        self._closed = True
        self._wake()

    def _drop(self) -> None:
        self._dropped = True
        for session_id in tuple(self._cursors):
            self.hub._detach(session_id, self)
        # What was queued is still handed out; the cursors then say where to resume.
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
