"""Passages given to the model should not say the same thing twice, nor all come from one file.

README.md and docs/policy.md share whole blocks; two chunks of one document overlap by design
(200 characters). A near-duplicate of a better-ranked passage adds nothing for the model or the
reader and pushes a different, useful passage out of the top k, so it is dropped. And when one
document has many good passages (the document-level boost lifts them together), its third and
later ones wait behind the best passages of other documents (``PER_DOCUMENT``).

>>> from chatref.retrieval.types import Passage
>>> backups = "Backups run nightly and are kept for thirty days, then deleted by the retention job."
>>> ranked = [
...     Passage("a", "d1", "README.md", "README", None, None, backups),
...     Passage("b", "d2", "docs/policy.md", "Policy", None, None, backups),
...     Passage("c", "d3", "docs/ops.md", "Operations", None, None,
...             "Keys are rotated monthly by the platform team, with a runbook per service."),
... ]
>>> [p.chunk_id for p in diversify(ranked, 5)]
['a', 'c']
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chatref.retrieval.types import Passage

# Share of the smaller passage's word shingles found in the other: above it, a duplicate.
NEAR_DUPLICATE = 0.8
# Passages of one document among the first ones before other documents get a turn; chosen on
# the bundled docs' tune questions (docs/benchmarks.md, "Retrieval quality"). 0: no cap.
PER_DOCUMENT = 2
# Only the first this many passages are checked: the model sees top_k (5 by default) of them,
# and evaluation, which asks for 300 per query, only needs them in order.
DIVERSE_WINDOW = 20
_WORD = re.compile(r"\w+", re.UNICODE)
# ASCII text splits as _WORD would (runs of letters, digits and "_") at C speed: every other
# byte becomes a space.
_ASCII_NON_WORD = bytes(c if c < 128 and (chr(c).isalnum() or c == ord("_")) else 32
                        for c in range(256))


def shingles(text: str, size: int = 3) -> set[tuple[str, ...]]:
    """The ``size``-word runs of ``text`` (lower-cased), or its words when it has fewer.

    >>> sorted(shingles("Keys are rotated monthly"))
    [('are', 'rotated', 'monthly'), ('keys', 'are', 'rotated')]
    """
    lowered = text.lower()
    if lowered.isascii():
        words = lowered.encode("ascii").translate(_ASCII_NON_WORD).decode("ascii").split()
    else:
        words = _WORD.findall(lowered)
    if len(words) < size:
        return {tuple(words)} if words else set()
    # zip builds the tuples in C: a hybrid search checks up to a hundred candidates.
    return set(zip(*(words[i:] for i in range(size)), strict=False))


class _Seen:
    """The shingles of the passages kept so far (at most ``DIVERSE_WINDOW``): one C-level set
    intersection per kept passage is cheaper than a Python look-up per shingle."""

    def __init__(self) -> None:
        self._kept: list[set[tuple[str, ...]]] = []

    def duplicates(self, own: set[tuple[str, ...]]) -> bool:
        return any(len(own & held) / min(len(own), len(held)) >= NEAR_DUPLICATE
                   for held in self._kept if own and held and not own.isdisjoint(held))

    def add(self, own: set[tuple[str, ...]]) -> None:
        self._kept.append(own)


def without_near_duplicates(ranked: Sequence[Passage], top_k: int) -> list[Passage]:
    """The first ``top_k`` passages of ``ranked`` that are not near-duplicates of an earlier one."""
    return diversify(ranked, top_k, per_document=0, window=top_k)


def diversify(ranked: Sequence[Passage], top_k: int, *, per_document: int = PER_DOCUMENT,
              window: int = DIVERSE_WINDOW) -> list[Passage]:
    """The first ``top_k`` passages, best first, where the first ``min(top_k, window)`` have no
    near-duplicate of a better one and at most ``per_document`` of one document (0: no cap).
    A document's passages beyond the cap are deferred, not dropped: they follow the others.
    """
    head = min(top_k, window)
    kept: list[Passage] = []
    deferred: list[Passage] = []
    counts: dict[str, int] = {}
    seen = _Seen()
    position = len(ranked)
    for i, passage in enumerate(ranked):
        if len(kept) == head:
            position = i
            break
        own = shingles(passage.text)
        if seen.duplicates(own):
            continue
        if per_document and counts.get(passage.doc_id, 0) >= per_document:
            deferred.append(passage)
            continue
        seen.add(own)
        counts[passage.doc_id] = counts.get(passage.doc_id, 0) + 1
        kept.append(passage)
    return [*kept, *deferred, *ranked[position:]][:top_k]
