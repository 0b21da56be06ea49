"""Recognising secrets among settings, and masking them for display."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from parley.core.redact import PROVIDER_ENV, URL_ENV, mask, redact, remember, url_passwords

_SECRET_NAMES = {"api_key", "key", "token", "password", "secret", "authorization"}
_SECRET_SUFFIXES = ("_key", "_token", "_secret", "_password")
# Provider settings that name a server, whose URL may carry a password.
_URL_KEYS = ("base_url", "endpoint")


def is_secret(key: str) -> bool:
    """Whether a setting or environment variable named `key` holds a credential.

    Matches the last dotted part, so `providers.anthropic.api_key` and `ANTHROPIC_API_KEY` are
    both secrets.
    """
    name = key.rsplit(".", 1)[-1].lower()
    return name in _SECRET_NAMES or name.endswith(_SECRET_SUFFIXES)


def masked(key: str, value: Any) -> Any:
    """`value` with every secret in it, at any depth of tables, masked; URL passwords too."""
    if isinstance(value, dict):
        return {k: masked(f"{key}.{k}", v) for k, v in value.items()}
    if value is not None and is_secret(key):
        return mask(value)
    if isinstance(value, str):
        return redact(value)
    return value


def remember_settings(env: Mapping[str, str], providers: Mapping[str, Mapping[str, Any]]) -> None:
    """Learn the secrets in the environment and in the config file's provider sections, so
    that they are masked wherever they appear, and Parley's own never reach a command."""
    for var, value in env.items():
        if value and (var in PROVIDER_ENV or is_secret(var)):
            remember(value, own=var in PROVIDER_ENV)
        for password in url_passwords(value):
            remember(password, own=var in URL_ENV)
    for section in providers.values():
        for key, value in section.items():
            if not isinstance(value, str) or not value:
                continue
            if is_secret(key):
                remember(value, own=True)
            elif key in _URL_KEYS:
                for password in url_passwords(value):
                    remember(password, own=True)
