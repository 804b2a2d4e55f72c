"""Query text helpers shared by the keyword index and evaluation."""

from __future__ import annotations

import re

# A compact English stopword list: any-term BM25 queries over natural-language questions rank
# much better without these (measured on SciFact train; see docs/benchmarks.md). The keyword
# postings (retrieval/keyword.py) do not index them.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t don shall may might must also""".split()
)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# The stopwords that end phrasal verbs written as one word: "fail over", "set up", "log in".
_PARTICLES = frozenset({"over", "up", "in", "out", "off", "down", "on"})


def query_terms(text: str) -> list[str]:
    """Lower-cased, de-duplicated content words of ``text``, in order."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word not in STOPWORDS and word not in seen:
            seen[word] = None
    return list(seen)


def compound_candidates(text: str) -> list[str]:
    """Adjacent word pairs written as one word: "fail over" -> "failover", "set up" -> "setup".

    Questions say "fail over" where documents write "failover" (and "over" is a stopword, so the
    pair would otherwise search for "fail" alone). The index keeps only the candidates it has
    seen (``SqliteIndex``), so "how do" never becomes a term.
    """
    words = _WORD.findall(text.lower())
    joined = dict.fromkeys(
        a + b for a, b in zip(words, words[1:], strict=False)
        if len(a) > 1 and len(b) > 1 and len(a + b) >= 6 and a not in STOPWORDS
        and (b not in STOPWORDS or b in _PARTICLES)
    )
    return list(joined)


# Conjunctions that open a condition or circumstance: "... if the primary is throttled",
# "... when every endpoint is down". ("after"/"before"/"since" are left out: they are mostly
# prepositions, "after a release".)
_CONDITION = re.compile(r"\b(?:if|unless|when|whenever|while|because|although|though|once)\b",
                        re.IGNORECASE)


def main_clause(question: str) -> str | None:
    """The part of a question that says what is wanted, without its condition, or None.

    "How do I fail over to the second region if the primary is throttled?" asks how to fail over;
    the condition names the circumstance, and its words ("primary", "throttled") pull in every
    passage about throttling or a primary anything. The retriever searches the main clause
    beside the whole question and blends the two keyword rankings (it never drops the
    condition: in "What happens to a chat when every endpoint is down?" the condition is the
    point). None when the text is not a question (no "?" at its end: search-box keywords, and
    the claims and topics of BEIR collections, where the blend cost 0.001-0.0025 nDCG@10), has no
    such clause, or the rest has fewer than two content words.

    >>> main_clause("How do I fail over to the second region if the primary is throttled?")
    'How do I fail over to the second region'
    >>> main_clause("If the primary is throttled, how do I fail over?") is None
    True
    >>> main_clause("failover if the primary is throttled") is None  # not a question
    True
    """
    found = _CONDITION.search(question)
    if found is None or not question.rstrip().endswith("?"):
        return None
    before, after = question[:found.start()].strip(" ,;"), question[found.end():]
    if len(query_terms(before)) >= 2:
        return before
    if "," in after:  # "If X, how do I Y?"
        rest = after.split(",", 1)[1].strip(" ?")
        if len(query_terms(rest)) >= 2:
            return rest
    return None
