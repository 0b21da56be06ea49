"""What every store does, proven on the in-memory and the SQLite store alike."""

from __future__ import annotations

import pytest

from parley.core.errors import ErrorCode, ParleyError
from parley.core.messages import (
    ImageBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    user_text,
)
from parley.core.usage import Usage
from parley.store.base import Store
from parley.store.records import StoredMessage
from tests.store.store_fixtures import record


def _at(i: int) -> str:
    return f"2025-01-01T00:{i // 60:02d}:{i % 60:02d}.000Z"


def _run_turn(store: Store, session_id: str, turn_id: str, prompt: str, answer: str) -> None:
    """A turn as the engine stores it: lease, events, messages, result."""
    stored = store.begin_turn(session_id, turn_id)
    seq = stored.last_seq
    for method, params in (
        ("progress", {"kind": "turn_started", "message": "turn started"}),
        ("result/delta", {"text": answer}),
        ("result/final", {"text": answer}),
    ):
        seq += 1
        store.append_event(session_id, seq, turn_id, method, params)
    store.append_message(session_id, turn_id, user_text(prompt))
    store.append_message(session_id, turn_id, Message("assistant", (TextBlock(answer),)))
    result = {"sessionId": session_id, "turnId": turn_id, "reply": answer, "stopReason": "end_turn"}
    store.finish_turn(session_id, turn_id, "completed", result)
    store.commit()


def test_a_created_session_loads_back_with_every_field(store: Store) -> None:
    original = record("s1", tags=["x", "y"])
    original.title = "Fix the parser"
    original.additional_directories = ["/work/b"]
    original.totals = Usage(10, 20, 3, 4, 0.5)
    original.remembered = {"bash": "allow"}
    original.forked_from = "s0"
    store.create_session(original)
    store.commit()
    assert store.load_session("s1") == original
    assert store.load_session("nope") is None


def test_creating_a_taken_id_raises_key_error(store: Store) -> None:
    store.create_session(record("s1"))
    with pytest.raises(KeyError):
        store.create_session(record("s1"))


def test_save_session_updates_fields_but_not_created_at(store: Store) -> None:
    store.create_session(record("s1", tags=["old"]))
    changed = record("s1", created_at=_at(99), tags=["new"])
    changed.title = "renamed"
    changed.updated_at = _at(100)
    changed.totals = Usage(1, 2, 0, 0, None)
    store.save_session(changed)
    loaded = store.load_session("s1")
    assert loaded is not None
    assert (loaded.title, loaded.tags, loaded.updated_at) == ("renamed", ["new"], _at(100))
    assert loaded.totals == Usage(1, 2, 0, 0, None)
    assert loaded.created_at == record("s1").created_at
    # The tag index follows the new tags.
    assert store.list_sessions(limit=10, cursor=None, tags=["old"], cwd=None) == ([], None)
    assert [
        r.session_id for r in store.list_sessions(limit=10, cursor=None, tags=["new"], cwd=None)[0]
    ] == ["s1"]


def test_saving_a_deleted_session_does_not_bring_it_back(store: Store) -> None:
    store.create_session(record("s1"))
    assert store.delete_session("s1") is True
    store.save_session(record("s1"))
    assert store.load_session("s1") is None


def test_list_pages_newest_first_and_visits_each_session_once(store: Store) -> None:
    for i in range(23):
        store.create_session(record(f"s{i:02d}", created_at=_at(i)))
    # Two sessions created in the same millisecond are ordered by id.
    store.create_session(record("s99", created_at=_at(5)))
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = store.list_sessions(limit=5, cursor=cursor, tags=[], cwd=None)
        assert len(page) <= 5
        seen.extend(r.session_id for r in page)
        if cursor is None:
            break
    expected = [f"s{i:02d}" for i in range(22, 5, -1)] + ["s99", "s05"]
    expected += [f"s{i:02d}" for i in range(4, -1, -1)]
    assert seen == expected


