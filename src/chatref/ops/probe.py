"""`chatref probe URL`: a black-box security check of a running deployment.

Each check sends a few ordinary HTTP requests and says pass, fail or skip, with the evidence.
Nothing here knows chatref's internals: the same checks run against a local `chatref serve`, a
container, or the App Service front end. Example::

    report = await run_probe("https://chat.contoso.example", token=t1, other_token=t2)
    failed = [c.name for c in report.checks if c.status == "fail"]

With ``token`` and ``other_token`` (two users' access tokens) the probe also creates one
conversation as the first user, checks that the second gets 404 for it, and deletes it; and it
sends malformed chat requests (answered 400 before any model call) until the per-user rate
limit answers 429.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from chatref.identity.easyauth import encode_principal
from chatref.web.sse import parse_events

Status = Literal["pass", "fail", "skip"]
INTERNAL_DETAIL = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\.py\"|sqlite3\.|"
    r"\b(?:KeyError|AttributeError|TypeError|ValueError)\b|/site-packages/|https?://[^\s\"]*"
    r"(?:openai\.azure\.com|search\.windows\.net|core\.windows\.net)")


@dataclass
class CheckResult:
    name: str
    status: Status
    detail: str


@dataclass
class ProbeReport:
    url: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if c.status == "fail"]

    def to_json(self) -> str:
        return json.dumps({"url": self.url, "ok": not self.failed, "failed": self.failed,
                           "checks": [asdict(c) for c in self.checks]}, indent=2)

    def to_junit(self) -> str:
        """JUnit XML, one test case per check (skips as skipped, fails as failures)."""
        from xml.sax.saxutils import escape, quoteattr

        cases = []
        for check in self.checks:
            inner = ""
            if check.status == "fail":
                message = quoteattr(check.detail)
                inner = f"<failure message={message}>{escape(check.detail)}</failure>"
            elif check.status == "skip":
                inner = f"<skipped message={quoteattr(check.detail)}/>"
            cases.append(f'  <testcase classname="chatref.probe" name={quoteattr(check.name)}>'
                         f"{inner}</testcase>")
        skipped = sum(c.status == "skip" for c in self.checks)
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<testsuite name="chatref probe" '
                f'tests="{len(self.checks)}" failures="{len(self.failed)}" '
                f'skipped="{skipped}">\n' + "\n".join(cases) + "\n</testsuite>\n")


class _Probe:
    def __init__(self, http: httpx.AsyncClient, url: str, token: str | None,
                 other_token: str | None, rate_limit_requests: int) -> None:
        self.http = http
        self.url = url
        self.token = token
        self.other_token = other_token
        self.rate_limit_requests = rate_limit_requests
        self.error_bodies: list[tuple[str, str]] = []

    def auth(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def get(self, path: str, **kwargs: object) -> httpx.Response:
        response = await self.http.get(path, **kwargs)  # type: ignore[arg-type]
        self._keep(path, response)
        return response

    async def send(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        response = await self.http.request(method, path, **kwargs)  # type: ignore[arg-type]
        self._keep(path, response)
        return response

    def _keep(self, path: str, response: httpx.Response) -> None:
        if response.status_code >= 400:
            self.error_bodies.append((f"{response.request.method} {path}", response.text[:4000]))

    # --- the checks, in report order -------------------------------------------------------

    async def https_redirect(self) -> CheckResult:
        parts = urlsplit(self.url)
        if parts.scheme != "https":
            return CheckResult("https_redirect", "skip", "the URL is not https")
        plain = urlunsplit(("http", parts.netloc, "/", "", ""))
        try:
            response = await self.http.get(plain)
        except httpx.HTTPError as exc:
            return CheckResult("https_redirect", "pass", f"plain http is not served ({exc})")
        location = response.headers.get("location", "")
        if response.is_redirect and location.startswith("https://"):
            return CheckResult("https_redirect", "pass", f"http -> {location}")
        return CheckResult("https_redirect", "fail",
                           f"GET {plain} answered {response.status_code} without an https redirect")

    async def hsts(self) -> CheckResult:
        if urlsplit(self.url).scheme != "https":
            return CheckResult("hsts", "skip", "the URL is not https")
        value = (await self.get("/health/live")).headers.get("strict-transport-security", "")
        if "max-age=" in value and not value.startswith("max-age=0"):
            return CheckResult("hsts", "pass", value)
        return CheckResult("hsts", "fail", "no Strict-Transport-Security on an https answer")

    async def security_headers(self) -> CheckResult:
        problems = []
        for path in ("/health/live", "/api/conversations", "/no-such-page"):
            headers = (await self.get(path, headers=self.auth(self.token))).headers
            csp = headers.get("content-security-policy", "")
            script = next((d for d in csp.split(";") if d.strip().startswith(
                ("script-src", "default-src"))), "")
            if not csp or "'unsafe-inline'" in script or "frame-ancestors" not in csp:
                problems.append(f"{path}: CSP {csp or 'missing'!r}")
            if headers.get("x-content-type-options", "").lower() != "nosniff":
                problems.append(f"{path}: no X-Content-Type-Options: nosniff")
            if not headers.get("referrer-policy"):
                problems.append(f"{path}: no Referrer-Policy")
        if problems:
            return CheckResult("security_headers", "fail", "; ".join(problems))
        return CheckResult("security_headers", "pass", "CSP, nosniff and Referrer-Policy on "
                           "every answer checked")

    async def unauthenticated_refused(self) -> CheckResult:
        answers = []
        for method, path in (("GET", "/api/conversations"), ("POST", "/v1/chat/completions"),
                             ("GET", "/api/me")):
            response = await self.send(method, path, json={} if method == "POST" else None)
            answers.append(f"{method} {path} -> {response.status_code}")
            if response.status_code == 200 or (method == "POST" and response.status_code == 400):
                return CheckResult(
                    "unauthenticated_refused", "fail",
                    f"no authentication: {method} {path} answered {response.status_code} "
                    "without credentials, so anyone who reaches it is a user")
            if not (response.status_code == 401 or (
                    response.is_redirect and "/.auth/login" in response.headers.get(
                        "location", ""))):
                return CheckResult("unauthenticated_refused", "fail",
                                   f"{method} {path} answered {response.status_code}, "
                                   "neither 401 nor the sign-in redirect")
        return CheckResult("unauthenticated_refused", "pass", "; ".join(answers))

    async def forged_principal_ignored(self) -> CheckResult:
        forged = {"X-MS-CLIENT-PRINCIPAL": encode_principal(
            "00000000-0000-0000-0000-00000000f0r9", name="forged", roles=("Chat.Operator",))}
        response = await self.get("/api/conversations", headers=forged)
        if response.status_code == 200:
            return CheckResult("forged_principal_ignored", "fail",
                               "a forged X-MS-CLIENT-PRINCIPAL without a session was accepted "
                               "(the app is reachable without App Service authentication)")
        return CheckResult("forged_principal_ignored", "pass",
                           f"forged principal answered {response.status_code}")

    async def other_users_conversation(self) -> CheckResult:
        if not (self.token and self.other_token):
            return CheckResult("other_users_conversation", "skip",
                               "needs --token and --other-token (two users)")
        created = await self.send("POST", "/api/chat", headers=self.auth(self.token), json={
            "messages": [{"role": "user", "content": "chatref probe: isolation check"}]})
        conversation = None
        if created.status_code == 200:
            with contextlib.suppress(ValueError):  # not our event stream: no conversation
                conversation = next((data.get("id") for name, data in parse_events(created.text)
                                     if name == "conversation"), None)
        if not conversation:
            return CheckResult("other_users_conversation", "fail",
                               f"could not create a conversation as the first user "
                               f"({created.status_code})")
        try:
            theirs = await self.get(f"/api/conversations/{conversation}",
                                    headers=self.auth(self.other_token))
            unknown = await self.get("/api/conversations/probe-no-such-conversation",
                                     headers=self.auth(self.other_token))
            listed = await self.get("/api/conversations", headers=self.auth(self.other_token))
        finally:
            await self.send("DELETE", f"/api/conversations/{conversation}",
                            headers=self.auth(self.token))
        if theirs.status_code != 404 or unknown.status_code != 404:
            return CheckResult("other_users_conversation", "fail",
                               f"another user's conversation answered {theirs.status_code} "
                               f"(an unknown one {unknown.status_code})")
        if conversation in listed.text:
            return CheckResult("other_users_conversation", "fail",
                               "another user's conversation is in the second user's list")
        return CheckResult("other_users_conversation", "pass",
                           "404 like an unknown ID, and not listed")

    async def bad_input_answered_4xx_json(self) -> CheckResult:
        headers = {**self.auth(self.token), "Content-Type": "application/json"}
        problems = []
        for method, path, body in (("POST", "/api/chat", b'{"messages": [oops'),
                                   ("POST", "/v1/chat/completions", b'{"messages": 5}'),
                                   ("GET", "/api/conversations?limit=-1", None),
                                   ("PATCH", "/api/conversations/x", b"[]")):
            response = await self.send(method, path, content=body, headers=headers)
            try:
                shaped = "error" in response.json()
            except ValueError:
                shaped = False
            if not (400 <= response.status_code < 500 and shaped):
                problems.append(f"{method} {path} -> {response.status_code}"
                                f"{'' if shaped else ' (not a JSON error)'}")
        if problems:
            return CheckResult("bad_input_answered_4xx_json", "fail", "; ".join(problems))
        return CheckResult("bad_input_answered_4xx_json", "pass",
                           "malformed requests answered 4xx with a JSON error")

    async def ready_details_private(self) -> CheckResult:
        response = await self.get("/health/ready")
        text = response.text
        leaks = [w for w in ("endpoint", "http://", "https://", "deployment", "error",
                             "chunks", "model", "build") if w in text]
        if leaks:
            return CheckResult("ready_details_private", "fail",
                               f"/health/ready without the operator role shows {leaks}: "
                               f"{text[:200]}")
        return CheckResult("ready_details_private", "pass",
                           f"{response.status_code}: {text[:80]}")

    async def metrics_private(self) -> CheckResult:
        failures = []
        for path in ("/metrics", "/openapi.json", "/docs"):
            response = await self.get(path)
            if response.status_code == 200:
                failures.append(path)
        if failures:
            return CheckResult("metrics_private", "fail",
                               f"public without the operator role: {', '.join(failures)}")
        return CheckResult("metrics_private", "pass", "metrics and API docs need sign-in")

    async def rate_limit(self) -> CheckResult:
        if not self.token:
            return CheckResult("rate_limit", "skip", "needs --token")
        headers = {**self.auth(self.token), "Content-Type": "application/json"}
        for n in range(1, self.rate_limit_requests + 1):
            # a malformed body: counted as a chat turn, refused before any model call
            response = await self.send("POST", "/v1/chat/completions", content=b"{}",
                                       headers=headers)
            if response.status_code == 429:
                if not response.headers.get("retry-after"):
                    return CheckResult("rate_limit", "fail", "429 without Retry-After")
                return CheckResult("rate_limit", "pass",
                                   f"429 after {n} requests, Retry-After "
                                   f"{response.headers['retry-after']}")
        return CheckResult("rate_limit", "fail",
                           f"no 429 after {self.rate_limit_requests} chat requests in a row")

    def no_internal_detail(self) -> CheckResult:
        for where, body in self.error_bodies:
            match = INTERNAL_DETAIL.search(body)
            if match:
                return CheckResult("no_internal_detail", "fail",
                                   f"{where} shows {match.group(0)!r}")
        return CheckResult("no_internal_detail", "pass",
                           f"{len(self.error_bodies)} error answers, none with internals")


async def run_probe(url: str, *, token: str | None = None, other_token: str | None = None,
                    rate_limit_requests: int = 40, timeout_s: float = 30.0,
                    verify_tls: bool = True) -> ProbeReport:
    """Run every check against ``url`` (the app's root) and return the report."""
    base = url.rstrip("/")
    report = ProbeReport(url=base)
    async with httpx.AsyncClient(base_url=base, timeout=timeout_s, follow_redirects=False,
                                 verify=verify_tls) as http:
        probe = _Probe(http, base, token, other_token, rate_limit_requests)
        for check in (probe.https_redirect, probe.hsts, probe.security_headers,
                      probe.unauthenticated_refused, probe.forged_principal_ignored,
                      probe.other_users_conversation, probe.bad_input_answered_4xx_json,
                      probe.ready_details_private, probe.metrics_private, probe.rate_limit):
            try:
                report.checks.append(await check())
            except httpx.HTTPError as exc:
                name = check.__name__
                report.checks.append(CheckResult(name, "fail", f"request failed: {exc!r}"))
        report.checks.append(probe.no_internal_detail())
    return report
