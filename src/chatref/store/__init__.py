"""Conversation history: conversations, messages, citations and feedback.

``ConversationStore`` (store/types.py) is the seam; ``SqliteConversationStore`` is the
embedded default.
"""

from __future__ import annotations

from chatref.store.sqlite_store import SqliteConversationStore
from chatref.store.types import (
    Citation,
    Conversation,
    ConversationPage,
    ConversationStore,
    NewAnswer,
    StoredFeedback,
    StoredMessage,
)

__all__ = [
    "Conversation",
    "ConversationPage",
    "ConversationStore",
    "NewAnswer",
    "SqliteConversationStore",
    "Citation",
    "StoredFeedback",
    "StoredMessage",
]
