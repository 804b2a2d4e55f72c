"""Ordered, named schema migrations for the SQLite conversation store.

Each migration is a function registered with ``@MIGRATIONS``; ``MIGRATIONS.apply`` (the runner
shared with the index, ``chatref.sqlitedb``) applies, in order, the ones whose name is not yet in
the ``_migrations`` table, each in its own transaction together with the row that records it.
Never edit or reorder a migration that has shipped: add a new one.

>>> conn = sqlite3.connect(":memory:", isolation_level=None)
>>> MIGRATIONS.apply(conn)
['m001_conversations', 'm002_citations_and_feedback', 'm003_health']
>>> MIGRATIONS.apply(conn)
[]
"""

from __future__ import annotations

import sqlite3

from chatref.sqlitedb import Migrations

MIGRATIONS = Migrations("_migrations")


@MIGRATIONS
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


@MIGRATIONS
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


@MIGRATIONS
def m003_health(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE _health (id INTEGER PRIMARY KEY, checked_at REAL NOT NULL)")
