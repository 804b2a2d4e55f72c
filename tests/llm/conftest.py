from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.openai_server import (  # noqa: F401
    DEFAULT_ANSWER,
    FakeOpenAIServer,
    fake_openai,
    fake_openai_server,
    fake_regions,
)


@pytest.fixture(scope="session")
def _secondary_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(answer="Answer from the secondary region.") as server:
        yield server


@pytest.fixture
def secondary(_secondary_server: FakeOpenAIServer) -> Iterator[FakeOpenAIServer]:
    """A second fake region, reset around each test; it answers a recognisable text."""
    _secondary_server.reset(answer="Answer from the secondary region.")
    yield _secondary_server
    _secondary_server.reset()
