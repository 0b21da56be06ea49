"""A streamable-HTTP MCP server made with the SDK's own server API (MCPServer).

No `from __future__ import annotations`: the SDK reads the tools' annotations at run time."""

import base64

from mcp.server.mcpserver import Image, MCPServer
from mcp.types import ToolAnnotations

from tests.mcp_tools.fake_server import PNG


def web_server() -> MCPServer:
    server = MCPServer("web")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def shout(text: str) -> str:
        """Say it louder."""
        return text.upper() + "!"

    @server.tool()
    def dot() -> Image:
        """A one-pixel picture."""
        return Image(data=base64.b64decode(PNG), format="png")

    return server
