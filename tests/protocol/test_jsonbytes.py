"""Wire JSON means what the standard says, even where orjson would differ."""

from __future__ import annotations

import json

import pytest

from parley.protocol import jsonbytes


def test_integers_beyond_64_bits_stay_exact_both_ways() -> None:
    big = 2**70 + 1
    assert jsonbytes.loads(b'{"n": %d, "m": -%d}' % (big, big)) == {"n": big, "m": -big}
    assert json.loads(jsonbytes.dumps({"n": big})) == {"n": big}


def test_what_orjson_refuses_but_json_allows_still_parses() -> None:
    assert jsonbytes.loads(b'"\\ud800"') == "\ud800"  # a lone surrogate escape


@pytest.mark.parametrize("body", [b"{", b"[1,]", b"\xff", b"[" * 50_000 + b"]" * 50_000])
def test_what_is_not_json_is_a_value_error_with_a_reason(body: bytes) -> None:
    # UnicodeDecodeError is a ValueError too; every message says what is wrong.
    with pytest.raises(ValueError, match=r"Expecting|nested|decode|Illegal|Unterminated"):
        jsonbytes.loads(body)


def test_text_is_written_as_utf8_not_escaped() -> None:
    assert jsonbytes.dumps({"t": "Grüße ☃"}) == '{"t":"Grüße ☃"}'.encode()
    assert jsonbytes.dumps({"t": "é", "n": 2**70}) == '{"t": "é", "n": %d}'.encode() % 2**70
