"""No credential leaves Parley: not in `config show`, `doctor` or provider errors, not in the
session store, and not through the tools: commands get no key in their environment, cannot read
Parley's from /proc, and what a tool reads back has every known secret masked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ScriptWriter

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk-ant-api03-TOPSECRETKEYVALUE-9f3a"
COMPAT_KEY = "sk-compat-TOPSECRETCOMPAT-77aa"
URL_PASSWORD = "s3cretPassw0rd"
OLLAMA_PASSWORD = "hunter2hunter2"
SECRETS = (API_KEY, COMPAT_KEY, URL_PASSWORD, OLLAMA_PASSWORD)


@pytest.fixture
def secret_env(tmp_path: Path, isolated_env: dict[str, str]) -> dict[str, str]:
    """Credentials everywhere Parley reads them: the environment and the config file."""
    config_dir = Path(isolated_env["PARLEY_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(
        "[providers.openai-compatible]\n"
        f'base_url = "http://alice:{URL_PASSWORD}@127.0.0.1:9/v1"\n'
        f'api_key = "{COMPAT_KEY}"\n'
    )
    return {
        **isolated_env,
        "ANTHROPIC_API_KEY": API_KEY,
        "OLLAMA_HOST": f"http://bob:{OLLAMA_PASSWORD}@127.0.0.1:9",
        "PARLEY_MAX_RETRIES": "0",
    }


def parley(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parley", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked"


def store_bytes(env: dict[str, str]) -> bytes:
    home = Path(env["PARLEY_HOME"])
    return b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())


@pytest.mark.parametrize("args", [("config", "show"), ("config", "show", "--json"), ("doctor",)])
def test_settings_and_doctor_mask_keys_and_url_passwords(
    secret_env: dict[str, str], args: tuple[str, ...]
) -> None:
    done = parley(secret_env, *args)

    assert_no_secret(done.stdout + done.stderr)
    assert "alice:****@127.0.0.1" in done.stdout
    assert "bob:****@127.0.0.1" in done.stdout


def test_doctor_online_errors_mask_url_passwords(secret_env: dict[str, str]) -> None:
    # Only the local servers (nothing listens there): no call may leave this machine.
    local = {k: v for k, v in secret_env.items() if k != "ANTHROPIC_API_KEY"}

    done = parley(local, "doctor", "--online")

    assert "did not answer" in done.stdout
    assert_no_secret(done.stdout + done.stderr)


@pytest.mark.parametrize("provider", ["openai-compatible", "ollama"])
def test_provider_errors_and_the_stored_session_mask_url_passwords(
    secret_env: dict[str, str], workspace: Path, provider: str
) -> None:
    done = parley(secret_env, "run", "--provider", provider, "--cwd", str(workspace), "hi")

    assert done.returncode == 1
    assert "cannot reach" in done.stderr
    assert_no_secret(done.stdout + done.stderr)
    stored = store_bytes(secret_env)
    assert stored, "the session was stored"
    for secret in SECRETS:
        assert secret.encode() not in stored


def bash_turn(write_script: ScriptWriter, *commands: str) -> Path:
    calls = [
        {"type": "tool_call", "id": f"c{i}", "name": "bash", "input": {"command": c}}
        for i, c in enumerate(commands)
    ]
    return write_script(calls, [{"type": "text", "text": "done"}])


def test_commands_cannot_copy_parleys_credentials_into_the_conversation(
    secret_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    config = Path(secret_env["PARLEY_CONFIG_DIR"]) / "config.toml"
    script = bash_turn(
        write_script,
        "env",
        "tr '\\0' '\\n' < /proc/$PPID/environ",
        f"cat {config}",
        "echo $ANTHROPIC_API_KEY $OLLAMA_HOST",
    )

    done = parley(
        secret_env,
        "run", "-y", "--provider", "scripted", "--script", str(script),
        "--cwd", str(workspace), "--display", "ndjson", "go",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    outputs = [
        json.loads(line)["params"]["output"]
        for line in done.stderr.splitlines()
        if line.startswith("{") and '"tool/completed"' in line
    ]
    assert len(outputs) == 4
    assert "ANTHROPIC_API_KEY" not in outputs[0]  # not in the command's environment at all
    assert "api_key" in outputs[2]  # the file was read, its key masked
    assert_no_secret(done.stdout + done.stderr)
    for secret in SECRETS:
        assert secret.encode() not in store_bytes(secret_env)


def test_file_tools_refuse_parleys_own_files_inside_the_workspace(
    isolated_env: dict[str, str], write_script: ScriptWriter, tmp_path: Path
) -> None:
    """A session whose directory holds Parley's config and store cannot read either."""
    env = {**isolated_env, "PARLEY_CONFIG_DIR": str(tmp_path / ".config" / "parley")}
    Path(env["PARLEY_CONFIG_DIR"]).mkdir(parents=True)
    (Path(env["PARLEY_CONFIG_DIR"]) / "config.toml").write_text('model = "m"\n')
    calls = [
        {"type": "tool_call", "id": "c1", "name": "read_file",
         "input": {"path": ".config/parley/config.toml"}},
        {"type": "tool_call", "id": "c2", "name": "grep", "input": {"pattern": 'model = "m"'}},
        {"type": "tool_call", "id": "c3", "name": "write_file",
         "input": {"path": "home/evil.txt", "content": "x"}},
    ]  # fmt: skip
    script = write_script(calls, [{"type": "text", "text": "done"}])

    done = parley(
        env,
        "run", "-y", "--provider", "scripted", "--script", str(script),
        "--cwd", str(tmp_path), "--display", "ndjson", "go",
    )  # fmt: skip

    outputs = [
        json.loads(line)["params"]
        for line in done.stderr.splitlines()
        if '"tool/completed"' in line
    ]
    assert "one of Parley's own files" in outputs[0]["output"]
    assert outputs[1]["output"].startswith("no matches")
    assert "one of Parley's own files" in outputs[2]["output"]
    assert not (tmp_path / "home" / "evil.txt").exists()


