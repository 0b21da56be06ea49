"""Which providers exist, which is configured, and building one (SDKs are imported lazily)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import attrs

from parley.config import Settings
from parley.protocol.errors import ErrorCode, ParleyError
from parley.providers.base import Provider, ProviderConfig


@attrs.frozen
class ProviderKind:
    name: str
    module: str  # parley.providers.<module>, imported only when used
    default_model: str
    credential_env: str | None  # the variable whose presence means "configured"
    setup_hint: str
    # Tokens of input the kind's models take, when nothing more specific is known. Cautious:
    # compacting early costs a summary, sending too much fails the turn.
    context_window: int = 128_000


KINDS: dict[str, ProviderKind] = {
    k.name: k
    for k in (
        ProviderKind(
            "anthropic",
            "anthropic",
            "claude-sonnet-4-5",
            "ANTHROPIC_API_KEY",
            "set ANTHROPIC_API_KEY",
            context_window=200_000,
        ),
        ProviderKind("openai", "openai", "gpt-5", "OPENAI_API_KEY", "set OPENAI_API_KEY"),
        ProviderKind(
            "azure-openai",
            "azure",
            "gpt-4o",
            "AZURE_OPENAI_API_KEY",
            "set AZURE_OPENAI_API_KEY and AZURE_OPENAI_ENDPOINT (and the deployment "
            "name as --model or PARLEY_MODEL)",
        ),
        ProviderKind(
            "ollama",
            "compatible",
            "llama3.2",
            "OLLAMA_HOST",
            "set OLLAMA_HOST (e.g. http://127.0.0.1:11434)",
            context_window=8_192,
        ),
        ProviderKind(
            "openai-compatible",
            "compatible",
            "default",
            None,
            "set providers.openai-compatible.base_url in the config file",
            context_window=32_768,
        ),
        ProviderKind(
            "scripted",
            "scripted",
            "scripted",
            "PARLEY_SCRIPT",
            "set PARLEY_SCRIPT or pass --script PATH",
            context_window=200_000,
        ),
    )
}
# The order in which credentials pick a provider when none is named.
AUTODETECT = ("anthropic", "openai", "azure-openai", "ollama")


def _section(settings: Settings, name: str) -> Mapping[str, object]:
    return settings.providers.get(name, {})


def is_configured(settings: Settings, name: str) -> bool:
    kind = KINDS[name]
    section = _section(settings, name)
    if name == "scripted":
        return bool(settings.script)
    if name == "openai-compatible":
        return bool(section.get("base_url"))
    if section.get("api_key") or (name == "ollama" and section.get("base_url")):
        return True
    return bool(kind.credential_env and settings.env.get(kind.credential_env))


def not_configured(message: str) -> ParleyError:
    hints = "; ".join(
        f"{k.name}: {k.setup_hint}" for k in KINDS.values() if k.name != "openai-compatible"
    )
    return ParleyError(
        ErrorCode.PROVIDER_NOT_CONFIGURED,
        f"{message}. Configure one: {hints}; or choose one with --provider / PARLEY_PROVIDER.",
    )


def default_provider(settings: Settings) -> str | None:
    if settings.provider:
        return settings.provider
    return next((n for n in AUTODETECT if is_configured(settings, n)), None)


def resolve(
    settings: Settings, provider: str | None = None, model: str | None = None
) -> ProviderConfig:
    """The provider config for a session: explicit choice, else settings, else autodetect."""
    name = provider or default_provider(settings)
    if name is None:
        raise not_configured("no model provider is configured")
    if name not in KINDS:
        raise ParleyError(
            ErrorCode.PROVIDER_NOT_CONFIGURED,
            f"unknown provider {name!r}; known providers: {', '.join(KINDS)}",
        )
    if not is_configured(settings, name):
        raise ParleyError(
            ErrorCode.PROVIDER_NOT_CONFIGURED,
            f"provider {name!r} is not configured: {KINDS[name].setup_hint}",
        )
    module = importlib.import_module(f"parley.providers.{KINDS[name].module}")
    config: ProviderConfig = module.make_config(settings, name, model)
    return attrs.evolve(config, context_window=context_window(settings, config))


def context_window(settings: Settings, config: ProviderConfig) -> int:
    """The setting, else the provider's config section, else the model's, else the kind's."""
    section = _section(settings, config.kind).get("context_window")
    window = settings.context_window or section or config.context_window
    return int(window) if isinstance(window, int) else KINDS[config.kind].context_window


def create(config: ProviderConfig) -> Provider:
    module = importlib.import_module(f"parley.providers.{KINDS[config.kind].module}")
    provider: Provider = module.create(config)
    return provider
