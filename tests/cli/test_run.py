"""`parley run` from a shell: output modes, the NDJSON display and exit codes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import NO_LOCAL_MODEL, ScriptWriter, scripted_env

PARLEY = [sys.executable, "-m", "parley"]


def run(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PARLEY, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_text_output_prints_the_reply_and_exits_0(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    script = write_script(
        [{"type": "tool_call", "name": "read_file", "input": {"path": "README.md"}}],
        [{"type": "text", "text": "The README says hello world."}],
    )
    done = run(["run", "What does the README say?"], scripted_env(isolated_env, script), workspace)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "The README says hello world.\n"


def test_json_output_is_one_envelope(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    script = write_script([{"type": "text", "text": "Hi."}])
    done = run(
        ["run", "hello", "--output", "json", "--ephemeral"],
        scripted_env(isolated_env, script),
        workspace,
    )
    assert done.returncode == 0, done.stderr
    envelope = json.loads(done.stdout)
    assert set(envelope) == {
        "protocolVersion",
        "sessionId",
        "turnId",
        "reply",
        "stopReason",
        "usage",
        "error",
    }
    assert (envelope["reply"], envelope["stopReason"], envelope["error"]) == (
        "Hi.",
        "end_turn",
        None,
    )


def test_ndjson_display_streams_every_notification_on_stderr(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    script = write_script([{"type": "thinking", "text": "hmm"}, {"type": "text", "text": "Yes."}])
    done = run(
        ["run", "q", "--display", "ndjson", "--output", "json"],
        scripted_env(isolated_env, script),
        workspace,
    )
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [m["method"] for m in lines][-1] == "result/final"
    assert {"thinking/delta", "thinking/final", "result/delta", "usage"} <= {
        m["method"] for m in lines
    }
    assert [m["params"]["seq"] for m in lines] == list(range(1, len(lines) + 1))
    assert json.loads(done.stdout)["reply"] == "Yes."


def test_no_provider_configured_says_what_to_set_and_exits_2(
    isolated_env: dict[str, str], workspace: Path
) -> None:
    done = run(["run", "hello"], {**isolated_env, **NO_LOCAL_MODEL}, workspace)
    assert done.returncode == 2
    for hint in (
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "OLLAMA_HOST",
        "--provider",
    ):
        assert hint in done.stderr
    assert done.stdout == ""


def test_usage_errors_exit_2(isolated_env: dict[str, str], workspace: Path) -> None:
    assert run(["run"], isolated_env, workspace).returncode == 2
    assert run(["run", "x", "--output", "xml"], isolated_env, workspace).returncode == 2
    bad = run(
        ["run", "x", "--provider", "scripted", "--script", str(workspace / "none.json")],
        isolated_env,
        workspace,
    )
    assert bad.returncode == 2
    assert "none.json" in bad.stderr


def test_provider_error_exits_1_with_the_message(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    script = write_script(
        [
            {"type": "text", "text": "partial"},
            {"type": "error", "code": "rate_limited", "message": "slow down"},
        ]
    )
    done = run(["run", "x", "--output", "json"], scripted_env(isolated_env, script), workspace)
    assert done.returncode == 1
    envelope = json.loads(done.stdout)
    assert envelope["error"]["code"] == "rate_limited"
    assert envelope["reply"] == "partial"
    assert "slow down" in done.stderr


def test_interrupt_cancels_the_turn_and_exits_130(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    script = write_script(
        [{"type": "text", "text": "started"}, {"type": "text", "text": " never", "delayMs": 30_000}]
    )
    proc = subprocess.Popen(
        [*PARLEY, "run", "x", "--output", "json", "--display", "ndjson"],
        cwd=workspace,
        env=scripted_env(isolated_env, script),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    while "result/delta" not in proc.stderr.readline():  # the turn is under way
        pass
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert json.loads(out)["stopReason"] == "cancelled"


def test_version_json(isolated_env: dict[str, str], workspace: Path) -> None:
    done = run(["version", "--json"], isolated_env, workspace)
    assert json.loads(done.stdout) == {
        "version": "0.1.0",
        "protocolVersion": 1,
        "schemaVersion": "1.1.0",
    }


def test_doctor_says_what_to_fix_and_exits_2_when_nothing_is_configured(
    isolated_env: dict[str, str], workspace: Path
) -> None:
    done = run(["doctor"], {**isolated_env, **NO_LOCAL_MODEL}, workspace)
    assert done.returncode == 2
    assert "no model provider is configured" in done.stdout
    assert "ANTHROPIC_API_KEY" in done.stdout


def test_doctor_is_happy_with_a_configured_provider_and_never_prints_the_key(
    isolated_env: dict[str, str], workspace: Path
) -> None:
    done = run(
        ["doctor"], {**isolated_env, "OPENAI_API_KEY": "sk-live-SECRET-1234567890"}, workspace
    )
    assert done.returncode == 0, done.stdout
    assert "SECRET" not in done.stdout + done.stderr
