"""Document sources other than local folders: the ``DocumentSource`` seam and its ingest loop.

A source lists its documents with a cheap version string each (a blob's Content-MD5, else its
ETag) and reads one document's bytes on demand. Ingestion compares the version, stamped with the
pipeline's (pipeline.stored_version), with the one the index holds, so an unchanged document is
neither downloaded nor parsed; a changed one goes through the same parsers, chunker and index
writes as a file (pipeline.py). The identity and citation of a document is its URL. Blob
Storage (ingest/blob_source.py) is the one source so far.

For example (an illustration, not run as a doctest)::

    source = await open_blob_source("https://acct.blob.core.windows.net/docs/guides/", settings)
    report = await ingest_source(source, index, embedder, prune=True)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol

from chatref.errors import ChatrefError, DocumentError
from chatref.ingest.limits import DEFAULT_LIMITS, MB, FileLimits, over
from chatref.ingest.parsers import SUPPORTED_SUFFIXES
from chatref.ingest.pipeline import (
    Document,
    FileOutcome,
    IngestReport,
    Progress,
    _Batch,
    _finish,
    _portable,
    document_id,
    drain,
    stored_version,
)
from chatref.ingest.workers import Parsed, ParseJob, ParsePool, default_workers
from chatref.retrieval.types import DocumentRecord, DocumentWriter, Embedder


@dataclass(frozen=True)
class SourceItem:
    """One document a source lists."""

    url: str  # identity and citation
    name: str  # its name within the source, for the parser (suffix) and messages
    version: str  # changes whenever the bytes do: "md5:<hex>" or "etag:<etag>"
    size: int = 0


class DocumentSource(Protocol):
    """Where documents come from when they are not local files."""

    @property
    def url(self) -> str:
        """The scope listed (container URL and prefix): documents under it can be pruned."""
        ...

    async def list_items(self) -> list[SourceItem]: ...

    async def read(self, item: SourceItem) -> bytes: ...

    async def aclose(self) -> None: ...


def _unsupported(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() not in SUPPORTED_SUFFIXES


async def ingest_source(
    source: DocumentSource,
    index: DocumentWriter,
    embedder: Embedder,
    *,
    prune: bool = False,
    progress: Progress | None = None,
    max_chars: int = 1200,
    overlap_chars: int = 200,
    limits: FileLimits = DEFAULT_LIMITS,
    parse_workers: int | None = None,
) -> IngestReport:
    """Index the supported documents of ``source``, incrementally; one bad document is reported
    by URL and skipped. With ``prune``, indexed documents under ``source.url`` that the source no
    longer lists are removed. Documents are parsed by the same worker pool and within the same
    limits as files (pipeline.py); a changed one is downloaded when its parse is due.
    """
    started = time.perf_counter()
    report = IngestReport()
    try:
        items = [item for item in await source.list_items() if not _unsupported(item.name)]
    except ChatrefError as exc:
        report.outcomes.append(FileOutcome(source.url, "failed", reason=exc.message))
        return await _finish(report, index, started)
    known = await index.known_documents()
    loop = asyncio.get_running_loop()

    def prepare(item: SourceItem) -> ParseJob | FileOutcome:  # in the pool's dispatcher thread
        if known.get(item.url) == stored_version(item.version):
            return FileOutcome(item.url, "unchanged")
        if item.size > limits.max_file_bytes:
            return FileOutcome(item.url, "failed", reason=over(
                "in size", item.size / MB, limits.max_file_mb, " MB"))
        try:
            data = asyncio.run_coroutine_threadsafe(source.read(item), loop).result()
        except DocumentError as exc:
            return FileOutcome(item.url, "failed", reason=exc.reason)
        except ChatrefError as exc:
            return FileOutcome(item.url, "failed", reason=exc.message)
        return ParseJob(item.name, data)

    pool: ParsePool[SourceItem] = ParsePool(
        limits=limits, max_chars=max_chars, overlap_chars=overlap_chars,
        embedder=_portable(embedder),
        workers=parse_workers or default_workers(embedding=_portable(embedder) is not None),
    )
    with pool:
        await drain(pool, items, prepare, _document, _Batch(index, embedder, known, report),
                    report, progress, lambda item: item.url)
    if prune:
        report.outcomes.extend(await _prune(index, source.url, {i.url for i in items}, known))
    if progress:
        progress(len(items), len(items), "")
    return await _finish(report, index, started)


def _document(item: SourceItem, result: object) -> FileOutcome | Document:
    if isinstance(result, FileOutcome):
        return result
    if not isinstance(result, Parsed):
        reason = getattr(result, "reason", str(result))
        return FileOutcome(item.url, "failed", reason=reason)
    record = DocumentRecord(doc_id=document_id(item.url), path=item.url, source=item.url,
                            title=result.title,
                            content_hash=stored_version(item.version))
    return record, result.chunks, result.vectors


async def _prune(index: DocumentWriter, scope: str, present: set[str],
                 known: dict[str, str]) -> Sequence[FileOutcome]:
    vanished = [url for url in known if url.startswith(scope) and url not in present]
    if vanished:
        await index.delete_documents(vanished)
    return [FileOutcome(url, "removed") for url in vanished]
