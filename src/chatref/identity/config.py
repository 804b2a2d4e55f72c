"""The identity settings, checked once at start-up: contradictions stop chatref before it serves.

A wrong combination is a ``ConfigurationError`` naming the variable (the CLI prints it on one
line and exits 2). Example::

    config = IdentityConfig.from_settings(Settings())   # raises on a bad combination
    check_listen_address(config.mode, "0.0.0.0")        # refused in local mode
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace

from chatref.errors import ConfigurationError
from chatref.settings import AuthMode, Settings

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
ENTRA_METADATA = "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"


def split_list(value: str | None) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def audiences(value: str) -> tuple[str, ...]:
    """Every ``aud`` to accept: Entra puts the app ID URI or the bare client ID there, so an
    ``api://<client-id>`` URI also accepts the client ID, and a client ID its ``api://`` URI.

    >>> audiences("api://11111111-2222-3333-4444-555555555555")
    ('api://11111111-2222-3333-4444-555555555555', '11111111-2222-3333-4444-555555555555')
    """
    accepted: list[str] = []
    for item in split_list(value):
        pair = [item]
        if item.startswith("api://") and _GUID.match(item[6:]):
            pair.append(item[6:])
        elif _GUID.match(item):
            pair.append(f"api://{item}")
        accepted.extend(a for a in pair if a not in accepted)
    return tuple(accepted)


def is_loopback(host: str) -> bool:
    """Whether an address or name is the loopback interface.

    >>> is_loopback("127.0.0.2"), is_loopback("[::1]"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    name = host.strip("[]").lower()
    if name in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class IdentityConfig:
    """What the web layer needs to know about identity, validated."""

    mode: AuthMode
    allowed_hosts: frozenset[str]
    operator_role: str
    required_role: str | None = None
    tenant_id: str | None = None
    audiences: tuple[str, ...] = ()
    openid_config_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> IdentityConfig:
        mode = settings.chatref_auth_mode
        # Loopback names are always allowed (container health checks; DNS rebinding needs a
        # name of the attacker's), plus the App Service host name and any listed names.
        listed = {h.lower() for h in split_list(settings.chatref_allowed_hosts)}
        hosts = set(LOOPBACK_HOSTS) | listed
        if settings.website_hostname:
            hosts.add(settings.website_hostname.lower())
        base = cls(mode=mode, allowed_hosts=frozenset(hosts),
                   operator_role=settings.chatref_auth_operator_role,
                   required_role=settings.chatref_auth_required_role or None)
        if mode == "easyauth" and not settings.website_auth_enabled:
            raise ConfigurationError(
                "CHATREF_AUTH_MODE=easyauth needs App Service authentication in front "
                "(WEBSITE_AUTH_ENABLED=True, which App Service sets); without it anyone who "
                "reaches the container could forge X-MS-CLIENT-PRINCIPAL"
            )
        if mode != "token":
            return base
        tenant = settings.chatref_auth_tenant_id
        if not tenant:
            raise ConfigurationError("CHATREF_AUTH_MODE=token needs CHATREF_AUTH_TENANT_ID "
                                     "(the Entra ID tenant that signs the tokens)")
        accepted = audiences(settings.chatref_auth_audience or "")
        if not accepted:
            raise ConfigurationError("CHATREF_AUTH_MODE=token needs CHATREF_AUTH_AUDIENCE "
                                     "(the API's application ID URI or client ID)")
        url = settings.chatref_auth_openid_config_url or ENTRA_METADATA.format(tenant=tenant)
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ConfigurationError(f"CHATREF_AUTH_OPENID_CONFIG_URL={url}: must be https "
                                     "(plain http is accepted on loopback only, for tests)")
        return replace(base, tenant_id=tenant, audiences=accepted, openid_config_url=url)


def check_listen_address(mode: AuthMode, host: str) -> None:
    """Listening beyond loopback needs real authentication (``token`` or ``easyauth``)."""
    if mode == "local" and not is_loopback(host):
        raise ConfigurationError(
            f"--host {host}: CHATREF_AUTH_MODE=local trusts every caller as the one local user, "
            "so chatref listens only on loopback (127.0.0.1, ::1, localhost) in that mode; set "
            "CHATREF_AUTH_MODE=token or easyauth to listen on other interfaces"
        )
