"""Azure Table Storage specifics, on Azurite: the entity layout, the service's size limits, the
commit point, table creation and how SDK errors come out. The behaviour every store shares is in
test_contract.py."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from azure.data.tables import TableServiceClient

from chatref.errors import ConfigurationError, NotFoundError, StoreError
from chatref.store import Citation, NewAnswer
from chatref.store import table_entities as te
from chatref.store.table_store import TableConversationStore
from tests.fakes.azurite import ACCOUNT_KEY, ACCOUNT_NAME, Azurite, azurite  # noqa: F401
from tests.store.conftest import start_conversation


@pytest.fixture
async def table_store(azurite: Azurite) -> AsyncIterator[TableConversationStore]:  # noqa: F811
    store = await TableConversationStore.open(
        table=azurite.unique_name("conv"), endpoint=azurite.table_url,
        connection_string=azurite.connection_string,
    )
    yield store
    await store.aclose()


def _rows(azurite: Azurite, store: TableConversationStore) -> list[dict[str, Any]]:  # noqa: F811
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    table = service.get_table_client(store.backend["table"])
    return [dict(entity) for entity in table.list_entities()]


def _entity_bytes(entity: dict[str, Any]) -> int:
    """The service's own size formula (Table Storage data model documentation)."""
    size = 4 + len(str(entity["PartitionKey"]).encode("utf-16-le"))
    size += len(str(entity["RowKey"]).encode("utf-16-le"))
    for name, value in entity.items():
        if name in {"PartitionKey", "RowKey"}:
            continue
        size += 8 + len(name.encode("utf-16-le"))
        size += 4 + len(value.encode("utf-16-le")) if isinstance(value, str) else 8
    return size


async def test_one_turn_is_one_partition_of_known_rows(
    azurite: Azurite, table_store: TableConversationStore  # noqa: F811
) -> None:
    answer = await table_store.append_turn(
        "alice", "c1", question="q", question_id="q1", answer=NewAnswer("a", "complete"),
        new_title="t",
    )
    rows = [r for r in _rows(azurite, table_store) if r["PartitionKey"] != te.HEALTH_PARTITION]
    assert {r["PartitionKey"] for r in rows} == {"alice"}
    kinds = sorted(str(r["RowKey"]).split("_", 1)[0] for r in rows)
    assert kinds == ["c", "i", "i", "l", "m", "m"]
    assert {te.index_key("q1"), te.index_key(answer.id)} <= {r["RowKey"] for r in rows}


async def test_list_keys_sort_newest_first() -> None:
    older, newer = te.list_key("a", 1_700_000_000.0), te.list_key("b", 1_700_000_000.000002)
    assert newer < older
    assert te.list_key("z", 4_000_000_000.0) < te.list_key("a", 10.0)


async def test_a_long_answer_is_split_within_the_services_limits(
    azurite: Azurite, table_store: TableConversationStore  # noqa: F811
) -> None:
    content = "🙂" * 600_000  # two UTF-16 units each: 2.4 MB as the service counts
    citations = [Citation(n, f"c{n}", "d", "s", "t", None, None, "x" * 5000)
                 for n in range(1, 40)]
    answer = await table_store.append_turn(
        "alice", "c1", question="q", question_id="q1",
        answer=NewAnswer(content, "complete", citations=citations), new_title="t",
    )
    rows = _rows(azurite, table_store)
    parts = [r for r in rows if str(r["RowKey"]).startswith(te.part_prefix(answer.id))]
    assert len(parts) >= 2  # the body did not fit on the message entity
    for row in rows:
        assert _entity_bytes(row) < 1024 * 1024, row["RowKey"]
        for value in row.values():
            if isinstance(value, str):
                assert len(value.encode("utf-16-le")) <= 64 * 1024
    (_, stored) = await table_store.get_messages("alice", "c1")
    assert stored.content == content and stored.citations == tuple(citations)
    await table_store.delete_conversation("alice", "c1")
    assert [r["PartitionKey"] for r in _rows(azurite, table_store)] in (
        [], [te.HEALTH_PARTITION])