def test_list_pages_stay_stable_when_newer_sessions_arrive(store: Store) -> None:
    for i in range(10):
        store.create_session(record(f"s{i}", created_at=_at(i)))
    first, cursor = store.list_sessions(limit=4, cursor=None, tags=[], cwd=None)
    store.create_session(record("newer", created_at=_at(50)))
    second, _ = store.list_sessions(limit=4, cursor=cursor, tags=[], cwd=None)
    assert [r.session_id for r in first] == ["s9", "s8", "s7", "s6"]
    assert [r.session_id for r in second] == ["s5", "s4", "s3", "s2"]


def test_list_filters_by_all_given_tags_and_by_cwd(store: Store) -> None:
    store.create_session(record("a", created_at=_at(1), tags=["ci", "fast"], cwd="/w/one"))
    store.create_session(record("b", created_at=_at(2), tags=["ci"], cwd="/w/two"))
    store.create_session(record("c", created_at=_at(3), tags=["fast", "ci"], cwd="/w/two"))
    store.create_session(record("d", created_at=_at(4), tags=[], cwd="/w/one"))

    def ids(tags: list[str], cwd: str | None, limit: int = 10) -> list[str]:
        return [
            r.session_id
            for r in store.list_sessions(limit=limit, cursor=None, tags=tags, cwd=cwd)[0]
        ]

    assert ids(["ci"], None) == ["c", "b", "a"]
    assert ids(["ci", "fast"], None) == ["c", "a"]
    assert ids(["fast", "ci"], None) == ["c", "a"]
    assert ids([], "/w/one") == ["d", "a"]
    assert ids(["ci"], "/w/two") == ["c", "b"]
    assert ids(["ci", "fast"], "/w/one") == ["a"]
    assert ids(["nope"], None) == []
    # Paging under a filter.
    page, cursor = store.list_sessions(limit=2, cursor=None, tags=["ci"], cwd=None)
    rest, end = store.list_sessions(limit=2, cursor=cursor, tags=["ci"], cwd=None)
    assert [r.session_id for r in page + rest] == ["c", "b", "a"]
    assert end is None


def test_a_cursor_the_server_did_not_make_is_invalid_params(store: Store) -> None:
    with pytest.raises(ParleyError) as err:
        store.list_sessions(limit=5, cursor="not-a-cursor", tags=[], cwd=None)
    assert err.value.code == ErrorCode.INVALID_PARAMS
    assert err.value.data == {"pointer": "/cursor"}


def test_messages_keep_every_block_kind_in_order(store: Store) -> None:
    store.create_session(record("s1"))
    messages = [
        Message("user", (TextBlock("look"), ImageBlock("image/png", "aGk="))),
        Message(
            "assistant",
            (
                ThinkingBlock("hmm", signature="sig", provider="anthropic"),
                ThinkingBlock("", redacted="opaque"),
                ToolUseBlock("call_1", "read_file", {"path": "a.txt", "n": [1, 2]}),
            ),
        ),
        Message("user", (ToolResultBlock("call_1", "contents ☃", is_error=True),)),
    ]
    store.append_message("s1", "t1", messages[0])
    store.append_message("s1", "t1", messages[1])
    store.append_message("s1", None, messages[2])
    stored = store.load_messages("s1")
    assert [m.message for m in stored] == messages
    assert [m.turn_id for m in stored] == ["t1", "t1", None]


def test_replacing_messages_makes_them_the_whole_history(store: Store) -> None:
    store.create_session(record("s1"))
    store.create_session(record("s2"))
    for n in range(4):
        store.append_message("s1", f"t{n}", user_text(f"old {n}"))
    store.append_message("s2", "t0", user_text("other"))
    compacted = [
        StoredMessage(None, user_text("summary of old 0-2")),
        StoredMessage("t3", user_text("old 3")),
    ]
    store.replace_messages("s1", compacted)
    store.append_message("s1", "t4", user_text("new"))
    store.commit()
    assert [(m.turn_id, m.message.text) for m in store.load_messages("s1")] == [
        (None, "summary of old 0-2"),
        ("t3", "old 3"),
        ("t4", "new"),
    ]
    assert [m.message.text for m in store.load_messages("s2")] == ["other"]


