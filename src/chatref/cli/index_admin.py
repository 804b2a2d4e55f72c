"""`chatref index create`: create the configured index or bring its schema up to date."""

from __future__ import annotations

import asyncio
import json

import typer
from rich.console import Console

from chatref.app import build_services
from chatref.cli.index import IndexOption, JsonOption
from chatref.settings import Settings

index_app = typer.Typer(help="Manage the search index.", no_args_is_help=True)


@index_app.command("create")
def create(index: IndexOption = None, as_json: JsonOption = False) -> None:
    """Create the index (Azure AI Search when AZURE_SEARCH_ENDPOINT is set, else the local file)
    for the configured embedder, or update its schema. `chatref ingest` does this too.

    An index built for another embedder is left as it is, and the command fails (exit 2).
    """
    settings = Settings()

    async def run() -> str:
        services = build_services(settings, index_path=index)
        try:
            return await services.index.ensure_schema()
        finally:
            await services.aclose()

    outcome = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps({"index": outcome}))
    else:
        Console().print(f"index {outcome}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")
