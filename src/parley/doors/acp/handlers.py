"""One handler per ACP client -> agent method; each reads checked params (spec.parse) and
calls the engine service."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from parley.core.errors import ErrorCode, ParleyError
from parley.doors.acp import session_config, spec
from parley.doors.acp.negotiate import negotiate
from parley.doors.acp.prompt import prompt_blocks
from parley.doors.acp.replay import Replay
from parley.protocol import types as wire
from parley.protocol.methods import SESSION_CREATE
from parley.protocol.params import parse_params

if TYPE_CHECKING:
    from collections.abc import Callable

    from parley.doors.acp.app import AcpServer
    from parley.doors.jsonrpc.dispatch import Handler

log = logging.getLogger(__name__)
Params = dict[str, Any]
# Stop reasons of Parley turns that ACP names differently.
_STOP = {"max_turns": "max_turn_requests"}


def _prompt_answer(result: wire.TurnResult) -> Params:
    """A session/prompt's answer: its stop reason, or the turn's error."""
    if result.stop_reason == "error":
        assert result.error is not None
        raise ParleyError(result.error.code, result.error.message)
    return {"stopReason": _STOP.get(result.stop_reason, result.stop_reason)}


REPLAY_PAGE = 500


def handlers(server: AcpServer) -> dict[str, Handler]:
    def initialize(p: Params) -> Params:
        if server.client is not None:
            raise ParleyError(ErrorCode.INVALID_PARAMS, "initialize was already called")
        client, result = negotiate(p)
        server.accept_early(client)
        assert server.outbox is not None
        server.outbox.after_next_flush(server.build_service_soon)
        return result

    def authenticate(p: Params) -> Params:
        raise ParleyError(
            ErrorCode.INVALID_PARAMS,
            f"no authentication method {p['methodId']!r}: Parley offers none, its providers' "
            "credentials come from the environment or its config file",
            data={"pointer": "/methodId"},
        )

    def state(info: wire.SessionInfo) -> Params:
        providers = server.service.provider_list()
        return {
            "modes": session_config.modes(info),
            "configOptions": session_config.config_options(info, providers),
        }

    def session_new(p: Params) -> Params:
        # ACP's session/new and Parley's session/create take MCP servers in the same shape;
        # Parley's own check gives -32602 with a pointer for what it cannot run (SSE servers).
        create = parse_params(
            SESSION_CREATE,
            {
                "cwd": p["cwd"],
                "additionalDirectories": list(p.get("additionalDirectories") or []),
                "mcpServers": list(p.get("mcpServers") or []),
            },
        )
        info = server.service.create_session(create)
        server.follow(info)
        return {"sessionId": info.session_id, **state(info)}

    async def session_load(p: Params) -> Params:
        _stored_mcp_servers(p)
        service = server.service
        session_id = p["sessionId"]
        info = service.session_info(session_id)
        assert server.outbox is not None
        async with server.writing:  # live events wait until the history is out
            history = Replay(server.view(info))
            cursor: str | None = None
            while True:
                page = service.session_detail(session_id, REPLAY_PAGE, cursor)
                for update in history.updates(page.messages):
                    server.update(session_id, update)
                await server.outbox.writable()
                if (cursor := page.next_cursor) is None:
                    break
            server.follow(info)
        return state(info)

    def session_resume(p: Params) -> Params:
        _stored_mcp_servers(p)
        info = server.service.session_info(p["sessionId"])
        server.follow(info)
        return state(info)

    def session_list(p: Params) -> Params:
        listed = server.service.list_sessions(
            wire.SessionListParams(cursor=p.get("cursor"), cwd=p.get("cwd"))
        )
        sessions = [
            {
                "sessionId": s.session_id,
                "cwd": s.cwd,
                "title": s.title,
                "updatedAt": s.updated_at,
                "additionalDirectories": s.additional_directories,
            }
            for s in listed.sessions
        ]
        return {"sessions": sessions, "nextCursor": listed.next_cursor}

    async def stop_turn(session_id: str) -> None:
        handle = server.service.running_turn(session_id)
        if handle is not None:
            handle.cancel()
            await handle

    async def session_close(p: Params) -> Params:
        server.service.session_info(p["sessionId"])  # resource not found first
        await stop_turn(p["sessionId"])
        server.unfollow(p["sessionId"])
        return {}

    async def session_delete(p: Params) -> Params:
        server.service.session_info(p["sessionId"])
        await stop_turn(p["sessionId"])
        server.unfollow(p["sessionId"])
        server.service.delete_session(p["sessionId"])
        return {}

    async def session_prompt(p: Params) -> Params:
        service = server.service
        session_id = p["sessionId"]
        server.follow(service.session_info(session_id))
        blocks = prompt_blocks(p["prompt"])
        request_id = server.protocol.msg_id
        assert request_id is not None  # pygls sets it for every request handler
        server.prompt_requests[request_id] = session_id
        try:
            handle = await service.start_turn(
                session_id,
                blocks,
                files=server.files(session_id),
                commands=server.terminal(session_id),
            )
            return await server.answer_turn(session_id, handle, _prompt_answer)
        finally:
            server.prompt_requests.pop(request_id, None)

    def set_mode(session_id: str, mode: str) -> wire.SessionInfo:
        info = server.service.configure_session(session_id, permission_mode=mode)
        if server.pump.follows(session_id):
            update = {"sessionUpdate": "current_mode_update", "currentModeId": mode}
            server.update(session_id, update)
        return info

    def session_set_mode(p: Params) -> Params:
        mode = session_config.check_mode(p["modeId"], "/modeId")
        info = set_mode(p["sessionId"], mode)
        if server.pump.follows(info.session_id):
            options = state(info)["configOptions"]
            server.update(
                info.session_id, {"sessionUpdate": "config_option_update", "configOptions": options}
            )
        return {}

    def session_set_config_option(p: Params) -> Params:
        session_id, option, value = p["sessionId"], p["configId"], p["value"]
        if option == "mode":
            info = set_mode(session_id, session_config.check_mode(value, "/value"))
        elif option == "model" and isinstance(value, str):
            provider, model = session_config.parse_model_value(value)
            info = server.service.configure_session(session_id, provider=provider, model=model)
        else:
            raise ParleyError(
                ErrorCode.INVALID_PARAMS,
                f"no config option {option!r} takes {value!r}; the options are mode and model",
                data={"pointer": "/configId"},
            )
        return {"configOptions": state(info)["configOptions"]}

    return {
        "initialize": initialize,
        "authenticate": authenticate,
        "session/new": session_new,
        "session/load": session_load,
        "session/resume": session_resume,
        "session/list": session_list,
        "session/close": session_close,
        "session/delete": session_delete,
        "session/prompt": session_prompt,
        "session/set_mode": session_set_mode,
        "session/set_config_option": session_set_config_option,
    }


def _stored_mcp_servers(p: Params) -> None:
    """A loaded or resumed session keeps the MCP servers it was created with."""
    if servers := p.get("mcpServers"):
        names = ", ".join(str(s.get("name")) for s in servers)
        log.info(
            "session %s keeps the MCP servers it was created with; not %s",
            p.get("sessionId"),
            names,
        )


def notification_handlers(server: AcpServer) -> dict[str, Callable[[Any], None]]:
    def session_cancel(params: Any) -> None:
        session_id = spec.parse("session/cancel", params)["sessionId"]
        server.permissions.cancelled(session_id)
        if server.client is not None and "service" in server.__dict__:
            with contextlib.suppress(ParleyError):  # no such session: nothing to cancel
                server.service.cancel_turn(session_id)

    return {"session/cancel": session_cancel}
