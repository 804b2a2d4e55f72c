"""Load test of the chat API: people asking questions, following up, browsing their history.

    .venv/bin/locust -f loadtest/locustfile.py --host http://127.0.0.1:8000 \\
        --headless -u 50 -r 10 -t 2m

Point it at a `chatref serve` (with a model: the fake in tests/fakes, or a real deployment you
are allowed to load); `make loadtest` (loadtest/run.py) starts one with a fake model and gives a
verdict against loadtest/slo.toml. Besides the usual per-request rows, two extra rows are
reported: ``chat TTFT`` (time to the first streamed ``delta`` event) and ``chat stream`` (the
whole answer). Failures: any HTTP error, an ``error`` event, or a stream that ends without
``done``. With ``--samples-out FILE`` every chat's TTFT, duration and completion tokens (with
the hidden reasoning tokens among them) are written to FILE as JSON when the test stops
(loadtest/run.py computes the SLO figures from them).
With ``--bearer-token-env NAME`` each request carries ``Authorization: Bearer $NAME``.
"""

from __future__ import annotations

import json
import os
import random
import time
from argparse import ArgumentParser
from typing import Any

from locust import HttpUser, between, events, task
from locust.env import Environment

SAMPLES: list[dict[str, Any]] = []  # per chat: ttft_s, total_s, completion/reasoning tokens, ok
STARTED_AT: list[float] = []

QUESTIONS = [
    "How does chatref answer when no model is configured?",
    "What happens when every model endpoint is down?",
    "Which environment variables configure Azure OpenAI?",
    "How are documents ingested and chunked?",
    "What is stored for each conversation?",
    "How do I run chatref locally?",
]
FOLLOW_UPS = ["Can you give more detail?", "Where is that documented?", "Why is that?"]


@events.init_command_line_parser.add_listener
def _options(parser: ArgumentParser) -> None:
    parser.add_argument("--samples-out", default="", help="write per-chat samples (JSON) here")
    parser.add_argument("--bearer-token-env", default="",
                        help="environment variable holding a bearer token for every request")


@events.test_start.add_listener
def _started(environment: Environment, **_: Any) -> None:
    SAMPLES.clear()
    STARTED_AT[:] = [time.time()]


@events.test_stop.add_listener
def _write_samples(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    path = getattr(options, "samples_out", "") if options else ""
    if not path:
        return
    other = [entry for (name, method), entry in environment.stats.entries.items()
             if method != "SSE"]
    summary = {
        "started_at": STARTED_AT[0] if STARTED_AT else None,
        "stopped_at": time.time(),
        "users": getattr(options, "num_users", None),
        "host": environment.host,
        "chats": SAMPLES,
        "requests": sum(e.num_requests for e in other),
        "request_failures": sum(e.num_failures for e in other),
    }
    with open(path, "w", encoding="utf-8") as out:
        json.dump(summary, out)


class ChatUser(HttpUser):
    wait_time = between(1, 5)  # reading the answer before asking again

    def on_start(self) -> None:
        self.conversation_id: str | None = None
        options = self.environment.parsed_options
        token_env = getattr(options, "bearer_token_env", "") if options else ""
        if token_env:
            self.client.headers["Authorization"] = f"Bearer {os.environ[token_env]}"

    def _chat(self, question: str, conversation_id: str | None) -> str | None:
        body: dict[str, Any] = {"messages": [{"role": "user", "content": question}]}
        if conversation_id:
            body["conversation_id"] = conversation_id
        started = time.perf_counter()
        first_token_s: float | None = None
        new_id: str | None = None
        done = False
        failure: str | None = None
        completion_tokens: int | None = None
        reasoning_tokens = 0
        with self.client.post("/api/chat", json=body, stream=True, name="/api/chat",
                              catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                SAMPLES.append({"ttft_s": None, "total_s": time.perf_counter() - started,
                                "completion_tokens": None, "reasoning_tokens": 0, "ok": False})
                return None
            event = ""
            # chunk_size=None: lines as they arrive (the default 512-byte reads would delay TTFT)
            for line in response.iter_lines(chunk_size=None, decode_unicode=True):
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                    if event == "conversation":
                        new_id = data["id"]
                    elif event == "delta" and first_token_s is None:
                        first_token_s = time.perf_counter() - started
                    elif event == "done":
                        done = True
                        usage = data.get("usage", {})
                        completion_tokens = usage.get("completion_tokens")
                        details = usage.get("completion_tokens_details") or {}
                        reasoning_tokens = details.get("reasoning_tokens") or 0
                    elif event == "error":
                        failure = f"{data['code']}: {data['message']}"
            if failure or not done:
                response.failure(failure or "the stream ended without a done event")
            else:
                response.success()
        total_s = time.perf_counter() - started
        SAMPLES.append({"ttft_s": first_token_s, "total_s": total_s,
                        "completion_tokens": completion_tokens,
                        "reasoning_tokens": reasoning_tokens, "ok": done and not failure})
        fire = self.environment.events.request.fire
        if first_token_s is not None:
            fire(request_type="SSE", name="chat TTFT", response_time=first_token_s * 1000,
                 response_length=0, exception=None, context={})
        fire(request_type="SSE", name="chat stream", response_time=total_s * 1000,
             response_length=0, exception=None if done else RuntimeError(failure), context={})
        return new_id

    @task(6)
    def ask_new_question(self) -> None:
        self.conversation_id = self._chat(random.choice(QUESTIONS), None)

    @task(3)
    def follow_up(self) -> None:
        if self.conversation_id is None:
            return self.ask_new_question()
        self._chat(random.choice(FOLLOW_UPS), self.conversation_id)
        return None

    @task(1)
    def browse_history(self) -> None:
        listed = self.client.get("/api/conversations", name="/api/conversations").json()
        if listed["conversations"]:
            conversation = random.choice(listed["conversations"])
            self.client.get(f"/api/conversations/{conversation['id']}",
                            name="/api/conversations/{id}")
