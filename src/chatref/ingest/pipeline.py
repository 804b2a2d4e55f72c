"""Ingestion: files -> parse -> chunk -> embed -> index, incrementally.

A document whose bytes hash the same as the indexed copy is neither parsed nor embedded again; a
changed one is replaced in one transaction; with ``prune`` the documents that vanished from the
given paths are removed. One bad file is reported (path and reason) and skipped; the rest is
still indexed.

>>> report = await ingest_paths([Path("docs")], index, embedder, prune=True)
>>> report.counts
{'added': 12, 'updated': 0, 'unchanged': 0, 'removed': 0, 'failed': 0}
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from chatref.errors import DocumentError
from chatref.ingest.chunking import Chunk, chunk_blocks
from chatref.ingest.parsers import SUPPORTED_SUFFIXES, parse_document
from chatref.retrieval.types import ChunkRecord, DocumentRecord, DocumentWriter, Embedder

Status = Literal["added", "updated", "unchanged", "removed", "failed"]
STATUSES: tuple[Status, ...] = ("added", "updated", "unchanged", "removed", "failed")
Progress = Callable[[int, int, str], None]  # (done, total, current source)


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

    def to_dict(self) -> dict[str, object]:
        return {
            "counts": self.counts,
            "chunks_written": self.chunks_written,
            "elapsed_s": round(self.elapsed_s, 3),
            "files": [asdict(o) for o in self.outcomes],
        }


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute, resolved: the document's identity
    source: str  # as the user named it (root + relative part): what citations show


def discover(roots: Sequence[Path]) -> tuple[list[SourceFile], list[FileOutcome]]:
    """Supported files under ``roots`` (recursively, hidden entries skipped), and the roots that
    do not exist or are not supported files."""
    found: dict[Path, SourceFile] = {}
    problems: list[FileOutcome] = []
    for root in roots:
        if root.is_file():
            if root.suffix.lower() not in SUPPORTED_SUFFIXES:
                problems.append(FileOutcome(str(root), "failed", reason=(
                    f"unsupported file type {root.suffix or '(none)'!r}; "
                    f"supported: {', '.join(SUPPORTED_SUFFIXES)}")))
                continue
            found.setdefault(root.resolve(), SourceFile(root.resolve(), str(root)))
        elif root.is_dir():
            for folder, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                        continue
                    shown = Path(folder) / name
                    found.setdefault(shown.resolve(), SourceFile(shown.resolve(), str(shown)))
        else:
            problems.append(FileOutcome(str(root), "failed", reason="no such file or directory"))
    return list(found.values()), problems


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_id(path: str) -> str:
    return hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()[:16]


def _embedding_text(title: str, chunk: Chunk) -> str:
    return f"{title}\n{chunk.section or ''}\n{chunk.text}"


async def _store(
    index: DocumentWriter, embedder: Embedder, record: DocumentRecord, chunks: list[Chunk],
    known: dict[str, str],
) -> FileOutcome:
    """Embed and write one document; its outcome says whether it was new or replaced one."""
    vectors = await embedder.embed([_embedding_text(record.title, c) for c in chunks])
    rows = [
        ChunkRecord(ordinal=i, title=record.title, page=c.page, section=c.section, text=c.text)
        for i, c in enumerate(chunks)
    ]
    await index.write_document(record, rows, vectors)
    status: Status = "updated" if record.path in known else "added"
    return FileOutcome(record.source, status, chunks=len(chunks))


async def _finish(report: IngestReport, index: DocumentWriter, started: float) -> IngestReport:
    await index.finish_ingest(report.chunks_written)
    report.elapsed_s = time.perf_counter() - started
    return report


async def ingest_paths(
    paths: Sequence[Path],
    index: DocumentWriter,
    embedder: Embedder,
    *,
    prune: bool = False,
    progress: Progress | None = None,
    max_chars: int = 1200,
    overlap_chars: int = 200,
) -> IngestReport:
    """Index the supported files under ``paths``; see the module docstring."""
    started = time.perf_counter()
    files, problems = discover(paths)
    report = IngestReport(outcomes=list(problems))
    known = await index.known_documents()
    for done, item in enumerate(files):
        if progress:
            progress(done, len(files), item.source)
        key = str(item.path)
        try:
            data = item.path.read_bytes()
        except OSError as exc:
            report.outcomes.append(FileOutcome(item.source, "failed", reason=f"unreadable: {exc}"))
            continue
        digest = content_hash(data)
        if known.get(key) == digest:
            report.outcomes.append(FileOutcome(item.source, "unchanged"))
            continue
        try:
            parsed = parse_document(Path(item.source), data)
            chunks = chunk_blocks(parsed.blocks, max_chars=max_chars, overlap_chars=overlap_chars)
        except DocumentError as exc:
            report.outcomes.append(FileOutcome(item.source, "failed", reason=exc.reason))
            continue
        except Exception as exc:  # noqa: BLE001 - a parser bug must not stop the whole ingest
            reason = f"could not be parsed ({type(exc).__name__}: {exc})"
            report.outcomes.append(FileOutcome(item.source, "failed", reason=reason))
            continue
        record = DocumentRecord(
            doc_id=document_id(key), path=key, source=item.source, title=parsed.title,
            content_hash=digest,
        )
        report.outcomes.append(await _store(index, embedder, record, chunks, known))
    if prune:
        report.outcomes.extend(
            await _prune(index, paths, {str(f.path) for f in files}, known)
        )
    if progress:
        progress(len(files), len(files), "")
    return await _finish(report, index, started)


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


async def ingest_texts(
    documents: Iterable[TextDocument],
    index: DocumentWriter,
    embedder: Embedder,
    *,
    progress: Progress | None = None,
    total: int = 0,
    max_chars: int = 1200,
    overlap_chars: int = 200,
) -> IngestReport:
    """Index already-extracted texts, incrementally like files."""
    from chatref.ingest.parsers import Block

    started = time.perf_counter()
    report = IngestReport()
    known = await index.known_documents()
    for done, document in enumerate(documents):
        if progress and done % 100 == 0:
            progress(done, total, document.key)
        digest = content_hash(f"{document.title}\n{document.text}".encode())
        if known.get(document.key) == digest:
            report.outcomes.append(FileOutcome(document.key, "unchanged"))
            continue
        blocks = [Block(text=document.text)] if document.text.strip() else []
        chunks = chunk_blocks(blocks, max_chars=max_chars, overlap_chars=overlap_chars)
        if not chunks:
            report.outcomes.append(FileOutcome(document.key, "failed", reason="empty"))
            continue
        record = DocumentRecord(
            doc_id=document.key, path=document.key, source=document.key,
            title=document.title, content_hash=digest,
        )
        report.outcomes.append(await _store(index, embedder, record, chunks, known))
    if progress:
        progress(total, total, "")
    return await _finish(report, index, started)
