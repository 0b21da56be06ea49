"""MCP servers as tools: Parley is an MCP client (the official `mcp` SDK, imported lazily).

config      what `[mcp_servers.NAME]`, a profile and `session/create` say, merged
naming      `mcp__<server>__<tool>`, in what every provider accepts
connection  one running server through the SDK (stdio or streamable HTTP)
guard       the launcher that stops a stdio server when Parley dies
pool        servers shared across sessions: start, restart, idle stop, shutdown
tool        one server tool as a Parley tool, and its results for the model
toolset     a session's servers as a tool source of its registry
"""
