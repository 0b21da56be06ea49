"""`parley run --agent`: one turn in an external agent from a shell."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.agents.conftest import base_env, cli
from tests.providers.fake_server import FakeServer, Reply
from tests.providers.wire import Anthropic, Text, ToolCall

SECRET = "sk-ant-cli-5ecret"


def test_parley_run_with_claude_code(tmp_path: Path, server: FakeServer) -> None:
    cli("claude")
    project = tmp_path / "project"
    project.mkdir()
    target = project / "out.txt"
    server.script(
        Reply(
            events=tuple(
                Anthropic.reply(
                    ToolCall("toolu_9", "Write", {"file_path": str(target), "content": "x"})
                )
            )
        ),
        Reply(events=tuple(Anthropic.reply(Text("Wrote it.")))),
    )
    env = base_env(tmp_path / "home")
    env.update(
        PARLEY_HOME=str(tmp_path / "data"),
        PARLEY_CONFIG_DIR=str(tmp_path / "config"),
        CLAUDE_CONFIG_DIR=str(tmp_path / "home" / ".claude"),
        ANTHROPIC_BASE_URL=server.url,
        ANTHROPIC_API_KEY=SECRET,
        DISABLE_TELEMETRY="1",
        DISABLE_AUTOUPDATER="1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "parley",
            "run",
            "--agent",
            "claude-code",
            "--yes",
            "--output",
            "json",
            "--cwd",
            str(project),
            "write out.txt",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["reply"] == "Wrote it."
    assert result["stopReason"] == "end_turn"
    assert target.read_text() == "x"
    assert SECRET not in done.stdout + done.stderr

    refused = subprocess.run(
        [sys.executable, "-m", "parley", "run", "--agent", "nope", "hi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert refused.returncode == 2
    assert "no agent named 'nope'" in refused.stderr
    assert "Traceback" not in refused.stderr
