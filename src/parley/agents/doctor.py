"""What `parley doctor` says about the agent CLIs: installed where, which version, and whether
they will find credentials. Only the presence of a key or a login file is looked at; no secret
is read, run through the CLI or printed."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

import attrs

from parley.agents.registry import names, spec
from parley.config.settings import Settings
from parley.core.errors import ParleyError

VERSION_TIMEOUT_S = 15.0


@attrs.frozen
class AgentStatus:
    name: str
    installed: bool
    detail: str  # where and which version, or how to install it
    auth: str = ""  # how it will authenticate, or what to do so it can
    can_authenticate: bool = False


def agent_statuses(settings: Settings) -> list[AgentStatus]:
    return [_status(name, settings) for name in names(settings)]


def _status(name: str, settings: Settings) -> AgentStatus:
    try:
        agent = spec(name, settings)
    except ParleyError as exc:
        return AgentStatus(name, False, exc.message)
    executable = agent.command[0]
    detail = f"{_version(executable, agent.env)} ({executable})"
    ok, auth = _auth(name, agent.env)
    return AgentStatus(name, True, detail, auth, ok)


def _version(executable: str, env: Mapping[str, str]) -> str:
    try:
        done = subprocess.run(
            [executable, "--version"],
            capture_output=True,
            text=True,
            env=dict(env),
            timeout=VERSION_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"version unknown ({type(exc).__name__})"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0][:80] if lines else "version unknown"


def _auth(name: str, env: Mapping[str, str]) -> tuple[bool, str]:
    home = Path(env.get("HOME", "~")).expanduser()

    def key(*variables: str) -> str | None:
        return next((v for v in variables if env.get(v)), None)

    def found(*paths: Path) -> Path | None:
        return next((p for p in paths if p.is_file()), None)

    if name == "claude-code":
        config = Path(env.get("CLAUDE_CONFIG_DIR") or home / ".claude")
        variable = key("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN")
        login = found(config / ".credentials.json")
        hint = "run `claude` and /login, or set ANTHROPIC_API_KEY"
    elif name == "codex":
        variable = key("OPENAI_API_KEY", "CODEX_API_KEY")
        login = found(Path(env.get("CODEX_HOME") or home / ".codex") / "auth.json")
        hint = "run `codex login`, or set OPENAI_API_KEY"
    elif name == "gemini":
        variable = key("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI")
        login = found(home / ".gemini" / "oauth_creds.json")
        hint = "run `gemini` and log in, or set GEMINI_API_KEY"
    elif name == "amp":
        variable = key("AMP_API_KEY")
        login = found(home / ".local" / "share" / "amp" / "secrets.json")
        hint = "run `amp login`, or set AMP_API_KEY"
    else:
        return True, "authenticates on its own (ACP agent; not checked)"
    if variable is not None:
        return True, f"{variable} is set"
    if login is not None:
        return True, f"logged in ({login})"
    return False, f"no credentials found: {hint}"
