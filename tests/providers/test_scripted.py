"""The scripted provider's script files: checked, read once, read again when edited."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from parley.core.errors import ErrorCode, ParleyError
from parley.providers.scripted import load_script


def _write(path: Path, responses: object) -> None:
    path.write_text(json.dumps({"responses": responses}))


def test_a_script_is_read_once_and_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    _write(path, [[{"type": "text", "text": "one"}]])
    first = load_script(path)
    assert load_script(str(path)) is first  # a thousand sessions share one parse
    _write(path, [[{"type": "text", "text": "two, longer"}]])
    assert load_script(path) == [[{"type": "text", "text": "two, longer"}]]
    # An edit that keeps the size is seen by its modification time.
    _write(path, [[{"type": "text", "text": "six, longer"}]])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_script(path) == [[{"type": "text", "text": "six, longer"}]]


def test_a_script_broken_by_an_edit_is_reported_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    _write(path, [[{"type": "text", "text": "fine"}]])
    load_script(path)
    path.write_text('{"responses": [[{"type": "text"}]]}')
    with pytest.raises(ParleyError) as bad:
        load_script(path)
    assert bad.value.code == ErrorCode.PROVIDER_NOT_CONFIGURED
    assert str(path) in bad.value.message
    assert '"text" needs a string "text"' in bad.value.message
    path.write_text("{not json")
    with pytest.raises(ParleyError, match="is not valid JSON"):
        load_script(path)
    path.unlink()
    with pytest.raises(ParleyError, match="cannot read script"):
        load_script(path)
