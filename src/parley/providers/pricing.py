"""What a model call cost, from a price table in USD per million tokens.

The built-in table covers the common Anthropic and OpenAI models (list prices, standard tier);
the `prices` setting overrides or extends it by model name. A model id matches its entry exactly
or with a date snapshot suffix ("claude-haiku-4-5-20251001", "gpt-4o-2024-08-06"), never by a
looser prefix: "gpt-5.5" is not "gpt-5". Unknown models cost None: no number is better than a
wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from parley.config.settings import ConfigError
from parley.providers.base import Usage


@attrs.frozen
class Price:
    """USD per million tokens. Cache prices default to the input price."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None


# List prices, standard tier, prompts under the long-context threshold; reviewed 2026-11 against
# platform.claude.com/docs/en/about-claude/pricing and developers.openai.com/api/docs/pricing.
# `cache_write` is the 5-minute (Anthropic) / 30-minute (OpenAI) cache-write rate. Not modelled:
# long-context surcharges (OpenAI above 272K input tokens), batch, priority/fast tiers, and
# models priced in bands by prompt length (Claude Haiku 5.5): override those if you use them.
BUILTIN: dict[str, Price] = {
    "claude-fable-5-1": Price(10.0, 50.0, 0.25, 12.50),
    "claude-mythos-5-1": Price(10.0, 50.0, 0.25, 12.50),
    "claude-fable-5": Price(10.0, 50.0, 1.0, 12.50),
    "claude-mythos-5": Price(10.0, 50.0, 1.0, 12.50),
    "claude-opus-5-5": Price(4.0, 20.0, 0.20, 5.0),
    "claude-opus-5": Price(5.0, 25.0, 0.50, 6.25),
    "claude-opus-4-8": Price(5.0, 25.0, 0.50, 6.25),
    "claude-opus-4-7": Price(5.0, 25.0, 0.50, 6.25),
    "claude-opus-4-6": Price(5.0, 25.0, 0.50, 6.25),
    "claude-opus-4-5": Price(5.0, 25.0, 0.50, 6.25),
    "claude-opus-4-1": Price(15.0, 75.0, 1.50, 18.75),
    "claude-opus-4": Price(15.0, 75.0, 1.50, 18.75),
    "claude-sonnet-5-5": Price(2.0, 10.0, 0.10, 2.50),  # cache reads cut from $0.20 2026-10-07
    "claude-sonnet-5": Price(2.0, 10.0, 0.20, 2.50),
    "claude-sonnet-4-6": Price(3.0, 15.0, 0.30, 3.75),
    "claude-sonnet-4-5": Price(3.0, 15.0, 0.30, 3.75),
    "claude-sonnet-4": Price(3.0, 15.0, 0.30, 3.75),
    "claude-haiku-4-5": Price(1.0, 5.0, 0.10, 1.25),
    "gpt-6.1-sol": Price(2.0, 10.0, 0.10, 2.50),
    "gpt-6.1-terra": Price(1.0, 5.0, 0.05, 1.25),
    "gpt-6-sol": Price(2.0, 10.0, 0.20, 2.50),
    "gpt-6-luna": Price(0.10, 0.50, 0.01, 0.125),
    "gpt-5.6-terra": Price(2.0, 12.0, 0.20),
    "gpt-5.6-luna": Price(0.20, 1.20, 0.02),
    "gpt-5": Price(1.25, 10.0, 0.125),
    "gpt-5-mini": Price(0.25, 2.0, 0.025),
    "gpt-5-nano": Price(0.05, 0.40, 0.005),
    "gpt-4.1": Price(2.0, 8.0, 0.50),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.10),
    "gpt-4.1-nano": Price(0.10, 0.40, 0.025),
    "gpt-4o": Price(2.50, 10.0, 1.25),
    "gpt-4o-mini": Price(0.15, 0.60, 0.075),
    "o3": Price(2.0, 8.0, 0.50),
    "o4-mini": Price(1.10, 4.40, 0.275),
}
# Servers we cannot know the prices of: only the user's `prices` setting applies to them.
_UNPRICED_PROVIDERS = frozenset({"openai-compatible", "ollama", "scripted"})
# Models that run on this machine: free unless the `prices` setting says otherwise.
_FREE_PROVIDERS = frozenset({"local"})
_FREE = Price(0.0, 0.0)
_FIELDS = ("input", "output", "cache_read", "cache_write")
_SNAPSHOT = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")


def parse_overrides(raw: Mapping[str, object], where: str = "prices") -> dict[str, Price]:
    """Check the `prices` setting: {"model": {"input": n, "output": n, ...}} in USD per MTok."""
    table: dict[str, Price] = {}
    for model, entry in raw.items():
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}.{model} must be a table of prices per million tokens")
        unknown = sorted(set(entry) - set(_FIELDS))
        if unknown:
            raise ConfigError(f"{where}.{model}: unknown field(s) {', '.join(unknown)}")
        values: dict[str, float] = {}
        for key, value in entry.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(f"{where}.{model}.{key} must be a non-negative number")
            values[key] = float(value)
        if "input" not in values or "output" not in values:
            raise ConfigError(f'{where}.{model} needs at least "input" and "output"')
        table[model] = Price(**values)
    return table


def lookup(provider: str, model: str, overrides: Mapping[str, object]) -> Price | None:
    table = dict(parse_overrides(overrides))
    if provider in _FREE_PROVIDERS:
        return table.get(model, _FREE)
    if provider not in _UNPRICED_PROVIDERS:
        table = {**BUILTIN, **table}
    if model in table:
        return table[model]
    base = _SNAPSHOT.sub("", model)
    return table.get(base) if base != model else None


def cost(
    provider: str,
    model: str,
    usage: Usage,
    overrides: Mapping[str, object],
    reported: str | None = None,
) -> float | None:
    """USD for one call, or None when the model's price is unknown.

    `model` is the name the user asked for; `reported`, the id the API answered with, is tried
    when that name is not in the table (an alias resolved to a dated snapshot, say).
    """
    price = lookup(provider, model, overrides)
    if price is None and reported:
        price = lookup(provider, reported, overrides)
    if price is None:
        return None
    read = price.input if price.cache_read is None else price.cache_read
    write = price.input if price.cache_write is None else price.cache_write
    total = (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_read_tokens * read
        + usage.cache_write_tokens * write
    )
    return round(total / 1_000_000, 8)
