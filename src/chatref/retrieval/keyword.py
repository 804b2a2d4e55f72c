"""BM25 keyword search over postings kept in memory (numpy), beside the SQLite index.

The SQLite file holds the chunks; this module holds what keyword search needs of them: for each
stemmed word (a *term*), the sorted ids of the chunks that use it and how often each of the three
fields (title, section, text) does, as numpy arrays (CSR: one ``offsets`` array into ``ids`` and
the term frequencies), and every chunk's length. BM25 is computed at query time from these (the
formula of SQLite FTS5's ``bm25()``, which this replaced: weighted term frequency across the
fields, length over all fields, IDF from the live chunk count and the term's document count), so
adding or removing chunks never rescoring anything: added chunks go into a small *delta* and
removed ones are masked out (*tombstones*) until ``merge`` folds both into the arrays.

A query scores its rarest terms first into a dense array indexed by chunk id, and once the terms
left could not lift an unseen chunk into the top ``limit`` (their BM25 upper bounds add up to
less than the current ``limit``-th score: MaxScore), the common ones are only looked up for the
chunks already found (a binary search each): the top ``limit`` is exact, and a common word costs
little whatever its number of chunks.

The tokenizer is the same on both sides: Unicode letters and digits, lower-cased, diacritics
removed (what FTS5's ``unicode61 remove_diacritics 2`` did), stopwords dropped, Snowball stems.

>>> postings = KeywordPostings()
>>> postings.add([(1, "Rotation", None, "Rotate the keys every ninety days."),
...               (2, "Failover", "Regions", "Fail over to the second région."),
...               (3, "Quotas", None, "Each deployment has its own quota of tokens.")])
>>> [chunk for chunk, _ in postings.search("key rotation", 5)]
[1]
>>> [chunk for chunk, _ in postings.search("How do I fail over to another region?", 5)]
[2]
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import re
import unicodedata
from collections.abc import Container, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import Stemmer

from chatref.retrieval.text import STOPWORDS, compound_candidates, query_terms

# The Snowball stemmer ("english" is Porter's own successor; "porter" the 1980 algorithm FTS5
# used). Chosen on SciFact train (docs/benchmarks.md, "BM25 outside FTS5").
STEMMER = "english"
# BM25's term-frequency saturation and length normalisation (FTS5's were fixed at 1.2 and 0.75),
# chosen on SciFact train: hybrid nDCG@10 0.7256 against 0.7210 at FTS5's values. Lower values
# scored up to 0.7274 on train but lost bundled-docs questions at hit@1 (docs/benchmarks.md,
# "Keyword search outside FTS5").
K1 = 0.9
B = 0.5
# A joined pair ("failover") is searched only when at least this many chunks use it: rarer ones
# are mostly extraction glitches ("breastcancer" once in SciFact) whose huge IDF would decide
# the ranking on their own.
MIN_COMPOUND_DF = 3
# A query keeps at most this many terms, its rarest (a pasted page must not cost a scan per word).
MAX_QUERY_TERMS = 64
# Terms in more chunks than this may be looked up for the candidates only (MaxScore, below);
# rarer ones are cheaper to score whole than to decide about.
LOOKUP_FROM = 2_000
# How many of the chunks found first decide whether to switch to lookups (any ``limit`` chunks'
# scores bound the final ``limit``-th from below; more would cost more than they tighten it).
THRESHOLD_SAMPLE = 5_000
# A common term's postings are looked up for the candidates by binary search (~50 ns each) when it
# has over this many times as many postings as there are candidates, else by reading a mark per
# posting (~2-3 ns each).
LOOKUP_SEARCH = 20
# Added chunks stay in the delta until it holds this many postings (or a twentieth of the
# arrays'), then ``merge`` folds it in.
MERGE_DELTA_POSTINGS = 200_000
FORMAT = 1  # of the saved file; another value means a rebuild

_WORD = re.compile(r"[^\W_]+")
_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_FILE = re.compile(r"\.keywords-(\d+)\.npz$")
_NO_TERM = -1
_BATCH = 20_000  # chunks tokenized per batch while building

Row = tuple[int, str, str | None, str]  # chunk id, title, section, text
Int32s = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float32]


def fold(text: str) -> str:
    """Lower-cased, diacritics removed: "Café Ürün" -> "cafe urun".

    >>> fold("Café Ürün ÅNGSTRÖM")
    'cafe urun angstrom'
    """
    text = text.lower()
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFKD", text)))


def words(text: str) -> list[str]:
    """The words of ``text`` as the index sees them (folded; stopwords kept).

    >>> words("Re-route: the naïve_fallback!")
    ['re', 'route', 'the', 'naive', 'fallback']
    """
    return _WORD.findall(fold(text))


class _Terms(dict[str, int]):
    """word -> term id (``_NO_TERM`` for stopwords), filled on first sight of each word."""

    def __init__(self, vocabulary: dict[str, int], stemmer: Stemmer.Stemmer) -> None:
        super().__init__()
        self._vocabulary = vocabulary
        self._stem = stemmer.stemWord

    def __missing__(self, word: str) -> int:
        if word in STOPWORDS:
            term = _NO_TERM
        else:
            term = self._vocabulary.setdefault(self._stem(word), len(self._vocabulary))
        self[word] = term
        return term


class _AsciiTerms(dict[bytes, int]):
    """The same for the words of ASCII texts, kept as the bytes ``ascii_words`` gives."""

    def __init__(self, terms: _Terms) -> None:
        super().__init__()
        self._terms = terms

    def __missing__(self, word: bytes) -> int:
        term = self[word] = self._terms[word.decode()]
        return term


# For an ASCII text, ``words`` in one C call: letters lower-cased, digits kept, every other byte
# (``_`` included, as ``_WORD`` excludes it) a separator for ``bytes.split``.
_ASCII = bytes(c + 32 if 65 <= c <= 90 else c if 48 <= c <= 57 or 97 <= c <= 122 else 32
               for c in range(256))


def ascii_words(text: str) -> list[bytes]:
    """``words`` of an ASCII ``text``, as bytes, without the regular expression (the hot path of
    a postings build: docs/benchmarks.md, "Ingestion throughput, fourth round").

    >>> ascii_words("Re-route: the NAIVE_fallback x2!")
    [b're', b'route', b'the', b'naive', b'fallback', b'x2']
    """
    return text.encode().translate(_ASCII).split()


def _lookup(ids: Int32s, tf: npt.NDArray[np.uint8],
            wanted: Int32s) -> tuple[Int32s, npt.NDArray[np.uint8]]:
    """The postings among ``ids`` (ascending) of the chunks ``wanted`` (a binary search each)."""
    if not len(ids) or not len(wanted):
        return ids[:0], tf[:, :0]
    where = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    where = where[ids[where] == wanted]
    return ids[where], tf[:, where]


class KeywordPostings:
    """Every chunk's terms, searchable by BM25 (see the module's text)."""

    def __init__(
        self, weights: tuple[float, float, float] = (2.0, 2.0, 1.0), *,
        k1: float = K1, b: float = B, stemmer: str = STEMMER,
    ) -> None:
        self.weights = weights
        self.k1, self.b = k1, b
        self.stemmer = stemmer
        self._stemmer = Stemmer.Stemmer(stemmer)
        self._vocabulary: dict[str, int] = {}  # stem -> term id
        self._terms = _Terms(self._vocabulary, self._stemmer)
        self._ascii_terms = _AsciiTerms(self._terms)
        self._stems: dict[str, str] = {}  # query word -> stem
        # The merged arrays: term t's chunks are ids[offsets[t]:offsets[t + 1]], ascending.
        self._offsets = np.zeros(1, dtype=np.int64)
        self._ids = np.zeros(0, dtype=np.int32)
        self._tf = np.zeros((3, 0), dtype=np.uint8)  # per field, saturating at 255
        self._peak: npt.NDArray[np.uint8] | None = None  # per field and term: its highest tf
        self._min_norm = 0.0  # the smallest ``_norm`` of a chunk with words
        # Dense by chunk id: its length over all fields (0: no such chunk), whether the merged
        # arrays hold it, whether that version is removed (a tombstone).
        self._length = np.zeros(0, dtype=np.float32)
        self._merged = np.zeros(0, dtype=bool)
        self._dead = np.zeros(0, dtype=bool)
        self._dead_count = 0
        self._dead_in: dict[int, int] = {}  # term -> its tombstoned postings (cache)
        # The delta: added chunks' postings, sorted by (term, id).
        self._delta = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32),
                       np.zeros((3, 0), dtype=np.uint8))
        self._delta_docs = np.zeros(0, dtype=np.int32)
        self._chunks = 0  # live chunks
        self._total_length = 0.0
        self._norm = np.zeros(0, dtype=np.float32)  # k1 * (1 - b + b * length / average)
        self._norm_stale = True
        self._scores = np.zeros(0, dtype=np.float32)  # the query accumulator, zero between uses
        self._mark = np.zeros(0, dtype=bool)  # the query's candidates once it looks terms up
        # The last search's work (bench/): postings scored whole, chunks looked up.
        self.last_work = (0, 0)

    # ---- sizes ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._chunks

    @property
    def postings(self) -> int:
        return len(self._ids) + len(self._delta[0])

    def nbytes(self) -> int:
        """Memory held by the arrays (the vocabulary's Python strings not counted)."""
        arrays: list[npt.NDArray[Any]] = [
            self._offsets, self._ids, self._tf, self._length, self._merged, self._dead,
            *self._delta, self._delta_docs, self._norm, self._scores, self._mark]
        return sum(a.nbytes for a in arrays)

    def _grow(self, top: int) -> None:
        """Make the dense arrays hold chunk id ``top``."""
        if top < len(self._length):
            return
        size = max(top + 1, len(self._length) * 5 // 4)
        for name in ("_length", "_merged", "_dead", "_norm", "_scores", "_mark"):
            old = getattr(self, name)
            new = np.zeros(size, dtype=old.dtype)
            new[:len(old)] = old
            setattr(self, name, new)

    # ---- tokenizing ---------------------------------------------------------------------
    def _tokenize(self, rows: Sequence[Row]) -> tuple[Int32s, Int32s, npt.NDArray[np.uint8],
                                                       Floats]:
        """Postings (term, chunk id, tf per field) of ``rows``, sorted by term then by the rows'
        order, and each row's length."""
        count = len(rows)
        by_word, by_ascii = self._terms.__getitem__, self._ascii_terms.__getitem__
        keys, counts = [], []
        lengths = np.zeros(count, dtype=np.float32)
        fields = ([r[1] for r in rows], [r[2] or "" for r in rows], [r[3] for r in rows])
        for texts in fields:
            found: list[int] = []  # every text's term ids, one after the other
            ends = [0]
            for text in texts:
                if text.isascii():
                    found.extend(map(by_ascii, ascii_words(text)))
                else:
                    found.extend(map(by_word, words(text)))
                ends.append(len(found))
            bounds = np.array(ends, dtype=np.int64)
            sizes = bounds[1:] - bounds[:-1]
            lengths += sizes
            flat = np.array(found, dtype=np.int64)
            local = np.repeat(np.arange(count, dtype=np.int64), sizes)
            keep = flat != _NO_TERM
            unique, n = np.unique(flat[keep] * count + local[keep], return_counts=True)
            keys.append(unique)
            counts.append(np.minimum(n, 255).astype(np.uint8))
        union, inverse = np.unique(np.concatenate(keys), return_inverse=True)
        tf = np.zeros((3, len(union)), dtype=np.uint8)
        start = 0
        for field in range(3):
            tf[field, inverse[start:start + len(keys[field])]] = counts[field]
            start += len(keys[field])
        ids = np.fromiter((row[0] for row in rows), dtype=np.int32, count=count)
        return ((union // count).astype(np.int32), ids[union % count], tf, lengths)

    # ---- changes ----------------------------------------------------------------------------
    def build(self, rows: Iterable[Row]) -> None:
        """Replace everything with ``rows`` (in ascending chunk id order)."""
        self.__init__(self.weights, k1=self.k1, b=self.b, stemmer=self.stemmer)  # type: ignore[misc]
        parts = []
        iterator = iter(rows)
        while batch := list(itertools.islice(iterator, _BATCH)):
            term, ids, tf, lengths = self._tokenize(batch)
            parts.append((term, ids, tf))
            chunk_ids = np.fromiter((r[0] for r in batch), dtype=np.int64, count=len(batch))
            self._grow(int(chunk_ids.max()))
            self._length[chunk_ids] = lengths
            self._merged[chunk_ids] = True
        # Each part is sorted by term and holds higher ids than the one before: writing the
        # parts in order into each term's slot keeps every term's ids ascending.
        df = np.zeros(len(self._vocabulary), dtype=np.int64)
        for term, _, _ in parts:
            df += np.bincount(term, minlength=len(df))
        self._offsets = np.concatenate([[0], np.cumsum(df)])
        self._peak = None
        total = int(self._offsets[-1])
        self._ids = np.zeros(total, dtype=np.int32)
        self._tf = np.zeros((3, total), dtype=np.uint8)
        cursor = self._offsets[:-1].copy()
        for term, ids, tf in parts:
            first = np.searchsorted(term, term, side="left")
            position = cursor[term] + (np.arange(len(term)) - first)
            self._ids[position] = ids
            self._tf[:, position] = tf
            cursor += np.bincount(term, minlength=len(cursor))
        self._chunks = int(self._merged.sum())
        self._total_length = float(self._length.sum(dtype=np.float64))
        self._norm_stale = True
        # Caches of every word seen (~150 MB at 1M chunks): refilled by use.
        self._terms.clear()
        self._ascii_terms.clear()

    def remove(self, chunk_ids: Iterable[int]) -> None:
        """Forget these chunks (ids that are not here are ignored)."""
        ids = np.unique(np.fromiter(chunk_ids, dtype=np.int64))
        ids = ids[(ids >= 0) & (ids < len(self._length))]
        if not len(ids):
            return
        in_delta = np.isin(self._delta_docs, ids)
        if in_delta.any():
            gone = self._delta_docs[in_delta]
            self._chunks -= len(gone)
            self._total_length -= float(self._length[gone].sum(dtype=np.float64))
            self._length[gone] = 0
            self._delta_docs = self._delta_docs[~in_delta]
            keep = ~np.isin(self._delta[1], gone)
            self._delta = (self._delta[0][keep], self._delta[1][keep], self._delta[2][:, keep])
            ids = ids[~np.isin(ids, gone)]
        dying = ids[self._merged[ids] & ~self._dead[ids]]
        if len(dying):
            self._dead[dying] = True
            self._dead_count += len(dying)
            self._dead_in.clear()
            self._chunks -= len(dying)
            self._total_length -= float(self._length[dying].sum(dtype=np.float64))
            self._length[dying] = 0
        self._norm_stale = True

    def add(self, rows: Sequence[Row]) -> None:
        """Add (or replace) these chunks."""
        if not rows:
            return
        self.remove(r[0] for r in rows)
        rows = sorted(rows, key=lambda r: r[0])
        term, ids, tf, lengths = self._tokenize(rows)
        chunk_ids = np.fromiter((r[0] for r in rows), dtype=np.int32, count=len(rows))
        self._grow(int(chunk_ids.max()))
        self._length[chunk_ids] = lengths
        self._chunks += len(rows)
        self._total_length += float(lengths.sum(dtype=np.float64))
        dterm, dids, dtf = self._delta
        term, ids = np.concatenate([dterm, term]), np.concatenate([dids, ids])
        order = np.lexsort((ids, term))
        self._delta = (term[order], ids[order], np.concatenate([dtf, tf], axis=1)[:, order])
        self._delta_docs = np.union1d(self._delta_docs, chunk_ids).astype(np.int32)
        self._norm_stale = True
        if len(self._delta[0]) > max(MERGE_DELTA_POSTINGS, len(self._ids) // 20):
            self.merge()

    def merge(self) -> None:
        """Fold the delta and the tombstones into the arrays."""
        if (not len(self._delta[0]) and not self._dead_count
                and len(self._offsets) == len(self._vocabulary) + 1):
            return
        ids, tf, counts = self._ids, self._tf, np.diff(self._offsets)
        if self._dead_count:
            keep = ~self._dead[ids]
            kept = np.concatenate([[0], np.cumsum(keep)])
            counts = kept[self._offsets[1:]] - kept[self._offsets[:-1]]
            ids, tf = ids[keep], tf[:, keep]
            self._merged[self._dead] = False
            self._dead[:] = False
            self._dead_count = 0
            self._dead_in.clear()
        counts = np.concatenate([counts, np.zeros(len(self._vocabulary) - len(counts), np.int64)])
        offsets = np.concatenate([[0], np.cumsum(counts)])
        dterm, dids, dtf = self._delta
        if len(dterm):
            # Where each delta posting goes among its term's ids (a binary search per term).
            position = np.empty(len(dterm), dtype=np.int64)
            bounds = np.flatnonzero(np.diff(dterm)) + 1
            for start, end in zip(np.concatenate([[0], bounds]),
                                  np.concatenate([bounds, [len(dterm)]]), strict=True):
                t = int(dterm[start])
                span = ids[offsets[t]:offsets[t + 1]]
                position[start:end] = offsets[t] + np.searchsorted(span, dids[start:end])
            ids = np.insert(ids, position, dids)
            tf = np.insert(tf, position, dtf, axis=1)
            counts += np.bincount(dterm, minlength=len(counts))
            self._merged[self._delta_docs] = True
        self._ids, self._tf = np.ascontiguousarray(ids), np.ascontiguousarray(tf)
        self._offsets = np.concatenate([[0], np.cumsum(counts)])
        self._peak = None
        self._delta = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32),
                       np.zeros((3, 0), dtype=np.uint8))
        self._delta_docs = np.zeros(0, dtype=np.int32)

    # ---- searching --------------------------------------------------------------------------
    def _stem(self, word: str) -> str:
        stem = self._stems.get(word)
        if stem is None:
            if len(self._stems) > 100_000:
                self._stems.clear()
            stem = self._stems[word] = self._stemmer.stemWord(word)
        return stem

    def _parts(self, term: int) -> list[tuple[Int32s, npt.NDArray[np.uint8], bool]]:
        """Term ``term``'s postings: the merged arrays' (tombstones included: the third item is
        True) and the delta's, each with its ids ascending."""
        parts = []
        if term < len(self._offsets) - 1:
            start, end = self._offsets[term], self._offsets[term + 1]
            parts.append((self._ids[start:end], self._tf[:, start:end], True))
        dterm = self._delta[0]
        if len(dterm):
            start, end = np.searchsorted(dterm, [term, term + 1])
            if end > start:
                parts.append((self._delta[1][start:end], self._delta[2][:, start:end], False))
        return parts

    def frequency(self, stem: str) -> int:
        """How many live chunks use the term ``stem``."""
        term = self._vocabulary.get(stem)
        if term is None:
            return 0
        found = 0
        if term < len(self._offsets) - 1:
            found = int(self._offsets[term + 1] - self._offsets[term])
            if self._dead_count:
                if term not in self._dead_in:
                    ids = self._ids[self._offsets[term]:self._offsets[term + 1]]
                    self._dead_in[term] = int(np.count_nonzero(self._dead[ids]))
                found -= self._dead_in[term]
        dterm = self._delta[0]
        if len(dterm):
            start, end = np.searchsorted(dterm, [term, term + 1])
            found += int(end - start)
        return found

    def query_stems(self, query: str) -> list[str]:
        """The query's terms: its content words' stems, plus the joined pairs the index knows
        ("fail over" -> "failover") in at least ``MIN_COMPOUND_DF`` chunks."""
        folded = fold(query)
        stems = dict.fromkeys(self._stem(word) for word in query_terms(folded))
        for compound in compound_candidates(folded):
            stem = self._stem(compound)
            if stem not in stems and self.frequency(stem) >= MIN_COMPOUND_DF:
                stems[stem] = None
        return list(stems)

    def _weighted(self, tf: npt.NDArray[np.uint8]) -> Floats:
        title, section, text = self.weights
        out: Floats = tf[2].astype(np.float32)
        if text != 1.0:
            out *= text
        if tf[0].any():
            out += np.float32(title) * tf[0]
        if tf[1].any():
            out += np.float32(section) * tf[1]
        return out

    def _refresh_norm(self) -> None:
        if self._norm_stale:
            average = self._total_length / self._chunks if self._chunks else 1.0
            np.multiply(self._length, np.float32(self.b / max(average, 1e-9)), out=self._norm)
            self._norm += np.float32(1.0 - self.b)
            self._norm *= np.float32(self.k1)
            used = self._length > 0
            shortest = float(self._length[used].min()) if used.any() else 0.0
            self._min_norm = self.k1 * (1.0 - self.b + self.b * shortest / max(average, 1e-9))
            self._norm_stale = False

    def _bound(self, term: int, idf: float) -> float:
        """The most term ``term`` adds to any chunk's score: its highest weighted frequency in
        the shortest chunk."""
        if self._peak is None:
            starts = self._offsets[:-1]
            empty = starts == self._offsets[1:]
            self._peak = np.zeros((3, len(starts)), dtype=np.uint8)
            if len(self._ids):
                for field in range(3):
                    peak = np.maximum.reduceat(self._tf[field], np.minimum(starts,
                                                                           len(self._ids) - 1))
                    peak[empty] = 0
                    self._peak[field] = peak
        peak = self._peak[:, term] if term < self._peak.shape[1] else np.zeros(3, np.uint8)
        for _, tf, merged in self._parts(term):
            if not merged:
                peak = np.maximum(peak, tf.max(axis=1))
        weighted = sum(w * float(p) for w, p in zip(self.weights, peak, strict=True))
        return idf * (self.k1 + 1.0) * weighted / (weighted + self._min_norm)

    def search(self, query: str, limit: int) -> list[tuple[int, float]]:
        """The ``limit`` best chunks for ``query`` by BM25, best first, as (chunk id, score)."""
        if limit <= 0 or not self._chunks:
            return []
        self._refresh_norm()
        n = self._chunks
        plan = []  # (df, term id, idf) of the terms some chunk uses
        for stem in self.query_stems(query):
            term = self._vocabulary.get(stem)
            df = self.frequency(stem) if term is not None else 0
            if term is not None and df:
                # FTS5's IDF: a term in more than half the chunks weighs almost nothing.
                plan.append((df, term, max(math.log((n - df + 0.5) / (df + 0.5)), 1e-6)))
        plan.sort()  # rarest first
        del plan[MAX_QUERY_TERMS:]
        bounds = [self._bound(term, idf) for _, term, idf in plan]
        scores, norm = self._scores, self._norm
        left = sum(bounds)  # bounds of the terms to come
        done = 0.0  # bounds of the terms scored
        seen: list[Int32s] = []  # the chunks scored so far, each once
        found: Int32s | None = None  # the only chunks that can still make the top ``limit``
        threshold = 0.0
        whole = lookups = taken = 0
        sample: Int32s = np.zeros(0, dtype=np.int32)  # the first ``THRESHOLD_SAMPLE`` seen
        try:
            for (df, term, idf), bound in zip(plan, bounds, strict=True):
                if df > LOOKUP_FROM and (found is not None or done > left):
                    # MaxScore: once the terms left cannot lift an unseen chunk above the
                    # current limit-th score, they are only looked up for the chunks seen. Any
                    # ``limit`` chunks' scores bound that score from below: those the rarest
                    # terms found are the likeliest to be high and the cheapest to rank.
                    while len(sample) < THRESHOLD_SAMPLE and taken < len(seen):
                        sample = np.concatenate(
                            [sample, seen[taken][:THRESHOLD_SAMPLE - len(sample)]])
                        taken += 1
                    if len(sample) >= limit:
                        threshold = max(threshold, float(
                            np.partition(scores[sample], -limit)[-limit]))
                    if found is None and threshold <= left < 2 * threshold:
                        # Close to switching: the exact limit-th score so far, from every chunk
                        # seen (a pass over them; 4% fewer postings scored whole at 1M).
                        everything = np.concatenate(seen)
                        threshold = float(np.partition(scores[everything], -limit)[-limit])
                    if found is None and left < threshold:
                        found = np.concatenate(seen)
                        self._mark[found] = True
                if found is not None:
                    keep = scores[found] + np.float32(left) >= np.float32(threshold)
                    self._mark[found[~keep]] = False
                    found = found[keep]
                left -= bound
                done += bound
                for ids, tf, merged in self._parts(term):
                    if found is not None and len(ids) > LOOKUP_SEARCH * len(found):
                        lookups += len(found)  # a binary search for each candidate
                        ids, tf = _lookup(ids, tf, found)
                    elif found is not None:
                        lookups += len(ids)  # a mark read for each posting
                        hit = self._mark[ids]
                        ids, tf = ids[hit], tf[:, hit]
                    else:
                        whole += len(ids)
                    if merged and self._dead_count:
                        keep = ~self._dead[ids]
                        ids, tf = ids[keep], tf[:, keep]
                    weighted = self._weighted(tf)
                    before = scores[ids]
                    if found is None:
                        seen.append(ids[before == 0])
                    scores[ids] = before + np.float32(idf * (self.k1 + 1.0)) * weighted / (
                        weighted + norm[ids])
            touched = found if found is not None else (
                np.concatenate(seen) if seen else np.zeros(0, dtype=np.int32))
            values = scores[touched]
            if len(touched) > limit:
                best = np.argpartition(-values, limit - 1)[:limit]
                touched, values = touched[best], values[best]
            order = np.lexsort((touched, -values))
            self.last_work = (whole, lookups)
            return [(int(touched[i]), float(values[i])) for i in order]
        finally:
            for ids in seen:
                scores[ids] = 0.0
            if found is not None:
                self._mark[found] = False

    # ---- the file beside the SQLite index ---------------------------------------------------
    @staticmethod
    def files(index_path: Path) -> list[tuple[int, Path]]:
        """The saved postings of ``index_path``, newest (highest log sequence) first."""
        found = []
        for candidate in index_path.parent.glob(f"{index_path.name}.keywords-*.npz"):
            match = _FILE.search(candidate.name)
            if match:
                found.append((int(match.group(1)), candidate))
        return sorted(found, reverse=True)

    def save(self, index_path: Path, seq: int, owner: str = "") -> Path:
        """Merge, write atomically as the file for log sequence ``seq`` of the index ``owner``
        (its identity), drop older files."""
        self.merge()
        target = index_path.with_name(f"{index_path.name}.keywords-{seq}.npz")
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        vocabulary = "\n".join(self._vocabulary).encode()
        with partial.open("wb") as out:
            np.savez(out, format=np.array([FORMAT]), stemmer=np.frombuffer(
                self.stemmer.encode(), dtype=np.uint8), vocabulary=np.frombuffer(
                vocabulary, dtype=np.uint8), offsets=self._offsets, ids=self._ids, tf=self._tf,
                length=self._length, merged=self._merged, owner=np.array(owner))
        os.replace(partial, target)
        for other_seq, other in self.files(index_path):
            if other_seq < seq:
                with contextlib.suppress(OSError):  # another process may have removed it
                    other.unlink()
        return target

    def load(self, file: Path, owners: Container[str] | None = None) -> None:
        """Replace everything with the postings saved in ``file``; raises ``ValueError`` if it
        is not such a file (truncated, overwritten, another format or stemmer) or, given
        ``owners``, was saved for an index not among them (a file saved without one has "")."""
        try:
            with file.open("rb") as handle, np.load(handle) as saved:
                if int(saved["format"][0]) != FORMAT:
                    raise ValueError(f"{file}: format {int(saved['format'][0])}")
                owner = str(saved["owner"]) if "owner" in saved else ""
                stemmer = saved["stemmer"].tobytes().decode()
                text = saved["vocabulary"].tobytes().decode()
                offsets, ids, tf = saved["offsets"], saved["ids"], saved["tf"]
                length, merged = saved["length"], saved["merged"]
        except Exception as exc:  # noqa: BLE001 - numpy and zipfile raise many kinds on garbage
            raise ValueError(f"{file} is not a keyword postings file: {exc}") from exc
        if owners is not None and owner not in owners:
            raise ValueError(f"{file} holds the postings of another index")
        vocabulary = text.split("\n") if text else []
        if (stemmer != self.stemmer or offsets.dtype != np.int64 or ids.dtype != np.int32
                or tf.dtype != np.uint8 or len(offsets) != len(vocabulary) + 1
                or tf.shape != (3, len(ids)) or int(offsets[-1]) != len(ids)
                or len(length) != len(merged) or (len(ids) and int(ids.max()) >= len(length))):
            raise ValueError(f"{file} does not hold consistent keyword postings")
        self.__init__(self.weights, k1=self.k1, b=self.b, stemmer=self.stemmer)  # type: ignore[misc]
        self._vocabulary.update(zip(vocabulary, range(len(vocabulary)), strict=True))
        self._offsets, self._ids, self._tf = offsets, ids, tf
        self._peak = None
        self._grow(len(length) - 1)
        self._length[:len(length)] = length
        self._merged[:len(merged)] = merged
        self._chunks = int(merged.sum())
        self._total_length = float(self._length.sum(dtype=np.float64))
        self._norm_stale = True
