"""Server-sent events: one ``event:`` line and one JSON ``data:`` line per event."""

from __future__ import annotations

import json
from typing import Any

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_event(event: str, data: Any) -> bytes:
    """
    >>> sse_event("delta", {"text": "hi"})
    b'event: delta\\ndata: {"text":"hi"}\\n\\n'
    """
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {payload}\n\n".encode()


def sse_data(data: Any) -> bytes:
    """An unnamed event, as OpenAI's streaming API sends them."""
    if isinstance(data, str):
        return f"data: {data}\n\n".encode()
    return f"data: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()