def test_events_come_back_in_seq_order_after_the_given_seq(store: Store) -> None:
    store.create_session(record("s1"))
    store.create_session(record("s2"))
    for seq in range(1, 6):
        store.append_event("s1", seq, "t1", "result/delta", {"text": f"{seq}"})
    store.append_event("s2", 1, "t9", "progress", {"kind": "turn_started"})
    after = list(store.events_after("s1", 2))
    assert [(e.seq, e.turn_id, e.method, e.params) for e in after] == [
        (3, "t1", "result/delta", {"text": "3"}),
        (4, "t1", "result/delta", {"text": "4"}),
        (5, "t1", "result/delta", {"text": "5"}),
    ]
    assert list(store.events_after("s1", 5)) == []
    loaded = store.load_session("s1")
    assert loaded is not None
    assert loaded.last_seq == 5


def test_storing_a_seq_twice_raises(store: Store) -> None:
    store.create_session(record("s1"))
    store.append_event("s1", 1, "t1", "progress", {})
    with pytest.raises(ValueError, match="seq 1"):
        store.append_event("s1", 1, "t1", "progress", {})


def test_turns_are_numbered_in_order_and_count_on_the_session(store: Store) -> None:
    store.create_session(record("s1"))
    _run_turn(store, "s1", "t1", "hi", "hello")
    stored = store.begin_turn("s1", "t2")
    assert stored.turn_count == 2
    assert stored.last_seq == 3
    turn = store.load_turn("s1", "t2")
    assert turn is not None
    assert (turn.number, turn.status, turn.result) == (2, "running", None)
    first = store.load_turn("s1", "t1")
    assert first is not None
    assert (first.number, first.status) == (1, "completed")
    assert first.result is not None
    assert first.result["reply"] == "hello"
    assert store.load_turn("s1", "nope") is None


def test_a_second_turn_on_a_busy_session_is_refused(store: Store) -> None:
    store.create_session(record("s1"))
    store.begin_turn("s1", "t1")
    with pytest.raises(ParleyError) as err:
        store.begin_turn("s1", "t2")
    assert err.value.code == ErrorCode.SESSION_BUSY
    assert err.value.data == {"runningTurnId": "t1"}
    store.finish_turn("s1", "t1", "interrupted", None)
    store.commit()
    assert store.begin_turn("s1", "t2").turn_count == 2


def test_a_turn_id_cannot_be_begun_twice(store: Store) -> None:
    store.create_session(record("s1"))
    _run_turn(store, "s1", "t1", "hi", "hello")
    with pytest.raises(ParleyError) as err:
        store.begin_turn("s1", "t1")
    assert err.value.code == ErrorCode.INVALID_PARAMS


def test_beginning_a_turn_on_a_missing_session_is_session_not_found(store: Store) -> None:
    with pytest.raises(ParleyError) as err:
        store.begin_turn("nope", "t1")
    assert err.value.code == ErrorCode.SESSION_NOT_FOUND


def test_deleting_a_session_removes_everything_it_had(store: Store) -> None:
    store.create_session(record("s1", tags=["x"]))
    _run_turn(store, "s1", "t1", "hi", "hello")
    assert store.delete_session("s1") is True
    store.commit()
    assert store.load_session("s1") is None
    assert store.load_messages("s1") == []
    assert list(store.events_after("s1", 0)) == []
    assert store.load_turn("s1", "t1") is None
    assert store.list_sessions(limit=5, cursor=None, tags=["x"], cwd=None) == ([], None)
    assert store.delete_session("s1") is False
    # The id is free again, and the new session starts empty.
    store.create_session(record("s1"))
    loaded = store.load_session("s1")
    assert loaded is not None
    assert (loaded.last_seq, loaded.turn_count) == (0, 0)


