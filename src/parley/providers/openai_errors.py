"""The openai SDK's errors as provider-neutral Faults (OpenAI, Azure and compatible servers)."""

from __future__ import annotations

from collections.abc import Mapping

import openai

from parley.providers import faults

_MAX_MESSAGE = 300  # a proxy's HTML error page is not a message


def fault(exc: Exception) -> faults.Fault | None:
    if not isinstance(exc, openai.APIStatusError):
        return None
    body = exc.body  # the SDK hands over the body's "error" member when there is one
    message = body.get("message") if isinstance(body, Mapping) else body
    text = message.strip()[:_MAX_MESSAGE] if isinstance(message, str) else ""
    return faults.Fault(exc.status_code, text, exc.code or exc.type, exc.response.headers)
