"""The chat flow with a dependency down: whatever the backend raises, the turn degrades.

Search down: the answer says sources are unavailable, cites nothing, and the model is not asked.
Store down: the turn is answered (from the passages, by the model) and says it was not saved.
The failing backends are Protocol-level stand-ins raising what real ones raise (an SDK's
connection error, an OSError, a closed SQLite database, our own domain errors)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from chatref.chat.service import ChatLimits, ChatService
from chatref.chat.turn import (
    HISTORY_UNAVAILABLE_NOTICE,
    NOT_SAVED_NOTICE,
    SOURCES_UNAVAILABLE_MESSAGE,
)
from chatref.chat.types import CitationsReady, TurnDone, TurnEvent, TurnFailed
from chatref.errors import IndexError_, NotFoundError, StoreError
from chatref.retrieval.types import Passage, SearchMode
from chatref.store import SqliteConversationStore

from .doubles import FixedSearch, ScriptedModel, passage
from .test_service import ask, collect, text_of

PASSAGES = [passage(1, "Storage keys are rotated every month. The rotation is logged.")]
OUTAGES: list[BaseException] = [
    httpx.ConnectError("[Errno 111] Connection refused"),
    ConnectionResetError(104, "Connection reset by peer"),
    OSError(113, "No route to host"),
    IndexError_("the Azure AI Search service answered 503"),
    RuntimeError("an SDK error nobody translated"),
]


class DownSearch:
    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.calls = 0

    async def search(
        self, query: str, *, top_k: int = 5, mode: SearchMode = "hybrid"
    ) -> list[Passage]:
        self.calls += 1
        raise self.error


def _citations(events: Sequence[TurnEvent]) -> list[object]:
    return [c for e in events if isinstance(e, CitationsReady) for c in e.citations]


def _done(events: Sequence[TurnEvent]) -> TurnDone:
    done = [e for e in events if isinstance(e, TurnDone)]
    assert len(done) == 1 and not any(isinstance(e, TurnFailed) for e in events), events
    return done[0]


@pytest.mark.parametrize("error", OUTAGES, ids=lambda e: type(e).__name__)
async def test_search_down_says_sources_are_unavailable_and_cites_nothing(
        store: SqliteConversationStore, error: BaseException) -> None:
    model = ScriptedModel(pieces=["Keys rotate monthly [1]."])
    service = ChatService(DownSearch(error), store, model, ChatLimits())
    events = await collect(service, ask("How often are keys rotated?"))
    assert text_of(events) == SOURCES_UNAVAILABLE_MESSAGE
    assert "[1]" not in text_of(events) and _citations(events) == []
    assert model.prompts == []  # no answer the documents could not ground
    assert _done(events).mode == "extractive"


async def test_search_down_is_still_a_stored_turn(store: SqliteConversationStore) -> None:
    service = ChatService(DownSearch(OSError("down")), store, None, ChatLimits())
    events = await collect(service, ask("How often are keys rotated?"))
    done = _done(events)
    assert done.message_id is not None
    conversations = await store.list_conversations("local")
    assert len(conversations.conversations) == 1


class DownStore:
    """Every call fails the way an unreachable store fails."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __getattr__(self, name: str) -> object:
        async def fail(*args: object, **kwargs: object) -> object:
            raise self.error
        return fail


@pytest.mark.parametrize("error", [*OUTAGES[:3], StoreError("Table Storage answered 503"),
                                   RuntimeError("closed")], ids=lambda e: type(e).__name__)
async def test_store_down_still_answers_and_says_it_was_not_saved(error: BaseException) -> None:
    model = ScriptedModel(pieces=["Keys rotate ", "monthly [1]."])
    service = ChatService(FixedSearch(PASSAGES), DownStore(error), model,  # type: ignore[arg-type]
                          ChatLimits())
    events = await collect(service, ask("How often are keys rotated?"))
    text = text_of(events)
    assert text == "Keys rotate monthly [1]." + NOT_SAVED_NOTICE
    assert len(_citations(events)) == 1  # the real citation is kept
    assert _done(events).message_id is None


async def test_store_down_on_a_follow_up_answers_without_history() -> None:
    model = ScriptedModel(pieces=["Monthly [1]."])
    service = ChatService(FixedSearch(PASSAGES), DownStore(OSError("unreachable")),  # type: ignore[arg-type]
                          model, ChatLimits())
    events = await collect(service, ask("And how often?", conversation_id="c-1"))
    assert text_of(events) == HISTORY_UNAVAILABLE_NOTICE + "Monthly [1]." + NOT_SAVED_NOTICE
    assert _done(events).message_id is None


async def test_a_closed_sqlite_store_degrades_the_same_way(tmp_path: Path) -> None:
    store = await SqliteConversationStore.open(tmp_path / "chatref.sqlite")
    await store.aclose()
    service = ChatService(FixedSearch(PASSAGES), store, None, ChatLimits())
    events = await collect(service, ask("How often are keys rotated?"))
    assert text_of(events).endswith(NOT_SAVED_NOTICE) and _citations(events)
    assert _done(events).message_id is None


async def test_an_unknown_conversation_is_still_not_found(
        store: SqliteConversationStore) -> None:
    service = ChatService(FixedSearch(PASSAGES), store, None, ChatLimits())
    with pytest.raises(NotFoundError):
        await service.start_turn(ask("And then?", conversation_id="no-such-conversation"))
