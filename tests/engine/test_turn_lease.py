"""The engine and the store's turn lease: a turn that crashes gives the session back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

from parley.config import load_settings
from parley.engine.service import Service
from parley.protocol import types as wire
from parley.providers.base import ModelRequest, Provider, StreamEvent
from parley.store.sqlite import SqliteStore
from tests.engine_turns import submit


class BrokenProvider(Provider):
    """A provider with a bug: it raises something that is not a ParleyError."""

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        raise RuntimeError("bug in a provider")
        yield  # unreachable; makes this an async generator


async def test_a_turn_that_crashes_gives_back_the_session_lease(
    tmp_path: Path, workspace: Path
) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": [[{"type": "text", "text": "Fine now."}]]}))
    settings = load_settings(
        {"provider": "scripted", "script": str(script)},
        env={"PARLEY_HOME": str(tmp_path / "home")},
        config_path=tmp_path / "none.toml",
    )
    store = SqliteStore(tmp_path / "parley.db")
    service = Service(settings, store)
    session_id = service.create_session(wire.SessionCreateParams(cwd=str(workspace))).session_id
    session = service._session(session_id)
    working = session.provider
    session.provider = BrokenProvider(working.config)

    crashed, _ = await submit(service, session.id, "hi", turn_id="t-1")

    assert crashed.error is not None
    assert (crashed.stop_reason, crashed.error.code) == ("error", "internal")
    turn = store.load_turn(session.id, "t-1")
    assert turn is not None
    assert turn.status != "running"
    session.provider = working
    result, _ = await submit(service, session.id, "again", turn_id="t-2")
    assert (result.stop_reason, result.reply) == ("end_turn", "Fine now.")
    await service.shutdown()
    store.close()
