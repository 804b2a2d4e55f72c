"""Added latency of bearer-token validation with a warm key cache (goal: p99 under 1 ms).

    .venv/bin/python bench/auth_latency.py [--requests 5000] [--json]

The fake Entra tenant (tests/fakes/identity_provider.py, real HTTP on 127.0.0.1) publishes a
2048-bit RSA key and signs 200 distinct RS256 access tokens. The key set is fetched once before
timing (warm cache), then, one call at a time:

- ``validate``: ``TokenValidator.validate(token)`` alone (PyJWT: header, RS256 signature,
  iss/aud/exp/nbf, then tid/oid/roles);
- ``middleware``: one request through ``AuthMiddleware`` in token mode to a minimal ASGI app,
  minus the same request with the middleware in local mode (no validation): what a request pays.

Quoted: p50 and p99 in microseconds, wall time and (``validate_cpu_us``) this thread's CPU
time, which a busy shared machine does not inflate by preempting us; and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from starlette.types import Receive, Scope, Send  # noqa: E402

from chatref.identity.config import IdentityConfig, audiences  # noqa: E402
from chatref.identity.tokens import TokenValidator  # noqa: E402
from chatref.web.auth import AuthMiddleware  # noqa: E402
from tests.fakes.identity_provider import APP_ID_URI, IdentityProvider  # noqa: E402


async def ok_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def request(app: AuthMiddleware, token: str) -> None:
    scope: Scope = {"type": "http", "method": "GET", "path": "/api/conversations",
                    "headers": [(b"authorization", f"Bearer {token}".encode()),
                                (b"host", b"localhost")], "client": ("127.0.0.1", 5000)}

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, object]) -> None:
        return None

    await app(scope, receive, send)  # type: ignore[arg-type]


async def run(requests: int) -> dict[str, object]:
    with IdentityProvider() as idp:
        tokens = [idp.issue(f"user-{n}", roles=["Chat.User"]) for n in range(200)]
        validator = TokenValidator(openid_config_url=idp.metadata_url, tenant_id=idp.tenant_id,
                                   audiences=audiences(APP_ID_URI))
        hosts = frozenset({"localhost"})
        token_app = AuthMiddleware(ok_app, config=IdentityConfig(
            mode="token", allowed_hosts=hosts, operator_role="Chat.Operator"),
            validator=validator)
        local_app = AuthMiddleware(ok_app, config=IdentityConfig(
            mode="local", allowed_hosts=hosts, operator_role="Chat.Operator"))
        await validator.validate(tokens[0])  # warm the key cache
        validate_us, validate_cpu_us, token_us, local_us = [], [], [], []
        for n in range(requests):
            token = tokens[n % len(tokens)]
            start, start_cpu = time.perf_counter(), time.thread_time()
            await validator.validate(token)
            validate_us.append((time.perf_counter() - start) * 1e6)
            validate_cpu_us.append((time.thread_time() - start_cpu) * 1e6)
            start = time.perf_counter()
            await request(token_app, token)
            token_us.append((time.perf_counter() - start) * 1e6)
            start = time.perf_counter()
            await request(local_app, token)
            local_us.append((time.perf_counter() - start) * 1e6)
        assert idp.key_requests == 1, "the key cache was not warm"
        await validator.aclose()
    added = [t - local for t, local in zip(token_us, local_us, strict=True)]
    return {
        "requests": requests,
        "validate_us": {"p50": round(statistics.median(validate_us), 1),
                        "p99": round(percentile(validate_us, 0.99), 1)},
        "validate_cpu_us": {"p50": round(statistics.median(validate_cpu_us), 1),
                            "p99": round(percentile(validate_cpu_us, 0.99), 1)},
        "middleware_added_us": {"p50": round(statistics.median(added), 1),
                                "p99": round(percentile(added, 0.99), 1)},
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.requests))
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['requests']} validations, warm key cache, load average "
          f"{result['load_average']} on {result['cpus']} CPUs")
    for name in ("validate_us", "validate_cpu_us", "middleware_added_us"):
        figures = result[name]
        assert isinstance(figures, dict)
        print(f"  {name:22} p50 {figures['p50']:8.1f} us   p99 {figures['p99']:8.1f} us")


if __name__ == "__main__":
    main()
