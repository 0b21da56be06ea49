"""The tools one session gets: the built-ins its profile allows, and its MCP servers.

MCP servers come from the config file (`[mcp_servers.NAME]`), then the profile, then the
session itself (`mcpServers` on session/create), each replacing a same-named one before it.
Building the registry starts nothing: servers start when a turn first loads the tools.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from parley.tools.registry import ToolRegistry

if TYPE_CHECKING:  # types only: tools/ sits below the engine and the store
    from parley.config import Settings
    from parley.engine.profiles import Profile
    from parley.store.records import SessionRecord
    from parley.tools.mcp.config import ServerConfig


def session_tools(record: SessionRecord, profile: Profile, settings: Settings) -> ToolRegistry:
    registry = ToolRegistry.builtin(profile.allowed_tools, profile.disallowed_tools)
    servers = mcp_servers(record, profile, settings)
    if servers:
        from parley.tools.mcp.toolset import McpToolset

        registry.sources.append(
            McpToolset(
                servers,
                Path(record.cwd),
                settings.env,
                settings.tool_timeout,
                profile.allowed_tools,
                profile.disallowed_tools,
            )
        )
    return registry


def mcp_servers(
    record: SessionRecord | None, profile: Profile, settings: Settings
) -> list[ServerConfig]:
    """The session's servers, merged by name: config file < profile < session."""
    if not (settings.mcp_servers or profile.mcp_servers or (record and record.mcp_servers)):
        return []
    from parley.tools.mcp.config import from_session, from_tables, merge

    source = settings.sources.get("mcp_servers", "config")
    return merge(
        from_tables(settings.mcp_servers, source),
        from_tables(profile.mcp_servers, profile.source),
        from_session(record.mcp_servers if record else []),
    )
