"""The effective settings and where each came from."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from parley.config import paths
from parley.protocol.errors import ErrorCode, ParleyError

PERMISSION_MODES = ("ask", "accept-edits", "allow", "deny")


class ConfigError(ParleyError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INVALID_PARAMS, message)


def _positive(name: str, value: Any) -> None:
    if value is not None and value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")


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
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    tool_timeout: float = 120.0
    log_level: str = "warning"
    providers: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    prices: dict[str, dict[str, float]] = attrs.field(factory=dict)
    rules: list[dict[str, Any]] = attrs.field(factory=list)
    # Where each setting's value came from: "default", a file path, "env PARLEY_X", "flag --x".
    sources: dict[str, str] = attrs.field(factory=dict, eq=False)
    env: Mapping[str, str] = attrs.field(factory=lambda: dict(os.environ), eq=False, repr=False)

    def data_path(self) -> Path:
        return Path(self.data_dir) if self.data_dir else paths.default_data_dir(self.env)


_FIELDS = {f.name: f for f in attrs.fields(Settings) if f.name not in ("sources", "env")}

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
    "PARLEY_CONNECT_TIMEOUT": "connect_timeout",
    "PARLEY_READ_TIMEOUT": "read_timeout",
    "PARLEY_TOOL_TIMEOUT": "tool_timeout",
    "PARLEY_LOG_LEVEL": "log_level",
}


def _expected_type(name: str) -> type:
    tp = str(_FIELDS[name].type)
    for key, py in (("dict", dict), ("list", list), ("float", float), ("int", int)):
        if tp.startswith(key):
            return py
    return str


def _coerce(name: str, value: Any, where: str) -> Any:
    """Check a value from a file (typed) or the environment (text) against the setting's type."""
    want = _expected_type(name)
    if isinstance(value, str) and want in (int, float):
        try:
            value = want(value)
        except ValueError:
            raise ConfigError(f"{where}: {name} must be a number, got {value!r}") from None
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, want) or isinstance(value, bool):
        raise ConfigError(
            f"{where}: {name} must be {want.__name__}, got {type(value).__name__} ({value!r})"
        )
    return value


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
    for key, value in read_config_file(path).items():
        name = key.replace("-", "_")
        if name not in _FIELDS:
            raise ConfigError(f"{path}: unknown setting {key!r}")
        setattr(settings, name, _coerce(name, value, str(path)))
        settings.sources[name] = str(path)
    for var, name in ENV_VARS.items():
        if (value := env.get(var)) not in (None, ""):
            setattr(settings, name, _coerce(name, value, f"environment {var}"))
            settings.sources[name] = f"env {var}"
    for name, value in (flags or {}).items():
        if value is None:
            continue
        if name not in _FIELDS:
            raise ConfigError(f"unknown setting {name!r}")
        setattr(settings, name, _coerce(name, value, f"--{name.replace('_', '-')}"))
        settings.sources[name] = f"flag --{name.replace('_', '-')}"
    if settings.permission_mode is not None and settings.permission_mode not in PERMISSION_MODES:
        raise ConfigError(
            f"{settings.sources['permission_mode']}: permission_mode must be one of "
            f"{', '.join(PERMISSION_MODES)}; got {settings.permission_mode!r}"
        )
    for name in (
        "approval_timeout",
        "idle_timeout",
        "connect_timeout",
        "read_timeout",
        "tool_timeout",
        "max_turns",
    ):
        _positive(name, getattr(settings, name))
    return settings
