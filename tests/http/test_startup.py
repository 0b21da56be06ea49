"""Start-up: the daemon listens and answers health before FastAPI and the engine are loaded,
and a request that arrives meanwhile waits for the full app instead of failing."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import httpx

from parley.doors.http.front import Front
from parley.doors.http.raw import Message, Receive, Scope, Send
from tests.http.daemon import RunningDaemon


def _scope(path: str, method: str = "GET") -> Scope:
    return {"type": "http", "path": path, "method": method, "headers": [], "query_string": b""}


async def _call(app: Front, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_front_door_answers_health_and_holds_the_rest_until_open() -> None:
    front = Front()
    answer = await _call(front, _scope("/api/v1/health"))
    assert answer[0]["status"] == 200
    assert b'"ready":false' in answer[1]["body"]
    early = asyncio.create_task(_call(front, _scope("/api/v1/sessions")))
    await asyncio.sleep(0.05)
    assert not early.done()  # waits, neither answered nor refused

    async def full(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    front.open(full)
    assert (await asyncio.wait_for(early, 5))[0]["status"] == 204
    assert b'"ready":true' in (await _call(front, _scope("/api/v1/health")))[1]["body"]


async def test_front_door_that_failed_answers_503() -> None:
    front = Front()
    early = asyncio.create_task(_call(front, _scope("/api/v1/sessions")))
    await asyncio.sleep(0)
    front.fail("no store")
    answer = await asyncio.wait_for(early, 5)
    assert answer[0]["status"] == 503
    assert b"no store" in answer[1]["body"]


async def test_requests_made_at_once_are_all_answered(start: Any) -> None:
    daemon: RunningDaemon = await start()
    # Straight after the URL is written: the full app may still be loading.
    async with daemon.client() as http:
        health, created = await asyncio.gather(
            http.get("/health"), http.post("/sessions", json={"name": "early"})
        )
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        assert isinstance(health.json()["ready"], bool)
        assert created.status_code == 201
        assert (await http.get("/health")).json()["ready"] is True


async def test_it_listens_before_fastapi_is_loaded(
    isolated_env: dict[str, str], tmp_path: Path
) -> None:
    """With -X importtime each import is logged as it ends; with stdout on the same pipe, the
    "listening" line shows where the daemon started answering: FastAPI, pydantic and the
    engine come after it, loaded while the front door answers."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-X",
        "importtime",
        "-m",
        "parley",
        "daemon",
        "--port",
        "0",
        "--url-file",
        str(tmp_path / "url"),
        "--ephemeral",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=isolated_env,
    )
    assert process.stdout is not None
    before: set[str] = set()
    try:
        while True:
            line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
            assert line, "the daemon exited"
            if line.startswith("parley daemon listening on "):
                break
            before.add(line.rsplit("|", 1)[-1].strip())
        url = line.split()[-1]
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/api/v1/health")).status_code == 200
            assert (await http.get("/api/v1/sessions")).status_code == 200
    finally:
        process.terminate()
        await process.wait()
    assert "uvicorn" in before  # the check sees the daemon's imports
    assert {"fastapi", "pydantic", "parley.engine.service"}.isdisjoint(before)
