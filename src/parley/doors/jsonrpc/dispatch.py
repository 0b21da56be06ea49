"""Turning a method handler into a pygls feature: check, convert, run, translate errors.

Every failure leaves as a JSON-RPC error with a stable `data.code`; tracebacks go to the log,
never over the wire.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pygls.exceptions import JsonRpcException

from parley.core.errors import ErrorCode, ParleyError
from parley.protocol.codec import unstructure
from parley.protocol.errors import RpcCode, rpc_code
from parley.protocol.methods import INITIALIZE
from parley.protocol.params import parse_params
from parley.protocol.schemagen import file_stem

log = logging.getLogger(__name__)

# A handler that never waits is a plain function: pygls runs those inline, without a task.
Handler = Callable[[Any], Any] | Callable[[Any], Awaitable[Any]]


# A door's wire: how a request's params become the handler's argument (raising ParleyError
# when they are invalid), and which numeric code each ParleyError travels with.
Parse = Callable[[str, Any], Any]
Code = Callable[[ParleyError], int]


def wire_error(exc: ParleyError, code: Code = rpc_code) -> JsonRpcException:
    return JsonRpcException(exc.message, code(exc), exc.wire_data())


def _translate(method: str, exc: Exception, code: Code) -> JsonRpcException:
    if isinstance(exc, JsonRpcException):
        return exc
    if isinstance(exc, ParleyError):
        return wire_error(exc, code)
    log.error("%s failed", method, exc_info=exc)
    return JsonRpcException(
        f"internal error in {method}: {type(exc).__name__}",
        int(RpcCode.INTERNAL_ERROR),
        {"code": ErrorCode.INTERNAL.value},
    )


def route(
    method: str,
    handler: Handler,
    is_initialized: Callable[[], bool],
    *,
    initialize: str = INITIALIZE,
    parse: Parse = parse_params,
    code: Code = rpc_code,
) -> Handler:
    def typed(params: Any) -> Any:
        if method != initialize and not is_initialized():
            raise ParleyError(ErrorCode.NOT_INITIALIZED, f"call {initialize} first")
        return parse(method, params)

    run: Handler
    if inspect.iscoroutinefunction(handler):

        async def run_async(params: Any) -> Any:
            try:
                return unstructure(await handler(typed(params)))
            except Exception as exc:
                raise _translate(method, exc, code) from None

        run = run_async
    else:

        def run_sync(params: Any) -> Any:
            try:
                return unstructure(handler(typed(params)))
            except Exception as exc:
                raise _translate(method, exc, code) from None

        run = run_sync
    run.__name__ = f"handle_{file_stem(method).replace('.', '_')}"
    return run
