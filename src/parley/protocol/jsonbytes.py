"""JSON text <-> Python values for the wire: orjson, with the standard library wherever the two
would differ.

orjson is several times faster, but it turns integers beyond 64 bits into floats, refuses lone
surrogate escapes, and cannot write integers beyond 64 bits. JSON allows all three, so those
messages take the standard library's path and mean exactly what the host sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import orjson

# A run of 19+ digits may be an integer orjson would read as a float: let json decide.
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def loads(body: bytes) -> Any:
    """The value of one JSON text; ValueError (with json's wording) when it is not one."""
    if _LONG_DIGITS.search(body) is None:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # maybe valid JSON orjson refuses; json decides and words the error
    try:
        return json.loads(body)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    try:
        return orjson.dumps(value, default=default)
    except TypeError:  # e.g. an integer beyond 64 bits in a model's tool input
        return json.dumps(value, default=default, ensure_ascii=False).encode()
