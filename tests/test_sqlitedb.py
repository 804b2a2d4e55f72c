"""The shared SQLite helper: several processes opening one fresh database at once all succeed.

``chatref serve --workers N`` and several instances on one data folder open the conversation
store and the index together on first start; each process must either apply the migrations or
see them applied, never fail with "table ... already exists" or "database is locked".
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from chatref.sqlitedb import Migrations, connect

PROCESSES = 8
ROUNDS = 4  # fresh databases per test: one round alone loses the race only now and then

_CHILD = """
import asyncio, sys, time
from pathlib import Path
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.store.sqlite_store import SqliteConversationStore

folder, kind, me, processes, rounds = Path(sys.argv[1]), sys.argv[2], *map(int, sys.argv[3:])

async def open_store(database: Path) -> None:
    store = await SqliteConversationStore.open(database)
    await store.aclose()

for round in range(rounds):
    # A barrier made of files: every process starts this round's open at (nearly) one instant.
    (folder / f"ready-{round}-{me}").touch()
    deadline = time.monotonic() + 60
    while len(list(folder.glob(f"ready-{round}-*"))) < processes:
        if time.monotonic() > deadline:
            sys.exit("barrier timed out")
        time.sleep(0.0005)
    database = folder / f"{kind}-{round}.sqlite"
    try:  # a failure is reported, and this process still keeps its place in the next barrier
        if kind == "store":
            asyncio.run(open_store(database))
        else:
            SqliteIndex.open(database, embedder_name="e", dimension=4).close()
    except Exception as exc:
        failed = f"round {round}: {type(exc).__name__}: {exc}"
        print(failed, file=sys.stderr)
sys.exit(1 if "failed" in globals() else 0)
"""


def _open_together(folder: Path, kind: str) -> list[tuple[int, str]]:
    """Run PROCESSES children that open ROUNDS fresh databases together; (status, stderr) each."""
    script = folder / "child.py"
    script.write_text(_CHILD)
    children = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(script), str(folder), kind, str(n), str(PROCESSES), str(ROUNDS)],
            stderr=subprocess.PIPE, text=True,
        )
        for n in range(PROCESSES)
    ]
    results = []
    for child in children:
        _, stderr = child.communicate(timeout=240)
        results.append((child.returncode, stderr))
    return results


@pytest.mark.parametrize("kind", ["store", "index"])
def test_processes_opening_a_fresh_database_together_all_succeed(
    tmp_path: Path, kind: str
) -> None:
    results = _open_together(tmp_path, kind)
    failures = [stderr.strip().splitlines()[-1] for status, stderr in results if status != 0]
    assert failures == []
    table = "_migrations" if kind == "store" else "migrations"
    for round in range(ROUNDS):
        conn = sqlite3.connect(tmp_path / f"{kind}-{round}.sqlite")
        try:
            names = [row[0] for row in conn.execute(f"SELECT name FROM {table}")]  # noqa: S608
        finally:
            conn.close()
        assert len(names) == len(set(names)) > 0


def test_connect_sets_our_pragmas(tmp_path: Path) -> None:
    conn = connect(tmp_path / "new" / "db.sqlite", synchronous="NORMAL", busy_timeout_s=2.5)
    try:
        pragmas = {name: conn.execute(f"PRAGMA {name}").fetchone()[0]
                   for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")}
    finally:
        conn.close()
    assert pragmas == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1,
                       "busy_timeout": 2500}


def test_a_migration_another_process_applied_meanwhile_is_not_run_again(tmp_path: Path) -> None:
    """The re-check under the write lock: a stale list of applied names does not matter."""
    runs: list[str] = []

    class StaleView(Migrations):
        def applied(self, conn: sqlite3.Connection) -> list[str]:
            super().applied(conn)
            return []  # as read just before another process applied everything

    schema = StaleView("_migrations")

    @schema
    def m001_table(conn: sqlite3.Connection) -> None:
        runs.append("m001")
        conn.execute("CREATE TABLE t (id INTEGER)")

    path = tmp_path / "db.sqlite"
    first, second = connect(path), connect(path)
    try:
        assert schema.apply(first) == ["m001_table"]
        assert schema.apply(second) == []
    finally:
        first.close()
        second.close()
    assert runs == ["m001"]


def test_a_name_registered_twice_is_refused() -> None:
    schema = Migrations("_migrations")

    def m001(conn: sqlite3.Connection) -> None:
        pass

    schema(m001)
    with pytest.raises(ValueError, match="m001 is registered twice"):
        schema(m001)
