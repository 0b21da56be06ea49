"""The agent CLIs as the tests find them, and services whose sessions run on them.

The CLIs are installed by .ci/install-agents into ~/.cache/parley-ci/agents (or
PARLEY_AGENT_CLIS). Where one is missing the test skips with the reason, except in CI,
where that is a failure: CI installs them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from parley.config import Settings
from parley.engine.service import Service
from parley.protocol import types as wire
from parley.store.base import Store
from parley.store.sqlite import open_store
from tests.mcp_tools.conftest import fake_command, serving
from tests.providers.fake_server import FakeServer

CLIS = Path(os.environ.get("PARLEY_AGENT_CLIS", "~/.cache/parley-ci/agents")).expanduser()
BIN = CLIS / "node_modules" / ".bin"


def cli(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        reason = f"{name} is not installed in {CLIS}; run .ci/install-agents"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def base_env(home: Path) -> dict[str, str]:
    """A clean environment: no real credentials or config, the CLIs first on PATH."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("PARLEY_", "ANTHROPIC_", "OPENAI_", "CODEX_", "GEMINI_", "GOOGLE_", "CLAUDE", "AMP_")
        )
    }
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
    return env


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer().start()
    yield fake
    fake.stop()


class Agents:
    """A service (SQLite store in tmp) whose sessions run on an agent."""

    def __init__(self, tmp_path: Path, env: Mapping[str, str], **settings: Any) -> None:
        self.cwd = tmp_path / "project"
        self.cwd.mkdir(exist_ok=True)
        self.settings = Settings(
            env=dict(env), data_dir=str(tmp_path / "data"), **{"approval_timeout": 30.0, **settings}
        )
        self.store: Store = open_store(self.settings.data_path())
        self.service = Service(self.settings, self.store)

    def session(self, agent: str, mode: str = "ask", **params: Any) -> str:
        return self.service.create_session(
            wire.SessionCreateParams(cwd=str(self.cwd), agent=agent, permission_mode=mode, **params)  # type: ignore[arg-type]
        ).session_id

    async def restart(self) -> None:
        """A new service on the same store: a later Parley process."""
        await self.service.shutdown()
        self.service = Service(self.settings, self.store)

    async def close(self) -> None:
        await self.service.shutdown()
        self.store.close()


# --- Parley's MCP servers, for an agent to start -------------------------------------------

MCP_TOKEN = "mcp-token-5ecret-in-env"
HEADER_TOKEN = "Bearer header-5ecret-value"


class McpServers:
    """Two MCP servers configured in Parley, each recording what reached it: the hand-written
    stdio server from the config file (`fake`: its env from Parley's environment, a directory
    of its own) and an HTTP one the host gives at session/create (`web`, with a header)."""

    def __init__(self, tmp_path: Path, url: str, headers: list[dict[str, str]]) -> None:
        self.calls_file = tmp_path / "mcp-calls.txt"
        self.directory = tmp_path / "mcp-dir"
        self.directory.mkdir()
        self.url = url
        self.headers = headers
        argv = fake_command("--calls", str(self.calls_file))
        self.settings: dict[str, Any] = {
            "mcp_servers": {
                "fake": {
                    "command": argv[0],
                    "args": argv[1:],
                    "env": {"FAKE_TOKEN": "${PARLEY_TEST_MCP_VALUE}"},
                    "cwd": str(self.directory),
                }
            }
        }
        self.env = {"PARLEY_TEST_MCP_VALUE": MCP_TOKEN}
        self.session: list[wire.McpServer] = [
            wire.McpServerHttp(
                type="http",
                name="web",
                url=url,
                headers=[wire.NameValue("Authorization", HEADER_TOKEN)],
            )
        ]

    def calls(self) -> list[str]:
        """The fake server's tool calls, as "start NAME" / "end NAME" lines."""
        return self.calls_file.read_text().split("\n")[:-1] if self.calls_file.exists() else []

    def authorized(self) -> bool:
        """Whether a request reached the HTTP server with the session's header."""
        return any(h.get("authorization") == HEADER_TOKEN for h in self.headers)


@pytest.fixture
def mcp(tmp_path: Path) -> Iterator[McpServers]:
    from tests.mcp_tools.web_server import web_server

    app = web_server().streamable_http_app()
    headers: list[dict[str, str]] = []

    async def recording(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await app(scope, receive, send)

    with serving(recording) as url:
        yield McpServers(tmp_path, url, headers)
