"""Conversations in Azure Table Storage (the official ``azure-data-tables`` SDK, async).

Production reaches ``AZURE_STORAGE_TABLE_ENDPOINT`` with the managed identity
(DefaultAzureCredential, ``AZURE_CLIENT_ID``); ``AZURE_STORAGE_CONNECTION_STRING`` is for
development and Azurite only. The entity layout is in store/table_entities.py. Every SDK call goes
through ``_sdk_errors``, the one place where Azure's errors become chatref's.

For example (an illustration, not run as a doctest)::

    store = await TableConversationStore.open(table="conversations",
        endpoint="https://acct.table.core.windows.net", client_id=None)
    page = await store.list_conversations("alice", limit=20)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import TableTransactionError, UpdateMode
from azure.data.tables.aio import TableClient

from chatref.errors import ConfigurationError, ConflictError, InputError, NotFoundError, StoreError
from chatref.store import table_entities as te
from chatref.store.types import (
    Conversation,
    ConversationPage,
    NewAnswer,
    Rating,
    StoredFeedback,
    StoredMessage,
    new_id,
)

CONFLICT_RETRIES = 20  # another writer changed the conversation between our read and our write
OpList = list[tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], dict[str, Any]]]


class _Missing(StoreError):
    """404: the entity (or table) does not exist."""


class _Exists(StoreError):
    """409: an entity created here exists already."""


class _Stale(StoreError):
    """412: the ETag no longer matches (another writer won)."""


@contextlib.contextmanager
def _sdk_errors(table: str, action: str) -> Iterator[None]:
    """Turn the SDK's exceptions into chatref's, with no secret and no raw payload.

    ===============================  ==============================================
    SDK                              chatref
    ===============================  ==============================================
    404 ResourceNotFound             ``_Missing`` (callers make it ``NotFoundError``)
    409 EntityAlreadyExists          ``_Exists``
    412 UpdateConditionNotSatisfied  ``_Stale`` (callers re-read and retry)
    401/403, credential failures     ``StoreError`` naming the role the identity needs
    413, other 4xx/5xx               ``StoreError`` with status and error code
    connection errors, time-outs     ``StoreError``: the endpoint cannot be reached
    ===============================  ==============================================
    """
    where = f"conversation table {table!r}"
    try:
        yield
    except HttpResponseError as exc:
        status = exc.status_code or 0
        raw_code = getattr(exc, "error_code", None) or ""
        code = str(getattr(raw_code, "value", raw_code))  # a TableErrorCode enum or a string
        if isinstance(exc, TableTransactionError):
            status = {"EntityAlreadyExists": 409, "UpdateConditionNotSatisfied": 412,
                      "ResourceNotFound": 404, "TableNotFound": 404}.get(code, status)
        if status == 404:
            raise _Missing(f"{where}: {action}: not found ({code or 404})") from exc
        if status == 409 and code != "TableBeingDeleted":
            raise _Exists(f"{where}: {action}: already exists ({code or 409})") from exc
        if status == 412:
            raise _Stale(f"{where}: {action}: changed by another writer") from exc
        if status in {401, 403}:
            raise StoreError(
                f"{where}: {action}: not authorised ({code or status}); the app's identity "
                "needs the Storage Table Data Contributor role on this table"
            ) from exc
        raise StoreError(f"{where}: {action}: HTTP {status} {code}".rstrip()) from exc
    except ClientAuthenticationError as exc:  # no credential could give a token
        raise StoreError(
            f"{where}: {action}: no Entra ID token ({type(exc).__name__}); set AZURE_CLIENT_ID "
            "to the managed identity, or AZURE_STORAGE_CONNECTION_STRING for Azurite"
        ) from exc
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise StoreError(f"{where}: {action}: the endpoint cannot be reached "
                         f"({type(exc).__name__})") from exc
    except AzureError as exc:
        raise StoreError(f"{where}: {action}: {type(exc).__name__}") from exc


def _new_messages(
    messages: Sequence[tuple[str, str, NewAnswer]], current: Conversation, now: float
) -> list[te.NewMessage]:
    """The rows of ``(id, role, message)``s appended after ``current``'s last message."""
    return [
        te.NewMessage(
            id=message_id, seq=current.message_count + offset,
            role="assistant" if role == "assistant" else "user", status=message.status,
            created_at=now, parts=te.split_body(te.encode_body(message.content, message.citations)),
            finish_reason=message.finish_reason, model=message.model,
            prompt_tokens=message.prompt_tokens, completion_tokens=message.completion_tokens,
        )
        for offset, (message_id, role, message) in enumerate(messages, start=1)
    ]


