"""The chat flow's events in the terminal (``chatref ask``): the CLI's one encoder of a turn.

A person gets the answer as it streams, then its numbered sources; a machine (``--json``) gets
one JSON object when the turn ends. A model that fails part-way is an error line on stderr and
exit status 1. The web formats of the same events are in web/wire.py.

>>> from chatref.store.types import Citation
>>> citation_line(Citation(1, "c1", "d1", "docs/ops.md", "Operations", 3, "Backups", "..."))
'[1] Operations (docs/ops.md, page 3, Backups)'
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from rich.console import Console

from chatref.chat.types import (
    CitationsReady,
    TextDelta,
    TurnDone,
    TurnEvent,
    TurnFailed,
    TurnStarted,
)
from chatref.store.types import Citation


def citation_line(citation: Citation) -> str:
    where = citation.source
    if citation.page is not None:
        where += f", page {citation.page}"
    if citation.section:
        where += f", {citation.section}"
    return f"[{citation.number}] {citation.title} ({where})"


class TerminalAnswer:
    """Writes one turn to ``out`` (and errors to ``err``); ``close()`` gives the exit status."""

    def __init__(self, out: Console, err: Console, *, as_json: bool = False) -> None:
        self.out = out
        self.err = err
        self.as_json = as_json
        self._parts: list[str] = []
        self._result: dict[str, Any] = {}
        self._status = 0

    def write(self, event: TurnEvent) -> None:
        match event:
            case TextDelta(text=text):
                self._parts.append(text)
                if not self.as_json:
                    self.out.print(text, end="")
            case CitationsReady(citations=citations):
                self._result["citations"] = [dataclasses.asdict(c) for c in citations]
                if not self.as_json:
                    self._print_sources(citations)
            case TurnDone():
                self._result.update(finish_reason=event.finish_reason, mode=event.mode,
                                    model=event.model, usage=dataclasses.asdict(event.usage))
            case TurnFailed():
                self._result["error"] = {"code": event.code, "message": event.message}
                self.err.print(f"error: {event.message}", style="red")
                self._status = 1
            case TurnStarted():
                pass

    def close(self) -> int:
        """Print the JSON object (with ``--json``); the exit status: 1 if the model failed."""
        if self.as_json:
            document = {"answer": "".join(self._parts), **self._result}
            self.out.file.write(json.dumps(document, ensure_ascii=False) + "\n")
        return self._status

    def _print_sources(self, citations: list[Citation]) -> None:
        self.out.print()
        if citations:
            self.out.print()
            self.out.print("Sources:", style="bold")
            for citation in citations:
                self.out.print(citation_line(citation))
