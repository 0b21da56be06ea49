"""A request's params: checked against the method's schema, then converted to its wire type.

Checking first means bad input becomes -32602 with a JSON pointer, never a conversion error.
"""

from __future__ import annotations

import functools
from typing import Any

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
    return structure(raw, REQUESTS_BY_NAME[method].params)
