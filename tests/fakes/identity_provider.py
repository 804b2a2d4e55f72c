"""A local Microsoft Entra ID stand-in: OpenID metadata, a JWKS, and real RS256 access tokens.

It serves, over real HTTP on 127.0.0.1 (a free port):

- ``GET /{tenant}/v2.0/.well-known/openid-configuration``: ``issuer``
  (``{url}/{tenant}/v2.0``, the shape of Entra's v2.0 issuer) and ``jwks_uri``;
- ``GET /{tenant}/discovery/v2.0/keys``: the public keys (``kty``, ``use``, ``kid``, ``n``, ``e``).

``issue(oid, ...)`` signs an access token with the current key (``cryptography`` generates the
keys, PyJWT signs), with the claims Entra puts in a v2.0 access token (``aud``, ``iss``, ``tid``,
``oid``, ``roles``, ``iat``, ``nbf``, ``exp``, ``ver``). ``rotate()`` adds a new signing key, as
Entra rolls its keys; ``key_requests`` counts JWKS fetches. Example::

    with IdentityProvider() as idp:
        token = idp.issue("user-1", roles=["Chat.User"])
        # CHATREF_AUTH_OPENID_CONFIG_URL=idp.metadata_url, CHATREF_AUTH_TENANT_ID=idp.tenant_id
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "5b2c1a9e-0f41-4d6a-9a77-3c1f2e8d4b10"
APP_ID_URI = f"api://{CLIENT_ID}"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class IdentityProvider:
    """The fake tenant. ``url``, ``metadata_url``, ``tenant_id``; ``issue()`` makes tokens."""

    def __init__(self, tenant_id: str = TENANT_ID) -> None:
        self.tenant_id = tenant_id
        self.keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self.key_requests = 0
        self.metadata_requests = 0
        self.fail_with: int | None = None  # answer every request with this status
        self.rotate()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if provider.fail_with is not None:
                    self._send(provider.fail_with, {"error": "unavailable"})
                elif self.path == f"/{provider.tenant_id}/v2.0/.well-known/openid-configuration":
                    provider.metadata_requests += 1
                    self._send(200, provider.metadata())
                elif self.path == f"/{provider.tenant_id}/discovery/v2.0/keys":
                    provider.key_requests += 1
                    self._send(200, provider.jwks())
                else:
                    self._send(404, {"error": "not_found"})

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def issuer(self) -> str:
        return f"{self.url}/{self.tenant_id}/v2.0"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def metadata(self) -> dict[str, Any]:
        return {"issuer": self.issuer,
                "jwks_uri": f"{self.url}/{self.tenant_id}/discovery/v2.0/keys",
                "id_token_signing_alg_values_supported": ["RS256"]}

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, private in self.keys:
            numbers = private.public_key().public_numbers()
            keys.append({"kty": "RSA", "use": "sig", "kid": kid, "n": _b64(numbers.n),
                         "e": _b64(numbers.e)})
        return {"keys": keys}

    def rotate(self) -> str:
        """Add a signing key (new tokens use it) and return its ``kid``."""
        kid = uuid.uuid4().hex[:16]
        self.keys.append((kid, rsa.generate_private_key(public_exponent=65537, key_size=2048)))
        return kid

    def issue(
        self,
        oid: str,
        *,
        roles: list[str] | None = None,
        audience: str = APP_ID_URI,
        issuer: str | None = None,
        tenant_id: str | None = None,
        expires_in_s: int = 3600,
        not_before_in_s: int = 0,
        kid: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        name: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """A signed access token for ``oid``; every claim can be made wrong for a test."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": audience, "iss": issuer or self.issuer, "tid": tenant_id or self.tenant_id,
            "oid": oid, "sub": f"sub-{oid}", "iat": now, "nbf": now + not_before_in_s,
            "exp": now + expires_in_s, "ver": "2.0", "name": name or f"User {oid}",
            "preferred_username": f"{oid}@contoso.example",
        }
        if roles is not None:
            claims["roles"] = roles
        claims.update(extra or {})
        current_kid, current_key = self.keys[-1]
        return jwt.encode(claims, key or current_key, algorithm="RS256",
                          headers={"kid": kid or current_kid})

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> IdentityProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def identity_provider() -> Iterator[IdentityProvider]:
    """A fresh fake tenant for one test."""
    with IdentityProvider() as idp:
        yield idp


@pytest.fixture
def token_mode(
    identity_provider: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> IdentityProvider:
    """Put chatref in token mode against the fake tenant (``CHATREF_AUTH_*``)."""
    monkeypatch.setenv("CHATREF_AUTH_MODE", "token")
    monkeypatch.setenv("CHATREF_AUTH_TENANT_ID", identity_provider.tenant_id)
    monkeypatch.setenv("CHATREF_AUTH_AUDIENCE", APP_ID_URI)
    monkeypatch.setenv("CHATREF_AUTH_OPENID_CONFIG_URL", identity_provider.metadata_url)
    return identity_provider
