"""Token counts estimated without a tokenizer.

tiktoken downloads its BPE files on first use, and nothing may download at run time, so budgets
use an estimate: about four characters per token for English prose (OpenAI's own rule of thumb),
never less than one token per word-like piece, plus a few tokens of per-message framing.
"""

from __future__ import annotations

import math
import re

from chatref.llm.base import ChatMessage

_PIECES = re.compile(r"\w+|[^\w\s]", re.UNICODE)
MESSAGE_OVERHEAD_TOKENS = 4


def estimate_tokens(text: str) -> int:
    """An upper-leaning estimate of the tokens in ``text``.

    >>> estimate_tokens("How do I rotate the storage keys?")
    9
    """
    if not text:
        return 0
    by_chars = math.ceil(len(text) / 4)
    by_pieces = len(_PIECES.findall(text))
    return max(by_chars, by_pieces)


def estimate_message_tokens(message: ChatMessage) -> int:
    return estimate_tokens(message.content) + MESSAGE_OVERHEAD_TOKENS
