"""A request's params: checked against the method's schema, then converted to its wire type.

Checking first means bad input becomes -32602 with a JSON pointer, never a conversion error.
A string with a lone UTF-16 surrogate (which JSON's escapes allow) is refused the same way: it
cannot be stored as UTF-8, sent to a model or written to a file.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson

from parley.core.errors import ErrorCode, ParleyError
from parley.protocol.codec import structure
from parley.protocol.methods import REQUESTS_BY_NAME
from parley.protocol.schemagen import standalone
from parley.protocol.validation import SchemaValidator, check, validator_for


@functools.cache
def _validator(method: str) -> SchemaValidator:
    return validator_for(standalone(REQUESTS_BY_NAME[method].params))


def parse_params(method: str, params: Any) -> Any:
    """The params of a request for `method` as its wire type; ParleyError when invalid."""
    raw = {} if params is None else params
    if not isinstance(raw, dict):
        raise ParleyError(
            ErrorCode.INVALID_PARAMS, "params must be an object", data={"pointer": ""}
        )
    check(_validator(method), raw)
    check_storable(raw)
    return structure(raw, REQUESTS_BY_NAME[method].params)


def check_storable(params: dict[str, Any]) -> None:
    """-32602 for params that cannot be stored or sent on (see _refuse_unstorable)."""
    try:
        orjson.dumps(params)  # fast: refuses lone surrogates, deep nesting, integers past 64 bits
    except TypeError:
        _refuse_unstorable(params)


MAX_DEPTH = 64


def _refuse_unstorable(params: dict[str, Any]) -> None:
    """-32602 for params nested deeper than MAX_DEPTH or holding a string (or key) that is not
    valid Unicode; big integers pass."""
    stack: list[tuple[Any, str, int]] = [(params, "", 0)]
    while stack:
        value, pointer, depth = stack.pop()
        if isinstance(value, str):
            try:
                value.encode()
            except UnicodeEncodeError:
                raise ParleyError(
                    ErrorCode.INVALID_PARAMS,
                    f"invalid params: {pointer or '/'} contains a lone UTF-16 surrogate, which "
                    "is not text; send valid Unicode",
                    data={"pointer": pointer},
                ) from None
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= MAX_DEPTH:
            raise ParleyError(
                ErrorCode.INVALID_PARAMS,
                f"invalid params: nested deeper than {MAX_DEPTH} levels at {pointer or '/'}",
                data={"pointer": pointer},
            )
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            where = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            stack.append((item, where, depth + 1))
            if isinstance(key, str):
                stack.append((key, where, depth + 1))
