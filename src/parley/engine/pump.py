"""Delivering a subscription's events to a door, in order, a batch at a time.

A door (a stdio connection, the terminal, an ACP connection) gives the pump a coroutine that
writes a batch to its wire. The pump also lets the door wait until a session's events up to a
seq have been written (a turn's answer goes out after its last event) and, when the door fell
behind and was dropped by the hub, follows again from where it was: the missed events come
from the store, so a door that stops reading for a while loses nothing and holds no memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from parley.engine.hub import DEFAULT_QUEUE_LIMIT, FellBehind, Hub
from parley.store.records import StoredEvent

log = logging.getLogger(__name__)

Batch = list[tuple[str, StoredEvent]]


class Pump:
    def __init__(
        self,
        hub: Hub,
        deliver: Callable[[Batch], Awaitable[None]],
        *,
        answers_approvals: bool = False,
        limit: int = DEFAULT_QUEUE_LIMIT,
    ) -> None:
        self.hub = hub
        self._deliver = deliver
        self._answers = answers_approvals
        self._limit = limit
        self.subscription = hub.subscribe(limit=limit, answers_approvals=answers_approvals)
        self._delivered: dict[str, int] = {}
        self._waiters: dict[str, list[tuple[int, asyncio.Future[None]]]] = {}

    def follow(self, session_id: str, after_seq: int | None = None) -> int:
        """Deliver the session's events: live from now, or every stored one after `after_seq`
        first. Returns the seq that, once reached, means everything stored so far is out."""
        committed = self.subscription.add(session_id, after_seq)
        self._delivered[session_id] = self.subscription.cursor(session_id) or 0
        self._wake(session_id)
        return committed

    def follows(self, session_id: str) -> bool:
        return self.subscription.follows(session_id)

    def unfollow(self, session_id: str) -> None:
        self.subscription.remove(session_id)
        self._delivered.pop(session_id, None)

    async def reached(self, session_id: str, seq: int) -> None:
        """Wait until the session's events up to `seq` have been delivered."""
        if self._delivered.get(session_id, 0) >= seq or not self.follows(session_id):
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(session_id, []).append((seq, waiter))
        await waiter

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
            try:
                await self._deliver(batch)
            except Exception:  # a bug must cost these events, never every later one
                log.exception("could not deliver %d events", len(batch))
            touched = set()
            for session_id, event in batch:
                self._delivered[session_id] = event.seq
                touched.add(session_id)
            for session_id in touched:
                self._wake(session_id)

    def close(self) -> None:
        self.subscription.close()
        for waiters in self._waiters.values():
            for _, waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        self._waiters.clear()

    def _resubscribe(self, cursors: dict[str, int]) -> None:
        self.subscription = self.hub.subscribe(limit=self._limit, answers_approvals=self._answers)
        for session_id, seq in cursors.items():
            self.subscription.add(session_id, seq)

    def _wake(self, session_id: str) -> None:
        waiters = self._waiters.get(session_id)
        if not waiters:
            return
        delivered = self._delivered.get(session_id, 0)
        keep = []
        for seq, waiter in waiters:
            if seq <= delivered:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                keep.append((seq, waiter))
        if keep:
            self._waiters[session_id] = keep
        else:
            del self._waiters[session_id]
