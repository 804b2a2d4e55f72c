"""How conversations map onto Azure Table Storage entities (pure functions, no SDK calls).

One table; the PartitionKey is the user, so everything of one user is one partition: listing is
one partition query and a turn is one entity-group transaction. Row kinds, by RowKey prefix:

===========================  =================================================================
``c_{conversation}``         the conversation: title, times, MessageCount (the commit point)
``l_{inverted µs}_{conv}``   its line in the list: sorts most recently active first
``m_{conv}_{seq:06d}``       a message, in conversation order; body parts inline, feedback
``p_{message}_{n:04d}``      overflow body parts of a message too large for one entity
``i_{message}``              message id -> conversation and seq (feedback finds its message)
``q_{yyyy-mm-dd}``           tokens the user spent that UTC day (the shared daily budget)
``d_{conversation}``         a deleted conversation whose messages are still being removed
===========================  =================================================================

Deleting a conversation is one transaction that removes its ``c_`` and ``l_`` rows (it vanishes
at once) and writes its ``d_`` row; its messages go in later transactions of at most 100 rows,
and the ``d_`` row last. A process killed between them leaves the ``d_`` row, and the retention
sweep finishes that deletion: no message outlives its conversation for longer than one sweep.

A message is visible once ``seq <= MessageCount`` of its conversation: the conversation entity is
updated (with its ETag) in the same transaction that writes the messages, so a reader sees a whole
turn or none of it, and two instances appending at once cannot both win the same seq.

Limits of the service respected here: a string property holds at most 64 KiB (UTF-16), an entity
at most 1 MiB, a transaction 100 entities and 4 MiB. A message body (JSON of the text and its
citations) is cut into parts of at most ``PART_CHARS`` characters (two UTF-16 units each at
worst), ``INLINE_PARTS`` on the message entity (an answer under 32,000 characters fits) and the
rest ``OVERFLOW_PARTS`` to an overflow entity.

>>> user_key("alice@example.com")
'alice@example.com'
>>> user_key("a/b")  # characters a key may not hold: the whole key is encoded
'~YS9i'
>>> split_body("x" * 5, part_chars=2)
['xx', 'xx', 'x']
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chatref.store.types import (
    Citation,
    Conversation,
    MessageRole,
    MessageStatus,
    Rating,
    StoredFeedback,
    StoredMessage,
)

PART_CHARS = 16_000  # <= 32,000 UTF-16 units = 64,000 bytes: under the 64 KiB property limit
# A part is at most 192 kB on the wire (12 bytes a character JSON-escaped, at worst). Two parts
# inline keep a turn's transaction (two messages) under 1 MiB, so one request carries it (aiohttp
# would block the event loop on a larger body); an overflow entity holds four (768 kB at worst on
# the wire, 256 kB as the service counts an entity's size).
INLINE_PARTS = 2
OVERFLOW_PARTS = 4
MAX_KEY_CHARS = 255  # keys may hold 1 KiB; ids longer than this are not ours
HEALTH_PARTITION = "!health"  # "!" is encoded in user keys, so no user can own this partition
_UNSAFE = set("/\\#?%~!'")
_MAX_INVERTED_US = 10**16 - 1


def _is_safe(value: str) -> bool:
    return (
        0 < len(value) <= MAX_KEY_CHARS
        and value.isprintable()
        and not any(char in _UNSAFE for char in value)
    )


def user_key(user_id: str) -> str:
    """The PartitionKey of a user: the id itself when a key may hold it, else ``~`` + base64url.

    Injective: a plain key never starts with ``~``, an encoded one always does; an id too long
    for a key (1 KiB) becomes ``~~`` + its SHA-256 (``~`` is not in the base64url alphabet).
    """
    if _is_safe(user_id):
        return user_id
    encoded = base64.urlsafe_b64encode(user_id.encode("utf-8")).decode("ascii").rstrip("=")
    if len(encoded) < 400:
        return f"~{encoded}"
    return "~~" + hashlib.sha256(user_id.encode("utf-8")).hexdigest()


def id_is_storable(identifier: str) -> bool:
    """Whether a conversation or message id can appear in a RowKey; others cannot exist."""
    return _is_safe(identifier) and "_" not in identifier


def conversation_key(conversation_id: str) -> str:
    return f"c_{conversation_id}"


def list_key(conversation_id: str, updated_at: float) -> str:
    inverted = _MAX_INVERTED_US - int(updated_at * 1_000_000)
    return f"l_{inverted:016d}_{conversation_id}"


def message_key(conversation_id: str, seq: int) -> str:
    return f"m_{conversation_id}_{seq:06d}"


def message_prefix(conversation_id: str) -> str:
    return f"m_{conversation_id}_"


def part_key(message_id: str, number: int) -> str:
    return f"p_{message_id}_{number:04d}"


def part_prefix(message_id: str) -> str:
    return f"p_{message_id}_"


def index_key(message_id: str) -> str:
    return f"i_{message_id}"


def budget_key(day: str) -> str:
    return f"q_{day}"


def deletion_key(conversation_id: str) -> str:
    return f"d_{conversation_id}"


LIST_PREFIX = "l_"
DELETION_PREFIX = "d_"


def prefix_filter(prefix: str) -> tuple[str, dict[str, Any]]:
    """An OData filter (with parameters) for the rows of one partition whose key starts so."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return (
        "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high",
        {"low": prefix, "high": upper},
    )


