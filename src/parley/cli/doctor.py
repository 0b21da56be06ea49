"""`parley doctor`: is this machine ready to run agents, and if not, what to fix.

Checks Python, the config file and data directory, each provider's configuration and which
agent CLIs (Claude Code, Codex, Gemini CLI, Amp) are installed and can authenticate; with
`online`, makes one tiny real call to every configured provider. Never prints a key.
Exit code: 0 all good, 1 an online check failed, 2 a configuration problem.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import attrs

from parley.config import Settings
from parley.config import paths as config_paths
from parley.core.errors import ParleyError
from parley.core.messages import user_text
from parley.core.redact import redact
from parley.providers import registry
from parley.providers.base import Completion, ModelRequest, ProviderConfig

MIN_PYTHON = (3, 11)
ONLINE_PROMPT = "Reply with the single word OK."


@attrs.define
class Report:
    lines: list[str] = attrs.field(factory=list)
    fixes: list[str] = attrs.field(factory=list)
    code: int = 0

    def ok(self, text: str) -> None:
        self.lines.append(f"  ok    {text}")

    def note(self, text: str) -> None:
        self.lines.append(f"  --    {text}")

    def problem(self, text: str, fix: str, code: int) -> None:
        self.lines.append(f"  FAIL  {text}")
        self.fixes.append(fix)
        self.code = max(self.code, code)

    def render(self) -> str:
        out = ["parley doctor", *self.lines]
        if self.fixes:
            out += ["", "What to fix:", *(f"  - {fix}" for fix in self.fixes)]
        else:
            out += ["", "Everything looks ready."]
        return redact("\n".join(out) + "\n")  # never a key, never a password in a URL


def doctor(settings: Settings, online: bool, config_path: Path | None = None) -> tuple[int, str]:
    report = Report()
    _check_python(report)
    _check_paths(report, settings, config_path or config_paths.config_file(settings.env))
    configs = _check_providers(report, settings)
    _check_mcp(report, settings)
    _check_agents(report, settings)
    if online:
        asyncio.run(_check_online(report, configs))
    return report.code, report.render()


def _check_python(report: Report) -> None:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= MIN_PYTHON:
        report.ok(f"Python {version} ({sys.executable})")
    else:
        need = ".".join(map(str, MIN_PYTHON))
        report.problem(f"Python {version}", f"use Python {need} or newer", 2)


def _check_paths(report: Report, settings: Settings, config_file: Path) -> None:
    if config_file.is_file():
        report.ok(f"config file {config_file}")
    else:
        report.note(f"config file {config_file} (not present; defaults apply)")
    data = settings.data_path()
    existing = next((p for p in (data, *data.parents) if p.exists()), None)
    if existing is not None and existing.is_dir() and os.access(existing, os.W_OK | os.X_OK):
        state = "writable" if existing == data else "will be created"
        report.ok(f"data directory {data} ({state})")
    else:
        report.problem(
            f"data directory {data} is not writable",
            f"make {data} writable, or point PARLEY_HOME / --data-dir somewhere that is",
            2,
        )


def _check_providers(report: Report, settings: Settings) -> dict[str, ProviderConfig]:
    """Each provider's configuration; returns the usable ones, by name."""
    configs: dict[str, ProviderConfig] = {}
    listing = registry.describe(settings)
    for info in listing.providers:
        if not info.configured:
            if info.name != "scripted":
                report.note(f"provider {info.name}: not configured ({info.detail})")
            continue
        try:
            config = registry.resolve(settings, info.name)
        except ParleyError as exc:
            report.problem(f"provider {info.name}: {exc.message}", exc.message, 2)
            continue
        configs[info.name] = config
        report.ok(f"provider {info.name}: {info.detail}, model {config.model}")
    if settings.provider and settings.provider not in configs:
        report.problem(
            f"the chosen provider {settings.provider!r} ({settings.sources.get('provider')}) "
            "is not usable",
            registry.KINDS[settings.provider].setup_hint
            if settings.provider in registry.KINDS
            else f"choose one of {', '.join(registry.KINDS)}",
            2,
        )
    elif listing.default is None:
        report.problem("no model provider is configured", ways_to_start(), 2)
    elif listing.default == registry.FALLBACK and not settings.provider:
        report.ok(
            f"new sessions use {listing.default}: no API key was found, so the small model "
            "that runs offline; set ANTHROPIC_API_KEY or OPENAI_API_KEY for a stronger one"
        )
    else:
        report.ok(f"new sessions use {listing.default}")
    return configs


def ways_to_start() -> str:
    """Every provider and how to set it up; those that need no API key say so."""
    found = ", ".join(registry.AUTODETECT)
    lines = [
        f"configure any one provider ({found} are picked up from their settings; "
        "choose any provider with --provider or PARLEY_PROVIDER):"
    ]
    for kind in registry.KINDS.values():
        keyless = not (kind.credential_env or "").endswith("_API_KEY")
        lines.append(f"    {kind.name}: {kind.setup_hint}" + (" (no API key)" if keyless else ""))
    lines += [
        "    offline, to try Parley now: a scripted model replays a script you write",
        """      echo '{"responses": [[{"type": "text", "text": "Hello!"}]]}' > hello.json""",
        "      parley --provider scripted --script hello.json   (docs/scripted-provider.md)",
    ]
    return "\n".join(lines)


def _check_mcp(report: Report, settings: Settings) -> None:
    """The config file's and the default profile's MCP servers: does each start?"""
    if not settings.mcp_servers:
        report.note("MCP servers: none configured")
        return
    from parley.engine.profile_files import load_profiles
    from parley.engine.session_tools import mcp_servers
    from parley.tools.mcp.probe import probe

    cwd = Path.cwd()
    profile = load_profiles(settings, cwd).get(settings.profile)
    if profile is None:
        return  # the profile's own problem is not an MCP one
    for result in asyncio.run(probe(mcp_servers(None, profile, settings), cwd, settings.env)):
        name = result.config.name
        if result.started:
            report.ok(f"MCP server {name}: starts, {len(result.tools)} tools")
        else:
            report.problem(
                f"MCP server {name}: does not start: {result.error}",
                f"fix [mcp_servers.{name}] in {result.config.source} (try: parley mcp list)",
                1,
            )


def _check_agents(report: Report, settings: Settings) -> None:
    """External agents are optional: what is missing is noted, never a failure."""
    from parley.agents.doctor import agent_statuses  # runs each CLI's --version

    for status in agent_statuses(settings):
        if not status.installed:
            report.note(f"agent {status.name}: {status.detail}")
        elif status.can_authenticate:
            report.ok(f"agent {status.name}: {status.detail}; {status.auth}")
        else:
            report.note(f"agent {status.name}: {status.detail}; {status.auth}")


async def _check_online(report: Report, configs: dict[str, ProviderConfig]) -> None:
    for name, config in configs.items():
        if name == "scripted":
            continue
        # One attempt with short timeouts: doctor answers quickly, it does not wait out outages.
        quick = attrs.evolve(
            config, max_retries=0, connect_timeout=min(config.connect_timeout, 10.0)
        )
        provider = registry.create(quick)
        request = ModelRequest(
            model=quick.model, system="", messages=(user_text(ONLINE_PROMPT),), max_tokens=16
        )
        started = time.monotonic()
        try:
            async for event in provider.stream(request):
                if isinstance(event, Completion):
                    elapsed = time.monotonic() - started
                    report.ok(f"{name} answered ({quick.model}, {elapsed:.1f}s)")
        except ParleyError as exc:
            report.problem(f"{name} did not answer: {exc.message}", f"{name}: {exc.message}", 1)
        finally:
            await provider.aclose()
