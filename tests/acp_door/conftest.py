"""Every ACP test checks every message Parley sent against ACP's schema when it ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.acp_door.conformance import Conformance


@pytest.fixture
def conformance() -> Iterator[Conformance]:
    checker = Conformance()
    yield checker
    checker.assert_clean()
    assert checker.checked > 0, "no message from the agent was checked"
