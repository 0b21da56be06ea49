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
    ):
        return f"{_shown(error.instance)} is not valid: {_expected(error)}"
    if error.validator in ("anyOf", "oneOf"):
        return _matches_no_form(error)
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
    if v in ("minLength", "minItems"):
        return "must not be empty" if value == 1 else f"shorter than the minimum of {value}"
    return str(error.message)


def _matches_no_form(error: ValidationError) -> str:
    """Why the value is none of an anyOf/oneOf's forms: each form's best reason, or the one
    reason they share (e.g. "expected object")."""
    from jsonschema.exceptions import best_match

    bests = [
        (i, best)
        for i, errors in sorted(_form_errors(error).items())
        if (best := best_match(errors)) is not None
    ]
    if len({_reason(best) for _, best in bests}) == 1:
        return _reason(bests[0][1])
    forms = _value(error)
    reasons = "; ".join(f"as {_form_name(forms[i])}, {_reason(best)}" for i, best in bests)
    return f"{_shown(error.instance)} is not valid: does not match any allowed form" + (
        f" ({reasons})" if reasons else ""
    )


def _reason(error: ValidationError) -> str:
    """`error`, within the value that matches no form: where, and what."""
    where = "/".join(str(p) for p in error.relative_path)
    return f"{where}: {_describe(error)}" if where else _describe(error)


def _form_name(subschema: Any) -> str:
    if isinstance(subschema, dict):
        if isinstance(ref := subschema.get("$ref"), str):
            return ref.rsplit("/", 1)[-1]
        if isinstance(title := subschema.get("title"), str):
            return title
    return "an alternative"


def _explained(error: ValidationError) -> ValidationError:
    """For an input that matches none of an anyOf/oneOf's forms, where a property the forms fix
    with const or enum (an MCP server's "type") rules all of them out but one: why it is not
    that one. Where that property rules out every form: that property. jsonschema's best_match
    instead picks a form by the shape of its error, e.g. "type: expected "stdio"" for an HTTP
    server without its url."""
    top = error
    while isinstance(parent := top.parent, type(error)) and parent.validator in ("anyOf", "oneOf"):
        top = parent
    while top.validator in ("anyOf", "oneOf") and isinstance(top.instance, dict):
        forms = _form_errors(top)
        fixed = {i: _fixed(errors, top.instance) for i, errors in forms.items()}
        live = [i for i, mismatch in fixed.items() if mismatch is None]
        mismatches = [m for m in fixed.values() if m is not None]
        if not live and mismatches and len({m.relative_path[0] for m in mismatches}) == 1:
            return _one_of(top, mismatches)
        if len(live) != 1:
            break  # nothing rules forms out: best_match's own pick stands
        from jsonschema.exceptions import best_match

        best = best_match(forms[live[0]])
        assert best is not None
        error = top = best
    return error


def _form_errors(error: ValidationError) -> dict[int, list[ValidationError]]:
    by_form: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        by_form.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    return by_form


def _fixed(errors: list[ValidationError], instance: dict[str, Any]) -> ValidationError | None:
    """The error saying a property of `instance` is not the value this form fixes, if any."""
    for sub in errors:
        path = list(sub.relative_path)
        if sub.validator in ("const", "enum") and len(path) == 1 and path[0] in instance:
            return sub
    return None


def _one_of(error: ValidationError, mismatches: list[ValidationError]) -> ValidationError:
    from jsonschema.exceptions import ValidationError as Error

    name = mismatches[0].relative_path[0]
    allowed: list[Any] = []
    for mismatch in mismatches:
        fixed = _value(mismatch)
        for value in [fixed] if mismatch.validator == "const" else fixed:
            if value not in allowed:
                allowed.append(value)
    instance: Any = error.instance
    return Error(
        "not one of the allowed values",
        validator="enum",
        validator_value=allowed,
        instance=instance[name],
        path=[*error.absolute_path, name],
    )


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
        return None if error is None else _explained(error)

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