@pytest.mark.parametrize("finisher", ["retention sweep", "the user's next deletion"])
async def test_a_deletion_cut_short_is_finished_later(
    azurite: Azurite, table_store: TableConversationStore, finisher: str  # noqa: F811
) -> None:
    long_answer = NewAnswer("x" * 40_000, "complete")  # past the inline parts: overflow rows
    for conversation in ("gone", "kept", "next"):
        await table_store.append_turn("alice", conversation, question="q",
                                      question_id=f"q-{conversation}", answer=long_answer,
                                      new_title=conversation)
    # What a process killed right after the deletion's first transaction leaves behind: the
    # conversation and its list line gone, its d_ row written, every message still there.
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    table = service.get_table_client(table_store.backend["table"])
    entity = table.get_entity("alice", te.conversation_key("gone"))
    table.submit_transaction([
        ("delete", {"PartitionKey": "alice", "RowKey": entity["RowKey"]}),
        ("delete", {"PartitionKey": "alice", "RowKey": entity["ListKey"]}),
        ("upsert", {"PartitionKey": "alice", "RowKey": te.deletion_key("gone"),
                    "ConversationId": "gone"}),
    ])
    [gone_question, gone_answer] = [
        r for r in _rows(azurite, table_store)
        if str(r["RowKey"]).startswith(te.message_prefix("gone"))]
    orphans = {str(gone_question["RowKey"]), te.index_key(str(gone_answer["MessageId"])),
               te.part_key(str(gone_answer["MessageId"]), 0)}
    assert orphans <= {str(r["RowKey"]) for r in _rows(azurite, table_store)}

    if finisher == "retention sweep":
        assert await table_store.delete_conversations_older_than(0.0) == 0  # nothing is old
        survivors = ["next", "kept"]
    else:
        await table_store.delete_conversation("alice", "next")
        survivors = ["kept"]
    left = {str(r["RowKey"]) for r in _rows(azurite, table_store)
            if r["PartitionKey"] == "alice"}
    assert not any("gone" in key or key in orphans for key in left), left
    assert not any(key.startswith(te.DELETION_PREFIX) for key in left)
    listed = (await table_store.list_conversations("alice")).conversations
    assert [c.id for c in listed] == survivors
    assert [m.content for m in await table_store.get_messages("alice", "kept")] == [
        "q", "x" * 40_000]


async def test_a_message_past_the_commit_point_is_invisible(
    azurite: Azurite, table_store: TableConversationStore  # noqa: F811
) -> None:
    await table_store.append_turn("alice", "c1", question="q", question_id="q1",
                                  answer=NewAnswer("a", "complete"), new_title="t")
    # What a writer that lost the race (or crashed between transactions) could leave behind.
    stray, _, index = te.message_entities("alice", "c1", te.NewMessage(
        id="stray", seq=3, role="assistant", status="complete", created_at=0.0,
        parts=te.split_body(te.encode_body("half", ()))))
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    table = service.get_table_client(table_store.backend["table"])
    table.upsert_entity(stray)
    table.upsert_entity(index)
    assert [m.seq for m in await table_store.get_messages("alice", "c1")] == [1, 2]
    with pytest.raises(NotFoundError, match="does not exist"):
        await table_store.set_feedback("alice", "stray", "up", None)
    # the next turn takes seq 3 and 4 and replaces the stray row
    await table_store.append_turn("alice", "c1", question="q2", question_id="q2",
                                  answer=NewAnswer("a2", "complete"))
    assert [m.content for m in await table_store.get_messages("alice", "c1")] == [
        "q", "a", "q2", "a2"]


