"""Every kind of bad input gets a clear answer, and the server keeps serving."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parley.doors.jsonrpc.framing import Framing, encode
from tests.conftest import ScriptWriter, scripted_env
from tests.rawclient import RawServer


@pytest.fixture
async def server(isolated_env: dict[str, str], write_script: ScriptWriter, framing: Framing):
    env = scripted_env(isolated_env, write_script([{"type": "text", "text": "ok"}]))
    raw = await RawServer.start(env, framing)
    yield raw
    await raw.kill()


async def still_serving(server: RawServer) -> None:
    """The next frame is the answer to a new request: the server is serving, and it sent
    nothing in between (no stray answer to a notification, no late error)."""
    await server.send({"jsonrpc": "2.0", "id": "alive", "method": "provider/list", "params": {}})
    answer = await server.read()
    assert answer.get("id") == "alive", answer
    assert "result" in answer, answer


def error_of(message: dict) -> tuple[int, str]:
    return message["error"]["code"], message["error"]["data"]["code"]


async def test_requests_before_initialize_get_not_initialized(server: RawServer) -> None:
    answer = await server.request(1, "session/create", {})
    assert error_of(answer) == (-32002, "not_initialized")
    assert (await server.initialize())["result"]["protocolVersion"] == 1


async def test_unknown_protocol_major_gets_protocol_version_mismatch(server: RawServer) -> None:
    answer = await server.request(
        1, "agent/initialize", {"protocolVersion": 99, "clientInfo": {"name": "future"}}
    )
    assert error_of(answer) == (-32000, "protocol_version_mismatch")
    assert answer["error"]["data"]["supported"] == [1]
    assert "result" in await server.initialize()


async def test_broken_json_gets_parse_error_with_null_id(server: RawServer) -> None:
    await server.initialize()
    await server.send(b'{"jsonrpc": "2.0", "id": 7, "method": ')
    answer = await server.read()
    assert answer["id"] is None
    assert error_of(answer) == (-32700, "parse_error")
    await still_serving(server)


@pytest.mark.parametrize(
    ("message", "answer_id"),
    [
        ({"id": 3, "method": "provider/list"}, 3),  # no jsonrpc
        ({"jsonrpc": "1.0", "id": 4, "method": "provider/list"}, 4),
        ({"jsonrpc": "2.0", "id": {"x": 1}, "method": "provider/list"}, None),
        ({"jsonrpc": "2.0", "id": 5, "method": 42}, 5),
        ({"jsonrpc": "2.0"}, None),
        ([{"jsonrpc": "2.0", "id": 6, "method": "provider/list"}], None),
        ("just a string", None),
    ],
    ids=["no-jsonrpc", "wrong-version", "object-id", "numeric-method", "empty", "batch", "string"],
)
async def test_invalid_requests_get_invalid_request(
    server: RawServer, message: object, answer_id: int | None
) -> None:
    await server.initialize()
    await server.send(json.dumps(message).encode())
    answer = await server.read()
    assert answer["id"] == answer_id
    assert error_of(answer) == (-32600, "invalid_request")
    await still_serving(server)


async def test_unknown_method_gets_method_not_found(server: RawServer) -> None:
    await server.initialize()
    answer = await server.request(9, "session/explode", {})
    assert error_of(answer) == (-32601, "method_not_found")
    assert "session/explode" in answer["error"]["message"]
    await still_serving(server)


@pytest.mark.parametrize(
    ("method", "params", "pointer"),
    [
        ("session/create", {"cwd": 5}, "/cwd"),
        ("session/create", {"permissionMode": "yolo"}, "/permissionMode"),
        ("session/create", {"sessionId": "../etc"}, "/sessionId"),
        ("session/create", {"sessionId": "abc\n"}, "/sessionId"),
        ("turn/submit", {"sessionId": "s"}, "/prompt"),
        ("turn/submit", {"sessionId": "s", "prompt": [{"type": "video"}]}, "/prompt/0"),
        ("session/list", {"limit": 0}, "/limit"),
        ("session/create", [1, 2], ""),
    ],
)
async def test_bad_params_get_invalid_params_with_a_pointer(
    server: RawServer, method: str, params: object, pointer: str
) -> None:
    await server.initialize()
    answer = await server.request(11, method, params)
    assert error_of(answer) == (-32602, "invalid_params")
    assert answer["error"]["data"]["pointer"] == pointer
    assert "traceback" not in str(answer).lower()
    await still_serving(server)


async def test_unknown_session_gets_session_not_found(server: RawServer) -> None:
    await server.initialize()
    for method, params in [
        ("turn/submit", {"sessionId": "nope", "prompt": "x"}),
        ("session/get", {"sessionId": "nope"}),
        ("turn/cancel", {"sessionId": "nope"}),
    ]:
        answer = await server.request(12, method, params)
        assert error_of(answer) == (-32000, "session_not_found"), method
    await still_serving(server)


async def test_bad_cwd_is_refused_with_a_clear_message(server: RawServer, tmp_path: Path) -> None:
    await server.initialize()
    answer = await server.request(13, "session/create", {"cwd": str(tmp_path / "missing")})
    assert error_of(answer) == (-32602, "invalid_params")
    assert "not a directory" in answer["error"]["message"]


async def test_unknown_notifications_are_ignored(server: RawServer) -> None:
    await server.initialize()
    await server.send({"jsonrpc": "2.0", "method": "host/somethingNew", "params": {}})
    await server.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 12345}})
    await still_serving(server)


async def test_requests_sent_without_an_id_are_neither_run_nor_answered(
    server: RawServer,
) -> None:
    await server.initialize()
    for method, params in (
        ("session/create", {}),
        ("session/list", {}),
        ("session/get", {"sessionId": "nope"}),
        ("turn/cancel", {"sessionId": 5}),
        ("no/suchMethod", {}),
    ):
        await server.send({"jsonrpc": "2.0", "method": method, "params": params})
    await server.send({"jsonrpc": "2.0", "id": "next", "method": "provider/list", "params": {}})
    answer = await server.read()  # the very next frame: nothing was sent for the notifications
    assert answer["id"] == "next"
    assert "result" in answer
    listed = await server.request("list", "session/list", {})
    assert listed["result"]["sessions"] == []  # the session/create above did not run


async def test_integer_ids_of_any_size_are_echoed_exactly(server: RawServer) -> None:
    await server.initialize()
    for msg_id in (2**64 + 1, -(2**63) - 1, 99999999999999999999999):
        answer = await server.request(msg_id, "provider/list", {})
        assert answer["id"] == msg_id
        assert "result" in answer


async def test_absurdly_nested_json_is_a_parse_error_not_a_dead_reader(server: RawServer) -> None:
    await server.initialize()
    await server.send(b"[" * 100_000 + b"]" * 100_000)
    assert error_of(await server.read()) == (-32700, "parse_error")
    await server.send(b'{"jsonrpc": "2.0", "id": 1, "params": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    assert error_of(await server.read())[0] in (-32700, -32600)
    await still_serving(server)


async def test_response_to_nothing_is_ignored(server: RawServer) -> None:
    await server.initialize()
    await server.send({"jsonrpc": "2.0", "id": "never-asked", "result": {"decision": "allow_once"}})
    await still_serving(server)


async def test_an_id_without_method_result_or_error_is_an_invalid_request(
    server: RawServer,
) -> None:
    await server.initialize()
    await server.send({"jsonrpc": "2.0", "id": 41})
    answer = await server.read()
    assert answer["id"] == 41
    assert error_of(answer) == (-32600, "invalid_request")
    await still_serving(server)


@pytest.mark.parametrize("garbage", [b"\xef\xbb\xbf", b"hello there\n", b"\x00\n"])
async def test_garbage_before_the_first_message_does_not_fix_the_framing(
    isolated_env: dict[str, str], framing: Framing, garbage: bytes
) -> None:
    server = await RawServer.start(isolated_env, framing)
    try:
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "agent/initialize",
                "params": {"protocolVersion": 1, "clientInfo": {"name": "g"}},
            }
        ).encode()
        await server.write(garbage + encode(body, framing))
        first = await server.read()
        if garbage.strip(b"\xef\xbb\xbf"):
            assert first["id"] is None
            assert error_of(first) == (-32700, "parse_error")
            first = await server.read()
        assert first["id"] == 0
        assert "result" in first
        await still_serving(server)
    finally:
        await server.kill()


async def test_a_content_length_nobody_can_read_is_reported_and_the_server_exits(
    isolated_env: dict[str, str],
) -> None:
    server = await RawServer.start(isolated_env, Framing.HEADERS)
    try:
        await server.initialize()
        await server.write(b"Content-Length: 1000000000000\r\n\r\n" + b"{}" * 1000)
        answer = await server.read()
        assert error_of(answer) == (-32700, "parse_error")
        assert "connection is closed" in answer["error"]["message"]
        code, _ = await server.wait_exit(10)
        assert code == 0
        assert "Traceback" not in await server.stderr()
    finally:
        await server.kill()


@pytest.mark.parametrize("framing", [Framing.HEADERS], ids=["content-length"])
async def test_header_variants_and_broken_headers_keep_the_stream_in_sync(
    server: RawServer,
) -> None:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "agent/initialize",
            "params": {"protocolVersion": 1, "clientInfo": {"name": "h"}},
        }
    ).encode()
    # Lower-case header name, LF-only line ends, an extra Content-Type header.
    await server.write(
        b"content-length: %d\nContent-Type: application/json\n\n%s" % (len(body), body)
    )
    assert (await server.read())["id"] == 1
    # A header block with a bad length, then a valid frame right behind it.
    await server.write(b"Content-Length: abc\r\n\r\n")
    assert error_of(await server.read()) == (-32700, "parse_error")
    await server.write(b"Garbage-Line\r\n")
    assert error_of(await server.read()) == (-32700, "parse_error")
    await still_serving(server)


async def test_content_length_counts_bytes_and_non_ascii_round_trips(
    isolated_env: dict[str, str], write_script: ScriptWriter, workspace: Path
) -> None:
    text = "Grüße, 世界 ☃ — ok"
    env = scripted_env(isolated_env, write_script([{"type": "text", "text": text}]))
    server = await RawServer.start(env, Framing.HEADERS)
    try:
        await server.initialize()
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "session/create",
                "params": {"cwd": str(workspace), "title": "naïve ✓"},
            },
            ensure_ascii=False,
        ).encode()
        await server.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        created = await server.response(2)
        assert created["result"]["title"] == "naïve ✓"
        answer = await server.request(
            3, "turn/submit", {"sessionId": created["result"]["sessionId"], "prompt": "é"}
        )
        assert answer["result"]["reply"] == text
    finally:
        await server.kill()


async def test_no_traceback_reaches_the_host_when_a_handler_fails(
    server: RawServer, workspace: Path
) -> None:
    await server.initialize()
    # A session whose script file vanished: provider creation fails inside the handler.
    answer = await server.request(
        20, "session/create", {"cwd": str(workspace), "provider": "anthropic"}
    )
    assert error_of(answer) == (-32000, "provider_not_configured")
    assert "ANTHROPIC_API_KEY" in answer["error"]["message"]
    assert "Traceback" not in str(answer)
    await still_serving(server)


LONE = "\ud800"


@pytest.mark.parametrize(
    ("method", "params", "pointer"),
    [
        ("session/create", {"title": f"a{LONE}b"}, "/title"),
        ("session/create", {"tags": ["ok", LONE]}, "/tags/1"),
        ("session/get", {"sessionId": f"x{LONE}"}, "/sessionId"),
        ("session/list", {"tags": [LONE]}, "/tags/0"),
        ("session/list", {"cwd": LONE}, "/cwd"),
        ("profile/get", {"name": LONE}, "/name"),
        ("session/create", {"title": "x" * 1001}, "/title"),
        ("session/create", {"tags": ["t"] * 65}, "/tags"),
        ("session/create", {"cwd": "/" + "a" * 5000}, "/cwd"),
        ("profile/get", {"name": "x" * 100_000}, "/name"),
        ("turn/submit", {"sessionId": "s", "prompt": "x" * 2_000_001}, "/prompt"),
    ],
)
async def test_strings_that_cannot_be_stored_or_are_too_long_are_invalid_params(
    server: RawServer, method: str, params: dict, pointer: str
) -> None:
    await server.initialize()
    answer = await server.request(1, method, params)
    assert error_of(answer) == (-32602, "invalid_params"), answer
    assert answer["error"]["data"]["pointer"] == pointer
    assert len(answer["error"]["message"]) < 300  # the offending value is not echoed back
    await still_serving(server)
    await server.close_stdin()
    assert "Traceback" not in await server.stderr()


async def test_a_prompt_that_is_not_text_leaves_the_session_free(
    server: RawServer, tmp_path: Path
) -> None:
    await server.initialize()
    sid = (await server.request(1, "session/create", {"cwd": str(tmp_path)}))["result"]["sessionId"]
    bad = await server.request(2, "turn/submit", {"sessionId": sid, "prompt": f"hi {LONE}"})
    assert error_of(bad) == (-32602, "invalid_params")
    good = await server.request(3, "turn/submit", {"sessionId": sid, "prompt": "hi"})
    assert good["result"]["stopReason"] == "end_turn"
    deleted = await server.request(4, "session/delete", {"sessionId": sid})
    assert "result" in deleted


@pytest.mark.parametrize("after_seq", [2**63, 2**64 + 1, 1e308])
async def test_any_after_seq_is_answered_without_a_traceback(
    server: RawServer, tmp_path: Path, after_seq: float
) -> None:
    await server.initialize()
    sid = (await server.request(1, "session/create", {"cwd": str(tmp_path)}))["result"]["sessionId"]
    answer = await server.request(2, "session/resume", {"sessionId": sid, "afterSeq": after_seq})
    assert answer["result"]["sessionId"] == sid
    await still_serving(server)
    await server.close_stdin()
    assert "Traceback" not in await server.stderr()


async def test_params_nested_a_thousand_deep_are_invalid_params(server: RawServer) -> None:
    await server.initialize()
    deep = b'{"x":' * 1000 + b"1" + b"}" * 1000
    await server.send(
        b'{"jsonrpc":"2.0","id":5,"method":"session/get","params":{"sessionId":"a","x":'
        + deep
        + b"}}"
    )
    answer = await server.read()
    assert answer["id"] == 5
    assert error_of(answer) == (-32602, "invalid_params")
    await still_serving(server)
    await server.close_stdin()
    assert "Traceback" not in await server.stderr()


async def test_a_cwd_in_a_symlink_loop_is_refused_cleanly(
    server: RawServer, tmp_path: Path
) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    await server.initialize()
    for cwd in (str(loop), str(loop / "inside")):
        answer = await server.request(1, "session/create", {"cwd": cwd})
        assert error_of(answer) == (-32602, "invalid_params")
    await server.close_stdin()
    assert "Traceback" not in await server.stderr()
