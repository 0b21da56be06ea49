"""`parley` / `parley chat`: a conversation with the agent in this directory.

Enter sends; Alt-Enter (Esc, Enter), Ctrl-J or a line ending in a backslash starts a new line,
and pasted text keeps its newlines. Up and Down walk the history (kept under the data
directory). Ctrl-C cancels the running turn, a second one exits; at the prompt Ctrl-C twice in
a row exits, as does Ctrl-D. Approval questions are asked inline. Slash commands: cli/slash.py.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, WordCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from rich.markdown import Markdown
from rich.text import Text

from parley import __version__
from parley.cli import slash
from parley.cli.approvals import AnswerYes, parse_answer
from parley.cli.bridge import Approver, Bridge, resolve_cwd
from parley.cli.common import fail, has_stored_sessions, lazy_store, settings_from, setup_logging
from parley.cli.guard import guard_process
from parley.cli.render.describe import allow_prompt
from parley.cli.render.terminal import TerminalDisplay, terminal_console
from parley.config import Settings
from parley.core.errors import ParleyError
from parley.engine.askers import NoApprovals
from parley.engine.permissions import Decision
from parley.protocol import types as wire
from parley.protocol.codec import unstructure
from parley.store.base import Store

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
HISTORY_FILE = "chat-history"
RECAP_LINES = 15
KEYS = "Enter sends · Alt-Enter, Ctrl-J or a trailing \\ adds a line · /help · Ctrl-D exits"


def chat(args: argparse.Namespace) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        fail(
            "a conversation needs a terminal; from a script, use `parley run PROMPT` "
            "(`parley run -` reads the prompt from stdin)"
        )
        return EXIT_USAGE
    try:
        mode = "allow" if args.yes else "deny" if args.no else args.permission_mode
        settings = settings_from(args, permission_mode=mode)
    except ParleyError as exc:
        fail(exc)
        return EXIT_USAGE
    setup_logging(settings)
    guard_process()
    store = lazy_store(settings, args.ephemeral)
    try:
        return asyncio.run(Chat(args, settings, store).main())
    except ParleyError as exc:  # the session to continue, or a new one, cannot start
        fail(exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        store.close()


class Chat:
    def __init__(self, args: argparse.Namespace, settings: Settings, store: Store) -> None:
        self.args = args
        self.settings = settings
        self.console = terminal_console()
        self.display = TerminalDisplay(self.console)
        self.bridge = Bridge(settings, store, self.display.notify)
        self.cwd = resolve_cwd(args.cwd)
        self.session_id: str | None = None
        # What the next new session gets (/model, /mode before the first prompt).
        self.choices: dict[str, Any] = {}
        self.shown: wire.SessionInfo | None = None  # the session, or the one to come
        self.listed: list[str] = []  # /sessions' ids, by number
        self.approver: Approver = (
            AnswerYes() if args.yes else NoApprovals() if args.no else self.ask
        )
        self.interrupts = 0
        self._input: PromptSession[str] | None = None
        self._answers: PromptSession[str] | None = None

    # --- the conversation ----------------------------------------------------------------------

    async def main(self) -> int:
        try:
            await self.start()
            while True:
                text = await self.read()
                if text is None:
                    break
                if text.startswith("/"):
                    if not await slash.run(self, text):
                        break
                elif not await self.turn(text):
                    break
        finally:
            await self.bridge.close()
            self.display.close()
        if self.session_id is not None:
            self.say(
                f"session {self.session_id} · continue it with `parley -c` "
                f"or `parley --resume {self.session_id}`"
            )
        return EXIT_OK

    async def start(self) -> None:
        self.console.print(Text.assemble(("parley ", "bold"), f"{__version__} · {self.cwd}"))
        if self.args.cont or self.args.session:
            self.switch(self.args.session)
        else:
            await self.new()
        self.say(KEYS)

    async def new(self) -> None:
        """A new session from the next prompt on; it is stored when the first turn starts."""
        self.session_id = None
        self.shown = await self.bridge.preview(self.cwd, **self.choices)
        self.say(f"new session · {describe_session(self.shown)}")

    def stored(self) -> bool:
        """Whether there are stored sessions at all (without creating the store to look)."""
        return bool(self.args.ephemeral) or has_stored_sessions(self.settings)

    def switch(self, session_id: str | None) -> None:
        """Continue a stored session (None: the one last used here): what flags change about
        it, where it stands, its last exchange."""
        session_id, notes = self.bridge.resume(session_id, self.cwd, anything_stored=self.stored())
        self.session_id = session_id
        self.choices = {}
        self.shown = self.bridge.info(session_id)
        for note in notes:
            self.say(note)
        title = f' "{self.shown.title}"' if self.shown.title else ""
        self.say(
            f"session {session_id}{title} · {slash.turns(self.shown.turn_count)} · "
            f"{describe_session(self.shown)}"
        )
        self.recap(session_id)

    def recap(self, session_id: str) -> None:
        prompt, reply = last_exchange(self.bridge.messages(session_id))
        if prompt:
            self.console.print(Text("> " + prompt.strip().splitlines()[0], style="bold"))
        if reply:
            lines = reply.strip().splitlines()
            shown = "\n".join(lines[:RECAP_LINES])
            self.console.print(Markdown(shown))
            if len(lines) > RECAP_LINES:
                self.say(f"… {len(lines) - RECAP_LINES} more lines")

    async def turn(self, text: str) -> bool:
        """Run one turn; False when the person asked to leave meanwhile (Ctrl-C twice)."""
        try:
            if self.session_id is None:
                info = self.bridge.create(self.cwd, text[:80], **self.choices)
                self.session_id, self.shown, self.choices = info.session_id, info, {}
            session_id = self.session_id
            loop = asyncio.get_running_loop()
            self.interrupts = 0
            loop.add_signal_handler(signal.SIGINT, self.interrupt)
            try:
                result = await self.bridge.submit(session_id, text, self.approver)
            finally:
                loop.remove_signal_handler(signal.SIGINT)
        except ParleyError as exc:
            self.error(exc.message)
            return True
        self.display.finish(unstructure(result))
        self.shown = self.bridge.info(session_id)
        return self.interrupts < 2

    def interrupt(self) -> None:
        """Ctrl-C while a turn runs: cancel it; a second one also leaves."""
        self.interrupts += 1
        if self.session_id is not None:
            self.bridge.cancel(self.session_id)
        if self.interrupts == 1:
            self.say("cancelling the turn (Ctrl-C again to exit)")
        else:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)

    async def ask(self, params: Mapping[str, Any]) -> Decision | None:
        """An approval question, answered inline (the display has shown it)."""
        if self._answers is None:
            self._answers = PromptSession(history=InMemoryHistory())
        while True:
            try:
                text = await self._answers.prompt_async(
                    allow_prompt(params["tool"]), handle_sigint=False
                )
            except KeyboardInterrupt:  # Ctrl-C: no, and stop the turn
                self.interrupt()
                return "reject_once"
            except EOFError:
                return "reject_once"
            if (decision := parse_answer(text)) is not None:
                return decision
            self.say("Please answer y, n or a.")

    # --- input ---------------------------------------------------------------------------------

    async def read(self) -> str | None:
        """The next prompt or command; None to leave (Ctrl-D, or Ctrl-C twice in a row)."""
        session = self._input or self._make_input()
        interrupted = self.interrupts > 0  # after a turn cancelled by Ctrl-C, one more leaves
        self.interrupts = 0
        while True:
            try:
                text = await session.prompt_async()
            except KeyboardInterrupt:
                if interrupted:
                    return None
                interrupted = True
                self.say("(Ctrl-C again or Ctrl-D to exit)")
                continue
            except EOFError:
                return None
            if text.strip():
                return text.strip()
            interrupted = False

    def _make_input(self) -> PromptSession[str]:
        path = self.settings.data_path() / HISTORY_FILE
        history: FileHistory | InMemoryHistory = InMemoryHistory()
        if not self.args.ephemeral:  # --ephemeral writes nothing, typed lines included
            try:
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                history = FileHistory(str(path))
            except OSError:
                pass
        self._input = PromptSession(
            message=[("bold", "> ")],
            multiline=True,
            prompt_continuation="  ",
            key_bindings=_keys(),
            history=history,
            completer=_SlashCompleter(),
            complete_while_typing=False,
            reserve_space_for_menu=0,
            bottom_toolbar=self.toolbar,
        )
        return self._input

    def toolbar(self) -> str:
        info = self.shown
        if info is None:
            return ""
        where = self.session_id or "new session"
        return f" {where} · {describe_session(info)} · /help "

    # --- output --------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.display.note(text)

    def error(self, text: str) -> None:
        self.console.print(Text(text, style="red"))


def describe_session(info: wire.SessionInfo) -> str:
    return f"{info.provider}/{short_model(info.model)} · mode {info.permission_mode}"


def short_model(model: str) -> str:
    """A scripted session's model is its script's path: its file name says enough."""
    return Path(model).name if "/" in model and Path(model).is_absolute() else model


def last_exchange(messages: list[wire.MessageView]) -> tuple[str, str]:
    """The last prompt a person typed and the assistant's text after it."""
    prompt, reply = "", ""
    for message in messages:
        texts = [b["text"] for b in message.content if b.get("type") == "text"]
        if message.role == "user" and texts:
            prompt, reply = "\n".join(texts), ""
        elif message.role == "assistant" and texts:
            reply = "\n\n".join(filter(None, [reply, *texts]))
    return prompt, reply


def _keys() -> KeyBindings:
    keys = KeyBindings()

    @keys.add("enter")
    def _send(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.document.text_before_cursor.endswith("\\"):
            buffer.delete_before_cursor(1)
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @keys.add("escape", "enter")
    @keys.add("c-j")
    def _new_line(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return keys


class _SlashCompleter(Completer):
    """Tab completes a slash command's name."""

    def __init__(self) -> None:
        self.words = WordCompleter(list(slash.COMMANDS), sentence=True)

    def get_completions(self, document: Document, complete_event: Any) -> Any:
        text = document.text_before_cursor
        if text.startswith("/") and " " not in text:
            yield from self.words.get_completions(document, complete_event)
        else:
            yield from ()
