"""Microsoft Entra ID access tokens, validated with PyJWT against the tenant's published keys.

Nothing is checked by hand: PyJWT verifies the RS256 signature, ``exp``/``nbf`` (with a small
leeway), ``iss`` (the issuer the OpenID metadata names) and ``aud``; this module adds the tenant
(``tid``) and reads the user (``oid``) and app roles (``roles``). Only RS256 is accepted, so
``alg: none`` and HMAC tokens (signed with a public key as the secret) are refused. Keys are
cached; a token signed with an unknown ``kid`` (Entra rolled its keys) refetches the key set at
most once a minute, so forged ``kid`` values cannot make chatref hammer the identity provider.
Example::

    validator = TokenValidator(openid_config_url=url, tenant_id=tid, audiences=("api://x",))
    principal = await validator.validate(token)      # AuthenticationError when invalid
    await validator.aclose()
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from chatref.errors import AuthenticationError, IdentityProviderError
from chatref.identity.principal import Principal

log = logging.getLogger(__name__)
ALGORITHMS = ("RS256",)
MAX_TOKEN_CHARS = 16 * 1024


@dataclass(frozen=True)
class _Keys:
    issuer: str
    by_kid: dict[str, jwt.PyJWK]


class TokenValidator:
    """Checks bearer tokens; one per app, shared by every request (the key cache is its state).

    ``refetch_interval_s``: the least time between two fetches of the key set (unknown ``kid``);
    ``keys_max_age_s``: keys older than this are refetched before use (a routine refresh).
    """

    def __init__(
        self,
        *,
        openid_config_url: str,
        tenant_id: str,
        audiences: tuple[str, ...],
        leeway_s: float = 60.0,
        refetch_interval_s: float = 60.0,
        keys_max_age_s: float = 24 * 3600.0,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.openid_config_url = openid_config_url
        self.tenant_id = tenant_id
        self.audiences = audiences
        self.leeway_s = leeway_s
        self.refetch_interval_s = refetch_interval_s
        self.keys_max_age_s = keys_max_age_s
        self._http = http or httpx.AsyncClient(timeout=10.0, follow_redirects=False)
        self._owns_http = http is None
        self._clock = clock
        self._keys: _Keys | None = None
        self._fetched_at: float | None = None  # last attempt, successful or not
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0  # how many times the key set was fetched (tests and metrics read it)

    async def validate(self, token: str) -> Principal:
        """The caller this token proves, or ``AuthenticationError`` saying what is wrong."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise AuthenticationError("the bearer token is empty or too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"the bearer token is not a JWT ({exc})") from exc
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise AuthenticationError(f"token algorithm {algorithm!r} is not accepted (RS256 only)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationError("the token names no signing key (kid)")
        keys, key = await self._key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=list(ALGORITHMS), audience=list(self.audiences),
                issuer=keys.issuer, leeway=self.leeway_s,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"invalid token: {exc}") from exc
        if claims.get("tid") != self.tenant_id:
            raise AuthenticationError("the token was issued for another tenant (tid)")
        oid = claims.get("oid")
        if not isinstance(oid, str) or not oid:
            raise AuthenticationError("the token has no object ID (oid) claim")
        roles = claims.get("roles") or []
        name = claims.get("name") or claims.get("preferred_username")
        return Principal(
            oid, name=name if isinstance(name, str) else None,
            roles=frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list)
            else frozenset(), source="token",
        )

    async def _key(self, kid: str) -> tuple[_Keys, jwt.PyJWK]:
        keys = self._keys
        if keys is not None and kid in keys.by_kid and not self._stale():
            return keys, keys.by_kid[kid]
        async with self._lock:
            keys = self._keys
            if keys is None or self._stale() or (kid not in keys.by_kid and self._may_refetch()):
                keys = await self._refresh(keys)
        if kid not in keys.by_kid:
            raise AuthenticationError(f"the token's signing key {kid!r} is not one of the "
                                      "tenant's published keys")
        return keys, keys.by_kid[kid]

    def _stale(self) -> bool:
        return self._clock() - self._loaded_at > self.keys_max_age_s

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or (
            self._clock() - self._fetched_at >= self.refetch_interval_s)

    async def _refresh(self, current: _Keys | None) -> _Keys:
        if current is not None and not self._may_refetch():
            return current
        self._fetched_at = self._clock()
        self.fetches += 1
        try:
            metadata = await self._get_json(self.openid_config_url)
            issuer = str(metadata["issuer"]).replace("{tenantid}", self.tenant_id)
            jwks = await self._get_json(str(metadata["jwks_uri"]))
            by_kid = _signing_keys(jwks)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            if current is not None:  # keep serving with the keys we have
                log.warning("refreshing the token signing keys failed: %s", exc)
                return current
            raise IdentityProviderError(
                f"cannot fetch the token signing keys from {self.openid_config_url}: {exc}"
            ) from exc
        self._keys = _Keys(issuer=issuer, by_kid=by_kid)
        self._loaded_at = self._clock()
        return self._keys

    async def _get_json(self, url: str) -> Any:
        response = await self._http.get(url)
        response.raise_for_status()
        return response.json()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()


def _signing_keys(jwks: Any) -> dict[str, jwt.PyJWK]:
    """RSA signing keys by ``kid``; others (encryption keys, other key types) are skipped."""
    keys: dict[str, jwt.PyJWK] = {}
    for data in jwks["keys"]:
        if data.get("kty") != "RSA" or data.get("use", "sig") != "sig" or not data.get("kid"):
            continue
        try:
            keys[str(data["kid"])] = jwt.PyJWK(data, algorithm="RS256")
        except jwt.PyJWKError as exc:
            log.warning("skipping signing key %s: %s", data.get("kid"), exc)
    if not keys:
        raise ValueError("the key set holds no RSA signing key")
    return keys
