from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from chatref.ingest.chunking import Chunk, embedding_text
from chatref.ingest.pipeline import PIPELINE_VERSION, ingest_paths
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.sqlite_index import SqliteIndex
from tests.ingest import documents


def sources(index: SqliteIndex) -> set[str]:
    return {row[0] for row in index._conn.execute("SELECT source FROM documents")}


async def test_every_format_is_indexed_and_searchable(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    documents.write_all_good(tmp_path / "docs")
    report = await ingest_paths([tmp_path / "docs"], index, embedder)
    assert report.counts["added"] == 5 and report.counts["failed"] == 0
    for query, expected in [
        ("zone-redundant replication copies", "storage.md"),
        ("rotate client secret", "runbook.txt"),
        ("hub virtual network firewall", "network.html"),
        ("recovery point objective", "dr-plan.pdf"),
        ("emergency accounts reviewed", "access.docx"),
    ]:
        hits = await index.keyword_search(query, 1)
        assert hits and hits[0].source.endswith(expected), (query, hits)
    pdf_hit = (await index.keyword_search("recovery point objective", 1))[0]
    assert pdf_hit.page == 2
    assert {"parse", "chunk", "embed", "write", "wait", "finish"} <= set(report.stages_s)
    assert report.stages_s["parse"] > 0 and report.stages_s["embed"] > 0
    assert report.to_dict()["stages_s"]["write"] == round(report.stages_s["write"], 3)


async def test_bad_files_are_reported_and_the_rest_indexed(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    documents.write_all_good(tmp_path / "docs")
    bad = documents.write_all_bad(tmp_path / "docs" / "bad")
    report = await ingest_paths([tmp_path / "docs"], index, embedder)
    assert report.counts["added"] == 5
    failed = {Path(f.source).name: f.reason for f in report.failures}
    assert set(failed) == {p.name for p in bad.values()}
    assert "encrypted" in str(failed["encrypted.pdf"])
    assert "not UTF-8" in str(failed["latin1.txt"])
    assert index.stats()["documents"] == 5


async def test_missing_path_is_reported(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    report = await ingest_paths([tmp_path / "nowhere"], index, embedder)
    assert report.failures[0].reason == "no such file or directory"


async def test_unchanged_files_are_not_reparsed_and_changed_ones_replaced(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    files = documents.write_all_good(tmp_path / "docs")
    await ingest_paths([tmp_path / "docs"], index, embedder)
    before = dict(index._conn.execute("SELECT path, ingested_at FROM documents"))

    files["txt"].write_text("Runbook: rotating secrets\n\nRotate it every thirty days.\n",
                            encoding="utf-8")
    report = await ingest_paths([tmp_path / "docs"], index, embedder)
    assert report.counts == {"added": 0, "updated": 1, "unchanged": 4, "removed": 0, "failed": 0,
                             "skipped": 0}
    after = dict(index._conn.execute("SELECT path, ingested_at FROM documents"))
    unchanged = [p for p in before if not p.endswith("runbook.txt")]
    assert all(before[p] == after[p] for p in unchanged)
    assert await index.keyword_search("thirty", 5)
    assert not await index.keyword_search("ninety", 5)  # the old version's chunks are gone


async def test_files_stored_by_an_older_pipeline_are_processed_again_once(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    """An index written before PIPELINE_VERSION 2 holds each file's plain sha256 and chunks cut
    by the older chunker: the next ingest must re-chunk those files, though their bytes did not
    change, and the one after must skip them again."""
    files = documents.write_all_good(tmp_path / "docs")
    await ingest_paths([tmp_path / "docs"], index, embedder)
    with index._conn:  # what chatref stored before the pipeline's version was stamped
        for path in files.values():
            index._conn.execute("UPDATE documents SET content_hash = ? WHERE path = ?",
                                (hashlib.sha256(path.read_bytes()).hexdigest(), str(path)))

    again = await ingest_paths([tmp_path / "docs"], index, embedder)
    assert again.counts["updated"] == len(files) and again.counts["unchanged"] == 0
    assert all(v.startswith(f"p{PIPELINE_VERSION}:sha256:")
               for v in (await index.known_documents()).values())
    third = await ingest_paths([tmp_path / "docs"], index, embedder)
    assert third.counts["unchanged"] == len(files) and third.chunks_written == 0


async def test_prune_removes_vanished_documents_only_under_given_paths(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    files = documents.write_all_good(tmp_path / "docs")
    other = documents.write_text(tmp_path / "elsewhere.txt")
    await ingest_paths([tmp_path / "docs", other], index, embedder)
    files["html"].unlink()
    report = await ingest_paths([tmp_path / "docs"], index, embedder)
    assert report.counts["removed"] == 0  # without --prune nothing is removed
    report = await ingest_paths([tmp_path / "docs"], index, embedder, prune=True)
    assert report.counts["removed"] == 1
    assert not any(s.endswith("network.html") for s in sources(index))
    assert any(s.endswith("elsewhere.txt") for s in sources(index))  # outside the given path
    assert not await index.keyword_search("firewall", 5)


KILLED_INGEST = """
import asyncio, sys
from pathlib import Path
from chatref.ingest.pipeline import ingest_paths
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.sqlite_index import SqliteIndex

embedder = WordLlamaEmbedder(Path(sys.argv[2]))
index = SqliteIndex.open(Path(sys.argv[1]), embedder_name=embedder.name, dimension=256)
def progress(done, total, current):
    print(done, flush=True)
try:
    asyncio.run(ingest_paths([Path(sys.argv[3])], index, embedder, progress=progress))
except KeyboardInterrupt:
    sys.exit(130)
"""


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_an_interrupted_ingest_leaves_every_document_whole(
    tmp_path: Path, embedder: WordLlamaEmbedder, how: signal.Signals
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    paragraph = "Alpha beta gamma delta epsilon zeta eta theta iota kappa. " * 20
    for i in range(400):
        (corpus / f"doc{i:04}.md").write_text(f"# Doc {i}\n\n" + f"{paragraph}\n\n" * 30,
                                              encoding="utf-8")
    index_path = tmp_path / "index.sqlite"
    with subprocess.Popen(
        [sys.executable, "-c", KILLED_INGEST, str(index_path), str(tmp_path / "wl"), str(corpus)],
        stdout=subprocess.PIPE, text=True, env={**os.environ},
    ) as process:
        assert process.stdout is not None
        # Wait until some documents are committed, then kill -9. Documents are embedded in
        # batches of EMBED_BATCH_CHUNKS (about 16 of these), so 60 parsed means 40 or more written.
        for line in process.stdout:
            if int(line) >= 60:
                break
        time.sleep(0.05)
        process.send_signal(how)
        process.wait(timeout=60)

    conn = sqlite3.connect(index_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    documents_count = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    assert 20 <= documents_count < 400
    mismatched = conn.execute(
        "SELECT d.path FROM documents d LEFT JOIN chunks c USING (doc_id)"
        " GROUP BY d.doc_id HAVING count(c.id) != d.chunk_count"
    ).fetchall()
    assert mismatched == []
    orphans = conn.execute(
        "SELECT count(*) FROM chunks WHERE doc_id NOT IN (SELECT doc_id FROM documents)"
    ).fetchone()[0]
    assert orphans == 0
    conn.close()


async def test_stored_vectors_are_wordllamas_own(
    tmp_path: Path, index: SqliteIndex, embedder: WordLlamaEmbedder
) -> None:
    """Embedded in the parse workers, the stored vectors are WordLlama's for each chunk."""
    documents.write_all_good(tmp_path / "docs")
    await ingest_paths([tmp_path / "docs"], index, embedder)
    rows = index._conn.execute(
        "SELECT d.title, c.section, c.text, c.vector FROM chunks c JOIN documents d USING (doc_id)"
    ).fetchall()
    assert len(rows) >= 5
    texts = [embedding_text(title, Chunk(text, None, section)) for title, section, text, _ in rows]
    stored = np.stack([np.frombuffer(vector, dtype=np.float32) for *_, vector in rows])
    theirs = np.asarray(embedder._load().embed(texts, norm=True), dtype=np.float32)
    np.testing.assert_allclose(stored, theirs, atol=1e-5)
