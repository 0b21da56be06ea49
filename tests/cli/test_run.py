"""`parley run` from a shell: output modes, the NDJSON display and exit codes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from parley import PROTOCOL_VERSION, SCHEMA_VERSION, __version__
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
        "schemaVersion": "1.2.0",
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


# --- what a pipe gets --------------------------------------------------------------------------

EDIT_THEN_REPLY = (
    [
        {"type": "thinking", "text": "Read first."},
        {"type": "tool_call", "name": "read_file", "input": {"path": "README.md"}},
        {
            "type": "tool_call",
            "name": "edit_file",
            "input": {"path": "README.md", "edits": [{"old_string": "hello", "new_string": "bye"}]},
        },
    ],
    [{"type": "text", "text": "Changed it."}],
)


def test_piped_the_work_goes_to_stderr_as_plain_lines_and_the_reply_to_stdout(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    done = run(
        ["run", "-y", "edit"], scripted_env(isolated_env, write_script(*EDIT_THEN_REPLY)), workspace
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == "Changed it.\n"
    lines = done.stderr.splitlines()
    assert lines[:5] == [
        "thinking: Read first.",
        "-> read_file README.md",
        "   ok: 2 lines",
        "-> edit_file README.md",
        "   ok: changed, +1 -1",
    ]
    assert "     -hello world" in lines
    assert "     +bye world" in lines
    assert "\x1b" not in done.stderr  # no colour, no cursor movement in a pipe
    session = json.loads(run(["sessions", "list", "--json"], isolated_env, workspace).stdout)
    footer = lines[-1]
    assert footer.endswith(f"session {session['sessions'][0]['sessionId']}")
    assert " in · " in footer


def test_quiet_prints_the_reply_alone(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    env = scripted_env(isolated_env, write_script(*EDIT_THEN_REPLY))

    done = run(["run", "-q", "-y", "edit"], env, workspace)

    assert (done.returncode, done.stdout, done.stderr) == (0, "Changed it.\n", "")


def test_a_refused_write_is_shown_with_its_reason(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    env = scripted_env(isolated_env, write_script(*EDIT_THEN_REPLY))

    done = run(["run", "-n", "edit"], env, workspace)

    assert done.returncode == 0
    assert "   refused: edit_file is not allowed (permission mode 'deny')" in done.stderr


def test_piping_into_head_ends_quietly(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    long = "".join(f"line {i}\n" for i in range(50_000))
    env = scripted_env(isolated_env, write_script([{"type": "text", "text": long}]))
    parley = " ".join(PARLEY)
    for command in (f"{parley} run x | head -1", f"{parley} sessions list | head -1"):
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            env=env,
            cwd=workspace,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.stdout.count("\n") == 1, command
        assert "Traceback" not in done.stderr, done.stderr
        assert "BrokenPipeError" not in done.stderr, done.stderr


def test_version_flag(isolated_env: dict[str, str], workspace: Path) -> None:
    done = run(["--version"], isolated_env, workspace)

    expected = f"parley {__version__} (protocol {PROTOCOL_VERSION}, schema {SCHEMA_VERSION})\n"
    assert (done.returncode, done.stdout) == (0, expected)


def test_every_documented_log_level_is_accepted(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    from parley.config.settings import LOG_LEVELS

    docs = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    row = next(line for line in docs.splitlines() if line.startswith("| `log_level`"))
    documented = row.split("|")[2].replace("`", "").replace(" ", "").split(",")
    env = scripted_env(isolated_env, write_script([{"type": "text", "text": "ok"}]))

    assert documented == list(LOG_LEVELS)
    for level in documented:
        done = run(["run", "-q", "--ephemeral", "--log-level", level, "x"], env, workspace)
        assert done.returncode == 0, (level, done.stderr)


def test_doctor_lists_every_way_to_start_including_offline_ones(
    isolated_env: dict[str, str], workspace: Path
) -> None:
    from parley.providers.registry import KINDS

    done = run(["doctor"], {**isolated_env, **NO_LOCAL_MODEL}, workspace)

    advice = done.stdout.split("What to fix:")[1]
    for kind in KINDS.values():
        assert f"{kind.name}: {kind.setup_hint}" in advice
    assert "parley --provider scripted --script hello.json" in advice
    assert "(no API key)" in advice
