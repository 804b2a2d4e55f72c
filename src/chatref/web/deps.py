"""Request dependencies: the app's services and the calling user."""

from __future__ import annotations

from fastapi import Request

from chatref.app import Services
from chatref.chat.service import ChatService
from chatref.errors import AuthenticationError, ConfigurationError, NotReadyError
from chatref.identity.principal import Principal
from chatref.store.types import ConversationStore


def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise NotReadyError("chatref is still starting; try again in a moment")
    return services


def get_chat(request: Request) -> ChatService:
    return get_services(request).require_chat()


def get_store(request: Request) -> ConversationStore:
    store = get_services(request).store
    if store is None:
        raise ConfigurationError("the conversation store is not open")
    return store


def current_principal(request: Request) -> Principal:
    """The caller, as ``web.auth.AuthMiddleware`` established it (the local user in local mode,
    the token's or Easy Auth's ``oid`` otherwise)."""
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    if principal is None:
        raise AuthenticationError("sign-in required")
    return principal


def current_user(request: Request) -> str:
    """The caller's user id: every conversation, message and feedback belongs to it."""
    return current_principal(request).user_id
