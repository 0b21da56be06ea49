"""Inbound params are checked against their schema before conversion: bad input becomes
-32602 with a JSON pointer, never a hang or a traceback.

Valid input (nearly all of it) is recognised by a predicate compiled from the schema
(`schema_check.py`); `jsonschema` is imported and consulted only to explain a rejection.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from parley.core.errors import ErrorCode, ParleyError
from parley.protocol.schema_check import Predicate, Unsupported, compile_schema

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


def _value(error: ValidationError) -> Any:
    return error.validator_value


def _pointer(error: ValidationError) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        # Point at the missing field itself, not at its parent object.
        missing = [k for k in _value(error) if k not in error.instance]
        if missing:
            parts.append(str(missing[0]))
    return "/" + "/".join(parts) if parts else ""


def _describe(error: ValidationError) -> str:
    if error.validator == "maxLength":
        return f"longer than the limit of {_value(error)} characters"
    if error.validator == "maxItems":
        return f"more than the limit of {_value(error)} items"
    if error.validator == "required":
        instance: Any = error.instance
        missing = [k for k in _value(error) if k not in instance]
        return f"missing required field {missing[0]!r}" if missing else str(error.message)
    if error.validator in (
        "type",
        "enum",
        "const",
        "pattern",
        "minimum",
        "maximum",
        "minLength",
        "minItems",
        "anyOf",
        "oneOf",
    ):
        return f"{_shown(error.instance)} is not valid: {_expected(error)}"
    return str(error.message)


def _shown(instance: Any) -> str:
    # An object or array is named, not quoted: it may hold a credential (an MCP server's env
    # or headers), and an error goes back on the wire and into logs.
    if isinstance(instance, dict):
        return "the object"
    if isinstance(instance, list):
        return "the array"
    shown = json.dumps(instance)
    return shown[:57] + "..." if len(shown) > 60 else shown


def _expected(error: ValidationError) -> str:
    v, value = error.validator, _value(error)
    if v == "type":
        return f"expected {value}"
    if v == "enum":
        return "expected one of " + ", ".join(json.dumps(x) for x in value)
    if v == "const":
        return f"expected {json.dumps(value)}"
    if v == "pattern":
        return f"must match {value}"
    if v in ("anyOf", "oneOf"):
        return "does not match any allowed form"
    return str(error.message)


class SchemaValidator:
    """One schema: a fast yes, and jsonschema's best explanation of a no."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self._accepts: Predicate | None
        try:
            self._accepts = compile_schema(schema)
        except Unsupported:
            self._accepts = None
        self._reference: Draft202012Validator | None = None

    def error(self, instance: Any) -> ValidationError | None:
        if self._accepts is not None and self._accepts(instance):
            return None
        from jsonschema.exceptions import best_match

        error: ValidationError | None = best_match(self.reference().iter_errors(instance))
        return error

    def reference(self) -> Draft202012Validator:
        if self._reference is None:
            from jsonschema import Draft202012Validator

            self._reference = Draft202012Validator(self.schema)
        return self._reference


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str) -> SchemaValidator:
    return SchemaValidator(json.loads(schema_json))


def validator_for(schema: Mapping[str, Any]) -> SchemaValidator:
    return _validator(json.dumps(schema, sort_keys=True))


def first_error(schema: Mapping[str, Any], instance: Any) -> str | None:
    """A readable sentence about what is wrong with `instance`, or None."""
    error = validator_for(schema).error(instance)
    if error is None:
        return None
    pointer = _pointer(error)
    return f"{pointer or 'input'}: {_describe(error)}"


def check(validator: SchemaValidator, instance: Any) -> None:
    """Raise invalid_params (-32602) naming the offending field with a JSON pointer."""
    error = validator.error(instance)
    if error is None:
        return
    pointer = _pointer(error)
    raise ParleyError(
        ErrorCode.INVALID_PARAMS,
        f"invalid params: {pointer or '(params)'}: {_describe(error)}",
        data={"pointer": pointer},
    )
