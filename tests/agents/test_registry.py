"""The config file's [agents.<name>] tables and how an agent's command is found."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from parley.agents.registry import spec
from parley.config import ConfigError, Settings
from parley.config.settings import load_settings
from parley.core.errors import ErrorCode, ParleyError


def _load(tmp_path: Path, text: str) -> Settings:
    config = tmp_path / "config.toml"
    config.write_text(text)
    return load_settings(env={"PATH": os.environ["PATH"]}, config_path=config)


def test_an_acp_agent_named_in_the_config_file_is_started_with_its_command(
    tmp_path: Path,
) -> None:
    settings = _load(
        tmp_path,
        '[agents.echoer]\ncommand = ["python3", "-m", "some_acp_agent"]\n'
        '[agents.echoer.env]\nECHO_LEVEL = "2"\n',
    )
    agent = spec("echoer", settings)
    assert Path(agent.command[0]).name.startswith("python3")
    assert agent.command[1:] == ("-m", "some_acp_agent")
    assert agent.env["ECHO_LEVEL"] == "2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[agents.x]\nenv = {}\n", "agents.x is not built in, so it needs a command"),
        ('[agents.x]\ncommand = "x"\n', "agents.x.command must be an array"),
        ("[agents.x]\ncommand = []\n", "must be a non-empty array of strings"),
        ('[agents.codex]\nargs = ["-v"]\n', "unknown key 'agents.codex.args'"),
        ("[agents.codex.env]\nN = 1\n", "agents.codex.env must be a table of strings"),
    ],
)
def test_bad_agent_tables_are_refused_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, text)


def test_a_built_in_agent_can_be_pointed_at_another_executable(tmp_path: Path) -> None:
    wrapper = tmp_path / "my-claude"
    wrapper.write_text("#!/bin/sh\n")
    wrapper.chmod(0o755)
    settings = _load(tmp_path, f'[agents.claude-code]\ncommand = ["{wrapper}"]\n')
    assert spec("claude-code", settings).command == (str(wrapper),)
    settings.agents["claude-code"]["command"] = [str(tmp_path / "missing")]
    with pytest.raises(ParleyError) as missing:
        spec("claude-code", settings)
    assert missing.value.code == ErrorCode.PROVIDER_NOT_CONFIGURED
