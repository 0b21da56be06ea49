"""Who may call the daemon, and what it refuses: keys, Host, Origin, bad and huge bodies."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.http.daemon import RunningDaemon, refused_start
from tests.http.test_endpoints import create, error_of

KEY = "k3y-0123456789abcdef-secret"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "api-key"
    path.write_text(KEY + "\n")
    return path


async def test_api_key_is_required_everywhere_but_health_and_docs(
    start: Any, key_file: Path, workspace: Path
) -> None:
    daemon: RunningDaemon = await start(args=("--api-key-file", str(key_file)))
    async with httpx.AsyncClient(base_url=daemon.url) as http:
        for path in ("/api/v1/health", "/docs", "/redoc", "/openapi.json"):
            assert (await http.get(path)).status_code == 200, path
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"}):
            refused = await http.get("/api/v1/sessions", headers=headers)
            assert refused.status_code == 401
            assert error_of(refused)["code"] == "UNAUTHORIZED"
            assert refused.headers["www-authenticate"] == "Bearer"
            assert KEY not in refused.text
        ok = await http.get("/api/v1/sessions", headers={"Authorization": f"Bearer {KEY}"})
        assert ok.status_code == 200
        # EventSource cannot set headers: the key may come as a query parameter.
        assert (await http.get(f"/api/v1/status?access_token={KEY}")).status_code == 200
        assert (await http.get("/api/v1/status?access_token=nope")).status_code == 401
        # With a key, any Host is served (behind a reverse proxy, say).
        proxied = await http.get(
            "/api/v1/status", headers={"Authorization": f"Bearer {KEY}", "Host": "parley.example"}
        )
        assert proxied.status_code == 200
    await daemon.stop()
    assert KEY not in await daemon.stderr()


async def test_non_loopback_host_names_are_refused_without_a_key(daemon: RunningDaemon) -> None:
    async with httpx.AsyncClient(base_url=daemon.url) as http:
        port = daemon.url.rsplit(":", 1)[1]
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "localhost"):
            assert (await http.get("/api/v1/health", headers={"Host": host})).status_code == 200
        for host in (f"attacker.example:{port}", "10.0.0.1", f"127.0.0.1.nip.io:{port}"):
            refused = await http.get("/api/v1/health", headers={"Host": host})
            assert refused.status_code == 403, host
            assert error_of(refused)["code"] == "FORBIDDEN"


async def test_browser_origins_must_be_allowed(start: Any) -> None:
    allowed = "http://localhost:3000"
    daemon: RunningDaemon = await start(args=("--allowed-origin", allowed))
    async with httpx.AsyncClient(base_url=daemon.url) as http:
        own = daemon.url
        assert (await http.get("/api/v1/health", headers={"Origin": own})).status_code == 200
        ok = await http.get("/api/v1/health", headers={"Origin": allowed})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == allowed
        preflight = await http.options(
            "/api/v1/sessions",
            headers={"Origin": allowed, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 200
        for origin in ("http://evil.example", "null", "http://localhost:3001"):
            refused = await http.get("/api/v1/health", headers={"Origin": origin})
            assert refused.status_code == 403, origin
            assert "allowed_origins" in error_of(refused)["message"]


async def test_bad_bodies_are_400_and_lose_nothing(daemon: RunningDaemon, workspace: Path) -> None:
    async with daemon.client() as http:
        session_id = await create(http, workspace)
        json_headers = {"Content-Type": "application/json"}
        cases: list[tuple[str, Any]] = [
            ("/sessions", {"tags": "not-a-list"}),
            ("/sessions", {"name": 5}),
            ("/sessions", {"unknown": True}),
            ("/sessions", {"permission_mode": "yolo"}),
            (f"/sessions/{session_id}/execute", {"prompt": 5}),
            (f"/sessions/{session_id}/execute", {}),
            (f"/sessions/{session_id}/execute", {"prompt": ""}),
            (f"/sessions/{session_id}/execute", []),
        ]
        for path, body in cases:
            answer = await http.post(path, json=body)
            assert answer.status_code == 400, (path, body, answer.text)
            error = error_of(answer)
            assert error["code"] == "INVALID_REQUEST"
            assert error["details"]["errors"]
        raw_cases = [
            b'{"prompt": "\xff\xfe broken utf-8"}',
            b'{"prompt": "\\ud800 lone surrogate"}',
            b'{"prompt": "unterminated',
            b"",
        ]
        for raw in raw_cases:
            answer = await http.post(
                f"/sessions/{session_id}/execute", content=raw, headers=json_headers
            )
            assert answer.status_code == 400, (raw, answer.text)
            assert error_of(answer)["code"] == "INVALID_REQUEST"
        surrogate_name = await http.post(
            "/sessions", content=b'{"name": "a\\udfffb"}', headers=json_headers
        )
        assert surrogate_name.status_code == 400
        # Nothing was run or stored by any of it, and the daemon still serves.
        got = (await http.get(f"/sessions/{session_id}")).json()
        assert got["metadata"]["turns"] == 0
        assert (await http.get("/status")).json()["total_sessions"] == 1


async def test_oversized_bodies_are_413(daemon: RunningDaemon, workspace: Path) -> None:
    async with daemon.client() as http:
        session_id = await create(http, workspace)
        big = b'{"prompt": "' + b"x" * (50 * 1024 * 1024) + b'"}'
        declared = await http.post(
            f"/sessions/{session_id}/execute",
            content=big,
            headers={"Content-Type": "application/json"},
        )
        assert declared.status_code == 413
        assert error_of(declared)["code"] == "PAYLOAD_TOO_LARGE"

        async def chunks() -> Any:
            for _ in range(12):
                yield b"x" * (1024 * 1024)

        chunked = await http.post(
            f"/sessions/{session_id}/execute",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
        assert chunked.status_code == 413
        assert (await http.get("/health")).status_code == 200


async def test_public_address_without_a_key_refuses_to_start(
    isolated_env: dict[str, str], key_file: Path
) -> None:
    code, err = await refused_start(isolated_env, "--host", "0.0.0.0")
    assert code == 2
    assert "refusing to listen on 0.0.0.0 without an API key" in err
    assert "Traceback" not in err


async def test_settings_come_from_flags_env_and_the_config_file(
    start: Any, isolated_env: dict[str, str], tmp_path: Path
) -> None:
    config_dir = Path(isolated_env["PARLEY_CONFIG_DIR"])
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text(
        f'[daemon]\nallowed_origins = ["http://from-file"]\ndefault_working_dir = "{tmp_path}"\n'
        "max_body_bytes = 100\n"
    )
    daemon: RunningDaemon = await start(env={"PARLEY_DAEMON_MAX_BODY_BYTES": "2000"})
    async with daemon.client() as http:
        assert (
            await http.get("/health", headers={"Origin": "http://from-file"})
        ).status_code == 200
        made = (await http.post("/sessions", json={})).json()
        assert made["context"]["cwd"] == str(tmp_path)
        # The environment (2000) wins over the file (100).
        fits = await http.post("/sessions", json={"name": "x" * 500})
        assert fits.status_code == 201
        too_big = await http.post("/sessions", json={"name": "x" * 900, "tags": ["y" * 200] * 8})
        assert too_big.status_code == 413


async def _raw(url: str, request: bytes, wait: float) -> bytes:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    try:
        return await asyncio.wait_for(reader.read(), wait)
    finally:
        writer.close()


async def test_slow_and_oversized_headers_are_cut_off(start: Any) -> None:
    daemon: RunningDaemon = await start(env={"PARLEY_DAEMON_HEADER_TIMEOUT": "0.5"})
    # Connects and sends nothing, or drips half a request: 408, then the connection closes.
    for partial in (b"", b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"):
        answer = await _raw(daemon.url, partial, 10)
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b'"code":"REQUEST_TIMEOUT"' in answer
    huge = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Pad: " + b"a" * 70_000
    answer = await _raw(daemon.url, huge + b"\r\n\r\n", 10)
    assert answer.startswith(b"HTTP/1.1 431 ")
    # A prompt client on the same daemon is served as usual.
    ok = await _raw(
        daemon.url,
        b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        10,
    )
    assert ok.startswith(b"HTTP/1.1 200 ")


async def test_tls_with_a_certificate_and_key(start: Any, tmp_path: Path) -> None:
    import ssl

    import trustme

    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate.cert_chain_pems[0].write_to_path(str(cert_file))
    certificate.private_key_pem.write_to_path(str(key_file))
    daemon: RunningDaemon = await start(
        args=("--tls-certfile", str(cert_file), "--tls-keyfile", str(key_file))
    )
    assert daemon.url.startswith("https://127.0.0.1:")
    trust = ssl.create_default_context()
    authority.configure_trust(trust)
    async with httpx.AsyncClient(base_url=daemon.api, verify=trust) as http:
        assert (await http.get("/health")).json()["status"] == "ok"
    async with httpx.AsyncClient(base_url=daemon.api) as untrusting:
        with pytest.raises(httpx.ConnectError):
            await untrusting.get("/health")


async def test_a_stalled_or_trickled_body_is_cut_off(start: Any) -> None:
    daemon: RunningDaemon = await start(env={"PARLEY_DAEMON_BODY_TIMEOUT": "0.5"})
    head = (
        b"POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    host, port = daemon.url.removeprefix("http://").rsplit(":", 1)
    stalled = asyncio.create_task(_raw(daemon.url, head + b'{"na', 10))
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head)
    loop = asyncio.get_running_loop()
    began = loop.time()
    trickled = b""
    try:
        while not reader.at_eof() and loop.time() - began < 10:
            writer.write(b" ")  # a byte every 50 ms: never idle, never done
            with contextlib.suppress(TimeoutError):
                trickled += await asyncio.wait_for(reader.read(4096), 0.05)
    except ConnectionError:
        pass
    finally:
        writer.close()
    assert loop.time() - began < 5
    for answer in (await stalled, trickled):
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b'"code":"REQUEST_TIMEOUT"' in answer
    # Meanwhile, and after, others are served at once; a prompt body is not cut off.
    async with daemon.client() as http:
        assert (await http.post("/sessions", json={"name": "prompt"})).status_code == 201
