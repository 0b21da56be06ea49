"""How a turn left `running` by a process that died is closed, from the events it had sent.

The turn's stored result carries the reply and usage the host was already shown. Unless the turn
had already sent its `result/final` or `error`, it gets an `error` notification (code `internal`,
recoverable) so that a host replaying the session sees every turn end exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from parley.core.errors import ErrorCode
from parley.core.usage import Usage
from parley.protocol import types as wire
from parley.protocol.codec import structure, unstructure
from parley.store.records import StoredEvent, TurnStatus

SERVER_STOPPED = (
    "the server stopped during this turn (it was killed or crashed); "
    "what it had sent is kept, and the session can go on"
)


@attrs.frozen
class Closing:
    status: TurnStatus
    result: dict[str, Any]
    # (method, params) of the notification that ends the turn, if it never sent one.
    event: tuple[str, dict[str, Any]] | None


def close_interrupted(session_id: str, turn_id: str, events: Iterable[StoredEvent]) -> Closing:
    reply: list[str] = []
    usage = Usage()
    final: StoredEvent | None = None
    for event in events:
        if event.method == wire.ResultDelta.method:
            reply.append(event.params["text"])
        elif event.method == wire.UsageReport.method:
            usage.add(structure(event.params, wire.UsageReport))
        elif event.method in (wire.ResultFinal.method, wire.TurnError.method):
            final = event
    totals = wire.usage_of(usage)
    if final is None:
        error = wire.TurnError(ErrorCode.INTERNAL, SERVER_STOPPED, recoverable=True)
        result = wire.TurnResult(
            session_id,
            turn_id,
            "".join(reply),
            "error",
            totals,
            wire.ErrorInfo(error.code, error.message, error.recoverable),
        )
        return Closing("interrupted", unstructure(result), (error.method, unstructure(error)))
    # It died between sending its last notification and storing its result.
    if final.method == wire.ResultFinal.method:
        done = wire.TurnResult(session_id, turn_id, final.params["text"], "end_turn", totals)
        return Closing("completed", unstructure(done), None)
    failed = structure(final.params, wire.TurnError)
    cancelled = failed.code == ErrorCode.CANCELLED
    result = wire.TurnResult(
        session_id,
        turn_id,
        "".join(reply),
        "cancelled" if cancelled else "error",
        totals,
        wire.ErrorInfo(failed.code, failed.message, failed.recoverable),
    )
    return Closing("interrupted" if cancelled else "completed", unstructure(result), None)
