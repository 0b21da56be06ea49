"""A session's ACP modes (Parley's permission modes) and config options (mode and model)."""

from __future__ import annotations

from typing import Any

from parley.core.errors import ErrorCode, ParleyError
from parley.protocol import types as wire

MODES: dict[str, tuple[str, str]] = {
    "ask": ("Ask", "Reads run; edits and commands ask first"),
    "accept-edits": ("Accept edits", "Reads and edits run; commands ask first"),
    "allow": ("Allow all", "Every tool call runs without asking"),
    "deny": ("Read only", "Reads run; edits and commands are refused"),
}


def modes(info: wire.SessionInfo) -> dict[str, Any]:
    return {
        "currentModeId": info.permission_mode,
        "availableModes": [
            {"id": mode, "name": name, "description": description}
            for mode, (name, description) in MODES.items()
        ],
    }


def model_value(provider: str, model: str) -> str:
    return f"{provider}/{model}"


def parse_model_value(value: str) -> tuple[str, str]:
    provider, sep, model = value.partition("/")
    if not sep or not provider or not model:
        raise ParleyError(
            ErrorCode.INVALID_PARAMS,
            f"a model is chosen as provider/model, e.g. anthropic/claude-sonnet-5-5; got {value!r}",
            data={"pointer": "/value"},
        )
    return provider, model


def config_options(
    info: wire.SessionInfo, providers: wire.ProviderListResult
) -> list[dict[str, Any]]:
    current = model_value(info.provider, info.model)
    models = [current] + [
        value
        for p in providers.providers
        if p.configured and (value := model_value(p.name, p.default_model)) != current
    ]
    return [
        {
            "id": "mode",
            "name": "Permissions",
            "category": "mode",
            "type": "select",
            "currentValue": info.permission_mode,
            "options": [
                {"value": mode, "name": name, "description": description}
                for mode, (name, description) in MODES.items()
            ],
        },
        {
            "id": "model",
            "name": "Model",
            "category": "model",
            "type": "select",
            "currentValue": current,
            "options": [{"value": value, "name": value} for value in models],
        },
    ]


def check_mode(mode: Any, pointer: str) -> str:
    if mode not in MODES:
        raise ParleyError(
            ErrorCode.INVALID_PARAMS,
            f"unknown mode {mode!r}; the modes are {', '.join(MODES)}",
            data={"pointer": pointer},
        )
    return str(mode)
