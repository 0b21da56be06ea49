"""The layers of docs/architecture.md hold: each package imports only what it may."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "parley"

# What each package may import of Parley's (besides itself). docs/architecture.md explains why.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "protocol": {"core"},
    "store": {"core", "protocol"},
    "tools": {"core", "protocol", "config", "(root)"},
    "providers": {"core", "protocol", "config"},
    "config": {"core", "providers", "engine", "tools", "agents"},  # validation, in functions
    "engine": {"core", "protocol", "config", "store", "providers", "tools", "agents"},
    "agents": {"core", "protocol", "config", "engine", "tools", "(root)"},
    "doors": set(),
    "doors.jsonrpc": {"core", "protocol", "config", "store", "engine"},
    "doors.stdio": {"core", "protocol", "config", "store", "engine", "doors.jsonrpc", "(root)"},
    "doors.http": {"core", "protocol", "config", "store", "engine", "(root)"},
    "doors.acp": {
        "core",
        "protocol",
        "config",
        "store",
        "engine",
        "tools",
        "doors.jsonrpc",
        "(root)",
    },
    "client": {"core", "protocol", "doors.jsonrpc", "(root)"},
}
# Imported inside a function, never at module level: what the layer table marks as validation.
LAZY_ONLY = {
    ("config", "providers"),
    ("config", "engine"),
    ("config", "tools"),
    ("config", "agents"),
    ("engine", "agents"),
}


def _package(path: Path) -> str:
    parts = path.relative_to(SRC).parts
    if parts[0] == "doors" and len(parts) > 2:
        return f"doors.{parts[1]}"
    return parts[0] if len(parts) > 1 else "(root)"


def _target(module: str) -> str:
    parts = module.split(".")
    if len(parts) < 2:
        return "(root)"
    if parts[1] == "doors" and len(parts) > 2:
        return f"doors.{parts[2]}"
    return parts[1]


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported package, at module level) for each import of Parley's in the file."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        names = (
            [node.module]
            if isinstance(node, ast.ImportFrom) and node.module
            else [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else []
        )
        for name in names:
            if name == "parley" or name.startswith("parley."):
                found.append((_target(name), id(node) in top))
    return found


def test_every_package_imports_only_the_layers_below_it() -> None:
    wrong: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        package = _package(path)
        if package not in ALLOWED:
            continue  # cli and the entry points may use everything
        for target, at_top in _imports(path):
            if target == package:
                continue
            if target not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(SRC)} imports {target}")
            elif at_top and (package, target) in LAZY_ONLY:
                wrong.append(f"{path.relative_to(SRC)} imports {target} at module level")
    assert wrong == []


def test_the_table_names_every_package() -> None:
    packages = {_package(p) for p in SRC.rglob("*.py")}
    assert packages - set(ALLOWED) == {"cli", "(root)"}
