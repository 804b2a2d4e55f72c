"""The ConversationStore contract: every implementation (SQLite, Azure Table Storage on Azurite)
passes the same tests. A backend-specific detail belongs in that backend's own test file."""

from __future__ import annotations

import asyncio
import time

import pytest

from chatref.errors import InputError, NotFoundError
from chatref.store import Citation, ConversationStore, NewAnswer
from tests.store.conftest import StoreFactory, start_conversation


def _citation(number: int, text: str | None = None) -> Citation:
    return Citation(
        number=number, chunk_id=f"c{number}", doc_id="d1", source="docs/keys.md",
        title="Keys", page=None if number % 2 else number, section="Rotation",
        text=text or f"passage {number}",
    )


async def _all_ids(store: ConversationStore, user: str, limit: int) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(100):
        page = await store.list_conversations(user, limit=limit, cursor=cursor)
        assert len(page.conversations) <= limit
        ids.extend(c.id for c in page.conversations)
        cursor = page.next_cursor
        if cursor is None:
            return ids
    raise AssertionError("paging never ended")


async def test_a_turn_round_trips_with_citations(store: ConversationStore) -> None:
    conversation, answer = await start_conversation(
        store, "alice", "Key rotation", question="How do I rotate keys?", question_id="q-1",
        answer=NewAnswer(content="Rotate them monthly [1].", status="complete",
                         finish_reason="stop", model="gpt", prompt_tokens=120,
                         completion_tokens=8, citations=[_citation(1), _citation(2)]),
    )
    messages = await store.get_messages("alice", conversation.id)
    assert [m.id for m in messages] == ["q-1", answer.id]
    assert [m.seq for m in messages] == [1, 2]
    assert messages[0].role == "user" and messages[0].content == "How do I rotate keys?"
    stored = messages[1]
    assert stored.role == "assistant" and stored.status == "complete"
    assert stored.finish_reason == "stop" and messages[0].finish_reason is None
    assert (stored.prompt_tokens, stored.completion_tokens, stored.model) == (120, 8, "gpt")
    assert stored.citations == (_citation(1), _citation(2))
    assert stored == answer
    page = await store.list_conversations("alice")
    assert [(c.id, c.message_count, c.title) for c in page.conversations] == [
        (conversation.id, 2, "Key rotation")]
    assert page.next_cursor is None
    fetched = await store.get_conversation("alice", conversation.id)
    assert (fetched.user_id, fetched.message_count) == ("alice", 2)


async def test_conversations_are_listed_newest_activity_first(store: ConversationStore) -> None:
    first, _ = await start_conversation(store, "alice", "first")
    second, _ = await start_conversation(store, "alice", "second")
    listed = (await store.list_conversations("alice")).conversations
    assert [c.title for c in listed] == ["second", "first"]
    await store.append_turn("alice", first.id, question="bump", question_id="q-bump",
                            answer=NewAnswer("a", "complete"))
    assert await _all_ids(store, "alice", 50) == [first.id, second.id]


async def test_paging_with_cursors_visits_every_conversation_once(
    store: ConversationStore,
) -> None:
    created = [(await start_conversation(store, "alice", f"c{n}"))[0] for n in range(7)]
    newest_first = [c.id for c in reversed(created)]
    assert await _all_ids(store, "alice", 3) == newest_first
    assert await _all_ids(store, "alice", 7) == newest_first
    first = await store.list_conversations("alice", limit=2)
    assert [c.id for c in first.conversations] == newest_first[:2]
    assert first.next_cursor is not None


@pytest.mark.parametrize("cursor", ["", "not a cursor", "o-1", "eyJ4Ijox", "%%%"])
async def test_a_cursor_it_did_not_return_is_an_input_error(
    store: ConversationStore, cursor: str
) -> None:
    await start_conversation(store, "alice", "one")
    with pytest.raises(InputError, match="cursor"):
        await store.list_conversations("alice", cursor=cursor)


async def test_another_users_conversation_is_not_found(store: ConversationStore) -> None:
    conversation, answer = await start_conversation(
        store, "alice", "mine", answer=NewAnswer(content="x", status="extractive"))
    assert (await store.list_conversations("bob")).conversations == []
    with pytest.raises(NotFoundError, match=conversation.id):
        await store.get_messages("bob", conversation.id)
    with pytest.raises(NotFoundError):
        await store.get_conversation("bob", conversation.id)
    with pytest.raises(NotFoundError):
        await store.append_turn("bob", conversation.id, question="q", question_id="qbob",
                                answer=NewAnswer("a", "complete"))
    with pytest.raises(NotFoundError):
        await store.rename_conversation("bob", conversation.id, "theirs")
    with pytest.raises(NotFoundError):
        await store.delete_conversation("bob", conversation.id)
    with pytest.raises(NotFoundError, match=answer.id):
        await store.set_feedback("bob", answer.id, "down", None)
    assert (await store.get_conversation("alice", conversation.id)).title == "mine"
    assert len(await store.get_messages("alice", conversation.id)) == 2


