"""`chatref retention`: delete conversations idle for longer than CHATREF_RETENTION_DAYS."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console

from chatref.app import open_store
from chatref.errors import ConfigurationError
from chatref.retention import apply_retention
from chatref.settings import load_settings


def retention(
    days: Annotated[int | None, typer.Option(
        "--days", min=1, help="Keep this many days (default: CHATREF_RETENTION_DAYS).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Delete every user's conversations last active more than N days ago.

    The web app does the same hourly when CHATREF_RETENTION_DAYS is set; this command is for a
    scheduled job or a one-off clean-up.
    """
    settings = load_settings()
    keep = days or settings.chatref_retention_days
    if keep is None:
        raise ConfigurationError("no retention period: set CHATREF_RETENTION_DAYS or pass --days")

    async def run() -> int:
        store = await open_store(settings)
        try:
            return await apply_retention(store, days=keep)
        finally:
            await store.aclose()

    deleted = asyncio.run(run())
    if as_json:
        print(json.dumps({"deleted": deleted, "days": keep}))
    else:
        Console(highlight=False).print(
            f"deleted {deleted} conversation(s) idle for more than {keep} days")


def register(app: typer.Typer) -> None:
    app.command("retention")(retention)
