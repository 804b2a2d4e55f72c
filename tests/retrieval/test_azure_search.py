"""The Azure AI Search backend against the fake service: requests, batching, retries, errors.

What every index must do is in test_index_contract.py; this file checks what is particular to
the service: the wire requests (one hybrid request, selected fields, semantic options), the
schema, batch limits, partial failures and throttling. The ``fake_search`` fixture also fails a
test whose client sent anything the 2024-07-01 Swagger does not allow.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from azure.core.credentials import AzureKeyCredential

from chatref.errors import IndexError_
from chatref.retrieval.azure_search import PASSAGE_FIELDS, AzureSearchIndex, profile_embedder
from chatref.retrieval.retriever import Retriever
from chatref.retrieval.types import ChunkRecord, DocumentRecord
from tests.fakes.search_server import FAKE_SEARCH_KEY, FakeSearchServer, Fault

DIM = 8


def open_index(fake: FakeSearchServer, **kwargs: Any) -> AzureSearchIndex:
    options: dict[str, Any] = {"embedder_name": "test/embedder-v1", "dimension": DIM,
                               "retry_backoff_s": 0.01, "ca_file": fake.ca_file}
    options.update(kwargs)
    key = options.pop("key", FAKE_SEARCH_KEY)
    return AzureSearchIndex(fake.url, "docs", AzureKeyCredential(key), **options)


@pytest.fixture
async def index(fake_search: FakeSearchServer) -> AsyncIterator[AzureSearchIndex]:
    opened = open_index(fake_search)
    yield opened
    await opened.aclose()


def vectors(n: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


async def write(index: AzureSearchIndex, path: str, texts: list[str], digest: str = "h") -> None:
    chunks = [ChunkRecord(i, "T", None, None, t) for i, t in enumerate(texts)]
    await index.write_document(DocumentRecord(f"d{abs(hash(path)) % 10**6}", path, path, "T",
                                              digest), chunks, vectors(len(texts)))


def batches(fake: FakeSearchServer) -> list[list[dict[str, Any]]]:
    return [r.body["value"] for r in fake.requests if r.operation == "index"]


async def test_the_schema_has_every_field_chatref_needs(
    index: AzureSearchIndex, fake_search: FakeSearchServer
) -> None:
    assert (await index.ensure_schema()).startswith("created")
    definition = fake_search.state.indexes["docs"].definition
    fields = {f["name"]: f for f in definition["fields"]}
    assert fields["id"]["key"] is True
    for name in ("title", "section", "content"):
        assert fields[name]["searchable"] and fields[name]["analyzer"] == "en.lucene"
    assert fields["vector"]["dimensions"] == DIM
    assert profile_embedder(fields["vector"]["vectorSearchProfile"]) == "test/embedder-v1"
    assert definition["vectorSearch"]["algorithms"][0]["hnswParameters"]["metric"] == "cosine"
    for name in ("oids", "groups"):
        assert fields[name]["type"] == "Collection(Edm.String)" and fields[name]["filterable"]
    for name in ("path", "content_hash", "doc_id", "source", "page"):
        assert name in fields
    assert (await index.ensure_schema()).startswith("updated")


async def test_one_hybrid_request_per_search_with_only_the_needed_fields(
    fake_search: FakeSearchServer,
) -> None:
    index = open_index(fake_search)
    try:
        await write(index, "/a", ["zone redundant storage", "cats"])
        retriever = Retriever(index, _FixedEmbedder())
        before = len(fake_search.requests)
        hits = await retriever.search("zone redundant", top_k=3)
        searches = [r for r in fake_search.requests[before:] if r.operation == "search"]
        assert len(searches) == 1
        body = searches[0].body
        assert body["search"] == "zone redundant"
        assert body["top"] == 3
        assert body["select"] == ",".join(PASSAGE_FIELDS)
        assert [q["kind"] for q in body["vectorQueries"]] == ["vector"]
        assert body["vectorQueries"][0]["fields"] == "vector"
        assert "queryType" not in body
        assert hits[0].text == "zone redundant storage"
    finally:
        await index.aclose()


async def test_the_semantic_ranker_is_asked_for_when_configured(
    fake_search: FakeSearchServer,
) -> None:
    index = open_index(fake_search, semantic=True)
    try:
        await write(index, "/a", ["geo replication to a paired region", "cats purr"])
        hits = await index.hybrid_search("paired region", vectors(1)[0], 2)
        body = [r for r in fake_search.requests if r.operation == "search"][-1].body
        assert body["queryType"] == "semantic"
        assert body["semanticConfiguration"] == "chatref"
        assert hits[0].text.startswith("geo replication")
        assert 0 < hits[0].score <= 4  # the reranker's scale
    finally:
        await index.aclose()


async def test_batches_stay_within_the_action_and_byte_limits(
    fake_search: FakeSearchServer,
) -> None:
    index = open_index(fake_search, max_batch_actions=3, max_batch_bytes=1500)
    try:
        for n in range(4):
            await write(index, f"/doc{n}", [f"text {n} a", f"text {n} b"])
        await index.finish_ingest(8)
        sent = batches(fake_search)
        assert sum(len(b) for b in sent) == 8
        assert all(len(b) <= 3 for b in sent)
        index_bodies = [r for r in fake_search.requests if r.operation == "index"]
        assert all(len(str(r.body)) < 3 * 1500 for r in index_bodies)
        assert await index.count_chunks() == 8
    finally:
        await index.aclose()


async def test_the_default_limits_are_the_service_limits(fake_search: FakeSearchServer) -> None:
    index = open_index(fake_search)
    try:
        chunks = [ChunkRecord(i, "T", None, None, f"chunk {i}") for i in range(1001)]
        await index.write_document(DocumentRecord("big", "/big", "/big", "T", "h"), chunks,
                                   vectors(1001))
        await index.finish_ingest(1001)
        assert [len(b) for b in batches(fake_search)] == [1000, 1]
    finally:
        await index.aclose()


async def test_a_partial_failure_retries_only_the_failed_keys(
    index: AzureSearchIndex, fake_search: FakeSearchServer
) -> None:
    await index.ensure_schema()
    fake_search.enqueue(Fault(fail_keys=2, operation="index"))
    await write(index, "/a", ["one", "two", "three", "four", "five"])
    await index.finish_ingest(5)
    sent = batches(fake_search)
    assert [len(b) for b in sent] == [5, 2]
    assert {a["id"] for a in sent[1]} == {a["id"] for a in sent[0][:2]}
    assert await index.count_chunks() == 5


async def test_a_rejected_document_is_an_error_naming_its_path(
    index: AzureSearchIndex, fake_search: FakeSearchServer
) -> None:
    await index.ensure_schema()
    fake_search.enqueue(Fault(fail_keys=1, fail_status=400, operation="index"))
    await write(index, "https://acct.blob.core.windows.net/c/bad.md", ["x"])
    with pytest.raises(IndexError_, match=r"bad\.md .*HTTP 400"):
        await index.finish_ingest(1)


@pytest.mark.parametrize("status", [429, 503])
async def test_throttling_and_unavailability_are_retried_with_backoff(
    index: AzureSearchIndex, fake_search: FakeSearchServer, status: int
) -> None:
    await write(index, "/a", ["one"])
    fake_search.enqueue(Fault(status=status, retry_after_s=0, operation="index"),
                        Fault(status=status, operation="search"))
    await index.finish_ingest(1)
    assert [p.text for p in await index.keyword_search("one", 5)] == ["one"]
    statuses = [r.status for r in fake_search.requests if r.operation in ("index", "search")]
    assert statuses.count(status) == 2


async def test_a_service_that_stays_unavailable_is_a_clear_error(
    fake_search: FakeSearchServer,
) -> None:
    index = open_index(fake_search, retry_total=2)
    try:
        await index.ensure_schema()
        fake_search.enqueue(*[Fault(status=503, operation="search")] * 3)
        with pytest.raises(IndexError_, match=r"searching: .*'docs'.* HTTP 503"):
            await index.keyword_search("anything", 5)
    finally:
        await index.aclose()


async def test_searching_an_index_that_does_not_exist_says_how_to_create_it(
    index: AzureSearchIndex,
) -> None:
    with pytest.raises(IndexError_, match="chatref index create"):
        await index.keyword_search("anything", 5)


async def test_a_wrong_key_is_reported_without_the_key(fake_search: FakeSearchServer) -> None:
    index = open_index(fake_search, key="not-the-key")
    try:
        with pytest.raises(IndexError_) as caught:
            await index.ensure_schema()
        assert "403" in caught.value.message
        assert "not-the-key" not in caught.value.message
    finally:
        await index.aclose()


@pytest.mark.parametrize(("operation", "role"), [
    ("put_index", "chatref index schema"), ("index", "Search Index Data Contributor"),
    ("search", "Search Index Data Reader")])
async def test_a_forbidden_operation_names_the_role_it_needs(
    fake_search: FakeSearchServer, index: AzureSearchIndex, operation: str, role: str,
) -> None:
    if operation != "put_index":
        await index.ensure_schema()
    fake_search.enqueue(Fault(status=403, operation=operation))
    with pytest.raises(IndexError_, match="HTTP 403") as caught:
        if operation == "put_index":
            await index.ensure_schema()
        elif operation == "index":
            await write(index, "a.md", ["text"])
            await index.finish_ingest(1)  # uploads are sent in batches, the last one here
        else:
            await index.keyword_search("anything", 5)
    assert role in caught.value.message


async def test_user_text_is_never_query_syntax(index: AzureSearchIndex) -> None:
    await write(index, "/a", ["the quick brown fox jumps"])
    for query in ['"unbalanced', "fox*", "-fox", "fox AND (", "title:fox", "fox~2 ^3"]:
        assert all(p.text.startswith("the quick") for p in await index.keyword_search(query, 5))
    assert await index.keyword_search("+-|", 5) == []


class _FixedEmbedder:
    """A deterministic embedder of DIM dimensions (the fake only needs consistent vectors)."""

    name = "test/embedder-v1"
    dimension = DIM

    async def embed(self, texts: Any) -> np.ndarray:
        return vectors(len(texts), seed=1)

    async def aclose(self) -> None:
        return None


async def test_without_a_key_the_managed_identity_named_by_azure_client_id_is_used(
    fake_search: FakeSearchServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chatref.retrieval.azure_search import build_azure_search_index
    from chatref.settings import Settings
    from tests.fakes.managed_identity import managed_identity_server

    with managed_identity_server() as identity:
        monkeypatch.setenv("IDENTITY_ENDPOINT", identity.url)
        monkeypatch.setenv("IDENTITY_HEADER", "header-from-app-service")
        settings = Settings(azure_search_endpoint=fake_search.url, azure_client_id="client-123",
                            chatref_search_ca_file=fake_search.ca_file)
        index = build_azure_search_index(settings, _FixedEmbedder())
        try:
            await index.ensure_schema()
            assert await index.count_chunks() == 0
        finally:
            await index.aclose()
    assert all(r.headers.get("authorization", "").startswith("Bearer ")
               and "api-key" not in r.headers for r in fake_search.requests)
    assert identity.requests[0]["client_id"] == "client-123"
    assert identity.requests[0]["resource"].rstrip("/") == "https://search.azure.com"
