"""The SQLite schema, as an ordered list of migrations; `PRAGMA user_version` counts those applied.

Never edit a migration that has shipped: append a new one. Each runs in the same transaction as
the version bump, so a database is always at exactly one known version.
"""

from __future__ import annotations

import sqlite3

from parley.store.errors import StoreError

MIGRATIONS: tuple[str, ...] = (
    # 1: sessions, their tags, messages, turns (the turn lease lives here) and notifications.
    """
    CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        cwd TEXT NOT NULL,
        profile TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        permission_mode TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        title TEXT,
        tags TEXT NOT NULL,
        additional_directories TEXT NOT NULL,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL,
        forked_from TEXT,
        remembered TEXT NOT NULL
    );
    CREATE INDEX sessions_newest ON sessions (created_at DESC, session_id DESC);
    CREATE INDEX sessions_cwd_newest ON sessions (cwd, created_at DESC, session_id DESC);

    -- One row per (session, tag), with created_at copied so a tag filter pages in index order.
    CREATE TABLE session_tags (
        tag TEXT NOT NULL,
        created_at TEXT NOT NULL,
        session_id TEXT NOT NULL REFERENCES sessions ON DELETE CASCADE,
        PRIMARY KEY (tag, created_at, session_id)
    ) WITHOUT ROWID;
    CREATE INDEX session_tags_by_session ON session_tags (session_id);

    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions ON DELETE CASCADE,
        turn_id TEXT,
        body TEXT NOT NULL
    );
    CREATE INDEX messages_by_session ON messages (session_id, id);

    -- owner is "pid:start-token" of the process running the turn, while it is running.
    CREATE TABLE turns (
        session_id TEXT NOT NULL REFERENCES sessions ON DELETE CASCADE,
        turn_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'interrupted')),
        owner TEXT,
        result TEXT,
        PRIMARY KEY (session_id, turn_id)
    );
    CREATE UNIQUE INDEX turns_by_number ON turns (session_id, number);
    -- The turn lease: at most one running turn per session, whichever process runs it.
    CREATE UNIQUE INDEX turns_one_running ON turns (session_id) WHERE status = 'running';

    CREATE TABLE events (
        session_id TEXT NOT NULL REFERENCES sessions ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        turn_id TEXT NOT NULL,
        method TEXT NOT NULL,
        params TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
    ) WITHOUT ROWID;
    """,
    # 2: the MCP servers a host gave a session (session/create mcpServers), as JSON.
    """
    ALTER TABLE sessions ADD COLUMN mcp_servers TEXT NOT NULL DEFAULT '[]';
    """,
    # 3: sessions run by an external agent, and that agent's own session id.
    """
    ALTER TABLE sessions ADD COLUMN agent TEXT;
    ALTER TABLE sessions ADD COLUMN agent_session TEXT;
    ALTER TABLE sessions ADD COLUMN agent_fork INTEGER NOT NULL DEFAULT 0;
    """,
    # 4: events in arrival order, found by (session, seq) through an index. Many sessions
    # streaming at once append to a few table pages per commit, where the table keyed by
    # (session, seq) rewrote one page per event.
    """
    CREATE TABLE events_by_arrival (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        turn_id TEXT NOT NULL,
        method TEXT NOT NULL,
        params TEXT NOT NULL
    );
    INSERT INTO events_by_arrival (session_id, seq, turn_id, method, params)
        SELECT session_id, seq, turn_id, method, params FROM events ORDER BY session_id, seq;
    DROP TABLE events;
    ALTER TABLE events_by_arrival RENAME TO events;
    CREATE UNIQUE INDEX events_by_session ON events (session_id, seq);
    """,
    # 5: events find their session by a small integer key. With a thousand sessions streaming,
    # each event of a batch lands on its own page of the (session, seq) index: with text ids
    # (~30 bytes) an index page held a third as many entries and a batch took 2-3 times as
    # long. AUTOINCREMENT: a key is never given again, so one cached by a process for a session
    # deleted since can never name another session.
    """
    CREATE TABLE session_keys (
        key INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL UNIQUE REFERENCES sessions ON DELETE CASCADE
    );
    INSERT INTO session_keys (session_id) SELECT session_id FROM sessions ORDER BY rowid;
    CREATE TABLE events_by_key (
        id INTEGER PRIMARY KEY,
        session_key INTEGER NOT NULL REFERENCES session_keys ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        turn_id TEXT NOT NULL,
        method TEXT NOT NULL,
        params TEXT NOT NULL
    );
    INSERT INTO events_by_key (id, session_key, seq, turn_id, method, params)
        SELECT e.id, k.key, e.seq, e.turn_id, e.method, e.params
        FROM events e JOIN session_keys k ON k.session_id = e.session_id ORDER BY e.id;
    DROP TABLE events;
    ALTER TABLE events_by_key RENAME TO events;
    CREATE UNIQUE INDEX events_by_session ON events (session_key, seq);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, where: str) -> None:
    """Bring the database up to SCHEMA_VERSION.

    The caller's connection must be in autocommit mode (isolation_level=None).
    """
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version == SCHEMA_VERSION:
        return  # the usual case: no write lock needed
    conn.execute("BEGIN IMMEDIATE")
    try:
        (version,) = conn.execute("PRAGMA user_version").fetchone()  # another may have migrated
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the session store {where} has schema version {version}, newer than this "
                f"Parley understands ({SCHEMA_VERSION}); upgrade Parley or use another "
                "--data-dir"
            )
        for number in range(version, SCHEMA_VERSION):
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit our transaction)."""
    out: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    if pending.strip():
        out.append(pending.strip())
    return out
