"""OpenAI's own API: the Responses API by default, Chat Completions with `api = "chat"`.

Config: [providers.openai] api_key, base_url, model, api ("responses" | "chat"),
reasoning (true/false; default: on for reasoning models), reasoning_effort, reasoning_summary.
Environment: OPENAI_API_KEY, OPENAI_BASE_URL.
"""

from __future__ import annotations

import openai

from parley.config import ConfigError, Settings
from parley.providers import registry, sdk
from parley.providers.base import Provider, ProviderConfig
from parley.providers.openai_chat import ChatCompletionsProvider
from parley.providers.openai_responses import ResponsesProvider

APIS = ("responses", "chat")


def make_config(settings: Settings, name: str, model: str | None) -> ProviderConfig:
    section = registry.section(settings, name)
    api = section.get("api", "responses")
    if api not in APIS:
        raise ConfigError(f'providers.{name}.api must be "responses" or "chat", got {api!r}')
    reasoning = section.get("reasoning")
    if reasoning is not None and not isinstance(reasoning, bool):
        raise ConfigError(f"providers.{name}.reasoning must be true or false")
    return registry.common_config(
        settings,
        name,
        model,
        api_key=registry.setting(settings, name, "api_key", "OPENAI_API_KEY"),
        base_url=registry.setting(settings, name, "base_url", "OPENAI_BASE_URL"),
        key_hint=registry.key_hint(settings, name, "OPENAI_API_KEY"),
        options={
            "api": api,
            "reasoning": reasoning,
            "reasoning_effort": registry.setting(settings, name, "reasoning_effort"),
            "reasoning_summary": registry.setting(settings, name, "reasoning_summary") or "auto",
            "organization": registry.setting(settings, name, "organization", "OPENAI_ORG_ID"),
        },
    )


def create(config: ProviderConfig) -> Provider:
    client = openai.AsyncOpenAI(
        api_key=config.api_key,
        base_url=config.base_url,
        organization=config.options["organization"],
        max_retries=0,
        timeout=sdk.timeout(config),
        http_client=openai.DefaultAsyncHttpxClient(verify=sdk.tls()),
    )
    if config.options["api"] == "chat":
        return ChatCompletionsProvider(config, client, "OpenAI")
    return ResponsesProvider(config, client, "OpenAI")
