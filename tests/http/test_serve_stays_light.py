"""The HTTP door's dependencies (FastAPI, pydantic, uvicorn, httpx) stay off `parley serve`:
its start-up time is a feature."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("fastapi", "pydantic", "starlette", "uvicorn", "httpx", "parley.doors.http")


def test_parley_serve_never_imports_the_http_stack(
    isolated_env: dict[str, str], workspace: Path
) -> None:
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "agent/initialize",
            "params": {"protocolVersion": 1, "clientInfo": {"name": "t"}},
        },
        {"jsonrpc": "2.0", "id": 2, "method": "session/list", "params": {}},
    ]
    stdin = "".join(json.dumps(r) + "\n" for r in requests)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "parley", "serve", "--ephemeral"],
        input=stdin,
        capture_output=True,
        text=True,
        env=isolated_env,
        cwd=workspace,
        timeout=60,
    )
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["id"] for a in answers] == [1, 2]
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "parley.doors.stdio.app" in imported  # the check sees the server's imports
    loaded = sorted(m for m in imported if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
    assert loaded == []
