"""Delivering a subscription's events to a door, in order, a batch at a time.

A door (a stdio connection, the terminal, an ACP connection) gives the pump a coroutine that
writes a batch to its wire. One that can also write without waiting (a `Direct` door) is given
live events from the hub's callback as they become durable, a turn of the loop sooner than
through the pump's task, whenever nothing is queued before them and its wire takes them.
The pump also lets the door act once a session's events up to a seq have been written (a
turn's answer goes out right after its last event) and, when the door fell behind and was
dropped by the hub, follows again from where it was: the missed events come from the store,
so a door that stops reading for a while loses nothing and holds no memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Protocol

from parley.engine.hub import DEFAULT_QUEUE_LIMIT, FellBehind, Hub, Subscription
from parley.engine.waiters import Waiters
from parley.store.records import StoredEvent

log = logging.getLogger(__name__)

Batch = list[tuple[str, StoredEvent]]


class Direct(Protocol):
    def write_now(self, batch: Batch) -> bool:
        """Write the batch if the wire takes it now; False when it does not (the peer is not
        reading): the events then wait in the pump's queue, bounded."""

    def flush(self) -> None:
        """Send what write_now wrote."""


class Pump:
    def __init__(
        self,
        hub: Hub,
        deliver: Callable[[Batch], Awaitable[None]],
        *,
        answers_approvals: bool = False,
        limit: int = DEFAULT_QUEUE_LIMIT,
        direct: Direct | None = None,
    ) -> None:
        self.hub = hub
        self._deliver = deliver
        self._answers = answers_approvals
        self._limit = limit
        self._direct = direct
        self._delivering = False  # the task is writing a batch: later events wait for it
        self._delivered: dict[str, int] = {}
        self._waiters = Waiters("delivered events")
        self.subscription = self._subscribe()

    def _subscribe(self) -> Subscription:
        subscription = self.hub.subscribe(limit=self._limit, answers_approvals=self._answers)
        if self._direct is not None:
            subscription.sink = self
        return subscription

    def follow(self, session_id: str, after_seq: int | None = None) -> int:
        """Deliver the session's events: live from now, or every stored one after `after_seq`
        first. Returns the seq that, once reached, means everything stored so far is out."""
        committed = self.subscription.add(session_id, after_seq)
        delivered = self._delivered[session_id] = self.subscription.cursor(session_id) or 0
        self._waiters.reached(session_id, delivered)
        return committed

    def follows(self, session_id: str) -> bool:
        return self.subscription.follows(session_id)

    def unfollow(self, session_id: str) -> None:
        self.subscription.remove(session_id)
        self._delivered.pop(session_id, None)

    async def reached(self, session_id: str, seq: int) -> None:
        """Wait until the session's events up to `seq` have been delivered."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def done() -> None:
            if not waiter.done():
                waiter.set_result(None)

        self.when_delivered(session_id, seq, done)
        await waiter

    def when_delivered(self, session_id: str, seq: int, callback: Callable[[], object]) -> None:
        """Call `callback` right after the session's event `seq` is written, before any later
        one (at once if it was, or if the session is not followed)."""
        if self._delivered.get(session_id, 0) >= seq or not self.follows(session_id):
            callback()
        else:
            self._waiters.add(session_id, seq, callback)

    async def run(self) -> None:
        """Deliver until closed."""
        while True:
            try:
                batch = await self.subscription.next_batch()
            except FellBehind as behind:
                self._resubscribe(behind.cursors)
                continue
            if not batch:
                return
            self._delivering = True
            try:
                for part in self._parts(batch):
                    try:
                        await self._deliver(part)
                    except Exception:  # a bug must cost these events, never every later one
                        log.exception("could not deliver %d events", len(part))
                    for session_id, event in part:
                        self._delivered[session_id] = event.seq
                    for session_id in {session_id for session_id, _ in part}:
                        self._waiters.reached(session_id, self._delivered[session_id])
            finally:
                self._delivering = False

    def _parts(self, batch: Batch) -> Iterator[Batch]:
        """The batch, cut after each event something waits for: what it does comes right
        after that event, before the later ones."""
        start = 0
        for i, (session_id, event) in enumerate(batch):
            if self._waiters.due_at(session_id, event.seq):
                yield batch[start : i + 1]
                start = i + 1
        if start < len(batch):
            yield batch[start:]

    def close(self) -> None:
        self.subscription.close()
        self._waiters.release_all()

    # --- Sink: live events straight from the hub, for a Direct door --------------------------

    def take(self, session_id: str, event: StoredEvent) -> bool:
        assert self._direct is not None
        if self._delivering:
            return False
        try:
            if not self._direct.write_now([(session_id, event)]):
                return False
        except Exception:  # as in run(): a bug costs this event only
            log.exception("could not deliver event %d of %s", event.seq, session_id)
        self._delivered[session_id] = event.seq
        self._waiters.reached(session_id, event.seq)
        return True

    def taken(self) -> None:
        assert self._direct is not None
        self._direct.flush()

    def _resubscribe(self, cursors: dict[str, int]) -> None:
        self.subscription = self._subscribe()
        for session_id, seq in cursors.items():
            self.subscription.add(session_id, seq)
