"""A tool as the model sees it: what providers offer and tools declare."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class ToolSpec:
    """A tool as the model sees it."""

    name: str
    description: str
    input_schema: dict[str, Any]
