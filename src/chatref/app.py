"""The composition root: Settings in, wired services out.

Both the web app (inside its lifespan) and the CLI call these builders; nothing else constructs
backends. ``build_services`` opens what retrieval needs (ingestion and search commands use it);
``build_chat_services`` adds the chat model, the conversation store and the chat flow. Example::

    services = await build_chat_services(Settings())
    turn = await services.require_chat().start_turn(ChatRequest([ChatMessage("user", "hi")]))
    await services.aclose()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from chatref.chat.service import ChatLimits, ChatService
from chatref.chat.turn import TurnObserver
from chatref.errors import ConfigurationError
from chatref.llm.base import ChatModel
from chatref.llm.factory import build_chat_model
from chatref.retrieval.embedder import build_embedder
from chatref.retrieval.retriever import Retriever
from chatref.retrieval.sqlite_index import SqliteIndex
from chatref.retrieval.types import Embedder, SearchIndex
from chatref.settings import Settings
from chatref.store.sqlite_store import SqliteConversationStore
from chatref.store.types import ConversationStore
from chatref.telemetry import Telemetry


@dataclass
class Services:
    """Everything a request handler or a CLI command needs, built once.

    The chat fields are filled by ``build_chat_services`` only: commands that just ingest or
    search never open the conversation store or build a model client.
    """

    settings: Settings
    embedder: Embedder
    index: SearchIndex
    retriever: Retriever
    telemetry: Telemetry = field(default_factory=Telemetry)
    model: ChatModel | None = None
    store: ConversationStore | None = None
    chat: ChatService | None = None

    def require_chat(self) -> ChatService:
        if self.chat is None:
            raise ConfigurationError("the chat service was not built: use build_chat_services")
        return self.chat

    async def aclose(self) -> None:
        try:
            if self.chat is not None:
                await self.chat.drain()
            if self.model is not None:
                await self.model.aclose()
            if self.store is not None:
                await self.store.aclose()
        finally:
            await self.index.aclose()
            await self.embedder.aclose()


def open_index(settings: Settings, embedder: Embedder, path: Path | None = None) -> SearchIndex:
    """The index Settings name, for ``embedder``: Azure AI Search when AZURE_SEARCH_ENDPOINT is
    set (checked on first use), else the local SQLite file (opened, created if needed, now).

    ``path`` (the CLI's ``--index``) always means a local file.
    """
    if settings.azure_search_endpoint and path is None:
        from chatref.retrieval.azure_search import build_azure_search_index

        return build_azure_search_index(settings, embedder)
    return SqliteIndex.open(path or settings.index_path, embedder_name=embedder.name,
                            dimension=embedder.dimension)


def build_services(settings: Settings, *, index_path: Path | None = None) -> Services:
    embedder = build_embedder(settings)
    index = open_index(settings, embedder, index_path)
    retriever = Retriever(index, embedder)
    return Services(settings=settings, embedder=embedder, index=index, retriever=retriever)


async def open_store(settings: Settings) -> ConversationStore:
    """Table Storage when ``AZURE_STORAGE_TABLE_ENDPOINT`` is set (then no local database exists
    at all), else the SQLite file under ``CHATREF_DATA_DIR``."""
    if settings.azure_storage_table_endpoint:
        from chatref.store.table_store import TableConversationStore

        connection_string = settings.azure_storage_connection_string
        return await TableConversationStore.open(
            table=settings.chatref_conversations_table,
            endpoint=settings.azure_storage_table_endpoint,
            connection_string=connection_string.get_secret_value() if connection_string else None,
            client_id=settings.azure_client_id,
        )
    return await SqliteConversationStore.open(settings.database_path)


async def build_chat_services(
    settings: Settings,
    *,
    index_path: Path | None = None,
    telemetry: Telemetry | None = None,
    observer: TurnObserver | None = None,
) -> Services:
    """``build_services`` plus the chat model (None: extractive), the store and the chat flow.

    A model configuration that cannot work raises ``ConfigurationError`` here, at start-up.
    """
    telemetry = telemetry or Telemetry()
    model = build_chat_model(settings, telemetry=telemetry)
    services = build_services(settings, index_path=index_path)
    services.telemetry = telemetry
    services.model = model
    try:
        services.store = await open_store(settings)
    except BaseException:
        await services.aclose()
        raise
    services.chat = ChatService(
        services.retriever, services.store, model, ChatLimits.from_settings(settings),
        observer=observer,
    )
    return services
