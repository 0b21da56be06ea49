"""Cost from the price table, and overriding it."""

from __future__ import annotations

import pytest

from parley.config import ConfigError
from parley.providers.base import Usage
from parley.providers.pricing import cost, parse_overrides


def test_cost_counts_every_kind_of_token_at_its_own_rate():
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=100_000,
        cache_read_tokens=2_000_000,
        cache_write_tokens=400_000,
    )
    # claude-opus-5-5: $4 in, $20 out, $0.20 cache read, $5 cache write per MTok.
    assert cost("anthropic", "claude-opus-5-5", usage, {}) == pytest.approx(4.0 + 2.0 + 0.4 + 2.0)


def test_dated_snapshots_are_priced_as_their_model():
    usage = Usage(input_tokens=1_000_000)
    assert cost("anthropic", "claude-haiku-4-5-20251001", usage, {}) == pytest.approx(1.0)
    assert cost("openai", "gpt-4o-2024-08-06", usage, {}) == pytest.approx(2.5)


def test_a_newer_model_is_not_priced_as_an_older_one_it_happens_to_start_with():
    usage = Usage(input_tokens=1000)
    assert cost("openai", "gpt-5.5", usage, {}) is None
    assert cost("openai", "gpt-5-mini-2025-08-07", usage, {}) == pytest.approx(0.25 / 1000)


def test_unknown_models_cost_none():
    assert cost("anthropic", "claude-future-9", Usage(input_tokens=10), {}) is None


def test_overrides_replace_and_extend_the_table():
    overrides = {
        "claude-opus-5-5": {"input": 1.0, "output": 2.0},
        "my-azure-deployment": {"input": 3.0, "output": 6.0, "cache_read": 0.3},
    }
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=1_000_000)
    # Cache prices default to the input price when an override leaves them out.
    assert cost("anthropic", "claude-opus-5-5", usage, overrides) == pytest.approx(4.0)
    assert cost("azure-openai", "my-azure-deployment", usage, overrides) == pytest.approx(9.3)


def test_local_and_compatible_servers_are_priced_only_by_overrides():
    usage = Usage(input_tokens=1_000_000)
    assert cost("openai-compatible", "gpt-4o", usage, {}) is None
    assert cost("ollama", "llama3.2", usage, {"llama3.2": {"input": 0, "output": 0}}) == 0.0


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ({"m": 3}, "must be a table"),
        ({"m": {"input": 1}}, 'needs at least "input" and "output"'),
        ({"m": {"input": 1, "output": -2}}, "non-negative number"),
        ({"m": {"input": 1, "output": 2, "cache": 1}}, "unknown field(s) cache"),
        ({"m": {"input": True, "output": 2}}, "non-negative number"),
    ],
)
def test_bad_overrides_are_configuration_errors(raw, complaint):
    with pytest.raises(ConfigError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        parse_overrides(raw)
