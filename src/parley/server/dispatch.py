"""Turning a method handler into a pygls feature: check, convert, run, translate errors.

Params are validated against the method's schema before conversion, so bad input becomes a
-32602 with a JSON pointer. Every failure leaves as a JSON-RPC error with a stable
`data.code`; tracebacks go to the log, never over the wire.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pygls.exceptions import JsonRpcException

from parley.protocol.codec import structure, unstructure
from parley.protocol.errors import ErrorCode, ParleyError, RpcCode
from parley.protocol.methods import INITIALIZE, REQUESTS_BY_NAME
from parley.protocol.schemagen import file_stem, schema_for
from parley.protocol.validation import check, validator_for

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[Any]]


@functools.cache
def _params_validator(method: str) -> Any:
    spec = REQUESTS_BY_NAME[method]
    return validator_for(schema_for(spec.params, f"methods/{file_stem(method)}.params.json", ""))


def wire_error(exc: ParleyError) -> JsonRpcException:
    return JsonRpcException(exc.message, exc.rpc_code, exc.wire_data())


def route(method: str, handler: Handler, is_initialized: Callable[[], bool]) -> Handler:
    params_type = REQUESTS_BY_NAME[method].params

    async def run(params: Any) -> Any:
        try:
            if method != INITIALIZE and not is_initialized():
                raise ParleyError(ErrorCode.NOT_INITIALIZED, "call agent/initialize first")
            raw = {} if params is None else params
            if not isinstance(raw, dict):
                raise ParleyError(
                    ErrorCode.INVALID_PARAMS, "params must be an object", data={"pointer": ""}
                )
            check(_params_validator(method), raw)
            return unstructure(await handler(structure(raw, params_type)))
        except ParleyError as exc:
            raise wire_error(exc) from None
        except (asyncio.CancelledError, JsonRpcException):
            raise
        except Exception as exc:
            log.exception("%s failed", method)
            raise JsonRpcException(
                f"internal error in {method}: {type(exc).__name__}",
                int(RpcCode.INTERNAL_ERROR),
                {"code": ErrorCode.INTERNAL.value},
            ) from None

    run.__name__ = f"handle_{file_stem(method).replace('.', '_')}"
    return run
