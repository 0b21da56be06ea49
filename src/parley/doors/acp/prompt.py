"""An ACP prompt (content blocks) as a Parley prompt: text and images as they are; links
and embedded resources as text the model can read."""

from __future__ import annotations

from typing import Any

from parley.core.errors import ErrorCode, ParleyError
from parley.protocol import types as wire


def _resource(resource: dict[str, Any]) -> wire.ContentBlock:
    uri = resource.get("uri", "")
    mime = resource.get("mimeType") or ""
    if "text" in resource:
        return wire.TextContent("text", f'<context ref="{uri}">\n{resource["text"]}\n</context>')
    if mime.startswith("image/"):
        return wire.ImageContent("image", mime, resource["blob"])
    return wire.TextContent("text", f"[attached {mime or 'binary'} resource {uri}, not shown]")


def prompt_blocks(blocks: list[dict[str, Any]]) -> list[wire.ContentBlock]:
    out: list[wire.ContentBlock] = []
    for i, block in enumerate(blocks):
        kind = block["type"]
        if kind == "text":
            out.append(wire.TextContent("text", block["text"]))
        elif kind == "image":
            out.append(wire.ImageContent("image", block["mimeType"], block["data"]))
        elif kind == "resource_link":
            out.append(wire.TextContent("text", f"[@{block['name']}]({block['uri']})"))
        elif kind == "resource":
            out.append(_resource(block["resource"]))
        else:  # audio: not offered in promptCapabilities
            raise ParleyError(
                ErrorCode.INVALID_PARAMS,
                f"{kind} content is not supported in prompts",
                data={"pointer": f"/prompt/{i}"},
            )
    return out
