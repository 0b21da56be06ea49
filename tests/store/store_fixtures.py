"""Records for store tests."""

from __future__ import annotations

from parley.store.records import SessionRecord


def record(
    session_id: str,
    *,
    created_at: str = "2025-01-01T00:00:00.000Z",
    cwd: str = "/work/a",
    tags: list[str] | None = None,
) -> SessionRecord:
    return SessionRecord(
        session_id=session_id,
        cwd=cwd,
        profile="default",
        provider="scripted",
        model="scripted",
        permission_mode="ask",
        created_at=created_at,
        updated_at=created_at,
        tags=list(tags or []),
    )
