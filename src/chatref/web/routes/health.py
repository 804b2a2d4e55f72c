"""Health probes for App Service and the Prometheus scrape endpoint."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from chatref.app import Services
from chatref.errors import ChatrefError, StoreError
from chatref.web.deps import get_services
from chatref.web.schemas import Check, Live, Ready

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
READY_CHECK_TIMEOUT_S = 5.0  # App Service's health check waits longer; a hung backend fails it


@router.get("/health/live")
async def live() -> Live:
    """The process is up and serving requests."""
    return Live()


@router.get("/health/ready", response_model=Ready, responses={503: {"model": Ready}})
async def ready(services: Annotated[Services, Depends(get_services)]) -> JSONResponse:
    """Ready to answer: the index opens, the store takes a write, the model configuration is
    valid (it was checked at start-up). The model's own state is reported but does not fail
    readiness: with every endpoint down chatref still answers, extractively. ``build`` names
    the build answering (CHATREF_BUILD), which a release waits for (scripts/smoke_chat.py)."""
    checks: dict[str, Check] = {}
    # A probe must answer whatever state the backends are in: every failure is a failed check.
    index_detail: dict[str, object] = dict(services.index.backend)  # never a secret
    try:
        chunks = await asyncio.wait_for(services.index.count_chunks(), READY_CHECK_TIMEOUT_S)
        checks["index"] = Check(ok=True, detail={**index_detail, "chunks": chunks})
    except TimeoutError:
        checks["index"] = Check(ok=False, detail={
            **index_detail, "error": f"no answer within {READY_CHECK_TIMEOUT_S:g} s"})
    except Exception as exc:
        checks["index"] = Check(ok=False, detail={**index_detail, "error": _describe(exc)})
    store_detail: dict[str, object] = {}
    try:
        if services.store is None:
            raise StoreError("the conversation store is not open")
        store_detail = dict(services.store.backend)  # kind and location, never a secret
        await asyncio.wait_for(services.store.check_writable(), READY_CHECK_TIMEOUT_S)
        checks["store"] = Check(ok=True, detail=store_detail)
    except TimeoutError:
        checks["store"] = Check(ok=False, detail={
            **store_detail, "error": f"no answer within {READY_CHECK_TIMEOUT_S:g} s"})
    except Exception as exc:
        checks["store"] = Check(ok=False, detail={**store_detail, "error": _describe(exc)})
    if services.model is None:
        checks["model"] = Check(ok=True, detail={"mode": "extractive",
                                                 "reason": "no model configured"})
    else:
        try:
            state = await services.model.health()
            checks["model"] = Check(ok=True, detail={"mode": "model", "name": services.model.name,
                                                     "state": asdict(state)})
        except Exception as exc:
            log.warning("model health check failed: %s", exc)
            checks["model"] = Check(ok=True, detail={"mode": "model", "error": _describe(exc)})
    ok = all(check.ok for check in checks.values())
    body = Ready(status="ready" if ok else "not_ready", checks=checks,
                 build=services.settings.chatref_build)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ChatrefError):
        return exc.message
    log.warning("readiness check failed: %r", exc)
    return f"{type(exc).__name__}: {exc}"


@router.get("/metrics", response_class=Response)
async def metrics(services: Annotated[Services, Depends(get_services)]) -> Response:
    """Prometheus metrics of this instance."""
    body, content_type = services.telemetry.render()
    return Response(content=body, media_type=content_type)
