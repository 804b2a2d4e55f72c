"""Ingestion: files -> parse -> chunk -> embed -> index, incrementally.

A document whose bytes hash the same as the indexed copy, stored by this ``PIPELINE_VERSION``,
is neither parsed nor embedded again; a changed one is replaced in one transaction; with
``prune`` the documents that vanished from the given paths are removed. One bad file is reported
(path and reason) and skipped; the rest is still indexed.

For example (an illustration, not run as a doctest)::

    report = await ingest_paths([Path("docs")], index, embedder, prune=True)
    report.counts
    # {'added': 12, 'updated': 0, 'unchanged': 0, 'removed': 0, 'failed': 0, 'skipped': 0}
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np

from chatref.ingest.chunking import Chunk, chunk_blocks, embedding_text
from chatref.ingest.discovery import SourceFile, discover
from chatref.ingest.limits import DEFAULT_LIMITS, MB, FileLimits, over
from chatref.ingest.workers import (
    EmbedJob,
    Parsed,
    ParseJob,
    ParsePool,
    PortableEmbedder,
    default_workers,
)
from chatref.retrieval.types import (
    ChunkRecord,
    DocumentRecord,
    DocumentWriter,
    Embedder,
    Vectors,
)

Status = Literal["added", "updated", "unchanged", "removed", "failed", "skipped"]
STATUSES: tuple[Status, ...] = ("added", "updated", "unchanged", "removed", "failed", "skipped")
Progress = Callable[[int, int, str], None]  # (done, total, current source)
T = TypeVar("T")


@dataclass(frozen=True)
class FileOutcome:
    source: str
    status: Status
    chunks: int = 0
    reason: str | None = None


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    elapsed_s: float = 0.0
    # Where the time went, in seconds: parse and chunk are summed over the worker processes (they
    # overlap the rest), and so is embed when the workers embed (else it is this process's);
    # wait is this process waiting for a parsed file; write is the index's transactions (rows,
    # commit), in a thread beside the rest; finish brings the vector graph and the keyword
    # postings up to date and saves them.
    stages_s: dict[str, float] = field(default_factory=dict)

    def add_time(self, stage: str, seconds: float) -> None:
        self.stages_s[stage] = self.stages_s.get(stage, 0.0) + seconds

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for outcome in self.outcomes:
            counts[outcome.status] += 1
        return counts

    @property
    def failures(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def chunks_written(self) -> int:
        return sum(o.chunks for o in self.outcomes if o.status in ("added", "updated"))

    def merged(self, other: IngestReport) -> IngestReport:
        """Both reports' outcomes in one (an ingest of folders and containers together)."""
        return IngestReport(self.outcomes + other.outcomes, self.elapsed_s + other.elapsed_s)

    def to_dict(self) -> dict[str, object]:
        return {
            "counts": self.counts,
            "chunks_written": self.chunks_written,
            "elapsed_s": round(self.elapsed_s, 3),
            "stages_s": {k: round(v, 3) for k, v in self.stages_s.items()},
            "files": [asdict(o) for o in self.outcomes],
        }


# Bump this when a change to parsing, chunking or what is embedded changes the chunks stored for
# the same bytes. Every stored document's version carries it (``stored_version``), so the first
# ingest after an upgrade processes again the files an older chatref stored, instead of keeping
# their old chunks while their bytes are unchanged. 2: fenced code is one block, fenced again in
# every chunk (2026-12-04); 1 (unmarked): before.
PIPELINE_VERSION = 2


def content_hash(data: bytes) -> str:
    """The version of a file's bytes: their sha256, as stored (see ``stored_version``).

    >>> content_hash(b"Rotate it.")[:26]
    'p2:sha256:ede688c5bd88a8e7'
    """
    return stored_version(f"sha256:{hashlib.sha256(data).hexdigest()}")


def stored_version(version: str) -> str:
    """A document's version (of its bytes: a hash, a blob's Content-MD5 or ETag) as the index
    stores it: with the ``PIPELINE_VERSION`` that made its chunks, so that a version stored by
    an older pipeline never matches.

    >>> stored_version("md5:ab12")
    'p2:md5:ab12'
    """
    return f"p{PIPELINE_VERSION}:{version}"


