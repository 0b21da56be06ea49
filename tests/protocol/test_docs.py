"""docs/protocol.md is generated from the schemas; it must not go stale."""

from __future__ import annotations

from pathlib import Path

from parley.protocol.docgen import render
from parley.protocol.methods import NOTIFICATION_NAMES, REQUESTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_protocol_doc_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run: python -m parley.protocol.docgen"


def test_protocol_doc_covers_every_method_and_notification() -> None:
    text = render()
    for name in [m.name for m in REQUESTS] + list(NOTIFICATION_NAMES) + ["approval/request"]:
        assert f"#### `{name}`" in text
