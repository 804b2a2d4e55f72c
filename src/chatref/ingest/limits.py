"""Per-file limits for untrusted folders: what one hostile file may cost before it is refused.

A 67 KB .docx can expand to millions of empty paragraphs and a small PDF can declare a page tree
of millions of pages. Each limit here is checked *before* the expensive work (from the zip's
declared sizes, while streaming the XML, from the PDF's page tree), so such a file is reported by
path and reason in well under a second; the per-file time limit (ingest/workers.py) and the
worker's memory cap catch what no cheap check can predict.

>>> import io
>>> buffer = io.BytesIO()
>>> with zipfile.ZipFile(buffer, "w") as archive:
...     for n in range(3):
...         archive.writestr(f"part{n}.xml", "<w/>")
>>> check_zip(Path("big.docx"), zipfile.ZipFile(buffer), FileLimits(max_zip_entries=2))
Traceback (most recent call last):
    ...
chatref.errors.DocumentError: big.docx: over the per-file limit: 3 zip entries (limit 2)
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatref.errors import DocumentError

MB = 1024 * 1024


@dataclass(frozen=True)
class FileLimits:
    """What one file may cost. The defaults fit real documents with a wide margin."""

    max_file_mb: float = 100.0  # size on disk (--max-file-mb)
    max_unzipped_mb: float = 256.0  # a .docx's declared uncompressed total
    max_zip_entries: int = 10_000
    max_docx_paragraphs: int = 100_000
    max_docx_elements: int = 2_000_000  # XML elements in the main document part
    max_pdf_pages: int = 5_000
    timeout_s: float = 60.0  # parse + chunk of one file, in a worker process (--file-timeout-s)
    worker_memory_mb: int = 1024  # address-space cap of a parse worker

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * MB)


DEFAULT_LIMITS = FileLimits()


def over(what: str, found: float, limit: float, unit: str = "") -> str:
    """The reason given for a file over a limit: ``"3,500,001 paragraphs (limit 100,000)"``."""
    return f"over the per-file limit: {_number(found)}{unit} {what} (limit {_number(limit)}{unit})"


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) or value >= 10 else f"{value:,.1f}"


def check_zip(path: Path, archive: zipfile.ZipFile, limits: FileLimits) -> None:
    """Refuse an archive by its declared entry count and uncompressed sizes, before reading it.

    Python's zip reader stops at an entry's declared size (a lying entry then fails its CRC), so
    the declared total bounds what reading can ever produce.
    """
    entries = archive.infolist()
    if len(entries) > limits.max_zip_entries:
        raise DocumentError(path, over("zip entries", len(entries), limits.max_zip_entries))
    declared = sum(entry.file_size for entry in entries)
    if declared > limits.max_unzipped_mb * MB:
        raise DocumentError(path, over(
            "uncompressed", declared / MB, limits.max_unzipped_mb, " MB"))


def count_pdf_pages(root: Any, limit: int) -> int:
    """Count the leaves of a PDF page tree, giving up past ``limit``.

    The declared ``/Count`` can lie, and one ``/Pages`` node can be listed as a kid many times
    (a tree of ten nodes, each listed ten times, seven levels deep, is ten million pages in a
    few hundred bytes): this walk stops as soon as the count passes ``limit`` and visits each
    node at most once per path, so its cost is bounded by the limit, not by the file.
    """
    pages = 0
    visits = 0
    stack: list[tuple[Any, frozenset[int]]] = [(root, frozenset())]
    while stack:
        reference, ancestors = stack.pop()
        visits += 1
        if pages > limit or visits > 4 * limit + 100:
            return max(pages, limit + 1)
        marker = getattr(reference, "idnum", None)
        node = reference.get_object() if hasattr(reference, "get_object") else reference
        if not hasattr(node, "get"):
            continue
        kids = node.get("/Kids")
        if kids is None:
            pages += 1
            continue
        if marker is not None and marker in ancestors:
            continue  # a cycle: it adds no page
        inner = ancestors | {marker} if marker is not None else ancestors
        for kid in kids.get_object() if hasattr(kids, "get_object") else kids:
            stack.append((kid, inner))
    return pages