def split_body(body: str, part_chars: int = PART_CHARS) -> list[str]:
    return [body[i : i + part_chars] for i in range(0, len(body), part_chars)] or [""]


def body_properties(parts: Sequence[str]) -> dict[str, str]:
    return {f"Body{n}": part for n, part in enumerate(parts)}


def parts_of(entity: Mapping[str, Any], count: int) -> list[str]:
    return [str(entity[f"Body{n}"]) for n in range(count) if f"Body{n}" in entity]


@dataclass(frozen=True)
class NewMessage:
    """A message about to be written, with its body already cut into parts."""

    id: str
    seq: int
    role: MessageRole
    status: MessageStatus
    created_at: float
    parts: list[str]
    finish_reason: str | None = None
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


def encode_body(content: str, citations: Sequence[Citation]) -> str:
    return json.dumps(
        {"content": content, "citations": [
            [c.number, c.chunk_id, c.doc_id, c.source, c.title, c.page, c.section, c.text]
            for c in citations
        ]},
        ensure_ascii=False, separators=(",", ":"),
    )


def decode_body(body: str) -> tuple[str, tuple[Citation, ...]]:
    data = json.loads(body)
    return str(data["content"]), tuple(Citation(*row) for row in data["citations"])


def message_entities(
    partition: str, conversation_id: str, message: NewMessage
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """The message entity, its overflow entities (usually none) and its index entity."""
    inline, overflow = message.parts[:INLINE_PARTS], message.parts[INLINE_PARTS:]
    entity: dict[str, Any] = {
        "PartitionKey": partition, "RowKey": message_key(conversation_id, message.seq),
        "MessageId": message.id, "Seq": message.seq, "Role": message.role,
        "Status": message.status, "FinishReason": message.finish_reason or "",
        "Model": message.model or "", "PromptTokens": message.prompt_tokens,
        "CompletionTokens": message.completion_tokens, "CreatedAt": message.created_at,
        "Parts": len(message.parts), **body_properties(inline),
    }
    extra = [
        {"PartitionKey": partition, "RowKey": part_key(message.id, n),
         **body_properties(overflow[start : start + OVERFLOW_PARTS])}
        for n, start in enumerate(range(0, len(overflow), OVERFLOW_PARTS))
    ]
    index = {
        "PartitionKey": partition, "RowKey": index_key(message.id),
        "ConversationId": conversation_id, "Seq": message.seq, "Role": message.role,
    }
    return entity, extra, index


def stored_message(
    conversation_id: str, entity: Mapping[str, Any], overflow: Sequence[Mapping[str, Any]]
) -> StoredMessage:
    count = int(entity["Parts"])
    parts = parts_of(entity, min(count, INLINE_PARTS))
    for extra in overflow:
        parts.extend(parts_of(extra, OVERFLOW_PARTS))
    if len(parts) != count:
        raise ValueError(f"message {entity['MessageId']}: {len(parts)} of {count} body parts")
    content, citations = decode_body("".join(parts))
    feedback = None
    if entity.get("Rating"):
        rating: Rating = "up" if entity["Rating"] == "up" else "down"
        feedback = StoredFeedback(
            str(entity["MessageId"]), rating, str(entity.get("Comment") or "") or None,
            float(entity["FeedbackAt"]),
        )
    role: MessageRole = "assistant" if entity["Role"] == "assistant" else "user"
    return StoredMessage(
        id=str(entity["MessageId"]), conversation_id=conversation_id, seq=int(entity["Seq"]),
        role=role, content=content, created_at=float(entity["CreatedAt"]),
        status=entity["Status"], finish_reason=str(entity["FinishReason"]) or None,
        model=str(entity["Model"]) or None, prompt_tokens=int(entity["PromptTokens"]),
        completion_tokens=int(entity["CompletionTokens"]), citations=citations,
        feedback=feedback,
    )


def conversation_entity(partition: str, conversation: Conversation) -> dict[str, Any]:
    return {
        "PartitionKey": partition, "RowKey": conversation_key(conversation.id),
        "Title": conversation.title, "CreatedAt": conversation.created_at,
        "UpdatedAt": conversation.updated_at, "MessageCount": conversation.message_count,
        "ListKey": list_key(conversation.id, conversation.updated_at),
    }


def list_entity(partition: str, conversation: Conversation) -> dict[str, Any]:
    return {
        "PartitionKey": partition, "RowKey": list_key(conversation.id, conversation.updated_at),
        "ConversationId": conversation.id, "Title": conversation.title,
        "CreatedAt": conversation.created_at, "UpdatedAt": conversation.updated_at,
        "MessageCount": conversation.message_count,
    }


def conversation_from(
    user_id: str, conversation_id: str, entity: Mapping[str, Any]
) -> Conversation:
    return Conversation(
        id=conversation_id, user_id=user_id, title=str(entity["Title"]),
        created_at=float(entity["CreatedAt"]), updated_at=float(entity["UpdatedAt"]),
        message_count=int(entity["MessageCount"]),
    )


def encode_cursor(token: Mapping[str, Any] | None) -> str | None:
    if not token:
        return None
    raw = json.dumps(dict(token), separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """Table Storage's continuation token from our cursor; ``ValueError`` if it is not one."""
    padded = cursor + "=" * (-len(cursor) % 4)
    token = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    if not isinstance(token, dict) or not all(
        isinstance(k, str) and isinstance(v, str | None) for k, v in token.items()
    ):
        raise ValueError("not a continuation token")
    return token
