"""A session's MCP servers as agents get them (agents/mcp_servers.py): resolved once, the
directory wrapper really starting a server where it should, ACP's transports, secrets."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from parley.agents.mcp_servers import AgentServer, acp_servers, codex_config, session_servers
from parley.config import ConfigError, Settings
from parley.core import redact
from parley.engine.profiles import Profile
from parley.store.records import SessionRecord
from tests.mcp_tools.conftest import fake_command


def servers(tmp_path: Path, env: dict[str, str], **tables: dict[str, Any]) -> list[AgentServer]:
    record = SessionRecord("ses_x", str(tmp_path), "default", "codex", "default", "ask")
    record.mcp_servers = [{"name": "web", "url": "http://127.0.0.1:9/mcp", "headers": {}}]
    session = SimpleNamespace(record=record, profile=Profile("default"))
    settings = Settings(env=env, mcp_servers=tables)
    return session_servers(session, settings)  # type: ignore[arg-type]


def test_a_stdio_server_with_a_directory_of_its_own_starts_there(tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    argv = fake_command()
    tables = {"fake": {"command": argv[0], "args": argv[1:], "cwd": str(own)}}
    fake, web = servers(tmp_path, {}, **tables)

    assert web.http
    # What the agent runs, run here, from the session's directory: the server answers from its own.
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}
    call["params"] = {"name": "env", "arguments": {"name": "HOME"}}  # type: ignore[assignment]
    # Its input stays open until it has answered: it answers a call from another thread.
    with subprocess.Popen(
        [fake.command, *fake.args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    ) as server:
        assert server.stdin is not None
        assert server.stdout is not None
        server.stdin.write(json.dumps(call) + "\n")
        server.stdin.flush()
        out = server.stdout.readline()
        server.stdin.close()
    assert f" in {own}" in json.loads(out)["result"]["content"][0]["text"]


def test_env_and_headers_are_expanded_and_their_secrets_masked(tmp_path: Path) -> None:
    tables = {
        "api": {"url": "https://example.test/mcp", "headers": {"X-Api-Key": "${KEY}"}},
        "tool": {"command": "true", "env": {"SERVICE_TOKEN": "${TOKEN}", "MODE": "verbose-mode"}},
    }
    env = {"KEY": "header-key-0123456789", "TOKEN": "token-value-0123456789"}
    api, tool, _ = servers(tmp_path, env, **tables)

    assert api.headers == {"X-Api-Key": "header-key-0123456789"}
    assert tool.env["SERVICE_TOKEN"] == "token-value-0123456789"
    text = "header-key-0123456789 token-value-0123456789 verbose-mode"
    assert redact.redact(text) == "****6789 ****6789 verbose-mode"
    with pytest.raises(ConfigError, match=r"\$\{TOKEN\}"):
        servers(tmp_path, {"KEY": "k"}, **tables)


def test_acp_agents_get_http_servers_only_when_they_say_they_take_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tables = {"tool": {"command": "true", "args": ["-x"], "env": {"A": "1"}}}
    given = servers(tmp_path, {}, **tables)

    stdio = {
        "name": "tool",
        "command": given[0].command,
        "args": ["-x"],
        "env": [{"name": "A", "value": "1"}],
    }
    web = {"type": "http", "name": "web", "url": "http://127.0.0.1:9/mcp", "headers": []}
    assert acp_servers(given, {"mcpCapabilities": {"http": True}}, "a") == [stdio, web]
    with caplog.at_level(logging.WARNING, "parley.agents.mcp_servers"):
        assert acp_servers(given, {}, "gemini") == [stdio]
    assert "gemini does not take HTTP MCP servers; web is left out" in caplog.text


def test_codex_keys_its_servers_by_a_name_that_nests_nothing(tmp_path: Path) -> None:
    record = SessionRecord("ses_x", str(tmp_path), "default", "codex", "default", "ask")
    record.mcp_servers = [{"name": "my.docs", "url": "http://127.0.0.1:9/mcp", "headers": {}}]
    session = SimpleNamespace(record=record, profile=Profile("default"))
    given = session_servers(session, Settings())  # type: ignore[arg-type]

    config = codex_config(given)
    assert list(config) == ["mcp_servers.my_docs"]
    assert config["mcp_servers.my_docs"]["default_tools_approval_mode"] == "prompt"
