"""Engine objects as the daemon's JSON answers (the shapes models.py declares)."""

from __future__ import annotations

from typing import Any

from parley.protocol import types as wire


def usage(u: wire.Usage) -> dict[str, Any]:
    return {
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_read_tokens": u.cache_read_tokens,
        "cache_write_tokens": u.cache_write_tokens,
        "cost_usd": u.cost_usd,
    }


def session_summary(info: wire.SessionInfo) -> dict[str, Any]:
    return {
        "metadata": {
            "session_id": info.session_id,
            "name": info.title,
            "created_at": info.created_at,
            "updated_at": info.updated_at,
            "tags": list(info.tags),
            "turns": info.turn_count,
            "total_tokens": info.usage.input_tokens + info.usage.output_tokens,
            "cost_usd": info.usage.cost_usd,
            "usage": usage(info.usage),
            "last_seq": info.last_seq,
            "running_turn_id": info.running_turn_id,
            "forked_from": info.forked_from,
        },
        "context": {
            "cwd": info.cwd,
            "additional_directories": list(info.additional_directories),
        },
        "config": {
            "profile": info.profile,
            "provider": info.provider,
            "model": info.model,
            "permission_mode": info.permission_mode,
            "agent": info.agent,
        },
    }


def session(info: wire.SessionInfo) -> dict[str, Any]:
    view = session_summary(info)
    if isinstance(info, wire.SessionDetail):
        view["messages"] = [
            {"role": m.role, "content": m.content, "turn_id": m.turn_id} for m in info.messages
        ]
        view["next_cursor"] = info.next_cursor
    else:
        view["messages"], view["next_cursor"] = [], None
    return view


def turn_result(result: wire.TurnResult, duration_ms: int) -> dict[str, Any]:
    u = result.usage
    return {
        "content": result.reply,
        "session_id": result.session_id,
        "turn_id": result.turn_id,
        "stop_reason": result.stop_reason,
        "metadata": turn_metadata(u, duration_ms),
        "error": None
        if result.error is None
        else {"code": result.error.code.value, "message": result.error.message},
    }


def turn_metadata(u: wire.Usage, duration_ms: int) -> dict[str, Any]:
    return {
        "tokens": u.input_tokens + u.output_tokens,
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "duration_ms": duration_ms,
        "cost_usd": u.cost_usd,
    }


def approval(question: wire.ApprovalRequestParams) -> dict[str, Any]:
    return {
        "approval_id": question.approval_id,
        "session_id": question.session_id,
        "turn_id": question.turn_id,
        "tool_call_id": question.tool_call_id,
        "tool": question.tool,
        "input": question.input,
        "options": list(question.options),
        "timeout_ms": question.timeout_ms,
        "reason": question.reason,
        "display": question.display,
    }


def profile(info: wire.ProfileInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "description": info.description,
        "source": info.source,
        "provider": info.provider,
        "model": info.model,
        "permission_mode": info.permission_mode,
        "max_turns": info.max_turns,
        "system_prompt": info.system_prompt,
        "allowed_tools": info.allowed_tools,
        "disallowed_tools": list(info.disallowed_tools),
        "context_files": list(info.context_files),
        "rules": [dict(rule) for rule in info.rules],
    }
