"""Choosing the provider and model, and what `provider/list` reports."""

from __future__ import annotations

from typing import Any

import pytest

from parley.config import ConfigError, Settings, load_settings
from parley.core.errors import ErrorCode, ParleyError
from parley.providers import registry
from tests.conftest import NO_LOCAL_MODEL

KEYS = {
    "ANTHROPIC_API_KEY": "sk-ant-x",
    "OPENAI_API_KEY": "sk-x",
    "AZURE_OPENAI_API_KEY": "az-x",
    "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com",
    "OLLAMA_HOST": "127.0.0.1:11434",
}


def settings(env: dict[str, str], **fields: Any) -> Settings:
    return Settings(env=env, **fields)


@pytest.mark.parametrize(
    ("present", "chosen"),
    [
        (list(KEYS), "anthropic"),
        (["OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"], "openai"),
        (["AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "OLLAMA_HOST"], "azure-openai"),
        (["AZURE_OPENAI_API_KEY", "OLLAMA_HOST"], "ollama"),  # Azure needs its endpoint too
        (["OLLAMA_HOST"], "ollama"),
    ],
)
def test_the_first_credential_found_picks_the_provider(present, chosen):
    env = {k: KEYS[k] for k in present}
    assert registry.resolve(settings(env)).kind == chosen


def test_an_explicit_choice_beats_autodetection():
    config = registry.resolve(settings(KEYS), "openai", "gpt-4.1")
    assert (config.kind, config.model) == ("openai", "gpt-4.1")
    assert registry.resolve(settings(KEYS, provider="azure-openai")).kind == "azure-openai"


def test_nothing_configured_says_what_to_set():
    with pytest.raises(ParleyError) as caught:
        registry.resolve(settings(NO_LOCAL_MODEL))
    error = caught.value
    assert error.code == ErrorCode.PROVIDER_NOT_CONFIGURED
    for hint in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "OLLAMA_HOST"):
        assert hint in error.message


def test_a_chosen_provider_without_its_key_is_not_configured():
    with pytest.raises(ParleyError) as caught:
        registry.resolve(settings({}), "anthropic")
    assert caught.value.code == ErrorCode.PROVIDER_NOT_CONFIGURED
    assert "ANTHROPIC_API_KEY" in caught.value.message


def test_ollama_chosen_explicitly_works_on_its_default_address():
    config = registry.resolve(settings({}), "ollama")
    assert config.base_url == "http://127.0.0.1:11434/v1"
    assert config.model == "llama3.2"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1:11434", "http://127.0.0.1:11434/v1"),
        ("http://gpu-box:11434/", "http://gpu-box:11434/v1"),
        ("https://ollama.example.com/v1", "https://ollama.example.com/v1"),
    ],
)
def test_ollama_host_forms(host, url):
    assert registry.resolve(settings({"OLLAMA_HOST": host}), "ollama").base_url == url
    section = {"ollama": {"base_url": host}}
    assert registry.resolve(settings({}, providers=section), "ollama").base_url == url


def test_model_comes_from_the_flag_then_the_provider_section_then_the_default():
    s = settings(KEYS, providers={"anthropic": {"model": "claude-opus-5-5"}})
    assert registry.resolve(s, "anthropic", "claude-haiku-4-5").model == "claude-haiku-4-5"
    assert registry.resolve(s, "anthropic").model == "claude-opus-5-5"
    assert registry.resolve(settings(KEYS), "anthropic").model == "claude-sonnet-5-5"


def test_azure_deployment_from_the_config_file_is_the_model():
    s = settings(KEYS, providers={"azure-openai": {"deployment": "prod-gpt", "api_version": "v"}})
    config = registry.resolve(s, "azure-openai")
    assert config.model == "prod-gpt"
    assert config.options["api_version"] == "v"


