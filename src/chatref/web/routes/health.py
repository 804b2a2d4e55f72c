"""Health probes for App Service and the Prometheus scrape endpoint."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from chatref.app import Services
from chatref.errors import ChatrefError
from chatref.web.deps import get_services
from chatref.web.schemas import Check, Live, Ready

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/health/live")
async def live() -> Live:
    """The process is up and serving requests."""
    return Live()


@router.get("/health/ready", response_model=Ready, responses={503: {"model": Ready}})
async def ready(services: Annotated[Services, Depends(get_services)]) -> JSONResponse:
    """Ready to answer: the index opens, the store takes a write, the model configuration is
    valid (it was checked at start-up). The model's own state is reported but does not fail
    readiness: with every endpoint down chatref still answers, extractively."""
    checks: dict[str, Check] = {}
    try:
        checks["index"] = Check(ok=True, detail={"chunks": await services.index.count_chunks()})
    except (ChatrefError, OSError) as exc:
        checks["index"] = Check(ok=False, detail={"error": str(exc)})
    try:
        if services.store is None:
            raise RuntimeError("the conversation store is not open")
        await services.store.check_writable()
        checks["store"] = Check(ok=True)
    except (ChatrefError, RuntimeError, OSError) as exc:
        checks["store"] = Check(ok=False, detail={"error": str(exc)})
    if services.model is None:
        checks["model"] = Check(ok=True, detail={"mode": "extractive",
                                                 "reason": "no model configured"})
    else:
        try:
            state = await services.model.health()
            checks["model"] = Check(ok=True, detail={"mode": "model", "name": services.model.name,
                                                     "state": state})
        except Exception as exc:  # the probe must answer whatever the model does
            log.warning("model health check failed: %s", exc)
            checks["model"] = Check(ok=True, detail={"mode": "model", "error": str(exc)})
    ok = all(check.ok for check in checks.values())
    body = Ready(status="ready" if ok else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response)
async def metrics(services: Annotated[Services, Depends(get_services)]) -> Response:
    """Prometheus metrics of this instance."""
    body, content_type = services.telemetry.render()
    return Response(content=body, media_type=content_type)
