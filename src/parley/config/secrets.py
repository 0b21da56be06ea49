"""Recognising secrets among settings, and masking them for display."""

from __future__ import annotations

from typing import Any

_SECRET_NAMES = {"api_key", "key", "token", "password", "secret", "authorization"}
_SECRET_SUFFIXES = ("_key", "_token", "_secret", "_password")


def is_secret(key: str) -> bool:
    """Whether a setting or environment variable named `key` holds a credential.

    Matches the last dotted part, so `providers.anthropic.api_key` and `ANTHROPIC_API_KEY` are
    both secrets.
    """
    name = key.rsplit(".", 1)[-1].lower()
    return name in _SECRET_NAMES or name.endswith(_SECRET_SUFFIXES)


def mask(value: Any) -> str:
    """Enough of a secret to tell two apart (its last 4 characters), never enough to use it."""
    text = str(value)
    return f"****{text[-4:]}" if len(text) >= 16 else "****"


def masked(key: str, value: Any) -> Any:
    """`value` with every secret in it, at any depth of tables, masked."""
    if isinstance(value, dict):
        return {k: masked(f"{key}.{k}", v) for k, v in value.items()}
    if value is not None and is_secret(key):
        return mask(value)
    return value
