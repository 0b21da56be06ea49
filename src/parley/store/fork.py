"""What a fork keeps: every store cuts a session's history the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parley.core.errors import ErrorCode, ParleyError
from parley.store.records import TurnRecord


def fork_point(source_id: str, turns: Sequence[TurnRecord], at_turn: int | None) -> int:
    """The number of the last turn a fork keeps: `at_turn`, or the last finished turn."""
    finished = [t.number for t in turns if t.status != "running"]
    if at_turn is None:
        return max(finished, default=0)
    if at_turn != 0 and at_turn not in finished:
        running = any(t.number == at_turn for t in turns)
        raise ParleyError(
            ErrorCode.INVALID_PARAMS,
            f"turn {at_turn} of session {source_id!r} is still running"
            if running
            else f"session {source_id!r} has {len(turns)} turns; atTurn {at_turn} is not one",
            data={"pointer": "/atTurn"},
        )
    return at_turn


def rehome(result: dict[str, Any] | None, session_id: str) -> dict[str, Any] | None:
    """A copied turn's stored result, as the fork's own."""
    return None if result is None else {**result, "sessionId": session_id}
