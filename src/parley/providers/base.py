"""The one interface every model provider implements, and the types that cross it."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal, TypeAlias

import attrs

from parley.core.messages import Message
from parley.core.tools import ToolSpec as ToolSpec  # part of the provider interface
from parley.core.usage import Usage as Usage  # part of the provider interface

ModelStopReason: TypeAlias = Literal[
    "end_turn", "tool_use", "max_tokens", "refusal", "stop_sequence", "pause_turn"
]


@attrs.frozen
class ModelRequest:
    model: str
    system: str
    messages: Sequence[Message]
    tools: Sequence[ToolSpec] = ()
    # None: the provider's configured max_tokens.
    max_tokens: int | None = None
    # Extended thinking / reasoning budget in tokens; None leaves the provider's default.
    thinking_budget: int | None = None


@attrs.frozen
class TextDelta:
    text: str


@attrs.frozen
class ThinkingDelta:
    text: str


@attrs.frozen
class Completion:
    """The last event of every successful stream: the whole assistant message."""

    message: Message
    stop_reason: ModelStopReason
    usage: Usage


@attrs.frozen
class Retrying:
    """The provider is waiting before another attempt; the engine tells the host."""

    attempt: int
    delay_s: float
    reason: str


StreamEvent: TypeAlias = TextDelta | ThinkingDelta | Retrying | Completion


@attrs.frozen
class ProviderConfig:
    """Everything needed to build one provider. `api_key` never reaches logs or the wire."""

    kind: str
    model: str
    api_key: str | None = attrs.field(default=None, repr=False)
    base_url: str | None = None
    options: dict[str, Any] = attrs.field(factory=dict)
    max_retries: int = 4
    retry_base_delay: float = 0.5
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    # Output tokens per call when the request does not say ([providers.NAME] max_tokens).
    max_tokens: int = 8192
    # Price overrides from the settings, by model name (see providers/pricing.py).
    prices: dict[str, dict[str, float]] = attrs.field(factory=dict)
    # What the user should check when the provider rejects the key, e.g. "ANTHROPIC_API_KEY".
    key_hint: str = ""
    # Tokens the model takes in; `registry.resolve` always fills it in (settings, the provider's
    # section, make_config's knowledge of the model, or the kind's default, in that order).
    context_window: int | None = None


class Provider(abc.ABC):
    """Streams one model response per call. One instance serves one session."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        return self.config.kind

    @property
    def model(self) -> str:
        return self.config.model

    @abc.abstractmethod
    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        """Yield deltas, then exactly one Completion; raise ParleyError on failure.

        Cancelling the consuming task must close the underlying stream at once.
        """

    async def aclose(self) -> None:
        """Release connections; called when the session is unloaded."""
