"""Messages as the store keeps them: every field of every block survives the round trip."""

from __future__ import annotations

import typing
from typing import Any

import attrs
import pytest

from parley.core.messages import _TAGS, Message, message_from_dict, message_to_dict

SAMPLES: dict[Any, Any] = {str: "x\u2028é", bool: True, dict[str, Any]: {"path": "a", "n": [1]}}


def _sample(field: attrs.Attribute[Any], hints: dict[str, Any]) -> Any:
    hint = hints[field.name]
    options = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    return SAMPLES[options[0]]


@pytest.mark.parametrize("cls", list(_TAGS), ids=lambda c: c.__name__)
@pytest.mark.parametrize("filled", [True, False], ids=["every-field", "defaults"])
def test_every_block_field_survives_the_store_round_trip(cls: type[Any], filled: bool) -> None:
    hints = typing.get_type_hints(cls)
    values = {
        f.name: _sample(f, hints) for f in attrs.fields(cls) if filled or f.default is attrs.NOTHING
    }
    message = Message("assistant", (cls(**values),))
    assert message_from_dict(message_to_dict(message)) == message
