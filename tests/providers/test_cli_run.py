"""`parley run --provider anthropic|openai` end to end: a real process, the real SDKs, a fake
provider server. Contract: json envelope {protocolVersion, sessionId, turnId, reply, stopReason,
usage, error}; exit 0 ok, 1 engine or provider error, 2 usage or configuration error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import NO_LOCAL_MODEL
from tests.providers.conftest import SECRET, provider_env
from tests.providers.fake_server import FakeServer, Reply
from tests.providers.wire import Anthropic, Responses, Text, Tokens


def parley_run(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PARLEY_HOME": str(tmp_path / "data"),
        "PARLEY_CONFIG_DIR": str(tmp_path / "config"),
        "PARLEY_CONFIG": str(tmp_path / "config" / "config.toml"),
        "PARLEY_RETRY_BASE_DELAY": "0.001",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "parley", "run", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("kind", "wire", "model", "price"),
    [
        ("anthropic", Anthropic, "claude-sonnet-5-5", (2.0, 10.0)),
        ("openai", Responses, "gpt-6.1-sol", (2.0, 10.0)),
    ],
)
def test_run_answers_with_a_json_envelope(server: FakeServer, tmp_path, kind, wire, model, price):
    reply = wire.reply(Text("Paris is the capital."), tokens=Tokens(input=500, output=40))
    server.script(Reply(events=tuple(reply)))
    env, _ = provider_env(kind, server)

    done = parley_run(
        tmp_path, env, "Capital of France?", "--provider", kind, "--output", "json", "-n"
    )

    assert done.returncode == 0, done.stderr
    envelope = json.loads(done.stdout)
    assert envelope["protocolVersion"] == 1
    assert envelope["reply"] == "Paris is the capital."
    assert envelope["stopReason"] == "end_turn"
    assert envelope["error"] is None
    assert envelope["sessionId"]
    assert envelope["turnId"]
    usage = envelope["usage"]
    assert (usage["inputTokens"], usage["outputTokens"]) == (500, 40)
    assert usage["costUsd"] == pytest.approx((500 * price[0] + 40 * price[1]) / 1e6)
    assert server.requests[0].body["model"] == model


def test_run_streams_text_and_ndjson_notifications(server: FakeServer, tmp_path):
    server.script(Reply(events=tuple(Anthropic.reply(Text("Streaming works.")))))
    env, _ = provider_env("anthropic", server)

    done = parley_run(tmp_path, env, "Hi", "--provider", "anthropic", "--display", "ndjson")

    assert done.returncode == 0, done.stderr
    assert done.stdout == "Streaming works.\n"
    methods = [json.loads(line)["method"] for line in done.stderr.splitlines()]
    assert "result/delta" in methods
    assert "usage" in methods
    assert methods[-1] == "result/final"


def test_run_with_a_rejected_key_exits_1_naming_the_key(server: FakeServer, tmp_path):
    body = Responses.error("invalid_request_error", f"Incorrect API key provided: {SECRET}")
    server.script(Reply(401, body=body))
    env, _ = provider_env("openai", server)

    done = parley_run(tmp_path, env, "Hi", "--provider", "openai", "--output", "json")

    assert done.returncode == 1
    envelope = json.loads(done.stdout)
    assert envelope["stopReason"] == "error"
    assert envelope["error"]["code"] == "provider_auth_failed"
    assert "OPENAI_API_KEY" in done.stderr
    assert SECRET not in done.stdout + done.stderr


def test_run_retries_a_rate_limit_then_answers(server: FakeServer, tmp_path):
    server.script(
        Reply(429, body=Anthropic.error("rate_limit_error", "slow"), headers={"retry-after": "0"}),
        Reply(events=tuple(Anthropic.reply(Text("After the wait.")))),
    )
    env, _ = provider_env("anthropic", server)

    done = parley_run(tmp_path, env, "Hi", "--provider", "anthropic", "--display", "ndjson")

    assert done.returncode == 0, done.stderr
    assert done.stdout == "After the wait.\n"
    progress = [json.loads(line)["params"] for line in done.stderr.splitlines()]
    assert any(p.get("stage") == "retrying" for p in progress)


def test_run_without_any_provider_exits_2_saying_what_to_set(tmp_path):
    done = parley_run(tmp_path, NO_LOCAL_MODEL, "Hi")

    assert done.returncode == 2
    assert "ANTHROPIC_API_KEY" in done.stderr
    assert "OPENAI_API_KEY" in done.stderr
