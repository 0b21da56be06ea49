"""Settings precedence (default < file < env < flag), sources, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.config import ConfigError, load_settings
from parley.core.errors import ErrorCode


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


def load(config: Path, text: str | None = None, env=None, flags=None):  # type: ignore[no-untyped-def]
    if text is not None:
        config.write_text(text, encoding="utf-8")
    return load_settings(flags=flags, env={"PARLEY_CONFIG": str(config), **(env or {})})


def error(config: Path, text: str | None = None, env=None, flags=None) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        load(config, text, env, flags)
    assert info.value.code == ErrorCode.CONFIG_INVALID
    return info.value.message


def test_without_file_env_or_flags_every_setting_is_its_default(config: Path) -> None:
    settings = load(config)
    assert settings.model is None
    assert settings.approval_timeout == 300.0
    assert set(settings.sources.values()) == {"default"}


def test_file_overrides_default_env_overrides_file_flag_overrides_env(config: Path) -> None:
    text = 'model = "from-file"\nmax_turns = 7\n'
    env = {"PARLEY_MODEL": "from-env", "PARLEY_MAX_TURNS": "9"}

    settings = load(config, text)
    assert (settings.model, settings.sources["model"]) == ("from-file", str(config))

    settings = load(config, text, env)
    assert (settings.model, settings.sources["model"]) == ("from-env", "env PARLEY_MODEL")
    assert (settings.max_turns, settings.sources["max_turns"]) == (9, "env PARLEY_MAX_TURNS")

    settings = load(config, text, env, {"model": "from-flag", "max_turns": None})
    assert (settings.model, settings.sources["model"]) == ("from-flag", "flag --model")
    assert settings.max_turns == 9  # a flag left unset does not hide the environment
    assert settings.sources["approval_timeout"] == "default"


def test_empty_environment_variable_counts_as_unset(config: Path) -> None:
    settings = load(config, 'model = "from-file"\n', {"PARLEY_MODEL": ""})
    assert settings.model == "from-file"


def test_numbers_from_text_are_converted_and_ints_accepted_as_floats(config: Path) -> None:
    settings = load(
        config,
        "tool_timeout = 30\n",
        {"PARLEY_APPROVAL_TIMEOUT": "2.5"},
        {"context_window": "4096"},
    )
    assert settings.tool_timeout == 30.0
    assert isinstance(settings.tool_timeout, float)
    assert settings.approval_timeout == 2.5
    assert settings.context_window == 4096


def test_hyphenated_keys_in_the_file_are_accepted(config: Path) -> None:
    settings = load(config, "max-turns = 3\n[providers.anthropic]\nbase-url = 'http://x'\n")
    assert settings.max_turns == 3
    assert settings.providers == {"anthropic": {"base_url": "http://x"}}


def test_unknown_key_in_file_names_the_file_and_key_and_suggests(config: Path) -> None:
    message = error(config, 'modle = "x"\n')
    assert message == f"{config}: unknown setting 'modle'; did you mean 'model'?"


def test_wrong_type_in_file_names_the_key(config: Path) -> None:
    assert error(config, 'max_turns = "ten"\n') == (
        f"{config}: max_turns must be an integer, got 'ten'"
    )
    assert error(config, "tool_timeout = true\n") == (
        f"{config}: tool_timeout must be a number, got True"
    )


def test_wrong_type_in_environment_names_the_variable(config: Path) -> None:
    assert error(config, env={"PARLEY_MAX_TURNS": "lots"}) == (
        "environment PARLEY_MAX_TURNS: max_turns must be an integer, got 'lots'"
    )


def test_bad_flag_value_names_the_flag(config: Path) -> None:
    assert error(config, flags={"read_timeout": "soon"}) == (
        "--read-timeout: read_timeout must be a number, got 'soon'"
    )
    assert "unknown setting 'colour'" in error(config, flags={"colour": "red"})


def test_invalid_choice_names_where_it_came_from(config: Path) -> None:
    assert error(config, env={"PARLEY_PERMISSION_MODE": "yolo"}) == (
        "env PARLEY_PERMISSION_MODE: permission_mode must be one of "
        "ask, accept-edits, allow, deny; got 'yolo'"
    )
    assert error(config, 'log_level = "loud"\n').startswith(f"{config}: log_level must be one of")


def test_non_positive_limits_are_rejected(config: Path) -> None:
    assert error(config, "context_window = 0\n") == (
        f"{config}: context_window must be positive, got 0"
    )
    assert error(config, "", flags={"max_retries": -1}) == (
        "flag --max-retries: max_retries must not be negative, got -1"
    )


def test_invalid_toml_names_the_file(config: Path) -> None:
    assert error(config, "model = \n").startswith(f"{config}: not valid TOML:")


def test_provider_sections_are_checked_key_by_key(config: Path) -> None:
    assert error(config, "[providers.anthropic]\nbase_url = 5\n") == (
        f"{config}: providers.anthropic.base_url must be a string, got 5"
    )
    assert error(config, "[providers.anthropic]\nbase_ulr = 'x'\n") == (
        f"{config}: unknown key 'providers.anthropic.base_ulr'; "
        "did you mean 'providers.anthropic.base_url'?"
    )
    assert error(config, "[providers.antropic]\napi_key = 'x'\n") == (
        f"{config}: unknown provider 'providers.antropic'; did you mean 'providers.anthropic'?"
    )
    assert error(config, "[providers.ollama]\ncontext_window = -5\n") == (
        f"{config}: providers.ollama.context_window must be positive, got -5"
    )
    assert error(config, "providers = 3\n") == f"{config}: providers must be a table, got 3"


def test_a_mistyped_api_key_is_not_echoed_in_the_error(config: Path) -> None:
    message = error(config, "[providers.openai]\napi_key = 123456789\n")
    assert message == f"{config}: providers.openai.api_key must be a string, got a int"
    assert "123456789" not in message


def test_price_sections_are_checked(config: Path) -> None:
    settings = load(config, '[prices."gpt-5"]\ninput = 1\noutput = 10.0\n')
    assert settings.prices == {"gpt-5": {"input": 1.0, "output": 10.0}}
    assert error(config, '[prices."gpt-5"]\ninput = "cheap"\n') == (
        f"{config}: prices.gpt-5.input must be a number, got 'cheap'"
    )
    assert "unknown key 'prices.gpt-5.inptu'" in error(config, '[prices."gpt-5"]\ninptu = 1\n')
    assert "must not be negative" in error(config, '[prices."gpt-5"]\noutput = -1\n')


def test_rules_are_checked_when_settings_load(config: Path) -> None:
    good = '[[rules]]\ntool = "bash"\naction = "allow"\nmatch = { command = "git *" }\n'
    assert load(config, good).rules == [
        {"tool": "bash", "action": "allow", "match": {"command": "git *"}}
    ]
    assert error(config, '[[rules]]\ntool = "bash"\naction = "maybe"\n') == (
        f"{config}: rules[0]: action must be one of allow, deny, ask"
    )
    assert error(config, 'rules = "all"\n') == f"{config}: rules must be an array, got 'all'"


def test_settings_repr_does_not_show_provider_sections(config: Path) -> None:
    settings = load(config, '[providers.anthropic]\napi_key = "sk-ant-secret-value"\n')
    assert settings.providers["anthropic"]["api_key"] == "sk-ant-secret-value"
    assert "sk-ant-secret-value" not in repr(settings)
