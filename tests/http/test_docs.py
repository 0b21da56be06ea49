"""docs/http.md shows every route of the daemon's OpenAPI document with a curl example, and
every error code the daemon answers with."""

from __future__ import annotations

import re
from pathlib import Path

from parley.config import load_settings
from parley.doors.http.app import create_app
from parley.doors.http.context import Daemon
from parley.doors.http.errors import _HTTP_CODES, _MAPPED
from parley.doors.http.settings import DaemonSettings
from parley.engine.service import Service
from parley.store.memory import MemoryStore

DOC = Path(__file__).resolve().parents[2] / "docs" / "http.md"


def test_every_route_has_a_curl_example(tmp_path: Path) -> None:
    settings = load_settings({}, {"PARLEY_HOME": str(tmp_path)}, tmp_path / "none.toml")
    app = create_app(Daemon(Service(settings, MemoryStore()), DaemonSettings(), tmp_path))
    text = DOC.read_text(encoding="utf-8")
    curls = [line for line in text.splitlines() if "curl" in line or line.startswith("     -d")]
    shown = "\n".join(curls)
    paths = app.openapi()["paths"]
    assert len(paths) >= 17
    for path, operations in paths.items():
        pattern = re.escape(path.removeprefix("/api/v1")).replace(r"\{", "{").replace(r"\}", "}")
        pattern = re.sub(r"\{[a-z_]+\}", r"[^/\\s?\"]+", pattern)
        for method in operations:
            verb = "" if method == "get" else rf"-X {method.upper()} "
            assert re.search(rf"{verb}[^\n]*\$U{pattern}(?![/\w])", shown), (method, path)


def test_every_error_code_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    codes = {code for _, code in _MAPPED.values()} | set(_HTTP_CODES.values())
    codes |= {"UNAUTHORIZED", "FORBIDDEN", "EXECUTION_FAILED"}
    for code in codes:
        assert f"`{code}`" in text, code
