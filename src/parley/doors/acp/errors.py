"""The numeric code each engine error travels with on ACP's wire.

ACP uses JSON-RPC's codes plus -32002 (resource not found), -32800 (request cancelled) and
-32000 (authentication required, which Parley never answers: credentials come from the
environment, so there is nothing a client could log in to). The engine's string code stays in
`error.data.code`.
"""

from __future__ import annotations

from parley.core.errors import ErrorCode, ParleyError
from parley.protocol.errors import RpcCode

RESOURCE_NOT_FOUND = -32002

_CODES: dict[ErrorCode, int] = {
    ErrorCode.INVALID_PARAMS: RpcCode.INVALID_PARAMS,
    ErrorCode.PROTOCOL_VERSION_MISMATCH: RpcCode.INVALID_PARAMS,
    ErrorCode.NOT_INITIALIZED: RpcCode.INVALID_REQUEST,
    ErrorCode.SESSION_NOT_FOUND: RESOURCE_NOT_FOUND,
    ErrorCode.PROFILE_NOT_FOUND: RESOURCE_NOT_FOUND,
    ErrorCode.CANCELLED: RpcCode.REQUEST_CANCELLED,
}


def acp_code(exc: ParleyError) -> int:
    return int(_CODES.get(exc.code, RpcCode.INTERNAL_ERROR))
