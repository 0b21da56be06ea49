"""The retry policy: how long to wait, and reading the server's own answer to that."""

from __future__ import annotations

import email.utils
import time

import pytest

from parley.core.errors import ErrorCode, ParleyError
from parley.providers.base import TextDelta
from parley.providers.retry import Failure, RetryPolicy, retry_after, with_retries


def test_retry_after_ms_wins_over_seconds():
    assert retry_after({"retry-after-ms": "250", "retry-after": "7"}) == 0.25


@pytest.mark.parametrize(("value", "seconds"), [("3", 3.0), ("1.5", 1.5), ("-4", 0.0)])
def test_retry_after_in_seconds(value, seconds):
    assert retry_after({"retry-after": value}) == seconds


def test_retry_after_as_an_http_date():
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (retry_after({"retry-after": when}) or 0) <= 30


def test_retry_after_absent_or_unreadable():
    assert retry_after({}) is None
    assert retry_after({"retry-after": "soon"}) is None


def test_backoff_doubles_with_at_most_a_quarter_of_jitter_and_a_cap():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    for retry, full in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)]:
        delays = {policy.backoff(retry) for _ in range(50)}
        assert all(0.75 * full <= d <= full for d in delays)
        assert len(delays) > 1  # jittered, so retries from many clients spread out


async def test_a_wait_longer_than_the_policy_allows_is_not_waited_for():
    """The turn fails at once with the server's answer, instead of hanging for an hour."""
    error = ParleyError(ErrorCode.RATE_LIMITED, "slow down", recoverable=True)
    calls = 0

    async def attempt():
        nonlocal calls
        calls += 1
        raise RuntimeError("429")
        yield TextDelta("never")

    def classify(exc: Exception) -> Failure:
        return Failure(error, retryable=True, reason="rate limited", retry_after=3600)

    with pytest.raises(ParleyError) as caught:
        [e async for e in with_retries(RetryPolicy(max_retries=3), attempt, classify)]
    assert caught.value is error
    assert calls == 1


async def test_no_retry_once_text_was_streamed():
    error = ParleyError(ErrorCode.PROVIDER_ERROR, "broke", recoverable=True)

    async def attempt():
        yield TextDelta("partial")
        raise RuntimeError("cut")

    def classify(exc: Exception) -> Failure:
        return Failure(error, retryable=True, reason="dropped")

    got = []
    stream = with_retries(RetryPolicy(base_delay=0.001), attempt, classify)
    got.append(await anext(stream))
    with pytest.raises(ParleyError):
        await anext(stream)
    assert got == [TextDelta("partial")]
