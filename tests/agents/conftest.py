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
