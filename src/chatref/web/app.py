"""The FastAPI app: routes, the error translator, the web UI, and the services' lifespan.

``create_app`` builds nothing at import time; the lifespan builds the services from Settings
through the composition root and closes them on shutdown. Example::

    uvicorn.run(create_app(Settings()), host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from chatref import __version__
from chatref.app import build_chat_services
from chatref.chat.turn import TurnObserver
from chatref.identity.config import IdentityConfig, split_list
from chatref.identity.tokens import TokenValidator
from chatref.quota import InProcessUsageLimits, UsageLimits
from chatref.retention import retention_loop
from chatref.retrieval.types import Warmable
from chatref.settings import Settings
from chatref.store.shared_usage import SharedBudgetUsageLimits, TokenLedger
from chatref.telemetry import Telemetry
from chatref.web.auth import AuthMiddleware
from chatref.web.errors import install_error_handlers
from chatref.web.limits import BodySizeLimit, max_body_bytes
from chatref.web.metrics import ChatMetrics
from chatref.web.openapi import install_openapi
from chatref.web.ratelimit import ChatLimitMiddleware, TokenCharger, chain
from chatref.web.routes import chat, conversations, health, me, openai_compat
from chatref.web.security import SecurityMiddleware

STATIC_DIR = Path(__file__).parent / "static"
# Swagger UI and ReDoc files, from the fastapi-offline wheel: /docs loads nothing from a CDN.
DOCS_ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
logger = logging.getLogger(__name__)

# The page loads nothing but its own files; answers are inserted as escaped text. The CSP and
# the other security headers come from SecurityMiddleware, on every response.
PAGE_HEADERS = {"Cache-Control": "no-cache"}
SWAGGER_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>chatref API</title>
<link rel="stylesheet" href="/docs-assets/swagger-ui.css">
<link rel="icon" href="/docs-assets/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs-assets/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script></body></html>
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The chatref web app (``Settings()`` from the environment unless given)."""
    resolved = settings or Settings()
    identity = IdentityConfig.from_settings(resolved)  # contradictions stop here
    validator = None
    if identity.mode == "token":
        assert identity.openid_config_url and identity.tenant_id  # noqa: S101 - from_settings
        validator = TokenValidator(openid_config_url=identity.openid_config_url,
                                   tenant_id=identity.tenant_id, audiences=identity.audiences)
    usage, shared_budget = _usage_limits(resolved, identity)
    charger = TokenCharger(usage) if usage is not None else None
    app = FastAPI(
        title="chatref",
        version=__version__,
        summary="Grounded chat over your documents: answers cite the passages they come from.",
        lifespan=_lifespan(resolved, charger, shared_budget, validator),
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_openapi(app)
    _install_middleware(app, resolved, identity, validator, usage)
    app.state.identity = identity
    for module in (chat, openai_compat, conversations, health, me):
        app.include_router(module.router)
    _install_pages(app)
    return app


def _usage_limits(
    settings: Settings, identity: IdentityConfig
) -> tuple[UsageLimits | None, SharedBudgetUsageLimits | None]:
    """Per-user limits (none in local mode), and the shared daily budget when there is one."""
    if identity.mode == "local":
        return None, None
    daily = settings.chatref_daily_token_quota
    # With Table Storage the daily token budget is counted across instances (the store is its
    # ledger); per-minute limits and stream slots stay per instance (store/shared_usage.py).
    shared = bool(daily and settings.azure_storage_table_endpoint)
    usage = InProcessUsageLimits(
        per_minute=settings.chatref_rate_limit_per_minute,
        max_streams=settings.chatref_max_concurrent_streams,
        daily_tokens=None if shared else daily)
    if shared and daily:
        budget = SharedBudgetUsageLimits(usage, daily_tokens=daily)
        return budget, budget
    return usage, None


def _lifespan(
    settings: Settings,
    charger: TokenCharger | None,
    shared_budget: SharedBudgetUsageLimits | None,
    validator: TokenValidator | None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Build the services (through the composition root) on start-up; close them on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        telemetry = Telemetry.from_settings(settings)  # + Application Insights when configured
        try:
            observer: TurnObserver = ChatMetrics(telemetry).observe
            if charger is not None:
                observer = chain(observer, charger.observe)
            services = await build_chat_services(settings, telemetry=telemetry, observer=observer)
        except BaseException:
            telemetry.shutdown()
            raise
        retention_task = None
        if settings.chatref_retention_days is not None and services.store is not None:
            retention_task = asyncio.create_task(
                retention_loop(services.store, days=settings.chatref_retention_days))
        app.state.services = services
        # The embedded index loads its graph and postings now, beside serving, rather than in
        # its first user's search (seconds at 100k chunks; minutes at 1M without saved files).
        warming = asyncio.create_task(_warm(services.index)) \
            if isinstance(services.index, Warmable) else None
        if shared_budget is not None and isinstance(services.store, TokenLedger):
            shared_budget.bind(services.store)
        # Everything built so far lives as long as the process: move it out of the collector's
        # sight, so full collections under load walk only per-request objects (shorter pauses).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            app.state.services = None
            if warming is not None:  # the index's close waits for a build under way
                warming.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await warming
            if retention_task is not None:
                retention_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await retention_task
            gc.unfreeze()
            try:
                await services.aclose()
                if charger is not None:
                    await charger.drain()
            finally:
                telemetry.shutdown()
                if validator is not None:
                    await validator.aclose()

    return lifespan


async def _warm(index: Warmable) -> None:
    started = time.perf_counter()
    try:
        await index.warm()
    except Exception:  # the first search will try again, and report what fails
        logger.exception("could not load the index ahead of the first search")
        return
    logger.info("index loaded for search in %.1f s", time.perf_counter() - started)


def _install_middleware(
    app: FastAPI, settings: Settings, identity: IdentityConfig,
    validator: TokenValidator | None, usage: UsageLimits | None,
) -> None:
    """Added innermost first: a request meets them in the reverse order."""
    if usage is not None:  # innermost: it reads the principal and the size-capped body
        app.add_middleware(ChatLimitMiddleware, usage=usage)
    app.add_middleware(BodySizeLimit, limit_bytes=max_body_bytes(settings))
    app.add_middleware(AuthMiddleware, config=identity, validator=validator)
    cors_origins = frozenset(split_list(settings.chatref_cors_origins))
    if cors_origins:  # closed unless listed; preflights are answered before authentication
        app.add_middleware(CORSMiddleware, allow_origins=sorted(cors_origins),
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"], max_age=600)
    # Added last, so outermost: every answer, refusals included, carries the security headers.
    app.add_middleware(SecurityMiddleware, allowed_hosts=identity.allowed_hosts,
                       cors_origins=cors_origins)


def _install_pages(app: FastAPI) -> None:
    """The chat page, its files, and the API docs (Swagger UI, ReDoc) served from the wheel."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        # FastAPI's page configures Swagger UI in an inline script, which the CSP forbids.
        return HTMLResponse(SWAGGER_PAGE)

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json", title="chatref API",
            redoc_js_url="/docs-assets/redoc.standalone.js",
            redoc_favicon_url="/docs-assets/favicon.png", with_google_fonts=False,
        )

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)
