"""The chat flow against a real SQLite store and Protocol-level model/search stand-ins."""

from __future__ import annotations

import asyncio

import pytest

from chatref.chat.extractive import MODEL_UNAVAILABLE_NOTICE, NO_MODEL_NOTICE
from chatref.chat.service import ChatLimits, ChatService
from chatref.chat.turn import CONTENT_FILTERED_MESSAGE, TurnRecord
from chatref.chat.types import (
    ChatRequest,
    CitationsReady,
    TextDelta,
    TurnDone,
    TurnEvent,
    TurnFailed,
    TurnStarted,
)
from chatref.errors import (
    ContentFilteredError,
    InputError,
    ModelError,
    ModelUnavailableError,
    NotFoundError,
)
from chatref.llm.base import ChatMessage
from chatref.store import SqliteConversationStore

from .doubles import FixedSearch, ScriptedModel, passage

PASSAGES = [
    passage(1, "Storage keys are rotated every month. The rotation is logged."),
    passage(2, "Backups run nightly. They are kept for 30 days.", section="Backups"),
    passage(3, "The cafeteria opens at noon.", title="Facilities", source="docs/fac.md",
            section=None, page=4),
]


def ask(text: str, conversation_id: str | None = None, **kwargs: object) -> ChatRequest:
    return ChatRequest([ChatMessage("user", text)], conversation_id=conversation_id,
                       **kwargs)  # type: ignore[arg-type]


async def collect(service: ChatService, request: ChatRequest) -> list[TurnEvent]:
    turn = await service.start_turn(request)
    return [event async for event in turn.events()]


