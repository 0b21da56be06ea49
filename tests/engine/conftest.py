"""A service on a real SQLite file, shut down after the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.config import Settings
from parley.engine.service import Service
from parley.store.sqlite import open_store


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    settings = Settings(provider="scripted", env={}, approval_timeout=30.0)
    store = open_store(tmp_path / "data")
    service = Service(settings, store)
    yield service
    await service.shutdown()
    store.close()
