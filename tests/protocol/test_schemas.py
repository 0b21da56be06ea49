"""The committed schemas are exactly what the Python declarations generate, and every example
message in schemas/v1/examples validates against its schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from parley.core.errors import ErrorCode
from parley.protocol import methods
from parley.protocol.schemagen import generate, render
from parley.protocol.version import SCHEMA_VERSION

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "v1"
GENERATED = generate()
MESSAGE_SCHEMAS = sorted(k for k in GENERATED if "/" in k)


def test_committed_schemas_match_the_python_declarations() -> None:
    committed = {
        str(p.relative_to(SCHEMAS)) for p in SCHEMAS.rglob("*.json") if "examples" not in p.parts
    }
    assert committed == set(GENERATED), "run: python -m parley.protocol.schemagen"
    drifted = [
        rel
        for rel, schema in GENERATED.items()
        if (SCHEMAS / rel).read_text(encoding="utf-8") != render(schema)
    ]
    assert drifted == [], f"schemas drifted from protocol/types.py: {drifted}"


@pytest.mark.parametrize("rel", sorted(GENERATED))
def test_every_schema_is_valid_2020_12_with_a_versioned_id(rel: str) -> None:
    schema = GENERATED[rel]
    Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(f"/{SCHEMA_VERSION}/{rel}")


def test_every_method_and_notification_has_schemas_in_the_index() -> None:
    index = GENERATED["index.json"]
    assert set(index["requests"]) == {m.name for m in methods.REQUESTS}
    assert set(index["notifications"]) == set(methods.NOTIFICATION_NAMES)
    for entry in [
        *index["requests"].values(),
        *index["serverRequests"].values(),
        *index["notifications"].values(),
    ]:
        for key in ("params", "result"):
            if key in entry:
                assert entry[key] in GENERATED


def test_error_code_enum_lists_every_code() -> None:
    assert GENERATED["error-codes.json"]["enum"] == [c.value for c in ErrorCode]


@pytest.mark.parametrize("rel", MESSAGE_SCHEMAS)
def test_examples_exist_and_validate(rel: str) -> None:
    path = SCHEMAS / "examples" / rel
    assert path.exists(), f"no example messages for {rel}"
    examples = json.loads(path.read_text(encoding="utf-8"))
    assert examples, f"{path} is empty"
    validator = Draft202012Validator(GENERATED[rel])
    for example in examples:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(example)]
        assert errors == [], f"{path}: {errors}"


def test_examples_fail_when_they_break_the_schema() -> None:
    validator = Draft202012Validator(GENERATED["methods/turn.submit.params.json"])
    assert not validator.is_valid({"sessionId": "s"})
    assert not validator.is_valid({"sessionId": "s", "prompt": 5})


def _types_by_schema() -> dict[str, type]:
    from parley.protocol.schemagen import file_stem

    out: dict[str, type] = {}
    for m in (*methods.REQUESTS, *methods.SERVER_REQUESTS):
        folder = "methods" if m in methods.REQUESTS else "server-requests"
        out[f"{folder}/{file_stem(m.name)}.params.json"] = m.params
        out[f"{folder}/{file_stem(m.name)}.result.json"] = m.result
    return out


@pytest.mark.parametrize("rel", sorted(_types_by_schema()))
def test_python_types_round_trip_every_example_through_the_codec(rel: str) -> None:
    from parley.protocol.codec import structure, unstructure

    cls = _types_by_schema()[rel]
    validator = Draft202012Validator(GENERATED[rel])
    for example in json.loads((SCHEMAS / "examples" / rel).read_text(encoding="utf-8")):
        again = unstructure(structure(example, cls))
        assert validator.is_valid(again), (rel, again)
        # Nothing the host sent is lost, except values equal to their defaults.
        assert {k for k in again} <= set(example) | {"options"}
