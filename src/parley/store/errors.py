"""The ParleyErrors every store raises the same way."""

from __future__ import annotations

from parley.core.errors import ErrorCode, ParleyError


class StoreError(ParleyError):
    """The store itself failed: unreadable, too new, locked too long."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INTERNAL, message)


def session_not_found(session_id: str) -> ParleyError:
    return ParleyError(ErrorCode.SESSION_NOT_FOUND, f"no session {session_id!r}")


def session_exists(session_id: str) -> ParleyError:
    return ParleyError(ErrorCode.SESSION_EXISTS, f"session {session_id!r} already exists")


def session_busy(session_id: str, running_turn_id: str) -> ParleyError:
    return ParleyError(
        ErrorCode.SESSION_BUSY,
        f"session {session_id!r} is running turn {running_turn_id!r}; "
        "wait for it or cancel it first",
        data={"runningTurnId": running_turn_id},
    )


def turn_exists(session_id: str, turn_id: str) -> ParleyError:
    return ParleyError(
        ErrorCode.INVALID_PARAMS,
        f"session {session_id!r} already has a turn {turn_id!r}",
        data={"pointer": "/turnId"},
    )
