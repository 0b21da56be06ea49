"""Profiles: a named system prompt, model choice, tool set, turn limit and permission policy."""

from __future__ import annotations

from typing import Any

import attrs

from parley.protocol import types as wire

BASE_PROMPT = (
    "You are Parley, a careful software engineering agent working in the user's project at "
    "{cwd}. Use the tools to look at files before you answer questions about them. Paths are "
    "relative to the working directory. Be concise, and say what you did."
)


@attrs.frozen
class Profile:
    name: str
    description: str = ""
    system_prompt: str = BASE_PROMPT
    provider: str | None = None
    model: str | None = None
    allowed_tools: tuple[str, ...] | None = None
    disallowed_tools: tuple[str, ...] = ()
    context_files: tuple[str, ...] = ()
    max_turns: int = 50
    permission_mode: str | None = None
    rules: tuple[dict[str, Any], ...] = ()
    # [mcp_servers.NAME] tables, as in the config file; never from a project's profile.
    mcp_servers: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    source: str = "builtin"


BUILTIN_PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("default", "A general software engineering agent."),
        Profile(
            "code-reviewer",
            "Reviews code and reports problems; never changes files.",
            BASE_PROMPT
            + " You are reviewing code: read the relevant files, then report concrete problems "
            "(bugs, risky changes, missing tests) with file and line, most serious first. "
            "Do not change files.",
            allowed_tools=("read_file", "list_files", "grep"),
            permission_mode="deny",
        ),
        Profile(
            "test-writer",
            "Writes and runs tests for existing code.",
            BASE_PROMPT
            + " You write tests: read the code under test and its existing tests, add focused "
            "tests that follow the project's conventions, run them, and report the results.",
        ),
        Profile(
            "documentation-writer",
            "Writes and updates documentation; does not run commands.",
            BASE_PROMPT
            + " You write documentation: read the code, then write or update docs that are "
            "accurate, brief, and show examples. Do not change code.",
            disallowed_tools=("bash",),
        ),
    )
}


def profile_info(profile: Profile) -> wire.ProfileInfo:
    """A profile as profile/list and profile/get show it."""
    return wire.ProfileInfo(
        name=profile.name,
        description=profile.description,
        source=profile.source,
        provider=profile.provider,
        model=profile.model,
        permission_mode=profile.permission_mode,  # type: ignore[arg-type]
        max_turns=profile.max_turns,
        system_prompt=profile.system_prompt,
        allowed_tools=list(profile.allowed_tools) if profile.allowed_tools is not None else None,
        disallowed_tools=list(profile.disallowed_tools),
        context_files=list(profile.context_files),
        rules=[dict(rule) for rule in profile.rules],
    )
