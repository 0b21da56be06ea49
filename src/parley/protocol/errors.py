"""JSON-RPC numeric error codes, and the one each engine error travels with."""

from __future__ import annotations

import enum

from parley.core.errors import ErrorCode, ParleyError


class RpcCode(enum.IntEnum):
    """JSON-RPC 2.0 numeric error codes used by Parley."""

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    SERVER_NOT_INITIALIZED = -32002
    REQUEST_FAILED = -32000
    REQUEST_CANCELLED = -32800


_RPC_CODE: dict[ErrorCode, RpcCode] = {
    ErrorCode.NOT_INITIALIZED: RpcCode.SERVER_NOT_INITIALIZED,
    ErrorCode.INVALID_PARAMS: RpcCode.INVALID_PARAMS,
    ErrorCode.INTERNAL: RpcCode.INTERNAL_ERROR,
    ErrorCode.CANCELLED: RpcCode.REQUEST_CANCELLED,
}


def rpc_code(exc: ParleyError) -> int:
    """The numeric code a JSON-RPC error response carries for `exc`."""
    return int(_RPC_CODE.get(exc.code, RpcCode.REQUEST_FAILED))
