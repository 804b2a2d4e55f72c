"""Ordered, named schema migrations for the SQLite conversation store.

Each migration is a function registered with ``@migration``; ``migrate`` applies, in order, the
ones whose name is not yet in the ``_migrations`` table, each in its own transaction together
with the row that records it. Never edit or reorder a migration that has shipped: add a new one.

>>> conn = sqlite3.connect(":memory:", isolation_level=None)
>>> migrate(conn)
['m001_conversations', 'm002_citations_and_feedback', 'm003_health']
>>> migrate(conn)
[]
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m001_conversations(conn: sqlite3.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            title TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX conversations_by_user ON conversations (user_id, updated_at)")
    conn.execute(
        """
        CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            content TEXT NOT NULL,
            status TEXT NOT NULL,
            finish_reason TEXT,
            model TEXT,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            UNIQUE (conversation_id, seq)
        )
        """
    )


@migration
def m002_citations_and_feedback(conn: sqlite3.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE citations (
            message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            chunk_id TEXT NOT NULL,
            doc_id TEXT NOT NULL,
            source TEXT NOT NULL,
            title TEXT NOT NULL,
            page INTEGER,
            section TEXT,
            text TEXT NOT NULL,
            PRIMARY KEY (message_id, number)
        )
        """
    )
    conn.execute(
        """
        CREATE TABLE feedback (
            message_id TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
            rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
            comment TEXT,
            created_at REAL NOT NULL
        )
        """
    )


@migration
def m003_health(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE _health (id INTEGER PRIMARY KEY, checked_at REAL NOT NULL)")


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    return [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply the pending migrations in order; return the names applied now.

    ``conn`` must be in autocommit mode (``isolation_level=None``) so that each migration and its
    record commit together.
    """
    done = set(applied_migrations(conn))
    applied: list[str] = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            fn(conn)
            conn.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, time.time())
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        applied.append(name)
    return applied
