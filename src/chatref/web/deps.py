"""Request dependencies: the app's services and the calling user."""

from __future__ import annotations

from fastapi import Request

from chatref.app import Services
from chatref.chat.service import ChatService
from chatref.errors import ConfigurationError
from chatref.store.types import ConversationStore

LOCAL_USER = "local"


def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise ConfigurationError("chatref is still starting; try again in a moment")
    return services


def get_chat(request: Request) -> ChatService:
    return get_services(request).require_chat()


def get_store(request: Request) -> ConversationStore:
    store = get_services(request).store
    if store is None:
        raise ConfigurationError("the conversation store is not open")
    return store


def current_user(request: Request) -> str:
    """The caller's user id. In ``local`` auth mode (loopback only) everyone is the local user;
    the other modes are refused at start-up until the security issue implements them."""
    return LOCAL_USER
