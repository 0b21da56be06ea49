"""Declarative permission rules: `{tool, match, action}`, first match wins.

{tool = "bash", match = {command = "git *"}, action = "allow"}
{tool = "write_file", match = {path = "secrets/**"}, action = "deny"}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from parley.engine.permissions import Action
from parley.globs import glob_match

_ACTIONS = ("allow", "deny", "ask")
_PATH_KEYS = {"path", "file", "file_path"}


class RuleError(ValueError):
    pass


@attrs.frozen
class Rule:
    tool: str
    action: Action
    match: Mapping[str, str] = attrs.field(factory=dict)
    source: str = ""

    def matches(self, tool: str, input: Mapping[str, Any]) -> bool:
        if not glob_match(self.tool, tool, path=False):
            return False
        for key, pattern in self.match.items():
            value = input.get(key)
            if not isinstance(value, str):
                return False
            as_path = key in _PATH_KEYS
            if as_path:
                value = value.removeprefix("./")
            if not glob_match(pattern, value, path=as_path):
                return False
        return True


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
        rules.append(Rule(tool, action, dict(match), source))
    return rules


def first_match(rules: Iterable[Rule], tool: str, input: Mapping[str, Any]) -> Rule | None:
    return next((r for r in rules if r.matches(tool, input)), None)
