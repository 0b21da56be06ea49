"""An asyncio client for `parley serve`, for Python hosts.

async with await ParleyClient.spawn(env={"PARLEY_PROVIDER": "scripted", ...}) as agent:
    session = await agent.create_session(cwd="/path/to/project")
    result = await agent.submit_turn(session.session_id, "Summarise README.md",
                                     on_event=lambda n: print(n.method, n.params))

`ParleyHttpClient` (parley.client.http) talks to `parley daemon` instead.
"""

from parley.client.agent import ApprovalHandler, Notification, ParleyClient
from parley.client.errors import ParleyClientError, ParleyHttpError, ParleyRpcError

__all__ = [
    "ApprovalHandler",
    "Notification",
    "ParleyClient",
    "ParleyClientError",
    "ParleyHttpClient",
    "ParleyHttpError",
    "ParleyRpcError",
]


def __getattr__(name: str) -> object:
    # The HTTP client loads httpx: only for hosts that use it.
    if name == "ParleyHttpClient":
        from parley.client.http import ParleyHttpClient

        return ParleyHttpClient
    raise AttributeError(name)
