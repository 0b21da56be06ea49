"""The daemon's own settings: flags > PARLEY_DAEMON_* environment > the config file's [daemon]
table > defaults; and the checks that refuse an unsafe or broken setup before binding."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from parley.config import Settings
from parley.config.settings import DAEMON_KEYS, LOG_LEVELS, ConfigError

DEFAULT_PORT = 8410
DEFAULT_MAX_BODY = 10 * 1024 * 1024
ENV_PREFIX = "PARLEY_DAEMON_"


@attrs.frozen
class DaemonSettings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    log_level: str = "warning"
    default_working_dir: str | None = None
    tls_certfile: str | None = None
    tls_keyfile: str | None = None
    api_key: str | None = attrs.field(default=None, repr=False)
    allowed_origins: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY
    # Seconds a client has to send a request's headers, then its body (slow clients are cut
    # off with 408).
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    # Seconds an SSE stream may go without a byte before a keep-alive comment is sent, so a
    # proxy that ends idle connections (nginx: 60 s) keeps a quiet stream open.
    keepalive_interval: float = 15.0

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def scheme(self) -> str:
        return "https" if self.tls_certfile else "http"


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def daemon_settings(settings: Settings, flags: Mapping[str, Any]) -> DaemonSettings:
    """Resolve and check. `flags` holds the command line's values (None: not given)."""
    values: dict[str, Any] = {"log_level": settings.log_level}
    where: dict[str, str] = {}
    file_source = settings.sources.get("daemon", "config file")
    for key, value in settings.daemon.items():
        values[key], where[key] = value, f"{file_source}: daemon.{key}"
    for key, want in DAEMON_KEYS.items():
        var = ENV_PREFIX + key.upper()
        text = settings.env.get(var)
        if text:
            values[key], where[key] = _from_env(text, want, var), f"environment {var}"
    for key, value in flags.items():
        if value is not None:
            values[key], where[key] = value, f"flag --{key.replace('_', '-')}"
    key_file = values.pop("api_key_file", None)
    if key_file and not values.get("api_key"):
        values["api_key"] = _read_key_file(key_file)
    values["allowed_origins"] = tuple(o.rstrip("/") for o in values.get("allowed_origins", ()))
    daemon = DaemonSettings(**values)
    _check(daemon, where)
    return daemon


def _from_env(text: str, want: type, var: str) -> Any:
    if want in (int, float):
        try:
            return want(text)
        except ValueError:
            kind = "an integer" if want is int else "a number"
            raise ConfigError(f"environment {var} must be {kind}, got {text!r}") from None
    if want is list:
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def _read_key_file(path: str) -> str:
    try:
        key = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the API key file {path}: {exc}") from None
    if not key:
        raise ConfigError(f"the API key file {path} is empty")
    return key


def _check(daemon: DaemonSettings, where: dict[str, str]) -> None:
    def origin(key: str) -> str:
        return where.get(key, "default")

    if not 0 <= daemon.port <= 65535:
        raise ConfigError(f"{origin('port')}: port must be 0-65535, got {daemon.port}")
    if daemon.log_level not in LOG_LEVELS:
        raise ConfigError(
            f"{origin('log_level')}: log_level must be one of {', '.join(LOG_LEVELS)}"
        )
    if daemon.max_body_bytes <= 0:
        raise ConfigError(f"{origin('max_body_bytes')}: max_body_bytes must be positive")
    for timeout in ("header_timeout", "body_timeout", "keepalive_interval"):
        if getattr(daemon, timeout) <= 0:
            raise ConfigError(f"{origin(timeout)}: {timeout} must be positive")
    if bool(daemon.tls_certfile) != bool(daemon.tls_keyfile):
        raise ConfigError("TLS needs both tls_certfile and tls_keyfile")
    if daemon.api_key is not None and len(daemon.api_key) < 16:
        raise ConfigError(f"{origin('api_key')}: api_key must be at least 16 characters")
    if "*" in daemon.allowed_origins:
        raise ConfigError(
            f"{origin('allowed_origins')}: '*' is not allowed; list each origin a browser may "
            "call the daemon from"
        )
    if daemon.default_working_dir is not None and not Path(daemon.default_working_dir).is_dir():
        raise ConfigError(
            f"{origin('default_working_dir')}: {daemon.default_working_dir!r} is not a directory"
        )
    if not daemon.loopback and not daemon.api_key:
        raise ConfigError(
            f"refusing to listen on {daemon.host} without an API key: anyone who can reach it "
            "could run tools on this machine. Set one (--api-key-file, PARLEY_DAEMON_API_KEY or "
            "[daemon] api_key), or listen on 127.0.0.1"
        )
