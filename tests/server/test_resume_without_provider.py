"""A stored session stays readable and replayable when its provider is no longer configured."""

from __future__ import annotations

from pathlib import Path

from parley.client import Notification
from tests.conftest import ScriptWriter


async def test_resume_and_replay_need_no_provider_but_a_turn_says_what_to_set(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    script = write_script([{"type": "text", "text": "stored reply"}])
    first = await spawn(script, args=())
    session = await first.create_session(cwd=str(workspace))
    live: list[Notification] = []
    await first.submit_turn(session.session_id, "hi", on_event=live.append)
    await first.shutdown()
    script.unlink()  # the session's own script is gone too

    again = await spawn(None, args=())  # same data directory, no provider configured at all
    replayed: list[Notification] = []
    stop = again.on_notification(replayed.append)
    info = await again.resume_session(session.session_id, after_seq=0)
    stop()
    result = await again.submit_turn(session.session_id, "more")

    assert [(n.method, n.params) for n in replayed] == [(n.method, n.params) for n in live]
    assert info.turn_count == 1
    assert result.stop_reason == "error"
    assert result.error is not None
    assert result.error.code == "provider_not_configured"
    assert "PARLEY_SCRIPT" in result.error.message


async def test_a_resumed_scripted_session_finds_its_script_without_parley_script(
    spawn, write_script: ScriptWriter, workspace: Path
) -> None:
    script = write_script([{"type": "text", "text": "from the script"}])
    first = await spawn(script, args=())
    session = await first.create_session(cwd=str(workspace))
    await first.shutdown()

    again = await spawn(None, args=())  # no PARLEY_PROVIDER, no PARLEY_SCRIPT
    result = await again.submit_turn(session.session_id, "hi")

    assert session.model == str(script)
    assert (result.stop_reason, result.reply) == ("end_turn", "from the script")
