"""The Azure OpenAI double: a real HTTP server on 127.0.0.1 speaking the wire protocol, with faults.

The server itself lives in the package (``chatref.ops.fakeopenai``) because ``chatref drill
failover`` uses it too; this module re-exports it, adds pytest fixtures and a standalone entry
point. See tests/fakes/README.md. In a conftest.py::

    from tests.fakes.openai_server import fake_openai, fake_openai_server  # noqa: F401

Standalone (benchmarks, manual runs)::

    python -m tests.fakes.openai_server --port 8011 --tokens-per-s 50
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chatref.ops.fakeopenai import (
    DEFAULT_ANSWER,
    Behaviour,
    FakeOpenAIServer,
    RecordedRequest,
    split_tokens,
)

__all__ = [
    "DEFAULT_ANSWER",
    "Behaviour",
    "FakeOpenAIServer",
    "RecordedRequest",
    "fake_openai",
    "fake_openai_server",
    "fake_regions",
    "split_tokens",
]

FAKE_API_KEY = "fake-key-for-tests"


@pytest.fixture(scope="session")
def fake_openai_server() -> Iterator[FakeOpenAIServer]:
    """One fake server for the whole session (starting uvicorn costs ~50 ms)."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def fake_openai(fake_openai_server: FakeOpenAIServer) -> Iterator[FakeOpenAIServer]:
    """The session's fake, reset before and after each test: default answer, empty queue and log."""
    fake_openai_server.reset(answer=DEFAULT_ANSWER)
    fake_openai_server.state.tokens_per_s = None
    fake_openai_server.state.api_key = None
    fake_openai_server.state.deployments = None
    yield fake_openai_server
    fake_openai_server.reset(answer=DEFAULT_ANSWER)


@pytest.fixture
def fake_regions() -> Iterator[Callable[..., FakeOpenAIServer]]:
    """A factory of extra fake servers (one per simulated region), stopped after the test."""
    started: list[FakeOpenAIServer] = []

    def start(**kwargs: Any) -> FakeOpenAIServer:
        server = FakeOpenAIServer(**kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the fake Azure OpenAI server on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--answer", default=DEFAULT_ANSWER)
    parser.add_argument("--tokens-per-s", type=float, default=None)
    parser.add_argument("--api-key", default=None, help="require this key (default: any)")
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(answer=args.answer, tokens_per_s=args.tokens_per_s,
                              api_key=args.api_key, port=args.port).start()
    print(f"fake OpenAI listening on {server.url} (Azure) and {server.openai_base_url}",
          flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.stop()


if __name__ == "__main__":
    main()
