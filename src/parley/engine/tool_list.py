"""`tool/list`: a session's tools and where each comes from, for hosts to show."""

from __future__ import annotations

from parley.engine.session import Session
from parley.protocol import types as wire


async def tool_list(session: Session) -> wire.ToolListResult:
    """Loads the tools first: asking for them is a need, so MCP servers start."""
    from parley.tools.mcp.tool import McpTool
    from parley.tools.mcp.toolset import McpToolset

    await session.tools.load()
    tools = [
        wire.ToolInfo(
            name=t.name,
            description=t.description,
            kind=t.kind,
            source="mcp" if t.server is not None else "builtin",
            input_schema=t.input_schema,
            server=t.server,
            original_name=t.remote_name if isinstance(t, McpTool) else None,
        )
        for t in session.tools
    ]
    servers = [
        wire.McpServerInfo(
            name=s.config.name,
            transport=s.config.transport,
            status=s.status,  # type: ignore[arg-type]
            tool_count=len(s.tools),
            trusted=s.config.trusted,
            error=s.problem,
        )
        for source in session.tools.sources
        if isinstance(source, McpToolset)
        for s in source.states
    ]
    return wire.ToolListResult(tools, servers)
