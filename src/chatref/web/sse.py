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


def parse_events(body: str) -> list[tuple[str, Any]]:
    """The ``(event, data)`` pairs of a stream written by ``sse_event``/``sse_data``, for
    clients of our own API (``chatref probe``); an unnamed event is ``message``, as in browsers.

    >>> parse_events('event: conversation\\ndata: {"id":"c1"}\\n\\ndata: [DONE]\\n\\n')
    [('conversation', {'id': 'c1'}), ('message', '[DONE]')]
    """
    events: list[tuple[str, Any]] = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            text = "\n".join(data)
            events.append((name, text if text == "[DONE]" else json.loads(text)))
    return events
