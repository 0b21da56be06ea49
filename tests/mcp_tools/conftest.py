"""Fixtures for MCP tests: the hand-written fake server, a config file, and a real
streamable-HTTP server made with the SDK's own server API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from parley.client import Notification, ParleyClient
from tests.processes import running

FAKE = Path(__file__).with_name("fake_server.py")


def fake_command(*options: str) -> list[str]:
    """argv of the fake server: [python, fake_server.py, options...]."""
    return [sys.executable, str(FAKE), *options]


def toml_server(name: str, argv: list[str], **extra: Any) -> str:
    """A [mcp_servers.NAME] table running `argv`."""
    lines = [
        f"[mcp_servers.{name}]",
        f"command = {json.dumps(argv[0])}",
        f"args = {json.dumps(argv[1:])}",
    ]
    lines += [f"{key} = {json.dumps(value)}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


ConfigWriter = Callable[[str], Path]


@pytest.fixture
def write_config(isolated_env: dict[str, str]) -> ConfigWriter:
    """write_config(toml) -> the config file every spawned parley reads."""

    def write(text: str) -> Path:
        path = Path(isolated_env["PARLEY_CONFIG_DIR"]) / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return write


def call(name: str, **input: Any) -> dict[str, Any]:
    return {"type": "tool_call", "name": name, "input": input}


def say(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text}]


class Recorder:
    """Every notification a client received, by method."""

    def __init__(self, client: ParleyClient) -> None:
        self.items: list[Notification] = []
        client.on_notification(self.items.append)

    def of(self, method: str) -> list[dict[str, Any]]:
        return [n.params for n in self.items if n.method == method]

    def stages(self) -> list[str]:
        return [p["stage"] for p in self.of("progress")]


def pids(path: Path) -> list[int]:
    """The pids a fake server wrote to its --pidfile, in start order."""
    if not path.exists():
        return []
    return [int(line) for line in path.read_text().split()]


def alive(path: Path) -> list[int]:
    return [pid for pid in pids(path) if running(pid)]


def received(log: Path) -> list[dict[str, Any]]:
    """The notifications a fake server logged."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


async def eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        if check():
            return True
        await asyncio.sleep(0.02)
    return check()


# --- a streamable-HTTP server made with the SDK -------------------------------------------------


@pytest.fixture(scope="session")
def http_server() -> Iterator[str]:
    """The URL of an MCP server on 127.0.0.1, for the whole test session."""
    from tests.mcp_tools.web_server import web_server

    with serving(web_server().streamable_http_app()) as url:
        yield url


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """An ASGI app on 127.0.0.1 (uvicorn in a thread): its /mcp URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = server.force_exit = True  # its clients' event streams stay open
    thread.join(timeout=5)
