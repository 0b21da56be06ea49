"""Profiles from files: the user's (<config dir>/profiles/) and the project's (.parley/profiles/).

A profile file is TOML, or Markdown whose YAML front matter (between `---` lines) holds the
fields and whose body is the system prompt:

    ---
    description: Reviews database migrations
    allowed_tools: [read_file, grep]
    ---
    You review database migrations in {cwd}...

Later sources override earlier ones by name: built-ins, then user files, then project files.
Every problem is a ConfigError reading "<file>: <field>: <problem>".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from parley.config import ConfigError, Settings, paths
from parley.config.settings import PERMISSION_MODES
from parley.engine.profiles import BASE_PROMPT, BUILTIN_PROFILES, Profile

SUFFIXES = (".toml", ".md")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# A project's files come with the code, not from the user: they may tighten permissions only.
PROJECT_MODES = ("ask", "deny")
PROJECT_ACTIONS = ("ask", "deny")
FIELDS = (
    "name",
    "description",
    "system_prompt",
    "provider",
    "model",
    "allowed_tools",
    "disallowed_tools",
    "context_files",
    "max_turns",
    "permission_mode",
    "rules",
    "mcp_servers",
)


@attrs.frozen
class ProfileDir:
    path: Path
    project: bool


def profile_dirs(settings: Settings, cwd: Path | None) -> list[ProfileDir]:
    """Where profile files are looked for, lowest precedence first."""
    dirs = [ProfileDir(paths.config_dir(settings.env) / "profiles", project=False)]
    if cwd is not None:
        dirs.append(ProfileDir(cwd / ".parley" / "profiles", project=True))
    return dirs


def load_profiles(settings: Settings, cwd: Path | None) -> dict[str, Profile]:
    """Built-ins, then user profiles, then the project's (for sessions in `cwd`), by name."""
    profiles = dict(BUILTIN_PROFILES)
    for directory in profile_dirs(settings, cwd):
        seen: dict[str, Path] = {}
        for path in _profile_files(directory.path):
            profile = read_profile(path, project=directory.project)
            if (other := seen.get(profile.name)) is not None:
                raise ConfigError(
                    f"{path}: name: profile {profile.name!r} is already defined in {other}"
                )
            seen[profile.name] = path
            profiles[profile.name] = profile
    return profiles


def _profile_files(directory: Path) -> list[Path]:
    try:
        entries = sorted(directory.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise ConfigError(f"{directory}: cannot read: {exc.strerror}") from None
    return [
        p for p in entries if p.suffix in SUFFIXES and not p.name.startswith(".") and p.is_file()
    ]


def read_profile(path: Path, *, project: bool) -> Profile:
    try:
        text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    raw = _toml(path, text) if path.suffix == ".toml" else _markdown(path, text)
    return _Fields(path, raw, project).profile()


def _toml(path: Path, text: str) -> dict[str, Any]:
    import tomllib  # only when there is a TOML profile: start-up time

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _markdown(path: Path, text: str) -> dict[str, Any]:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {"system_prompt": text.strip()} if text.strip() else {}
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
    if end is None:
        raise ConfigError(f"{path}: front matter: no closing '---' line")
    import yaml  # only Markdown profiles need it

    try:
        front = yaml.safe_load("".join(lines[1:end]))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 2})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: front matter: not valid YAML{line}: {problem}") from None
    if front is None:
        front = {}
    if not isinstance(front, dict):
        raise ConfigError(f"{path}: front matter: must be 'field: value' lines")
    if "system_prompt" in front or "system-prompt" in front:
        raise ConfigError(
            f"{path}: system_prompt: in a Markdown profile the text after the front matter "
            "is the system prompt"
        )
    if body := "".join(lines[end + 1 :]).strip():
        front["system_prompt"] = body
    return front


