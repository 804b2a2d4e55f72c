"""Chat latency: what chatref adds to the model's time to first token, at 1, 20 and 100 chats.

    .venv/bin/python bench/chat_latency.py [--levels 1,20,100] [--chats-per-worker 3]

Three processes on 127.0.0.1: the fake OpenAI server (tests/fakes) streaming a fixed answer at a
fixed pace, `chatref serve` over an index of the project's own docs with that fake as its model
(OPENAI_BASE_URL), and this client. At each concurrency level N, N workers each run some chats
one after another (started staggered over one answer's duration, first chat of each not counted,
so N chats are in flight at any moment and arrivals are spread evenly):

- directly against the fake (the model's own time to first token, same client, same N);
- through chatref's POST /api/chat (retrieval, prompt, store writes, SSE relay included).

Overhead = chatref's time to first token minus the model's own, quoted at p50 and p99. Also:
relayed tokens per second (all streams), and chatref's resident memory (peak, sampled).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How does chatref answer when no model is configured?",
    "What does the router do when an endpoint is throttled?",
    "Which environment variables configure Azure OpenAI?",
    "How are documents ingested and chunked?",
    "What is stored for each conversation?",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Run:
    ttft_s: list[float] = field(default_factory=list)
    tokens: int = 0
    errors: int = 0
    wall_s: float = 0.0


async def _first_token_direct(http: httpx.AsyncClient, base: str, question: str,
                              run: Run) -> None:
    started = time.perf_counter()
    body = {"model": "gpt-4o", "stream": True,
            "messages": [{"role": "user", "content": question}]}
    first = True
    async with http.stream("POST", f"{base}/v1/chat/completions", json=body,
                           headers={"authorization": "Bearer fake"}) as response:
        if response.status_code != 200:
            run.errors += 1
            return
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            choices = chunk.get("choices") or []
            if choices and choices[0]["delta"].get("content"):
                if first:
                    run.ttft_s.append(time.perf_counter() - started)
                    first = False
                run.tokens += 1


async def _first_token_chatref(http: httpx.AsyncClient, base: str, question: str,
                               run: Run) -> None:
    started = time.perf_counter()
    body = {"messages": [{"role": "user", "content": question}]}
    first = True
    event = ""
    async with http.stream("POST", f"{base}/api/chat", json=body) as response:
        if response.status_code != 200:
            run.errors += 1
            return
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                if event == "delta":
                    if first:
                        run.ttft_s.append(time.perf_counter() - started)
                        first = False
                    run.tokens += 1
                elif event == "error":
                    run.errors += 1


async def measure(target: str, base: str, workers: int, chats_per_worker: int,
                  answer_s: float) -> Run:
    """``workers`` chats in flight at all times, arrivals spread evenly.

    Worker i starts at i/N of one answer's duration (answers all take the same time, so
    workers started together would stay in lockstep: a burst of N requests every answer).
    Each worker's first chat opens its connections and is not counted.
    """
    run = Run()
    call = _first_token_direct if target == "model" else _first_token_chatref
    limits = httpx.Limits(max_connections=workers + 10, max_keepalive_connections=workers + 10)
    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        async def worker(number: int) -> None:
            await asyncio.sleep(answer_s * number / workers)
            for chat in range(chats_per_worker + 1):
                record = run if chat else Run()
                try:
                    await call(http, base, QUESTIONS[(number + chat) % len(QUESTIONS)], record)
                except httpx.HTTPError:
                    record.errors += 1
                    run.errors += 0 if chat else 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(workers)))
        run.wall_s = time.perf_counter() - started
    return run


def wait_http(url: str, process: subprocess.Popen[bytes], deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer in {deadline_s}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1,20,100")
    parser.add_argument("--chats-per-worker", type=int, default=3)
    parser.add_argument("--min-chats", type=int, default=30,
                        help="at low concurrency, more chats per worker to reach this many")
    parser.add_argument("--tokens-per-s", type=float, default=50.0, help="the fake's pace")
    parser.add_argument("--answer-words", type=int, default=60)
    parser.add_argument("--workers", type=int, default=1, help="chatref serve --workers")
    parser.add_argument("--profile", type=Path, default=None,
                        help="run chatref under cProfile and write its stats here")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    answer = " ".join(f"word{n}" for n in range(args.answer_words - 1)) + " [1]."
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        fake_port, chatref_port = free_port(), free_port()
        fake = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.openai_server", "--port", str(fake_port),
             "--tokens-per-s", str(args.tokens_per_s), "--answer", answer],
            cwd=REPO, stdout=subprocess.DEVNULL)
        env = {**os.environ, "CHATREF_DATA_DIR": str(Path(tmp) / "data"),
               "OPENAI_BASE_URL": f"http://127.0.0.1:{fake_port}/v1",
               "OPENAI_API_KEY": "fake", "OPENAI_MODEL": "gpt-4o"}
        sources = [p for p in (REPO / "docs", REPO / "README.md") if p.exists()]
        subprocess.run([str(bin_dir / "chatref"), "ingest", "--json", *map(str, sources)],
                       env=env, check=True, stdout=subprocess.DEVNULL, cwd=REPO)
        command = [str(bin_dir / "chatref"), "serve", "--port", str(chatref_port),
                   "--log-level", "warning", "--workers", str(args.workers)]
        if args.profile:
            command = [sys.executable, "-m", "cProfile", "-o", str(args.profile.resolve()),
                       *command]
        server = subprocess.Popen(command, env=env, cwd=REPO, stderr=subprocess.DEVNULL)
        try:
            fake_base = f"http://127.0.0.1:{fake_port}"
            chatref_base = f"http://127.0.0.1:{chatref_port}"
            wait_http(f"{fake_base}/_fake/health", fake)
            wait_http(f"{chatref_base}/health/ready", server)
            chunks = httpx.get(f"{chatref_base}/health/ready").json()["checks"]["index"]
            process = psutil.Process(server.pid)

            def rss() -> int:
                """The server's resident memory, its worker processes included."""
                total = process.memory_info().rss
                for child in process.children(recursive=True):
                    try:
                        total += child.memory_info().rss
                    except psutil.NoSuchProcess:
                        pass
                return total

            rss_peak = [rss()]
            print(f"index: {chunks['detail']['chunks']} chunks; answer: {args.answer_words} "
                  f"tokens at {args.tokens_per_s:g} tokens/s; idle RSS "
                  f"{rss_peak[0] / 2**20:.0f} MiB")

            async def sample_rss(stop: asyncio.Event) -> None:
                while not stop.is_set():
                    rss_peak[0] = max(rss_peak[0], rss())
                    await asyncio.sleep(0.05)

            def server_metrics() -> dict[str, float]:
                """chatref's own counters: model attempts by outcome, in-flow TTFT sum/count."""
                wanted = ("chatref_llm_requests_total",
                          "chatref_chat_time_to_first_token_seconds_sum",
                          "chatref_chat_time_to_first_token_seconds_count")
                found: dict[str, float] = {}
                for line in httpx.get(f"{chatref_base}/metrics").text.splitlines():
                    if line.startswith(wanted):
                        name, value = line.rsplit(" ", 1)
                        found[name] = float(value)
                return found

            async def level(n: int) -> tuple[Run, Run]:
                stop = asyncio.Event()
                sampler = asyncio.create_task(sample_rss(stop))
                answer_s = args.answer_words / args.tokens_per_s
                per_worker = max(args.chats_per_worker, -(-args.min_chats // n))
                model = await measure("model", fake_base, n, per_worker, answer_s)
                through = await measure("chatref", chatref_base, n, per_worker, answer_s)
                stop.set()
                await sampler
                return model, through

            rows = []
            for n in levels:
                rss_peak[0] = rss()
                before = server_metrics()
                model, through = asyncio.run(level(n))
                after = server_metrics()
                delta = {k: v - before.get(k, 0.0) for k, v in after.items()
                         if v - before.get(k, 0.0)}
                ms = [(percentile(r.ttft_s, q) * 1000) for r in (model, through) for q in (50, 99)]
                row = {
                    "concurrent": n, "chats": len(through.ttft_s),
                    "model_p50_ms": ms[0], "model_p99_ms": ms[1],
                    "chatref_p50_ms": ms[2], "chatref_p99_ms": ms[3],
                    "overhead_p50_ms": ms[2] - ms[0], "overhead_p99_ms": ms[3] - ms[1],
                    "relayed_tokens_per_s": through.tokens / through.wall_s,
                    "model_tokens_per_s": model.tokens / model.wall_s,
                    "errors": model.errors + through.errors,
                    "rss_peak_mib": rss_peak[0] / 2**20,
                    "chatref_median_ttft_ms": statistics.median(through.ttft_s) * 1000,
                    "server_side": delta,
                }
                rows.append(row)
                print(json.dumps({k: round(v, 1) if isinstance(v, float) else v
                                  for k, v in row.items()}), flush=True)
        finally:
            # SIGINT: uvicorn shuts down, then cProfile (with --profile) still writes its stats
            server.send_signal(signal.SIGINT)
            fake.terminate()
            server.wait(timeout=20)
            fake.wait(timeout=20)
    print()
    print("| concurrent chats | chats | model TTFT p50 / p99 (ms) | through chatref p50 / p99 "
          "(ms) | overhead p50 / p99 (ms) | relayed tokens/s | errors | chatref RSS peak (MiB) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['concurrent']} | {r['chats']} | {r['model_p50_ms']:.1f} / "
              f"{r['model_p99_ms']:.1f} | {r['chatref_p50_ms']:.1f} / {r['chatref_p99_ms']:.1f} | "
              f"{r['overhead_p50_ms']:.1f} / {r['overhead_p99_ms']:.1f} | "
              f"{r['relayed_tokens_per_s']:.0f} | {r['errors']} | {r['rss_peak_mib']:.0f} |")


if __name__ == "__main__":
    main()
