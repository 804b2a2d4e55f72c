"""The embedded index: one SQLite file of chunks and float32 vectors, plus BM25 postings and an
HNSW graph in memory.

One document is replaced in one transaction, so a reader (WAL mode) sees either the old or the
new version of it, never half; an ingest killed mid-way leaves every committed document whole.
The file records which embedder built it; opening it with another raises
``EmbedderMismatchError``.

Vector search goes through an HNSW graph of the vectors (retrieval/ann.py), saved beside the file
and rebuilt from it when missing or unreadable; a small index has no graph (an exact scan of its
vectors, read from the file when opened). Every chunk insert and delete is recorded in a
change log (``vector_log``, by triggers); a graph knows the last log entry it contains, and when
another connection has changed the index (a generation counter in ``meta``) it applies the
entries after that. An ingest saves the graph when it finishes and drops the log entries the saved
file contains (``meta.vector_log_floor``); a graph older than the floor reloads the file.

Keyword search works the same way: BM25 over postings kept in memory (retrieval/keyword.py),
built from the chunks table when no saved file can be caught up, saved beside the index with the
graph (``<index>.keywords-<seq>.npz``) and brought up to date from the same change log.

For example (an illustration, not run as a doctest)::

    index = SqliteIndex.open(Path("data/index.sqlite"), embedder_name="wordllama/l2_supercat",
                             dimension=256)
    await index.keyword_search("key rotation", limit=5)
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chatref import sqlitedb
from chatref.errors import EmbedderMismatchError, IndexError_
from chatref.retrieval.ann import EXACT_SEARCH_BELOW, EXPANSION_SEARCH, Ids, VectorAnn
from chatref.retrieval.keyword import K1, STEMMER, B, KeywordPostings
from chatref.retrieval.text import query_terms
from chatref.retrieval.types import ChunkRecord, DocumentRecord, Passage, Vectors
from chatref.sqlitedb import Migrations

# BM25 column weights for (title, section, text); tuned on SciFact train (docs/benchmarks.md).
BM25_WEIGHTS = (2.0, 2.0, 1.0)
# Below this many chunks no keyword postings file is saved: building them from the rows when
# the index is opened takes about a second.
SAVE_KEYWORDS_FROM = 20_000
# An ingest saves the vector graph once this many chunk changes are logged since the saved one:
# smaller changes are applied from the log when an index is opened (rewriting a million-chunk
# graph's 600 MB for one changed document would cost more than that).
SAVE_GRAPH_AFTER_CHANGES = 1000


_PASSAGES_SQL = (
    "SELECT c.id, c.doc_id, d.source, c.title, c.page, c.section, c.text, c.ordinal"
    " FROM chunks c JOIN documents d USING (doc_id) WHERE c.id IN "
)


MIGRATIONS = Migrations("migrations")


@MIGRATIONS
def m001_initial(conn: sqlite3.Connection) -> None:
    # One statement per execute(): executescript() would COMMIT the migration's transaction.
    for statement in (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE documents (
            doc_id TEXT PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            title TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            chunk_count INTEGER NOT NULL,
            ingested_at TEXT NOT NULL
        )""",
        """CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            title TEXT NOT NULL,
            page INTEGER,
            section TEXT,
            text TEXT NOT NULL,
            vector BLOB NOT NULL,
            UNIQUE (doc_id, ordinal)
        )""",
        """CREATE VIRTUAL TABLE chunks_fts USING fts5(
            title, section, text, content='chunks', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        )""",
        """CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
            INSERT INTO chunks_fts(rowid, title, section, text)
            VALUES (new.id, new.title, coalesce(new.section, ''), new.text);
        END""",
        """CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
            INSERT INTO chunks_fts(chunks_fts, rowid, title, section, text)
            VALUES ('delete', old.id, old.title, coalesce(old.section, ''), old.text);
        END""",
        "INSERT INTO meta (key, value) VALUES ('generation', '0')",
    ):
        conn.execute(statement)


