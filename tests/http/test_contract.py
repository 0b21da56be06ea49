"""Property-based contract tests: schemathesis generates requests from the daemon's own
/openapi.json and checks every answer: no 500s, and each matches its declared status, content
type and schema. Bounded, so it runs in CI.

Not checked: that every schema-valid request is accepted. Some valid-looking values depend on
state no schema can state (a cwd must be an existing directory, a cursor one the daemon gave
out, a profile one that exists); those are 400/404 with the usual error body."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import scripted_env

EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def daemon_schema(isolated_env: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": [[{"type": "text", "text": "Hi."}]]}))
    work = tmp_path / "work"
    work.mkdir()
    url_file = tmp_path / "url"
    env = {**scripted_env(isolated_env, script), "PARLEY_DAEMON_DEFAULT_WORKING_DIR": str(work)}
    process = subprocess.Popen(
        [sys.executable, "-m", "parley", "daemon", "--port", "0", "--url-file", str(url_file)],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not (url_file.exists() and url_file.read_text().endswith("\n")):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the daemon did not start"
            time.sleep(0.02)
        url = url_file.read_text().strip()
        yield schemathesis.openapi.from_url(f"{url}/openapi.json")
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0
        assert b"Traceback" not in err, err.decode()


def test_every_answer_matches_the_openapi_document(daemon_schema: Any) -> None:
    operations = [result.ok() for result in daemon_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: Any) -> None:
            case.call_and_validate(timeout=30, excluded_checks=[positive_data_acceptance])

        check()
