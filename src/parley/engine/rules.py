"""Declarative permission rules: `{tool, match, action}`, first match wins.

{tool = "bash", match = {command = "git *"}, action = "allow"}
{tool = "write_file", match = {path = "secrets/**"}, action = "deny"}

`tool` and each `match` value are globs. Path arguments are compared the way the tools will
use them: resolved against the session's cwd (`..`, symlinks) and made relative to it, so
`./secrets/../secrets/key` and `/abs/cwd/secrets/key` meet `secrets/**` too. Command lines are
compared command by command (see shell_commands).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from parley.config import ConfigError
from parley.core.globs import GlobError, compile_glob, glob_match
from parley.engine.permissions import Action
from parley.engine.shell_commands import deny_candidates, simple_commands
from parley.tools.paths import resolve_path

_ACTIONS = ("allow", "deny", "ask")
_PATH_KEYS = frozenset({"path", "file", "file_path"})
_COMMAND_KEY = "command"


class RuleError(ConfigError):
    """A rule in a config file or profile that cannot be used."""


@attrs.frozen
class Rule:
    tool: str
    action: Action
    match: Mapping[str, str] = attrs.field(factory=dict)
    source: str = ""

    def matches(self, tool: str, input: Mapping[str, Any]) -> bool:
        """`input` as rule_view made it: path values already normalized."""
        if not glob_match(self.tool, tool, path=False):
            return False
        for key, pattern in self.match.items():
            value = input.get(key)
            if not isinstance(value, str):
                return False
            if key in _PATH_KEYS:
                matched = glob_match(pattern.removeprefix("./"), value)
            elif key == _COMMAND_KEY:
                matched = self._command_matches(pattern, value)
            else:
                matched = glob_match(pattern, value, path=False)
            if not matched:
                return False
        return True

    def _command_matches(self, pattern: str, line: str) -> bool:
        if self.action == "allow":
            # Every command on the line must be one the rule allows.
            commands = simple_commands(line)
            if not commands:
                return False
            return all(glob_match(pattern, c, path=False) for c in commands)
        # Deny and ask: any command on the line, or anything it runs; a line that cannot be
        # seen into matches (fail closed).
        candidates = deny_candidates(line)
        if candidates is None:
            return True
        return any(glob_match(pattern, c, path=False) for c in candidates)

    def describe(self) -> str:
        match = ", ".join(f"{k} = {v!r}" for k, v in self.match.items())
        where = f" from {self.source}" if self.source else ""
        return (
            f"rule {{tool = {self.tool!r}"
            + (f", match = {{{match}}}" if match else "")
            + f", action = {self.action!r}}}{where}"
        )


def parse_rules(raw: Iterable[Mapping[str, Any]], source: str) -> list[Rule]:
    rules = []
    for i, item in enumerate(raw):
        where = f"{source}: rules[{i}]"
        if not isinstance(item, Mapping):
            raise RuleError(f"{where}: a rule is a table with tool, action and optional match")
        unknown = set(item) - {"tool", "match", "action"}
        if unknown:
            raise RuleError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        tool, action, match = item.get("tool"), item.get("action"), item.get("match", {})
        if not isinstance(tool, str) or not tool:
            raise RuleError(f"{where}: tool must be a tool name or glob")
        if action not in _ACTIONS:
            raise RuleError(f"{where}: action must be one of {', '.join(_ACTIONS)}")
        if not isinstance(match, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in match.items()
        ):
            raise RuleError(f"{where}: match must map argument names to glob strings")
        _check_globs(where, tool, match)
        rules.append(Rule(tool, action, dict(match), source))
    return rules


def _check_globs(where: str, tool: str, match: Mapping[str, str]) -> None:
    """Every pattern of a rule must be readable: a typo must not silently never match."""
    patterns = [("tool", tool, False)]
    patterns += [
        (
            f"match.{key}",
            value.removeprefix("./") if key in _PATH_KEYS else value,
            key in _PATH_KEYS,
        )
        for key, value in match.items()
    ]
    for name, pattern, path in patterns:
        try:
            compile_glob(pattern, path=path)
        except GlobError as exc:
            raise RuleError(f"{where}: {name} {pattern!r} is not a valid glob: {exc}") from None


def rule_view(input: Mapping[str, Any], cwd: Path) -> dict[str, Any]:
    """The tool input as rules see it: path values resolved like the tools resolve them, then
    relative to `cwd` when inside it (absolute otherwise)."""
    view = dict(input)
    for key in _PATH_KEYS & view.keys():
        value = view[key]
        if not isinstance(value, str) or not value or "\x00" in value:
            continue
        try:
            resolved = resolve_path(cwd, value)
        except (OSError, RuntimeError):  # a symlink loop: the tool will refuse it anyway
            continue
        inside = resolved.is_relative_to(cwd)
        view[key] = (resolved.relative_to(cwd) if inside else resolved).as_posix()
    return view


def first_match(
    rules: Iterable[Rule], tool: str, input: Mapping[str, Any], cwd: Path
) -> Rule | None:
    view = rule_view(input, cwd)
    return next((r for r in rules if r.matches(tool, view)), None)
