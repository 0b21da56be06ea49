"""Property-based fuzzing of `parley serve` over real pipes, in both framings: params of every
method (schema-shaped and not, any Unicode including lone surrogates, huge and deep values) and
raw garbage bytes. Every request gets exactly one answer, in time; nothing crashes the server;
no traceback is ever logged."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.core.naming import camel
from parley.doors.jsonrpc.framing import FrameError, FrameParser, Framing, encode
from parley.protocol.methods import REQUESTS, REQUESTS_BY_NAME, SHUTDOWN
from tests.conftest import scripted_env

ANSWER_S = 10.0
METHODS = [m.name for m in REQUESTS if m.name != SHUTDOWN]
EXAMPLES = int(os.environ.get("PARLEY_FUZZ_EXAMPLES", "120"))


class SyncServer:
    """A blocking framed client: the fuzzer is synchronous, the server a real process."""

    def __init__(self, env: dict[str, str], framing: Framing, log: Path) -> None:
        self.framing = framing
        self.log = log
        with log.open("wb") as stderr:  # a file: a pipe nobody reads would fill and block
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "parley", "serve", "--ephemeral"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=env,
            )
        self.parser = FrameParser(framing)
        self.ready: list[bytes | FrameError] = []
        self.next_id = 1

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while not self.ready:
            readable, _, _ = select.select([fd], [], [], ANSWER_S)
            assert readable, "no answer in time: the server hung"
            chunk = os.read(fd, 1 << 16)
            assert chunk, f"the server closed its output (exit {self.proc.poll()})"
            self.ready += self.parser.feed(chunk)
        frame = self.ready.pop(0)
        assert isinstance(frame, bytes), frame
        message: dict[str, Any] = json.loads(frame)
        return message

    def call(self, method: str, params: Any, after_garbage: bool = False) -> dict[str, Any]:
        msg_id = self.next_id
        self.next_id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        self.write(encode(body.encode(), self.framing))
        while True:  # the answer comes next; notifications (and parse errors for garbage) skipped
            message = self.read()
            if "method" in message:
                continue
            if after_garbage and message.get("id") is None:
                assert message["error"]["code"] in (-32700, -32600), message
                continue
            assert message.get("id") == msg_id, message
            return message

    def stop(self) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module", params=[Framing.HEADERS, Framing.NDJSON], ids=["cl", "ndjson"])
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SyncServer, list[str], Path]]:
    root = tmp_path_factory.mktemp("fuzz")
    script = root / "script.json"
    script.write_text(json.dumps({"responses": [[{"type": "text", "text": "ok"}]] * 10_000}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.update(PARLEY_HOME=str(root / "home"), PARLEY_CONFIG_DIR=str(root / "config"))
    server = SyncServer(scripted_env(env, script), request.param, root / "stderr.log")
    init = server.call("agent/initialize", {"protocolVersion": 1, "clientInfo": {"name": "fuzz"}})
    assert "result" in init
    sessions = [
        server.call("session/create", {"cwd": str(root)})["result"]["sessionId"] for _ in range(3)
    ]
    yield server, sessions, root
    stderr = server.stop()
    assert "Traceback" not in stderr, stderr[-3000:]
    assert server.proc.returncode == 0


def _fields(method: str) -> list[str]:
    return [camel(f.name) for f in attrs.fields(REQUESTS_BY_NAME[method].params)]


SURROGATES = st.sampled_from(["\ud800", "\udfff", "a\udc00b"])
TEXT = st.one_of(st.text(max_size=40), SURROGATES, st.sampled_from(["", "x" * 5000, "../..", "/"]))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def requests(draw: st.DrawFn, sessions: list[str], root: Path) -> tuple[str, Any]:
    method = draw(st.sampled_from(METHODS))
    names = _fields(method)
    value = st.one_of(
        JSON,
        st.sampled_from([*sessions, str(root), "ask", "allow", "default", "scripted"]),
        st.lists(st.sampled_from([*sessions, "t1", "ci"]), max_size=3),
    )
    if draw(st.booleans()) and names:
        params: Any = draw(
            st.dictionaries(st.sampled_from(names) | st.text(max_size=6), value, max_size=5)
        )
    else:
        params = draw(st.one_of(JSON, st.just(None)))
    return method, params


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_request_gets_one_clean_answer(
    fuzzed: tuple[SyncServer, list[str], Path], data: st.DataObject
) -> None:
    server, sessions, root = fuzzed
    method, params = data.draw(requests(sessions, root))
    answer = server.call(method, params)
    if "error" in answer:
        error = answer["error"]
        assert isinstance(error["code"], int)
        assert isinstance(error["data"]["code"], str)
        assert "Traceback" not in error["message"]
        assert error["code"] != -32603, (method, params, answer)  # nothing is an internal error
    else:
        assert "result" in answer


@settings(
    max_examples=EXAMPLES // 2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(garbage=st.binary(max_size=300))
def test_garbage_bytes_never_stop_the_server(
    fuzzed: tuple[SyncServer, list[str], Path], garbage: bytes
) -> None:
    server, _, _ = fuzzed
    # End the garbage at a line break so the next frame starts clean in either framing; a
    # Content-Length inside it may claim bytes, so those frames are sized to be satisfied.
    if b"ontent-" in garbage.lower():
        garbage = garbage.lower().replace(b"content-length", b"content-langth")
    server.write(garbage + b"\r\n\r\n")
    probe = server.call("provider/list", {}, after_garbage=True)
    assert "result" in probe
