"""Ingesting an untrusted folder: hostile files, symlinks and special files each cost one failed
(or skipped) file, never the ingest. How fast and how little memory: bench/hostile_ingest.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chatref.errors import DocumentError
from chatref.ingest.discovery import discover
from chatref.ingest.limits import FileLimits
from chatref.ingest.parsers import parse_document
from chatref.ingest.pipeline import IngestReport, ingest_paths
from chatref.ingest.workers import ParseJob, ParsePool
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.sqlite_index import SqliteIndex
from tests.ingest import documents, hostile


def reasons(report: IngestReport) -> dict[str, tuple[str, str | None]]:
    return {Path(o.source).name: (o.status, o.reason) for o in report.outcomes}


async def test_hostile_documents_are_refused_by_path_and_reason_and_the_rest_indexed(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    docs = tmp_path / "docs"
    documents.write_all_good(docs)
    hostile.empty_paragraphs_docx(docs / "empty-paragraphs.docx")
    hostile.many_paragraphs_docx(docs / "many-paragraphs.docx")
    hostile.zip_bomb_docx(docs / "bomb.docx")
    hostile.many_entries_docx(docs / "entries.docx")
    hostile.huge_page_tree_pdf(docs / "pages.pdf")
    assert (docs / "empty-paragraphs.docx").stat().st_size < 100_000
    report = await ingest_paths([docs], index, embedder)
    got = reasons(report)
    assert report.counts["added"] == 5
    assert got["empty-paragraphs.docx"] == (
        "failed", "over the per-file limit: 3,500,000 paragraphs (limit 100,000)")
    assert got["many-paragraphs.docx"] == (
        "failed", "over the per-file limit: 200,000 paragraphs (limit 100,000)")
    assert got["bomb.docx"] == ("failed", "over the per-file limit: 300 MB uncompressed "
                                          "(limit 256 MB)")
    assert got["entries.docx"] == ("failed", "over the per-file limit: 20,003 zip entries "
                                             "(limit 10,000)")
    assert got["pages.pdf"] == ("failed", "over the per-file limit: 5,001 pages (limit 5,000)")
    assert index.stats()["documents"] == 5


async def test_limits_are_settings_of_the_ingest(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    docs = tmp_path / "docs"
    documents.write_all_good(docs)
    (docs / "big.md").write_text("# Big\n\n" + "All work and no play. " * 10_000)
    hostile.many_paragraphs_docx(docs / "long.docx", count=3_000)
    hostile.huge_page_tree_pdf(docs / "tree.pdf", fanout=3, depth=3)  # 27 pages, no text
    limits = FileLimits(max_file_mb=0.1, max_docx_paragraphs=2_000, max_pdf_pages=20)
    got = reasons(await ingest_paths([docs], index, embedder, limits=limits))
    assert got["big.md"] == ("failed", "over the per-file limit: 0.2 MB in size (limit 0.1 MB)")
    assert got["long.docx"] == ("failed", "over the per-file limit: 3,000 paragraphs "
                                          "(limit 2,000)")
    assert got["tree.pdf"] == ("failed", "over the per-file limit: 21 pages (limit 20)")
    assert got["access.docx"][0] == "added"


async def test_a_file_over_the_time_limit_is_stopped_and_the_next_one_parsed(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    docs = tmp_path / "docs"
    documents.write_all_good(docs)
    hostile.many_paragraphs_docx(docs / "slow.docx", count=90_000)
    limits = FileLimits(timeout_s=0.5)  # the small files take milliseconds, this one seconds
    report = await ingest_paths([docs], index, embedder, limits=limits, parse_workers=1)
    got = reasons(report)
    assert got["slow.docx"] == (
        "failed", "over the per-file time limit of 0.5 s (parsing stopped)")
    assert report.counts["added"] == 5


def test_paragraphs_are_counted_whatever_the_namespace_prefix(tmp_path: Path) -> None:
    data = hostile.docx_with_body(tmp_path / "x.docx", "<x:p/>", 3_000, prefix="x").read_bytes()
    with pytest.raises(DocumentError, match="2,001 paragraphs"):
        parse_document(Path("x.docx"), data, FileLimits(max_docx_paragraphs=2_000))


def test_a_worker_that_dies_is_one_failed_file(tmp_path: Path) -> None:
    slow = hostile.many_paragraphs_docx(tmp_path / "slow.docx", count=90_000).read_bytes()
    jobs = [ParseJob("a.md", b"# A\n\nalpha"), ParseJob("dies.docx", slow),
            ParseJob("b.md", b"beta")]

    def prepare(job: ParseJob) -> ParseJob:
        if job.name == "b.md":  # dies.docx takes seconds: kill its worker meanwhile
            for worker in pool._workers:
                if getattr(worker.busy, "name", None) == "dies.docx":
                    worker.process.kill()
        return job

    with ParsePool[ParseJob](limits=FileLimits(), workers=2) as pool:
        results = {item.name: result for item, result in pool.run(jobs, prepare)}
    assert "the parser process died (exit code -9)" in getattr(results["dies.docx"], "reason", "")
    assert getattr(results["a.md"], "title", None) == "A"
    assert getattr(results["b.md"], "title", None) == "b"


async def test_symlink_loops_are_one_failed_file_each(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    docs = tmp_path / "docs"
    documents.write_all_good(docs)
    (docs / "a.md").symlink_to(docs / "b.md")
    (docs / "b.md").symlink_to(docs / "a.md")
    (docs / "self.md").symlink_to(docs / "self.md")
    (docs / "gone.md").symlink_to(docs / "nowhere.md")
    report = await ingest_paths([docs], index, embedder)
    got = reasons(report)
    assert got["a.md"] == ("failed", "symlink loop")
    assert got["self.md"] == ("failed", "symlink loop")
    assert got["gone.md"] == ("failed", "broken symlink (its target does not exist)")
    assert report.counts["added"] == 5


async def test_symlinks_leaving_the_roots_are_followed_only_when_asked(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    docs, outside = tmp_path / "docs", tmp_path / "outside"
    documents.write_all_good(docs)
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nThe payroll passphrase.\n", encoding="utf-8")
    (docs / "link.md").symlink_to(outside / "secret.md")
    (docs / "folder").symlink_to(outside)
    (docs / "inside.md").symlink_to(docs / "storage.md")  # within the root: harmless
    (docs / "sub").mkdir()
    (docs / "sub" / "up").symlink_to(docs)  # a loop through a folder link

    report = await ingest_paths([docs], index, embedder)
    got = reasons(report)
    assert got["link.md"][0] == "skipped" and "--follow-symlinks" in str(got["link.md"][1])
    assert got["folder"][0] == "skipped" and str(outside) in str(got["folder"][1])
    assert report.counts == {"added": 5, "updated": 0, "unchanged": 0, "removed": 0,
                             "failed": 0, "skipped": 2}
    assert not await index.keyword_search("payroll", 5)

    report = await ingest_paths([docs], index, embedder, follow_symlinks=True)
    assert report.counts["added"] == 1 and report.counts["skipped"] == 0  # secret.md, once
    assert await index.keyword_search("payroll", 5)


def test_a_root_given_as_a_symlink_is_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    documents.write_markdown(tmp_path / "real" / "guide.md")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    files, problems = discover([tmp_path / "alias"])
    assert [f.source for f in files] == [str(tmp_path / "alias" / "guide.md")]
    assert problems == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
async def test_a_fifo_named_like_a_document_is_refused_not_waited_on(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    docs = tmp_path / "docs"
    documents.write_all_good(docs)
    os.mkfifo(docs / "notes.txt")
    report = await ingest_paths([docs], index, embedder)
    assert reasons(report)["notes.txt"] == ("failed", "not a regular file")
    assert report.counts["added"] == 5
