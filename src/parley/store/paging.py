"""The `session/list` cursor: the (created_at, session_id) of the last session on a page.

Paging by key, not offset, keeps pages stable while sessions are created and costs the same on
page 200 as on page 1. The cursor is opaque to hosts.
"""

from __future__ import annotations

import base64
import binascii
import json

from parley.core.errors import ErrorCode, ParleyError


def encode_cursor(created_at: str, session_id: str) -> str:
    raw = json.dumps([created_at, session_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, session_id = json.loads(raw)
        if isinstance(created_at, str) and isinstance(session_id, str):
            return created_at, session_id
    except (binascii.Error, ValueError, TypeError):
        pass
    raise ParleyError(
        ErrorCode.INVALID_PARAMS,
        "cursor is not one this server returned; pass nextCursor from a session/list answer",
        data={"pointer": "/cursor"},
    )
