"""The composition root: Settings in, wired services out.

Both the web app (inside its lifespan) and the CLI call ``build_services``; nothing else constructs
backends. Example::

    services = build_services(Settings())
    passages = await services.retriever.search("how do I rotate keys?")
    await services.aclose()
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chatref.retrieval.embedder import build_embedder
from chatref.retrieval.retriever import Retriever
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.retrieval.types import Embedder
from chatref.settings import Settings


@dataclass
class Services:
    """Everything a request handler or a CLI command needs, built once."""

    settings: Settings
    embedder: Embedder
    index: SqliteIndex
    retriever: Retriever

    async def aclose(self) -> None:
        self.index.close()


def open_index(settings: Settings, embedder: Embedder, path: Path | None = None) -> SqliteIndex:
    """Open (creating if needed) the local index, checking it was built by ``embedder``."""
    return SqliteIndex.open(path or settings.index_path, embedder_name=embedder.name,
                            dimension=embedder.dimension)


def build_services(settings: Settings, *, index_path: Path | None = None) -> Services:
    embedder = build_embedder(settings)
    index = open_index(settings, embedder, index_path)
    retriever = Retriever(index, embedder)
    return Services(settings=settings, embedder=embedder, index=index, retriever=retriever)
