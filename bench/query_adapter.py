"""Can the vector half be trained, or re-shaped, to reach SciFact's 0.72? A study on the *train*
split (never test), at document level (one WordLlama vector per abstract, title and text), vector
search alone:

    .venv/bin/python bench/query_adapter.py ../shared/datasets/scifact \\
        [--study overlap shape adapter titles]

- ``overlap``: how many queries of each split share a relevant document with a train query.
  This is what makes any component fitted to train *labels* suspect: it can learn "this topic
  goes to that abstract" and be right on test for that reason alone. Reads qrels only.
- ``shape``: corpus-fitted, label-free transforms of the vectors (the standard fixes for
  anisotropic static embeddings): subtracting the corpus mean, removing its top principal
  components, whitening, partial whitening.
- ``adapter``: a linear query adapter ``q -> W q`` (documents unchanged, so an index need not be
  re-embedded), fitted to train's labels with a softmax over every abstract (temperature 0.05)
  and an L2 pull of W towards the identity (``lam``), then scored on held-out train queries in
  two 2-fold splits: *random* (held-out queries may share relevant abstracts with the fitted
  ones, as 196 of test's 300 do with train's) and *grouped* (queries that share a relevant
  abstract are kept in one fold, so a held-out query's abstracts were never a target).
- ``titles``: the same adapter fitted without labels, each abstract's title as the query for its
  own abstract (a corpus-only signal any headed corpus has).

The test split is refused (tune_retrieval.refuse_test_split).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.tune_retrieval import refuse_test_split  # noqa: E402
from chatref.retrieval.embedder import WordLlamaEmbedder  # noqa: E402
from chatref.retrieval.evaluation import BeirDataset, load_beir, ndcg_at  # noqa: E402

Matrix = npt.NDArray[np.float32]


class Study:
    def __init__(self, dataset: BeirDataset, embedder: WordLlamaEmbedder) -> None:
        documents = list(dataset.corpus())
        self.dataset = dataset
        self.ids = [dataset.doc_id(d.key) for d in documents]
        self.row = {doc: n for n, doc in enumerate(self.ids)}
        self.docs = embedder.embed_sync([f"{d.title}\n\n{d.text}" for d in documents])
        self.titles = embedder.embed_sync([d.title for d in documents])
        self.query_ids = list(dataset.queries)
        self.queries = embedder.embed_sync([dataset.queries[q] for q in self.query_ids])

    def ndcg(self, queries: Matrix, docs: Matrix | None = None,
             which: Sequence[int] | None = None) -> float:
        """Mean nDCG@10 of cosine search of ``queries`` (rows ``which``) over ``docs``."""
        docs = self.docs if docs is None else docs
        rows = np.arange(len(self.query_ids)) if which is None else np.asarray(which)
        scores = _unit(queries[rows]) @ _unit(docs).T
        top = np.argsort(-scores, axis=1)[:, :10]
        return float(np.mean([
            ndcg_at([self.ids[j] for j in top[n]], self.dataset.qrels.get(self.query_ids[r], {}))
            for n, r in enumerate(rows)]))

    def targets(self, which: Sequence[int]) -> tuple[list[int], list[int]]:
        """(query row, abstract row) for every relevant abstract of the queries ``which``."""
        pairs = [(r, self.row[doc]) for r in which
                 for doc, gain in self.dataset.qrels.get(self.query_ids[r], {}).items()
                 if gain > 0 and doc in self.row]
        return [q for q, _ in pairs], [d for _, d in pairs]


def _unit(x: Matrix) -> Matrix:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def fit_adapter(inputs: Matrix, targets: Sequence[int], docs: Matrix, lam: float,
                steps: int = 200, rate: float = 0.5, temperature: float = 0.05) -> Matrix:
    """W minimising the softmax cross-entropy of ``(W x_i) . docs / temperature`` with
    ``targets[i]`` the right abstract, plus ``lam * |W - I|^2``; plain gradient descent."""
    eye = np.eye(inputs.shape[1], dtype=np.float32)
    weights = eye.copy()
    for _ in range(steps):
        logits = (inputs @ weights.T) @ docs.T / temperature
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        probs[np.arange(len(inputs)), targets] -= 1
        gradient = (probs @ docs).T @ inputs / temperature / len(inputs) + lam * (weights - eye)
        weights -= rate * gradient
    return weights


def overlap(study: Study, shared: Path) -> None:
    train_docs = {doc for rel in study.dataset.qrels.values() for doc, g in rel.items() if g > 0}
    for split in ("train", "test"):
        qrels = load_beir(shared, split=split).qrels
        if split == "train":
            counts: dict[str, int] = {}
            for rel in qrels.values():
                for doc in rel:
                    counts[doc] = counts.get(doc, 0) + 1
            sharing = sum(1 for rel in qrels.values() if any(counts[d] > 1 for d in rel))
        else:
            sharing = sum(1 for rel in qrels.values() if train_docs.intersection(rel))
        print(f"overlap: {split}: {sharing} of {len(qrels)} queries share a relevant abstract "
              f"with {'another ' if split == 'train' else 'a '}train query", flush=True)


def shape(study: Study) -> None:
    mean = study.docs.mean(axis=0)
    centred, queries = study.docs - mean, study.queries - mean
    values, vectors = np.linalg.eigh(np.cov(centred.T))
    order = np.argsort(-values)
    values, vectors = values[order], vectors[:, order]
    print(f"shape: as embedded {study.ndcg(study.queries):.4f}; corpus mean subtracted "
          f"{study.ndcg(queries, centred):.4f}", flush=True)
    for k in (1, 3, 8, 20):
        keep = np.eye(len(mean)) - vectors[:, :k] @ vectors[:, :k].T
        print(f"shape: top {k} components removed {study.ndcg(queries @ keep, centred @ keep):.4f}",
              flush=True)
    for power in (0.25, 0.5):
        scale = vectors / values ** power
        print(f"shape: whitened to the power {power} "
              f"{study.ndcg(queries @ scale, centred @ scale):.4f}", flush=True)


def adapter(study: Study, lams: Sequence[float]) -> None:
    rng = np.random.default_rng(0)
    every = rng.permutation(len(study.query_ids))
    folds = {"random": (every[: len(every) // 2], every[len(every) // 2:]),
             "grouped": _grouped_folds(study, rng)}
    for name, (first, second) in folds.items():
        base = [study.ndcg(study.queries, which=held) for held in (second, first)]
        for lam in lams:
            held_out = []
            for fitted, held in ((first, second), (second, first)):
                rows, targets = study.targets(fitted)
                weights = fit_adapter(study.queries[rows], targets, study.docs, lam)
                held_out.append(study.ndcg(study.queries @ weights.T, which=held))
            print(f"adapter: {name} folds, lam {lam}: held-out {held_out[0]:.4f} / "
                  f"{held_out[1]:.4f} against {base[0]:.4f} / {base[1]:.4f} unadapted", flush=True)


def _grouped_folds(study: Study, rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """Two folds of train queries, every query with all others that share an abstract."""
    parent = list(range(len(study.query_ids)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first_with: dict[str, int] = {}
    for row, query in enumerate(study.query_ids):
        for doc in study.dataset.qrels.get(query, {}):
            if doc in first_with:
                parent[root(row)] = root(first_with[doc])
            else:
                first_with[doc] = row
    groups: dict[int, list[int]] = {}
    for row in range(len(parent)):
        groups.setdefault(root(row), []).append(row)
    order = list(groups.values())
    rng.shuffle(order)  # type: ignore[arg-type]
    folds: tuple[list[int], list[int]] = ([], [])
    for group in order:
        (folds[0] if len(folds[0]) <= len(folds[1]) else folds[1]).extend(group)
    print(f"adapter: {len(groups)} groups of queries sharing abstracts; grouped folds of "
          f"{len(folds[0])} and {len(folds[1])}", flush=True)
    return folds


def titles(study: Study, lams: Sequence[float]) -> None:
    for lam in lams:
        weights = fit_adapter(study.titles, list(range(len(study.ids))), study.docs, lam)
        print(f"titles: lam {lam}: train {study.ndcg(study.queries @ weights.T):.4f} against "
              f"{study.ndcg(study.queries):.4f} unadapted", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--split", default="train")
    parser.add_argument("--study", nargs="+", default=["overlap", "shape", "adapter"],
                        choices=["overlap", "shape", "adapter", "titles"])
    parser.add_argument("--lam", type=float, nargs="+", default=[0.3, 0.1, 0.03])
    parser.add_argument("--cache", type=Path, default=Path("bench/.work/wordllama"))
    args = parser.parse_args()
    refuse_test_split(args.split)
    study = Study(load_beir(args.dataset, split=args.split), WordLlamaEmbedder(args.cache))
    for name in args.study:
        if name == "overlap":
            overlap(study, args.dataset)
        elif name == "shape":
            shape(study)
        elif name == "adapter":
            adapter(study, args.lam)
        else:
            titles(study, args.lam)


if __name__ == "__main__":
    main()
