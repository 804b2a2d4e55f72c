"""SQLite the way chatref uses it: one ``connect`` with our pragmas, one migrations runner.

Both embedded databases (the conversation store and the index) open their files here, so they
agree on WAL mode, the busy timeout and how a schema is brought up to date. Several processes
(``chatref serve --workers N``, several instances on one folder) may open a fresh file at the
same instant; ``Migrations.apply`` re-reads what is applied inside its ``BEGIN IMMEDIATE``
transaction, so each migration runs exactly once and the others see it done.

A ``Migrations`` object is an ordered registry of named functions, as sqlite-utils'
``Migrations`` that simonw/llm uses; never edit or reorder one that has shipped, add a new one:

>>> schema = Migrations("_migrations")
>>> @schema
... def m001_notes(conn: sqlite3.Connection) -> None:
...     conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
>>> conn = sqlite3.connect(":memory:", isolation_level=None)
>>> schema.apply(conn)
['m001_notes']
>>> schema.apply(conn)
[]
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

Migration = Callable[[sqlite3.Connection], None]
Synchronous = Literal["NORMAL", "FULL"]


def connect(
    path: Path, *, synchronous: Synchronous = "FULL", busy_timeout_s: float = 30.0,
    create: bool = True,
) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode (transactions are explicit), WAL, foreign keys on.

    ``synchronous``: FULL fsyncs the log at every commit, so an acknowledged write survives a
    power cut; NORMAL survives a process crash only (enough for an index that can be rebuilt).
    ``create=False`` opens a file that another connection has already set up (no WAL switch).
    The connection may be used from any thread, one at a time (callers hold a lock or a
    one-thread executor). Raises ``sqlite3.Error`` or ``OSError``; callers name the file.
    """
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s
    )
    try:
        # The busy timeout comes first: switching to WAL takes a lock another process may hold.
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        if create:
            mode = _switch_to_wal(conn, busy_timeout_s)
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"cannot enable WAL (journal mode is {mode})")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _switch_to_wal(conn: sqlite3.Connection, busy_timeout_s: float) -> str:
    """``PRAGMA journal_mode = WAL``, retried while another process holds the fresh file: in
    rollback-journal mode SQLite answers "database is locked" at once, without its busy handler,
    when waiting could deadlock (several processes creating the file together)."""
    deadline = time.monotonic() + busy_timeout_s
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class Migrations:
    """Ordered, named schema migrations, recorded in ``table`` of the database they change.

    Register with the instance as a decorator (in order); ``apply`` runs the pending ones.
    """

    def __init__(self, table: str) -> None:
        if not table.replace("_", "").isalnum():
            raise ValueError(f"migrations table name {table!r} must be a plain identifier")
        self.table = table
        self._steps: list[tuple[str, Migration]] = []

    def __call__(self, fn: Migration) -> Migration:
        name = fn.__name__
        if name in self.names():
            raise ValueError(f"migration {name} is registered twice")
        self._steps.append((name, fn))
        return fn

    def names(self) -> list[str]:
        return [name for name, _ in self._steps]

    def applied(self, conn: sqlite3.Connection) -> list[str]:
        """Names already applied to ``conn``'s database, in the order they were applied."""
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table}"
            " (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        return [row[0] for row in conn.execute(f"SELECT name FROM {self.table} ORDER BY rowid")]  # noqa: S608

    def apply(self, conn: sqlite3.Connection) -> list[str]:
        """Apply the pending migrations in order, each in its own transaction with its record.

        Returns the names this call applied. ``conn`` must be in autocommit mode
        (``isolation_level=None``). Each migration re-checks, under the write lock that
        ``BEGIN IMMEDIATE`` takes, whether another connection applied it meanwhile. A migration
        runs one statement per ``execute`` (``executescript`` would commit its transaction).
        """
        done = set(self.applied(conn))
        applied: list[str] = []
        for name, fn in self._steps:
            if name in done:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                recheck = f"SELECT 1 FROM {self.table} WHERE name = ?"  # noqa: S608
                ran = conn.execute(recheck, (name,)).fetchone() is None
                if ran:
                    fn(conn)
                    conn.execute(
                        f"INSERT INTO {self.table} (name, applied_at) VALUES (?, ?)",  # noqa: S608
                        (name, datetime.now(UTC).isoformat()),
                    )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            if ran:
                applied.append(name)
        return applied
