"""`parley config show`: effective settings, where each came from, secrets masked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from parley.cli.main import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated environment; returns the config file's path (not yet written)."""
    for var in list(os.environ):
        if var.startswith(("PARLEY_", "ANTHROPIC_", "OPENAI_", "AZURE_OPENAI", "OLLAMA_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("PARLEY_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PARLEY_HOME", str(tmp_path / "home"))
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir()
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    return config


SECRET = "sk-ant-api03-VERYSECRETVALUE-wxyz"


def test_show_json_gives_each_setting_its_value_and_source_with_secrets_masked(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.write_text(
        'model = "from-file"\nmax_turns = 4\n'
        f'[providers.anthropic]\napi_key = "{SECRET}"\nbase_url = "http://127.0.0.1:9"\n'
    )
    monkeypatch.setenv("PARLEY_MAX_TURNS", "6")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-ANOTHERSECRET-1234")

    code = main(["config", "show", "--json", "--provider", "scripted"])

    out = capsys.readouterr().out
    assert code == 0
    assert SECRET not in out
    assert "ANOTHERSECRET" not in out
    shown = json.loads(out)
    settings = shown["settings"]
    assert settings["provider"] == {"value": "scripted", "source": "flag --provider"}
    assert settings["max_turns"] == {"value": 6, "source": "env PARLEY_MAX_TURNS"}
    assert settings["model"] == {"value": "from-file", "source": str(env)}
    assert settings["approval_timeout"] == {"value": 300.0, "source": "default"}
    assert settings["providers.anthropic.api_key"] == {"value": "****wxyz", "source": str(env)}
    assert settings["providers.anthropic.base_url"]["value"] == "http://127.0.0.1:9"
    assert shown["credentials"] == {
        "OPENAI_API_KEY": {"value": "****1234", "source": "environment"}
    }
    assert (shown["configFile"], shown["configFileExists"]) == (str(env), True)


def test_show_text_lists_every_setting_with_its_source(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PARLEY_MODEL", "m1")

    assert main(["config", "show"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"# config file: {env} (not found)"
    model = next(line for line in lines if line.startswith("model "))
    assert model.split() == ["model", "=", '"m1"', "#", "env", "PARLEY_MODEL"]
    provider = next(line for line in lines if line.startswith("provider "))
    assert provider.split() == ["provider", "=", "(not", "set)", "#", "default"]


def test_a_bad_config_file_exits_2_naming_the_key(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.write_text("[providers.anthropic]\nbase_url = 5\n")
    assert main(["config", "show"]) == 2
    assert capsys.readouterr().err == (
        f"parley: {env}: providers.anthropic.base_url must be a string, got 5\n"
    )
