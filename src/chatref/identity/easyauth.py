"""App Service Authentication ("Easy Auth"): the principal the platform puts in a header.

App Service validates the session and sends ``X-MS-CLIENT-PRINCIPAL`` (base64 of JSON claims)
to the app; a client cannot set it through the platform's front end, but anyone who reaches the
container directly can, which is why ``easyauth`` mode needs ``WEBSITE_AUTH_ENABLED=True``.
Example::

    principal = principal_from_header(request.headers.get("x-ms-client-principal"))
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chatref.errors import AuthenticationError
from chatref.identity.principal import Principal

OID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
NAME_CLAIMS = ("name", "preferred_username",
               "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name")
ROLE_CLAIMS = ("roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role")
MAX_HEADER_BYTES = 64 * 1024


def principal_from_header(header: str | None) -> Principal:
    """Parse ``X-MS-CLIENT-PRINCIPAL``; no header, or one without an ``oid``, is a 401."""
    if not header:
        raise AuthenticationError("sign-in required: no App Service authentication principal")
    if len(header) > MAX_HEADER_BYTES:
        raise AuthenticationError("X-MS-CLIENT-PRINCIPAL is too large")
    try:
        document: Any = json.loads(base64.b64decode(header, validate=False))
        claims = [(str(c["typ"]), str(c["val"])) for c in document["claims"]]
        role_type = str(document.get("role_typ") or ROLE_CLAIMS[1])
        name_type = str(document.get("name_typ") or NAME_CLAIMS[2])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise AuthenticationError("X-MS-CLIENT-PRINCIPAL is not a valid principal") from exc
    oid = next((v for t, v in claims if t in OID_CLAIMS and v), None)
    if oid is None:
        raise AuthenticationError("the App Service principal has no object ID (oid) claim")
    roles = frozenset(v for t, v in claims if t == role_type or t in ROLE_CLAIMS)
    name = next((v for t, v in claims if t == name_type and v), None) or next(
        (v for t, v in claims if t in NAME_CLAIMS and v), None)
    return Principal(oid, name=name, roles=roles, source="easyauth")


def encode_principal(oid: str, *, name: str | None = None, roles: tuple[str, ...] = ()) -> str:
    """The header App Service would send for this user (for tests, probes and docs).

    >>> principal_from_header(encode_principal("u1", roles=("Chat.User",))).roles
    frozenset({'Chat.User'})
    """
    claims = [{"typ": OID_CLAIMS[0], "val": oid}]
    if name:
        claims.append({"typ": "name", "val": name})
    claims += [{"typ": "roles", "val": role} for role in roles]
    document = {"auth_typ": "aad", "claims": claims, "name_typ": "name", "role_typ": "roles"}
    return base64.b64encode(json.dumps(document).encode()).decode()