def document_id(path: str) -> str:
    return hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()[:16]


# Chunks embedded in one call (the tokenizer spreads a call over every core), and the least
# written in one transaction: one commit per document made writing five times slower
# (docs/benchmarks.md).
EMBED_BATCH_CHUNKS = 512
WRITE_BATCH_CHUNKS = 512
# When no parsed file is waiting, the chunks at hand are embedded if there are at least this many
# (the embedder then works while the parser does; fewer are not worth a call).
EMBED_WHEN_IDLE_CHUNKS = 16

Row = tuple[DocumentRecord, list[ChunkRecord], Vectors]
Document = tuple[DocumentRecord, list[Chunk], Vectors | None]  # vectors if a worker embedded


async def _embed_many(
    embedder: Embedder, batch: Sequence[tuple[DocumentRecord, list[Chunk]]],
    report: IngestReport,
) -> list[Row]:
    """Embed the chunks of several documents in one call: their rows to write."""
    started = time.perf_counter()
    texts = [embedding_text(record.title, c) for record, chunks in batch for c in chunks]
    vectors = await embedder.embed(texts)
    report.add_time("embed", time.perf_counter() - started)
    rows: list[Row] = []
    offset = 0
    for record, chunks in batch:
        rows.append((record, _chunk_records(record, chunks),
                     vectors[offset:offset + len(chunks)]))
        offset += len(chunks)
    return rows


def _chunk_records(record: DocumentRecord, chunks: list[Chunk]) -> list[ChunkRecord]:
    return [ChunkRecord(ordinal=i, title=record.title, page=c.page, section=c.section,
                        text=c.text) for i, c in enumerate(chunks)]


