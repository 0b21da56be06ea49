"""POST /sessions and the single-shot POST /execute with what session/create takes on stdio:
an external agent (`agent`) and MCP servers of the session's own (`mcp_servers`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.http.conftest import StartDaemon
from tests.http.test_endpoints import create, error_of
from tests.mcp_tools.conftest import fake_command

SECRET = "sk-http-0123456"  # short: a quoted object would show all of it


def fake_server(name: str = "fake", **env: str) -> dict[str, Any]:
    """A session's stdio MCP server: the hand-written fake of tests/mcp_tools/."""
    command, *args = fake_command()
    return {
        "name": name,
        "command": command,
        "args": args,
        "env": [{"name": k, "value": v} for k, v in env.items()],
    }


def write_config(isolated_env: dict[str, str], text: str) -> None:
    config_dir = Path(isolated_env["PARLEY_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(text)


async def test_a_sessions_mcp_server_serves_its_turn(start: StartDaemon, workspace: Path) -> None:
    daemon = await start(
        [{"type": "tool_call", "name": "mcp__fake__env", "input": {"name": "FAKE_GREETING"}}],
        [{"type": "text", "text": "Read it."}],
    )
    server = fake_server(FAKE_GREETING="hello-over-http", FAKE_API_TOKEN=SECRET)
    async with daemon.client() as http:
        made = await http.post(
            "/sessions",
            json={"cwd": str(workspace), "permission_mode": "allow", "mcp_servers": [server]},
        )
        assert made.status_code == 201, made.text
        session_id = made.json()["metadata"]["session_id"]
        ran = await http.post(f"/sessions/{session_id}/execute", json={"prompt": "read it"})
        assert ran.status_code == 200, ran.text
        assert ran.json()["content"] == "Read it."
        got = await http.get(f"/sessions/{session_id}")
        results = [
            block
            for message in got.json()["messages"]
            for block in message["content"]
            if block["type"] == "tool_result"
        ]
        assert len(results) == 1
        assert "FAKE_GREETING=hello-over-http" in json.dumps(results[0])
        listed = await http.get("/sessions")
        for answer in (made, ran, got, listed):
            assert SECRET not in answer.text
    await daemon.stop()
    assert SECRET not in await daemon.stderr()


async def test_a_single_shot_turn_takes_mcp_servers_too(
    start: StartDaemon, workspace: Path
) -> None:
    daemon = await start(
        [{"type": "tool_call", "name": "mcp__fake__echo", "input": {"text": "once"}}],
        [{"type": "text", "text": "Echoed."}],
    )
    async with daemon.client() as http:
        ran = await http.post(
            "/execute",
            json={
                "prompt": "echo",
                "cwd": str(workspace),
                "permission_mode": "allow",
                "mcp_servers": [fake_server()],
            },
        )
        assert ran.status_code == 200, ran.text
        assert ran.json()["content"] == "Echoed."
        assert ran.json()["stop_reason"] == "end_turn"


async def test_a_session_on_an_agent_runs_its_turn(
    start: StartDaemon, isolated_env: dict[str, str], tmp_path: Path, workspace: Path
) -> None:
    """`parley acp` on the scripted provider, configured as the agent `parley`."""
    inner = tmp_path / "inner"
    script = tmp_path / "inner-script.json"
    script.write_text(json.dumps({"responses": [[{"type": "text", "text": "From the agent."}]]}))
    agent_env = {
        "PARLEY_HOME": str(inner / "data"),
        "PARLEY_CONFIG_DIR": str(inner / "config"),
        "PARLEY_PROVIDER": "scripted",
        "PARLEY_SCRIPT": str(script),
    }
    write_config(
        isolated_env,
        "[agents.parley]\n"
        f"command = {json.dumps([sys.executable, '-m', 'parley', 'acp'])}\n"
        f"env = {{ {', '.join(f'{k} = {json.dumps(v)}' for k, v in agent_env.items())} }}\n",
    )
    daemon = await start()
    async with daemon.client() as http:
        session_id = await create(http, workspace, agent="parley")
        got = (await http.get(f"/sessions/{session_id}")).json()
        assert got["config"]["agent"] == "parley"
        assert got["config"]["provider"] == "parley"
        ran = await http.post(f"/sessions/{session_id}/execute", json={"prompt": "hi"})
        assert ran.status_code == 200, ran.text
        assert ran.json()["content"] == "From the agent."
        assert ran.json()["stop_reason"] == "end_turn"


@pytest.mark.parametrize("path", ["/sessions", "/execute"])
async def test_an_unknown_agent_is_refused_and_nothing_is_stored(
    start: StartDaemon, workspace: Path, path: str
) -> None:
    daemon = await start()
    async with daemon.client() as http:
        for agent, says in (("nope", "no agent named 'nope'"), ("Not A Name", "must match")):
            body = {"cwd": str(workspace), "agent": agent, "prompt": "hi"}
            if path == "/sessions":
                del body["prompt"]
            answer = await http.post(path, json=body)
            assert answer.status_code == 400, answer.text
            error = error_of(answer)
            assert error["code"] == "INVALID_REQUEST"
            assert says in error["message"]
            assert error["details"]["pointer"] == "/agent"
        assert (await http.get("/sessions")).json()["sessions"] == []


MALFORMED: list[tuple[Any, str]] = [
    ("fake", "body.mcp_servers"),
    ([42], "body.mcp_servers.0"),
    ([{"env": [{"name": "API_TOKEN", "value": SECRET}], "name": "fake"}], "/mcp_servers/0"),
    ([{**fake_server(), "args": "--tools"}], "/mcp_servers/0"),
    ([{"type": "http", "name": "web", "url": "ftp://example.com"}], "/mcp_servers/0"),
    (
        [{"type": "http", "name": "web", "url": "http://x", "headers": [{"name": "A"}]}],
        "/mcp_servers/0",
    ),
    ([fake_server(), fake_server(API_TOKEN=SECRET)], "/mcp_servers/1/name"),
]


@pytest.mark.parametrize(("servers", "where"), MALFORMED)
async def test_malformed_mcp_servers_are_400_and_never_echo_a_secret(
    start: StartDaemon, workspace: Path, servers: Any, where: str
) -> None:
    daemon = await start()
    async with daemon.client() as http:
        for path, extra in (("/sessions", {}), ("/execute", {"prompt": "hi"})):
            answer = await http.post(
                path, json={"cwd": str(workspace), "mcp_servers": servers, **extra}
            )
            assert answer.status_code == 400, answer.text
            error = error_of(answer)
            assert error["code"] == "INVALID_REQUEST"
            shown = error["details"].get("pointer") or error["message"]
            assert shown.startswith(where), error
            assert "mcpServers" not in answer.text
            assert SECRET not in answer.text
        assert (await http.get("/sessions")).json()["sessions"] == []
    await daemon.stop()
    assert SECRET not in await daemon.stderr()


async def test_the_openapi_document_declares_session_creates_types(
    start: StartDaemon,
) -> None:
    daemon = await start()
    async with httpx.AsyncClient(base_url=daemon.url) as http:
        schema = (await http.get("/openapi.json")).json()
    for model in ("SessionCreate", "SingleShot"):
        fields = schema["components"]["schemas"][model]["properties"]
        servers = fields["mcp_servers"]
        assert servers["type"] == "array"
        stdio, over_http = servers["items"]["anyOf"]
        assert stdio["required"] == ["name", "command"]
        assert over_http["properties"]["url"]["pattern"] == "^https?://"
        assert "$ref" not in json.dumps(servers)
        agent, null = fields["agent"]["anyOf"]
        assert agent["pattern"] == "^[a-z][a-z0-9-]{0,63}$"
        assert null == {"type": "null"}