def test_provider_keys_in_the_config_file_reach_the_providers(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        "[providers.azure-openai]\n"
        'endpoint = "https://res.openai.azure.com"\napi_key = "az"\n'
        'deployment = "prod-gpt"\napi_version = "2025-04-01-preview"\n'
        "[providers.openai]\n"
        'api = "chat"\nreasoning = false\nreasoning_effort = "low"\norganization = "org-1"\n'
        "max_tokens = 16000\n"
        "[providers.anthropic]\n"
        'thinking = "adaptive"\nthinking_display = "summarized"\n'
    )
    s = load_settings(env={"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k"}, config_path=path)

    azure = registry.resolve(s, "azure-openai")
    assert (azure.base_url, azure.model) == ("https://res.openai.azure.com", "prod-gpt")
    assert azure.options["api_version"] == "2025-04-01-preview"
    openai = registry.resolve(s, "openai")
    assert openai.options["api"] == "chat"
    assert openai.options["reasoning"] is False
    assert openai.options["organization"] == "org-1"
    assert openai.max_tokens == 16000
    anthropic = registry.resolve(s, "anthropic")
    assert anthropic.options["thinking"] == "adaptive"
    assert anthropic.options["thinking_display"] == "summarized"


def test_compatible_server_from_the_config_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        '[providers.openai-compatible]\nbase_url = "http://127.0.0.1:8000/v1"\n'
        'api_key = "local"\nmodel = "qwen3-coder"\n'
    )
    s = load_settings(env={}, config_path=path)
    config = registry.resolve(s, "openai-compatible")
    assert (config.base_url, config.api_key, config.model) == (
        "http://127.0.0.1:8000/v1",
        "local",
        "qwen3-coder",
    )
    assert config.key_hint == f"providers.openai-compatible.api_key in {path}"


def test_settings_reach_the_provider_config():
    s = settings(KEYS, max_retries=7, connect_timeout=3.0, read_timeout=9.0, retry_base_delay=0.1)
    config = registry.resolve(s, "openai")
    assert (config.max_retries, config.connect_timeout, config.read_timeout) == (7, 3.0, 9.0)
    assert config.retry_base_delay == 0.1
    assert config.key_hint == "OPENAI_API_KEY"


@pytest.mark.parametrize(
    ("provider", "section", "complaint"),
    [
        ("anthropic", {"thinking": "lots"}, "thinking must be one of"),
        ("anthropic", {"thinking_budget": 100}, "at least 1024"),
        ("anthropic", {"thinking_display": "full"}, "thinking_display"),
        ("openai", {"api": "completions"}, 'api must be "responses" or "chat"'),
        ("openai", {"base_url": 8080}, "base_url must be a string"),
    ],
)
def test_bad_provider_settings_are_configuration_errors(provider, section, complaint):
    with pytest.raises(ConfigError, match=complaint):
        registry.resolve(settings(KEYS, providers={provider: section}), provider)


def test_bad_price_overrides_fail_when_the_session_starts():
    with pytest.raises(ConfigError, match=r"prices\.gpt-4o"):
        registry.resolve(settings(KEYS, prices={"gpt-4o": {"input": "cheap"}}), "openai")


def test_provider_list_reports_configuration_and_default_models_without_keys():
    s = settings(
        {"ANTHROPIC_API_KEY": "sk-ant-secret"},
        providers={"openai-compatible": {"base_url": "http://127.0.0.1:8000/v1", "model": "q"}},
    )
    result = registry.describe(s)
    by_name = {p.name: p for p in result.providers}
    assert result.default == "anthropic"
    assert by_name["anthropic"].configured
    assert by_name["anthropic"].default_model == "claude-sonnet-5-5"
    assert by_name["anthropic"].detail == "key from ANTHROPIC_API_KEY"
    assert not by_name["openai"].configured
    assert by_name["openai"].detail == "set OPENAI_API_KEY"
    assert by_name["openai-compatible"].configured
    assert by_name["openai-compatible"].default_model == "q"
    assert by_name["openai-compatible"].detail == "server http://127.0.0.1:8000/v1"
    assert "sk-ant-secret" not in repr(result)
