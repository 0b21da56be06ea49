"""Any server that speaks Chat Completions, and the `ollama` preset.

openai-compatible: [providers.openai-compatible] base_url (required), api_key, model.
ollama: [providers.ollama] base_url, else OLLAMA_HOST, else http://127.0.0.1:11434; "/v1" is
added when the address has no path, as Ollama's own clients accept it without.
"""

from __future__ import annotations

import openai

from parley.config import Settings
from parley.providers import registry, sdk
from parley.providers.base import Provider, ProviderConfig
from parley.providers.openai_chat import ChatCompletionsProvider

# The SDK insists on a key; servers without authentication ignore this one.
NO_KEY = "unused"


def ollama_url(host: str) -> str:
    """OLLAMA_HOST as Ollama itself accepts it ("127.0.0.1:11434", "http://h:11434") -> /v1 URL."""
    url = host if "://" in host else f"http://{host}"
    scheme, _, rest = url.partition("://")
    if "/" not in rest.rstrip("/"):
        return f"{scheme}://{rest.rstrip('/')}/v1"
    return url.rstrip("/")


def make_config(settings: Settings, name: str, model: str | None) -> ProviderConfig:
    base_url = registry.setting(settings, name, "base_url")
    if name == "ollama":
        host = base_url or settings.env.get("OLLAMA_HOST")
        base_url = ollama_url(host) if host else registry.OLLAMA_DEFAULT_URL
    return registry.common_config(
        settings,
        name,
        model,
        api_key=registry.setting(settings, name, "api_key"),
        base_url=base_url,
        key_hint=registry.key_hint(settings, name, None),
        options={"reasoning_effort": registry.setting(settings, name, "reasoning_effort")},
    )


def create(config: ProviderConfig) -> Provider:
    client = openai.AsyncOpenAI(
        api_key=config.api_key or NO_KEY,
        base_url=config.base_url,
        max_retries=0,
        timeout=sdk.timeout(config),
        http_client=openai.DefaultAsyncHttpxClient(verify=sdk.tls()),
    )
    service = "Ollama" if config.kind == "ollama" else f"the server at {config.base_url}"
    return ChatCompletionsProvider(config, client, service, token_limit="max_tokens")
