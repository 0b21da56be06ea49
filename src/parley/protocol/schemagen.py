"""Generate the schema set from the wire declarations (`python -m parley.protocol.schemagen`).

Laid out so that a code generator pointed at schemas/v1/ makes one type per concept, each with
its own name (tests/codegen runs third-party generators to hold it to that):

    schemas/v1/definitions.json   every type that more than one message uses or that other
                                  types contain, under `$defs`, each titled with its name
    schemas/v1/error-codes.json   the ErrorCode enum
    schemas/v1/methods/, server-requests/, notifications/
                                  one file per message whose type is its own, titled with the
                                  type's name; it refers to the other two files for the rest
    schemas/v1-index.json         for each method and notification, the schema of its params
                                  and result: a file, or a `$defs` entry of definitions.json
    schemas/v1-examples/          example messages, one file per message (written by hand)

A message whose type is shared (session/create, session/resume and session/fork all answer a
SessionInfo) has no file of its own: a file that only referred to the shared type would make
generators invent a second type, or give the shared one the file's name.

The files are committed; tests/protocol/test_schemas.py regenerates them in memory and fails
when the committed copy has drifted. The server validates params against `standalone()`: the
same definitions bundled into one self-contained schema.
"""

from __future__ import annotations

import enum
import functools
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
FOLDER = f"v{PROTOCOL_VERSION}"
ID_BASE = f"https://parley.dev/schemas/{FOLDER}/{SCHEMA_VERSION}/"
DEFINITIONS = "definitions.json"
ERROR_CODES = "error-codes.json"
INDEX = f"{FOLDER}-index.json"
EXAMPLES = f"{FOLDER}-examples"


def file_stem(method: str) -> str:
    return method.replace("/", ".").replace("$", "")