@MIGRATIONS
def m002_vector_log(conn: sqlite3.Connection) -> None:
    # AUTOINCREMENT: sequence numbers are never reused, even after the log is compacted.
    for statement in (
        """CREATE TABLE vector_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            chunk_id INTEGER NOT NULL,
            added INTEGER NOT NULL
        )""",
        """CREATE TRIGGER chunks_log_ai AFTER INSERT ON chunks BEGIN
            INSERT INTO vector_log (chunk_id, added) VALUES (new.id, 1);
        END""",
        """CREATE TRIGGER chunks_log_ad AFTER DELETE ON chunks BEGIN
            INSERT INTO vector_log (chunk_id, added) VALUES (old.id, 0);
        END""",
        "INSERT INTO meta (key, value) VALUES ('vector_log_floor', '0')",
    ):
        conn.execute(statement)


@MIGRATIONS
def m003_drop_fts(conn: sqlite3.Connection) -> None:
    # Keyword search is BM25 over postings in memory (retrieval/keyword.py): FTS5's index, the
    # largest cost of a chunk insert, goes. The file keeps its size (the pages are free for
    # reuse); `VACUUM` would shrink it.
    for statement in (
        "DROP TRIGGER IF EXISTS chunks_ai",
        "DROP TRIGGER IF EXISTS chunks_ad",
        "DROP TABLE IF EXISTS chunks_fts",
    ):
        conn.execute(statement)


@MIGRATIONS
def m004_owner(conn: sqlite3.Connection) -> None:
    # The vector graph and keyword postings saved beside the index name the index they were
    # built from (``owner``), so that files left beside a deleted and recreated index, or
    # copied from another index, are never taken for its own (a restored backup of the same
    # index has its owner: docs/architecture.md). Files saved before this migration name none:
    # beside an index that already had rows they are its own, as they were before.
    used = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'vector_log'").fetchone()
    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
        ("owner", uuid.uuid4().hex), ("unnamed_files_are_mine", "1" if used and used[0] else "0")])


def _connect(path: Path) -> sqlite3.Connection:
    # WAL + NORMAL: durable across process crashes; the index can be rebuilt from its sources.
    return sqlitedb.connect(path, synchronous="NORMAL")


