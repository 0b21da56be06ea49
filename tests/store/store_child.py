"""A second process on the same store, for the tests beside it.

    python store_child.py lease DB SESSION TURN     take the turn lease, send 3 events, wait
    python store_child.py write DB SESSION N M      commit N events and messages, write M more
                                                    without committing, wait
    python store_child.py race DB SESSION TURN GO   when file GO exists, try the lease, wait
    python store_child.py append DB SESSION N       append N events, committing every 10, exit

It prints one line when it has done its part ("ready", "won" or "busy"), then waits to be killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from parley.core.errors import ParleyError
from parley.core.messages import user_text
from parley.store.sqlite import SqliteStore


def _wait_forever() -> None:
    while True:
        time.sleep(60)


def main(command: str, db: str, session_id: str, *args: str) -> None:
    store = SqliteStore(Path(db))
    if command == "lease":
        stored = store.begin_turn(session_id, args[0])
        seq = stored.last_seq
        for method, params in (
            ("progress", {"kind": "turn_started", "message": "turn started"}),
            ("result/delta", {"text": "Hello, "}),
            ("usage", {"inputTokens": 7, "outputTokens": 3, "provider": "p", "model": "m"}),
            ("result/delta", {"text": "wor"}),
        ):
            seq += 1
            store.append_event(session_id, seq, args[0], method, params)
        store.append_message(session_id, args[0], user_text("say hello"))
        store.commit()
        print("ready", flush=True)
    elif command == "write":
        committed, pending = int(args[0]), int(args[1])
        for seq in range(1, committed + pending + 1):
            store.append_event(session_id, seq, "t1", "result/delta", {"text": f"{seq} "})
            store.append_message(session_id, "t1", user_text(f"message {seq}"))
            if seq == committed:
                store.commit()
        print("ready", flush=True)
    elif command == "race":
        go = Path(args[1])
        while not go.exists():
            time.sleep(0.001)
        try:
            store.begin_turn(session_id, args[0])
            print("won", flush=True)
        except ParleyError as exc:
            print(exc.code.value, flush=True)
    elif command == "append":
        for seq in range(1, int(args[0]) + 1):
            store.append_event(session_id, seq, "t1", "result/delta", {"text": "x"})
            if seq % 10 == 0:
                store.commit()
        store.close()
        return
    _wait_forever()


if __name__ == "__main__":
    main(*sys.argv[1:])
