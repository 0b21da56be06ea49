"""Token use and cost, summed the same way wherever they are counted."""

from __future__ import annotations

from typing import Protocol

import attrs


class UsageLike(Protocol):
    """Anything that reports usage: a model response, a `usage` notification, a turn result."""

    @property
    def input_tokens(self) -> int: ...

    @property
    def output_tokens(self) -> int: ...

    @property
    def cache_read_tokens(self) -> int | None: ...

    @property
    def cache_write_tokens(self) -> int | None: ...

    @property
    def cost_usd(self) -> float | None: ...


@attrs.define
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    # None until some part has a known price: an unknown price is not a price of zero.
    cost_usd: float | None = None

    def add(self, other: UsageLike) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens or 0
        self.cache_write_tokens += other.cache_write_tokens or 0
        if other.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + other.cost_usd