def _named(title: str, description: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """A named schema: its title first, then its description, then the rest."""
    out: dict[str, Any] = {"title": title}
    if description:
        out["description"] = description
    out.update(body)
    return out


def _doc(cls: type) -> str | None:
    text = cls.__doc__
    if not text or text.startswith(cls.__name__ + "("):
        return None  # attrs' generated signature, not a docstring
    return " ".join(text.split())


def _local(name: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{name}"}


class _Builder:
    """Turns Python types into schema fragments; each named type becomes one titled $defs entry."""

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
        if (named := wire.NAMED_STRINGS.get(tp)) is not None:
            description, limits = named
            self.defs.setdefault(
                tp.__name__, _named(tp.__name__, description, {"type": "string", **limits})
            )
            return _local(tp.__name__)
        name = wire.NAMED_UNIONS.get(tp) if origin is not None else None
        if origin is typing.Literal:
            values = {"const": args[0]} if len(args) == 1 else {"enum": list(args)}
            values = {"type": _string_type(args), **values}
            if name is None:
                return values
            self.defs.setdefault(name, _named(name, None, values))
            return _local(name)
        if origin in (typing.Union, types.UnionType):
            options = [a for a in args if a is not type(None)]
            if len(options) == 1:
                return self.ref(options[0])
            union = {"anyOf": [self.ref(a) for a in options]}
            if name is None:
                return union
            self.defs.setdefault(name, _named(name, None, union))
            return _local(name)
        if origin in (list, tuple):
            return {"type": "array", "items": self.ref(args[0])}
        if origin is dict:
            value = self.ref(args[1])
            return {"type": "object", **({"additionalProperties": value} if value else {})}
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            members = [m.value for m in tp]
            body = {"type": _string_type(members), "enum": members}
            self.defs.setdefault(tp.__name__, _named(tp.__name__, _doc(tp), body))
            return _local(tp.__name__)
        if attrs.has(tp):
            if tp.__name__ not in self.defs:
                self.defs[tp.__name__] = {}  # reserve first: types may refer to themselves
                self.defs[tp.__name__] = self.object(tp)
            return _local(tp.__name__)
        raise TypeError(f"no schema for {tp!r}")

    def object(self, cls: type, header: type | None = None) -> dict[str, Any]:
        """A titled object schema; `header`'s fields come first (notifications' common fields)."""
        props: dict[str, Any] = {}
        required: list[str] = []
        for owner in (header, cls):
            if owner is None:
                continue
            hints = typing.get_type_hints(owner)
            for field in attrs.fields(owner):
                schema = dict(self.ref(hints[field.name]))
                if "const" in schema or "enum" in schema:
                    # Generators make a type of an inline literal too: name it after its place.
                    schema = {"title": owner.__name__ + _pascal(field.name), **schema}
                meta = field.metadata
                if meta.get("doc"):
                    schema["description"] = meta["doc"]
                schema.update(meta.get("schema", {}))
                if "$ref" in schema and len(schema) > 1:
                    # A $ref with words beside it: some generators (json-schema-to-typescript)
                    # would make a copy of the type for each such place, so wrap it.
                    schema["allOf"] = [{"$ref": schema.pop("$ref")}]
                name = camel(field.name)
                props[name] = schema
                if field.default is attrs.NOTHING:
                    required.append(name)
        body: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            body["required"] = required
        return _named(cls.__name__, _doc(cls), body)

    def notification(self, cls: type) -> None:
        """A notification's params on the wire: the header fields, then the event's own."""
        self.defs[cls.__name__] = self.object(cls, header=wire.NotificationHeader)


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _string_type(values: Any) -> str:
    if any(not isinstance(v, str) for v in values):
        raise TypeError(f"only unions of strings are declared in the schemas, not {values!r}")
    return "string"


def _refs(schema: Any) -> list[str]:
    """The names of the #/$defs/ entries that `schema` refers to directly."""
    if isinstance(schema, dict):
        found = []
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.append(ref.removeprefix("#/$defs/"))
        for value in schema.values():
            found += _refs(value)
        return found
    if isinstance(schema, list):
        return [name for value in schema for name in _refs(value)]
    return []


def _relink(schema: Any, target: dict[str, str]) -> Any:
    """A copy of `schema` whose #/$defs/Name references point where `target` says."""
    if isinstance(schema, dict):
        out = {k: _relink(v, target) for k, v in schema.items()}
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out["$ref"] = target[ref.removeprefix("#/$defs/")]
        return out
    if isinstance(schema, list):
        return [_relink(v, target) for v in schema]
    return schema


@attrs.frozen
class Message:
    """One message schema: a method's params or result, or a notification's params."""

    method: str
    part: str  # "params" or "result"
    folder: str  # "methods", "server-requests" or "notifications"
    type: type
    description: str

    @property
    def file(self) -> str:
        """Where the message's own schema file is (or would be), under schemas/v1/."""
        suffix = "" if self.folder == "notifications" else f".{self.part}"
        return f"{self.folder}/{file_stem(self.method)}{suffix}.json"


def messages() -> list[Message]:
    out: list[Message] = []
    for m in methods.REQUESTS + methods.SERVER_REQUESTS:
        folder = "methods" if m in methods.REQUESTS else "server-requests"
        for part, cls in (("params", m.params), ("result", m.result)):
            out.append(Message(m.name, part, folder, cls, f"{m.name} {part}. {m.doc}"))
    for e in methods.NOTIFICATIONS:
        out.append(
            Message(e.name, "params", "notifications", e.params, f"{e.name} notification. {e.doc}")
        )
    return out


@functools.cache
def definitions() -> dict[str, Any]:
    """Every named type, keyed by name: messages, what they contain, and the error codes.
    Built once and shared: callers must not change what it returns."""
    builder = _Builder()
    for message in messages():
        if message.folder == "notifications":
            builder.notification(message.type)
        else:
            builder.ref(message.type)
    builder.ref(ErrorCode)
    return dict(sorted(builder.defs.items()))


@functools.cache
def own_types() -> frozenset[str]:
    """Types that are one message's own: used by that message alone and contained in no other
    type. Each is declared in its message's file; every other type is in definitions.json."""
    defs = definitions()
    uses: dict[str, int] = {}
    for message in messages():
        uses[message.type.__name__] = uses.get(message.type.__name__, 0) + 1
    contained = {name for schema in defs.values() for name in _refs(schema)}
    return frozenset(name for name, n in uses.items() if n == 1 and name not in contained)


def location(message: Message) -> str:
    """Where `message`'s schema is, relative to schemas/v1/: its file, or a $defs entry."""
    name = message.type.__name__
    if name in own_types():
        return message.file
    return f"{DEFINITIONS}#/$defs/{name}"


def generate() -> dict[str, dict[str, Any]]:
    """Every schema file, keyed by its path under schemas/v1/."""
    defs = definitions()
    own = own_types()
    shared = {n: s for n, s in defs.items() if n not in own and n != "ErrorCode"}

    def targets(up: str) -> dict[str, str]:
        # ErrorCode is a file of its own, which hosts read on its own.
        where = {n: f"{up}{DEFINITIONS}#/$defs/{n}" for n in shared}
        return {**where, "ErrorCode": f"{up}{ERROR_CODES}"}

    files: dict[str, dict[str, Any]] = {
        DEFINITIONS: {
            "$schema": DRAFT,
            "$id": ID_BASE + DEFINITIONS,
            "title": "ParleyDefinitions",
            "description": f"The types of Parley protocol v{PROTOCOL_VERSION} that more than "
            "one message uses or that other types contain, under $defs; the message files "
            "refer here. The root describes no message: it lists each type once, so that "
            "generators which only emit what a root reaches emit them all.",
            "type": "object",
            "properties": {n[:1].lower() + n[1:]: _local(n) for n in shared},
            "$defs": _relink(shared, {**targets(""), **{n: f"#/$defs/{n}" for n in shared}}),
        },
        ERROR_CODES: {
            "$schema": DRAFT,
            "$id": ID_BASE + ERROR_CODES,
            **_named(
                "ErrorCode",
                "Stable codes in error.data.code and in error notifications. "
                "New codes may be added without a protocol bump.",
                {"type": "string", "enum": [c.value for c in ErrorCode]},
            ),
        },
    }
    for message in messages():
        name = message.type.__name__
        if name not in own:
            continue
        body = dict(_relink(defs[name], targets("../" * message.file.count("/"))))
        del body["title"]
        text = " ".join(x for x in (message.description, body.pop("description", None)) if x)
        head = {"$schema": DRAFT, "$id": ID_BASE + message.file, "title": name}
        files[message.file] = {**head, "description": text, **body}
    return files


def standalone(cls: type) -> dict[str, Any]:
    """`cls`'s schema with the definitions it uses bundled in: no reference leaves it. What the
    server validates params against; built from `cls` alone, as it is on a first request's path."""
    builder = _Builder()
    builder.ref(cls)
    root = builder.defs.pop(cls.__name__)
    out = {"$schema": DRAFT, **root}
    if builder.defs:
        out["$defs"] = dict(sorted(builder.defs.items()))
    return out


def index() -> dict[str, Any]:
    """The method table for code generators and hosts: for every method and notification, the
    schema (`params`, `result`: paths relative to this index, in schemas/) and the type name
    (`paramsType`, `resultType`) of its params and result, and its example messages."""
    entries: dict[str, dict[str, dict[str, str]]] = {
        "requests": {},
        "serverRequests": {},
        "notifications": {},
    }
    group = {"methods": "requests", "server-requests": "serverRequests"}
    docs = {m.name: m.doc for m in methods.REQUESTS + methods.SERVER_REQUESTS}
    docs.update({e.name: e.doc for e in methods.NOTIFICATIONS})
    for message in messages():
        table = entries[group.get(message.folder, "notifications")]
        entry = table.setdefault(message.method, {"doc": docs[message.method]})
        entry[message.part] = f"{FOLDER}/{location(message)}"
        entry[f"{message.part}Type"] = message.type.__name__
        entry[f"{message.part}Examples"] = f"{EXAMPLES}/{message.file}"
    return {
        "protocolVersion": PROTOCOL_VERSION,
        "schemaVersion": SCHEMA_VERSION,
        "definitions": f"{FOLDER}/{DEFINITIONS}",
        "errorCodes": f"{FOLDER}/{ERROR_CODES}",
        **entries,
    }


def files() -> dict[str, dict[str, Any]]:
    """Everything generated, keyed by its path under schemas/."""
    out = {f"{FOLDER}/{rel}": schema for rel, schema in generate().items()}
    out[INDEX] = index()
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write(root: Path) -> list[Path]:
    """Write every generated file under `root` (schemas/); remove schemas it no longer makes."""
    written = []
    wanted = files()
    for rel, schema in wanted.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render(schema)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    for stale in sorted((root / FOLDER).rglob("*.json")):
        if stale.relative_to(root).as_posix() not in wanted:
            stale.unlink()
            written.append(stale)
    return written


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("schemas")
    for path in write(root):
        print(f"{'wrote' if path.exists() else 'removed'} {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