class TableConversationStore:
    """The ``ConversationStore`` on one Azure Storage table; the same data from every instance."""

    def __init__(self, client: TableClient, table: str, location: str,
                 credential: Any = None) -> None:
        self._client = client
        self._table = table
        self._location = location
        self._credential = credential

    @classmethod
    async def open(
        cls,
        *,
        table: str,
        endpoint: str | None = None,
        connection_string: str | None = None,
        client_id: str | None = None,
    ) -> TableConversationStore:
        """Connect and make sure the table exists (creating it where the identity may).

        With ``connection_string`` (Azurite, development) its account key signs requests sent to
        ``endpoint`` (or the string's TableEndpoint); otherwise ``endpoint`` is reached with
        DefaultAzureCredential (the managed identity ``client_id``).
        """
        credential: Any = None
        if connection_string:
            parts = dict(
                item.split("=", 1) for item in connection_string.split(";") if "=" in item
            )
            endpoint = endpoint or parts.get("TableEndpoint")
            if not (parts.get("AccountName") and parts.get("AccountKey") and endpoint):
                raise ConfigurationError(
                    "AZURE_STORAGE_CONNECTION_STRING: needs AccountName and AccountKey (and "
                    "TableEndpoint unless AZURE_STORAGE_TABLE_ENDPOINT is set)"
                )
            client = TableClient(
                endpoint=endpoint, table_name=table,
                credential=AzureNamedKeyCredential(parts["AccountName"], parts["AccountKey"]),
            )
        elif endpoint:
            from chatref.azure_credentials import default_async_credential

            credential = default_async_credential(client_id)
            client = TableClient(endpoint=endpoint, table_name=table, credential=credential)
        else:
            raise ConfigurationError("Table Storage needs AZURE_STORAGE_TABLE_ENDPOINT")
        location = client.url.split("?", 1)[0]
        store = cls(client, table, location, credential)
        try:
            await store._ensure_table()
        except BaseException:
            await store.aclose()
            raise
        return store

    @property
    def backend(self) -> dict[str, str]:
        return {"kind": "azure-table", "table": self._table, "url": self._location}

    async def _ensure_table(self) -> None:
        try:
            with _sdk_errors(self._table, "read"):
                await self._client.get_entity(te.HEALTH_PARTITION, "ready")
            return
        except _Missing as exc:
            table_missing = "TableNotFound" in str(exc)
        if not table_missing:
            return
        try:
            with _sdk_errors(self._table, "create table"):
                await self._client.create_table()
        except _Exists:
            pass  # another instance created it first
        except StoreError as exc:
            raise StoreError(f"{exc.message} (Terraform's storage module creates the table; "
                             "was it applied?)") from exc

    # --- reads --------------------------------------------------------------------------------

    async def _get(self, partition: str, row: str, action: str,
                   select: Sequence[str] | None = None) -> dict[str, Any]:
        with _sdk_errors(self._table, action):
            entity = await self._client.get_entity(
                partition, row, **({"select": list(select)} if select else {})
            )
        result = dict(entity)
        result["__etag"] = entity.metadata["etag"]
        return result

    async def _rows(self, partition: str, prefix: str, action: str) -> list[dict[str, Any]]:
        query, params = te.prefix_filter(prefix)
        with _sdk_errors(self._table, action):
            return [dict(e) async for e in self._client.query_entities(
                query, parameters={"pk": partition, **params})]

    async def _conversation_entity(
        self, user_id: str, conversation_id: str
    ) -> dict[str, Any]:
        if not te.id_is_storable(conversation_id):
            raise NotFoundError(f"conversation {conversation_id!r} does not exist")
        try:
            return await self._get(te.user_key(user_id), te.conversation_key(conversation_id),
                                   f"read conversation {conversation_id}")
        except _Missing as exc:
            raise NotFoundError(f"conversation {conversation_id!r} does not exist") from exc

    async def get_conversation(self, user_id: str, conversation_id: str) -> Conversation:
        entity = await self._conversation_entity(user_id, conversation_id)
        return te.conversation_from(user_id, conversation_id, entity)

    async def list_conversations(
        self, user_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> ConversationPage:
        try:
            token = te.decode_cursor(cursor) if cursor is not None else None
        except ValueError as exc:
            raise InputError(f"cursor: {cursor[:40]!r} is not a cursor this store returned"
                             if cursor else "cursor: empty") from exc
        query, params = te.prefix_filter(te.LIST_PREFIX)
        with _sdk_errors(self._table, "list conversations"):
            pages = self._client.query_entities(
                query, parameters={"pk": te.user_key(user_id), **params}, results_per_page=limit,
            ).by_page(continuation_token=token)  # type: ignore[arg-type]  # a dict here
            conversations: list[Conversation] = []
            async for page in pages:
                async for entity in page:
                    conversations.append(
                        te.conversation_from(user_id, str(entity["ConversationId"]), entity))
                break
            next_token = getattr(pages, "continuation_token", None)
        return ConversationPage(conversations, te.encode_cursor(next_token))

    async def get_messages(self, user_id: str, conversation_id: str) -> list[StoredMessage]:
        conversation = await self._conversation_entity(user_id, conversation_id)
        committed = int(conversation["MessageCount"])
        partition = te.user_key(user_id)
        rows = await self._rows(partition, te.message_prefix(conversation_id),
                                f"read messages of {conversation_id}")
        messages: list[StoredMessage] = []
        for row in rows:
            if int(row["Seq"]) > committed:
                continue  # written by a transaction that is not this conversation's yet
            overflow: list[dict[str, Any]] = []
            if int(row["Parts"]) > te.INLINE_PARTS:
                overflow = await self._rows(partition, te.part_prefix(str(row["MessageId"])),
                                            f"read message {row['MessageId']}")
            try:
                messages.append(te.stored_message(conversation_id, row, overflow))
            except (KeyError, ValueError, TypeError) as exc:
                raise StoreError(f"conversation table {self._table!r}: message "
                                 f"{row.get('MessageId')!r} is damaged: {exc}") from exc
        return messages

    # --- writes -------------------------------------------------------------------------------

    async def _submit(self, ops: OpList, action: str) -> None:
        with _sdk_errors(self._table, action):
            await self._client.submit_transaction(ops)

    async def _append(
        self, user_id: str, conversation_id: str, messages: Sequence[tuple[str, str, NewAnswer]],
        new_title: str | None,
    ) -> list[StoredMessage]:
        """Append ``(id, role, message)``s in one transaction; the conversation entity's ETag
        makes a concurrent append by another instance retry with the next seq."""
        self._check_ids(conversation_id, [message_id for message_id, _, _ in messages], new_title)
        for _attempt in range(CONFLICT_RETRIES):
            current, etag, now = await self._current(user_id, conversation_id, new_title)
            new = _new_messages(messages, current, now)
            updated = Conversation(conversation_id, user_id, current.title, current.created_at,
                                   now, current.message_count + len(new))
            ops = await self._append_ops(te.user_key(user_id), current, updated, etag, new)
            try:
                await self._submit(ops, f"append to conversation {conversation_id}")
            except _Stale:
                continue
            except _Missing as exc:
                raise NotFoundError(f"conversation {conversation_id!r} does not exist") from exc
            return [
                StoredMessage(
                    id=m.id, conversation_id=conversation_id, seq=m.seq, role=m.role,
                    content=message.content, created_at=now, status=m.status,
                    finish_reason=m.finish_reason, model=m.model, prompt_tokens=m.prompt_tokens,
                    completion_tokens=m.completion_tokens, citations=tuple(message.citations),
                )
                for m, (_, _, message) in zip(new, messages, strict=True)
            ]
        raise StoreError(f"conversation table {self._table!r}: conversation {conversation_id}"
                         f" changed {CONFLICT_RETRIES} times while appending; try again")

    @staticmethod
    def _check_ids(conversation_id: str, message_ids: Sequence[str], new_title: str | None) -> None:
        if te.id_is_storable(conversation_id) and all(map(te.id_is_storable, message_ids)):
            return
        if new_title is None:
            raise NotFoundError(f"conversation {conversation_id!r} does not exist")
        raise InputError(f"conversation or message id in {conversation_id!r}: letters, "
                         "digits and '-' only")

    async def _current(
        self, user_id: str, conversation_id: str, new_title: str | None
    ) -> tuple[Conversation, str | None, float]:
        """The conversation as it is (None as ETag: to be created), and the append's time."""
        now = time.time()
        if new_title is not None:
            return Conversation(conversation_id, user_id, new_title, now, now, 0), None, now
        entity = await self._conversation_entity(user_id, conversation_id)
        current = te.conversation_from(user_id, conversation_id, entity)
        # another instance's clock may be ahead
        return current, str(entity["__etag"]), max(now, current.updated_at)

    async def _append_ops(
        self, partition: str, current: Conversation, updated: Conversation, etag: str | None,
        new: list[te.NewMessage],
    ) -> OpList:
        """The transaction: the conversation entity (created, or replaced under its ETag), its
        list row moved to the new time, and each message with its id index row."""
        ops: OpList = []
        if etag is None:
            ops.append(("create", te.conversation_entity(partition, updated)))
        else:
            ops.append(("update", te.conversation_entity(partition, updated), {
                "mode": UpdateMode.REPLACE, "etag": etag,
                "match_condition": MatchConditions.IfNotModified}))
            old_list_key = te.list_key(current.id, current.updated_at)
            if old_list_key != te.list_key(current.id, updated.updated_at):  # same microsecond:
                # the upsert below replaces it (an entity appears once in a transaction)
                ops.append(("delete", {"PartitionKey": partition, "RowKey": old_list_key}))
        ops.append(("upsert", te.list_entity(partition, updated)))
        for item in new:
            entity, overflow, index = te.message_entities(partition, current.id, item)
            for extra in overflow:  # rare (a body over ~750 kB): keyed by message id, so an
                # attempt that loses the race leaves only unreferenced parts
                with _sdk_errors(self._table, "write message part"):
                    await self._client.upsert_entity(extra, mode=UpdateMode.REPLACE)
            ops.append(("upsert", entity))
            ops.append(("create", index))
        return ops

    async def append_turn(
        self,
        user_id: str,
        conversation_id: str,
        *,
        question: str,
        question_id: str,
        answer: NewAnswer,
        new_title: str | None = None,
    ) -> StoredMessage:
        _, stored = await self._append(
            user_id, conversation_id,
            [(question_id, "user", NewAnswer(question, "complete")),
             (new_id(), "assistant", answer)],
            new_title,
        )
        return stored

    async def rename_conversation(
        self, user_id: str, conversation_id: str, title: str
    ) -> Conversation:
        partition = te.user_key(user_id)
        for _attempt in range(CONFLICT_RETRIES):
            entity = await self._conversation_entity(user_id, conversation_id)
            current = te.conversation_from(user_id, conversation_id, entity)
            renamed = Conversation(conversation_id, user_id, title, current.created_at,
                                   current.updated_at, current.message_count)
            try:
                await self._submit([
                    ("update", te.conversation_entity(partition, renamed), {
                        "mode": UpdateMode.REPLACE, "etag": entity["__etag"],
                        "match_condition": MatchConditions.IfNotModified}),
                    ("upsert", te.list_entity(partition, renamed)),
                ], f"rename conversation {conversation_id}")
            except _Stale:
                continue
            except _Missing as exc:
                raise NotFoundError(f"conversation {conversation_id!r} does not exist") from exc
            return renamed
        raise StoreError(f"conversation table {self._table!r}: conversation {conversation_id}"
                         f" changed {CONFLICT_RETRIES} times while renaming; try again")

    async def delete_conversation(self, user_id: str, conversation_id: str) -> None:
        """Remove the conversation and its list line in one transaction (it vanishes at once),
        then its messages, their index entities and overflow parts; and finish any deletion of
        this user's that a killed process left."""
        await self._conversation_entity(user_id, conversation_id)  # not found: NotFoundError
        if not await self._delete_in(te.user_key(user_id), conversation_id):
            raise NotFoundError(f"conversation {conversation_id!r} does not exist")
        await self._finish_deletions(te.user_key(user_id))

    async def delete_conversations_older_than(self, cutoff: float) -> int:
        """One query over every partition's list rows (their keys sort by last activity, so
        "older than" is a RowKey range), then each conversation deleted as above; first, the
        deletions a killed process left unfinished (their ``d_`` rows) are completed."""
        await self._finish_deletions()
        with _sdk_errors(self._table, "find conversations to expire"):
            expired = [
                (str(row["PartitionKey"]), str(row["ConversationId"]))
                async for row in self._client.query_entities(
                    "RowKey ge @low and RowKey lt @high",
                    parameters={"low": te.list_key("", cutoff)[:-1],
                                "high": te.LIST_PREFIX[:-1] + "`"},
                    select=["PartitionKey", "ConversationId", "UpdatedAt"],
                )
                if float(row["UpdatedAt"]) < cutoff
            ]
        deleted = 0
        for partition, conversation_id in expired:
            deleted += await self._delete_in(partition, conversation_id, older_than=cutoff)
        await self._expire_budgets(cutoff)
        return deleted

    async def _finish_deletions(self, partition: str | None = None) -> None:
        """Complete the deletions a killed process left (their ``d_`` rows): of one partition,
        or of every partition."""
        query, params = te.prefix_filter(te.DELETION_PREFIX)  # one partition's rows
        if partition is None:
            query = "RowKey ge @low and RowKey lt @high"  # every partition's
        else:
            params["pk"] = partition
        with _sdk_errors(self._table, "find unfinished deletions"):
            pending = [(str(row["PartitionKey"]), str(row["ConversationId"]))
                       async for row in self._client.query_entities(
                           query, parameters=params, select=["PartitionKey", "ConversationId"])]
        for partition, conversation_id in pending:
            await self._purge_messages(partition, conversation_id)

    async def _expire_budgets(self, cutoff: float) -> None:
        """The daily token budget rows of days wholly before ``cutoff`` go too (usage data)."""
        day = datetime.fromtimestamp(cutoff, UTC).date().isoformat()
        with _sdk_errors(self._table, "find budgets to expire"):
            rows = [(str(row["PartitionKey"]), str(row["RowKey"]))
                    async for row in self._client.query_entities(
                        "RowKey ge @low and RowKey lt @high",
                        parameters={"low": te.budget_key(""), "high": te.budget_key(day)},
                        select=["PartitionKey", "RowKey"])]
        for partition, row in rows:
            with contextlib.suppress(_Missing), _sdk_errors(self._table, "expire a budget"):
                await self._client.delete_entity(partition, row)

    async def _delete_in(
        self, partition: str, conversation_id: str, *, older_than: float | None = None
    ) -> bool:
        """Delete one conversation of a partition; False if it is gone (or, with ``older_than``,
        active again since)."""
        for _attempt in range(CONFLICT_RETRIES):
            try:
                entity = await self._get(partition, te.conversation_key(conversation_id),
                                         f"read conversation {conversation_id}")
            except _Missing:
                return False
            if older_than is not None and float(entity["UpdatedAt"]) >= older_than:
                return False
            try:
                await self._submit([
                    ("delete", {"PartitionKey": partition, "RowKey": entity["RowKey"]},
                     {"etag": entity["__etag"], "match_condition": MatchConditions.IfNotModified}),
                    ("delete", {"PartitionKey": partition, "RowKey": str(entity["ListKey"])}),
                    ("upsert", {"PartitionKey": partition,
                                "RowKey": te.deletion_key(conversation_id),
                                "ConversationId": conversation_id, "DeletedAt": time.time()}),
                ], f"delete conversation {conversation_id}")
                break
            except _Stale:
                continue  # a turn landed meanwhile: look again
            except _Missing:
                return False
        else:
            raise StoreError(f"conversation table {self._table!r}: conversation "
                             f"{conversation_id} changed {CONFLICT_RETRIES} times while deleting")
        await self._purge_messages(partition, conversation_id)
        return True

    async def _purge_messages(self, partition: str, conversation_id: str) -> None:
        """The messages of a deleted conversation, their index rows and overflow parts, in
        transactions of at most 100 rows; then its ``d_`` row, which marked the work as owed."""
        rows = await self._rows(partition, te.message_prefix(conversation_id),
                                f"read messages of {conversation_id}")
        keys: list[str] = []
        for row in rows:
            keys.append(str(row["RowKey"]))
            keys.append(te.index_key(str(row["MessageId"])))
            if int(row["Parts"]) > te.INLINE_PARTS:
                keys.extend(str(p["RowKey"]) for p in await self._rows(
                    partition, te.part_prefix(str(row["MessageId"])), "read message parts"))
        for start in range(0, len(keys), 100):
            batch: OpList = [("delete", {"PartitionKey": partition, "RowKey": key})
                             for key in keys[start : start + 100]]
            with contextlib.suppress(_Missing):  # deleted meanwhile by a retry elsewhere
                await self._submit(batch, f"delete messages of {conversation_id}")
        with contextlib.suppress(_Missing), _sdk_errors(self._table, "finish a deletion"):
            await self._client.delete_entity(partition, te.deletion_key(conversation_id))

    async def set_feedback(
        self, user_id: str, message_id: str, rating: Rating, comment: str | None
    ) -> StoredFeedback:
        partition = te.user_key(user_id)
        missing = NotFoundError(f"message {message_id!r} does not exist")
        if not te.id_is_storable(message_id):
            raise missing
        try:
            index = await self._get(partition, te.index_key(message_id), "read message index")
        except _Missing as exc:
            raise missing from exc
        conversation_id = str(index["ConversationId"])
        try:
            conversation = await self._conversation_entity(user_id, conversation_id)
        except NotFoundError as exc:
            raise missing from exc
        if int(index["Seq"]) > int(conversation["MessageCount"]):
            raise missing  # its turn never committed
        if index["Role"] != "assistant":
            raise ConflictError(f"message {message_id!r} is a question; rate answers only")
        row = te.message_key(conversation_id, int(index["Seq"]))
        for _attempt in range(CONFLICT_RETRIES):
            try:
                current = await self._get(partition, row, "read message", select=["MessageId"])
            except _Missing as exc:
                raise missing from exc
            now = time.time()
            try:
                with _sdk_errors(self._table, f"rate message {message_id}"):
                    await self._client.update_entity(
                        {"PartitionKey": partition, "RowKey": row, "Rating": rating,
                         "Comment": comment or "", "FeedbackAt": now},
                        mode=UpdateMode.MERGE, etag=str(current["__etag"]),
                        match_condition=MatchConditions.IfNotModified,
                    )
            except _Stale:
                continue
            except _Missing as exc:
                raise missing from exc
            return StoredFeedback(message_id, rating, comment, now)
        raise StoreError(f"conversation table {self._table!r}: message {message_id} changed "
                         f"{CONFLICT_RETRIES} times while rating; try again")

    # --- the shared daily token budget (store/shared_usage.py's TokenLedger) ----------------

    async def tokens_used(self, user_id: str, day: str) -> int:
        try:
            entity = await self._get(te.user_key(user_id), te.budget_key(day), "read budget")
        except _Missing:
            return 0
        return int(entity["Tokens"])

    async def add_tokens(self, user_id: str, day: str, tokens: int) -> int:
        partition, row = te.user_key(user_id), te.budget_key(day)
        for _attempt in range(CONFLICT_RETRIES):
            try:
                entity = await self._get(partition, row, "read budget")
            except _Missing:
                try:
                    with _sdk_errors(self._table, "start budget"):
                        await self._client.create_entity(
                            {"PartitionKey": partition, "RowKey": row, "Tokens": tokens})
                    return tokens
                except _Exists:
                    continue  # another instance started the day first: add to theirs
            total = int(entity["Tokens"]) + tokens
            try:
                with _sdk_errors(self._table, "add to budget"):
                    await self._client.update_entity(
                        {"PartitionKey": partition, "RowKey": row, "Tokens": total},
                        mode=UpdateMode.REPLACE, etag=str(entity["__etag"]),
                        match_condition=MatchConditions.IfNotModified)
                return total
            except (_Stale, _Missing):
                continue
        raise StoreError(f"conversation table {self._table!r}: the token budget of a user "
                         f"changed {CONFLICT_RETRIES} times while adding; not counted")

    # --- health and lifecycle ---------------------------------------------------------------

    async def check_writable(self) -> None:
        with _sdk_errors(self._table, "write the readiness row"):
            await self._client.upsert_entity(
                {"PartitionKey": te.HEALTH_PARTITION, "RowKey": "ready",
                 "CheckedAt": time.time()}, mode=UpdateMode.REPLACE,
            )

    async def aclose(self) -> None:
        try:
            await self._client.close()
        finally:
            if self._credential is not None:
                await self._credential.close()
