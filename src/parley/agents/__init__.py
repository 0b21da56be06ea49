"""External coding agents (Claude Code, Codex, ACP agents, Amp) as backends behind Parley."""
