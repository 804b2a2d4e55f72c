"""Already-extracted texts (``ingest_texts``): beyond the first chunks, worker processes embed
them; the index ends up the same as when this process embeds everything."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chatref.ingest.chunking import Chunk, embedding_text
from chatref.ingest.pipeline import TextDocument, ingest_texts
from chatref.retrieval.embedder import WordLlamaEmbedder
from chatref.retrieval.sqlite_index import SqliteIndex

REPO = Path(__file__).resolve().parents[2]


def corpus() -> list[TextDocument]:
    """The repository's docs, a document per heading-less paragraph run, plus edge cases."""
    docs = [
        TextDocument(key=f"{path.name}#{n}", title=path.stem, text=text)
        for path in sorted((REPO / "docs").glob("*.md"))
        for n, text in enumerate(path.read_text(encoding="utf-8").split("\n## "))
    ]
    return docs + [TextDocument("empty", "Empty", "  \n "),
                   TextDocument("short", "Short", "one line")]


def rows(index: SqliteIndex) -> list[tuple[object, ...]]:
    return index._conn.execute(
        "SELECT d.doc_id, d.title, c.ordinal, c.section, c.text, c.vector"
        " FROM chunks c JOIN documents d USING (doc_id) ORDER BY d.doc_id, c.ordinal"
    ).fetchall()


def open_index(path: Path, embedder: WordLlamaEmbedder) -> SqliteIndex:
    return SqliteIndex.open(path, embedder_name=embedder.name, dimension=embedder.dimension)


async def test_workers_embed_beyond_the_first_chunks_to_the_same_index(
    tmp_path: Path, embedder: WordLlamaEmbedder,
) -> None:
    docs = corpus()
    here = open_index(tmp_path / "here.sqlite", embedder)
    alone = await ingest_texts(docs, here, embedder)
    split = open_index(tmp_path / "split.sqlite", embedder)
    seen: list[tuple[int, int]] = []
    workers = await ingest_texts(docs, split, embedder, in_process_chunks=20, parse_workers=1,
                                 total=len(docs), progress=lambda d, t, _: seen.append((d, t)))

    assert "wait" in workers.stages_s and "wait" not in alone.stages_s  # workers did embed
    assert seen[-1] == (len(docs), len(docs)) and seen == sorted(seen)
    assert workers.counts == alone.counts
    assert workers.counts["failed"] == 1 and workers.counts["added"] == len(docs) - 1
    assert sorted(workers.outcomes, key=lambda o: o.source) == sorted(
        alone.outcomes, key=lambda o: o.source)
    ours, theirs = rows(split), rows(here)
    assert len(ours) > 100 and [r[:5] for r in ours] == [r[:5] for r in theirs]
    stored = np.stack([np.frombuffer(r[5], dtype=np.float32) for r in ours])  # type: ignore[arg-type]
    np.testing.assert_array_equal(
        stored, np.stack([np.frombuffer(r[5], dtype=np.float32) for r in theirs]))  # type: ignore[arg-type]
    texts = [embedding_text(str(r[1]), Chunk(str(r[4]), None, None)) for r in ours[-40:]]
    model = np.asarray(embedder._load().embed(texts, norm=True), dtype=np.float32)
    np.testing.assert_allclose(stored[-40:], model, atol=1e-5)

    again = await ingest_texts(docs, split, embedder, in_process_chunks=0, parse_workers=1)
    assert again.counts["unchanged"] == len(docs) - 1 and again.chunks_written == 0
    here.close()
    split.close()
