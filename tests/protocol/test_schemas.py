"""The committed schemas are exactly what the Python declarations generate, they are laid out for
code generators (every file a schema, every named schema titled, one name per concept), and
every example message in schemas/v1-examples/ validates against its message's schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from parley.core.errors import ErrorCode
from parley.protocol import methods
from parley.protocol.schemagen import (
    DEFINITIONS,
    ERROR_CODES,
    EXAMPLES,
    ID_BASE,
    INDEX,
    Message,
    files,
    generate,
    location,
    messages,
    render,
)
from parley.protocol.version import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2] / "schemas"
SCHEMAS = ROOT / "v1"
GENERATED = generate()
INDEX_DATA = files()[INDEX]
REGISTRY: Registry[Any] = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema)) for schema in GENERATED.values()
)
MESSAGES = {m.file: m for m in messages()}


def validator(message: Message) -> Draft202012Validator:
    """A validator for `message`'s schema, wherever it lives, with the other files resolvable."""
    return Draft202012Validator({"$ref": ID_BASE + location(message)}, registry=REGISTRY)


def examples(message: Message) -> list[Any]:
    data: list[Any] = json.loads((ROOT / EXAMPLES / message.file).read_text(encoding="utf-8"))
    return data


def test_committed_schemas_match_the_python_declarations() -> None:
    committed = {p.relative_to(SCHEMAS).as_posix() for p in SCHEMAS.rglob("*") if p.is_file()}
    assert committed == set(GENERATED), "run: python -m parley.protocol.schemagen"
    drifted = [
        rel
        for rel, schema in files().items()
        if (ROOT / rel).read_text(encoding="utf-8") != render(schema)
    ]
    assert drifted == [], f"schemas drifted from protocol/types.py: {drifted}"


@pytest.mark.parametrize("rel", sorted(GENERATED))
def test_every_schema_is_valid_2020_12_with_a_versioned_id_and_a_title(rel: str) -> None:
    schema = GENERATED[rel]
    Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(f"/{SCHEMA_VERSION}/{rel}")
    assert schema["title"]
    for name, definition in schema.get("$defs", {}).items():
        assert definition["title"] == name


def _titles(schema: Any, where: str) -> list[tuple[str, str]]:
    if isinstance(schema, dict):
        found = [(schema["title"], where)] if isinstance(schema.get("title"), str) else []
        for key, value in schema.items():
            if key != "properties" or not isinstance(value, dict):
                found += _titles(value, f"{where}/{key}")
            else:  # a property named "title" is not a title
                for name, prop in value.items():
                    found += _titles(prop, f"{where}/properties/{name}")
        return found
    if isinstance(schema, list):
        return [t for i, value in enumerate(schema) for t in _titles(value, f"{where}/{i}")]
    return []


def test_every_title_names_one_schema_and_every_message_type_has_one_home() -> None:
    """What generators name their types by: one schema per name, so one type per concept."""
    seen: dict[str, str] = {}
    for rel, schema in GENERATED.items():
        for title, where in _titles(schema, rel):
            assert title not in seen, f"{title} is the title of {seen[title]} and of {where}"
            seen[title] = where
    for message in messages():
        assert message.type.__name__ in seen, message


def test_only_schemas_live_in_the_schema_folder() -> None:
    """Examples and the index sit beside schemas/v1/, where generators fed the folder never
    mistake them for types."""
    for rel, schema in GENERATED.items():
        assert schema["$schema"].startswith("https://json-schema.org/"), rel
    assert (ROOT / INDEX).is_file()
    assert (ROOT / EXAMPLES).is_dir()
    assert not (SCHEMAS / "examples").exists()
    assert not (SCHEMAS / "index.json").exists()


def test_shared_types_are_declared_once_and_referred_to() -> None:
    definitions = GENERATED[DEFINITIONS]["$defs"]
    for name in ("PermissionMode", "Usage", "SessionInfo", "Empty", "ApprovalDecision"):
        assert name in definitions
    for rel, schema in GENERATED.items():
        if rel != DEFINITIONS:
            assert "$defs" not in schema, f"{rel} declares its own $defs"
    text = json.dumps(GENERATED["methods/session.list.result.json"])
    assert '"$ref": "../definitions.json#/$defs/SessionInfo"' in text


def test_the_index_names_every_message_and_where_its_schema_is() -> None:
    index = INDEX_DATA
    assert index["schemaVersion"] == SCHEMA_VERSION
    assert set(index["requests"]) == {m.name for m in methods.REQUESTS}
    assert set(index["serverRequests"]) == {m.name for m in methods.SERVER_REQUESTS}
    assert set(index["notifications"]) == set(methods.NOTIFICATION_NAMES)
    assert index["errorCodes"] == f"v1/{ERROR_CODES}"
    entries = [
        *index["requests"].values(),
        *index["serverRequests"].values(),
        *index["notifications"].values(),
    ]
    for entry in entries:
        for part in ("params", "result"):
            if part not in entry:
                continue
            path, _, pointer = entry[part].partition("#")
            schema = GENERATED[path.removeprefix("v1/")]
            if pointer:
                schema = schema["$defs"][pointer.rsplit("/", 1)[1]]
            assert schema["title"] == entry[f"{part}Type"]
            assert (ROOT / entry[f"{part}Examples"]).is_file()


def test_error_code_enum_lists_every_code() -> None:
    codes = GENERATED[ERROR_CODES]["enum"]
    assert codes == [c.value for c in ErrorCode]
    # The JSON-RPC layer's own failures carry string codes too.
    assert {"parse_error", "invalid_request", "method_not_found"} <= set(codes)


@pytest.mark.parametrize("rel", sorted(MESSAGES))
def test_examples_exist_and_validate(rel: str) -> None:
    message = MESSAGES[rel]
    found = examples(message)
    assert found, f"no example messages for {rel}"
    check = validator(message)
    for example in found:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in check.iter_errors(example)]
        assert errors == [], f"{rel}: {errors}"


def test_examples_fail_when_they_break_the_schema() -> None:
    check = validator(MESSAGES["methods/turn.submit.params.json"])
    assert not check.is_valid({"sessionId": "s"})
    assert not check.is_valid({"sessionId": "s", "prompt": 5})
    info = validator(MESSAGES["methods/session.create.result.json"])
    assert not info.is_valid({"sessionId": "s"})


REQUEST_MESSAGES = sorted(rel for rel, m in MESSAGES.items() if m.folder != "notifications")


@pytest.mark.parametrize("rel", REQUEST_MESSAGES)
def test_python_types_round_trip_every_example_through_the_codec(rel: str) -> None:
    from parley.protocol.codec import structure, unstructure

    message = MESSAGES[rel]
    check = validator(message)
    for example in examples(message):
        again = unstructure(structure(example, message.type))
        assert check.is_valid(again), (rel, again)
        # Nothing the host sent is lost, except values equal to their defaults.
        assert {k for k in again} <= set(example) | {"options"}


@pytest.mark.parametrize("method", [m.name for m in methods.REQUESTS])
def test_the_server_validates_params_against_the_published_schema(method: str) -> None:
    """The self-contained schema params are checked with holds what the published files say."""
    from parley.protocol.schemagen import definitions, standalone

    cls = methods.REQUESTS_BY_NAME[method].params
    bundled = standalone(cls)
    defs = definitions()
    assert {k: v for k, v in bundled.items() if k not in ("$schema", "$defs")} == defs[cls.__name__]
    for name, schema in bundled.get("$defs", {}).items():
        assert schema == defs[name]
