"""The dependency drill: the chat with its search index or its conversation store unreachable.

The production guide's disaster-recovery test beyond the model tier (the failover drill,
ops/drill.py, covers the model). Each scenario builds the chat service the way the app does,
breaks one dependency for real and asks a question, then checks what the user would have seen:

- ``healthy``: a cited answer, saved. (Proves the checks below can tell the difference.)
- ``search_unreachable``: the answer says sources are unavailable and cites nothing, no ``[n]``.
- ``store_unreachable``: the question is still answered, with its citations, and the answer says
  the conversation was not saved.

Breaking a dependency for real: the service is built as the app builds it (so the backend is
reachable at start-up, as after any deployment), then the index or the store is closed under
it, so its next call fails inside the backend: a closed SQLite database, or an Azure SDK client
whose transport is gone. With no Azure search backend configured the drill works in a temporary
folder with one small document; nothing of the user's data is touched (conversations it stores
in a configured Table are the drill user's own). Example::

    report = await run_dependency_drill(Settings())
    print(report.passed, [s.name for s in report.scenarios if not s.passed])
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chatref.app import Services, build_chat_services
from chatref.chat.types import ChatRequest, CitationsReady, TextDelta, TurnDone, TurnFailed
from chatref.ingest.pipeline import ingest_paths
from chatref.llm.base import ChatMessage
from chatref.settings import Settings

QUESTION = "How often are storage keys rotated?"
DRILL_DOCUMENT = (
    "# Key rotation\n\nStorage keys are rotated every month by the platform team. Each rotation "
    "is logged in the change calendar, and a leaked key is renewed at once.\n"
)
_CITATION_MARK = re.compile(r"\[\d+\]")


@dataclass
class DependencyScenarioReport:
    name: str
    description: str
    expectation: str
    passed: bool
    answer: str
    citations: int
    saved: bool
    problems: list[str] = field(default_factory=list)


@dataclass
class DependencyDrillReport:
    backends: dict[str, str]
    scenarios: list[DependencyScenarioReport]
    duration_s: float

    @property
    def passed(self) -> bool:
        return bool(self.scenarios) and all(s.passed for s in self.scenarios)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, **asdict(self)}


@dataclass
class _Seen:
    text: str = ""
    citations: int = 0
    saved: bool = False
    failure: str | None = None


async def _ask(services: Services) -> _Seen:
    seen = _Seen()
    turn = await services.require_chat().start_turn(
        ChatRequest([ChatMessage("user", QUESTION)], user_id="dependency-drill"))
    async for event in turn.events():
        if isinstance(event, TextDelta):
            seen.text += event.text
        elif isinstance(event, CitationsReady):
            seen.citations = len(event.citations)
        elif isinstance(event, TurnDone):
            seen.saved = event.message_id is not None
        elif isinstance(event, TurnFailed):
            seen.failure = f"{event.code}: {event.message}"
    return seen


async def _break_search(settings: Settings) -> Services:
    services = await build_chat_services(settings)
    await services.index.aclose()
    return services


async def _break_store(settings: Settings) -> Services:
    services = await build_chat_services(settings)
    if services.store is not None:
        await services.store.aclose()
    return services


async def _scenario(name: str, settings: Settings) -> DependencyScenarioReport:
    descriptions = {
        "healthy": ("every dependency up", "a cited answer, saved"),
        "search_unreachable": (
            "the search index cannot be reached",
            "the answer says sources are unavailable and cites nothing"),
        "store_unreachable": (
            "the conversation store cannot be reached",
            "a cited answer that says the conversation was not saved"),
    }
    description, expectation = descriptions[name]
    build = {"healthy": build_chat_services, "search_unreachable": _break_search,
             "store_unreachable": _break_store}[name]
    problems: list[str] = []
    seen = _Seen()
    services: Services | None = None
    try:
        services = await build(settings)
        seen = await _ask(services)
    except Exception as exc:  # the drill reports what a user would have met
        problems.append(f"the chat failed instead of degrading: {type(exc).__name__}: {exc}")
    finally:
        if services is not None:
            try:
                await services.aclose()
            except Exception:  # noqa: S110 - closing what the drill broke may fail too
                pass
    if seen.failure:
        problems.append(f"the answer ended with an error: {seen.failure}")
    if not problems:
        problems += _check(name, seen)
    return DependencyScenarioReport(name, description, expectation, not problems, seen.text,
                                    seen.citations, seen.saved, problems)


def _check(name: str, seen: _Seen) -> list[str]:
    problems = []
    if name == "search_unreachable":
        if "search is unavailable" not in seen.text:
            problems.append("the answer does not say that sources are unavailable")
        if seen.citations or _CITATION_MARK.search(seen.text):
            problems.append("the answer cites sources the search could not have returned")
    else:
        if not seen.citations:
            problems.append("the answer cites no source")
        not_saved = "could not be saved" in seen.text
        if name == "healthy" and (not seen.saved or not_saved):
            problems.append("the turn was not saved")
        if name == "store_unreachable":
            if seen.saved:
                problems.append("the turn reports a saved message while the store is down")
            if not not_saved:
                problems.append("the answer does not say the conversation was not saved")
            if not seen.text.replace("could not be saved", "").strip():
                problems.append("there is no answer")
    return problems


async def run_dependency_drill(settings: Settings) -> DependencyDrillReport:
    """Run the three scenarios in a temporary data folder (Azure backends as configured)."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="chatref-drill-") as tmp:
        drill_settings = settings.model_copy(update={"chatref_data_dir": Path(tmp) / "data"})
        if not settings.azure_search_endpoint:
            docs = Path(tmp) / "docs"
            docs.mkdir()
            (docs / "key-rotation.md").write_text(DRILL_DOCUMENT, encoding="utf-8")
            services = await build_chat_services(drill_settings)
            try:
                await ingest_paths([docs], services.index, services.embedder)
            finally:
                await services.aclose()
        scenarios = [await _scenario(name, drill_settings)
                     for name in ("healthy", "search_unreachable", "store_unreachable")]
    backends = {
        "search": "Azure AI Search" if settings.azure_search_endpoint else "SQLite (temporary)",
        "store": ("Azure Table Storage" if settings.azure_storage_table_endpoint
                  else "SQLite (temporary)"),
    }
    return DependencyDrillReport(backends, scenarios, time.perf_counter() - started)
