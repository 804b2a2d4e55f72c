"""The ``openai`` SDK client for an Azure OpenAI resource, on the API version asked for.

``v1`` (the default, and what Azure recommends since August 2025) is the GA v1 API: the plain
``AsyncOpenAI`` client on ``{endpoint}/openai/v1/``, the deployment name as ``model``, no
``api-version``; a key goes as a bearer token, Entra ID through the SDK's ``api_key`` provider
(a coroutine returning a fresh token). A dated version (``2025-04-01-preview``, ``2024-10-21``)
uses ``AsyncAzureOpenAI``: ``{endpoint}/openai/deployments/{deployment}/...?api-version=``, the
key in an ``api-key`` header. Used by the chat model and the embedder alike. Example::

    client = azure_openai_client("https://aoai.openai.azure.com", api_version="v1",
                                 api_key=None, token_provider=tokens, max_retries=0,
                                 timeout=openai.Timeout(60, connect=10))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import openai
from openai import AsyncAzureOpenAI, AsyncOpenAI

from chatref.llm.families import V1_API


def v1_base_url(endpoint: str) -> str:
    """Where the v1 API lives on a resource.

    >>> v1_base_url("https://aoai.openai.azure.com/")
    'https://aoai.openai.azure.com/openai/v1/'
    """
    return f"{endpoint.rstrip('/')}/openai/v1/"


def azure_openai_client(endpoint: str, *, api_version: str, api_key: str | None,
                        token_provider: Callable[[], Awaitable[str]] | None, max_retries: int,
                        timeout: openai.Timeout | float) -> AsyncOpenAI:
    """A client for the Azure OpenAI resource at ``endpoint``: a key, else ``token_provider``."""
    if api_key is None and token_provider is None:
        raise ValueError("an Azure OpenAI client needs an API key or a token provider")
    if api_version == V1_API:
        return AsyncOpenAI(base_url=v1_base_url(endpoint), api_key=api_key or token_provider,
                           max_retries=max_retries, timeout=timeout)
    return AsyncAzureOpenAI(azure_endpoint=endpoint, api_version=api_version, api_key=api_key,
                            azure_ad_token_provider=token_provider, max_retries=max_retries,
                            timeout=timeout)
