"""Keeping credentials out of what leaves Parley: messages, logs, tool output, commands.

Two kinds of secret are masked: values Parley has been told are secrets (`remember`: API keys,
tokens and passwords from its settings and environment), wherever they appear, and the password
of any URL (`scheme://user:password@host`), whether or not it was known. Parley's own secrets
(its provider credentials) are also kept out of the environment of the commands tools start.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

# Shorter values are masked inside URLs only: masking "pass" everywhere would garble text.
MIN_SECRET_LENGTH = 8
# Variables through which Parley or its provider SDKs take credentials. Commands never get
# them: `env` in a tool call must not copy them into the conversation.
PROVIDER_ENV = frozenset(
    {
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "OPENAI_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_AD_TOKEN",
    }
)
# Variables that name Parley's model servers, whose URL may carry a password.
URL_ENV = frozenset(
    {"OLLAMA_HOST", "AZURE_OPENAI_ENDPOINT", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"}
)
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/:@]*):([^\s/@]+)@")
_known: set[str] = set()
_ordered: list[str] = []  # longest first, so a secret that contains another is masked whole
_own: set[str] = set()  # Parley's own: no variable holding one is passed to a command


def mask(value: object) -> str:
    """Enough of a secret to tell two apart (its last 4 characters), never enough to use it."""
    text = str(value)
    return f"****{text[-4:]}" if len(text) >= 16 else "****"


def remember(value: str, *, own: bool = False) -> None:
    """Treat `value` as a secret from now on, in this process; `own`: one of Parley's."""
    if len(value) < MIN_SECRET_LENGTH:
        return
    if own:
        _own.add(value)
    if value not in _known:
        _known.add(value)
        _ordered[:] = sorted(_known, key=len, reverse=True)


def url_passwords(text: str) -> list[str]:
    """The passwords of the URLs in `text`."""
    return [m.group(2) for m in _URL_PASSWORD.finditer(text)]


def redact(text: str) -> str:
    """`text` with every known secret and every URL password masked."""
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, mask(secret))
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:****@", text)
    return text


def command_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a command a tool runs: Parley's, less every variable that carries
    one of Parley's own credentials."""
    source = os.environ if environ is None else environ
    return {k: v for k, v in source.items() if not carries_own_secret(k, v)}


def carries_own_secret(var: str, value: str) -> bool:
    """Whether the environment variable carries one of Parley's own credentials."""
    if var in PROVIDER_ENV or (var in URL_ENV and url_passwords(value)):
        return True
    return any(secret in value for secret in _own)
