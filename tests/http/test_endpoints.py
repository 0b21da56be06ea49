"""Every endpoint of /api/v1 against a real daemon, and the errors each one gives."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import httpx

from tests.http.daemon import RunningDaemon


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert "Traceback" not in response.text
    error: dict[str, Any] = body["error"]
    return error


async def create(http: httpx.AsyncClient, workspace: Path, **fields: Any) -> str:
    answer = await http.post("/sessions", json={"cwd": str(workspace), **fields})
    assert answer.status_code == 201, answer.text
    session_id: str = answer.json()["metadata"]["session_id"]
    return session_id


async def test_health_and_status_answer(daemon: RunningDaemon) -> None:
    async with daemon.client() as http:
        health = (await http.get("/health")).json()
        assert health["status"] == "ok"
        assert health["uptime_seconds"] >= 0
        status = (await http.get("/status")).json()
        assert status["active_sessions"] == 0
        assert status["total_sessions"] == 0
        assert 0 < status["memory_mb"] < 1000


async def test_session_created_listed_got_and_deleted(
    daemon: RunningDaemon, workspace: Path
) -> None:
    async with daemon.client() as http:
        answer = await http.post(
            "/sessions",
            json={
                "name": "demo",
                "tags": ["a", "b"],
                "cwd": str(workspace),
                "permission_mode": "deny",
            },
        )
        assert answer.status_code == 201
        made = answer.json()
        session_id = made["metadata"]["session_id"]
        assert made["metadata"]["name"] == "demo"
        assert made["metadata"]["turns"] == 0
        assert made["context"]["cwd"] == str(workspace)
        assert made["config"] == {
            "profile": "default",
            "provider": "scripted",
            # A scripted session's model is its script, so it can be resumed without one.
            "model": str((workspace.parent / "script-0.json").resolve()),
            "permission_mode": "deny",
            "agent": None,
        }
        assert made["messages"] == []

        listed = (await http.get("/sessions", params={"tags": ["a", "b"]})).json()
        assert [s["metadata"]["session_id"] for s in listed["sessions"]] == [session_id]
        assert (await http.get("/sessions", params={"tags": ["zzz"]})).json()["sessions"] == []
        assert len((await http.get("/sessions", params={"days_back": 1})).json()["sessions"]) == 1
        assert (await http.get("/status")).json()["total_sessions"] == 1

        result = (await http.post(f"/sessions/{session_id}/execute", json={"prompt": "hi"})).json()
        assert result["content"] == "Hello from the daemon."
        assert result["stop_reason"] == "end_turn"
        assert result["error"] is None
        assert result["metadata"]["tokens"] == (
            result["metadata"]["input_tokens"] + result["metadata"]["output_tokens"]
        )

        got = (await http.get(f"/sessions/{session_id}")).json()
        assert got["metadata"]["turns"] == 1
        assert got["metadata"]["total_tokens"] > 0
        assert [m["role"] for m in got["messages"]] == ["user", "assistant"]
        page = (await http.get(f"/sessions/{session_id}", params={"limit": 1})).json()
        assert len(page["messages"]) == 1
        assert page["next_cursor"] == "1"
        rest = (
            await http.get(f"/sessions/{session_id}", params={"cursor": page["next_cursor"]})
        ).json()
        assert [m["role"] for m in rest["messages"]] == ["assistant"]

        assert (await http.delete(f"/sessions/{session_id}")).status_code == 204
        gone = await http.get(f"/sessions/{session_id}")
        assert gone.status_code == 404
        assert error_of(gone)["code"] == "SESSION_NOT_FOUND"


async def test_listing_pages_with_a_cursor(daemon: RunningDaemon, workspace: Path) -> None:
    async with daemon.client() as http:
        made = [await create(http, workspace) for _ in range(3)]
        first = (await http.get("/sessions", params={"limit": 2})).json()
        second = (
            await http.get("/sessions", params={"limit": 2, "cursor": first["next_cursor"]})
        ).json()
        seen = [s["metadata"]["session_id"] for s in first["sessions"] + second["sessions"]]
        assert sorted(seen) == sorted(made)
        assert second["next_cursor"] is None


async def test_session_errors_have_their_codes(daemon: RunningDaemon, workspace: Path) -> None:
    async with daemon.client() as http:
        for method, path in [
            ("GET", "/sessions/ses_nope"),
            ("DELETE", "/sessions/ses_nope"),
            ("POST", "/sessions/ses_nope/cancel"),
            ("GET", "/sessions/ses_nope/approvals"),
            ("GET", "/sessions/ses_nope/stream"),
        ]:
            answer = await http.request(method, path)
            assert answer.status_code == 404, (method, path)
            assert error_of(answer)["code"] == "SESSION_NOT_FOUND"
        answer = await http.post("/sessions/ses_nope/execute", json={"prompt": "x"})
        assert answer.status_code == 404
        bad_cwd = await http.post("/sessions", json={"cwd": "relative/dir"})
        assert bad_cwd.status_code == 400
        assert error_of(bad_cwd)["code"] == "INVALID_REQUEST"
        assert "absolute" in error_of(bad_cwd)["message"]
        no_profile = await http.post("/sessions", json={"cwd": str(workspace), "profile": "nope"})
        assert no_profile.status_code == 404
        assert error_of(no_profile)["code"] == "PROFILE_NOT_FOUND"
        bad_cursor = await http.get("/sessions", params={"cursor": "garbage"})
        assert bad_cursor.status_code == 400
        session_id = await create(http, workspace)
        bad_page = await http.get(f"/sessions/{session_id}", params={"cursor": "x"})
        assert bad_page.status_code == 400
        unknown = await http.get("/nowhere")
        assert unknown.status_code == 404
        assert error_of(unknown)["code"] == "NOT_FOUND"
        wrong_method = await http.put("/health")
        assert wrong_method.status_code == 405
        assert error_of(wrong_method)["code"] == "METHOD_NOT_ALLOWED"


async def test_busy_session_is_409_and_cancel_stops_the_turn(start: Any, workspace: Path) -> None:
    daemon = await start([{"type": "text", "text": "slow", "delayMs": 20_000}])
    async with daemon.client() as http:
        session_id = await create(http, workspace)
        async with http.stream(
            "POST", f"/sessions/{session_id}/execute", json={"prompt": "a", "stream": True}
        ) as turn:
            lines = turn.aiter_lines()
            assert await anext(lines) == ": stream open"
            busy = await http.post(f"/sessions/{session_id}/execute", json={"prompt": "b"})
            assert busy.status_code == 409
            assert error_of(busy)["code"] == "SESSION_BUSY"
            running = error_of(busy)["details"]["runningTurnId"]
            undeletable = await http.delete(f"/sessions/{session_id}")
            assert undeletable.status_code == 409
            status = (await http.get("/status")).json()
            assert status["active_sessions"] == 1
            cancelled = (await http.post(f"/sessions/{session_id}/cancel")).json()
            assert cancelled == {"cancelled": True, "turn_id": running}
            rest = [line async for line in lines]
        assert 'data: {"status":"cancelled"' in "\n".join(rest)
        again = (await http.post(f"/sessions/{session_id}/cancel")).json()
        assert again == {"cancelled": False, "turn_id": None}
        got = (await http.get(f"/sessions/{session_id}")).json()
        assert got["metadata"]["running_turn_id"] is None
        assert got["metadata"]["turns"] == 1


async def test_failed_turn_is_execution_failed(start: Any, workspace: Path) -> None:
    daemon = await start(
        [{"type": "error", "message": "the model fell over", "recoverable": False}]
    )
    async with daemon.client() as http:
        session_id = await create(http, workspace)
        answer = await http.post(f"/sessions/{session_id}/execute", json={"prompt": "x"})
        assert answer.status_code == 500
        error = error_of(answer)
        assert error["code"] == "EXECUTION_FAILED"
        assert "fell over" in error["message"]
        assert error["details"]["code"] == "provider_error"


async def test_rate_limited_turn_is_429(start: Any, workspace: Path) -> None:
    daemon = await start(
        [{"type": "error", "code": "rate_limited", "message": "slow down", "recoverable": False}],
        env={"PARLEY_MAX_RETRIES": "0"},
    )
    async with daemon.client() as http:
        session_id = await create(http, workspace)
        answer = await http.post(f"/sessions/{session_id}/execute", json={"prompt": "x"})
        assert answer.status_code == 429
        assert error_of(answer)["code"] == "RATE_LIMITED"


async def test_single_shot_execute_keeps_nothing(daemon: RunningDaemon, workspace: Path) -> None:
    async with daemon.client() as http:
        answer = await http.post("/execute", json={"prompt": "hi", "cwd": str(workspace)})
        assert answer.status_code == 200, answer.text
        assert answer.json()["content"] == "Hello from the daemon."
        async with http.stream(
            "POST", "/execute/stream", json={"prompt": "hi", "cwd": str(workspace)}
        ) as streamed:
            text = "\n".join([line async for line in streamed.aiter_lines()])
        assert "event: message" in text
        assert 'data: {"status":"completed"' in text
        assert (await http.get("/sessions")).json()["sessions"] == []
        assert (await http.get("/status")).json()["total_sessions"] == 0


async def test_profiles_and_the_current_one(daemon: RunningDaemon, workspace: Path) -> None:
    async with daemon.client() as http:
        listed = (await http.get("/profiles")).json()
        names = {p["name"] for p in listed["profiles"]}
        assert {"default", "code-reviewer"} <= names
        assert listed["current"] == "default"
        assert (await http.get("/profiles/code-reviewer")).json()["name"] == "code-reviewer"
        missing = await http.get("/profiles/nope")
        assert missing.status_code == 404
        assert error_of(missing)["code"] == "PROFILE_NOT_FOUND"
        assert (await http.get("/profiles/current")).json()["name"] == "default"
        changed = await http.put("/profiles/current", json={"profile_name": "code-reviewer"})
        assert changed.status_code == 200
        assert changed.json()["name"] == "code-reviewer"
        assert (await http.get("/profiles/current")).json()["name"] == "code-reviewer"
        session_id = await create(http, workspace)
        got = (await http.get(f"/sessions/{session_id}")).json()
        assert got["config"]["profile"] == "code-reviewer"
        refused = await http.put("/profiles/current", json={"profile_name": "nope"})
        assert refused.status_code == 404


async def test_config_masks_secrets_and_updates_the_file(
    start: Any, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    config_dir = Path(isolated_env["PARLEY_CONFIG_DIR"])
    config_dir.mkdir(parents=True)
    config = config_dir / "config.toml"
    config.write_text(
        "# my settings\nmax_turns = 7\n\n"
        '[providers.anthropic]\napi_key = "sk-ant-0123456789abcdef"\n'
    )
    daemon = await start()
    async with daemon.client() as http:
        shown = (await http.get("/config")).json()
        assert shown["settings"]["max_turns"] == 7
        assert "0123456789abcdef" not in str(shown)
        assert shown["settings"]["providers"]["anthropic"]["api_key"].startswith("****")
        assert shown["config_file"] == str(config)

        updated = await http.put(
            "/config", json={"max_turns": 3, "permission_mode": "deny", "daemon": {"port": 9000}}
        )
        assert updated.status_code == 200, updated.text
        body = updated.json()
        assert set(body["applied"]) == {"max_turns", "permission_mode"}
        assert body["restart_required"] == ["daemon"]
        assert body["settings"]["max_turns"] == 3
        written = config.read_text()
        assert written.startswith("# my settings")  # the user's comments are kept
        assert tomllib.loads(written)["daemon"] == {"port": 9000}
        # The provider was given by the environment: written, but the environment still wins.
        overridden = (await http.put("/config", json={"provider": "openai"})).json()
        assert overridden["overridden"] == ["provider"]
        assert overridden["applied"] == []

        bad = await http.put("/config", json={"daemon": {"port": "x"}})
        assert bad.status_code == 400
        assert "daemon.port" in error_of(bad)["message"]
        unknown = await http.put("/config", json={"nope": 1})
        assert unknown.status_code == 400
        assert tomllib.loads(config.read_text())["daemon"] == {"port": 9000}


async def test_modules_and_providers(daemon: RunningDaemon) -> None:
    async with daemon.client() as http:
        modules = (await http.get("/config/modules")).json()
        assert {"read_file", "bash", "edit_file"} <= {t["name"] for t in modules["tools"]}
        assert modules["mcp_servers"] == []
        providers = (await http.get("/config/providers")).json()
        by_name = {p["name"]: p for p in providers["providers"]}
        assert by_name["scripted"]["available"] is True
        assert by_name["anthropic"]["available"] is False
        assert providers["default"] == "scripted"


async def test_docs_are_served_offline(daemon: RunningDaemon) -> None:
    async with httpx.AsyncClient(base_url=daemon.url) as http:
        for page, asset in [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")]:
            html = (await http.get(page)).text
            assert f"/static-offline-docs/{asset}" in html
            assert "cdn" not in html.lower()
            script = await http.get(f"/static-offline-docs/{asset}")
            assert script.status_code == 200
            assert len(script.content) > 100_000
        schema = (await http.get("/openapi.json")).json()
        assert schema["openapi"].startswith("3.1")
        assert "/api/v1/sessions/{session_id}/stream" in schema["paths"]


async def test_configured_mcp_servers_are_listed_without_their_secrets(
    start: Any, isolated_env: dict[str, str]
) -> None:
    config_dir = Path(isolated_env["PARLEY_CONFIG_DIR"])
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text(
        '[mcp_servers.web]\nurl = "http://127.0.0.1:9/mcp"\n'
        'headers = { Authorization = "Bearer sk-0123456789abcdef" }\n'
    )
    daemon = await start()
    async with daemon.client() as http:
        modules = (await http.get("/config/modules")).json()
        assert modules["mcp_servers"] == [
            {"name": "web", "transport": "http", "enabled": True, "trusted": False}
        ]
        assert "0123456789abcdef" not in (await http.get("/config")).text