def test_a_session_running_a_turn_cannot_be_deleted(store: Store) -> None:
    store.create_session(record("s1"))
    store.begin_turn("s1", "t1")
    with pytest.raises(ParleyError) as err:
        store.delete_session("s1")
    assert err.value.code == ErrorCode.SESSION_BUSY
    assert store.load_session("s1") is not None


def _three_turns(store: Store) -> None:
    source = record("src", tags=["keep"])
    source.title = "original"
    source.totals = Usage(100, 200, 0, 0, 1.0)
    source.remembered = {"bash": "allow"}
    store.create_session(source)
    store.append_message("src", None, user_text("before any turn"))
    for n in (1, 2, 3):
        _run_turn(store, "src", f"t{n}", f"q{n}", f"a{n}")


def test_fork_at_a_turn_keeps_history_up_to_and_including_it(store: Store) -> None:
    _three_turns(store)
    fork = store.fork_session("src", "fork", 2)
    store.commit()
    assert fork.forked_from == "src"
    assert (fork.title, fork.tags, fork.remembered) == ("original", ["keep"], {"bash": "allow"})
    assert fork.totals == Usage()
    assert (fork.turn_count, fork.last_seq) == (2, 0)
    texts = [m.message.text for m in store.load_messages("fork")]
    assert texts == ["before any turn", "q1", "a1", "q2", "a2"]
    assert list(store.events_after("fork", 0)) == []
    copied = store.load_turn("fork", "t2")
    assert copied is not None
    assert copied.result is not None
    assert (copied.number, copied.status, copied.result["sessionId"]) == (2, "completed", "fork")
    assert store.load_turn("fork", "t3") is None
    # The source is untouched, and the fork goes on with turn 3 of its own.
    assert len(store.load_messages("src")) == 7
    assert store.begin_turn("fork", "t3-fork").turn_count == 3
    assert fork.session_id in [
        r.session_id for r in store.list_sessions(limit=5, cursor=None, tags=["keep"], cwd=None)[0]
    ]


def test_fork_without_a_turn_keeps_every_finished_turn(store: Store) -> None:
    _three_turns(store)
    store.begin_turn("src", "t4")
    store.append_message("src", "t4", user_text("q4, still running"))
    fork = store.fork_session("src", "fork", None)
    assert fork.turn_count == 3
    assert [m.message.text for m in store.load_messages("fork")][-1] == "a3"


def test_fork_at_turn_zero_keeps_only_what_came_before_the_first_turn(store: Store) -> None:
    _three_turns(store)
    fork = store.fork_session("src", "fork", 0)
    assert fork.turn_count == 0
    assert [m.message.text for m in store.load_messages("fork")] == ["before any turn"]


@pytest.mark.parametrize(
    ("source", "new", "at_turn", "code"),
    [
        ("missing", "fork", None, ErrorCode.SESSION_NOT_FOUND),
        ("src", "src", None, ErrorCode.SESSION_EXISTS),
        ("src", "fork", 7, ErrorCode.INVALID_PARAMS),
        ("src", "fork", 4, ErrorCode.INVALID_PARAMS),  # running
    ],
)
def test_fork_refuses_what_it_cannot_do(
    store: Store, source: str, new: str, at_turn: int | None, code: ErrorCode
) -> None:
    _three_turns(store)
    store.begin_turn("src", "t4")
    with pytest.raises(ParleyError) as err:
        store.fork_session(source, new, at_turn)
    assert err.value.code == code
    assert store.load_session("fork") is None


def test_nothing_is_recovered_while_every_turn_belongs_to_a_live_process(store: Store) -> None:
    store.create_session(record("s1"))
    store.begin_turn("s1", "t1")
    assert store.recover_interrupted() == []
    turn = store.load_turn("s1", "t1")
    assert turn is not None
    assert turn.status == "running"
