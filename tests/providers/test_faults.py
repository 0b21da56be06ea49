"""Faults, the same for every provider: retries with backoff and retry-after, broken and hung
streams, rejected keys, oversized prompts, and cancellation closing the HTTP stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from parley.core.errors import ErrorCode, ParleyError
from parley.providers.base import Completion, Retrying, StreamEvent, TextDelta
from tests.providers.conftest import SECRET, request
from tests.providers.fake_server import Reply
from tests.providers.wire import Anthropic, Chat, Responses, Text

ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    529: "overloaded_error",
}


def anthropic_error(status: int, message: str) -> dict[str, Any]:
    return Anthropic.error(ANTHROPIC_TYPES[status], message)


def openai_error(status: int, message: str) -> dict[str, Any]:
    code = "context_length_exceeded" if "context length" in message else None
    kind = "invalid_request_error" if status < 500 else "server_error"
    return Chat.error(kind, message, code)


# kind -> (wire format, model, error body, the variable a rejected key message names)
KINDS: dict[str, tuple[Any, str, Callable[[int, str], dict[str, Any]], str]] = {
    "anthropic": (Anthropic, "claude-sonnet-5-5", anthropic_error, "ANTHROPIC_API_KEY"),
    "openai": (Responses, "gpt-6.1-sol", openai_error, "OPENAI_API_KEY"),
    "azure-openai": (Chat, "prod-gpt", openai_error, "AZURE_OPENAI_API_KEY"),
    "openai-compatible": (Chat, "qwen3", openai_error, "providers.openai-compatible.api_key"),
}
TOO_LONG = {
    "anthropic": "prompt is too long: 210000 tokens > 200000 maximum",
    "openai": "This model's maximum context length is 1050000 tokens. However, your "
    "messages resulted in 1200000 tokens.",
}

pytestmark = pytest.mark.parametrize("kind", list(KINDS))


async def drain(events: AsyncIterator[StreamEvent]) -> tuple[list[StreamEvent], ParleyError]:
    """Every event before the failure, and the failure."""
    got: list[StreamEvent] = []
    try:
        async for event in events:
            got.append(event)
    except ParleyError as exc:
        return got, exc
    pytest.fail("the stream ended without a failure")


def text_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_rate_limit_is_retried_after_the_wait_the_server_asks(server, open_provider, kind):
    wire, model, error, _ = KINDS[kind]
    server.script(
        Reply(429, body=error(429, "Slow down"), headers={"retry-after": "0.2"}),
        Reply(events=tuple(wire.reply(Text("Made it.")))),
    )
    provider = open_provider(kind, model)

    events = [e async for e in provider.stream(request(model))]

    assert events[0] == Retrying(1, 0.2, "rate limited (429)")
    assert text_of(events) == "Made it."
    assert isinstance(events[-1], Completion)
    assert len(server.requests) == 2


async def test_a_rate_limit_asking_for_a_long_wait_fails_at_once(server, open_provider, kind):
    _, model, error, _ = KINDS[kind]
    server.script(Reply(429, body=error(429, "Quota"), headers={"retry-after": "3600"}))
    provider = open_provider(kind, model)

    _, failure = await drain(provider.stream(request(model)))

    assert failure.code == ErrorCode.RATE_LIMITED
    assert "asks to wait 3600s" in failure.message
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [500, 503, 529])
async def test_server_errors_are_retried_until_attempts_run_out(
    server, open_provider, kind, status
):
    _wire, model, error, _ = KINDS[kind]
    server.script(*[Reply(status, body=error(status, "Internal trouble")) for _ in range(3)])
    provider = open_provider(kind, model, max_retries=2)

    events, failure = await drain(provider.stream(request(model)))

    assert [e.attempt for e in events if isinstance(e, Retrying)] == [1, 2]
    assert len(server.requests) == 3
    assert failure.code == ErrorCode.PROVIDER_ERROR
    assert failure.recoverable
    assert f"({status})" in failure.message


async def test_rate_limit_that_persists_ends_as_rate_limited(server, open_provider, kind):
    _wire, model, error, _ = KINDS[kind]
    server.script(Reply(429, body=error(429, "Slow down")), Reply(429, body=error(429, "Slow")))
    provider = open_provider(kind, model, max_retries=1)

    _, failure = await drain(provider.stream(request(model)))

    assert failure.code == ErrorCode.RATE_LIMITED
    assert failure.recoverable


async def test_stream_cut_after_text_ends_the_call_without_retrying(server, open_provider, kind):
    wire, model, _, _ = KINDS[kind]
    events = wire.reply(Text("This answer is going to break off halfway through."))
    server.script(Reply(events=tuple(events), cut_after=len(events) // 2))
    provider = open_provider(kind, model)

    got, failure = await drain(provider.stream(request(model)))

    assert text_of(got)  # what was shown stays shown; the engine keeps it
    assert "This answer is going to break off halfway through.".startswith(text_of(got))
    assert failure.code == ErrorCode.PROVIDER_ERROR
    assert failure.recoverable
    assert "broke off" in failure.message
    assert len(server.requests) == 1


async def test_stream_cut_before_any_output_is_retried(server, open_provider, kind):
    wire, model, _, _ = KINDS[kind]
    server.script(
        Reply(events=tuple(wire.reply(Text("lost"))), cut_after=1),
        Reply(events=tuple(wire.reply(Text("Second time lucky.")))),
    )
    provider = open_provider(kind, model)

    events = [e async for e in provider.stream(request(model))]

    assert events[0] == Retrying(1, events[0].delay_s, "connection dropped")
    assert text_of(events) == "Second time lucky."


async def test_server_that_never_answers_hits_the_read_timeout(server, open_provider, kind):
    _, model, _, _ = KINDS[kind]
    server.script(Reply(hang=True))
    provider = open_provider(kind, model, read_timeout=0.3, max_retries=0)

    _, failure = await drain(provider.stream(request(model)))

    assert failure.code == ErrorCode.PROVIDER_ERROR
    assert failure.recoverable
    assert "within 0.3s" in failure.message


async def test_stream_that_stalls_after_text_hits_the_read_timeout(server, open_provider, kind):
    wire, model, _, _ = KINDS[kind]
    events = wire.reply(Text("Starting to answer, then silence."))
    server.script(Reply(events=tuple(events), stall_after=len(events) // 2))
    provider = open_provider(kind, model, read_timeout=0.3)

    got, failure = await drain(provider.stream(request(model)))

    assert text_of(got)
    assert failure.code == ErrorCode.PROVIDER_ERROR
    assert failure.recoverable
    assert "no data for 0.3s" in failure.message


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_key_names_the_key_to_check_and_never_echoes_it(
    server, open_provider, kind, status
):
    _, model, error, key_hint = KINDS[kind]
    server.script(Reply(status, body=error(status, f"Incorrect API key provided: {SECRET}")))
    provider = open_provider(kind, model)

    _, failure = await drain(provider.stream(request(model)))

    assert failure.code == ErrorCode.PROVIDER_AUTH_FAILED
    assert not failure.recoverable
    assert key_hint in failure.message
    assert SECRET not in failure.message
    assert SECRET not in repr(failure.data)
    assert len(server.requests) == 1


async def test_prompt_over_the_context_window(server, open_provider, kind):
    _, model, error, _ = KINDS[kind]
    message = TOO_LONG["anthropic" if kind == "anthropic" else "openai"]
    server.script(Reply(400, body=error(400, message)))
    provider = open_provider(kind, model)

    _, failure = await drain(provider.stream(request(model)))

    assert failure.code == ErrorCode.CONTEXT_WINDOW_EXCEEDED
    assert not failure.recoverable
    assert len(server.requests) == 1


async def test_other_refusals_carry_the_api_message_and_are_not_retried(
    server, open_provider, kind
):
    _, model, error, _ = KINDS[kind]
    server.script(Reply(400, body=error(400, "tools.0.name: String should match pattern")))
    provider = open_provider(kind, model)

    _, failure = await drain(provider.stream(request(model)))

    assert failure.code == ErrorCode.PROVIDER_ERROR
    assert not failure.recoverable
    assert "(400): tools.0.name: String should match pattern" in failure.message
    assert len(server.requests) == 1


async def test_cancelling_closes_the_http_stream(server, open_provider, kind):
    wire, model, _, _ = KINDS[kind]
    events = wire.reply(Text("A long answer that the user will not wait for."))
    server.script(Reply(events=tuple(events), stall_after=len(events) // 2))
    provider = open_provider(kind, model)
    first_text = asyncio.Event()

    async def consume() -> None:
        async for event in provider.stream(request(model)):
            if isinstance(event, TextDelta):
                first_text.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_text.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await asyncio.to_thread(server.client_gone.wait, 10)
