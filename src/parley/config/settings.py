"""The effective settings and where each came from.

Precedence: built-in defaults < the config file (TOML) < PARLEY_* environment < CLI flags.
Every problem is a ConfigError whose message names the source and the key.
"""

from __future__ import annotations

import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from parley.config import paths
from parley.config.secrets import is_secret, remember_settings
from parley.core.errors import ErrorCode, ParleyError

PERMISSION_MODES = ("ask", "accept-edits", "allow", "deny")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class ConfigError(ParleyError):
    """A bad config file, environment variable, flag or profile file."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.CONFIG_INVALID, message)


@attrs.define
class Settings:
    provider: str | None = None
    model: str | None = None
    profile: str = "default"
    permission_mode: str | None = None
    script: str | None = None
    data_dir: str | None = None
    idle_timeout: float | None = None
    approval_timeout: float = 300.0
    max_turns: int | None = None
    max_retries: int = 4
    # First wait between provider retries; it doubles each attempt (with jitter).
    retry_base_delay: float = 0.5
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    tool_timeout: float = 120.0
    # Tokens the model can take in; None: the provider's own figure. Compaction starts near it.
    context_window: int | None = None
    log_level: str = "warning"
    # [providers.<name>] sections; they may hold API keys, so they stay out of repr().
    providers: dict[str, dict[str, Any]] = attrs.field(factory=dict, repr=False)
    prices: dict[str, dict[str, float]] = attrs.field(factory=dict)
    rules: list[dict[str, Any]] = attrs.field(factory=list)
    # The [daemon] table (`parley daemon`); it may hold the API key, so it stays out of repr().
    daemon: dict[str, Any] = attrs.field(factory=dict, repr=False)
    # [mcp_servers.<name>] sections; env and headers may hold tokens, so they stay out of repr().
    mcp_servers: dict[str, dict[str, Any]] = attrs.field(factory=dict, repr=False)
    # [agents.<name>] sections: external agents' commands and environment (docs/agents.md).
    agents: dict[str, dict[str, Any]] = attrs.field(factory=dict, repr=False)
    # Where each setting's value came from: "default", a file path, "env PARLEY_X", "flag --x".
    sources: dict[str, str] = attrs.field(factory=dict, eq=False)
    env: Mapping[str, str] = attrs.field(factory=lambda: dict(os.environ), eq=False, repr=False)
    # The config file these settings were read from (whether or not it exists).
    config_path: Path | None = attrs.field(default=None, eq=False)

    def data_path(self) -> Path:
        if self.data_dir:
            return Path(self.data_dir).expanduser()
        return paths.default_data_dir(self.env)


attrs.resolve_types(Settings)
NOT_SETTINGS = ("sources", "env", "config_path")
_FIELDS = {f.name: f for f in attrs.fields(Settings) if f.name not in NOT_SETTINGS}

# PARLEY_* variables and the setting each one sets.
ENV_VARS: dict[str, str] = {
    "PARLEY_PROVIDER": "provider",
    "PARLEY_MODEL": "model",
    "PARLEY_PROFILE": "profile",
    "PARLEY_PERMISSION_MODE": "permission_mode",
    "PARLEY_SCRIPT": "script",
    "PARLEY_HOME": "data_dir",
    "PARLEY_IDLE_TIMEOUT": "idle_timeout",
    "PARLEY_APPROVAL_TIMEOUT": "approval_timeout",
    "PARLEY_MAX_TURNS": "max_turns",
    "PARLEY_MAX_RETRIES": "max_retries",
    "PARLEY_RETRY_BASE_DELAY": "retry_base_delay",
    "PARLEY_CONNECT_TIMEOUT": "connect_timeout",
    "PARLEY_READ_TIMEOUT": "read_timeout",
    "PARLEY_TOOL_TIMEOUT": "tool_timeout",
    "PARLEY_CONTEXT_WINDOW": "context_window",
    "PARLEY_LOG_LEVEL": "log_level",
}

# What a [providers.<name>] section may hold. Provider modules read these keys, nothing else
# (docs/providers.md says which provider reads which).
PROVIDER_KEYS: dict[str, type] = {
    "api_key": str,
    "base_url": str,
    "model": str,
    "context_window": int,
    "max_tokens": int,
    "api_version": str,
    "organization": str,
    "endpoint": str,
    "deployment": str,
    "api": str,
    "reasoning": bool,
    "reasoning_effort": str,
    "reasoning_summary": str,
    "thinking": str,
    "thinking_budget": int,
    "thinking_display": str,
    "model_path": str,
    "tool_rounds": int,
}
# What the [daemon] table may hold (`parley daemon`; docs/http.md).
DAEMON_KEYS: dict[str, type] = {
    "host": str,
    "port": int,
    "log_level": str,
    "default_working_dir": str,
    "tls_certfile": str,
    "tls_keyfile": str,
    "api_key": str,
    "api_key_file": str,
    "allowed_origins": list,
    "max_body_bytes": int,
    "header_timeout": float,
    "body_timeout": float,
    "keepalive_interval": float,
}
# [prices."<model>"]: US dollars per million tokens.
PRICE_KEYS = ("input", "output", "cache_read", "cache_write")
_CHOICES: dict[str, tuple[str, ...]] = {
    "permission_mode": PERMISSION_MODES,
    "log_level": LOG_LEVELS,
}
_POSITIVE = (
    "approval_timeout",
    "idle_timeout",
    "connect_timeout",
    "read_timeout",
    "tool_timeout",
    "max_turns",
    "context_window",
    "retry_base_delay",
)
_TYPE_NAMES: dict[type, str] = {
    bool: "true or false",
    str: "a string",
    int: "an integer",
    float: "a number",
    dict: "a table",
    list: "an array",
}


def _base_type(tp: Any) -> type:
    """`int | None` -> int, `dict[str, X]` -> dict."""
    if typing.get_origin(tp) in (types.UnionType, typing.Union):
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    base: type = typing.get_origin(tp) or tp
    return base


def _shown(key: str, value: Any) -> str:
    """A value for an error message; never a secret's."""
    if is_secret(key):
        return f"a {type(value).__name__}"
    return f"{value!r}"


