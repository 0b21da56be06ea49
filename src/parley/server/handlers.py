"""One handler per host -> server method; each speaks wire types and calls the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.core.errors import ErrorCode, ParleyError
from parley.core.ids import new_id
from parley.protocol import methods as m
from parley.protocol import types as wire

if TYPE_CHECKING:
    from parley.server.app import ParleyServer
    from parley.server.dispatch import Handler


def handlers(server: ParleyServer) -> dict[str, Handler]:
    def initialize(p: wire.InitializeParams) -> wire.InitializeResult:
        if server.negotiated is not None:
            raise ParleyError(ErrorCode.INVALID_PARAMS, "agent/initialize was already called")
        return server.initialize(p)

    async def shutdown(_: wire.Empty) -> wire.Empty:
        engine = server.engine
        await engine.shutdown()
        server.request_stop()
        return wire.Empty()

    def session_create(p: wire.SessionCreateParams) -> wire.SessionInfo:
        engine = server.engine
        return engine.info(engine.create_session(p).id)

    def session_resume(p: wire.SessionResumeParams) -> wire.SessionInfo:
        engine = server.engine
        session = engine.session(p.session_id)
        if p.after_seq is not None:
            server.replay(session.id, p.after_seq)
        return engine.info(session.id)

    def session_list(p: wire.SessionListParams) -> wire.SessionListResult:
        engine = server.engine
        return engine.list_sessions(p)

    def session_get(p: wire.SessionRef) -> wire.SessionDetail:
        engine = server.engine
        return engine.detail(p.session_id)

    def session_fork(p: wire.SessionForkParams) -> wire.SessionInfo:
        engine = server.engine
        return engine.info(engine.fork(p.session_id, p.at_turn, p.new_session_id).id)

    def session_delete(p: wire.SessionRef) -> wire.Empty:
        engine = server.engine
        engine.delete(p.session_id)
        return wire.Empty()

    async def turn_submit(p: wire.TurnSubmitParams) -> wire.TurnResult:
        engine = server.engine
        turn_id = p.turn_id or new_id("turn")
        request_id = server.protocol.msg_id
        assert request_id is not None  # pygls sets it for every request handler
        server.protocol.turn_requests[request_id] = (p.session_id, turn_id)
        try:
            return await engine.submit(p.session_id, p.prompt, turn_id, server.approvals)
        finally:
            server.protocol.turn_requests.pop(request_id, None)

    def turn_cancel(p: wire.TurnCancelParams) -> wire.Empty:
        engine = server.engine
        engine.session(p.session_id)  # session_not_found for unknown ids
        engine.cancel(p.session_id, p.turn_id)
        return wire.Empty()

    def profile_list(p: wire.ProfileListParams) -> wire.ProfileListResult:
        from parley.engine.profiles import profile_info

        return wire.ProfileListResult([profile_info(x) for x in server.engine.profiles(p.cwd)])

    def profile_get(p: wire.ProfileGetParams) -> wire.ProfileInfo:
        from parley.engine.profiles import profile_info

        return profile_info(server.engine.profile(p.name, p.cwd))

    def provider_list(_: wire.Empty) -> wire.ProviderListResult:
        return server.engine.provider_list()

    async def tool_list(p: wire.SessionRef) -> wire.ToolListResult:
        from parley.engine.tool_list import tool_list

        return await tool_list(server.engine.session(p.session_id))

    return {
        m.INITIALIZE: initialize,
        m.SHUTDOWN: shutdown,
        m.SESSION_CREATE: session_create,
        m.SESSION_RESUME: session_resume,
        m.SESSION_LIST: session_list,
        m.SESSION_GET: session_get,
        m.SESSION_FORK: session_fork,
        m.SESSION_DELETE: session_delete,
        m.TURN_SUBMIT: turn_submit,
        m.TURN_CANCEL: turn_cancel,
        m.PROFILE_LIST: profile_list,
        m.PROFILE_GET: profile_get,
        m.PROVIDER_LIST: provider_list,
        m.TOOL_LIST: tool_list,
    }
