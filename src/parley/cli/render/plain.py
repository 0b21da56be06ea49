"""Displays for pipes and logs: the reply as raw text, activity as plain lines, or NDJSON.

No colour, no cursor movement and no rich: what a CI log or `parley run ... | less` shows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from parley.cli.render import describe
from parley.cli.render.base import Pipe

DIFF_LINES = 40
_PROGRESS_SHOWN = ("retrying", "compacting", "compacted", "interrupted")


class ReplyStream:
    """The reply's text exactly as the model streams it, then one final newline."""

    def __init__(self, pipe: Pipe) -> None:
        self.pipe = pipe
        self.mid_line = False

    def notify(self, method: str, params: Mapping[str, Any]) -> None:
        if method == "result/delta" and (text := params["text"]):
            self.pipe.write(text)
            self.mid_line = not text.endswith("\n")

    def break_line(self) -> None:
        if self.mid_line:
            self.pipe.write("\n")
            self.mid_line = False

    def finish(self, result: Mapping[str, Any]) -> None:
        self.break_line()

    def note(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class NdjsonDisplay:
    """Every notification as one JSON-RPC notification object per line (`--display ndjson`)."""

    def __init__(self, pipe: Pipe) -> None:
        self.pipe = pipe

    def notify(self, method: str, params: Mapping[str, Any]) -> None:
        if "seq" in params:  # notifications only: approval questions are asked, not sent
            line = json.dumps({"jsonrpc": "2.0", "method": method, "params": params})
            self.pipe.write(line + "\n")

    def finish(self, result: Mapping[str, Any]) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class ActivityLog:
    """One plain line as each tool call starts and one as it ends, the diff of an edit,
    thinking, retries, and the turn's tokens and cost at the end.

    `reply` is the ReplyStream when both write into the same file (`2>&1`): a line of
    activity then starts on a line of its own.
    """

    def __init__(
        self, pipe: Pipe, reply: ReplyStream | None = None, *, show_session: bool = False
    ) -> None:
        self.pipe = pipe
        self.reply = reply
        self.show_session = show_session
        self.diffs_shown: set[str] = set()

    def _lines(self, *lines: str) -> None:
        if self.reply is not None:
            self.reply.break_line()
        self.pipe.write("".join(line + "\n" for line in lines))

    def notify(self, method: str, params: Mapping[str, Any]) -> None:
        if method == "tool/started":
            self._lines(f"-> {params['name']} {describe.key_argument(params)}".rstrip())
        elif method == "tool/completed":
            done = describe.outcome(params)
            label = "" if done.status == "refused" else f"{done.status}: "
            lines = [f"   {label}{done.summary}"]
            if done.status == "ok" and params["toolCallId"] not in self.diffs_shown:
                lines += self._diff(params.get("display"))
            self._lines(*lines)
        elif method == "thinking/final":
            first, *rest = params["text"].strip().splitlines() or [""]
            self._lines(f"thinking: {first}", *(f"  {line}" for line in rest))
        elif method == "progress" and params["stage"] in _PROGRESS_SHOWN:
            self._lines(f"{params['stage']}: {params['message']}")
        elif method == "approval/requested":
            self.diffs_shown.add(params["toolCallId"])
            self._lines(f"? {describe.question(params)}", *self._diff(params.get("display")))
        elif method == "approval/resolved":
            self._lines(f"   {describe.DECISIONS.get(params['decision'], params['decision'])}")
        elif method == "approval/timeout":
            self._lines("   no answer in time: refused")

    @staticmethod
    def _diff(display: Mapping[str, Any] | None) -> list[str]:
        diff = (display or {}).get("diff")
        if not isinstance(diff, str):
            return []
        lines, more = describe.diff_body(diff, DIFF_LINES)
        return [f"     {line}" for line in lines] + ([f"     … {more} more lines"] if more else [])

    def finish(self, result: Mapping[str, Any]) -> None:
        lines = []
        if (end := describe.ending(result)) is not None:
            lines.append(end[1])
        if footer := describe.footer(result, show_session=self.show_session):
            lines.append(footer)
        if lines:
            self._lines(*lines)

    def note(self, text: str) -> None:
        self._lines(f"parley: {text}")

    def close(self) -> None:
        pass
