"""An agent driven over JSON-RPC on its stdio (Codex's app-server, ACP agents): one client per
process, started again by the next turn when the process is gone."""

from __future__ import annotations

import abc
from typing import Any

from parley.agents.base import AgentBackend
from parley.agents.rpc import RpcClient


class RpcBackend(AgentBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rpc: RpcClient | None = None

    async def _ensure(self) -> RpcClient:
        if not (self.rpc is not None and self.rpc.exited is None):
            await self.restart(self._start)
        assert self.rpc is not None
        return self.rpc

    @abc.abstractmethod
    async def _start(self) -> RpcClient:
        """Start the agent's process and its session; set and return `self.rpc`."""

    async def aclose(self) -> None:
        rpc, self.rpc = self.rpc, None
        await super().aclose()
        if rpc is not None:
            await rpc.close()