def check_type(value: Any, want: type, key: str, where: str) -> Any:
    """`value` as a `want`; ints are accepted as numbers, bools are never numbers."""
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, want) and not (want in (int, float) and isinstance(value, bool)):
        return value
    raise ConfigError(f"{where}: {key} must be {_TYPE_NAMES[want]}, got {_shown(key, value)}")


def _from_text(text: str, want: type, key: str, where: str) -> Any:
    """A value given as text (environment, flags) as the setting's type."""
    if want in (int, float):
        try:
            return want(text)
        except ValueError:
            raise ConfigError(f"{where}: {key} must be {_TYPE_NAMES[want]}, got {text!r}") from None
    return check_type(text, want, key, where)


def _unknown(
    where: str, key: str, known: typing.Iterable[str], what: str = "setting"
) -> ConfigError:
    import difflib  # only on this error path: start-up time matters

    hint = difflib.get_close_matches(key, list(known), n=1)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
    return ConfigError(f"{where}: unknown {what} {key!r}{suggestion}")


def _table(value: Any, key: str, where: str) -> dict[str, Any]:
    table: dict[str, Any] = check_type(value, dict, key, where)
    return {k.replace("-", "_"): v for k, v in table.items()}


def _providers(value: Any, where: str) -> dict[str, dict[str, Any]]:
    # Imported here: the registry imports this module.
    from parley.providers.registry import KINDS

    out: dict[str, dict[str, Any]] = {}
    for name, section in check_type(value, dict, "providers", where).items():
        if name not in KINDS:
            raise _unknown(
                where, f"providers.{name}", (f"providers.{k}" for k in KINDS), "provider"
            )
        checked: dict[str, Any] = {}
        for key, item in _table(section, f"providers.{name}", where).items():
            full = f"providers.{name}.{key}"
            if key not in PROVIDER_KEYS:
                raise _unknown(where, full, (f"providers.{name}.{k}" for k in PROVIDER_KEYS), "key")
            checked[key] = check_type(item, PROVIDER_KEYS[key], full, where)
            if PROVIDER_KEYS[key] is int and checked[key] <= 0:
                raise ConfigError(f"{where}: {full} must be positive, got {checked[key]}")
        out[name] = checked
    return out


