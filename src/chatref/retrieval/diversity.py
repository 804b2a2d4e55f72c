"""Passages given to the model should not say the same thing twice.

README.md and docs/policy.md share whole blocks; two chunks of one document overlap by design
(200 characters). A near-duplicate of a better-ranked passage adds nothing for the model or the
reader and pushes a different, useful passage out of the top k, so it is dropped.

>>> from chatref.retrieval.types import Passage
>>> backups = "Backups run nightly and are kept for thirty days, then deleted by the retention job."
>>> ranked = [
...     Passage("a", "d1", "README.md", "README", None, None, backups),
...     Passage("b", "d2", "docs/policy.md", "Policy", None, None, backups),
...     Passage("c", "d3", "docs/ops.md", "Operations", None, None,
...             "Keys are rotated monthly by the platform team, with a runbook per service."),
... ]
>>> [p.chunk_id for p in without_near_duplicates(ranked, 5)]
['a', 'c']
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chatref.retrieval.types import Passage

# Share of the smaller passage's word shingles found in the other: above it, a duplicate.
NEAR_DUPLICATE = 0.8
_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, size: int = 3) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


def without_near_duplicates(ranked: Sequence[Passage], top_k: int) -> list[Passage]:
    """The first ``top_k`` passages of ``ranked`` that are not near-duplicates of an earlier one."""
    kept: list[Passage] = []
    kept_shingles: list[set[tuple[str, ...]]] = []
    for passage in ranked:
        if len(kept) == top_k:
            break
        own = shingles(passage.text)
        if any(own and other and len(own & other) / min(len(own), len(other)) >= NEAR_DUPLICATE
               for other in kept_shingles):
            continue
        kept.append(passage)
        kept_shingles.append(own)
    return kept