class _Batch:
    """Parsed documents on their way to the index: embedded up to ``EMBED_BATCH_CHUNKS`` at a
    time (or what is at hand when the parser keeps us waiting), then written in transactions of
    at least ``WRITE_BATCH_CHUNKS``, one at a time, in a worker thread while the next chunks are
    embedded. A document's outcome is reported once its transaction has committed."""

    def __init__(self, index: DocumentWriter, embedder: Embedder, known: dict[str, str],
                 report: IngestReport) -> None:
        self._index, self._embedder, self._known, self._report = index, embedder, known, report
        self._pending: list[tuple[DocumentRecord, list[Chunk]]] = []
        self._pending_chunks = 0
        self._rows: list[Row] = []
        self._outcomes: list[FileOutcome] = []
        self._rows_chunks = 0
        self._writing: asyncio.Task[None] | None = None
        self._written: list[FileOutcome] = []

    async def add(self, record: DocumentRecord, chunks: list[Chunk],
                  vectors: Vectors | None = None) -> None:
        """Queue a document; with ``vectors`` (embedded by a parse worker) it is ready to write."""
        if vectors is not None:
            self._ready([(record, _chunk_records(record, chunks), vectors)])
            if self._rows_chunks >= WRITE_BATCH_CHUNKS:
                await self._write()
            return
        self._pending.append((record, chunks))
        self._pending_chunks += len(chunks)
        if self._pending_chunks >= EMBED_BATCH_CHUNKS:
            await self.embed()

    def _ready(self, rows: list[Row]) -> None:
        self._rows += rows
        for record, chunks, _ in rows:
            status: Status = "updated" if record.path in self._known else "added"
            self._outcomes.append(FileOutcome(record.source, status, chunks=len(chunks)))
            self._rows_chunks += len(chunks)

    async def idle(self) -> None:
        """No parsed document is waiting: embed what is at hand, if worth a call."""
        if self._pending_chunks >= EMBED_WHEN_IDLE_CHUNKS:
            await self.embed()

    async def embed(self) -> None:
        """Embed the pending documents; start writing once enough are embedded."""
        if self._pending:
            self._ready(await _embed_many(self._embedder, self._pending, self._report))
            self._pending, self._pending_chunks = [], 0
        if self._rows_chunks >= WRITE_BATCH_CHUNKS:
            await self._write()

    async def flush(self) -> None:
        """Embed and write everything, and wait until it is committed."""
        await self.embed()
        if self._rows:
            await self._write()
        await self._settle()

    async def _write(self) -> None:
        await self._settle()  # one write at a time, in order
        rows, self._written = self._rows, self._outcomes
        self._rows, self._outcomes, self._rows_chunks = [], [], 0
        self._writing = asyncio.create_task(self._timed_write(rows))

    async def _timed_write(self, rows: list[Row]) -> None:
        started = time.perf_counter()
        await self._index.write_documents(rows)
        self._report.add_time("write", time.perf_counter() - started)

    async def _settle(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            await writing
            self._report.outcomes.extend(self._written)
            self._written = []


def _take(results: Iterator[tuple[T, object]], ready: Callable[[], int]) -> list[tuple[T, object]]:
    """The next result (waiting for it) and every one already there: one thread hop for all."""
    first = next(results, None)
    if first is None:
        return []
    taken = [first]
    while ready() and (more := next(results, None)) is not None:
        taken.append(more)
    return taken


async def drain(
    pool: ParsePool[T], items: Sequence[T], prepare: Callable[[T], ParseJob | object],
    document: Callable[[T, object], FileOutcome | Document],
    batch: _Batch, report: IngestReport, progress: Progress | None, name: Callable[[T], str],
) -> None:
    """Parse ``items`` in ``pool`` and store each as ``document`` makes it (or its outcome)."""
    results = pool.run(items, prepare)
    done = 0
    while True:
        waiting = time.perf_counter()
        taken = await asyncio.to_thread(_take, results, pool.ready)
        report.add_time("wait", time.perf_counter() - waiting)
        if not taken:
            break
        for item, result in taken:
            if isinstance(result, Parsed):
                report.add_time("parse", result.parse_s)
                report.add_time("chunk", result.chunk_s)
                if result.vectors is not None:
                    report.add_time("embed", result.embed_s)
            if progress:
                progress(done, len(items), name(item))
            done += 1
            parsed = document(item, result)
            if isinstance(parsed, FileOutcome):
                report.outcomes.append(parsed)
            else:
                await batch.add(*parsed)
        if not pool.ready():  # embed now rather than wait idle for the parser (PDF)
            await batch.idle()
    await batch.flush()


async def _finish(report: IngestReport, index: DocumentWriter, started: float) -> IngestReport:
    finishing = time.perf_counter()
    await index.finish_ingest(report.chunks_written)
    report.add_time("finish", time.perf_counter() - finishing)
    report.elapsed_s = time.perf_counter() - started
    return report


def _read(item: SourceFile, limits: FileLimits) -> bytes | FileOutcome:
    """The file's bytes, if it is a regular file within the size limit.

    Opened without blocking and checked on the open descriptor, so a FIFO or a device named
    ``notes.txt`` (or a file swapped for one after discovery) is refused, not waited on.
    """
    try:
        fd = os.open(item.path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return FileOutcome(item.source, "failed", reason=f"unreadable: {exc.strerror or exc}")
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return FileOutcome(item.source, "failed", reason="not a regular file")
        if info.st_size > limits.max_file_bytes:
            return FileOutcome(item.source, "failed", reason=over(
                "in size", info.st_size / MB, limits.max_file_mb, " MB"))
        try:
            data = handle.read(limits.max_file_bytes + 1)
        except OSError as exc:
            return FileOutcome(item.source, "failed", reason=f"unreadable: {exc.strerror}")
    if len(data) > limits.max_file_bytes:  # it grew since fstat
        return FileOutcome(item.source, "failed", reason=over(
            "in size", len(data) / MB, limits.max_file_mb, " MB"))
    return data


async def ingest_paths(
    paths: Sequence[Path],
    index: DocumentWriter,
    embedder: Embedder,
    *,
    prune: bool = False,
    progress: Progress | None = None,
    max_chars: int = 1200,
    overlap_chars: int = 200,
    limits: FileLimits = DEFAULT_LIMITS,
    follow_symlinks: bool = False,
    parse_workers: int | None = None,
) -> IngestReport:
    """Index the supported files under ``paths``; see the module docstring.

    Files are parsed in worker processes (``parse_workers``, default: ``default_workers()``),
    each within ``limits``, and embedded there too when the embedder can run in them
    (WordLlama; otherwise here); writing stays in this process, in file completion order.
    """
    started = time.perf_counter()
    files, problems = discover(paths, follow_symlinks=follow_symlinks)
    report = IngestReport(outcomes=[FileOutcome(p.source, p.status, reason=p.reason)
                                    for p in problems])
    known = await index.known_documents()
    reader = _Reader(known, limits)
    pool: ParsePool[SourceFile] = ParsePool(
        limits=limits, max_chars=max_chars, overlap_chars=overlap_chars,
        embedder=_portable(embedder),
        workers=parse_workers or default_workers(embedding=_portable(embedder) is not None),
    )
    with pool:
        await drain(pool, files, reader.prepare, reader.document,
                    _Batch(index, embedder, known, report), report, progress,
                    lambda item: item.source)
    if prune:
        report.outcomes.extend(
            await _prune(index, paths, {str(f.path) for f in files}, known)
        )
    if progress:
        progress(len(files), len(files), "")
    return await _finish(report, index, started)


def _portable(embedder: Embedder) -> PortableEmbedder | None:
    """The embedder, if the parse workers can run it themselves (WordLlama)."""
    return embedder if isinstance(embedder, PortableEmbedder) else None


class _Reader:
    """Reads and hashes each file for the pool (in its dispatcher thread), skipping unchanged
    ones, and turns each parse result into a document to store."""

    def __init__(self, known: dict[str, str], limits: FileLimits) -> None:
        self._known, self._limits = known, limits
        self._digests: dict[str, str] = {}  # written by the dispatcher thread, read by ours

    def prepare(self, item: SourceFile) -> ParseJob | FileOutcome:
        data = _read(item, self._limits)
        if isinstance(data, FileOutcome):
            return data
        digest = content_hash(data)
        if self._known.get(str(item.path)) == digest:
            return FileOutcome(item.source, "unchanged")
        self._digests[str(item.path)] = digest
        return ParseJob(item.source, data)

    def document(self, item: SourceFile, result: object) -> FileOutcome | Document:
        return _document(item, result, self._digests.pop(str(item.path), ""))


def _document(item: SourceFile, result: object, digest: str) -> FileOutcome | Document:
    """A parse result as a document to store, or the file's failure."""
    if isinstance(result, FileOutcome):
        return result
    if not isinstance(result, Parsed):
        return FileOutcome(item.source, "failed", reason=getattr(result, "reason", str(result)))
    key = str(item.path)
    record = DocumentRecord(
        doc_id=document_id(key), path=key, source=item.source, title=result.title,
        content_hash=digest,
    )
    return record, result.chunks, result.vectors


async def _prune(
    index: DocumentWriter, roots: Sequence[Path], present: set[str], known: dict[str, str]
) -> list[FileOutcome]:
    """Remove indexed documents under an existing root that were not found there now."""
    scopes = [(str(r.resolve()), r.is_dir()) for r in roots if r.exists()]
    vanished = [
        path for path in known
        if path not in present
        and any(path == scope or (is_dir and path.startswith(scope + os.sep))
                for scope, is_dir in scopes)
    ]
    await index.delete_documents(vanished)
    return [FileOutcome(path, "removed") for path in vanished]


@dataclass(frozen=True)
class TextDocument:
    """A document that is already text (an evaluation corpus row, say)."""

    key: str  # stable identity, e.g. "beir:scifact/4983"
    title: str
    text: str


# ingest_texts embeds this many chunks here before it starts embedding workers (a small corpus
# is done before they would have loaded), and hands them texts in jobs of about this many
# characters (two fit in a worker's pipe beside the one it embeds).
TEXTS_IN_PROCESS_CHUNKS = 4096
EMBED_JOB_CHARS = 12_000

Group = list[tuple[DocumentRecord, list[Chunk]]]


async def ingest_texts(
    documents: Iterable[TextDocument],
    index: DocumentWriter,
    embedder: Embedder,
    *,
    progress: Progress | None = None,
    total: int = 0,
    max_chars: int = 1200,
    overlap_chars: int = 200,
    parse_workers: int | None = None,
    in_process_chunks: int = TEXTS_IN_PROCESS_CHUNKS,
) -> IngestReport:
    """Index already-extracted texts, incrementally like files.

    Each text is one block, chunked here. The first ``in_process_chunks`` chunks are
    embedded here; beyond them, with an embedder the workers can run (WordLlama), worker
    processes embed the rest (``parse_workers``, default ``default_workers(embedding=True)``)
    while this process chunks and writes; a job a worker could not finish is embedded here.
    """
    started = time.perf_counter()
    report = IngestReport()
    known = await index.known_documents()
    batch = _Batch(index, embedder, known, report)
    groups = _text_groups(documents, known, max_chars, overlap_chars, EMBED_JOB_CHARS)
    done = 0

    def count(outcome: FileOutcome | Group) -> None:
        """Count the documents done; tell ``progress`` every hundred or so."""
        nonlocal done
        before = done
        done += 1 if isinstance(outcome, FileOutcome) else len(outcome)
        if progress and done // 100 != before // 100:
            progress(done, total, outcome.source if isinstance(outcome, FileOutcome)
                     else outcome[-1][0].source)

    async def add(outcome: FileOutcome | Group, vectors: Vectors | None = None) -> None:
        count(outcome)
        if isinstance(outcome, FileOutcome):
            report.outcomes.append(outcome)
            return
        offset = 0
        for record, chunks in outcome:
            await batch.add(record, chunks, None if vectors is None
                            else vectors[offset:offset + len(chunks)])
            offset += len(chunks)

    here = 0
    for group in groups:
        await add(group)
        here += 0 if isinstance(group, FileOutcome) else sum(len(c) for _, c in group)
        if here >= in_process_chunks:
            break
    portable = _portable(embedder)
    if here >= in_process_chunks and portable is not None:
        await batch.embed()
        pool: ParsePool[FileOutcome | Group] = ParsePool(
            limits=DEFAULT_LIMITS, embedder=portable,
            workers=parse_workers or default_workers(embedding=True))
        with pool:
            await _embed_in_workers(pool, groups, add, report)
    else:
        for group in groups:
            await add(group)
    await batch.flush()
    if progress:
        progress(total, total, "")
    return await _finish(report, index, started)


def _text_groups(
    documents: Iterable[TextDocument], known: dict[str, str], max_chars: int,
    overlap_chars: int, group_chars: int,
) -> Iterator[FileOutcome | Group]:
    """Each text's outcome (unchanged, empty) or, chunked, in groups of about ``group_chars``."""
    from chatref.ingest.parsers import Block

    group: Group = []
    size = 0
    for document in documents:
        digest = content_hash(f"{document.title}\n{document.text}".encode())
        if known.get(document.key) == digest:
            yield FileOutcome(document.key, "unchanged")
            continue
        blocks = [Block(text=document.text)] if document.text.strip() else []
        chunks = chunk_blocks(blocks, max_chars=max_chars, overlap_chars=overlap_chars)
        if not chunks:
            yield FileOutcome(document.key, "failed", reason="empty")
            continue
        group.append((DocumentRecord(
            doc_id=document.key, path=document.key, source=document.key,
            title=document.title, content_hash=digest,
        ), chunks))
        size += sum(len(c.text) for c in chunks)
        if size >= group_chars:
            yield group
            group, size = [], 0
    if group:
        yield group


def _embed_job(group: FileOutcome | Group) -> EmbedJob | FileOutcome:
    """What a worker embeds for a group (run in the pool's dispatcher thread)."""
    if isinstance(group, FileOutcome):
        return group
    return EmbedJob(group[0][0].source, b"", tuple(
        embedding_text(record.title, c) for record, chunks in group for c in chunks))


async def _embed_in_workers(
    pool: ParsePool[FileOutcome | Group], groups: Iterator[FileOutcome | Group],
    add: Callable[[FileOutcome | Group, Vectors | None], Awaitable[None]], report: IngestReport,
) -> None:
    """Embed the groups' chunks in ``pool``'s workers and ``add`` each with its vectors."""
    results = pool.run(groups, _embed_job)
    while True:
        waiting = time.perf_counter()
        taken = await asyncio.to_thread(_take, results, pool.ready)
        report.add_time("wait", time.perf_counter() - waiting)
        if not taken:
            return
        for group, result in taken:
            if isinstance(result, np.ndarray):
                await add(group, result)
            else:  # the worker failed (died, time limit): embed it here
                await add(group, None)