@pytest.mark.parametrize("user", ["a/b#?\\", "~alice", "!health", "ünï cödé 🙂", "x" * 300])
async def test_any_user_id_is_its_own_partition(store: ConversationStore, user: str) -> None:
    conversation, _ = await start_conversation(store, user, "t")
    assert [c.id for c in (await store.list_conversations(user)).conversations] == [
        conversation.id]
    assert (await store.list_conversations("alice")).conversations == []
    with pytest.raises(NotFoundError):
        await store.get_conversation("alice", conversation.id)
    await store.check_writable()  # the readiness row does not show up in any user's list
    assert len((await store.list_conversations(user)).conversations) == 1


@pytest.mark.parametrize("bad_id", ["../etc", "a_b", "a/b", "a#b", "x" * 2000, "", "'"])
async def test_ids_it_never_issued_are_not_found(store: ConversationStore, bad_id: str) -> None:
    await start_conversation(store, "alice", "t")
    with pytest.raises(NotFoundError):
        await store.get_conversation("alice", bad_id)
    with pytest.raises(NotFoundError):
        await store.get_messages("alice", bad_id)
    with pytest.raises(NotFoundError):
        await store.set_feedback("alice", bad_id, "up", None)


async def test_rename_and_delete(store: ConversationStore) -> None:
    keep, _ = await start_conversation(store, "alice", "keep")
    conversation, answer = await start_conversation(
        store, "alice", "old",
        answer=NewAnswer(content="a [1]", status="complete", citations=[_citation(1)]),
    )
    await store.set_feedback("alice", answer.id, "up", "useful")
    renamed = await store.rename_conversation("alice", conversation.id, "new")
    assert renamed.title == "new" and renamed.message_count == 2
    assert (await store.get_conversation("alice", conversation.id)).title == "new"
    assert [c.title for c in (await store.list_conversations("alice")).conversations] == [
        "new", "keep"]
    await store.delete_conversation("alice", conversation.id)
    with pytest.raises(NotFoundError):
        await store.get_conversation("alice", conversation.id)
    with pytest.raises(NotFoundError):
        await store.get_messages("alice", conversation.id)
    with pytest.raises(NotFoundError):
        await store.set_feedback("alice", answer.id, "down", None)
    with pytest.raises(NotFoundError):
        await store.delete_conversation("alice", conversation.id)
    assert [c.id for c in (await store.list_conversations("alice")).conversations] == [keep.id]


async def test_feedback_is_one_per_answer_and_only_on_answers(store: ConversationStore) -> None:
    conversation, answer = await start_conversation(store, "alice", "t", question_id="q-1")
    first = await store.set_feedback("alice", answer.id, "up", None)
    assert (first.message_id, first.rating, first.comment) == (answer.id, "up", None)
    await store.set_feedback("alice", answer.id, "down", "wrong source")
    messages = await store.get_messages("alice", conversation.id)
    feedback = messages[1].feedback
    assert feedback is not None and (feedback.rating, feedback.comment) == ("down", "wrong source")
    assert messages[0].feedback is None
    await store.set_feedback("alice", answer.id, "up", None)
    feedback = (await store.get_messages("alice", conversation.id))[1].feedback
    assert feedback is not None and (feedback.rating, feedback.comment) == ("up", None)
    with pytest.raises(InputError, match="rate answers only"):
        await store.set_feedback("alice", "q-1", "up", None)
    with pytest.raises(NotFoundError):
        await store.set_feedback("alice", "nope", "up", None)


async def test_append_turn_stores_question_and_answer_in_one_write(
    store: ConversationStore,
) -> None:
    answer = await store.append_turn(
        "alice", "conv-1", question="How?", question_id="q-1",
        answer=NewAnswer("Like this [1].", "complete", citations=[_citation(1)]),
        new_title="How?",
    )
    messages = await store.get_messages("alice", "conv-1")
    assert [(m.id, m.role, m.seq) for m in messages] == [
        ("q-1", "user", 1), (answer.id, "assistant", 2)]
    assert messages[1].citations == (_citation(1),)
    assert (await store.get_conversation("alice", "conv-1")).title == "How?"
    await store.append_turn("alice", "conv-1", question="And?", question_id="q-2",
                            answer=NewAnswer("More.", "extractive"))
    messages = await store.get_messages("alice", "conv-1")
    assert [m.seq for m in messages] == [1, 2, 3, 4]
    assert [m.content for m in messages] == ["How?", "Like this [1].", "And?", "More."]
    assert (await store.get_conversation("alice", "conv-1")).message_count == 4


