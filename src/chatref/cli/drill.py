"""`chatref drill failover`: the disaster-recovery drill for the chat model (docs/runbooks)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from chatref.ops.drill import DrillReport, run_failover_drill
from chatref.settings import Settings

drill_app = typer.Typer(help="Operational drills.", no_args_is_help=True)


@drill_app.command("failover")
def failover(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    chats: Annotated[int, typer.Option("--chats", min=4, max=1000,
                                       help="Chats per scenario.")] = 12,
    first_token_timeout_s: Annotated[float, typer.Option(
        "--first-token-timeout", min=0.1,
        help="Cap on the configured endpoints' first-token timeout during the drill.")] = 3.0,
) -> None:
    """Run the failover scenarios; exit 0 only if every one met its expectation.

    With no endpoint configured the drill uses fake regions on 127.0.0.1. With
    CHATREF_LLM_ENDPOINTS (or AZURE_OPENAI_*) set it proxies every endpoint through a local
    fault injector, so real requests (a few dozen short completions) meet simulated faults.
    """
    report = asyncio.run(run_failover_drill(Settings(), chats=chats,
                                            first_token_timeout_s=first_token_timeout_s))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print(report, Console())
    raise typer.Exit(0 if report.passed else 1)


@drill_app.command("dependencies")
def dependencies(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Search and storage scenarios: the chat with its index, then its conversation store,
    unreachable. Exit 0 only if each degraded as it should (see docs/operations.md).

    Uses the configured Azure AI Search / Table Storage backends (pointed at a closed port for
    the outage), else SQLite in a temporary folder: your own data is never touched.
    """
    from chatref.ops.dependency_drill import run_dependency_drill

    report = asyncio.run(run_dependency_drill(Settings()))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        raise typer.Exit(0 if report.passed else 1)
    console = Console()
    console.print(f"Dependency drill (search: {report.backends['search']}, store: "
                  f"{report.backends['store']}), {report.duration_s:.1f} s", highlight=False)
    for s in report.scenarios:
        mark = "[green]✓[/]" if s.passed else "[red]✗[/]"
        console.print(f"{mark} [bold]{s.name}[/]: {s.description}. Expected: {s.expectation}. "
                      f"({s.citations} citation(s), {'saved' if s.saved else 'not saved'})",
                      highlight=False)
        for problem in s.problems:
            console.print(f"    [red]{problem}[/]", highlight=False)
    console.print("[bold green]drill passed[/]" if report.passed else "[bold red]drill failed[/]")
    raise typer.Exit(0 if report.passed else 1)


def _print(report: DrillReport, console: Console) -> None:
    console.print(f"Failover drill ({report.mode}: {', '.join(report.regions)}), "
                  f"{report.duration_s:.1f} s")
    table = Table()
    for column in ("scenario", "result", "answered by", "errors", "requests received",
                   "p50 / max s"):
        table.add_column(column)
    for s in report.scenarios:
        table.add_row(s.name, "[green]PASS[/]" if s.passed else "[red]FAIL[/]",
                      _counts(s.answered_by), _counts(s.errors), _counts(s.requests_received),
                      f"{s.latency_p50_s:.3f} / {s.latency_max_s:.3f}")
    console.print(table)
    for s in report.scenarios:
        mark = "[green]✓[/]" if s.passed else "[red]✗[/]"
        console.print(f"{mark} [bold]{s.name}[/]: {s.description}. Expected: {s.expectation}.",
                      highlight=False)
        for problem in s.problems:
            console.print(f"    [red]{problem}[/]", highlight=False)
    console.print("[bold green]drill passed[/]" if report.passed else "[bold red]drill failed[/]")


def _counts(values: dict[str, int] | dict[str, str]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in values.items()) or "-"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(drill_app, name="drill")
