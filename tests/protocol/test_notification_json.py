"""Notifications built from stored JSON text are the very bytes the dict would encode to."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from parley.protocol import jsonbytes
from parley.protocol import types as wire

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
BODY = st.dictionaries(
    TEXT.filter(lambda k: k not in ("sessionId", "turnId", "seq")),
    st.one_of(TEXT, st.integers(-(2**63), 2**63 - 1), st.booleans(), st.none()),
    max_size=4,
)


@given(session_id=TEXT, turn_id=TEXT, seq=st.integers(1, 2**53), body=BODY)
def test_params_from_stored_text_equal_the_encoded_dict(
    session_id: str, turn_id: str, seq: int, body: dict[str, Any]
) -> None:
    stored = jsonbytes.dumps(body).decode()
    spliced = wire.notification_params_json(session_id, turn_id, seq, stored)
    expected = jsonbytes.dumps(wire.notification_params(session_id, turn_id, seq, body))
    assert spliced.encode() == expected
