"""The compiled predicates accept exactly what jsonschema accepts, on every Parley schema."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from parley.core.errors import ParleyError
from parley.protocol.params import parse_params
from parley.protocol.schema_check import Unsupported, compile_schema, json_equal
from parley.protocol.schemagen import ERROR_CODES, EXAMPLES, definitions, generate, messages
from parley.protocol.validation import first_error, validator_for
from parley.tools.registry import BUILTIN_TOOLS

EXAMPLE_FILES = Path(__file__).resolve().parents[2] / "schemas" / EXAMPLES


def _bundled(name: str) -> dict[str, Any]:
    """A definition with every definition it uses under $defs: self-contained, as the server
    validates params (notifications included, with their header fields)."""
    defs = definitions()
    used: dict[str, Any] = {}
    pending = [defs[name]]
    while pending:
        text = json.dumps(pending.pop())
        for other in defs:
            if f'"#/$defs/{other}"' in text and other not in used:
                used[other] = defs[other]
                pending.append(defs[other])
    return {**defs[name], "$defs": used} if used else dict(defs[name])


SCHEMAS: dict[str, dict[str, Any]] = {
    **{m.file: _bundled(m.type.__name__) for m in messages()},
    ERROR_CODES: generate()[ERROR_CODES],
    **{f"tools/{tool.name}": tool.input_schema for tool in BUILTIN_TOOLS},
}
POOL: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.0,
    1.5,
    -0.5,
    2**70,
    "",
    "x",
    "ses_1",
    "allow_once",
    "text",
    [],
    [1],
    ["a"],
    [{"type": "text", "text": "hi"}],
    {},
    {"a": 1},
    {"type": "text", "text": "hi"},
    {"type": "image", "mimeType": "image/png", "data": "AA=="},
]


def _strings(schema: Any) -> list[Any]:
    """Every enum/const value in a schema, so mutations also land on valid choices."""
    found: list[Any] = []
    if isinstance(schema, dict):
        found += schema.get("enum", [])
        if "const" in schema:
            found.append(schema["const"])
        for value in schema.values():
            found += _strings(value)
    elif isinstance(schema, list):
        for value in schema:
            found += _strings(value)
    return found


def _sample(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """A valid instance with every property filled in (tool schemas have no examples)."""
    if "$ref" in schema:
        return _sample(root["$defs"][schema["$ref"].rsplit("/", 1)[1]], root)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    if "anyOf" in schema:
        return _sample(schema["anyOf"][-1], root)
    if "allOf" in schema:
        return _sample(schema["allOf"][0], root)
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        return {k: _sample(v, root) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [_sample(schema.get("items", {}), root)] * max(1, schema.get("minItems", 1))
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return "x" if kind == "string" else None


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(value: Any, rng: random.Random, pool: list[Any]) -> Any:
    value = copy.deepcopy(value)
    path = rng.choice(_paths(value))
    if not path:
        return copy.deepcopy(rng.choice(pool))
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    action = rng.random()
    if action < 0.2 and isinstance(parent, dict):
        del parent[last]
    elif action < 0.3 and isinstance(parent, dict):
        parent["unexpected" + str(rng.randint(0, 9))] = rng.choice(pool)
    else:
        parent[last] = copy.deepcopy(rng.choice(pool))
    return value


def _instances(rel: str, schema: dict[str, Any]) -> list[Any]:
    path = EXAMPLE_FILES / rel
    seeds: list[Any] = json.loads(path.read_text("utf-8")) if path.exists() else []
    seeds.append(_sample(schema, schema))
    pool = POOL + _strings(schema)
    rng = random.Random(rel)
    out = list(seeds) + list(pool)
    for _ in range(300):
        seed = rng.choice(seeds)
        for _ in range(rng.randint(1, 3)):
            seed = _mutate(seed, rng, pool)
        out.append(seed)
    return out


@pytest.mark.parametrize("rel", sorted(SCHEMAS))
def test_compiled_predicate_agrees_with_jsonschema(rel: str) -> None:
    schema = SCHEMAS[rel]
    accepts = compile_schema(schema)
    reference = Draft202012Validator(schema)
    instances = _instances(rel, schema)
    disagreements = [x for x in instances if accepts(x) != reference.is_valid(x)]
    assert disagreements == []
    # The fuzzing reaches both answers, or the comparison above proves little.
    assert {accepts(x) for x in instances} == {True, False}


def test_json_equality_follows_json_schema() -> None:
    assert not json_equal(True, 1)
    assert not json_equal(0, False)
    assert json_equal(1, 1.0)
    assert json_equal({"a": [1, True]}, {"a": [1.0, True]})
    assert not json_equal({"a": [1, True]}, {"a": [1, 1]})
    assert not json_equal("1", 1)


def test_integers_may_be_written_with_a_zero_fraction() -> None:
    accepts = compile_schema({"type": "integer", "minimum": 0})
    assert [accepts(x) for x in (3, 3.0, 3.5, True, -1)] == [True, True, False, False, False]


def test_recursive_references_resolve() -> None:
    schema = {
        "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
        "$ref": "#/$defs/Node",
    }
    accepts = compile_schema(schema)
    assert accepts({"next": {"next": {}}})
    assert not accepts({"next": {"next": 5}})


@pytest.mark.parametrize(
    "schema",
    [
        {"oneOf": [{"type": "string"}]},
        {"patternProperties": {"^x": {}}},
        {"$ref": "other.json#/$defs/A"},
        {"type": "decimal"},
        {"pattern": "\\p{L}+"},  # ECMA-262 syntax Python's re does not know
        {"properties": {"x": {"$id": "http://e/x", "$ref": "#/$defs/A"}}},
    ],
)
def test_unknown_keywords_are_refused_not_ignored(schema: dict[str, Any]) -> None:
    with pytest.raises(Unsupported):
        compile_schema(schema)


def test_schemas_the_compiler_refuses_are_still_validated() -> None:
    schema = {"type": "object", "patternProperties": {"^n_": {"type": "integer"}}}
    assert validator_for(schema).error({"n_a": 1}) is None
    assert first_error(schema, {"n_a": "one"}) == '/n_a: "one" is not valid: expected integer'


def test_an_object_or_array_in_an_error_is_named_not_quoted() -> None:
    """It may hold a credential (an MCP server's env), and errors go back on the wire."""
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    secret = {"env": [{"name": "API_TOKEN", "value": "tok-123"}]}
    assert first_error(schema, {"n": secret}) == "/n: the object is not valid: expected integer"
    assert first_error(schema, {"n": ["tok-123"]}) == "/n: the array is not valid: expected integer"


@pytest.mark.parametrize(
    ("server", "error"),
    [
        # The form its "type" names, and what that form lacks: not "type: expected "stdio"".
        ({"name": "x", "type": "http"}, "/mcpServers/0/url: missing required field 'url'"),
        ({"name": "x", "type": "stdio"}, "/mcpServers/0/command: missing required field 'command'"),
        (
            {"name": "x", "type": "ftp", "url": "https://h"},
            '/mcpServers/0/type: "ftp" is not valid: expected one of "stdio", "http"',
        ),
        ({"name": "x", "command": 5}, "/mcpServers/0/command: 5 is not valid: expected string"),
        # Nothing says which form was meant: why it is neither.
        (
            {"name": "x"},
            "/mcpServers/0: the object is not valid: does not match any allowed form (as"
            " McpServerStdio, missing required field 'command'; as McpServerHttp, missing"
            " required field 'type')",
        ),
        (5, "/mcpServers/0: 5 is not valid: expected object"),  # what every form says
    ],
)
def test_an_mcp_server_that_matches_no_form_is_told_why(server: Any, error: str) -> None:
    with pytest.raises(ParleyError) as bad:
        parse_params("session/create", {"mcpServers": [server]})
    assert bad.value.message == f"invalid params: {error}"
