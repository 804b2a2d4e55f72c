from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from chatref.errors import ConfigurationError, EmbedderMismatchError, ModelError
from chatref.ingest.pipeline import ingest_paths
from chatref.retrieval.embedder import build_embedder
from chatref.retrieval.openai_embedder import AzureOpenAIEmbedder
from chatref.retrieval.retriever import Retriever
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.settings import Settings
from tests.fakes.embeddings_server import FakeEmbeddingsServer
from tests.ingest import documents


@pytest.fixture
def fake() -> Iterator[FakeEmbeddingsServer]:
    with FakeEmbeddingsServer(dimension=64) as server:
        yield server


def settings_for(fake: FakeEmbeddingsServer, monkeypatch: pytest.MonkeyPatch,
                 deployment: str = "embed") -> Settings:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", fake.url)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "test-key-not-a-secret")
    monkeypatch.setenv("AZURE_OPENAI_EMBEDDING_DEPLOYMENT", deployment)
    monkeypatch.setenv("CHATREF_EMBEDDING_DIMENSIONS", "64")
    return Settings()


async def test_embeds_in_batches_over_the_wire(
    fake: FakeEmbeddingsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = build_embedder(settings_for(fake, monkeypatch))
    assert isinstance(embedder, AzureOpenAIEmbedder)
    assert embedder.name == "azure-openai/embed" and embedder.dimension == 64
    texts = [f"text number {n}" for n in range(70)]
    vectors = await embedder.embed(texts)
    assert vectors.shape == (70, 64) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert [len(r["body"]["input"]) for r in fake.requests] == [64, 6]
    # the v1 API (AZURE_OPENAI_API_VERSION's default): the deployment as model, a bearer key
    first = fake.requests[0]
    assert first["deployment"] == "embed" and "api-version" not in first["query"]
    assert fake.requests[0]["headers"]["authorization"] == "Bearer test-key-not-a-secret"
    assert fake.requests[0]["body"]["dimensions"] == 64
    await embedder.aclose()


async def test_a_throttled_request_is_retried(
    fake: FakeEmbeddingsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = build_embedder(settings_for(fake, monkeypatch))
    assert isinstance(embedder, AzureOpenAIEmbedder)
    fake.fail_next.append((429, {"retry-after-ms": "10"}))
    vectors = await embedder.embed(["hello"])
    assert vectors.shape == (1, 64) and len(fake.requests) == 2
    await embedder.aclose()


async def test_unknown_deployment_is_a_configuration_error(
    fake: FakeEmbeddingsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = build_embedder(settings_for(fake, monkeypatch, deployment="missing"))
    assert isinstance(embedder, AzureOpenAIEmbedder)
    with pytest.raises(ConfigurationError, match="'missing' answered 404"):
        await embedder.embed(["hello"])
    await embedder.aclose()


async def test_a_persistent_server_error_is_a_model_error(
    fake: FakeEmbeddingsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = build_embedder(settings_for(fake, monkeypatch))
    assert isinstance(embedder, AzureOpenAIEmbedder)
    fake.fail_next.extend([(500, {"retry-after-ms": "1"})] * 4)
    with pytest.raises(ModelError, match="failed with 500"):
        await embedder.embed(["hello"])
    await embedder.aclose()


async def test_wrong_vector_size_names_the_setting(
    fake: FakeEmbeddingsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_for(fake, monkeypatch)
    monkeypatch.delenv("CHATREF_EMBEDDING_DIMENSIONS")  # expects 1536, sends no "dimensions"
    embedder = build_embedder(Settings())
    assert isinstance(embedder, AzureOpenAIEmbedder)
    with pytest.raises(ConfigurationError, match="CHATREF_EMBEDDING_DIMENSIONS=64"):
        await embedder.embed(["hello"])
    await embedder.aclose()


async def test_ingest_and_search_with_azure_embeddings(
    tmp_path: Path, fake: FakeEmbeddingsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = build_embedder(settings_for(fake, monkeypatch))
    assert isinstance(embedder, AzureOpenAIEmbedder)
    index = SqliteIndex.open(tmp_path / "az.sqlite", embedder_name=embedder.name,
                             dimension=embedder.dimension)
    documents.write_all_good(tmp_path / "docs")
    report = await ingest_paths([tmp_path / "docs"], index, embedder)
    assert report.counts["added"] == 5
    hits = await Retriever(index, embedder).search("recovery point objective", mode="vector")
    assert hits[0].source.endswith("dr-plan.pdf")
    index.close()
    with pytest.raises(EmbedderMismatchError, match="azure-openai/embed"):
        SqliteIndex.open(tmp_path / "az.sqlite", embedder_name="wordllama/l2_supercat",
                         dimension=256)
    await embedder.aclose()


def test_embedding_deployment_without_endpoint_is_rejected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_EMBEDDING_DEPLOYMENT", "embed")
    with pytest.raises(ConfigurationError, match="needs AZURE_OPENAI_ENDPOINT"):
        build_embedder(Settings())


async def test_closing_the_services_closes_the_embedders_client(
    fake: FakeEmbeddingsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chatref.app import build_services

    services = build_services(settings_for(fake, monkeypatch))
    embedder = services.embedder
    assert isinstance(embedder, AzureOpenAIEmbedder)
    await embedder.embed(["hello"])
    assert not embedder._client.is_closed()
    await services.aclose()
    assert embedder._client.is_closed()
