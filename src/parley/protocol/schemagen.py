"""Generate schemas/v1/ from the wire declarations (`python -m parley.protocol.schemagen`).

The generated files are committed; tests/test_schemas.py regenerates them in memory and fails
when the committed copy has drifted from the Python declarations.
"""

from __future__ import annotations

import enum
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

import attrs

from parley.core.errors import ErrorCode
from parley.core.naming import camel
from parley.protocol import methods
from parley.protocol import types as wire
from parley.protocol.version import PROTOCOL_VERSION, SCHEMA_VERSION

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = f"https://parley.dev/schemas/v{PROTOCOL_VERSION}/{SCHEMA_VERSION}/"


def file_stem(method: str) -> str:
    return method.replace("/", ".").replace("$", "")


class _Builder:
    """Turns Python types into schema fragments, collecting attrs classes into $defs."""

    def __init__(self) -> None:
        self.defs: dict[str, Any] = {}

    def ref(self, tp: Any) -> dict[str, Any]:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if tp is Any:
            return {}
        if tp is str:
            return {"type": "string"}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer"}
        if tp is float:
            return {"type": "number"}
        if origin is typing.Literal:
            values = {"const": args[0]} if len(args) == 1 else {"enum": list(args)}
            name = wire.NAMED_UNIONS.get(tp)
            if name is None:
                return values
            self.defs.setdefault(name, values)
            return {"$ref": f"#/$defs/{name}"}
        if origin in (typing.Union, types.UnionType):
            options = [a for a in args if a is not type(None)]
            if len(options) == 1:
                return self.ref(options[0])
            return {"anyOf": [self.ref(a) for a in options]}
        if origin in (list, tuple):
            return {"type": "array", "items": self.ref(args[0])}
        if origin is dict:
            value = self.ref(args[1])
            return {"type": "object", **({"additionalProperties": value} if value else {})}
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            self.defs.setdefault(tp.__name__, {"enum": [m.value for m in tp]})
            return {"$ref": f"#/$defs/{tp.__name__}"}
        if attrs.has(tp):
            if tp.__name__ not in self.defs:
                self.defs[tp.__name__] = {}  # reserve first: types may refer to themselves
                self.defs[tp.__name__] = self.object(tp)
            return {"$ref": f"#/$defs/{tp.__name__}"}
        raise TypeError(f"no schema for {tp!r}")

    def object(self, cls: type) -> dict[str, Any]:
        hints = typing.get_type_hints(cls)
        props: dict[str, Any] = {}
        required: list[str] = []
        for field in attrs.fields(cls):
            schema = dict(self.ref(hints[field.name]))
            meta = field.metadata
            if meta.get("doc"):
                schema["description"] = meta["doc"]
            schema.update(meta.get("schema", {}))
            wire = camel(field.name)
            props[wire] = schema
            if field.default is attrs.NOTHING:
                required.append(wire)
        out: dict[str, Any] = {"type": "object"}
        if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("):
            out["description"] = " ".join(cls.__doc__.split())
        out["properties"] = props
        if required:
            out["required"] = required
        return out


def schema_for(
    cls: type, file: str, description: str, header: type | None = None
) -> dict[str, Any]:
    builder = _Builder()
    body = builder.object(cls)
    if header is not None:
        head = builder.object(header)
        body["properties"] = {**head["properties"], **body["properties"]}
        body["required"] = head["required"] + body.get("required", [])
    doc = description + (f" {body.pop('description')}" if "description" in body else "")
    out: dict[str, Any] = {"$schema": DRAFT, "$id": ID_BASE + file, "title": cls.__name__}
    out["description"] = doc.strip()
    out.update(body)
    if builder.defs:
        out["$defs"] = dict(sorted(builder.defs.items()))
    return out


def generate() -> dict[str, dict[str, Any]]:
    """Every schema file, keyed by its path under schemas/v1/."""
    files: dict[str, dict[str, Any]] = {}
    for m in methods.REQUESTS + methods.SERVER_REQUESTS:
        folder = "methods" if m in methods.REQUESTS else "server-requests"
        for part, cls in (("params", m.params), ("result", m.result)):
            path = f"{folder}/{file_stem(m.name)}.{part}.json"
            files[path] = schema_for(cls, path, f"{m.name} {part}. {m.doc}")
    for e in methods.NOTIFICATIONS:
        path = f"notifications/{file_stem(e.name)}.json"
        files[path] = schema_for(
            e.params, path, f"{e.name} notification. {e.doc}", header=wire.NotificationHeader
        )
    files["error-codes.json"] = {
        "$schema": DRAFT,
        "$id": ID_BASE + "error-codes.json",
        "title": "ErrorCode",
        "description": "Stable codes in error.data.code and in error notifications. "
        "New codes may be added without a protocol bump.",
        "enum": [c.value for c in ErrorCode],
    }
    files["index.json"] = index()
    return files


def index() -> dict[str, Any]:
    """The method table for code generators: which files describe which message."""
    return {
        "$id": ID_BASE + "index.json",
        "protocolVersion": PROTOCOL_VERSION,
        "schemaVersion": SCHEMA_VERSION,
        "requests": {
            m.name: {
                "params": f"methods/{file_stem(m.name)}.params.json",
                "result": f"methods/{file_stem(m.name)}.result.json",
                "doc": m.doc,
            }
            for m in methods.REQUESTS
        },
        "serverRequests": {
            m.name: {
                "params": f"server-requests/{file_stem(m.name)}.params.json",
                "result": f"server-requests/{file_stem(m.name)}.result.json",
                "doc": m.doc,
            }
            for m in methods.SERVER_REQUESTS
        },
        "notifications": {
            e.name: {"params": f"notifications/{file_stem(e.name)}.json", "doc": e.doc}
            for e in methods.NOTIFICATIONS
        },
        "errorCodes": "error-codes.json",
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write(root: Path) -> list[Path]:
    written = []
    for rel, schema in generate().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render(schema)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("schemas/v1")
    for path in write(root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
