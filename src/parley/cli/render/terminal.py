"""The display for a person at a terminal, drawn with rich: the reply as Markdown while it
streams, one line per tool call (a spinner while it runs, a mark when it ends), the diff of an
edit, thinking dimmed, a spinner while the model is asked, and tokens and cost at the end.

Only commands that draw import this module (and so rich).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markdown import Markdown
from rich.segment import Segment, Segments
from rich.spinner import Spinner
from rich.text import Text

from parley.cli.render import describe

DIFF_LINES = 40
# Lines at the end of a streaming reply kept in the live area: Markdown may still change them
# (a paragraph rewraps, a table grows); lines above them are printed for good.
LIVE_LINES = 8
THINKING_LINES = 3
_RENDER_EVERY_S = 0.05
_MARKS = {"ok": ("✓", "green"), "error": ("✗", "red"), "refused": ("⊘", "yellow")}
_SUMMARY_STYLE = {"ok": "dim", "error": "red", "refused": "yellow"}


def terminal_console(stream: TextIO | None = None) -> Console:
    """A console for the terminal: text is never read as markup, numbers never highlighted."""
    return Console(file=stream or sys.stdout, markup=False, highlight=False, emoji=False)


class TerminalDisplay:
    def __init__(self, console: Console, *, show_session: bool = False) -> None:
        self.console = console
        self.show_session = show_session
        self._live: Live | None = None
        self._spinner = Spinner("dots", style="cyan")
        self._status: Text | None = None
        self._text = ""  # the stretch of reply streaming now
        self._printed = 0  # how many of its rendered lines are printed for good
        self._tail: list[list[Segment]] = []  # the rest, shown in the live area
        self._rendered_at = 0.0
        self._catching_up = False
        self._thinking = ""
        self._diffs_shown: set[str] = set()
        self._calls: dict[str, Mapping[str, Any]] = {}  # tool/started params, by call id

    # --- events --------------------------------------------------------------------------------

    def notify(self, method: str, params: Mapping[str, Any]) -> None:
        handler = getattr(self, "_on_" + method.replace("/", "_"), None)
        if handler is not None:
            handler(params)

    def _on_progress(self, params: Mapping[str, Any]) -> None:
        stage, message = params["stage"], params["message"]
        if stage == "turn_started":
            self._show_status(Text("working"))
        elif stage == "model_request":
            self._flush_text()
            self._show_status(Text(message))
        elif stage == "retrying":
            self.console.print(Text(f"retrying: {message}", style="yellow"))
            self._show_status(Text(message))
        elif stage == "compacting":
            self._show_status(Text("compacting the conversation"))
        elif stage in ("compacted", "interrupted"):
            self.console.print(Text(message, style="dim"))

    def _on_result_delta(self, params: Mapping[str, Any]) -> None:
        self._text += params["text"]
        self._status = None
        if time.monotonic() - self._rendered_at >= _RENDER_EVERY_S:
            self._render_text(final=False)
        elif not self._catching_up:  # a burst: draw its end once the burst is over
            try:
                asyncio.get_running_loop().call_later(_RENDER_EVERY_S, self._catch_up)
                self._catching_up = True
            except RuntimeError:  # no event loop: draw now
                self._render_text(final=False)
        self._ensure_live()

    def _catch_up(self) -> None:
        self._catching_up = False
        if self._text:
            self._render_text(final=False)

    def _on_result_final(self, params: Mapping[str, Any]) -> None:
        self._flush_text()

    def _on_thinking_delta(self, params: Mapping[str, Any]) -> None:
        self._flush_text()
        self._thinking += params["text"]
        self._show_status(Text("thinking"))

    def _on_thinking_final(self, params: Mapping[str, Any]) -> None:
        self._thinking = ""
        if text := params["text"].strip():
            self.console.print(Text(text, style="dim italic"))

    def _on_tool_started(self, params: Mapping[str, Any]) -> None:
        self._flush_text()
        self._calls[params["toolCallId"]] = params
        self._show_status(self._call(params))

    def _on_tool_completed(self, params: Mapping[str, Any]) -> None:
        self._status = None
        done = describe.outcome(params)
        mark, style = _MARKS[done.status]
        started = self._calls.pop(params["toolCallId"], params)
        line = Text.assemble((mark + " ", style), self._call(started), "  ")
        line.append(done.summary, style=_SUMMARY_STYLE[done.status])
        self.console.print(line)
        if done.status == "ok" and params["toolCallId"] not in self._diffs_shown:
            self._print_diff(params.get("display"))

    def _on_approval_requested(self, params: Mapping[str, Any]) -> None:
        # The question is answered on this terminal: nothing may move beneath it meanwhile.
        self._flush_text()
        self._status = None
        self._stop_live()
        self._diffs_shown.add(params["toolCallId"])
        self.console.print(Text.assemble(("? ", "bold yellow"), describe.question(params)))
        command = (params.get("display") or {}).get("command")
        if isinstance(command, str) and "\n" in command.strip():
            self.console.print(Text(_indent(command.strip(), 4)))
        self._print_diff(params.get("display"))

    def _on_approval_resolved(self, params: Mapping[str, Any]) -> None:
        words = describe.DECISIONS.get(params["decision"], params["decision"])
        self.console.print(Text(f"  {words}", style="dim"))

    def _on_approval_timeout(self, params: Mapping[str, Any]) -> None:
        self.console.print(Text("  no answer in time: refused", style="yellow"))

    # --- the turn's end, notes -----------------------------------------------------------------

    def finish(self, result: Mapping[str, Any]) -> None:
        self._flush_text()
        self._status = None
        self._thinking = ""
        self._stop_live()
        if (end := describe.ending(result)) is not None:
            status, words = end
            self.console.print(Text(words, style=_SUMMARY_STYLE[status]))
        if footer := describe.footer(result, show_session=self.show_session):
            self.console.print(Text(footer, style="dim"))

    def note(self, text: str) -> None:
        self.console.print(Text(text, style="dim"))

    def close(self) -> None:
        self._stop_live()

    # --- drawing -------------------------------------------------------------------------------

    @staticmethod
    def _call(params: Mapping[str, Any]) -> Text:
        return Text.assemble((params["name"], "bold"), " ", (describe.key_argument(params), "cyan"))

    def _print_diff(self, display: Mapping[str, Any] | None) -> None:
        diff = (display or {}).get("diff")
        if not isinstance(diff, str):
            return
        lines, more = describe.diff_body(diff, DIFF_LINES)
        out = Text()
        for line in lines:
            style = (
                "green"
                if line.startswith("+")
                else "red"
                if line.startswith("-")
                else "cyan"
                if line.startswith("@@")
                else "dim"
            )
            out.append("    " + line + "\n", style=style)
        if more:
            out.append(f"    … {more} more lines\n", style="dim")
        out.rstrip()
        self.console.print(out)

    def _render_text(self, *, final: bool) -> None:
        """Print the reply's lines that can no longer change; keep the rest in the live area."""
        self._rendered_at = time.monotonic()
        lines = self.console.render_lines(Markdown(self._text), pad=False)
        while lines and not any(s.text.strip() for s in lines[-1]):
            lines.pop()  # Markdown ends with a blank line
        settled = len(lines) if final else max(0, len(lines) - LIVE_LINES)
        if settled > self._printed:
            self.console.print(_segments(lines[self._printed : settled]))
            self._printed = settled
        self._tail = [] if final else lines[self._printed :]

    def _flush_text(self) -> None:
        if self._text:
            self._render_text(final=True)
        self._text, self._printed, self._tail = "", 0, []

    def _show_status(self, status: Text) -> None:
        self._status = status
        self._ensure_live()

    def _view(self) -> RenderableType:
        """The live area, drawn by rich's refresh thread from what the events left here."""
        parts: list[RenderableType] = []
        if tail := self._tail:
            # Not padded to the full width: a character echoed at the end of a full line (^C)
            # would wrap, and the live area would then be redrawn one line too low.
            parts.append(_segments([_rstrip(line) for line in tail]))
        if thinking := self._thinking.strip():
            recent = "\n".join(thinking.splitlines()[-THINKING_LINES:])
            parts.append(Text(recent, style="dim italic"))
        if (status := self._status) is not None:
            self._spinner.update(text=status)
            parts.append(self._spinner)
        return Group(*parts)

    def _ensure_live(self) -> None:
        if self._live is None and self.console.is_terminal:
            self._live = Live(
                console=self.console,
                transient=True,
                refresh_per_second=12,
                redirect_stdout=False,
                redirect_stderr=False,
                get_renderable=self._view,
            )
            self._live.start()

    def _stop_live(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def _segments(lines: list[list[Segment]]) -> Segments:
    """Rendered lines as one renderable, each line ended."""
    return Segments([segment for line in lines for segment in (*line, Segment.line())])


def _rstrip(line: list[Segment]) -> list[Segment]:
    kept = list(line)
    while kept and not kept[-1].control and not kept[-1].text.rstrip():
        kept.pop()
    if kept and not kept[-1].control:
        last = kept[-1]
        kept[-1] = Segment(last.text.rstrip(), last.style, last.control)
    return kept


def _indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in text.splitlines())
