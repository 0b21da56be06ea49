"""`parley doctor` on agent CLIs: installed or not, versions, credentials, never a secret."""

from __future__ import annotations

from pathlib import Path

from parley.cli.doctor import doctor
from parley.config import Settings
from tests.agents.conftest import base_env, cli

SECRET = "sk-ant-doctor-5ecret"


def test_doctor_reports_versions_and_credentials_without_secrets(tmp_path: Path) -> None:
    for name in ("claude", "codex", "gemini"):
        cli(name)
    env = base_env(tmp_path / "home")
    env.update(ANTHROPIC_API_KEY=SECRET, PARLEY_HOME=str(tmp_path / "data"))
    (tmp_path / "home" / ".codex").mkdir()
    (tmp_path / "home" / ".codex" / "auth.json").write_text('{"tokens": "' + SECRET + '"}')
    settings = Settings(env=env, agents={"goose": {"command": ["goose", "acp"]}})
    code, report = doctor(settings, online=False, config_path=tmp_path / "none.toml")

    assert SECRET not in report
    lines = {
        line.split(":")[0].split()[-1]: line for line in report.splitlines() if " agent " in line
    }
    assert lines["claude-code"].startswith("  ok")
    assert "2.1.332" in lines["claude-code"]
    assert "ANTHROPIC_API_KEY is set" in lines["claude-code"]
    assert "logged in" in lines["codex"]
    assert "0.171.0" in lines["codex"]
    assert lines["gemini"].startswith("  --")
    assert "set GEMINI_API_KEY" in lines["gemini"]
    assert "npm install -g @sourcegraph/amp" in lines["amp"]
    assert "'goose' is not installed" in lines["goose"]
    assert code == 0  # agents are optional: nothing here fails the check
