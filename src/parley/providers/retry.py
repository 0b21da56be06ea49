"""Retrying a model call: exponential backoff with jitter, `retry-after`, and a bounded count.

Retries happen only before anything was streamed to the caller: text already shown cannot be
taken back, so a failure after the first delta ends the turn instead.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import aclosing

import attrs

from parley.core.errors import ParleyError
from parley.providers.base import Retrying, StreamEvent, TextDelta, ThinkingDelta


@attrs.frozen
class RetryPolicy:
    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    # A server asking us to wait longer than this is not worth waiting for inside a turn.
    max_retry_after: float = 60.0

    def backoff(self, retry: int) -> float:
        """Delay before retry number `retry` (1-based): doubling, capped, minus up to 25%."""
        delay = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return delay * (1 - 0.25 * random.random())


@attrs.frozen
class Failure:
    """A failed attempt, classified: the error to raise, and whether another attempt may work."""

    error: ParleyError
    retryable: bool = False
    reason: str = ""  # short, for the `retrying` progress message: "rate limited (429)"
    retry_after: float | None = None


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The wait a response asks for: `retry-after-ms`, else `retry-after` (seconds or a date)."""
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def with_retries(
    policy: RetryPolicy,
    attempt: Callable[[], AsyncGenerator[StreamEvent, None]],
    classify: Callable[[Exception], Failure],
) -> AsyncIterator[StreamEvent]:
    """Run `attempt` until it completes, retrying classified-retryable failures.

    Yields the attempt's events, and a `Retrying` before each backoff sleep. Raises the
    classified ParleyError when the failure is final.
    """
    retry = 0
    while True:
        streamed = False
        try:
            async with aclosing(attempt()) as events:
                async for event in events:
                    streamed = streamed or isinstance(event, TextDelta | ThinkingDelta)
                    yield event
            return
        except Exception as exc:
            failure = classify(exc)
        wait = failure.retry_after
        if (
            streamed
            or not failure.retryable
            or retry >= policy.max_retries
            or (wait is not None and wait > policy.max_retry_after)
        ):
            raise failure.error
        retry += 1
        delay = policy.backoff(retry) if wait is None else wait
        yield Retrying(retry, delay, failure.reason)
        await asyncio.sleep(delay)
