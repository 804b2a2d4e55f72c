"""`chatref ask`'s terminal encoder (cli/terminal.py), writing to in-memory consoles."""

from __future__ import annotations

import dataclasses
import io
import json

from rich.console import Console

from chatref.chat.types import CitationsReady, TextDelta, TurnDone, TurnFailed, TurnStarted
from chatref.cli.terminal import TerminalAnswer
from chatref.llm.base import Usage
from chatref.store.types import Citation

CITATION = Citation(1, "c1", "d1", "docs/ops.md", "Operations", None, "Backups", "Kept 35 days.")


def _terminal(*, as_json: bool) -> tuple[TerminalAnswer, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    consoles = (Console(file=out, highlight=False, markup=False, emoji=False, soft_wrap=True),
                Console(file=err, highlight=False, markup=False, emoji=False))
    return TerminalAnswer(*consoles, as_json=as_json), out, err


def test_a_person_reads_the_answer_then_its_sources() -> None:
    terminal, out, err = _terminal(as_json=False)
    for event in [TurnStarted(None, None), TextDelta("Kept "), TextDelta("35 days [1]. :x:"),
                  CitationsReady([CITATION]), TurnDone("stop", Usage(10, 5), "extractive")]:
        terminal.write(event)
    assert terminal.close() == 0
    assert out.getvalue() == (
        "Kept 35 days [1]. :x:\n\nSources:\n[1] Operations (docs/ops.md, Backups)\n")
    assert err.getvalue() == ""


def test_a_machine_reads_one_json_object() -> None:
    terminal, out, _ = _terminal(as_json=True)
    for event in [TextDelta("Kept 35 days [1]."), CitationsReady([CITATION]),
                  TurnDone("stop", Usage(10, 5), "model", None, "gpt")]:
        terminal.write(event)
    assert terminal.close() == 0
    document = json.loads(out.getvalue())
    assert document == {
        "answer": "Kept 35 days [1].", "finish_reason": "stop", "mode": "model", "model": "gpt",
        "usage": dataclasses.asdict(Usage(10, 5)),  # every field of the model's usage
        "citations": [{"number": 1, "chunk_id": "c1", "doc_id": "d1", "source": "docs/ops.md",
                       "title": "Operations", "page": None, "section": "Backups",
                       "text": "Kept 35 days."}],
    }


def test_a_model_failing_part_way_is_an_error_line_and_status_1() -> None:
    terminal, out, err = _terminal(as_json=True)
    for event in [TextDelta("Part"), CitationsReady([]), TurnFailed("model_interrupted", "broke")]:
        terminal.write(event)
    assert terminal.close() == 1
    assert err.getvalue() == "error: broke\n"
    assert json.loads(out.getvalue())["error"] == {"code": "model_interrupted",
                                                   "message": "broke"}
