"""Session store speed: resume of a long session, listing many sessions, notification writes.

    python bench/store_bench.py [--repeat N]

Targets (docs/performance.md): resume of a 10,000-message session <= 100 ms; session/list over
10,000 sessions <= 50 ms; storing notifications must allow >= 50,000 notifications/s.
Everything runs on a fresh SQLite file in a temporary directory; medians are printed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from parley.core.messages import (
    Message,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    message_from_dict,
    user_text,
)
from parley.store.records import SessionRecord
from parley.store.sqlite import SqliteStore

SESSIONS = 10_000
MESSAGES = 10_000
PARAGRAPH = "The parser reads one token ahead and backtracks when a rule fails. " * 6


def _record(i: int) -> SessionRecord:
    stamp = f"2025-{1 + i // 2_600_000:02d}-01T00:00:00.000Z"
    return SessionRecord(
        session_id=f"ses_{i:08d}",
        cwd=f"/work/project{i % 20}",
        profile="default",
        provider="anthropic",
        model="claude-sonnet-4-5",
        permission_mode="ask",
        created_at=stamp[:11] + f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000Z",
        updated_at=stamp,
        title=f"Session {i}",
        tags=["ci"] if i % 10 == 0 else ["dev", f"user{i % 7}"],
    )


def _conversation(n: int) -> list[tuple[str, Message]]:
    """A long session's messages: prompts, answers, tool calls and their results."""
    out: list[tuple[str, Message]] = []
    turn = 0
    while len(out) < n:
        turn += 1
        tid = f"turn_{turn}"
        out.append((tid, user_text(f"Question {turn}: why does rule {turn} fail?")))
        call = ToolUseBlock(f"call_{turn}", "read_file", {"path": f"src/rule{turn}.py"})
        out.append((tid, Message("assistant", (TextBlock("Let me look."), call))))
        out.append((tid, Message("user", (ToolResultBlock(call.id, PARAGRAPH * 3),))))
        out.append((tid, Message("assistant", (TextBlock(PARAGRAPH),))))
    return out[:n]


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_resume(root: Path, repeat: int) -> None:
    store = SqliteStore(root / "resume.db")
    store.create_session(_record(0))
    for turn_id, message in _conversation(MESSAGES):
        store.append_message("ses_00000000", turn_id, message)
    store.commit()
    store.close()
    store = SqliteStore(root / "resume.db")  # a fresh connection, as after a restart

    def resume() -> None:
        store.load_session("ses_00000000")
        assert len(store.load_messages("ses_00000000")) == MESSAGES

    print(
        f"resume, {MESSAGES} messages (load_session + load_messages): "
        f"{_median_ms(resume, repeat):.1f} ms  (target <= 100)"
    )
    # Where the time goes: the rows, their JSON, the Message objects.
    sql = "SELECT turn_id, body FROM messages WHERE session_id = ? ORDER BY id"
    rows = store._conn.execute(sql, ("ses_00000000",)).fetchall()
    dicts = [orjson.loads(body) for _, body in rows]
    parts: dict[str, Callable[[], object]] = {
        "load_session only": lambda: store.load_session("ses_00000000"),
        "message rows (SQL)": lambda: store._conn.execute(sql, ("ses_00000000",)).fetchall(),
        "JSON decode": lambda: [orjson.loads(body) for _, body in rows],
        "Message objects": lambda: [message_from_dict(d) for d in dicts],
    }
    for name, fn in parts.items():
        print(f"  of which {name}: {_median_ms(fn, repeat):.1f} ms")
    store.close()


def bench_list(root: Path, repeat: int) -> None:
    store = SqliteStore(root / "list.db")
    for i in range(SESSIONS):
        store.create_session(_record(i))
    store.commit()
    store.close()
    store = SqliteStore(root / "list.db")
    _, cursor = store.list_sessions(limit=50, cursor=None, tags=[], cwd=None)
    for _ in range(100):  # deep into the list
        _, cursor = store.list_sessions(limit=50, cursor=cursor, tags=[], cwd=None)
    cases: dict[str, Callable[[], object]] = {
        "first page": lambda: store.list_sessions(limit=50, cursor=None, tags=[], cwd=None),
        "page 102": lambda: store.list_sessions(limit=50, cursor=cursor, tags=[], cwd=None),
        "tag ci (1 in 10)": lambda: store.list_sessions(
            limit=50, cursor=None, tags=["ci"], cwd=None
        ),
        "tags dev+user3": lambda: store.list_sessions(
            limit=50, cursor=None, tags=["dev", "user3"], cwd=None
        ),
        "cwd (1 in 20)": lambda: store.list_sessions(
            limit=50, cursor=None, tags=[], cwd="/work/project7"
        ),
        "no match": lambda: store.list_sessions(limit=50, cursor=None, tags=["none"], cwd=None),
        "worst: tags dev+none": lambda: store.list_sessions(
            limit=50, cursor=None, tags=["dev", "none"], cwd=None
        ),
        "worst: tag dev, cwd none": lambda: store.list_sessions(
            limit=50, cursor=None, tags=["dev"], cwd="/nowhere"
        ),
    }
    for name, fn in cases.items():
        print(
            f"list {SESSIONS} sessions, 50 a page, {name}: "
            f"{_median_ms(fn, repeat):.2f} ms  (target <= 50)"
        )
    store.close()


def bench_events(root: Path, repeat: int) -> None:
    store = SqliteStore(root / "events.db")
    store.create_session(_record(0))
    store.commit()
    params = {"text": "token "}
    seq = 0
    for batch in (1, 10, 100, 1000):
        n = 20_000

        def run(batch: int = batch, n: int = n) -> None:
            nonlocal seq
            for _ in range(n // batch):
                for _ in range(batch):
                    seq += 1
                    store.append_event("ses_00000000", seq, "turn_1", "result/delta", params)
                store.commit()

        ms = _median_ms(run, max(3, repeat // 4))
        print(
            f"append_event, commit every {batch:>4}: {n / ms * 1000:>9,.0f} events/s  "
            f"({ms / n * 1000:.2f} us each; target >= 50,000/s)"
        )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bench_resume(root, args.repeat)
        bench_list(root, args.repeat)
        bench_events(root, args.repeat)


if __name__ == "__main__":
    main()
