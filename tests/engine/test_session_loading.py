"""A session not loaded in this process (evicted, or run by another) is read from the store
when a turn starts on it; a long history on a worker thread, since it takes hundreds of
milliseconds to build, and every other session keeps streaming meanwhile."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from parley.core.messages import Message, TextBlock
from parley.engine import service as service_module
from parley.engine.service import Service
from parley.protocol import types as wire
from tests.conftest import ScriptWriter

HISTORY = 40_000


async def test_a_long_history_loads_off_the_event_loop(
    service: Service, tmp_path: Path, write_script: ScriptWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "IDLE_SESSIONS", 1)
    monkeypatch.setattr(service_module, "LONG_HISTORY_TURNS", 0)  # messages written directly
    service.settings.script = str(write_script([{"type": "text", "text": "ok"}]))
    sid = service.create_session(wire.SessionCreateParams(cwd=str(tmp_path))).session_id
    words = Message("user", (TextBlock("hi there"),))  # short: no compaction before the turn
    for _ in range(HISTORY):
        service.store.append_message(sid, None, words)
    service.store.commit()
    service.create_session(wire.SessionCreateParams(cwd=str(tmp_path)))  # sid is let go

    read_on: list[str] = []
    read = service.store.read_messages

    def watched(session_id: str) -> list[object]:
        read_on.append(threading.current_thread().name)
        return read(session_id)  # type: ignore[return-value]

    monkeypatch.setattr(service.store, "read_messages", watched)
    gaps: list[float] = []

    async def tick() -> None:  # what another session's stream would see of the loop
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.001)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.01)
    began = time.monotonic()
    result = await (await service.start_turn(sid, "and now?"))
    took = time.monotonic() - began
    ticker.cancel()

    assert result.stop_reason == "end_turn", result
    assert read_on
    assert read_on[0] != threading.main_thread().name
    detail = service.session_detail(sid, limit=1, cursor=str(HISTORY + 1))
    assert detail.messages[-1].content[0]["text"] == "ok"
    assert max(gaps) < took / 2, (max(gaps), took)  # the loop kept turning while it loaded


async def test_changing_a_session_s_mode_or_model_does_not_load_its_history(
    service: Service, tmp_path: Path, write_script: ScriptWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "IDLE_SESSIONS", 1)
    service.settings.script = str(write_script([{"type": "text", "text": "ok"}]))
    sid = service.create_session(wire.SessionCreateParams(cwd=str(tmp_path))).session_id
    service.create_session(wire.SessionCreateParams(cwd=str(tmp_path)))  # sid is let go

    def refused(*_: object, **__: object) -> None:
        raise AssertionError("the history was read")

    monkeypatch.setattr(service.store, "load_messages", refused)
    monkeypatch.setattr(service.store, "read_messages", refused)
    info = service.configure_session(sid, permission_mode="plan")
    assert info.permission_mode == "plan"
    other = write_script([{"type": "text", "text": "other"}])
    info = service.configure_session(sid, provider="scripted", model=str(other))
    assert (info.provider, info.model, info.permission_mode) == ("scripted", str(other), "plan")
    stored = service.store.load_session(sid)
    assert stored is not None
    assert (stored.permission_mode, stored.model) == ("plan", str(other))
    monkeypatch.undo()
    service.settings.script = None  # the session's model (a script's path) says which
    result = await (await service.start_turn(sid, "go"))  # runs as configured
    assert (result.stop_reason, result.reply) == ("end_turn", "other")