class _Fields:
    """One profile file's fields, checked one by one."""

    def __init__(self, path: Path, raw: Mapping[Any, Any], project: bool) -> None:
        self.path = path
        self.project = project
        self.data: dict[str, Any] = {}
        for key, value in raw.items():
            name = str(key).replace("-", "_")
            if name not in FIELDS:
                raise self.error(str(key), f"unknown field; known fields: {', '.join(FIELDS)}")
            self.data[name] = value

    def error(self, field: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {field}: {problem}")

    def profile(self) -> Profile:
        max_turns = self.data.get("max_turns", attrs.fields(Profile).max_turns.default)
        if not isinstance(max_turns, int) or isinstance(max_turns, bool) or max_turns <= 0:
            raise self.error("max_turns", f"must be a positive integer, got {max_turns!r}")
        allowed = self.tools("allowed_tools")
        return Profile(
            name=self.name(),
            description=self.string("description") or "",
            system_prompt=self.prompt(),
            provider=self.provider(),
            model=self.string("model"),
            allowed_tools=allowed if "allowed_tools" in self.data else None,
            disallowed_tools=self.tools("disallowed_tools"),
            context_files=self.context_files(),
            max_turns=max_turns,
            permission_mode=self.permission_mode(),
            rules=self.rules(),
            mcp_servers=self.mcp_servers(),
            source=str(self.path),
        )

    def string(self, field: str) -> str | None:
        value = self.data.get(field)
        if value is not None and not isinstance(value, str):
            raise self.error(field, f"must be a string, got {value!r}")
        return value

    def strings(self, field: str) -> tuple[str, ...]:
        """A list of strings; "a, b" is accepted for [a, b]."""
        value = self.data.get(field, [])
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(field, f"must be a list of strings, got {value!r}")
        return tuple(value)

    def name(self) -> str:
        name = self.string("name") or self.path.stem
        if not NAME.match(name):
            raise self.error(
                "name",
                f"{name!r} is not a valid profile name (letters, digits, '.', '_', '-'; "
                "at most 64); rename the file or set name",
            )
        return name

    def prompt(self) -> str:
        prompt = self.string("system_prompt")
        if prompt is None:
            return BASE_PROMPT
        if not prompt.strip():
            raise self.error("system_prompt", "is empty")
        return prompt

    def provider(self) -> str | None:
        from parley.providers.registry import KINDS

        provider = self.string("provider")
        if provider is not None and provider not in KINDS:
            raise self.error(
                "provider", f"unknown provider {provider!r}; known: {', '.join(KINDS)}"
            )
        return provider

    def tools(self, field: str) -> tuple[str, ...]:
        from parley.tools.registry import BUILTIN_TOOLS

        known = [t.name for t in BUILTIN_TOOLS]
        names = self.strings(field)
        for i, name in enumerate(names):
            # MCP tools are known only once their servers run: a name or glob (mcp__git__*).
            if name not in known and not name.startswith("mcp__"):
                raise self.error(
                    f"{field}[{i}]",
                    f"unknown tool {name!r}; known tools: {', '.join(known)}, "
                    "or an MCP tool mcp__<server>__<tool> (globs allowed)",
                )
        return names

    def context_files(self) -> tuple[str, ...]:
        files = self.strings("context_files")
        for i, file in enumerate(files):
            if Path(file).is_absolute() or file.startswith("~"):
                raise self.error(
                    f"context_files[{i}]", f"{file!r} must be a path relative to the project"
                )
        return files

    def permission_mode(self) -> str | None:
        mode = self.string("permission_mode")
        allowed = PROJECT_MODES if self.project else PERMISSION_MODES
        if mode is not None and mode not in allowed:
            why = " in a project profile" if self.project and mode in PERMISSION_MODES else ""
            raise self.error("permission_mode", f"must be one of {', '.join(allowed)}{why}")
        return mode

    def mcp_servers(self) -> dict[str, dict[str, Any]]:
        from parley.tools.mcp.config import check_servers

        if "mcp_servers" not in self.data:
            return {}
        return check_servers(self.data["mcp_servers"], str(self.path), project=self.project)

    def rules(self) -> tuple[dict[str, Any], ...]:
        from parley.engine.rules import parse_rules

        rules = self.data.get("rules", [])
        if not isinstance(rules, list):
            raise self.error("rules", "must be a list of {tool, action, match} tables")
        parse_rules(rules, str(self.path))  # a bad rule raises a ConfigError naming it
        if self.project:
            for i, rule in enumerate(rules):
                if rule["action"] not in PROJECT_ACTIONS:
                    raise self.error(
                        f"rules[{i}].action",
                        f"a project profile may only {' or '.join(PROJECT_ACTIONS)}; put allow "
                        "rules in your own config file or a profile in your config directory",
                    )
        return tuple(dict(rule) for rule in rules)
