from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.store.base import Store
from parley.store.memory import MemoryStore
from parley.store.sqlite import SqliteStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Every behavioural test runs on both stores, so they cannot drift apart."""
    s: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "parley.db")
    yield s
    s.close()
