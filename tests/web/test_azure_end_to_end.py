"""The whole product on the Azure backends: documents in a Blob container (Azurite), the index in
Azure AI Search (the fake service), conversations in Table Storage (Azurite); no local state.

Ingest the container with the real pipeline, then chat through a server built from the same
environment: the answer cites the blob URLs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from azure.storage.blob import BlobServiceClient

from chatref.app import build_services
from chatref.ingest.blob_source import open_blob_source
from chatref.ingest.sources import ingest_source
from chatref.settings import Settings
from chatref.web.app import create_app
from tests.fakes.azurite import Azurite, azurite  # noqa: F401
from tests.fakes.search_server import (  # noqa: F401
    FAKE_SEARCH_KEY,
    FakeSearchServer,
    Fault,
    fake_search,
    fake_search_server,
)

from .conftest import DOCS, parse_sse, serve

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def container_url(azurite: Azurite) -> Iterator[str]:  # noqa: F811
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = service.create_container(azurite.unique_name("e2e"))
    for name, text in DOCS.items():
        container.upload_blob(f"handbook/{name}", text.encode())
    yield f"{azurite.blob_url}/{container.container_name}/handbook/"
    container.delete_container()
    service.close()


@pytest.fixture
def azure_env(monkeypatch: pytest.MonkeyPatch, azurite: Azurite,  # noqa: F811
              fake_search: FakeSearchServer) -> None:  # noqa: F811
    monkeypatch.setenv("AZURE_SEARCH_ENDPOINT", fake_search.url)
    monkeypatch.setenv("AZURE_SEARCH_INDEX", "handbook")
    monkeypatch.setenv("AZURE_SEARCH_API_KEY", FAKE_SEARCH_KEY)
    monkeypatch.setenv("CHATREF_SEARCH_CA_FILE", fake_search.ca_file)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    monkeypatch.setenv("AZURE_STORAGE_TABLE_ENDPOINT", azurite.table_url)
    monkeypatch.setenv("CHATREF_CONVERSATIONS_TABLE", azurite.unique_name("conv"))


async def test_ingest_from_blob_into_ai_search_then_chat_cites_the_blob_urls(
    azure_env: None, container_url: str, fake_search: FakeSearchServer,  # noqa: F811
    isolated_env: Path,
) -> None:
    settings = Settings()
    services = build_services(settings)
    source = open_blob_source(container_url, settings)
    try:
        report = await ingest_source(source, services.index, services.embedder, parse_workers=1)
    finally:
        await source.aclose()
        await services.aclose()
    assert report.counts["added"] == len(DOCS), report.to_dict()

    with serve(create_app()) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            ready = await client.get("/health/ready")
            assert ready.status_code == 200, ready.text
            response = await client.post("/api/chat", json={"messages": [
                {"role": "user", "content": "How often are storage account keys rotated?"}]})
            assert response.status_code == 200, response.text
            index_check = ready.json()["checks"]["index"]
            assert index_check["ok"] is True
            if "detail" in index_check and index_check["detail"]:  # operator details
                assert index_check["detail"]["kind"] == "azure-ai-search"
                assert FAKE_SEARCH_KEY not in ready.text
            fake_search.enqueue(*[Fault(status=503, operation="search")] * 30)
            down = await client.get("/health/ready")
            assert down.status_code == 503
            assert down.json()["checks"]["index"]["ok"] is False
            fake_search.reset_faults()
    events = parse_sse(response.text)
    citations = dict(events)["citations"]
    assert citations[0]["source"] == container_url + "keys.md"
    assert all(c["source"].startswith(container_url) for c in citations)
    text = "".join(data["text"] for name, data in events if name == "delta")
    assert "rotated every 30 days" in text

    searches = [r for r in fake_search.requests if r.operation == "search"
                and r.body.get("vectorQueries") and r.body.get("search")]
    assert searches, "the chat searched the Azure index with one hybrid request"
    leftovers = sorted(p.name for p in isolated_env.rglob("*.sqlite*"))
    assert leftovers == [], "no local index or conversation database"
