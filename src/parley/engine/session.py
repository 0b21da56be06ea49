"""A live session: its record, history, provider, tools, and the event sequence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from parley.core.messages import Message
from parley.engine.hub import Hub
from parley.engine.profiles import Profile
from parley.engine.system_prompt import system_prompt
from parley.protocol import jsonbytes
from parley.protocol import types as wire
from parley.protocol.codec import unstructure
from parley.providers.base import Provider
from parley.store.base import Store
from parley.store.records import SessionRecord, StoredEvent, utc_now
from parley.tools.base import ToolContext
from parley.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from parley.agents.base import AgentBackend


class Session:
    def __init__(
        self,
        record: SessionRecord,
        history: list[Message],
        profile: Profile,
        provider: Provider | Callable[[], Provider],
        tools: ToolRegistry,
        store: Store,
        hub: Hub,
        tool_timeout_s: float,
        protected: tuple[Path, ...] = (),
    ) -> None:
        self.record = record
        self.history = history
        self.profile = profile
        # Built on first use: reading or replaying a stored session needs no credentials.
        self._provider = provider if isinstance(provider, Provider) else None
        self._make_provider = provider if not isinstance(provider, Provider) else None
        self.tools = tools
        self.store = store
        self.hub = hub
        # A front door's mode for this process's turns (`parley run -y --session S`): never
        # stored; the authorizer reads `permission_mode`.
        self.mode_override: str | None = None
        roots = (Path(record.cwd), *(Path(d) for d in record.additional_directories))
        self.tool_context = ToolContext(
            roots=tuple(r.resolve() for r in roots),
            timeout_s=tool_timeout_s,
            protected=protected,
        )
        # Built once: context files are read when the session starts (or is loaded).
        self.system_prompt = system_prompt(profile, self.tool_context)
        # The external agent that runs this session's turns (record.agent), once one has run.
        self.agent: AgentBackend | None = None

    @property
    def provider(self) -> Provider:
        if self._provider is None:
            assert self._make_provider is not None
            self._provider = self._make_provider()
        return self._provider

    @provider.setter
    def provider(self, provider: Provider) -> None:
        self._provider = provider

    def replace_provider(self, provider: Provider) -> Provider | None:
        """Use `provider` from now on; returns the one built before, if any, to be closed."""
        old, self._provider = self._provider, provider
        return old

    async def aclose(self) -> None:
        await self.tools.aclose()  # lets go of its MCP servers; the last user stops each
        if self._provider is not None:
            await self._provider.aclose()
        if self.agent is not None:
            await self.agent.aclose()

    @property
    def permission_mode(self) -> str:
        return self.mode_override or self.record.permission_mode

    @property
    def id(self) -> str:
        return self.record.session_id

    def publish(self, turn_id: str, event: wire.Event) -> None:
        """Number the event and hand it to the hub, which stores it before anyone sees it.
        Encoded once, here: the store and the JSON-RPC doors take the text as it is."""
        self.record.last_seq += 1
        body = jsonbytes.dumps(unstructure(event)).decode()
        self.hub.publish(
            self.id, StoredEvent(self.record.last_seq, turn_id, event.method, json=body)
        )

    def add_message(self, turn_id: str | None, message: Message) -> None:
        self.history.append(message)
        self.store.append_message(self.id, turn_id, message)

    def touch(self) -> None:
        touch(self.store, self.record)


def touch(store: Store, record: SessionRecord) -> None:
    """Store a session's record as changed now."""
    record.updated_at = utc_now()
    store.save_session(record)
