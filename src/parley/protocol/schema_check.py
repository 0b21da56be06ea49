"""JSON Schema compiled to a plain predicate, for the keywords Parley's schemas use.

Every inbound params object is validated, so the check sits on every request's path. The
`jsonschema` package walks the schema for each instance (about a quarter of a small request's
server time) and costs ~45 ms to import; a predicate built once per schema out of closures
answers "valid?" in a few microseconds. It only decides: when it says no, `validation.py` asks
`jsonschema` to explain, so error messages come from the reference implementation. Tests check
that both always agree.

A schema using a keyword this module does not know is refused (`Unsupported`), so a schema
cannot silently outgrow it; callers then fall back to `jsonschema` alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Any], bool]

# Keywords that never affect validity (formats are annotations unless a checker is enabled,
# which Parley does not do).
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
    }
)


class Unsupported(ValueError):
    """The schema uses a keyword (or a form of one) this compiler does not implement."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    # JSON Schema's integer is a number with no fractional part: 1.0 counts.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


_TYPES: dict[str, Predicate] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": _is_number,
    "integer": _is_integer,
}


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON Schema defines it: true is not 1, 1 is 1.0, containers compare deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)


def compile_schema(schema: Mapping[str, Any]) -> Predicate:
    """A predicate that is true exactly when `schema` accepts the instance."""
    return _Compiler(schema).compile(schema, root=True)


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self._root = root
        self._refs: dict[str, Predicate] = {}

    def compile(self, schema: Any, root: bool = False) -> Predicate:
        if schema is True or schema == {}:
            return _always
        if not isinstance(schema, Mapping):
            raise Unsupported(f"schema must be an object, not {schema!r}")
        if not root and "$id" in schema:
            raise Unsupported("a nested $id changes what references resolve against")
        checks = [self._keyword(k, v, schema) for k, v in schema.items() if k not in _ANNOTATIONS]
        if not checks:
            return _always
        if len(checks) == 1:
            return checks[0]
        return _every(checks)

    def _keyword(self, key: str, value: Any, schema: Mapping[str, Any]) -> Predicate:
        if key == "type":
            return _type(value)
        if key == "properties":
            return self._properties(value)
        if key == "required":
            names = frozenset(value)
            return lambda v: not isinstance(v, dict) or v.keys() >= names
        if key == "items":
            item = self.compile(value)
            return lambda v: not isinstance(v, list) or all(item(x) for x in v)
        if key == "enum":
            options = list(value)
            return lambda v: any(json_equal(v, o) for o in options)
        if key == "const":
            return lambda v: json_equal(v, value)
        if key == "anyOf":
            branches = [self.compile(s) for s in value]
            return lambda v: any(b(v) for b in branches)
        if key == "allOf":
            return _every([self.compile(s) for s in value])
        if key == "$ref":
            return self._ref(value)
        if key == "additionalProperties":
            return self._additional(value, frozenset(schema.get("properties", ())))
        return _bound(key, value)

    def _properties(self, props: Mapping[str, Any]) -> Predicate:
        compiled = [(name, self.compile(sub)) for name, sub in props.items()]

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for name, sub in compiled:  # noqa: SIM110  a loop beats all(<genexpr>) here
                if name in v and not sub(v[name]):
                    return False
            return True

        return check

    def _additional(self, value: Any, known: frozenset[str]) -> Predicate:
        if value is False:
            return lambda v: not isinstance(v, dict) or all(k in known for k in v)
        extra = self.compile(value)
        return lambda v: (
            not isinstance(v, dict) or all(extra(x) for k, x in v.items() if k not in known)
        )

    def _ref(self, ref: str) -> Predicate:
        if not ref.startswith("#/$defs/") or "/" in ref[len("#/$defs/") :]:
            raise Unsupported(f"only local #/$defs/ references are supported, not {ref!r}")
        name = ref[len("#/$defs/") :]
        if ref not in self._refs:
            target = self._root.get("$defs", {}).get(name)
            if target is None:
                raise Unsupported(f"unresolvable reference {ref!r}")
            # Registered before compiling so recursive definitions refer to themselves.
            self._refs[ref] = lambda v: compiled(v)
            compiled = self.compile(target)
            self._refs[ref] = compiled
        return self._refs[ref]


def _always(_: Any) -> bool:
    return True


def _every(checks: list[Predicate]) -> Predicate:
    def check(v: Any) -> bool:
        for one in checks:  # noqa: SIM110  a loop beats all(<genexpr>) on every request
            if not one(v):
                return False
        return True

    return check


def _type(value: Any) -> Predicate:
    names = [value] if isinstance(value, str) else list(value)
    try:
        tests = [_TYPES[n] for n in names]
    except KeyError as exc:
        raise Unsupported(f"unknown type {exc.args[0]!r}") from None
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(t(v) for t in tests)


def _bound(key: str, limit: Any) -> Predicate:
    if key == "minimum":
        return lambda v: not _is_number(v) or v >= limit
    if key == "maximum":
        return lambda v: not _is_number(v) or v <= limit
    if key == "exclusiveMinimum":
        return lambda v: not _is_number(v) or v > limit
    if key == "exclusiveMaximum":
        return lambda v: not _is_number(v) or v < limit
    if key == "minLength":
        return lambda v: not isinstance(v, str) or len(v) >= limit
    if key == "maxLength":
        return lambda v: not isinstance(v, str) or len(v) <= limit
    if key == "minItems":
        return lambda v: not isinstance(v, list) or len(v) >= limit
    if key == "maxItems":
        return lambda v: not isinstance(v, list) or len(v) <= limit
    if key == "pattern":
        try:
            search = re.compile(limit).search
        except re.error as exc:  # e.g. ECMA-only syntax; jsonschema reports it per instance
            raise Unsupported(f"pattern {limit!r}: {exc}") from None
        return lambda v: not isinstance(v, str) or search(v) is not None
    raise Unsupported(f"keyword {key!r} is not supported")
