"""MCP servers that misbehave: each costs at most its own tool calls, never the turn or the
server. Driven through `parley serve` with the hand-written fake server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from parley.tools.mcp.naming import VALID
from tests.conftest import ScriptWriter
from tests.mcp_tools.conftest import (
    ConfigWriter,
    Recorder,
    alive,
    call,
    eventually,
    fake_command,
    pids,
    received,
    say,
    toml_server,
)

ALLOW = '[[rules]]\ntool = "mcp__*"\naction = "allow"\n'


async def test_a_server_that_exits_mid_call_fails_that_call_and_is_restarted_for_the_next(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pids"
    write_config(toml_server("fake", fake_command("--pidfile", str(pidfile))) + ALLOW)
    script = write_script(
        [call("mcp__fake__crash")], [call("mcp__fake__echo", text="again")], say("Recovered.")
    )
    client = await spawn(script)
    events = Recorder(client)
    session = await client.create_session(cwd=str(workspace))
    result = await client.submit_turn(session.session_id, "crash it")

    assert (result.stop_reason, result.reply) == ("end_turn", "Recovered.")
    crashed, echoed = events.of("tool/completed")
    assert crashed["isError"]
    assert "MCP server 'fake' exited during the call" in crashed["output"]
    assert (echoed["isError"], echoed["output"]) == (False, "echo: again")
    assert len(pids(pidfile)) == 2  # started again for the second call
    await client.shutdown()
    assert await eventually(lambda: not alive(pidfile))


async def test_a_server_that_never_answers_times_out_and_is_told_to_cancel(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path, tmp_path: Path
) -> None:
    log = tmp_path / "notifications"
    write_config(toml_server("fake", fake_command("--log", str(log)), tool_timeout=0.5) + ALLOW)
    script = write_script([call("mcp__fake__hang")], [call("mcp__fake__echo")], say("Moved on."))
    client = await spawn(script)
    events = Recorder(client)
    session = await client.create_session(cwd=str(workspace))
    result = await client.submit_turn(session.session_id, "hang")

    assert result.reply == "Moved on."
    hung, echoed = events.of("tool/completed")
    assert hung["isError"]
    assert "timed out after 0.5s" in hung["output"]
    assert 400 <= hung["durationMs"] < 5000
    assert not echoed["isError"]  # the same server goes on serving
    cancels = [n for n in received(log) if n["method"] == "notifications/cancelled"]
    assert len(cancels) == 1


async def test_cancelling_the_turn_mid_call_sends_mcp_cancellation(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path, tmp_path: Path
) -> None:
    log = tmp_path / "notifications"
    write_config(toml_server("fake", fake_command("--log", str(log))) + ALLOW)
    client = await spawn(write_script([call("mcp__fake__hang")]))
    events = Recorder(client)
    session = await client.create_session(cwd=str(workspace))
    turn = asyncio.create_task(client.submit_turn(session.session_id, "hang"))
    assert await eventually(lambda: bool(events.of("tool/started")))
    await asyncio.sleep(0.1)
    await client.cancel(session.session_id)
    result = await turn

    assert result.stop_reason == "cancelled"
    (done,) = events.of("tool/completed")
    assert done["isError"]
    assert await eventually(
        lambda: any(n["method"] == "notifications/cancelled" for n in received(log))
    )


async def test_garbage_on_stdout_is_skipped_and_the_calls_still_work(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path
) -> None:
    write_config(toml_server("fake", fake_command("--garbage")) + ALLOW)
    script = write_script([call("mcp__fake__echo", text="clean")], say("ok"))
    client = await spawn(script)
    events = Recorder(client)
    session = await client.create_session(cwd=str(workspace))
    result = await client.submit_turn(session.session_id, "echo")

    assert result.stop_reason == "end_turn"
    (done,) = events.of("tool/completed")
    assert (done["isError"], done["output"]) == (False, "echo: clean")


async def test_two_hundred_tools_and_clashing_names_all_get_valid_unique_names(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path
) -> None:
    write_config(toml_server("fake", fake_command("--tools", "200")) + ALLOW)
    script = write_script([call("read_file", path="README.md"), call("mcp__fake__read_file")])
    client = await spawn(script)
    session = await client.create_session(cwd=str(workspace))
    listed = await client.list_tools(session.session_id)

    names = [t.name for t in listed.tools]
    mcp = [t for t in listed.tools if t.source == "mcp"]
    assert len(mcp) == 212  # 12 of its own, 200 more over five pages
    assert len(set(names)) == len(names)
    assert all(VALID.match(n) for n in names)
    assert {"read_file", "mcp__fake__read_file", "mcp__fake__a_b", "mcp__fake__a_b_2"} <= set(names)
    assert {t.original_name for t in mcp if t.name.startswith("mcp__fake__a_b")} == {"a.b", "a/b"}

    events = Recorder(client)
    await client.submit_turn(session.session_id, "read")
    builtin, remote = events.of("tool/completed")
    assert "hello world" in builtin["output"]  # the built-in is still the built-in
    assert remote["output"] == "read_file ran"


async def test_a_twenty_megabyte_result_is_capped(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path
) -> None:
    write_config(toml_server("fake", fake_command()) + ALLOW)
    script = write_script([call("mcp__fake__huge", mb=20)], say("Big."))
    client = await spawn(script)
    events = Recorder(client)
    session = await client.create_session(cwd=str(workspace))
    result = await client.submit_turn(session.session_id, "huge")

    assert result.reply == "Big."
    (done,) = events.of("tool/completed")
    assert len(done["output"]) < 31_000
    assert "characters of the result cut" in done["output"]


async def test_a_server_that_cannot_start_is_reported_and_the_turn_goes_on(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path
) -> None:
    write_config(
        toml_server("missing", ["no-such-mcp-server-anywhere"])
        + toml_server("fake", fake_command())
        + ALLOW
    )
    script = write_script([call("mcp__fake__echo", text="x")], say("Fine."))
    client = await spawn(script)
    events = Recorder(client)
    session = await client.create_session(cwd=str(workspace))
    result = await client.submit_turn(session.session_id, "go")

    assert result.reply == "Fine."
    (failed,) = [p for p in events.of("progress") if p["stage"] == "mcp_failed"]
    assert failed["data"]["server"] == "missing"
    assert "'no-such-mcp-server-anywhere' not found" in failed["message"]
    listed = await client.list_tools(session.session_id)
    status = {s.name: (s.status, s.error) for s in listed.mcp_servers}
    assert status["fake"] == ("running", None)
    assert status["missing"][0] == "failed"


async def test_isError_and_images_and_structured_results_reach_the_model(
    spawn, write_script: ScriptWriter, write_config: ConfigWriter, workspace: Path
) -> None:
    write_config(toml_server("fake", fake_command()) + ALLOW)
    script = write_script(
        [call("mcp__fake__fail"), call("mcp__fake__image"), call("mcp__fake__structured")],
        say("Seen."),
    )
    client = await spawn(script)
    events = Recorder(client)
    session = await client.create_session(cwd=str(workspace))
    await client.submit_turn(session.session_id, "results")

    failed, image, structured = events.of("tool/completed")
    assert (failed["isError"], failed["output"]) == (True, "it went wrong")
    assert image["output"].startswith("a dot\n[image 1 (image/png)")
    assert structured["display"]["structuredContent"] == {"answer": 42}
    detail = await client.get_session(session.session_id)
    results = detail.messages[2].content
    assert [b["type"] for b in results] == ["tool_result"] * 3 + ["image"]
    assert results[3]["mediaType"] == "image/png"
