"""One handler per host -> server method; each speaks wire types and calls the service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.core.errors import ErrorCode, ParleyError
from parley.core.ids import new_id
from parley.protocol import methods as m
from parley.protocol import types as wire

if TYPE_CHECKING:
    from parley.doors.jsonrpc.dispatch import Handler
    from parley.doors.stdio.app import ParleyServer


def handlers(server: ParleyServer) -> dict[str, Handler]:
    def initialize(p: wire.InitializeParams) -> wire.InitializeResult:
        if server.negotiated is not None:
            raise ParleyError(ErrorCode.INVALID_PARAMS, "agent/initialize was already called")
        return server.initialize(p)

    async def shutdown(_: wire.Empty) -> wire.Empty:
        await server.service.shutdown()
        server.request_stop()
        return wire.Empty()

    def session_create(p: wire.SessionCreateParams) -> wire.SessionInfo:
        info = server.service.create_session(p)
        server.follow(info.session_id)
        return info

    async def session_resume(p: wire.SessionResumeParams) -> wire.SessionInfo:
        service = server.service
        service.session_info(p.session_id)  # session_not_found before anything is sent
        until = server.follow(p.session_id, p.after_seq)
        await server.pump.reached(p.session_id, until)  # the replay goes out before the answer
        return service.session_info(p.session_id)

    def session_list(p: wire.SessionListParams) -> wire.SessionListResult:
        return server.service.list_sessions(p)

    def session_get(p: wire.SessionGetParams) -> wire.SessionDetail:
        return server.service.session_detail(p.session_id, p.limit, p.cursor)

    def session_fork(p: wire.SessionForkParams) -> wire.SessionInfo:
        info = server.service.fork_session(p.session_id, p.at_turn, p.new_session_id)
        server.follow(info.session_id)
        return info

    def session_delete(p: wire.SessionRef) -> wire.Empty:
        server.service.delete_session(p.session_id)
        return wire.Empty()

    async def turn_submit(p: wire.TurnSubmitParams) -> wire.TurnResult:
        service = server.service
        service.session_info(p.session_id)  # session_not_found before following it
        server.follow(p.session_id)
        turn_id = p.turn_id or new_id("turn")
        request_id = server.protocol.msg_id
        assert request_id is not None  # pygls sets it for every request handler
        server.turn_requests[request_id] = (p.session_id, turn_id)
        try:
            handle = await service.start_turn(p.session_id, p.prompt, turn_id)
            return await server.answer_turn(p.session_id, handle, lambda result: result)
        finally:
            server.turn_requests.pop(request_id, None)

    def turn_cancel(p: wire.TurnCancelParams) -> wire.Empty:
        server.service.cancel_turn(p.session_id, p.turn_id)
        return wire.Empty()

    def profile_list(p: wire.ProfileListParams) -> wire.ProfileListResult:
        from parley.engine.profiles import profile_info

        return wire.ProfileListResult([profile_info(x) for x in server.service.profiles(p.cwd)])

    def profile_get(p: wire.ProfileGetParams) -> wire.ProfileInfo:
        from parley.engine.profiles import profile_info

        return profile_info(server.service.profile(p.name, p.cwd))

    def provider_list(_: wire.Empty) -> wire.ProviderListResult:
        return server.service.provider_list()

    async def tool_list(p: wire.SessionRef) -> wire.ToolListResult:
        return await server.service.tool_list(p.session_id)

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
