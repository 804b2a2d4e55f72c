"""Request hygiene for every response (ASGI middleware, outermost): Host allow-list, same-origin
state changes, and the security headers.

- **Host allow-list** (``CHATREF_ALLOWED_HOSTS``): a request whose ``Host`` is not listed is
  refused with 400. This closes DNS rebinding against a loopback server: a page on
  ``evil.example`` that re-points its name at 127.0.0.1 still sends ``Host: evil.example``.
- **Same origin for state changes**: Easy Auth signs browsers in with a cookie, which the
  browser also sends on cross-site requests; a POST/PUT/PATCH/DELETE whose ``Origin`` is neither
  the request's Host nor an allowed host, or whose ``Sec-Fetch-Site`` says ``cross-site`` or
  ``same-site``, is refused with 403 unless ``CHATREF_CORS_ORIGINS`` lists that origin. Clients
  that send neither (curl, SDKs) pass.
- **Headers** on every response, errors included: the CSP below (no inline script),
  ``nosniff``, ``no-referrer``, ``Cache-Control: no-store`` on API answers, and HSTS when the
  request reached the front end over HTTPS (``X-Forwarded-Proto: https`` on App Service).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatref.errors import InputError, PermissionDeniedError
from chatref.web.auth import send_error

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; object-src 'none'; "
                           "base-uri 'none'; frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NO_STORE_PREFIXES = ("/api/", "/v1/", "/health/", "/metrics", "/openapi.json")


def host_name(host_header: str) -> str:
    """The name part of a Host header, lower-case, without port or IPv6 brackets.

    >>> host_name("Example.COM:8443"), host_name("[::1]:8000"), host_name("127.0.0.1")
    ('example.com', '::1', '127.0.0.1')
    """
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


class SecurityMiddleware:
    """See the module docstring. ``allowed_hosts`` holds lower-case names (``*``: any)."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: frozenset[str],
                 cors_origins: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.cors_origins = cors_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope["path"]
        https = (headers.get("x-forwarded-proto", "").split(",")[0].strip().lower() == "https"
                 or scope.get("scheme") == "https")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
                out["X-Content-Type-Options"] = "nosniff"
                out["Referrer-Policy"] = "no-referrer"
                out["X-Frame-Options"] = "DENY"
                if path.startswith(NO_STORE_PREFIXES) or "cache-control" not in out:
                    if not path.startswith(("/static/", "/docs-assets/")):
                        out["Cache-Control"] = "no-store"
                if https:
                    out["Strict-Transport-Security"] = HSTS
            await send(message)

        host = host_name(headers.get("host", ""))
        if "*" not in self.allowed_hosts and host not in self.allowed_hosts:
            await send_error(send_with_headers, InputError(
                f"Host {host or '(none)'!r} is not one this server answers to; list it in "
                "CHATREF_ALLOWED_HOSTS"))
            return
        if scope["method"] in UNSAFE_METHODS and not self._same_origin(headers):
            await send_error(send_with_headers, PermissionDeniedError(
                "cross-site request refused: state-changing requests must come from this "
                "site's own pages (or an origin listed in CHATREF_CORS_ORIGINS)"))
            return
        await self.app(scope, receive, send_with_headers)

    def _same_origin(self, headers: Headers) -> bool:
        origin = headers.get("origin")
        if origin is not None:
            if origin in self.cors_origins:
                return True
            # Behind a gateway the Host the app sees may be the App Service name while the page
            # was served from the public name: an Origin on any allowed host is this site.
            parts = urlsplit(origin)
            same_host = parts.netloc.lower() == headers.get("host", "").lower()
            allowed = ("*" not in self.allowed_hosts
                       and host_name(parts.netloc) in self.allowed_hosts)
            if not parts.netloc or not (same_host or allowed):
                return False
        site = headers.get("sec-fetch-site")
        if site in ("cross-site", "same-site"):
            return origin is not None and origin in self.cors_origins
        return True
