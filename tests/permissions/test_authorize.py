"""The permission layer in real turns: rules before the mode, remembered answers, and what
happens to an approval question that is answered, unanswered, garbled or cancelled."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from parley.core.errors import ErrorCode, ParleyError
from parley.engine.askers import NoApprovals
from parley.engine.permissions import Decision
from parley.protocol import types as wire
from tests.engine_turns import NEVER, Host, Turns, call


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    (path / "secrets").mkdir(parents=True)
    return path


def outcomes(turns: Turns) -> list[tuple[str, bool]]:
    return [(c["name"], c["isError"]) for c in turns.completed()]


async def test_a_deny_rule_wins_over_allow_mode(tmp_path: Path, project: Path) -> None:
    rule = {"tool": "write_file", "match": {"path": "secrets/**"}, "action": "deny"}
    turns = Turns(tmp_path, project, rules=[rule])

    await turns.run(
        [
            call("write_file", path="secrets/key", content="x"),
            call("write_file", path="public.txt", content="x"),
        ],
        mode="allow",
    )

    assert outcomes(turns) == [("write_file", True), ("write_file", False)]
    assert turns.completed()[0]["output"] == (
        "Permission denied: write_file is not allowed (rule {tool = 'write_file', "
        "match = {path = 'secrets/**'}, action = 'deny'} from config). The tool did not run."
    )
    assert not (project / "secrets/key").exists()


async def test_an_allow_rule_wins_over_deny_mode(tmp_path: Path, project: Path) -> None:
    rule = {"tool": "bash", "match": {"command": "echo *"}, "action": "allow"}
    turns = Turns(tmp_path, project, rules=[rule])

    await turns.run(
        [call("bash", command="echo allowed"), call("bash", command="touch nope")], mode="deny"
    )

    assert outcomes(turns) == [("bash", False), ("bash", True)]


async def test_an_ask_rule_asks_even_in_allow_mode(tmp_path: Path, project: Path) -> None:
    rule = {"tool": "bash", "match": {"command": "git push*"}, "action": "ask"}
    turns = Turns(tmp_path, project, rules=[rule])
    host = Host("reject_once")

    await turns.run(
        [call("bash", command="echo fine"), call("bash", command="git push --force")],
        mode="allow",
        port=host,
    )

    assert [q.input["command"] for q in host.questions] == ["git push --force"]
    assert "rule {tool = 'bash'" in host.questions[0].reason
    assert outcomes(turns) == [("bash", False), ("bash", True)]


async def test_the_host_gets_the_call_with_its_diff_options_and_timeout(
    tmp_path: Path, project: Path
) -> None:
    turns = Turns(tmp_path, project, approval_timeout=42.0)
    host = Host("allow_once")

    await turns.run([call("write_file", path="a.txt", content="new\n")], port=host)

    [question] = host.questions
    assert (question.tool, question.input) == ("write_file", {"path": "a.txt", "content": "new\n"})
    assert question.options == ["allow_once", "allow_always", "reject_once", "reject_always"]
    assert question.timeout_ms == 42_000
    assert question.reason == "write_file needs approval (permission mode 'ask')"
    assert question.display == {
        "path": "a.txt",
        "created": True,
        "diff": "--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1 @@\n+new\n",
    }
    assert question.approval_id.startswith("appr_")
    # The question is the session's event too, for every door; the call's kind is on its start.
    [requested] = turns.events.of("approval/requested")
    assert requested["approvalId"] == question.approval_id
    assert requested["toolCallId"] == question.tool_call_id
    [started] = turns.events.of("tool/started")
    assert (started["toolCallId"], started["kind"]) == (question.tool_call_id, "edit")


@pytest.mark.parametrize(
    ("decision", "ran"),
    [
        ("allow_once", True),
        ("allow_always", True),
        ("reject_once", False),
        ("reject_always", False),
    ],
)
async def test_each_decision_runs_or_refuses_and_is_announced(
    tmp_path: Path, project: Path, decision: Decision, ran: bool
) -> None:
    turns = Turns(tmp_path, project)
    host = Host(decision)

    await turns.run([call("bash", command="echo hi")], port=host)

    assert outcomes(turns) == [("bash", not ran)]
    assert turns.events.of("approval/resolved") == [
        {"approvalId": host.questions[0].approval_id, "decision": decision}
    ]
    if not ran:
        assert turns.completed()[0]["output"] == (
            "Permission denied: the user rejected this tool call. The tool did not run."
        )


@pytest.mark.parametrize(("always", "ran"), [("allow_always", True), ("reject_always", False)])
async def test_always_answers_hold_for_the_rest_of_the_session(
    tmp_path: Path, project: Path, always: Decision, ran: bool
) -> None:
    turns = Turns(tmp_path, project)
    host = Host(always)

    await turns.run([call("bash", command="echo 1"), call("bash", command="echo 2")], port=host)
    session_id = host.questions[0].session_id
    await turns.run([call("bash", command="echo 3")], port=host, session_id=session_id)

    assert len(host.questions) == 1
    assert outcomes(turns) == [("bash", not ran)] * 3
    assert turns.service.store.load_session(session_id).remembered == {  # type: ignore[union-attr]
        "bash": "allow" if ran else "deny"
    }


async def test_always_is_per_session(tmp_path: Path, project: Path) -> None:
    turns = Turns(tmp_path, project)
    host = Host("allow_always", "reject_once")

    await turns.run([call("bash", command="echo 1")], port=host)
    await turns.run([call("bash", command="echo 2")], port=host)

    assert len(host.questions) == 2


async def test_always_allow_does_not_override_a_deny_rule(tmp_path: Path, project: Path) -> None:
    rule = {"tool": "bash", "match": {"command": "rm *"}, "action": "deny"}
    turns = Turns(tmp_path, project, rules=[rule])
    host = Host("allow_always")

    await turns.run(
        [call("bash", command="echo 1"), call("bash", command="rm -rf secrets")], port=host
    )

    assert outcomes(turns) == [("bash", False), ("bash", True)]
    assert (project / "secrets").exists()


async def test_no_answer_in_time_is_a_rejection_with_approval_timeout(
    tmp_path: Path, project: Path
) -> None:
    turns = Turns(tmp_path, project, approval_timeout=0.2)
    host = Host(NEVER)

    result = await turns.run([call("bash", command="echo hi")], port=host)

    assert result.stop_reason == "end_turn"
    assert turns.events.of("approval/timeout") == [{"approvalId": host.questions[0].approval_id}]
    assert turns.events.of("approval/resolved") == []
    [completed] = turns.completed()
    assert completed["display"] == {"denied": True, "code": "approval_timeout"}
    assert completed["output"] == (
        "Permission denied: no answer to the approval request within 0.2s. The tool did not run."
    )


GARBAGE = ["yes", "ALLOW_ONCE", 42, {"decision": "allow_once"}, ""]


@pytest.mark.parametrize("garbage", GARBAGE)
async def test_a_garbage_answer_is_refused_and_the_question_stays_open(
    tmp_path: Path, project: Path, garbage: Any
) -> None:
    turns = Turns(tmp_path, project)
    refused: list[str] = []

    class Garbling(Host):
        """Sends garbage first, as a broken door would, then a real answer."""

        async def ask(self, question: wire.ApprovalRequestParams) -> Decision | None:
            try:
                turns.service.answer_approval(question.approval_id, garbage)
            except ParleyError as exc:
                refused.append(exc.code)
            return await super().ask(question)

    result = await turns.run([call("bash", command="echo 1")], port=Garbling("allow_once"))

    assert result.stop_reason == "end_turn"
    assert refused == [ErrorCode.INVALID_PARAMS]
    assert outcomes(turns) == [("bash", False)]
    assert [e["decision"] for e in turns.events.of("approval/resolved")] == ["allow_once"]


@pytest.mark.parametrize("garbage", GARBAGE)
async def test_a_port_answering_garbage_rejects_the_call(
    tmp_path: Path, project: Path, garbage: Any
) -> None:
    turns = Turns(tmp_path, project)
    host = Host(garbage, "allow_once")

    result = await turns.run(
        [call("bash", command="echo 1"), call("bash", command="echo 2")], port=host
    )

    assert result.stop_reason == "end_turn"
    assert outcomes(turns) == [("bash", True), ("bash", False)]
    assert [e["decision"] for e in turns.events.of("approval/resolved")] == [
        "reject_once",
        "allow_once",
    ]
    assert turns.completed()[0]["display"] == {"denied": True, "code": "approval_denied"}


async def test_a_port_that_fails_rejects_the_call_at_once(tmp_path: Path, project: Path) -> None:
    class Broken(Host):
        async def ask(self, question: wire.ApprovalRequestParams) -> Decision | None:
            raise ConnectionResetError("host went away")

    turns = Turns(tmp_path, project)  # the default timeout: a failed ask must not wait it out

    result = await asyncio.wait_for(
        turns.run([call("bash", command="touch ran")], port=Broken()), 10
    )

    assert result.stop_reason == "end_turn"
    assert outcomes(turns) == [("bash", True)]
    assert turns.completed()[0]["display"] == {"denied": True, "code": "approval_denied"}
    assert not (project / "ran").exists()


async def test_cancel_while_waiting_resolves_the_request_as_rejected(
    tmp_path: Path, project: Path
) -> None:
    turns = Turns(tmp_path, project)
    host = Host(NEVER)
    turn = asyncio.create_task(turns.run([call("bash", command="touch ran")], port=host))
    await host.asked.wait()

    assert turns.service.cancel_turn(host.questions[0].session_id)
    result = await turn

    assert result.stop_reason == "cancelled"
    assert turns.events.methods()[-3:] == ["approval/resolved", "tool/completed", "error"]
    assert turns.events.of("approval/resolved") == [
        {"approvalId": host.questions[0].approval_id, "decision": "reject_once"}
    ]
    assert turns.completed()[0]["output"].startswith("The tool call was interrupted")
    assert not (project / "ran").exists()


async def test_a_front_door_without_a_host_hears_of_each_unasked_call(
    tmp_path: Path, project: Path
) -> None:
    turns = Turns(tmp_path, project)

    await turns.run(
        [call("read_file", path="secrets"), call("bash", command="ls")], port=NoApprovals()
    )

    assert turns.unasked == ["bash"]
    assert turns.events.of("approval/requested") == []
    assert turns.completed()[1]["output"] == (
        "Permission denied: bash needs approval (permission mode 'ask') and there is no one "
        "to ask; it can be allowed by a rule or a permission mode. The tool did not run."
    )
