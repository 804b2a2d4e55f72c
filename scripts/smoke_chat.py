"""Smoke test of a deployed chatref: wait until it is ready, ask one question, check the answer.

    python scripts/smoke_chat.py https://chatref-staging.example [--token-env CHATREF_TOKEN]
        [--wait-ready 600] [--expect-build COMMIT] [--question "How do I run chatref locally?"]

Passes (exit 0) when ``/health/ready`` answers 200 within ``--wait-ready`` seconds and one
``POST /api/chat`` streams text, a non-empty ``citations`` event and ``done``, with no ``error``
event. With ``--expect-build`` the 200 must come from that build, as the answer's ``build``
field says (CHATREF_BUILD; shown to the operator role only): while a slot's old container still
answers, the script waits for the new one instead of testing the old. Anything else exits 1
with one line saying what failed. The bearer token, if any, is read from the environment
variable named by ``--token-env`` (never from the command line, which other processes on the
runner can read). The release workflow runs it against staging and production.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import httpx


class SmokeFailure(Exception):
    """What failed, in one line."""


def wait_ready(client: httpx.Client, timeout_s: float, build: str | None = None) -> None:
    """Until /health/ready answers 200 (from ``build``, if given) or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    while True:
        try:
            response = client.get("/health/ready", timeout=10.0)
            if response.status_code == 200:
                if build is None:
                    return
                answering = _answering_build(response)
                if answering == build:
                    return
                last = f"ready, but build {answering} answers"
            else:
                last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            what = "/health/ready" if build is None else f"/health/ready of build {build}"
            raise SmokeFailure(f"{what} not ready after {timeout_s:.0f} s (last: {last})")
        time.sleep(5.0 if timeout_s > 30 else 0.2)


def _answering_build(response: httpx.Response) -> str:
    """The build a ready answer names; without the details (no operator role) it cannot tell."""
    try:
        body = response.json()
    except ValueError as exc:
        raise SmokeFailure(f"/health/ready answered 200 without JSON ({exc})") from exc
    if not isinstance(body, dict) or not body.get("checks"):
        raise SmokeFailure("/health/ready hides its details, build included: --expect-build "
                           "needs a token with the operator role (CHATREF_AUTH_OPERATOR_ROLE)")
    return str(body.get("build") or "unnamed (a release before builds were named)")


def ask(client: httpx.Client, question: str) -> dict[str, object]:
    """One chat turn; the parsed events (``text`` holds the joined deltas)."""
    events: dict[str, object] = {"text": ""}
    event = ""
    body = {"messages": [{"role": "user", "content": question}]}
    with client.stream("POST", "/api/chat", json=body, timeout=120.0) as response:
        if response.status_code != 200:
            raise SmokeFailure(f"POST /api/chat answered HTTP {response.status_code}: "
                               f"{response.read()[:300]!r}")
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                if event == "delta":
                    events["text"] = str(events["text"]) + str(data.get("text", ""))
                else:
                    events[event] = data
    return events


def check_answer(events: dict[str, object]) -> str:
    """A one-line summary of a good answer, or SmokeFailure naming what is wrong."""
    if "error" in events:
        raise SmokeFailure(f"the chat stream ended with an error event: {events['error']}")
    if "done" not in events:
        raise SmokeFailure("the chat stream ended without a done event")
    if not str(events["text"]).strip():
        raise SmokeFailure("the answer has no text")
    citations = events.get("citations")
    if not isinstance(citations, list) or not citations:
        raise SmokeFailure("the answer cites no source (is the index empty?)")
    done = events["done"]
    mode = done.get("mode") if isinstance(done, dict) else None
    return f"answered ({mode}) with {len(citations)} citation(s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="base URL of the deployment")
    parser.add_argument("--token-env", default=None,
                        help="environment variable holding a bearer token")
    parser.add_argument("--wait-ready", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long for /health/ready (default: ask at once)")
    parser.add_argument("--expect-build", default=None, metavar="COMMIT",
                        help="wait until /health/ready names this build (CHATREF_BUILD)")
    parser.add_argument("--question", default="How do I run chatref locally?")
    args = parser.parse_args(argv)

    headers = {}
    if args.token_env:
        token = os.environ.get(args.token_env)
        if not token:
            print(f"smoke: FAILED: the environment variable {args.token_env} is empty",
                  file=sys.stderr)
            return 1
        headers["Authorization"] = f"Bearer {token}"
    try:
        with httpx.Client(base_url=args.url.rstrip("/"), headers=headers) as client:
            if args.wait_ready or args.expect_build:
                wait_ready(client, args.wait_ready, args.expect_build)
            summary = check_answer(ask(client, args.question))
    except (SmokeFailure, httpx.HTTPError) as exc:
        print(f"smoke: FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"smoke: ok: {args.url} {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
