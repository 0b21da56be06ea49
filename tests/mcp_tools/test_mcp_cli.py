"""`parley mcp list` and `parley doctor`: each configured server is started, counted, stopped."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.mcp_tools.conftest import ConfigWriter, alive, fake_command, toml_server


async def parley(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "parley",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_mcp_list_starts_each_server_counts_its_tools_and_stops_it(
    isolated_env: dict[str, str], write_config: ConfigWriter, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pids"
    write_config(
        toml_server("fake", fake_command("--pidfile", str(pidfile), "--tools", "3"), trusted=True)
        + toml_server("broken", ["no-such-mcp-server"])
    )
    code, out, err = await parley(isolated_env, "mcp", "list", "--json", "--cwd", str(tmp_path))

    assert code == 1, err
    fake, broken = json.loads(out)["servers"]
    assert (fake["name"], fake["starts"], fake["toolCount"], fake["trusted"]) == (
        "fake",
        True,
        15,
        True,
    )
    assert (broken["starts"], broken["error"]) == (False, "command 'no-such-mcp-server' not found")
    assert len(alive(pidfile)) == 0  # started, listed, stopped

    code, out, _ = await parley(isolated_env, "mcp", "list", "--no-start")
    assert code == 0
    assert "fake  (stdio, trusted; from " in out
    assert len(alive(pidfile)) == 0


async def test_mcp_list_with_nothing_configured_says_how_to_add_a_server(
    isolated_env: dict[str, str],
) -> None:
    code, out, _ = await parley(isolated_env, "mcp", "list")
    assert code == 0
    assert "no MCP servers configured" in out


async def test_doctor_reports_a_server_that_does_not_start(
    isolated_env: dict[str, str], write_config: ConfigWriter
) -> None:
    write_config(toml_server("fake", fake_command()) + toml_server("broken", ["no-such-thing"]))
    code, out, _ = await parley({**isolated_env, "PARLEY_PROVIDER": "scripted"}, "doctor")

    assert "ok    MCP server fake: starts, 12 tools" in out
    assert "FAIL  MCP server broken: does not start: command 'no-such-thing' not found" in out
    assert code >= 1
