"""The fake Azure AI Search rejects what the service rejects, and ranks like the service."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.search_server import API_VERSION, FakeSearchServer, Fault

KEY = "k"
INDEX = {
    "name": "docs",
    "fields": [
        {"name": "id", "type": "Edm.String", "key": True},
        {"name": "content", "type": "Edm.String", "searchable": True, "analyzer": "en.lucene",
         "filterable": False},
        {"name": "groups", "type": "Collection(Edm.String)", "filterable": True},
        {"name": "v", "type": "Collection(Edm.Single)", "searchable": True, "dimensions": 2,
         "vectorSearchProfile": "p"},
    ],
    "vectorSearch": {"algorithms": [{"name": "a", "kind": "hnsw",
                                     "hnswParameters": {"metric": "cosine"}}],
                     "profiles": [{"name": "p", "algorithm": "a"}]},
}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeSearchServer]:
    with FakeSearchServer(api_key=KEY) as fake:
        yield fake


@pytest.fixture
def client(server: FakeSearchServer) -> Iterator[httpx.Client]:
    server.reset()
    with httpx.Client(base_url=server.url, verify=ssl.create_default_context(cafile=server.ca_file),
                      headers={"api-key": KEY}) as http:
        response = http.put("/indexes('docs')", params={"api-version": API_VERSION}, json=INDEX,
                            headers={"Prefer": "return=representation"})
        assert response.status_code == 201, response.text
        docs = [{"@search.action": "upload", "id": "1", "content": "cats chase mice",
                 "groups": ["hr"], "v": [1.0, 0.0]},
                {"@search.action": "upload", "id": "2", "content": "dogs chase cars",
                 "groups": ["it"], "v": [0.0, 1.0]}]
        assert post(http, "docs/search.index", {"value": docs}).status_code == 200
        yield http
    server.reset()


def post(http: httpx.Client, op: str, body: Any, version: str = API_VERSION) -> httpx.Response:
    return http.post(f"/indexes('docs')/{op}", params={"api-version": version}, json=body)


@pytest.mark.parametrize("body, fragment", [
    ({"search": "x", "bogus": 1}, "'bogus' was unexpected"),
    ({"search": "x", "top": "5"}, "is not of type 'integer'"),
    ({"vectorQueries": [{"kind": "vector", "k": 3, "fields": "v"}]}, "'vector' is a required"),
    ({"vectorQueries": [{"kind": "nearest", "vector": [1, 0]}]}, "kind 'nearest' is not one of"),
    ({"queryType": "fuzzy"}, "is not one of"),
    ({"vectorQueries": [{"kind": "vector", "vector": [1, 0, 0], "fields": "v"}]},
     "expects a length of '2'"),
    ({"search": "*", "filter": "content eq 'x'"}, "not filterable"),
    ({"search": "*", "filter": "nope eq 'x'"}, "Could not find a property named 'nope'"),
    ({"search": "*", "select": "id,missing"}, "Could not find a property named 'missing'"),
    ({"search": "x", "queryType": "semantic"}, "semantic configuration"),
])
def test_a_search_the_service_rejects_is_a_400(client: httpx.Client, server: FakeSearchServer,
                                               body: dict[str, Any], fragment: str) -> None:
    response = post(client, "docs/search.post.search", body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]


def test_requests_outside_the_api_version_or_spec_are_rejected(client: httpx.Client,
                                                               server: FakeSearchServer) -> None:
    assert post(client, "docs/search.post.search", {}, version="2025-09-01").status_code == 400
    response = client.put("/indexes('docs')", params={"api-version": API_VERSION}, json=INDEX)
    assert "header Prefer is required" in response.json()["error"]["message"]
    assert client.get("/indexes('docs')/docs/unknown",
                      params={"api-version": API_VERSION}).status_code == 400
    assert len(server.rejected) == 3


def test_documents_must_fit_the_schema_and_batches_the_limits(client: httpx.Client) -> None:
    unknown = post(client, "docs/search.index", {"value": [{"id": "3", "colour": "red"}]})
    assert unknown.status_code == 400 and "'colour' does not exist" in unknown.text
    short = post(client, "docs/search.index", {"value": [{"id": "3", "v": [1.0]}]})
    assert short.status_code == 400
    too_many = post(client, "docs/search.index",
                    {"value": [{"@search.action": "delete", "id": str(n)} for n in range(1001)]})
    assert too_many.status_code == 413
    bad_key = post(client, "docs/search.index", {"value": [{"id": "a/b", "content": "x"},
                                                           {"id": "ok", "content": "x"}]})
    assert bad_key.status_code == 207
    assert [r["status"] for r in bad_key.json()["value"]] == [False, True]


def test_an_index_field_cannot_change_once_created(client: httpx.Client) -> None:
    changed = {**INDEX, "fields": [*INDEX["fields"][:3],
                                   {**INDEX["fields"][3], "dimensions": 3}]}
    response = client.put("/indexes('docs')", params={"api-version": API_VERSION}, json=changed,
                          headers={"Prefer": "return=representation"})
    assert response.status_code == 400 and "cannot be changed" in response.text


def test_text_vector_hybrid_filter_and_count(client: httpx.Client) -> None:
    def keys(body: dict[str, Any]) -> list[str]:
        response = post(client, "docs/search.post.search", body)
        assert response.status_code == 200, response.text
        return [row["id"] for row in response.json()["value"]]

    assert keys({"search": "mice"}) == ["1"]
    assert keys({"search": "chase"}) == ["1", "2"] or keys({"search": "chase"}) == ["2", "1"]
    vector = {"kind": "vector", "vector": [0.1, 1.0], "k": 2, "fields": "v"}
    assert keys({"vectorQueries": [vector]}) == ["2", "1"]
    assert keys({"search": "mice", "vectorQueries": [vector]})[0] in {"1", "2"}
    assert keys({"search": "*", "filter": "groups/any(g: g eq 'hr')"}) == ["1"]
    assert keys({"search": "*", "filter": "groups/any(g: search.in(g, 'it,ops'))"}) == ["2"]
    counted = post(client, "docs/search.post.search", {"search": "*", "count": True, "top": 0})
    assert counted.json()["@odata.count"] == 2 and counted.json()["value"] == []
    row = post(client, "docs/search.post.search", {"search": "mice", "select": "content"})
    assert set(row.json()["value"][0]) == {"content", "@search.score"}


def test_scripted_faults_come_in_order(client: httpx.Client, server: FakeSearchServer) -> None:
    server.enqueue(Fault(status=429, retry_after_s=3, operation="search"),
                   Fault(fail_keys=1, operation="index"))
    throttled = post(client, "docs/search.post.search", {"search": "x"})
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "3"
    partial = post(client, "docs/search.index", {"value": [{"id": "5", "content": "a"},
                                                           {"id": "6", "content": "b"}]})
    assert partial.status_code == 207
    assert [r["statusCode"] for r in partial.json()["value"]] == [503, 201]
    assert post(client, "docs/search.post.search", {"search": "x"}).status_code == 200


def test_a_request_without_credentials_is_refused(server: FakeSearchServer) -> None:
    trust = ssl.create_default_context(cafile=server.ca_file)
    with httpx.Client(base_url=server.url, verify=trust) as http:
        assert http.get("/indexes", params={"api-version": API_VERSION}).status_code == 401
    with httpx.Client(base_url=server.url, verify=trust,
                      headers={"api-key": "wrong"}) as http:
        assert http.get("/indexes", params={"api-version": API_VERSION}).status_code == 403
