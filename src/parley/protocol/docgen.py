"""Generate docs/protocol.md from the schemas and examples (`python -m parley.protocol.docgen`).

The prose lives in docs/protocol.intro.md; every method, notification, field and error code
below it comes from schemas/v1/ (through schemas/v1-index.json) and every example from
schemas/v1-examples/. tests/protocol/test_docs.py fails when the file is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from parley.protocol.schemagen import DEFINITIONS, ERROR_CODES, EXAMPLES, generate, index
from parley.protocol.version import PROTOCOL_VERSION, SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[3]


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        ref = schema["$ref"]
        return "`ErrorCode`" if ref.endswith(ERROR_CODES) else f"`{ref.rsplit('/', 1)[-1]}`"
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    if "allOf" in schema:
        return " and ".join(_type(s) for s in schema["allOf"])
    kind = schema.get("type")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        return f"object of {_type(schema['additionalProperties'])}"
    return f"`{kind}`" if kind else "any"


def _constraints(schema: dict[str, Any]) -> str:
    parts = [
        f"{k} {schema[k]}" for k in ("minimum", "maximum", "minLength", "minItems") if k in schema
    ]
    if "pattern" in schema:
        parts.append(f"pattern `{schema['pattern']}`")
    return "; ".join(parts)


def _fields(schema: dict[str, Any]) -> list[str]:
    props = schema.get("properties", {})
    if not props:
        return ["_No fields._", ""]
    required = set(schema.get("required", []))
    rows = ["| field | type | required | description |", "|---|---|---|---|"]
    for name, prop in props.items():
        notes = " ".join(x for x in (prop.get("description", ""), _constraints(prop)) if x)
        notes = notes.replace("|", r"\|")
        rows.append(f"| `{name}` | {_type(prop)} | {'yes' if name in required else ''} | {notes} |")
    return [*rows, ""]


def _defs(files: dict[str, dict[str, Any]]) -> list[str]:
    seen: dict[str, dict[str, Any]] = dict(files[DEFINITIONS]["$defs"])
    seen["ErrorCode"] = files[ERROR_CODES]
    out: list[str] = []
    for name, schema in sorted(seen.items()):
        out.append(f"### `{name}`")
        out.append("")
        if "description" in schema:
            out += [schema["description"], ""]
        if "enum" in schema:
            out += [", ".join(f"`{v}`" for v in schema["enum"]), ""]
        elif "anyOf" in schema:
            out += [f"One of: {_type(schema)}.", ""]
        else:
            out += _fields(schema)
    return out


def _schema(files: dict[str, dict[str, Any]], where: str) -> dict[str, Any]:
    """The schema an index entry points at: a file of schemas/v1/, or a $defs entry."""
    path, _, pointer = where.partition("#")
    schema = files[path.split("/", 1)[1]]
    return schema["$defs"][pointer.rsplit("/", 1)[1]] if pointer else schema


def _example(rel: str) -> list[str]:
    path = ROOT / "schemas" / rel
    if not path.exists():
        return []
    first = json.loads(path.read_text(encoding="utf-8"))[0]
    return ["```json", json.dumps(first, indent=2, ensure_ascii=False), "```", ""]


def _request(files: dict[str, Any], name: str, entry: dict[str, str]) -> list[str]:
    return [
        f"#### `{name}`",
        "",
        entry["doc"],
        "",
        f"**Params**: `{entry['paramsType']}`",
        "",
        *_fields(_schema(files, entry["params"])),
        *_example(entry["paramsExamples"]),
        f"**Result**: `{entry['resultType']}`",
        "",
        *_fields(_schema(files, entry["result"])),
        *_example(entry["resultExamples"]),
    ]


def render() -> str:
    files = generate()
    table = index()
    out = [(ROOT / "docs" / "protocol.intro.md").read_text(encoding="utf-8").rstrip(), ""]
    out += [
        f"<!-- Everything below is generated from schemas/v1 and {EXAMPLES} by "
        "`python -m parley.protocol.docgen`; edit the schemas, not this file. -->",
        "",
    ]
    out += [f"## Reference (protocol {PROTOCOL_VERSION}, schema {SCHEMA_VERSION})", ""]
    out += ["### Requests (host → server)", ""]
    for name, entry in table["requests"].items():
        out += _request(files, name, entry)
    out += ["### Requests (server → host)", ""]
    for name, entry in table["serverRequests"].items():
        out += _request(files, name, entry)
    out += ["### Notifications (server → host)", ""]
    for name, entry in table["notifications"].items():
        out += [f"#### `{name}`", "", entry["doc"], "", f"**Params**: `{entry['paramsType']}`", ""]
        out += _fields(_schema(files, entry["params"])) + _example(entry["paramsExamples"])
    out += [
        "### Error codes",
        "",
        "Carried in `error.data.code` of error responses and in `code` of `error` notifications.",
        "",
    ]
    out += [*(f"- `{code}`" for code in files[ERROR_CODES]["enum"]), ""]
    out += ["### Shared types", "", *_defs(files)]
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "protocol.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
