"""Azure OpenAI through the SDK's Azure client, on Chat Completions.

Config: [providers.azure-openai] api_key, endpoint, deployment, api_version, reasoning_effort.
Environment: AZURE_OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT, OPENAI_API_VERSION. The model is the
deployment name: --model / PARLEY_MODEL, else providers.azure-openai.deployment.
"""

from __future__ import annotations

import openai

from parley.config import Settings
from parley.core.errors import ErrorCode, ParleyError
from parley.providers import registry, sdk
from parley.providers.base import Provider, ProviderConfig
from parley.providers.openai_chat import ChatCompletionsProvider


def make_config(settings: Settings, name: str, model: str | None) -> ProviderConfig:
    return registry.common_config(
        settings,
        name,
        model or registry.setting(settings, name, "deployment"),
        api_key=registry.setting(settings, name, "api_key", "AZURE_OPENAI_API_KEY"),
        base_url=registry.setting(settings, name, "endpoint", "AZURE_OPENAI_ENDPOINT"),
        key_hint=registry.key_hint(settings, name, "AZURE_OPENAI_API_KEY"),
        options={
            "api_version": registry.setting(settings, name, "api_version", "OPENAI_API_VERSION")
            or registry.AZURE_DEFAULT_API_VERSION,
            "reasoning_effort": registry.setting(settings, name, "reasoning_effort"),
        },
    )


def create(config: ProviderConfig) -> Provider:
    if not config.base_url:
        raise ParleyError(
            ErrorCode.PROVIDER_NOT_CONFIGURED,
            "azure-openai needs its endpoint: set AZURE_OPENAI_ENDPOINT "
            "or providers.azure-openai.endpoint",
        )
    client = openai.AsyncAzureOpenAI(
        api_key=config.api_key,
        azure_endpoint=config.base_url,
        api_version=config.options["api_version"],
        max_retries=0,
        timeout=sdk.timeout(config),
        http_client=openai.DefaultAsyncHttpxClient(verify=sdk.tls()),
    )
    return ChatCompletionsProvider(config, client, "Azure OpenAI")