async def test_append_turn_to_an_unknown_conversation_writes_nothing(
    store: ConversationStore,
) -> None:
    with pytest.raises(NotFoundError):
        await store.append_turn("alice", "nope", question="q", question_id="q-1",
                                answer=NewAnswer("a", "complete"))
    other, _ = await start_conversation(store, "bob", "bob's")
    with pytest.raises(NotFoundError):
        await store.append_turn("alice", other.id, question="q", question_id="q-1",
                                answer=NewAnswer("a", "complete"))
    assert (await store.list_conversations("alice")).conversations == []
    assert len(await store.get_messages("bob", other.id)) == 2
    with pytest.raises(NotFoundError):
        await store.set_feedback("alice", "q-1", "up", None)


async def test_long_answers_and_many_citations_read_back_whole(store: ConversationStore) -> None:
    # Past every Table Storage limit: a 64 KiB string, a 1 MiB entity (and astral characters,
    # two UTF-16 units each).
    content = ("Grounded answer 🙂 with ünïcode. " * 40_000)[:1_300_000]
    citations = [_citation(n, text="passage text ✓ " * 300) for n in range(1, 51)]
    conversation, answer = await start_conversation(
        store, "alice", "long", question="q" * 8000,
        answer=NewAnswer(content, "complete", citations=citations),
    )
    question, stored = await store.get_messages("alice", conversation.id)
    assert question.content == "q" * 8000
    assert stored.content == content
    assert stored.citations == tuple(citations)
    await store.set_feedback("alice", answer.id, "up", "long but right")
    assert (await store.get_messages("alice", conversation.id))[1].content == content
    await store.delete_conversation("alice", conversation.id)
    with pytest.raises(NotFoundError):
        await store.get_messages("alice", conversation.id)


async def test_instances_appending_at_once_lose_no_turn(open_store: StoreFactory) -> None:
    one, two = await open_store(), await open_store()
    conversation, _ = await start_conversation(one, "alice", "busy", question="q0",
                                               question_id="q0", answer=NewAnswer("a0", "complete"))

    async def turn(store: ConversationStore, n: int) -> None:
        await store.append_turn("alice", conversation.id, question=f"q{n}", question_id=f"q{n}",
                                answer=NewAnswer(f"a{n}", "complete"))

    await asyncio.gather(*(turn(one if n % 2 else two, n) for n in range(1, 8)),
                         two.rename_conversation("alice", conversation.id, "renamed"))
    for store in (one, two):
        messages = await store.get_messages("alice", conversation.id)
        assert [m.seq for m in messages] == list(range(1, 17))
        # each turn is whole and contiguous: its answer right after its question
        assert all(messages[i].content == "q" + messages[i + 1].content[1:]
                   for i in range(0, 16, 2))
        assert {m.content for m in messages[::2]} == {f"q{n}" for n in range(8)}
        listed = (await store.list_conversations("alice")).conversations
        assert [(c.title, c.message_count) for c in listed] == [("renamed", 16)]


async def test_one_instance_sees_what_the_other_wrote(open_store: StoreFactory) -> None:
    one, two = await open_store(), await open_store()
    conversation, _ = await start_conversation(one, "alice", "shared")
    answer = await two.append_turn("alice", conversation.id, question="q", question_id="q-s",
                                   answer=NewAnswer("a", "complete"))
    await one.set_feedback("alice", answer.id, "down", None)
    messages = await two.get_messages("alice", conversation.id)
    assert messages[3].feedback is not None and messages[3].feedback.rating == "down"
    await two.delete_conversation("alice", conversation.id)
    assert (await one.list_conversations("alice")).conversations == []


async def test_writable_check_and_backend_description(store: ConversationStore) -> None:
    await store.check_writable()
    await store.check_writable()
    backend = store.backend
    assert backend["kind"] in {"sqlite", "azure-table"}
    assert not any("AccountKey" in value or "Eby8" in value for value in backend.values())


async def test_retention_deletes_what_was_last_active_before_the_cutoff(
    store: ConversationStore,
) -> None:
    old_alice, _ = await start_conversation(
        store, "alice", "old", question_id="q-old",
        answer=NewAnswer("a", "complete", citations=[_citation(1)]))
    old_bob, _ = await start_conversation(store, "b/ob", "old too")
    revived, _ = await start_conversation(store, "alice", "revived")
    await asyncio.sleep(0.05)
    cutoff = time.time()
    await asyncio.sleep(0.05)
    await store.append_turn("alice", revived.id, question="still here", question_id="q-rev",
                            answer=NewAnswer("a", "complete"))
    recent, _ = await start_conversation(store, "alice", "recent")
    assert await store.delete_conversations_older_than(cutoff) == 2
    assert [c.id for c in (await store.list_conversations("alice")).conversations] == [
        recent.id, revived.id]
    assert (await store.list_conversations("b/ob")).conversations == []
    with pytest.raises(NotFoundError):
        await store.get_messages("alice", old_alice.id)
    with pytest.raises(NotFoundError):
        await store.get_conversation("b/ob", old_bob.id)
    with pytest.raises(NotFoundError):
        await store.set_feedback("alice", "q-old", "up", None)
    assert await store.delete_conversations_older_than(cutoff) == 0
    assert len(await store.get_messages("alice", revived.id)) == 4
