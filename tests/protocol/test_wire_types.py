"""The wire types' shared equality, hashing and repr behave as attrs' generated ones did."""

from __future__ import annotations

from unittest import mock

from parley.protocol import types as wire


def test_equality_is_by_type_and_every_field() -> None:
    assert wire.ClientInfo("h", "1") == wire.ClientInfo("h", "1")
    assert wire.ClientInfo("h", "1") != wire.ClientInfo("h", "2")
    assert wire.Empty() == wire.Empty()
    assert wire.Usage(1, 2) != wire.UsageReport(1, 2, "p", "m")


def test_a_subclass_is_not_equal_to_its_base() -> None:
    fields = {
        "session_id": "s",
        "cwd": "/",
        "profile": "default",
        "provider": "scripted",
        "model": "m",
        "permission_mode": "ask",
        "created_at": "t",
        "updated_at": "t",
    }
    info, detail = wire.SessionInfo(**fields), wire.SessionDetail(**fields)
    assert info != detail
    assert detail != info


def test_other_types_get_to_decide_equality() -> None:
    assert wire.ServerInfo("parley", "1") == mock.ANY
    assert (wire.ServerInfo("parley", "1") == 3) is False


def test_equal_values_hash_alike_and_repr_names_the_fields() -> None:
    assert hash(wire.ClientInfo("h")) == hash(wire.ClientInfo("h"))
    assert len({wire.Empty(), wire.Empty()}) == 1
    assert repr(wire.ClientInfo("h")) == "ClientInfo(name='h', version=None)"
