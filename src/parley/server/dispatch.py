"""Turning a method handler into a pygls feature: check, convert, run, translate errors.

Params are validated against the method's schema before conversion, so bad input becomes a
-32602 with a JSON pointer. Every failure leaves as a JSON-RPC error with a stable
`data.code`; tracebacks go to the log, never over the wire.
"""

from __future__ import annotations

import functools
import inspect
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

# A handler that never waits is a plain function: pygls runs those inline, without a task.
Handler = Callable[[Any], Any] | Callable[[Any], Awaitable[Any]]


@functools.cache
def _params_validator(method: str) -> Any:
    spec = REQUESTS_BY_NAME[method]
    return validator_for(schema_for(spec.params, f"methods/{file_stem(method)}.params.json", ""))


def wire_error(exc: ParleyError) -> JsonRpcException:
    return JsonRpcException(exc.message, exc.rpc_code, exc.wire_data())


def _translate(method: str, exc: Exception) -> JsonRpcException:
    if isinstance(exc, JsonRpcException):
        return exc
    if isinstance(exc, ParleyError):
        return wire_error(exc)
    log.error("%s failed", method, exc_info=exc)
    return JsonRpcException(
        f"internal error in {method}: {type(exc).__name__}",
        int(RpcCode.INTERNAL_ERROR),
        {"code": ErrorCode.INTERNAL.value},
    )


def route(method: str, handler: Handler, is_initialized: Callable[[], bool]) -> Handler:
    params_type = REQUESTS_BY_NAME[method].params
    validator = functools.partial(_params_validator, method)

    def typed(params: Any) -> Any:
        if method != INITIALIZE and not is_initialized():
            raise ParleyError(ErrorCode.NOT_INITIALIZED, "call agent/initialize first")
        raw = {} if params is None else params
        if not isinstance(raw, dict):
            raise ParleyError(
                ErrorCode.INVALID_PARAMS, "params must be an object", data={"pointer": ""}
            )
        check(validator(), raw)
        return structure(raw, params_type)

    run: Handler
    if inspect.iscoroutinefunction(handler):

        async def run_async(params: Any) -> Any:
            try:
                return unstructure(await handler(typed(params)))
            except Exception as exc:
                raise _translate(method, exc) from None

        run = run_async
    else:

        def run_sync(params: Any) -> Any:
            try:
                return unstructure(handler(typed(params)))
            except Exception as exc:
                raise _translate(method, exc) from None

        run = run_sync
    run.__name__ = f"handle_{file_stem(method).replace('.', '_')}"
    return run
