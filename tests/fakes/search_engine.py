"""The fake Azure AI Search's index: schema checks, documents, and ranking like the service.

- Text: BM25 (k1 1.2, b 0.75) over the searchable fields, terms lower-cased, English stopwords
  dropped and a light plural stemmer (a stand-in for ``en.lucene``); ``searchMode`` any (default)
  or all; ``*`` or no text matches everything with score 1.
- Vectors: exhaustive cosine kNN; ``@search.score`` is ``1 / (1 + (1 - cosine))`` as the service
  reports for the cosine metric.
- Hybrid (text plus vector queries): reciprocal-rank fusion with k = 60 over the text ranking's
  first 50 and each vector query's ``k``, as the service documents; the score is the RRF sum.
- Semantic ranking: the first 50 are re-scored into ``@search.rerankerScore`` (0..4) by the share
  of query terms found in the configuration's content fields.
- ``filter`` (search_filter.py) applies to text and vector results alike (pre-filter).

Errors the service would return are ``SearchServiceError(status, message)``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.fakes.search_filter import FilterError, parse_filter

STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with what which who how why when where does do".split()
)
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-=]{1,1024}$")
RRF_K = 60
HYBRID_TEXT_WINDOW = 50
SEMANTIC_WINDOW = 50
ANALYZERS = frozenset({"standard.lucene", "standardasciifolding.lucene", "keyword", "simple",
                       "en.lucene", "en.microsoft", "whitespace", "stop", "pattern"})
IMMUTABLE = ("type", "key", "searchable", "filterable", "sortable", "facetable", "analyzer",
             "dimensions", "vectorSearchProfile")


class SearchServiceError(Exception):
    def __init__(self, status: int, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def analyze(text: str) -> list[str]:
    terms = []
    for word in re.findall(r"\w+", text.lower()):
        if word in STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        terms.append(word)
    return terms


def _check_definition(index: Mapping[str, Any]) -> None:
    fields = index.get("fields") or []
    names = [f["name"] for f in fields]
    if len(set(names)) != len(names):
        raise SearchServiceError(400, "The request is invalid. Details: field names must be "
                                      "unique.")
    keys = [f for f in fields if f.get("key")]
    if len(keys) != 1 or keys[0].get("type") != "Edm.String":
        raise SearchServiceError(400, "The request is invalid. Details: index must have exactly "
                                      "one key field of type Edm.String.")
    profiles = {p["name"]: p for p in (index.get("vectorSearch") or {}).get("profiles") or []}
    algorithms = {a["name"] for a in (index.get("vectorSearch") or {}).get("algorithms") or []}
    for profile in profiles.values():
        if profile.get("algorithm") not in algorithms:
            raise SearchServiceError(400, f"The request is invalid. Details: profile "
                                          f"'{profile['name']}' names an unknown algorithm.")
    for f in fields:
        if f.get("type") == "Collection(Edm.Single)":
            if not f.get("dimensions") or f.get("vectorSearchProfile") not in profiles:
                raise SearchServiceError(400, f"The request is invalid. Details: vector field "
                                              f"'{f['name']}' needs dimensions and a known "
                                              "vectorSearchProfile.")
            if not 2 <= int(f["dimensions"]) <= 4096:
                raise SearchServiceError(400, "The request is invalid. Details: dimensions must "
                                              "be between 2 and 4096.")
        analyzer = f.get("analyzer")
        if analyzer is not None and analyzer not in ANALYZERS:
            raise SearchServiceError(400, f"The request is invalid. Details: unknown analyzer "
                                          f"'{analyzer}'.")
    semantic = index.get("semantic") or {}
    configurations = {c["name"] for c in semantic.get("configurations") or []}
    default = semantic.get("defaultConfiguration")
    if default is not None and default not in configurations:
        raise SearchServiceError(400, "The request is invalid. Details: the default semantic "
                                      "configuration does not exist.")


@dataclass
class _TermStats:
    terms: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    frequency: Counter[str] = field(default_factory=Counter)
    total_length: int = 0


@dataclass
class FakeIndex:
    definition: dict[str, Any]
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    etag: int = 1
    version: int = 0  # bumped by every document change (invalidates the text statistics)
    _stats_cache: dict[tuple[str, ...], tuple[int, _TermStats]] = field(default_factory=dict)

    @classmethod
    def create(cls, definition: dict[str, Any]) -> FakeIndex:
        _check_definition(definition)
        return cls(definition)

    def update(self, definition: dict[str, Any]) -> None:
        _check_definition(definition)
        old = {f["name"]: f for f in self.definition["fields"]}
        new = {f["name"]: f for f in definition["fields"]}
        for name, before in old.items():
            after = new.get(name)
            if after is None:
                raise SearchServiceError(400, f"The request is invalid. Details: Existing field "
                                              f"'{name}' cannot be removed.")
            for attribute in IMMUTABLE:
                if before.get(attribute) != after.get(attribute):
                    raise SearchServiceError(
                        400, f"The request is invalid. Details: Existing field '{name}' cannot "
                             f"be changed ({attribute}).", "OperationNotAllowed")
        self.definition = definition
        self.etag += 1

    # ---- schema helpers -----------------------------------------------------------------------
    @property
    def fields(self) -> dict[str, dict[str, Any]]:
        return {f["name"]: f for f in self.definition["fields"]}

    @property
    def key_field(self) -> str:
        return next(f["name"] for f in self.definition["fields"] if f.get("key"))

    def _searchable(self) -> list[str]:
        return [f["name"] for f in self.definition["fields"]
                if f.get("searchable", True) and f.get("type") in ("Edm.String",
                                                                    "Collection(Edm.String)")]

    # ---- writing ----------------------------------------------------------------------------
    def check_document(self, document: Mapping[str, Any]) -> None:
        fields = self.fields
        for name, value in document.items():
            if name.startswith("@search."):
                continue
            f = fields.get(name)
            if f is None:
                raise SearchServiceError(400, f"The request is invalid. Details: The property "
                                              f"'{name}' does not exist on type 'search.document'."
                                              " Make sure to only use property names that are "
                                              "defined by the type.")
            if f.get("type") == "Collection(Edm.Single)" and value is not None:
                if not isinstance(value, list) or len(value) != int(f["dimensions"]):
                    raise SearchServiceError(
                        400, f"The request is invalid. Details: The vector field '{name}' must "
                             f"have dimension {f['dimensions']}, not "
                             f"{len(value) if isinstance(value, list) else 'a non-list'}.")

    def apply(self, action: Mapping[str, Any]) -> tuple[str, int, str | None]:
        """One index action: (key, HTTP status of its result, error message)."""
        kind = action.get("@search.action", "upload")
        key = action.get(self.key_field)
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            return str(key), 400, (f"Invalid document key: '{key}'. Keys can only contain letters, "
                                   "digits, underscore (_), dash (-), or equal sign (=).")
        document = {k: v for k, v in action.items() if k != "@search.action"}
        self.version += 1
        if kind == "delete":
            self.docs.pop(key, None)
            return key, 200, None
        if kind == "upload":
            self.docs[key] = document
            return key, 201, None
        if kind == "merge" and key not in self.docs:
            return key, 404, "Document not found."
        self.docs.setdefault(key, {}).update(document)
        return key, 200, None

    # ---- searching ----------------------------------------------------------------------------
    def search(self, request: Mapping[str, Any]) -> dict[str, Any]:
        fields = self.fields
        try:
            predicate = parse_filter(request["filter"], fields) if request.get("filter") else None
        except FilterError as exc:
            raise SearchServiceError(400, str(exc)) from exc
        candidates = [d for d in self.docs.values() if predicate is None or predicate(d)]
        top = request.get("top", 50)
        skip = request.get("skip", 0)
        if top < 0 or skip < 0 or skip > 100_000:
            raise SearchServiceError(400, f"Invalid value for $top ({top}) or $skip ({skip}).")
        text = (request.get("search") or "").strip()
        vector_queries = request.get("vectorQueries") or []
        rankings: list[list[tuple[str, float]]] = []
        if text or not vector_queries:
            text_ranking = self._text_ranking(text, request, candidates)
            rankings.append(text_ranking[:HYBRID_TEXT_WINDOW] if vector_queries
                            else text_ranking)
        for query in vector_queries:
            rankings.append(self._vector_ranking(query, candidates))
        if len(rankings) == 1:
            ranked = rankings[0]
        else:
            fused: Counter[str] = Counter()
            for ranking in rankings:
                for rank, (key, _score) in enumerate(ranking, start=1):
                    fused[key] += 1.0 / (RRF_K + rank)
            ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        reranker: dict[str, float] = {}
        if request.get("queryType") == "semantic":
            ranked, reranker = self._semantic(request, ranked)
        if request.get("orderby"):
            ranked = self._ordered(request["orderby"], ranked)
        page = ranked[skip: skip + top]
        select = self._select(request.get("select"))
        value = []
        for key, score in page:
            row = {name: self.docs[key].get(name) for name in select}
            row["@search.score"] = score
            if reranker:
                row["@search.rerankerScore"] = reranker.get(key)
            value.append(row)
        body: dict[str, Any] = {"value": value}
        if request.get("count"):
            body["@odata.count"] = len(ranked)
        return body

    def _text_ranking(self, text: str, request: Mapping[str, Any],
                      candidates: Sequence[Mapping[str, Any]]) -> list[tuple[str, float]]:
        key_field = self.key_field
        if not text or text == "*":
            return [(d[key_field], 1.0) for d in candidates]
        searchable = self._searchable()
        search_fields = request.get("searchFields")
        if search_fields:
            wanted = [s.strip() for s in search_fields.split(",")]
            for name in wanted:
                if name not in searchable:
                    raise SearchServiceError(400, f"Invalid searchFields: '{name}' is not a "
                                                  "searchable field.")
            searchable = wanted
        terms = analyze(text)
        if not terms:
            return []
        every = request.get("searchMode") == "all"
        # Analysed fields and document frequencies are cached until the documents change.
        stats = self._term_stats(tuple(searchable))
        n = max(len(stats.terms), 1)
        average = stats.total_length / n or 1.0
        frequency = stats.frequency
        scored = []
        for d in candidates:
            words = stats.terms[d[key_field]]
            counts = stats.counts[d[key_field]]
            present = [t for t in set(terms) if counts[t]]
            if not present or (every and len(present) < len(set(terms))):
                continue
            score = 0.0
            for term in present:
                idf = math.log(1 + (n - frequency[term] + 0.5) / (frequency[term] + 0.5))
                tf = counts[term]
                score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(words) / average))
            scored.append((d[key_field], score))
        return sorted(scored, key=lambda kv: -kv[1])

    def _term_stats(self, searchable: tuple[str, ...]) -> _TermStats:
        cached = self._stats_cache.get(searchable)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        stats = _TermStats()
        for key, d in self.docs.items():
            words = analyze(" ".join(self._text_of(d, name) for name in searchable))
            stats.terms[key] = words
            stats.counts[key] = Counter(words)
            stats.total_length += len(words)
            stats.frequency.update(set(words))
        self._stats_cache[searchable] = (self.version, stats)
        return stats

    @staticmethod
    def _text_of(document: Mapping[str, Any], name: str) -> str:
        value = document.get(name)
        if isinstance(value, list):
            return " ".join(str(v) for v in value)
        return "" if value is None else str(value)

    def _vector_ranking(self, query: Mapping[str, Any],
                        candidates: Sequence[Mapping[str, Any]]) -> list[tuple[str, float]]:
        if query.get("kind") != "vector":
            raise SearchServiceError(400, "The request is invalid. Details: this index has no "
                                          "vectorizer for text vector queries.")
        fields = self.fields
        names = [n.strip() for n in str(query.get("fields", "")).split(",") if n.strip()]
        if not names:
            raise SearchServiceError(400, "The request is invalid. Details: vector query "
                                          "'fields' is required.")
        vector = np.asarray(query["vector"], dtype=np.float64)
        ranking: list[tuple[str, float]] = []
        for name in names:
            f = fields.get(name)
            if f is None or f.get("type") != "Collection(Edm.Single)":
                raise SearchServiceError(400, f"The field '{name}' is not a vector field.")
            if len(vector) != int(f["dimensions"]):
                raise SearchServiceError(
                    400, f"The vector field '{name}', with dimension of '{f['dimensions']}', "
                         f"expects a length of '{f['dimensions']}'. However, the provided vector "
                         f"has a length of '{len(vector)}'.")
            qn = float(np.linalg.norm(vector)) or 1.0
            for d in candidates:
                stored = d.get(name)
                if stored is None:
                    continue
                v = np.asarray(stored, dtype=np.float64)
                cosine = float(v @ vector) / ((float(np.linalg.norm(v)) or 1.0) * qn)
                ranking.append((d[self.key_field], 1.0 / (1.0 + (1.0 - cosine))))
        k = int(query.get("k") or 50)
        return sorted(ranking, key=lambda kv: -kv[1])[:k]

    def _semantic(self, request: Mapping[str, Any], ranked: list[tuple[str, float]]
                  ) -> tuple[list[tuple[str, float]], dict[str, float]]:
        semantic = self.definition.get("semantic") or {}
        configurations = {c["name"]: c for c in semantic.get("configurations") or []}
        name = request.get("semanticConfiguration") or semantic.get("defaultConfiguration")
        if name is None or name not in configurations:
            raise SearchServiceError(400, f"The semantic configuration '{name}' is not defined "
                                          "on this index.")
        text = request.get("semanticQuery") or request.get("search") or ""
        if not text.strip() or text.strip() == "*":
            raise SearchServiceError(400, "Semantic ranking requires a search query.")
        prioritized = configurations[name].get("prioritizedFields") or {}
        content = [f["fieldName"] for f in prioritized.get("prioritizedContentFields") or []]
        title = (prioritized.get("titleField") or {}).get("fieldName")
        names = [n for n in [title, *content] if n]
        terms = set(analyze(text))
        reranker: dict[str, float] = {}
        for key, _score in ranked[:SEMANTIC_WINDOW]:
            words = set(analyze(" ".join(self._text_of(self.docs[key], n) for n in names)))
            reranker[key] = round(4.0 * len(terms & words) / max(len(terms), 1), 4)
        head = sorted(ranked[:SEMANTIC_WINDOW], key=lambda kv: -reranker[kv[0]])
        return head, reranker

    def _ordered(self, orderby: str, ranked: list[tuple[str, float]]
                 ) -> list[tuple[str, float]]:
        fields = self.fields
        result = ranked
        for clause in reversed([c.strip() for c in orderby.split(",")]):
            name, _, direction = clause.partition(" ")
            if name == "search.score()":
                result = sorted(result, key=lambda kv: kv[1], reverse=direction != "asc")
                continue
            f = fields.get(name)
            if f is None or not f.get("sortable", True) or f.get("type", "").startswith(
                    "Collection("):
                raise SearchServiceError(400, f"Invalid expression: '{name}' is not sortable.")
            result = sorted(result, key=lambda kv: self.docs[kv[0]].get(name) or "",
                            reverse=direction == "desc")
        return result

    def _select(self, select: str | None) -> list[str]:
        fields = self.fields
        retrievable = [n for n, f in fields.items() if f.get("retrievable", True)]
        if not select or select.strip() == "*":
            return retrievable
        names = [s.strip() for s in select.split(",")]
        for name in names:
            if name not in fields:
                raise SearchServiceError(400, f"Invalid expression: Could not find a property "
                                              f"named '{name}' on type 'search.document'.")
            if name not in retrievable:
                raise SearchServiceError(400, f"The field '{name}' is not retrievable.")
        return names
