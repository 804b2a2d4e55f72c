"""The Azure AI Search side of the index contract: the backend against the fake service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from azure.core.credentials import AzureKeyCredential

from chatref.retrieval.azure_search import AzureSearchIndex
from chatref.retrieval.types import SearchIndex
from tests.fakes.search_server import FAKE_SEARCH_KEY, FakeSearchServer

Opener = object


@contextmanager
def azure_opener(request: pytest.FixtureRequest) -> Iterator[object]:
    fake: FakeSearchServer = request.getfixturevalue("fake_search")

    async def open_azure(name: str, dimension: int) -> SearchIndex:
        return AzureSearchIndex(fake.url, "contract", AzureKeyCredential(FAKE_SEARCH_KEY),
                                embedder_name=name, dimension=dimension, retry_backoff_s=0.01,
                                ca_file=fake.ca_file)

    yield open_azure
