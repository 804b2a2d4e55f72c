"""`chatref eval answers`: grade the chat's answers to a question set.

Each question is answered by the real chat flow (retrieval, prompt, the configured model through
its router, or the extractive answer without one), then graded by the lexical checker and, when
a model is configured, by the model as judge (chat/grading.py).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from chatref.app import build_chat_services
from chatref.chat.grading import Grade, judge_grade, lexical_grade, load_cases, summarize
from chatref.chat.types import ChatRequest
from chatref.llm.base import ChatMessage
from chatref.settings import load_settings


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def answers(
    dataset: Annotated[Path, typer.Option(
        "--dataset", help='JSON Lines: {"question": ..., "expected_sources": [...]} per line.')],
    judge: Annotated[bool, typer.Option(
        "--judge/--no-judge", help="Also ask the configured model to grade (default: on).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Grade answers: groundedness, citation precision/recall, relevance (lexical and judge)."""
    settings = load_settings()
    cases = load_cases(dataset)

    async def run() -> tuple[list[Grade], str]:
        services = await build_chat_services(settings)
        grades: list[Grade] = []
        try:
            chat = services.require_chat()
            mode = "extractive"
            for case in cases:
                reply = await chat.answer(
                    ChatRequest([ChatMessage("user", case.question)], persist=False))
                mode, answer, citations = reply.mode, reply.text, reply.citations
                grade = lexical_grade(case, answer, citations)
                if judge and services.model is not None:
                    grade.judge = await judge_grade(services.model, case.question, answer,
                                                    citations)
                grades.append(grade)
        finally:
            await services.aclose()
        return grades, mode

    grades, mode = asyncio.run(run())
    figures = summarize(grades)
    if as_json:
        typer.echo(json.dumps({"dataset": str(dataset), "answers": mode, "summary": figures,
                               "questions": [g.__dict__ for g in grades]}, indent=2,
                              ensure_ascii=False))
        return
    table = Table(title=f"{dataset.name}: {len(grades)} questions, {mode} answers")
    for column in ("question", "grounded", "cit. precision", "cit. recall", "relevance",
                   "judge grounded", "judge relevance"):
        table.add_column(column, justify="left" if column == "question" else "right")
    for g in grades:
        verdict = g.judge or {}
        table.add_row(
            g.question[:60], _figure(g.groundedness), _figure(g.citation_precision),
            _figure(g.citation_recall), _figure(g.relevance),
            _figure(verdict.get("groundedness")) if "error" not in verdict else "error",  # type: ignore[arg-type]
            _figure(verdict.get("relevance")) if "error" not in verdict else "error",  # type: ignore[arg-type]
        )
    console = Console()
    console.print(table)
    console.print(json.dumps(figures))