# The process itself: /proc/<parley>/environ and the dumpable flag.

GUARDED = """
import os, subprocess, sys
os.environ  # the copy Python keeps is not what /proc shows
from parley.core.redact import remember
from parley.cli.guard import guard_process
remember(os.environ["ANTHROPIC_API_KEY"], own=True)  # as loading the settings does
guard_process()
child = subprocess.run(["sh", "-c", "cat /proc/$PPID/environ"], capture_output=True)
print(repr((child.returncode, child.stdout, child.stderr)))
"""


def run_guarded(python: str, user: int | None = None) -> tuple[int, bytes, bytes]:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "src"),
        "ANTHROPIC_API_KEY": API_KEY,
    }
    done = subprocess.run(
        [python, "-c", GUARDED],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        user=user,
        group=user,
    )
    assert done.returncode == 0, done.stderr
    result: tuple[int, bytes, bytes] = eval(done.stdout)  # our own repr
    return result


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl are Linux's")
def test_parleys_environ_block_never_shows_its_credentials() -> None:
    """As root the file can be read, but the credentials in it are overwritten."""
    code, out, _ = run_guarded(sys.executable)

    if code == 0:
        assert b"ANTHROPIC_API_KEY=" in out
    assert API_KEY.encode() not in out


def _python_for_nobody() -> str | None:
    """A Python an unprivileged user can run with this checkout's sources, if there is one."""
    for candidate in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
        if not candidate:
            continue
        try:
            probe = subprocess.run(
                [candidate, "-c", "import parley.cli.guard"],
                env={"PYTHONPATH": str(ROOT / "src")},
                capture_output=True,
                user=65534,
                group=65534,
                timeout=30,
            )
        except OSError:  # not even executable for that user
            continue
        if probe.returncode == 0:
            return candidate
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl are Linux's")
def test_a_command_of_the_same_user_cannot_read_parleys_environ_at_all() -> None:
    if os.geteuid() != 0:
        python: str | None = sys.executable
        user = None
    else:
        python, user = _python_for_nobody(), 65534
        if python is None:
            pytest.skip("no Python here that an unprivileged user may run")
    assert python is not None

    code, out, err = run_guarded(python, user)

    assert code != 0
    assert b"Permission denied" in err
    assert out == b""
