"""GET /api/me: who the page is signed in as, and where to sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from chatref.identity.principal import Principal
from chatref.web.deps import current_principal

router = APIRouter(tags=["identity"])
EASY_AUTH_SIGN_OUT = "/.auth/logout"


class Me(BaseModel):
    user_id: str
    name: str | None
    auth_mode: str
    roles: list[str]
    sign_out_url: str | None


@router.get("/api/me")
async def me(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> Me:
    """The signed-in caller (``local`` in local mode) and, behind Easy Auth, the sign-out link."""
    mode = request.app.state.identity.mode
    return Me(user_id=principal.user_id, name=principal.name, auth_mode=mode,
              roles=sorted(principal.roles),
              sign_out_url=EASY_AUTH_SIGN_OUT if mode == "easyauth" else None)
