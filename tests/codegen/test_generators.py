"""Third-party code generators, run on schemas/v1/ as a host's developer would, make one type per
concept, named as the schemas name it: no `PermissionMode` made nine times, no `Empty` or
`SessionInfo` claimed by several files, no names invented from file or property names.

datamodel-code-generator comes with the dev install (PyPI); quicktype and
json-schema-to-typescript come from tests/codegen/package.json (`npm ci` in this folder). Without
them the npm half is skipped, except in CI, where a missing generator fails the run.
"""

from __future__ import annotations

import ast
import collections
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from parley.protocol.schemagen import DEFINITIONS, EXAMPLES, messages, own_types
from parley.protocol.types import NAMED_STRINGS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCHEMAS = ROOT / "schemas" / "v1"
NODE_BIN = HERE / "node_modules" / ".bin"
SCHEMA_FILES = sorted(str(p) for p in SCHEMAS.rglob("*.json"))


def _titles() -> set[str]:
    """Every name the schemas give: file titles, $defs entries, titled inline schemas."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("title"), str):
                found.add(node["title"])
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    for prop in value.values():
                        walk(prop)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in SCHEMA_FILES:
        walk(json.loads(Path(path).read_text(encoding="utf-8")))
    return found


TITLES = _titles()
# The concepts a host needs a type for: every message's type, every shared definition, the codes.
CONCEPTS = (
    {m.type.__name__ for m in messages()}
    | set(json.loads((SCHEMAS / DEFINITIONS).read_text(encoding="utf-8"))["$defs"])
    | {"ErrorCode"}
)
# A name with a number or a colour in it is a generator telling two copies of one type apart.
COPY = re.compile(r"\d$|^(Purple|Fluffy|Tentacled|Sticky|Indigo|Indecent|Hilarious|Ambitious)")


def _npm_tool(name: str) -> Path:
    tool = NODE_BIN / name
    if not tool.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing: .ci/run runs `npm ci` in tests/codegen")
        pytest.skip(f"run `npm ci` in {HERE} for {name}")
    return tool


def _run(argv: list[str], cwd: Path) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{argv[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_concepts_are_the_names() -> None:
    """The premise of the checks below: every concept has a title, and every title a concept
    (but for the definitions file's root and the titled inline literals)."""
    assert CONCEPTS <= TITLES
    inline_literals = {
        "TextContentType",
        "ImageContentType",
        "McpServerStdioType",
        "McpServerHttpType",
    }
    assert {"ParleyDefinitions", *inline_literals} == TITLES - CONCEPTS
    assert not [name for name in TITLES if COPY.search(name)]


def test_datamodel_code_generator_makes_one_class_per_concept(tmp_path: Path) -> None:
    package = tmp_path / "parley_models"
    _run(
        [
            str(Path(sys.executable).with_name("datamodel-codegen")),
            "--input",
            str(SCHEMAS),
            "--input-file-type",
            "jsonschema",
            "--output",
            str(package),
            "--output-model-type",
            "pydantic_v2.BaseModel",
            "--disable-timestamp",
        ],
        tmp_path,
    )
    classes: collections.Counter[str] = collections.Counter()
    for module in package.rglob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        classes.update(node.name for node in tree.body if isinstance(node, ast.ClassDef))
    assert [name for name, n in classes.items() if n > 1] == [], "a concept made twice"
    assert set(classes) - TITLES == set(), "classes named by no schema"
    assert CONCEPTS - set(classes) == set(), "concepts with no class"

    # The classes accept every example message, so they describe the wire, not just its names.
    sys.path.insert(0, str(tmp_path))
    try:
        for message in messages():
            name = message.type.__name__
            if name in own_types():
                stem = message.file.removesuffix(".json").replace(".", "_").replace("-", "_")
                module = importlib.import_module("parley_models." + stem.replace("/", "."))
            else:
                module = importlib.import_module("parley_models.definitions")
            model = getattr(module, name)
            examples = ROOT / "schemas" / EXAMPLES / message.file
            for example in json.loads(examples.read_text(encoding="utf-8")):
                model.model_validate(example)
    finally:
        sys.path.remove(str(tmp_path))
        for loaded in [m for m in sys.modules if m.partition(".")[0] == "parley_models"]:
            del sys.modules[loaded]


# quicktype merges the members of a union of objects into one class (ContentBlock, McpServer)
# and names the union of their `type` literals (TextContentType | ImageContentType) itself; it
# also merges McpTransport with the MCP servers' `type` literals into one enum it calls Mcp.
QUICKTYPE_MERGED = {"ContentType", "Mcp"}


def test_quicktype_makes_one_type_per_concept(tmp_path: Path) -> None:
    out = tmp_path / "types.ts"
    tool = _npm_tool("quicktype")
    _run(
        [
            str(tool),
            "--lang",
            "ts",
            "--src-lang",
            "schema",
            "--just-types",
            "--acronym-style",
            "original",
            "-o",
            str(out),
            *SCHEMA_FILES,
        ],
        tmp_path,
    )
    declared = collections.Counter(
        re.findall(r"^(?:export )?(?:interface|type|enum|class) (\w+)", out.read_text(), re.M)
    )
    assert [name for name, n in declared.items() if n > 1] == []
    assert set(declared) - TITLES == QUICKTYPE_MERGED, "types named by no schema"
    # quicktype types an object with no properties as a map, so Empty is no type of its own, and
    # a string with limits (Tag, DirectoryPath, PromptText) as a plain string.
    strings = {tp.__name__ for tp in NAMED_STRINGS}
    assert CONCEPTS - set(declared) == {"Empty", "McpTransport", *strings}, "concepts with no type"


def test_json_schema_to_typescript_names_every_type_as_the_schemas_do(tmp_path: Path) -> None:
    """json2ts writes one file per schema, each declaring what it uses; within a file nothing is
    declared twice, nothing is renamed, and a name means the same type in every file."""
    tool = _npm_tool("json2ts")
    out = tmp_path / "out"
    _run([str(tool), "-i", f"{SCHEMAS}/**/*.json", "-o", str(out)], tmp_path)
    outputs = sorted(out.rglob("*.d.ts"))
    assert len(outputs) == len(SCHEMA_FILES)
    declarations: dict[str, set[str]] = collections.defaultdict(set)
    everywhere: set[str] = set()
    pattern = re.compile(
        r"^export (?:interface|type) (\w+)(.*?)(?=^export |^/\*\*|\Z)", re.M | re.S
    )
    for output in outputs:
        found = pattern.findall(output.read_text())
        names = collections.Counter(name for name, _ in found)
        assert [name for name, n in names.items() if n > 1] == [], output.name
        for name, body in found:
            declarations[name].add(body.strip())
        everywhere |= set(names)
    assert everywhere - TITLES == set(), "types named by no schema"
    assert CONCEPTS - everywhere == set(), "concepts with no type"
    assert [name for name, bodies in declarations.items() if len(bodies) > 1] == []


def test_generators_meet_no_examples_or_index_in_the_schema_folder() -> None:
    for path in SCHEMA_FILES:
        assert json.loads(Path(path).read_text(encoding="utf-8"))["$schema"], path
    assert shutil.which("node") is not None or not os.environ.get("CI")
