"""The answer without a model: the sentences of the top passages that best answer the question.

This is the embedded default (no model configured) and the fallback when every model endpoint is
down. It is labelled as such so nobody mistakes quoted sentences for a written answer.

How the sentences are chosen: every sentence (a list item, a table row, a short code block after
"run:" counts as one) of the retrieved passages is scored by the question words it contains,
weighted by how rare they are among those sentences, with a smaller share for words of its
heading, a prior for its passage's rank and a penalty for fragments and very long sentences.
The best one leads; up to three more follow, never two near-duplicates (README and
docs/policy.md share whole blocks) and never more than two from one passage. Each sentence cites
its own passage's number, so a citation points at the passage it was quoted from.

>>> from chatref.retrieval.types import Passage
>>> passages = [
...     Passage("c1", "d1", "docs/keys.md", "Keys", None, "Rotation",
...             "Storage keys are rotated every month. The rotation is logged."),
...     Passage("c2", "d2", "docs/fac.md", "Facilities", None, None,
...             "The cafeteria opens at noon."),
... ]
>>> answer = extractive_answer("when do keys rotate?", passages)
>>> answer.cited
[1]
>>> print(answer.text.splitlines()[2])
Storage keys are rotated every month. [1]
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from chatref.retrieval.types import Passage

NO_MODEL_NOTICE = (
    "*Extractive answer: no language model is configured, so these are the sentences from your "
    "documents that best match the question, quoted as written.*"
)
MODEL_UNAVAILABLE_NOTICE = (
    "*Extractive answer: the language model is unavailable right now, so these are the sentences "
    "from your documents that best match the question, quoted as written.*"
)
NOTHING_FOUND = "I found nothing in the indexed documents that matches this question."

MAX_SENTENCES = 4
MAX_PER_PASSAGE = 2
MAX_SENTENCE_CHARS = 400
DUPLICATE_OVERLAP = 0.7  # share of the smaller sentence's words found in the other

_WORD = re.compile(r"[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9`*\"“(\[])")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")
_FENCE = re.compile(r"^\s*(```|~~~)")
_STOPWORDS = frozenset(
    "a an and are as at be by can could do does for from has have how i if in is it its me my "
    "of on or should so than that the their then there these this to was what when where which "
    "who why will with would you your".split()
)


@dataclass(frozen=True)
class ExtractiveAnswer:
    text: str
    cited: list[int]  # source numbers (1-based positions in the passage list)


def terms(text: str) -> set[str]:
    """Lower-cased content words, cut to six letters (a crude stem: "throttled" ~ "throttles")."""
    return {
        w[:6] for w in (m.lower() for m in _WORD.findall(text))
        if w not in _STOPWORDS and len(w) > 1
    }


def _plain_label(text: str) -> str:
    """A heading as plain text: no code-span backticks or emphasis markers (they broke the bold
    label around "Policy as code: `chatref policy check`"), on one line."""
    return " ".join(text.replace("`", "").replace("**", "").split())


def _where(passage: Passage) -> str:
    """Title, then the heading path (without repeating the title), then the page."""
    title = _plain_label(passage.title or passage.source)
    where = title
    if passage.section:
        section = _plain_label(passage.section)
        if section.startswith(title):
            section = section[len(title):].lstrip(" >›")
        if section:
            where += " › " + section.replace(" > ", " › ")
    if passage.page is not None:
        where += f", page {passage.page}"
    return where


def sentences(text: str) -> list[str]:
    """The units a passage can be quoted by: sentences of its prose, its list items and table
    rows, and short code blocks (joined to the sentence that introduces them with a colon)."""
    units: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        if prose:
            units.extend(s.strip() for s in _SENTENCE_END.split(" ".join(prose)) if s.strip())
            prose.clear()

    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if _FENCE.match(line):
            flush()
            code: list[str] = []
            while i < len(lines) and not _FENCE.match(lines[i]):
                code.append(lines[i].strip())
                i += 1
            i += 1
            snippet = " ; ".join(c for c in code if c)
            if snippet and len(snippet) <= 120 and "`" not in snippet:
                if units and units[-1].endswith(":"):
                    units[-1] = f"{units[-1]} `{snippet}`"
                else:
                    units.append(f"`{snippet}`")
            continue
        if not line:
            flush()
        elif line.startswith("|"):
            flush()
            if not _TABLE_RULE.match(line):
                units.extend(_row_units(line))
        elif _LIST_ITEM.match(line) or line.startswith(">") or line.startswith("#"):
            flush()
            prose.append(_LIST_ITEM.sub("", line.lstrip("># ")))
        else:
            prose.append(line)
    flush()
    return [u for u in units if len(u) <= MAX_SENTENCE_CHARS and _WORD.search(u)]


def _row_units(line: str) -> list[str]:
    """A table row as one unit, its cells joined. A row too long to quote whole (over
    ``MAX_SENTENCE_CHARS``, which would drop it) becomes one unit per further cell, each led by
    the row's first cell (what the row is about), and a cell still too long, one per sentence.

    >>> _row_units("| `B1` | 1 | $13 |")
    ['`B1` — 1 — $13']
    >>> units = _row_units("| `prod` | runner | " + "Waits for reviewers. " * 20 + "| — |")
    >>> units[:2], len(units)
    (['`prod` — runner', '`prod` — Waits for reviewers.'], 21)

    The key is the first cell even when empty (a continuation row has none: its cells are
    quoted bare), and a cell without a word (a dash) is no unit of its own.

    >>> _row_units("| | more | " + "Continues here. " * 30 + "|")[:3]
    ['more', 'Continues here.', 'Continues here.']
    """
    row = [c.strip() for c in line.strip().strip("|").split("|")]
    cells = [c for c in row if c]
    whole = " — ".join(cells)
    if len(whole) <= MAX_SENTENCE_CHARS or len(cells) < 2:
        return [whole]
    key = row[0]
    units: list[str] = []
    for cell in (c for c in row[1:] if _WORD.search(c)):
        if not key:
            units.extend(p.strip() for p in _SENTENCE_END.split(cell) if p.strip())
            continue
        if len(key) + 3 + len(cell) <= MAX_SENTENCE_CHARS:
            units.append(f"{key} — {cell}")
        else:
            units.extend(f"{key} — {part.strip()}" for part in _SENTENCE_END.split(cell)
                         if part.strip())
    return units


@dataclass
class _Candidate:
    number: int  # the passage's 1-based position
    position: int  # the sentence's position in its passage
    text: str
    words: set[str]
    score: float = 0.0


def _shape(text: str, words: set[str]) -> float:
    """Fragments, code, walls of text and lead-ins ("exposes, per endpoint:") read badly as
    answers."""
    letters = sum(ch.isalpha() or ch.isspace() for ch in text)
    if len(words) < 3 or letters < 0.75 * len(text):
        return 0.4
    factor = 1.0
    if len(text) > 250:
        factor *= 0.7
    if text.startswith("`") or text.count("|") > 2:
        factor *= 0.6
    if text.rstrip("*").endswith(":"):
        factor *= 0.6
    return factor


def _near_duplicate(a: set[str], b: set[str]) -> bool:
    small = min(len(a), len(b))
    return small > 0 and len(a & b) / small >= DUPLICATE_OVERLAP


def _candidates(question_terms: set[str], passages: Sequence[Passage]) -> list[_Candidate]:
    found: list[_Candidate] = []
    for number, passage in enumerate(passages, start=1):
        for position, text in enumerate(sentences(passage.text)):
            found.append(_Candidate(number, position, text, terms(text)))
    if not found or not question_terms:
        return found
    n = len(found)
    idf = {t: math.log(1 + n / (1 + sum(t in c.words for c in found))) for t in question_terms}
    total = sum(idf.values())
    headings = {number: terms(f"{p.title} {p.section or ''}")
                for number, p in enumerate(passages, start=1)}
    for candidate in found:
        own = sum(idf[t] for t in question_terms & candidate.words) / total
        context = sum(idf[t] for t in question_terms & headings[candidate.number]) / total
        if own <= 0:
            continue  # a sentence that shares no word with the question answers nothing
        rank_prior = 1.0 / (1.0 + 0.15 * (candidate.number - 1))
        lead = 1.05 if candidate.position == 0 else 1.0
        candidate.score = (own + 0.25 * context) * rank_prior * lead * _shape(
            candidate.text, candidate.words)
    return found


def select_sentences(question: str, passages: Sequence[Passage]) -> list[_Candidate]:
    """The sentences to quote, best first; see the module docstring."""
    found = _candidates(terms(question), passages)
    ranked = sorted((c for c in found if c.score > 0), key=lambda c: (-c.score, c.number,
                                                                       c.position))
    if not ranked:  # nothing shares a word: the top passage's first sentence, if any
        first = next((c for c in found if c.number == 1), None)
        return [first] if first else []
    chosen: list[_Candidate] = []
    per_passage: dict[int, int] = {}
    for candidate in ranked:
        if len(chosen) == MAX_SENTENCES:
            break
        if candidate.score < 0.35 * ranked[0].score:
            break  # far weaker than the lead: noise, not support
        if per_passage.get(candidate.number, 0) >= MAX_PER_PASSAGE:
            continue
        if any(_near_duplicate(candidate.words, c.words) for c in chosen):
            continue
        chosen.append(candidate)
        per_passage[candidate.number] = per_passage.get(candidate.number, 0) + 1
    return chosen


def extractive_answer(
    question: str, passages: Sequence[Passage], *, notice: str = NO_MODEL_NOTICE
) -> ExtractiveAnswer:
    """The most direct sentence first, then up to three supporting ones, each with the label of
    its passage and its own citation number."""
    chosen = select_sentences(question, passages)
    if not chosen:
        return ExtractiveAnswer(f"{notice}\n\n{NOTHING_FOUND}", [])
    lead, rest = chosen[0], chosen[1:]
    lines = [notice, "", f"{lead.text} [{lead.number}]",
             f"— *{_where(passages[lead.number - 1])}*"]
    if rest:
        lines += ["", "Also in the documents:"]
        lines += [f"- {c.text} [{c.number}] — *{_where(passages[c.number - 1])}*" for c in rest]
    cited = list(dict.fromkeys(c.number for c in chosen))
    return ExtractiveAnswer("\n".join(lines), cited)
