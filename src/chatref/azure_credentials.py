"""Every Entra ID credential chatref uses is built here, from one ``AZURE_CLIENT_ID``.

In production the app runs as a user-assigned managed identity (Terraform sets
``AZURE_CLIENT_ID``); on a developer's machine ``DefaultAzureCredential`` falls through to the
Azure CLI login. Keys (``AZURE_OPENAI_API_KEY`` and the like) are for development only and never
reach this module. azure-identity is imported lazily: a keyed or fully local setup never loads it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"


def default_credential(client_id: str | None) -> Any:
    """The synchronous ``DefaultAzureCredential`` (managed identity ``client_id`` first)."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(managed_identity_client_id=client_id)


def default_async_credential(client_id: str | None) -> Any:
    """The asynchronous ``DefaultAzureCredential``, for the SDKs that take one (Search, Tables)."""
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential(managed_identity_client_id=client_id)


def managed_identity_credential(client_id: str) -> Any:
    """Exactly the managed identity ``client_id``: Application Insights' ingestion with key-based
    auth off accepts that identity's tokens only, so nothing else in the chain may answer."""
    from azure.identity import ManagedIdentityCredential

    return ManagedIdentityCredential(client_id=client_id)


class CognitiveServicesTokens:
    """Bearer tokens for Azure OpenAI, as the openai SDK's ``azure_ad_token_provider``.

    The synchronous credential is used (through a worker thread) because azure-identity's async
    credentials need aiohttp; tokens are cached, so the thread hop is rare work. ``refresh``
    builds a new credential because the old one's token cache would hand back the same token
    (after a 401 the router asks for a fresh one).
    """

    def __init__(self, client_id: str | None) -> None:
        self._client_id = client_id
        self._credential, self._provider = self._new()

    def _new(self) -> tuple[Any, Callable[[], str]]:
        from azure.identity import get_bearer_token_provider

        credential = default_credential(self._client_id)
        return credential, get_bearer_token_provider(credential, COGNITIVE_SERVICES_SCOPE)

    async def __call__(self) -> str:
        return await asyncio.to_thread(self._provider)

    def refresh(self) -> None:
        old = self._credential
        self._credential, self._provider = self._new()
        old.close()

    async def aclose(self) -> None:
        self._credential.close()
