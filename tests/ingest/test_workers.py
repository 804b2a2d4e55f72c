"""The parse pool keeps several small files queued in each worker (no round trip per file); a
worker stopped for one file (time limit, death) costs that file only: the files queued behind it
are parsed by the next worker. With WordLlama the workers also embed, to WordLlama's vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chatref.ingest.chunking import embedding_text
from chatref.ingest.limits import FileLimits
from chatref.ingest.workers import Parsed, ParseJob, ParsePool
from chatref.retrieval.embedder import WordLlamaEmbedder
from tests.ingest import hostile


def run(pool: ParsePool[ParseJob], jobs: list[ParseJob], on_prepare: dict[str, object]
        ) -> tuple[dict[str, object], int]:
    """Every job's result by name, and the most jobs seen queued in one worker."""
    deepest = 0

    def prepare(job: ParseJob) -> ParseJob:
        nonlocal deepest
        deepest = max([deepest] + [len(w.inflight) for w in pool._workers])
        action = on_prepare.get(job.name)
        if callable(action):
            action()
        return job

    results: dict[str, object] = {}
    for item, result in pool.run(jobs, prepare):
        assert item.name not in results, f"{item.name} answered twice"
        results[item.name] = result
    return results, deepest


def test_small_files_are_queued_in_a_worker_and_each_answered_once() -> None:
    jobs = [ParseJob(f"{n}.md", f"# Title {n}\n\nbody {n}".encode()) for n in range(300)]
    with ParsePool[ParseJob](limits=FileLimits(), workers=1) as pool:
        results, deepest = run(pool, jobs, {})
    assert {name: getattr(r, "title", None) for name, r in results.items()} == {
        f"{n}.md": f"Title {n}" for n in range(300)}
    assert deepest > 1


def test_files_queued_behind_a_timed_out_file_are_parsed_by_the_next_worker(
    tmp_path: Path,
) -> None:
    slow = hostile.many_paragraphs_docx(tmp_path / "slow.docx", count=90_000).read_bytes()
    assert len(slow) < 20_000  # small enough to have files queued behind it
    jobs = [ParseJob("slow.docx", slow)] + [ParseJob(f"{n}.md", b"text") for n in range(5)]
    with ParsePool[ParseJob](limits=FileLimits(timeout_s=0.5), workers=1) as pool:
        results, deepest = run(pool, jobs, {})
    assert getattr(results["slow.docx"], "reason", "") == (
        "over the per-file time limit of 0.5 s (parsing stopped)")
    assert all(isinstance(results[f"{n}.md"], Parsed) for n in range(5))
    assert deepest > 1


def test_files_queued_behind_a_file_that_kills_its_worker_are_parsed(tmp_path: Path) -> None:
    slow = hostile.many_paragraphs_docx(tmp_path / "dies.docx", count=90_000).read_bytes()
    jobs = [ParseJob("dies.docx", slow)] + [ParseJob(f"{n}.md", b"text") for n in range(5)]
    holder: list[ParsePool[ParseJob]] = []

    def kill() -> None:  # dies.docx takes seconds: kill its worker while files wait behind it
        for worker in holder[0]._workers:
            if getattr(worker.busy, "name", None) == "dies.docx":
                worker.process.kill()

    with ParsePool[ParseJob](limits=FileLimits(), workers=1) as pool:
        holder.append(pool)
        results, deepest = run(pool, jobs, {"4.md": kill})
    assert "the parser process died (exit code -9)" in getattr(results["dies.docx"], "reason", "")
    assert all(isinstance(results[f"{n}.md"], Parsed) for n in range(5))
    assert deepest > 1


def test_workers_embed_with_a_portable_embedder_the_same_vectors_as_wordllama(
    embedder: WordLlamaEmbedder,
) -> None:
    long_text = "\n\n".join(f"Paragraph {n} about key rotation and  double spaces." * 8
                            for n in range(700))  # over 256 chunks: the worker says so first
    jobs = [ParseJob("short.md", b"# Runbook\n\nRotate the key.\n\n## Later\n\nAgain."),
            ParseJob("long.txt", long_text.encode())]
    with ParsePool[ParseJob](limits=FileLimits(), workers=1, embedder=embedder) as pool:
        results, _ = run(pool, jobs, {})
    model = embedder._load()
    for name in ("short.md", "long.txt"):
        parsed = results[name]
        assert isinstance(parsed, Parsed) and parsed.vectors is not None
        assert parsed.embed_s > 0
        texts = [embedding_text(parsed.title, c) for c in parsed.chunks]
        assert parsed.vectors.shape == (len(texts), embedder.dimension)
        theirs = np.asarray(model.embed(texts, norm=True), dtype=np.float32)
        np.testing.assert_allclose(parsed.vectors, theirs, atol=1e-5)
    assert len(getattr(results["long.txt"], "chunks", [])) > 256


def test_without_a_portable_embedder_workers_only_parse() -> None:
    with ParsePool[ParseJob](limits=FileLimits(), workers=1) as pool:
        results, _ = run(pool, [ParseJob("a.md", b"# A\n\nalpha")], {})
    parsed = results["a.md"]
    assert isinstance(parsed, Parsed) and parsed.vectors is None
