"""One MCP server tool as a Parley tool: its name, kind and schema, and its results for the model.

Results keep their text, their images (sent to the model beside the tool result) and their
structured content; `isError` results are tool errors. Everything is capped: a server cannot
fill the model's context or the host's screen.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from parley.core.messages import ImageBlock
from parley.tools.base import Tool, ToolContext, ToolError, ToolKind, ToolOutput
from parley.tools.mcp.connection import ServerFailed

if TYPE_CHECKING:
    import mcp.types as mt

    from parley.tools.mcp.config import ServerConfig
    from parley.tools.mcp.pool import Server

MAX_IMAGES = 8
MAX_IMAGE_CHARS = 7_000_000  # base64 of about 5 MB, the largest image providers take
DESCRIPTION_CHARS = 4_000


class McpTool(Tool):
    def __init__(
        self,
        name: str,
        remote: mt.Tool,
        config: ServerConfig,
        server: Server,
        default_timeout_s: float,
    ) -> None:
        self.name = name
        self.server = config.name
        self.remote_name = remote.name
        about = remote.description or remote.title or remote.name
        self.description = about[:DESCRIPTION_CHARS]
        self.input_schema = _object_schema(remote.input_schema)
        self.kind = _kind(remote, config)
        self.call_timeout_s = config.tool_timeout or default_timeout_s
        self._handle = server

    def time_limit(self, input: dict[str, Any], ctx: ToolContext) -> float:
        # The call's own timeout ends it first (and tells the server to cancel); a server that
        # must be restarted for the call may take its startup time on top.
        return self.call_timeout_s + self._handle.launch.startup_timeout + 5.0

    async def run(self, input: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        from mcp import MCPError

        try:
            result = await self._handle.call(self.remote_name, input, self.call_timeout_s)
        except TimeoutError:
            raise ToolError(
                f"{self.name} timed out after {self.call_timeout_s:g}s; the MCP server "
                f"{self.server!r} was asked to cancel it"
            ) from None
        except ServerFailed as exc:
            raise ToolError(
                f"MCP server {self.server!r} {exc}; the call did not complete. The server is "
                "started again for the next call."
            ) from None
        except MCPError as exc:
            raise ToolError(f"MCP server {self.server!r} refused the call: {exc.message}") from None
        except Exception as exc:  # e.g. a result that breaks the protocol
            raise ToolError(
                f"MCP server {self.server!r} sent an answer that could not be read: "
                f"{type(exc).__name__}: {str(exc)[:500]}"
            ) from None
        return result_output(result, ctx.max_output_chars, self._handle.name)


def _kind(remote: mt.Tool, config: ServerConfig) -> ToolKind:
    """Annotations are the server's claims: they count only for a server the user trusts."""
    hints = remote.annotations
    if config.trusted and hints is not None and hints.read_only_hint is True:
        return "read"
    return "execute"


def _object_schema(schema: Any) -> dict[str, Any]:
    """Providers take only object schemas; a server's odd one becomes a permissive object."""
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        return {"type": "object"}
    return {"type": "object", **schema}


def result_output(result: mt.CallToolResult, limit: int, server: str) -> ToolOutput:
    """What the model reads of a result: text, images beside it, structured content."""
    import mcp.types as mt

    parts: list[str] = []
    images: list[ImageBlock] = []
    has_text = False
    for block in result.content:
        if isinstance(block, mt.TextContent):
            has_text = True
            parts.append(block.text)
        elif isinstance(block, mt.ImageContent):
            parts.append(_image(block, images))
        elif isinstance(block, mt.AudioContent):
            parts.append(f"[audio ({block.mime_type}) omitted: the model cannot hear it]")
        elif isinstance(block, mt.ResourceLink):
            parts.append(f"[resource {block.name}: {block.uri}]")
        elif isinstance(block, mt.EmbeddedResource):
            res = block.resource
            if isinstance(res, mt.TextResourceContents):
                parts.append(f"[resource {res.uri}]\n{res.text}")
            else:
                parts.append(f"[resource {res.uri} ({res.mime_type or 'binary'}) omitted]")
        else:
            parts.append(f"[{getattr(block, 'type', 'unknown')} content omitted]")
    display: dict[str, Any] = {"server": server}
    structured = result.structured_content
    if structured is not None:
        encoded = json.dumps(structured, ensure_ascii=False)
        # A server that sends structured content also sends it as text (the spec's SHOULD);
        # the model reads that text, or the JSON when there is none.
        if not has_text:
            parts.append(encoded)
        if len(encoded) <= limit:
            display["structuredContent"] = structured
    text = _cap("\n".join(parts), limit)
    if not text:
        text = "(no output)" if not result.is_error else "the tool failed and said nothing"
    return ToolOutput(text, is_error=bool(result.is_error), display=display, images=tuple(images))


def _image(block: mt.ImageContent, images: list[ImageBlock]) -> str:
    if not block.mime_type.startswith("image/"):
        return f"[content of type {block.mime_type} omitted]"
    if len(images) >= MAX_IMAGES:
        return f"[image ({block.mime_type}) omitted: at most {MAX_IMAGES} per result]"
    if len(block.data) > MAX_IMAGE_CHARS:
        return f"[image ({block.mime_type}) omitted: larger than about 5 MB]"
    images.append(ImageBlock(block.mime_type, block.data))
    return f"[image {len(images)} ({block.mime_type}) attached after the tool results]"


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit * 3 // 4]
    tail = text[-(limit // 4) :]
    cut = len(text) - len(head) - len(tail)
    return f"{head}\n[... {cut} characters of the result cut ...]\n{tail}"
