"""`chatref probe URL`: black-box security checks of a running deployment (ops/probe.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from chatref.ops.probe import run_probe

_STYLE = {"pass": "green", "fail": "bold red", "skip": "yellow"}


def probe(
    url: Annotated[str, typer.Argument(help="The app's root URL, e.g. https://chat.contoso.com")],
    token: Annotated[str | None, typer.Option(
        "--token", envvar="CHATREF_PROBE_TOKEN",
        help="A user's access token: enables the isolation and rate-limit checks.")] = None,
    other_token: Annotated[str | None, typer.Option(
        "--other-token", envvar="CHATREF_PROBE_OTHER_TOKEN",
        help="A second user's access token (isolation check).")] = None,
    rate_limit_requests: Annotated[int, typer.Option(
        "--rate-limit-requests", min=1, max=1000,
        help="Chat requests to send before expecting a 429.")] = 40,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    junit: Annotated[Path | None, typer.Option(
        "--junit", help="Also write the report as JUnit XML to this file.")] = None,
) -> None:
    """Check a running deployment as an attacker would: HTTPS and HSTS, security headers,
    unauthenticated and forged requests refused, another user's conversation 404, bad input
    answered 4xx JSON without internals, health details and metrics private, rate limiting.

    Exit status 1 when any check fails (each failed check is named).
    """
    report = asyncio.run(run_probe(url, token=token, other_token=other_token,
                                   rate_limit_requests=rate_limit_requests))
    if junit is not None:
        junit.write_text(report.to_junit(), encoding="utf-8")
    if as_json:
        print(report.to_json())
    else:
        table = Table("check", "result", "detail", title=f"chatref probe {report.url}")
        for check in report.checks:
            table.add_row(check.name, f"[{_STYLE[check.status]}]{check.status}[/]", check.detail)
        Console(soft_wrap=True).print(table)
    if report.failed:
        message = f"failed: {', '.join(report.failed)}"
        if "unauthenticated_refused" in report.failed:
            message += " (no authentication: anyone who reaches this URL is a user)"
        Console(stderr=True, soft_wrap=True, highlight=False).print(message, markup=False)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("probe")(probe)