async def test_the_table_is_created_once_even_by_instances_starting_together(
    azurite: Azurite,  # noqa: F811
) -> None:
    name = azurite.unique_name("fresh")
    stores = await asyncio.gather(*(
        TableConversationStore.open(table=name, endpoint=azurite.table_url,
                                    connection_string=azurite.connection_string)
        for _ in range(3)))
    try:
        conversation, _ = await start_conversation(stores[0], "alice", "t")
        assert (await stores[2].get_conversation("alice", conversation.id)).title == "t"
    finally:
        for store in stores:
            await store.aclose()


async def test_a_wrong_account_key_is_a_store_error_naming_the_role(
    azurite: Azurite,  # noqa: F811
) -> None:
    wrong = azurite.connection_string.replace(ACCOUNT_KEY, "d3Jvbmcta2V5" * 8)
    with pytest.raises(StoreError, match="not authorised") as caught:
        await TableConversationStore.open(table="conversations", endpoint=azurite.table_url,
                                          connection_string=wrong)
    assert "d3Jvbmcta2V5" not in caught.value.message
    assert "Storage Table Data Contributor" in caught.value.message


async def test_an_unreachable_endpoint_is_a_store_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    connection_string = (f"AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
                         f"TableEndpoint=http://127.0.0.1:{port}/{ACCOUNT_NAME}")
    with pytest.raises(StoreError, match="cannot be reached") as caught:
        await TableConversationStore.open(table="conversations", endpoint=None,
                                          connection_string=connection_string)
    assert ACCOUNT_KEY not in str(caught.value)


@pytest.mark.parametrize("connection_string", [
    "AccountName=devstoreaccount1;TableEndpoint=http://127.0.0.1:1/devstoreaccount1",
    "UseDevelopmentStorage=true", "garbage",
])
async def test_a_connection_string_without_a_key_is_a_configuration_error(
    connection_string: str,
) -> None:
    with pytest.raises(ConfigurationError, match="AZURE_STORAGE_CONNECTION_STRING"):
        await TableConversationStore.open(table="conversations", endpoint=None,
                                          connection_string=connection_string)


def test_user_keys_are_injective_and_valid() -> None:
    ids = ["alice", "~alice", "a/b", "a\\b", "a#b", "a?b", "", "!health", "x" * 255, "x" * 256,
           "y" * 5000, "y" * 5001, "ünï", "tab\there", "it's"]
    keys = [te.user_key(i) for i in ids]
    assert len(set(keys)) == len(ids)
    for key in keys:
        assert key and len(key) <= 512 and key.isprintable()
        assert not any(char in key for char in "/\\#?")
        assert key != te.HEALTH_PARTITION


async def test_an_instance_whose_clock_is_behind_still_appends(
    azurite: Azurite, table_store: TableConversationStore  # noqa: F811
) -> None:
    import time

    await table_store.append_turn("alice", "c1", question="q", question_id="q1",
                                  answer=NewAnswer("a", "complete"), new_title="t")
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    table = service.get_table_client(table_store.backend["table"])
    # Another instance, its clock 100 s ahead, was the last to write this conversation.
    conversation = dict(table.get_entity("alice", te.conversation_key("c1")))
    table.delete_entity("alice", conversation["ListKey"])
    ahead = time.time() + 100
    conversation.update(UpdatedAt=ahead, ListKey=te.list_key("c1", ahead))
    table.upsert_entity(conversation)
    row = {"PartitionKey": "alice", "RowKey": te.list_key("c1", ahead), "ConversationId": "c1",
           "Title": "t", "CreatedAt": conversation["CreatedAt"], "UpdatedAt": ahead,
           "MessageCount": 2}
    table.upsert_entity(row)
    for n in (2, 3):  # both land in the same microsecond as the last write: same list key
        await table_store.append_turn("alice", "c1", question=f"q{n}", question_id=f"q{n}",
                                      answer=NewAnswer(f"a{n}", "complete"))
    listed = (await table_store.list_conversations("alice")).conversations
    assert [(c.id, c.message_count) for c in listed] == [("c1", 6)]
    assert len(await table_store.get_messages("alice", "c1")) == 6
