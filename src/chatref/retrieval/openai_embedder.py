"""Azure OpenAI embeddings (text-embedding-3-*, ada-002) through the official ``openai`` SDK.

Configured by AZURE_OPENAI_ENDPOINT + AZURE_OPENAI_EMBEDDING_DEPLOYMENT, with AZURE_OPENAI_API_KEY
or, without a key, an Entra ID token from DefaultAzureCredential (the managed identity named by
AZURE_CLIENT_ID in production). The vector size is CHATREF_EMBEDDING_DIMENSIONS (default 1536);
for text-embedding-3-* a smaller size is requested from the service, and any vector of another
size is a configuration error naming the setting.

For example (an illustration, not run as a doctest)::

    embedder = AzureOpenAIEmbedder.from_settings(settings)
    (await embedder.embed(["hello"])).shape
    # (1, 1536)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import openai

from chatref.azure_credentials import CognitiveServicesTokens
from chatref.errors import ConfigurationError, ModelError
from chatref.llm.clients import azure_openai_client
from chatref.retrieval.types import Vectors
from chatref.settings import Settings

BATCH_SIZE = 64


class AzureOpenAIEmbedder:
    """An ``Embedder`` backed by an Azure OpenAI embedding deployment."""

    def __init__(self, client: openai.AsyncOpenAI, *, deployment: str, dimension: int,
                 request_dimensions: bool, tokens: CognitiveServicesTokens | None = None) -> None:
        self._client = client
        self._tokens = tokens
        self._deployment = deployment
        self._dimension = dimension
        self._request_dimensions = request_dimensions

    @classmethod
    def from_settings(cls, settings: Settings) -> AzureOpenAIEmbedder:
        deployment = settings.azure_openai_embedding_deployment
        if not deployment or not settings.azure_openai_endpoint:
            raise ConfigurationError(
                "AZURE_OPENAI_EMBEDDING_DEPLOYMENT needs AZURE_OPENAI_ENDPOINT as well"
            )
        api_key, tokens = None, None
        if settings.azure_openai_api_key is not None:
            api_key = settings.azure_openai_api_key.get_secret_value()
        else:
            tokens = CognitiveServicesTokens(settings.azure_client_id)
        # the v1 API or a dated api-version, as AZURE_OPENAI_API_VERSION says (llm/clients.py)
        client = azure_openai_client(
            settings.azure_openai_endpoint, api_version=settings.azure_openai_api_version,
            api_key=api_key, token_provider=tokens, max_retries=3, timeout=30.0,
        )
        dimension = settings.chatref_embedding_dimensions or 1536
        request = settings.chatref_embedding_dimensions is not None and "ada" not in deployment
        return cls(client, deployment=deployment, dimension=dimension, request_dimensions=request,
                   tokens=tokens)

    @property
    def name(self) -> str:
        return f"azure-openai/{self._deployment}"

    @property
    def dimension(self) -> int:
        return self._dimension

    async def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        extra: dict[str, Any] = {"dimensions": self._dimension} if self._request_dimensions else {}
        for start in range(0, len(texts), BATCH_SIZE):
            batch = [t if t.strip() else " " for t in texts[start:start + BATCH_SIZE]]
            try:
                response = await self._client.embeddings.create(
                    model=self._deployment, input=batch, **extra
                )
            except openai.APIStatusError as exc:
                if exc.status_code in (401, 403, 404):
                    raise ConfigurationError(
                        f"Azure OpenAI embedding deployment {self._deployment!r} answered "
                        f"{exc.status_code}: {exc.message}; check AZURE_OPENAI_ENDPOINT, "
                        "AZURE_OPENAI_EMBEDDING_DEPLOYMENT and the identity's role"
                    ) from exc
                raise ModelError(
                    f"embedding request to {self._deployment!r} failed with {exc.status_code}: "
                    f"{exc.message}"
                ) from exc
            except openai.APIError as exc:
                raise ModelError(f"embedding request to {self._deployment!r} failed: {exc}") \
                    from exc
            for item in response.data:
                vector = np.asarray(item.embedding, dtype=np.float32)
                if vector.shape[0] != self._dimension:
                    raise ConfigurationError(
                        f"deployment {self._deployment!r} returned {vector.shape[0]}-dimensional "
                        f"vectors; set CHATREF_EMBEDDING_DIMENSIONS={vector.shape[0]}"
                    )
                norm = float(np.linalg.norm(vector))
                out[start + item.index] = vector / norm if norm else vector
        return out

    async def aclose(self) -> None:
        await self._client.close()
        if self._tokens is not None:
            await self._tokens.aclose()
