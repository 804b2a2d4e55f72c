"""The chat-completions stream's wire format, parsed: one pure function per SSE line.

The SDK sends the request and turns an error status into its exceptions; the body's lines are
read here, because building the SDK's model objects for every chunk was two thirds of the CPU of
relaying an answer (docs/benchmarks.md). No I/O: llm/openai_model.py feeds it the lines.

>>> parse_line('data: {"choices": [{"delta": {"content": "Hel"}, "finish_reason": null}]}')
Chunk(text='Hel', finish_reason=None, usage=None, done=False)
>>> parse_line('data: {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2}}').usage
Usage(prompt_tokens=9, completion_tokens=2, reasoning_tokens=0)
>>> parse_line('data: {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 90, '
...            '"completion_tokens_details": {"reasoning_tokens": 64}}}').usage.reasoning_tokens
64
>>> parse_line("data: [DONE]").done
True
>>> parse_line(": keep-alive comment") is None
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from chatref.llm.base import Usage


class StreamErrorEvent(Exception):  # noqa: N818 - named after what the server sent
    """An ``error`` object sent inside the event stream."""


@dataclass(frozen=True)
class Chunk:
    """What one ``data:`` line carries: answer text, a finish reason, usage, or the end."""

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    done: bool = False


DONE = Chunk(done=True)


def parse_line(line: str) -> Chunk | None:
    """One line of the stream; None for lines that carry nothing (blank, comments, event names).

    Raises ``ValueError`` for a body that is not what the API promises (bad JSON, not an object)
    and ``StreamErrorEvent`` for an error the server sent mid-stream.
    """
    if not line.startswith("data:"):
        return None
    data = line[5:].strip()
    if data == "[DONE]":
        return DONE
    chunk = json.loads(data)  # json.JSONDecodeError is a ValueError
    if not isinstance(chunk, dict):
        raise ValueError(f"a stream chunk that is not an object: {data[:80]}")
    if chunk.get("error"):
        raise StreamErrorEvent(str(chunk["error"])[:200])
    usage = None
    if raw_usage := chunk.get("usage"):
        if not isinstance(raw_usage, dict):
            raise ValueError(f"a usage that is not an object: {data[:80]}")
        details = raw_usage.get("completion_tokens_details") or {}
        reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
        usage = Usage(int(raw_usage.get("prompt_tokens") or 0),
                      int(raw_usage.get("completion_tokens") or 0), int(reasoning or 0))
    texts: list[str] = []
    finish_reason = None
    for choice in chunk.get("choices") or ():
        if not isinstance(choice, dict) or not isinstance(choice.get("delta") or {}, dict):
            raise ValueError(f"a choice that is not an object: {data[:80]}")
        if content := (choice.get("delta") or {}).get("content"):
            texts.append(content)
        finish_reason = choice.get("finish_reason") or finish_reason
    return Chunk("".join(texts), finish_reason, usage)
