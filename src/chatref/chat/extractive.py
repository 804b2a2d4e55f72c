"""The answer without a model: the best passages, quoted, with the same citations.

This is the embedded default (no model configured) and the fallback when every model endpoint is
down. It is labelled as such so nobody mistakes quoted passages for a written answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chatref.retrieval.types import Passage

NO_MODEL_NOTICE = (
    "*Extractive answer: no language model is configured, so these are the passages from your "
    "documents that best match the question, quoted as written.*"
)
MODEL_UNAVAILABLE_NOTICE = (
    "*Extractive answer: the language model is unavailable right now, so these are the passages "
    "from your documents that best match the question, quoted as written.*"
)
NOTHING_FOUND = "I found nothing in the indexed documents that matches this question."

QUOTED_PASSAGES = 3
EXCERPT_SENTENCES = 2
EXCERPT_MAX_CHARS = 500

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n{2,}")
_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from how i in is it of on or that the this to "
    "what when where which who why will with you your".split()
)


@dataclass(frozen=True)
class ExtractiveAnswer:
    text: str
    cited: list[int]  # source numbers (1-based positions in the passage list)


def _terms(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and len(w) > 1}


_FENCE = re.compile(r"```[\w+-]*")


def _one_line(text: str) -> str:
    """Collapse whitespace; drop code-fence markers, which cannot survive on one line."""
    return " ".join(_FENCE.sub(" ", text).split())


def _where(passage: Passage) -> str:
    """Title, then the heading path (without repeating the title), then the page."""
    title = _one_line(passage.title or passage.source)
    where = title
    if passage.section:
        section = _one_line(passage.section)
        if section.startswith(title):
            section = section[len(title):].lstrip(" >›")
        if section:
            where += f" › {section}"
    if passage.page is not None:
        where += f", page {passage.page}"
    return where


def best_excerpt(passage_text: str, question: str) -> str:
    """The sentences of a passage that share most words with the question, in their order."""
    sentences = [s.strip() for s in _SENTENCE_END.split(passage_text) if s.strip()]
    if not sentences:
        return ""
    terms = _terms(question)
    ranked = sorted(
        range(len(sentences)),
        key=lambda i: (-len(terms & _terms(sentences[i])), i),
    )
    chosen = sorted(ranked[:EXCERPT_SENTENCES])
    excerpt = _one_line(" ".join(sentences[i] for i in chosen))
    if len(excerpt) > EXCERPT_MAX_CHARS:
        excerpt = excerpt[: EXCERPT_MAX_CHARS - 1].rstrip() + "…"
    return excerpt


def extractive_answer(
    question: str, passages: Sequence[Passage], *, notice: str = NO_MODEL_NOTICE
) -> ExtractiveAnswer:
    """Quote the best sentences of the top passages, each followed by its citation.

    >>> answer = extractive_answer("rotate keys", [
    ...     Passage("c", "d", "ops.md", "Ops", None, None, "Rotate keys monthly. Eat lunch.")])
    >>> answer.cited
    [1]
    """
    if not passages:
        return ExtractiveAnswer(f"{notice}\n\n{NOTHING_FOUND}", [])
    lines = [notice, ""]
    cited: list[int] = []
    terms = _terms(question)
    for number, passage in enumerate(passages[:QUOTED_PASSAGES], start=1):
        excerpt = best_excerpt(passage.text, question)
        if not excerpt:
            continue
        if cited and terms and not terms & _terms(passage.text):
            continue  # beyond the best passage, quote only those that share a word

        lines.append(f"{len(cited) + 1}. **{_where(passage)}**: “{excerpt}” [{number}]")
        cited.append(number)
    if not cited:
        return ExtractiveAnswer(f"{notice}\n\n{NOTHING_FOUND}", [])
    return ExtractiveAnswer("\n".join(lines), cited)