def text_of(events: list[TurnEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_without_a_model_the_answer_is_extractive_and_labelled(
    store: SqliteConversationStore,
) -> None:
    service = ChatService(FixedSearch(PASSAGES), store, None, ChatLimits())
    events = await collect(service, ask("How often are storage keys rotated?"))
    assert isinstance(events[0], TurnStarted) and events[0].conversation_id
    text = text_of(events)
    assert text.startswith(NO_MODEL_NOTICE)
    assert "Storage keys are rotated every month." in text and "[1]" in text
    citations = next(e for e in events if isinstance(e, CitationsReady)).citations
    assert [c.number for c in citations] == [1]  # the others share no word with the question
    assert citations[0].source == "docs/ops.md" and citations[0].section == "Keys"
    done = events[-1]
    assert isinstance(done, TurnDone) and done.mode == "extractive" and done.message_id
    messages = await store.get_messages("local", events[0].conversation_id)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].status == "extractive" and messages[1].content == text
    assert [c.number for c in messages[1].citations] == [1]
    conversation = await store.get_conversation("local", events[0].conversation_id)
    assert conversation.title == "How often are storage keys rotated?"


async def test_with_nothing_retrieved_the_extractive_answer_says_so(
    store: SqliteConversationStore,
) -> None:
    service = ChatService(FixedSearch([]), store, None, ChatLimits())
    events = await collect(service, ask("Anything?"))
    assert "found nothing" in text_of(events)
    assert next(e for e in events if isinstance(e, CitationsReady)).citations == []


async def test_model_answer_is_relayed_grounded_cited_and_stored(
    store: SqliteConversationStore,
) -> None:
    model = ScriptedModel()
    search = FixedSearch(PASSAGES)
    service = ChatService(search, store, model, ChatLimits(top_k=2))
    events = await collect(service, ask("How often are keys rotated?"))
    assert [e.text for e in events if isinstance(e, TextDelta)] == model.pieces
    # The prompt the model saw: rules, the delimited numbered sources, then the question.
    (prompt,) = model.prompts
    assert prompt[0].role == "system"
    assert '<source id="1" title="Ops guide" location="docs/ops.md, Keys">' in prompt[0].content
    assert "Storage keys are rotated every month." in prompt[0].content
    assert '<source id="2"' in prompt[0].content and '<source id="3"' not in prompt[0].content
    assert prompt[-1] == ChatMessage("user", "How often are keys rotated?")
    assert search.queries == ["How often are keys rotated?"]  # no history: no rewrite
    assert model.rewrites == []
    citations = next(e for e in events if isinstance(e, CitationsReady)).citations
    assert [c.number for c in citations] == [1]  # only what the answer cites
    done = events[-1]
    assert isinstance(done, TurnDone)
    assert (done.finish_reason, done.mode, done.usage.prompt_tokens) == ("stop", "model", 100)
    assert done.model == "scripted@east"
    started = events[0]
    assert isinstance(started, TurnStarted) and started.conversation_id
    stored = (await store.get_messages("local", started.conversation_id))[1]
    assert stored.content == "Rotate keys monthly [1]." and stored.status == "complete"
    assert (stored.prompt_tokens, stored.completion_tokens) == (100, 5)
    assert model.closed_streams == 1


async def test_a_follow_up_uses_stored_history_and_a_rewritten_query(
    store: SqliteConversationStore,
) -> None:
    model = ScriptedModel(rewrite='"backup retention period"')
    search = FixedSearch(PASSAGES)
    service = ChatService(search, store, model, ChatLimits())
    first = await collect(service, ask("Tell me about backups"))
    conversation_id = first[0].conversation_id  # type: ignore[union-attr]
    await collect(service, ask("How long are they kept?", conversation_id))
    assert search.queries == ["Tell me about backups", "backup retention period"]
    rewrite_prompt = model.rewrites[0]
    assert "Tell me about backups" in rewrite_prompt[-1].content
    assert "How long are they kept?" in rewrite_prompt[-1].content
    prompt = model.prompts[1]
    assert [m.role for m in prompt] == ["system", "user", "assistant", "user"]
    assert prompt[1].content == "Tell me about backups"
    assert prompt[2].content == "Rotate keys monthly [1]."
    messages = await store.get_messages("local", conversation_id)
    assert len(messages) == 4


async def test_history_is_cut_to_the_token_budget_keeping_the_newest(
    store: SqliteConversationStore,
) -> None:
    model = ScriptedModel()
    service = ChatService(FixedSearch(PASSAGES), store, model, ChatLimits(history_token_budget=30))
    history = [
        ChatMessage("user", "old question " * 20),
        ChatMessage("assistant", "old answer " * 20),
        ChatMessage("user", "recent question"),
        ChatMessage("assistant", "recent answer"),
        ChatMessage("user", "and now?"),
    ]
    await collect(service, ChatRequest(history, persist=False))
    prompt = model.prompts[0]
    assert [m.content for m in prompt[1:]] == ["recent question", "recent answer", "and now?"]


async def test_a_failed_rewrite_falls_back_to_the_question(
    store: SqliteConversationStore,
) -> None:
    model = ScriptedModel(fail_before=ModelUnavailableError("all endpoints down"))
    search = FixedSearch(PASSAGES)
    service = ChatService(search, store, model, ChatLimits())
    history = [ChatMessage("user", "a"), ChatMessage("assistant", "b"),
               ChatMessage("user", "storage keys?")]
    events = await collect(service, ChatRequest(history, persist=False))
    assert search.queries == ["storage keys?"]
    assert text_of(events).startswith(MODEL_UNAVAILABLE_NOTICE)


async def test_model_unavailable_before_any_token_degrades_to_extractive(
    store: SqliteConversationStore,
) -> None:
    model = ScriptedModel(fail_before=ModelUnavailableError("every endpoint is down"))
    service = ChatService(FixedSearch(PASSAGES), store, model, ChatLimits())
    events = await collect(service, ask("How often are storage keys rotated?"))
    text = text_of(events)
    assert text.startswith(MODEL_UNAVAILABLE_NOTICE) and "rotated every month" in text
    done = events[-1]
    assert isinstance(done, TurnDone) and done.mode == "extractive"
    assert [c.number for c in events[-2].citations] == [1]  # type: ignore[union-attr]


async def test_a_model_failure_mid_answer_keeps_the_partial_answer_marked(
    store: SqliteConversationStore,
) -> None:
    model = ScriptedModel(fail_after=ModelError("connection reset by the endpoint"))
    service = ChatService(FixedSearch(PASSAGES), store, model, ChatLimits())
    events = await collect(service, ask("keys?"))
    failed = events[-1]
    assert isinstance(failed, TurnFailed)
    assert failed.code == "model_error" and "partial answer was kept" in failed.message
    assert failed.message_id
    assert not any(isinstance(e, TurnDone) for e in events)
    conversation_id = events[0].conversation_id  # type: ignore[union-attr]
    stored = (await store.get_messages("local", conversation_id))[1]
    assert (stored.status, stored.content) == ("error", "Rotate keys monthly [1].")
    assert [c.number for c in stored.citations] == [1]


async def test_content_filter_becomes_a_polite_answer(store: SqliteConversationStore) -> None:
    model = ScriptedModel(fail_before=ContentFilteredError("filtered: hate"))
    service = ChatService(FixedSearch(PASSAGES), store, model, ChatLimits())
    events = await collect(service, ask("something nasty"))
    assert text_of(events) == CONTENT_FILTERED_MESSAGE
    done = events[-1]
    assert isinstance(done, TurnDone) and done.finish_reason == "content_filter"
    stored = (await store.get_messages("local", events[0].conversation_id))[1]  # type: ignore[union-attr]
    assert stored.status == "filtered"


async def test_content_filter_finish_reason_after_some_text(
    store: SqliteConversationStore,
) -> None:
    model = ScriptedModel(finish_reason="content_filter")
    service = ChatService(FixedSearch(PASSAGES), store, model, ChatLimits())
    events = await collect(service, ask("keys?"))
    assert text_of(events).startswith("Rotate keys monthly [1].")
    assert "withheld by the content safety filter" in text_of(events)


async def test_a_consumer_that_goes_away_leaves_a_stopped_partial_answer(
    store: SqliteConversationStore,
) -> None:
    model = ScriptedModel(pieces=["one ", "two ", "three"], pause_s=0.01)
    service = ChatService(FixedSearch(PASSAGES), store, model, ChatLimits())
    turn = await service.start_turn(ask("count"))
    events = turn.events()
    assert isinstance(await anext(events), TurnStarted)
    assert await anext(events) == TextDelta("one ")
    await events.aclose()
    await service.drain()
    assert model.closed_streams == 1
    assert turn.conversation_id is not None
    stored = (await store.get_messages("local", turn.conversation_id))[1]
    assert (stored.status, stored.content, stored.finish_reason) == ("stopped", "one ", "stopped")


async def test_a_cancelled_turn_also_stores_its_partial_answer(
    store: SqliteConversationStore,
) -> None:
    model = ScriptedModel(pieces=["one ", "two ", "three"], pause_s=0.05)
    service = ChatService(FixedSearch(PASSAGES), store, model, ChatLimits())
    turn = await service.start_turn(ask("count"))
    seen: list[TurnEvent] = []

    async def consume() -> None:
        async for event in turn.events():
            seen.append(event)

    task = asyncio.create_task(consume())
    while not any(isinstance(e, TextDelta) for e in seen):
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await service.drain()
    assert turn.conversation_id is not None
    stored = (await store.get_messages("local", turn.conversation_id))[1]
    assert stored.status == "stopped" and stored.content == "one "


async def test_stateless_requests_store_nothing(store: SqliteConversationStore) -> None:
    service = ChatService(FixedSearch(PASSAGES), store, ScriptedModel(), ChatLimits())
    answer = await service.answer(ask("keys?", persist=False))
    assert answer.text == "Rotate keys monthly [1]." and answer.conversation_id is None
    assert [c.number for c in answer.citations] == [1]
    assert (await store.list_conversations("local")).conversations == []


async def test_the_observer_sees_each_turn(store: SqliteConversationStore) -> None:
    records: list[TurnRecord] = []
    service = ChatService(FixedSearch(PASSAGES), store, ScriptedModel(), ChatLimits(),
                          observer=records.append)
    await service.answer(ask("keys?"))
    (record,) = records
    assert (record.mode, record.status, record.passages) == ("model", "complete", 3)
    assert record.first_token_s is not None and record.total_s >= record.first_token_s


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([], "messages: at least one message is required"),
        ([ChatMessage("user", "   ")], r"messages\[0\].content: the question is empty"),
        ([ChatMessage("user", "q"), ChatMessage("assistant", "a")],
         r"messages\[1\].role: the last message must be the user's question"),
        ([ChatMessage("user", "x" * 51)], r"messages\[0\].content: 51 characters is more"),
        ([ChatMessage("user", "q")] * 4, "messages: 4 messages is more than the limit of 3"),
    ],
)
async def test_bad_requests_name_what_is_wrong(
    store: SqliteConversationStore, messages: list[ChatMessage], error: str
) -> None:
    service = ChatService(FixedSearch(PASSAGES), store, None,
                          ChatLimits(max_message_chars=50, max_messages=3))
    with pytest.raises(InputError, match=error):
        await service.start_turn(ChatRequest(messages))
    assert (await store.list_conversations("local")).conversations == []


async def test_an_unknown_conversation_is_not_found(store: SqliteConversationStore) -> None:
    service = ChatService(FixedSearch(PASSAGES), store, None, ChatLimits())
    with pytest.raises(NotFoundError, match="nope"):
        await service.start_turn(ask("hi", "nope"))
