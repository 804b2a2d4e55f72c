"""`chatref serve` (the web app and API) and `chatref ask` (one answer in the terminal)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from chatref.app import build_chat_services
from chatref.chat.types import ChatRequest
from chatref.cli.terminal import TerminalAnswer
from chatref.identity.config import IdentityConfig, check_listen_address
from chatref.llm.base import ChatMessage
from chatref.llm.config import endpoints_from_settings
from chatref.settings import load_settings


def serve(
    host: Annotated[str | None, typer.Option(
        "--host",
        help="Address to listen on. Default: 127.0.0.1 in local mode, 0.0.0.0 (all interfaces) "
             "in token or easyauth mode. Local mode accepts loopback addresses only.",
    )] = None,
    port: Annotated[int | None, typer.Option(
        "--port", min=1, max=65535, help="TCP port (default: $PORT, else 8000).")] = None,
    log_level: Annotated[str, typer.Option(
        "--log-level", help="uvicorn's and chatref's log level (other libraries: warning).",
    )] = "info",
    workers: Annotated[int, typer.Option(
        "--workers", min=1, max=64,
        help="Server processes (each with its own event loop; they share the SQLite files).",
    )] = 1,
) -> None:
    """Serve the chat page at / and the API (OpenAPI docs at /docs)."""
    import uvicorn

    from chatref.web.app import create_app
    from chatref.web.logs import log_config

    settings = load_settings()
    identity = IdentityConfig.from_settings(settings)  # contradictions exit 2 here
    mode = settings.chatref_auth_mode
    host = host or ("127.0.0.1" if mode == "local" else "0.0.0.0")  # noqa: S104
    port = port or settings.port
    check_listen_address(mode, host)
    endpoints_from_settings(settings)  # a model configuration that cannot work fails here
    Console(stderr=True, soft_wrap=True).print(
        f"chatref on http://{host if ':' not in host else f'[{host}]'}:{port}  "
        f"(auth mode {mode}; answers to Host {', '.join(sorted(identity.allowed_hosts))}; "
        f"data in {settings.chatref_data_dir})",
        highlight=False, markup=False,
    )
    logs = log_config(log_level)  # chatref's INFO lines too, other libraries' from WARNING
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level,
                    log_config=logs, timeout_graceful_shutdown=5)
    else:  # each worker process builds its app (and reads the same environment) itself
        uvicorn.run("chatref.web.app:create_app", factory=True, workers=workers, host=host,
                    port=port, log_level=log_level, log_config=logs,
                    timeout_graceful_shutdown=5)


def ask(
    question: Annotated[str, typer.Argument(help="The question to answer from the index.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Answer one question from the indexed documents, streaming, with its citations.

    Nothing is stored. Exit status 1 when the model failed part-way.
    """
    settings = load_settings()
    out = Console(highlight=False, markup=False, emoji=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, markup=False, emoji=False)

    async def run() -> int:
        services = await build_chat_services(settings)
        try:
            turn = await services.require_chat().start_turn(
                ChatRequest([ChatMessage("user", question)], persist=False)
            )
            terminal = TerminalAnswer(out, err, as_json=as_json)
            async for event in turn.events():
                terminal.write(event)
            return terminal.close()
        finally:
            await services.aclose()

    status = asyncio.run(run())
    if status:
        raise typer.Exit(status)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("serve")(serve)
    app.command("ask")(ask)