@functools.cache
def _single_threaded_blas() -> None:
    """One BLAS thread per process: searches already run concurrently (one per request), and on
    a loaded 2-core machine OpenBLAS's second thread made the vector search's 95th percentile
    three to four times worse (docs/benchmarks.md)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


@contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One read transaction: the generation, the log and the rows read inside it agree."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


def _load_newest(files: Sequence[tuple[int, Path]], load: Callable[[Path], None],
                 floor: int) -> int | None:
    """The log sequence of the newest of ``files`` (newest first, as saved beside the index)
    that the log can bring up to date (at or after ``floor``) and that ``load`` accepts; a
    file it refuses (``ValueError``: truncated, another format) is deleted, to be rebuilt."""
    for seq, file in files:
        if seq < floor:
            break
        try:
            load(file)
        except ValueError:
            file.unlink(missing_ok=True)
            continue
        return seq
    return None


class SqliteIndex:
    """The embedded ``SearchIndex``: ``PassageIndex`` and ``DocumentWriter`` (retrieval/types.py).

    The ``*_sync`` and plain methods below are the synchronous API (tests, benchmarks); the
    Protocols' async methods at the end delegate to them.
    """

    def __init__(
        self, conn: sqlite3.Connection, path: Path, dimension: int, embedder_name: str = "", *,
        bm25_weights: tuple[float, float, float] = BM25_WEIGHTS,
        ann: VectorAnn | None = None, keywords: KeywordPostings | None = None,
    ) -> None:
        self._conn = conn  # writes and keyword search, under _lock
        # Vector search reads through its own connection (WAL readers do not block each other),
        # so the two halves of a hybrid search never wait for one another.
        self._vconn = _connect(path)
        self._vlock = threading.Lock()
        self.path = path
        self.dimension = dimension
        self.embedder_name = embedder_name
        self._lock = threading.RLock()
        # "is not None": an empty VectorAnn is falsy (it has a length), and "ann or ..." dropped
        # the settings open() passed (search depth, threshold) for the defaults.
        self._ann = ann if ann is not None else VectorAnn(dimension)
        self._ann_seq = -1  # the last vector_log entry in the graph; -1: not loaded yet
        self._ann_generation = -1
        self._keywords = keywords if keywords is not None else KeywordPostings(bm25_weights)
        self._keywords_seq = -1  # the last vector_log entry in the postings; -1: not loaded yet
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        self._owner = meta["owner"]  # written into the files saved beside the index
        self._owners = (self._owner, "") if meta["unnamed_files_are_mine"] == "1" \
            else (self._owner,)  # the files it loads
        self._keywords_generation = -1

    # ---- opening ------------------------------------------------------------------------
    @classmethod
    def open(
        cls, path: Path, *, embedder_name: str, dimension: int,
        bm25_weights: tuple[float, float, float] = BM25_WEIGHTS,
        exact_search_below: int = EXACT_SEARCH_BELOW, expansion_search: int = EXPANSION_SEARCH,
        ann_threads: int = 0, bm25_k1: float = K1, bm25_b: float = B, stemmer: str = STEMMER,
    ) -> SqliteIndex:
        """Open or create the index at ``path`` for the embedder ``embedder_name``.

        ``bm25_weights`` (title, section, text), ``bm25_k1``, ``bm25_b``, ``stemmer``,
        ``exact_search_below`` (vector search scans every vector below this many) and
        ``expansion_search`` (the graph's search depth) are the tuned defaults; benchmarks and
        tests pass others. ``ann_threads`` builds the graph on that many threads (0: every
        core).
        """
        _single_threaded_blas()
        try:
            conn = _connect(path)
        except (sqlite3.DatabaseError, OSError) as exc:
            raise IndexError_(f"cannot open index {path}: {exc}") from exc
        try:
            MIGRATIONS.apply(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise IndexError_(f"cannot open index {path}: {exc}") from exc
        built = dict(conn.execute("SELECT key, value FROM meta"))
        wanted = f"{embedder_name} (dimension {dimension})"
        if "embedder" not in built:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                [("embedder", embedder_name), ("dimension", str(dimension))],
            )
            conn.execute("COMMIT")
            built = dict(conn.execute("SELECT key, value FROM meta"))
        have = f"{built['embedder']} (dimension {built['dimension']})"
        if have != wanted:
            conn.close()
            raise EmbedderMismatchError(path, have, wanted)
        ann = VectorAnn(dimension, exact_search_below=exact_search_below, threads=ann_threads,
                        expansion_search=expansion_search)
        keywords = KeywordPostings(bm25_weights, k1=bm25_k1, b=bm25_b, stemmer=stemmer)
        return cls(conn, path, dimension, embedder_name,
                   ann=ann, keywords=keywords)

    def close(self) -> None:
        with self._lock, self._vlock:
            self._conn.close()
            self._vconn.close()

    # ---- writing (ingestion) --------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def document_hashes(self) -> dict[str, str]:
        """path -> content hash of every indexed document."""
        with self._lock:
            return dict(self._conn.execute("SELECT path, content_hash FROM documents"))

    def replace_document(
        self, document: DocumentRecord, chunks: Sequence[ChunkRecord], vectors: Vectors
    ) -> None:
        """Insert or replace one document and all its chunks, atomically."""
        self.replace_documents([(document, chunks, vectors)])

    def replace_documents(
        self, batch: Sequence[tuple[DocumentRecord, Sequence[ChunkRecord], Vectors]]
    ) -> None:
        """Insert or replace several documents with all their chunks in one transaction."""
        for _, chunks, vectors in batch:
            if len(chunks) != len(vectors):
                raise ValueError("one vector per chunk")
            if len(chunks) and vectors.shape[1] != self.dimension:
                raise ValueError(
                    f"vectors have dimension {vectors.shape[1]}, not {self.dimension}")
        now = datetime.now(UTC).isoformat()
        with self._write() as conn:
            for document, chunks, vectors in batch:
                matrix = np.ascontiguousarray(vectors, dtype=np.float32)
                conn.execute("DELETE FROM chunks WHERE doc_id = ?", (document.doc_id,))
                conn.execute("DELETE FROM documents WHERE path = ?", (document.path,))
                conn.execute(
                    "INSERT INTO documents (doc_id, path, source, title, content_hash,"
                    " chunk_count, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (document.doc_id, document.path, document.source, document.title,
                     document.content_hash, len(chunks), now),
                )
                conn.executemany(
                    "INSERT INTO chunks (doc_id, ordinal, title, page, section, text, vector)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(document.doc_id, c.ordinal, c.title, c.page, c.section, c.text,
                      matrix[i].tobytes()) for i, c in enumerate(chunks)],
                )

    def remove_documents(self, paths: Sequence[str]) -> int:
        """Remove the documents with these paths; returns how many existed."""
        removed = 0
        with self._write() as conn:
            for path in paths:
                row = conn.execute(
                    "SELECT doc_id FROM documents WHERE path = ?", (path,)
                ).fetchone()
                if row:
                    conn.execute("DELETE FROM chunks WHERE doc_id = ?", (row[0],))
                    conn.execute("DELETE FROM documents WHERE doc_id = ?", (row[0],))
                    removed += 1
        return removed

    # ---- reading ----------------------------------------------------------------------------
    def _generation(self, conn: sqlite3.Connection | None = None) -> int:
        sql = "SELECT value FROM meta WHERE key = 'generation'"
        row = (conn or self._conn).execute(sql).fetchone()
        return int(row[0])

    def stats(self) -> dict[str, int]:
        with self._lock:
            docs = self._conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            chunks = self._conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return {"documents": int(docs), "chunks": int(chunks)}

    async def count_chunks(self) -> int:
        return self.stats()["chunks"]

    def _passages(self, scored: Sequence[tuple[int, float]], mode: str,
                  conn: sqlite3.Connection | None = None) -> list[Passage]:
        if not scored:
            return []
        ids = [chunk_id for chunk_id, _ in scored]
        marks = ",".join("?" * len(ids))
        # Only "?" placeholders are interpolated into the statement.
        sql = _PASSAGES_SQL + f"({marks})"
        rows = (conn or self._conn).execute(
            sql,
            ids,
        ).fetchall()
        by_id = {row[0]: row for row in rows}
        passages = []
        for chunk_id, score in scored:
            row = by_id.get(chunk_id)
            if row is None:
                continue  # removed between the two queries
            passages.append(Passage(
                chunk_id=f"{row[1]}:{row[7]}", doc_id=row[1], source=row[2], title=row[3],
                page=row[4], section=row[5], text=row[6], score=score, scores={mode: score},
            ))
        return passages

    def _load_saved_keywords(self, floor: int) -> bool:
        """Load the newest saved postings that the log can bring up to date."""
        seq = _load_newest(KeywordPostings.files(self.path),
                           functools.partial(self._keywords.load, owners=self._owners), floor)
        if seq is None:
            return False
        self._keywords_seq = seq
        return True

    def _catch_up_keywords(self) -> None:
        """Under ``_lock``: bring the keyword postings up to date with the SQLite file (load or
        build them on first use, then apply the change log after them)."""
        conn = self._conn
        if self._keywords_seq >= 0 and self._generation(conn) == self._keywords_generation:
            return
        built = False
        with _snapshot(conn):
            generation = self._generation(conn)
            floor = int(conn.execute(
                "SELECT value FROM meta WHERE key = 'vector_log_floor'").fetchone()[0])
            if self._keywords_seq < floor and not self._load_saved_keywords(floor):
                self._keywords_seq = self._log_position(conn)
                self._keywords.build(conn.execute(
                    "SELECT id, title, section, text FROM chunks ORDER BY id"))
                built = True
            removed = conn.execute(
                "SELECT DISTINCT chunk_id FROM vector_log WHERE seq > ? AND added = 0",
                (self._keywords_seq,)).fetchall()
            self._keywords.remove(r[0] for r in removed)
            self._keywords.add(conn.execute(
                "SELECT id, title, section, text FROM chunks WHERE id IN"
                " (SELECT chunk_id FROM vector_log WHERE seq > ? AND added = 1)",
                (self._keywords_seq,)).fetchall())
            self._keywords_seq = max(self._keywords_seq, self._log_position(conn))
            self._keywords_generation = generation
        if built and len(self._keywords) >= SAVE_KEYWORDS_FROM:
            self._keywords.save(self.path, self._keywords_seq, self._owner)

    def _save_keywords(self) -> int:
        """Under ``_lock``: bring the postings up to date and save them (a small index's are
        not: they are built from its rows when opened); returns their log position."""
        if self._keywords_seq < 0:
            # Not used in this process: a small index's would be built only to be thrown away
            # (whoever searches next builds them from the rows), which was most of a 10,000-file
            # ingest's finish (docs/benchmarks.md, "Ingestion throughput", fourth round).
            with _snapshot(self._conn) as conn:
                if conn.execute("SELECT count(*) FROM chunks").fetchone()[0] < SAVE_KEYWORDS_FROM:
                    self._drop_saved_keywords()
                    return self._log_position(conn)
        self._catch_up_keywords()
        if len(self._keywords) >= SAVE_KEYWORDS_FROM:
            # Not twice: a build on first use already saved the file for this position.
            if self._keywords_seq not in [seq for seq, _ in KeywordPostings.files(self.path)]:
                self._keywords.save(self.path, self._keywords_seq, self._owner)
        else:
            self._drop_saved_keywords()
        return self._keywords_seq

    def _drop_saved_keywords(self) -> None:
        for _, file in KeywordPostings.files(self.path):
            file.unlink(missing_ok=True)

    def keyword_search_sync(self, query: str, limit: int) -> list[Passage]:
        if not query_terms(query):
            return []
        with self._lock:
            self._catch_up_keywords()
            return self._passages(self._keywords.search(query, limit), "keyword")

    async def keyword_search(self, query: str, limit: int) -> list[Passage]:
        # In a worker thread: numpy and SQLite release the GIL, so the event loop keeps relaying
        # other chats' tokens meanwhile, and a hybrid search runs its vector half in parallel.
        return await asyncio.to_thread(self.keyword_search_sync, query, limit)

    # ---- vector search: the HNSW graph and its catch-up from the change log -------------------
    def _log_position(self, conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'vector_log'").fetchone()
        return int(row[0]) if row else 0

    def _rebuild_ann(self, conn: sqlite3.Connection) -> None:
        """Build the graph from every chunk (inside the caller's read transaction)."""
        ann = self._ann.empty()
        seq = self._log_position(conn)
        self._add_rows(ann, conn.execute("SELECT id, vector FROM chunks"))
        self._ann, self._ann_seq = ann, seq

    def _add_rows(self, ann: VectorAnn, cursor: sqlite3.Cursor, batch: int = 50_000) -> None:
        while rows := cursor.fetchmany(batch):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
            ann.add(ids, vectors.reshape(len(rows), self.dimension))

    def _load_saved_ann(self, floor: int) -> bool:
        """Load the newest saved graph that the log can bring up to date."""
        seq = _load_newest(VectorAnn.files(self.path),
                           functools.partial(self._ann.load, owners=self._owners), floor)
        if seq is None:
            return False
        self._ann_seq = seq
        return True

    def _catch_up(self) -> None:
        """Under ``_vlock``: bring the graph up to date with the SQLite file."""
        conn = self._vconn
        if self._generation(conn) == self._ann_generation:
            return
        with _snapshot(conn):
            generation = self._generation(conn)
            floor = int(conn.execute(
                "SELECT value FROM meta WHERE key = 'vector_log_floor'").fetchone()[0])
            if self._ann_seq < floor and not self._load_saved_ann(floor):
                self._rebuild_ann(conn)  # the saved graph was removed or spoilt
            removed = conn.execute(
                "SELECT DISTINCT chunk_id FROM vector_log WHERE seq > ? AND added = 0",
                (self._ann_seq,)).fetchall()
            self._ann.remove(np.array([r[0] for r in removed], dtype=np.int64))
            self._add_rows(self._ann, conn.execute(
                "SELECT id, vector FROM chunks WHERE id IN"
                " (SELECT chunk_id FROM vector_log WHERE seq > ? AND added = 1)",
                (self._ann_seq,)))
            self._ann_seq = max(self._ann_seq, self._log_position(conn))
            self._ann_generation = generation

    def save_vectors(self) -> Path | None:
        """Bring the graph and the keyword postings up to date, save them beside the index and
        drop the log entries both hold (ingestion calls this when it finishes; opening a large
        index is then fast). A small index has no graph: no file is saved (``None``) and the log
        is dropped all the same, since opening it reads every row anyway."""
        with self._vlock:
            self._catch_up()
            saved = self._ann.save(self.path, self._ann_seq, self._owner)
            seq = self._ann_seq
        with self._lock:
            seq = min(seq, self._save_keywords())
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("DELETE FROM vector_log WHERE seq <= ?", (seq,))
                self._conn.execute(
                    "UPDATE meta SET value = ? WHERE key = 'vector_log_floor'"
                    " AND CAST(value AS INTEGER) < ?", (str(seq), seq))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return saved

    def _ensure_ann(self) -> None:
        """Under ``_vlock``: on first use load the saved graph, or build it (and save it when
        the index is large enough to have one); then catch up with the log."""
        if self._ann_seq < 0:
            floor = int(self._vconn.execute(
                "SELECT value FROM meta WHERE key = 'vector_log_floor'").fetchone()[0])
            if not self._load_saved_ann(floor):
                with _snapshot(self._vconn) as conn:
                    self._ann_generation = self._generation(conn)
                    self._rebuild_ann(conn)
                if self._ann.has_graph:
                    self._ann.save(self.path, self._ann_seq, self._owner)
        self._catch_up()

    def nearest_chunks(self, vector: Vectors, limit: int) -> tuple[Ids, npt.NDArray[np.float32]]:
        """The ids and cosine scores of the ``limit`` chunks nearest ``vector``, best first."""
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape[0] != self.dimension:
            raise ValueError(f"query vector has dimension {query.shape[0]}, not {self.dimension}")
        with self._vlock:
            self._ensure_ann()
            return self._ann.search(query, limit)

    def set_search_depth(self, expansion_search: int) -> None:
        """The graph's search depth from now on (benchmarks compare depths on one index)."""
        with self._vlock:
            self._ann.expansion_search = expansion_search

    def vector_search_sync(self, vector: Vectors, limit: int) -> list[Passage]:
        ids, scores = self.nearest_chunks(vector, limit)
        scored = [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]
        with self._vlock:
            return self._passages(scored, "vector", self._vconn)

    async def vector_search(self, vector: Vectors, limit: int) -> list[Passage]:
        return await asyncio.to_thread(self.vector_search_sync, vector, limit)

    def warm_sync(self) -> None:
        """Load (or build) the vector graph and the keyword postings now, so that the first
        search does not wait for them: the web app calls this when it starts."""
        with self._vlock:
            self._ensure_ann()
        with self._lock:
            self._catch_up_keywords()

    async def warm(self) -> None:
        await asyncio.to_thread(self.warm_sync)

    # ---- the DocumentWriter and SearchIndex Protocols ----------------------------------------
    async def known_documents(self) -> dict[str, str]:
        return self.document_hashes()

    async def write_document(
        self, document: DocumentRecord, chunks: Sequence[ChunkRecord], vectors: Vectors
    ) -> None:
        await asyncio.to_thread(self.replace_document, document, chunks, vectors)

    async def write_documents(
        self, batch: Sequence[tuple[DocumentRecord, Sequence[ChunkRecord], Vectors]]
    ) -> None:
        # In a worker thread: SQLite releases the GIL, so the next batch is embedded meanwhile.
        await asyncio.to_thread(self.replace_documents, batch)

    async def delete_documents(self, paths: Sequence[str]) -> int:
        return self.remove_documents(paths)

    async def finish_ingest(self, chunks_written: int) -> None:
        if chunks_written and self._log_length() >= SAVE_GRAPH_AFTER_CHANGES:
            await asyncio.to_thread(self.save_vectors)

    def _log_length(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM vector_log").fetchone()[0])

    @property
    def backend(self) -> dict[str, str]:
        return {"kind": "sqlite", "path": str(self.path)}

    async def ensure_schema(self) -> str:
        return f"ready (migrated when opened): {self.path}"

    async def aclose(self) -> None:
        self.close()