def _prices(value: Any, where: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for model, section in check_type(value, dict, "prices", where).items():
        checked: dict[str, float] = {}
        for key, item in _table(section, f"prices.{model}", where).items():
            full = f"prices.{model}.{key}"
            if key not in PRICE_KEYS:
                raise _unknown(where, full, (f"prices.{model}.{k}" for k in PRICE_KEYS), "key")
            checked[key] = check_type(item, float, full, where)
            if checked[key] < 0:
                raise ConfigError(f"{where}: {full} must not be negative, got {checked[key]}")
        out[model] = checked
    return out


def _rules(value: Any, where: str) -> list[dict[str, Any]]:
    # Imported here: rules belong to the engine, which imports this module.
    from parley.engine.rules import parse_rules

    rules: list[dict[str, Any]] = check_type(value, list, "rules", where)
    parse_rules(rules, where)  # a bad rule raises a ConfigError naming it
    return rules


def _daemon(value: Any, where: str) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key, item in _table(value, "daemon", where).items():
        if key not in DAEMON_KEYS:
            raise _unknown(where, f"daemon.{key}", (f"daemon.{k}" for k in DAEMON_KEYS), "key")
        checked[key] = check_type(item, DAEMON_KEYS[key], f"daemon.{key}", where)
    return checked


def _mcp_servers(value: Any, where: str) -> dict[str, dict[str, Any]]:
    from parley.tools.mcp.config import check_servers  # reads tables; no MCP SDK import

    return check_servers(value, where)


def _agents(value: Any, where: str) -> dict[str, dict[str, Any]]:
    # Imported here: the agents registry imports this module.
    from parley.agents.registry import parse_agents

    return parse_agents(value, where)


_SECTIONS = {
    "providers": _providers,
    "prices": _prices,
    "rules": _rules,
    "mcp_servers": _mcp_servers,
    "daemon": _daemon,
    "agents": _agents,
}


def _from_file(name: str, value: Any, where: str) -> Any:
    if name in _SECTIONS:
        return _SECTIONS[name](value, where)
    return check_type(value, _base_type(_FIELDS[name].type), name, where)


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    import tomllib  # only when there is a file to read: start-up time

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> Settings:
    """Defaults < config file < PARLEY_* environment < flags (None values in flags are unset)."""
    env = dict(os.environ if env is None else env)
    settings = Settings(env=env)
    settings.sources = {name: "default" for name in _FIELDS}
    path = config_path or paths.config_file(env)
    settings.config_path = path
    for key, value in read_config_file(path).items():
        name = key.replace("-", "_")
        if name not in _FIELDS:
            raise _unknown(str(path), key, _FIELDS)
        setattr(settings, name, _from_file(name, value, str(path)))
        settings.sources[name] = str(path)
    for var, name in ENV_VARS.items():
        if (text := env.get(var)) not in (None, ""):
            want = _base_type(_FIELDS[name].type)
            setattr(settings, name, _from_text(text, want, name, f"environment {var}"))
            settings.sources[name] = f"env {var}"
    for name, value in (flags or {}).items():
        if value is None:
            continue
        flag = f"--{name.replace('_', '-')}"
        if name not in _FIELDS or name in _SECTIONS:
            raise ConfigError(f"unknown setting {name!r} given as flag {flag}")
        want = _base_type(_FIELDS[name].type)
        if isinstance(value, str):
            value = _from_text(value, want, name, flag)
        setattr(settings, name, check_type(value, want, name, flag))
        settings.sources[name] = f"flag {flag}"
    _check_values(settings)
    remember_settings(env, settings.providers)
    return settings


def _check_values(settings: Settings) -> None:
    for name, choices in _CHOICES.items():
        value = getattr(settings, name)
        if value is not None and value not in choices:
            raise ConfigError(
                f"{settings.sources[name]}: {name} must be one of {', '.join(choices)}; "
                f"got {value!r}"
            )
    for name in _POSITIVE:
        value = getattr(settings, name)
        if value is not None and value <= 0:
            raise ConfigError(f"{settings.sources[name]}: {name} must be positive, got {value}")
    if settings.max_retries < 0:
        raise ConfigError(
            f"{settings.sources['max_retries']}: max_retries must not be negative, "
            f"got {settings.max_retries}"
        )
