"""What a front door running turns in its own process needs from the service: a session checked
without storing it, a host-chosen id refused before anything is built, and a permission mode or
model for this process's turns that is never stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.core.errors import ErrorCode, ParleyError
from parley.engine.service import Service
from parley.protocol import types as wire
from tests.conftest import ScriptWriter

WRITE = [{"type": "tool_call", "name": "write_file", "input": {"path": "a.txt", "content": "x"}}]
DONE = [{"type": "text", "text": "done"}]


async def test_preview_checks_the_configuration_and_stores_nothing(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    path = write_script(DONE)
    service.settings.script = str(path)

    info = await service.preview_session(wire.SessionCreateParams(cwd=str(tmp_path)))

    assert (info.provider, info.model) == ("scripted", str(path.resolve()))
    assert service.list_sessions(wire.SessionListParams()).sessions == []
    service.settings.script = str(tmp_path / "missing.json")
    with pytest.raises(ParleyError):
        await service.preview_session(wire.SessionCreateParams(cwd=str(tmp_path)))
    assert service.list_sessions(wire.SessionListParams()).sessions == []


async def test_a_host_chosen_id_in_use_is_refused_before_the_session_is_built(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    service.settings.script = str(write_script(DONE))
    params = wire.SessionCreateParams(cwd=str(tmp_path), session_id="mine")
    service.create_session(params)
    service.settings.script = str(tmp_path / "missing.json")  # building it again would fail

    with pytest.raises(ParleyError) as refused:
        service.create_session(params)

    assert refused.value.code == ErrorCode.SESSION_EXISTS


async def test_a_mode_for_this_process_is_used_but_never_stored(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    service.settings.script = str(write_script(WRITE, DONE, WRITE, DONE))
    sid = service.create_session(wire.SessionCreateParams(cwd=str(tmp_path))).session_id

    shown = service.open_session(sid, permission_mode="allow")
    result = await (await service.start_turn(sid, "write"))

    assert shown.permission_mode == "allow"
    assert result.stop_reason == "end_turn"
    assert (tmp_path / "a.txt").read_text() == "x"
    assert service.session_info(sid).permission_mode == "ask"
    service.configure_session(sid, permission_mode="deny")  # stored: it ends the override
    assert service.open_session(sid).permission_mode == "deny"
    handle = await service.start_turn(sid, "write")
    await handle
    assert handle.unasked == []  # denied by the mode, not asked


async def test_a_model_for_this_process_is_used_but_never_stored(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    first, other = write_script(DONE), write_script([{"type": "text", "text": "other"}])
    service.settings.script = str(first)
    sid = service.create_session(wire.SessionCreateParams(cwd=str(tmp_path))).session_id
    service.settings.script = None  # a scripted model names its script (a given one wins)

    shown = service.open_session(sid, model=str(other))
    result = await (await service.start_turn(sid, "hi"))

    assert shown.model == str(other)
    assert result.reply == "other"
    assert service.session_info(sid).model == str(first.resolve())


async def test_a_turn_cancelled_before_it_ran_still_has_a_cancelled_result(
    service: Service, tmp_path: Path, write_script: ScriptWriter
) -> None:
    service.settings.script = str(write_script(DONE))
    sid = service.create_session(wire.SessionCreateParams(cwd=str(tmp_path))).session_id

    handle = await service.start_turn(sid, "hi")
    assert handle.cancel()
    result = await handle

    assert result.stop_reason == "cancelled"
    assert service.running_turn(sid) is None
