"""Every error chatref raises on purpose.

Backends translate their SDK's errors at the boundary (``raise ... from exc``); the web app's one
exception handler (which owns the error -> HTTP status table, web/errors.py) and the CLI's one
error translator turn these into messages a person can act on. Errors know nothing of HTTP:
``code`` is a stable machine-readable name, the same in the API and the CLI's ``--json``.
The hierarchy::

    ChatrefError
    ├── ConfigurationError              settings that cannot work (bad JSON, missing deployment)
    ├── NotReadyError                   the app is still starting (its services are not built)
    ├── InputError                      a request or argument that is wrong
    │   ├── NotFoundError               an unknown conversation, message or file
    │   ├── ConflictError               valid, but not in this state (rating a question)
    │   └── DocumentError               one document that cannot be read (path + reason)
    ├── IndexError_                     the search index cannot be used
    │   └── EmbedderMismatchError       the index was built by another embedder
    ├── AuthenticationError             no valid credentials
    ├── PermissionDeniedError           signed in, without the role or from the wrong place
    ├── RateLimitedError                a per-user limit was reached (retry_after_s)
    ├── IdentityProviderError           the token signing keys cannot be fetched
    ├── StoreError                      the conversation store failed
    ├── SourceError                     a document source (Blob container) cannot be read
    └── ModelError                      the chat model failed
        ├── ContentFilteredError        the model's content filter refused (shown politely)
        ├── ModelUnavailableError       no endpoint could answer
        ├── ModelEndpointError          one endpoint failed (reason, retry_after_s): the router
        │                               fails over; never seen outside llm/
        └── ModelStreamInterruptedError the answer broke off after tokens (partial_text)
"""

from __future__ import annotations

from pathlib import Path


class ChatrefError(Exception):
    """Base of every error chatref raises on purpose."""

    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(ChatrefError):
    code = "configuration_error"


class NotReadyError(ChatrefError):
    """The app is still starting: its services are not built yet. Try again in a moment."""

    code = "starting"


class InputError(ChatrefError):
    code = "invalid_request"


class NotFoundError(InputError):
    code = "not_found"


class ConflictError(InputError):
    code = "conflict"


class DocumentError(InputError):
    """A document that cannot be parsed; ingestion reports it and goes on."""

    code = "document_error"

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class IndexError_(ChatrefError):  # noqa: N801 - avoid shadowing the builtin IndexError
    code = "index_unavailable"


class EmbedderMismatchError(IndexError_):
    code = "embedder_mismatch"

    def __init__(self, path: Path | str, built_with: str, opened_with: str) -> None:
        super().__init__(
            f"index {path} was built with embedder {built_with} but is being opened with "
            f"{opened_with}; re-ingest into a new index file, or configure the same embedder"
        )
        self.built_with = built_with
        self.opened_with = opened_with


class StoreError(ChatrefError):
    code = "store_unavailable"


class SourceError(ChatrefError):
    code = "source_unavailable"


class ModelError(ChatrefError):
    code = "model_error"


class ContentFilteredError(ModelError):
    code = "content_filter"


class ModelUnavailableError(ModelError):
    code = "model_unavailable"


# --- chat-model resilience (llm/) ---------------------------------------------------------------


class ModelEndpointError(ModelError):
    """One endpoint failed to answer; the router decides whether another may.

    ``reason`` is one of: ``timeout``, ``first_token_timeout``, ``connection``, ``throttled``,
    ``server_error``, ``auth``, ``not_found``, ``bad_request``. ``retry_after_s`` is the
    cool-down the endpoint asked for (Retry-After, retry-after-ms, x-ratelimit-reset-*).
    """

    code = "model_endpoint_error"

    def __init__(self, message: str, *, endpoint: str, reason: str,
                 http_status: int | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.reason = reason
        self.http_status = http_status
        self.retry_after_s = retry_after_s

    @property
    def retryable(self) -> bool:
        """Whether another attempt (here later, or elsewhere now) could succeed."""
        return self.reason in {"timeout", "first_token_timeout", "connection", "throttled",
                               "server_error"}


class ModelStreamInterruptedError(ModelError):
    """The answer broke off after tokens reached the caller; ``partial_text`` is what arrived."""

    code = "model_interrupted"

    def __init__(self, message: str, *, partial_text: str, endpoint: str | None = None) -> None:
        super().__init__(message)
        self.partial_text = partial_text
        self.endpoint = endpoint


# --- identity and abuse protection (identity/, quota/) ------------------------------------------


class AuthenticationError(ChatrefError):
    """The request carries no valid credentials (a missing, expired or forged token)."""

    code = "unauthenticated"


class PermissionDeniedError(ChatrefError):
    """The caller is known but may not do this (a missing app role, a non-loopback client)."""

    code = "forbidden"


class RateLimitedError(ChatrefError):
    """A per-user limit was reached; ``limit`` names it, ``retry_after_s`` says when to retry."""

    code = "rate_limited"

    def __init__(self, message: str, *, limit: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.retry_after_s = retry_after_s


class IdentityProviderError(ChatrefError):
    """The OpenID metadata or signing keys cannot be fetched, so no token can be checked."""

    code = "identity_provider_unavailable"
