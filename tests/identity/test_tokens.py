"""TokenValidator against the fake Entra tenant, over real HTTP, with real RS256 tokens."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from chatref.errors import AuthenticationError, IdentityProviderError
from chatref.identity.config import audiences
from chatref.identity.tokens import TokenValidator
from tests.fakes.identity_provider import (  # noqa: F401
    APP_ID_URI,
    CLIENT_ID,
    IdentityProvider,
    identity_provider,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def validator(
    identity_provider: IdentityProvider, clock: Clock  # noqa: F811
) -> AsyncIterator[TokenValidator]:
    v = TokenValidator(openid_config_url=identity_provider.metadata_url,
                       tenant_id=identity_provider.tenant_id, audiences=audiences(APP_ID_URI),
                       clock=clock)
    yield v
    await v.aclose()


async def test_a_valid_token_gives_the_oid_and_roles(
    validator: TokenValidator, identity_provider: IdentityProvider  # noqa: F811
) -> None:
    token = identity_provider.issue("oid-alice", roles=["Chat.User", "Chat.Operator"])
    principal = await validator.validate(token)
    assert principal.user_id == "oid-alice"
    assert principal.roles == {"Chat.User", "Chat.Operator"}
    assert principal.source == "token" and principal.name == "User oid-alice"


async def test_both_the_app_id_uri_and_the_client_id_are_accepted_as_audience(
    validator: TokenValidator, identity_provider: IdentityProvider  # noqa: F811
) -> None:
    for aud in (APP_ID_URI, CLIENT_ID):
        assert (await validator.validate(identity_provider.issue("u", audience=aud))).user_id == "u"


@pytest.mark.parametrize(("change", "expected"), [
    ({"audience": "api://someone-else"}, "Audience"),
    ({"issuer": "https://login.microsoftonline.com/other/v2.0"}, "issuer"),
    ({"tenant_id": "00000000-0000-0000-0000-000000000000"}, "another tenant"),
    ({"expires_in_s": -3600}, "expired"),
    ({"not_before_in_s": 3600}, "not yet valid"),
    ({"extra": {"oid": ""}}, "oid"),
])
async def test_a_wrong_claim_is_refused_and_named(
    validator: TokenValidator, identity_provider: IdentityProvider,  # noqa: F811
    change: dict[str, object], expected: str,
) -> None:
    token = identity_provider.issue("u", **change)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationError, match=expected):
        await validator.validate(token)


async def test_a_small_clock_skew_is_tolerated(
    validator: TokenValidator, identity_provider: IdentityProvider  # noqa: F811
) -> None:
    token = identity_provider.issue("u", expires_in_s=-20, not_before_in_s=20)
    assert (await validator.validate(token)).user_id == "u"


def _unsigned(claims: dict[str, object], header: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{part(header)}.{part(claims)}."


async def test_alg_none_is_refused(
    validator: TokenValidator, identity_provider: IdentityProvider  # noqa: F811
) -> None:
    good = jwt.decode(identity_provider.issue("u"), options={"verify_signature": False})
    kid = identity_provider.keys[-1][0]
    with pytest.raises(AuthenticationError, match="'none' is not accepted"):
        await validator.validate(_unsigned(good, {"alg": "none", "kid": kid}))


async def test_hmac_signed_with_the_public_key_is_refused(
    validator: TokenValidator, identity_provider: IdentityProvider  # noqa: F811
) -> None:
    """The classic key-confusion attack: HS256 with the published RSA key as the secret."""
    good = jwt.decode(identity_provider.issue("u"), options={"verify_signature": False})
    kid, private = identity_provider.keys[-1]
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    forged = _unsigned(good, {"alg": "HS256", "kid": kid}).rsplit(".", 2)
    import hashlib
    import hmac

    signing_input = f"{forged[0]}.{forged[1]}".encode()
    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, signing_input, hashlib.sha256).digest()).rstrip(b"=").decode()
    with pytest.raises(AuthenticationError, match="'HS256' is not accepted"):
        await validator.validate(f"{forged[0]}.{forged[1]}.{signature}")


async def test_a_token_signed_by_another_key_with_a_known_kid_fails_the_signature(
    validator: TokenValidator, identity_provider: IdentityProvider  # noqa: F811
) -> None:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = identity_provider.issue("u", key=attacker)
    with pytest.raises(AuthenticationError, match="Signature verification failed"):
        await validator.validate(token)


async def test_garbage_is_refused_without_fetching_keys(
    validator: TokenValidator, identity_provider: IdentityProvider  # noqa: F811
) -> None:
    for token in ("", "not-a-jwt", "a.b.c", "x" * 20000):
        with pytest.raises(AuthenticationError):
            await validator.validate(token)
    assert identity_provider.key_requests == 0


async def test_keys_are_cached_and_a_rolled_key_is_fetched_once(
    validator: TokenValidator, identity_provider: IdentityProvider, clock: Clock  # noqa: F811
) -> None:
    for _ in range(5):
        await validator.validate(identity_provider.issue("u"))
    assert identity_provider.key_requests == 1
    clock.now += 61
    identity_provider.rotate()  # Entra rolls its keys: new tokens carry a new kid
    assert (await validator.validate(identity_provider.issue("u"))).user_id == "u"
    assert identity_provider.key_requests == 2


async def test_unknown_kids_refetch_at_most_once_a_minute(
    validator: TokenValidator, identity_provider: IdentityProvider, clock: Clock  # noqa: F811
) -> None:
    await validator.validate(identity_provider.issue("u"))
    clock.now += 61
    for n in range(20):  # an attacker sending made-up kids
        with pytest.raises(AuthenticationError, match="not one of the tenant's published keys"):
            await validator.validate(identity_provider.issue("u", kid=f"made-up-{n}"))
    assert identity_provider.key_requests == 2  # the first load, then one refetch
    clock.now += 61
    with pytest.raises(AuthenticationError):
        await validator.validate(identity_provider.issue("u", kid="made-up-again"))
    assert identity_provider.key_requests == 3


async def test_an_unreachable_identity_provider_is_a_503_not_a_401(
    validator: TokenValidator, identity_provider: IdentityProvider  # noqa: F811
) -> None:
    identity_provider.fail_with = 503
    with pytest.raises(IdentityProviderError, match="cannot fetch the token signing keys"):
        await validator.validate(identity_provider.issue("u"))


async def test_known_keys_keep_working_when_a_refresh_fails(
    validator: TokenValidator, identity_provider: IdentityProvider, clock: Clock  # noqa: F811
) -> None:
    await validator.validate(identity_provider.issue("u"))
    identity_provider.fail_with = 500
    clock.now += 25 * 3600  # past the routine refresh
    assert (await validator.validate(identity_provider.issue("u"))).user_id == "u"
