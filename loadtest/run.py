"""`make loadtest`: Locust, headless and bounded, with a verdict against loadtest/slo.toml.

    .venv/bin/python loadtest/run.py [--users 20] [--spawn-rate 5] [--run-time 60]
        [--host https://chatref.example --token-env CHATREF_TOKEN] [--slo loadtest/slo.toml]
        [--out loadtest/out]
    .venv/bin/python loadtest/run.py verdict --samples loadtest/out/samples.json --slo OTHER.toml

Without ``--host`` it stands up everything on 127.0.0.1: two fake Azure OpenAI regions
(tests/fakes/openai_server.py), reasoning deployments named ``chat`` as Terraform deploys,
streaming a 61-token answer at a realistic pace (first token after 0.4 s, then 40 tokens/s) and
answering a follow-up's rewrite request with a 12-word question; an index of the bundled
docs; and ``chatref serve`` with the router over both regions and per-user limits lifted (every
Locust user is the same local user). With ``--host`` it loads that deployment instead (only one
you are allowed to load).

Writes to ``--out``: ``report.html`` (Locust's), ``samples.json`` (per-chat TTFT, duration,
tokens) and ``slo.json``: TTFT p50/p95/p99, tokens/s (aggregate, and per stream), error rate,
failovers (from /metrics; null where it is not readable), each SLO check with its value, and a
top-level ``verdict`` of ``pass`` or ``fail``. Exit status 0 on pass, 1 on fail, 2 when the run
itself could not happen.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ANSWER = (
    "chatref answers from the documents it has indexed, and every claim carries the number of "
    "the passage it comes from [1]. When no model is configured, or every endpoint is down, it "
    "quotes the best passages instead, with the same citations [2]. Conversations are stored "
    "per user, and the router fails over between regions when one is throttled or down [1]."
)
# A follow-up's standalone rewrite: a dozen tokens, not a whole answer.
REWRITE = "How does chatref fail over between regions when one region is throttled?"
FIRST_TOKEN_DELAY_S = 0.4
TOKENS_PER_S = 40.0

# slo.toml key -> (metric in slo.json, comparison)
CHECKS: dict[str, tuple[str, str]] = {
    "ttft_p50_s": ("ttft_s.p50", "<="),
    "ttft_p95_s": ("ttft_s.p95", "<="),
    "ttft_p99_s": ("ttft_s.p99", "<="),
    "error_rate_max": ("error_rate", "<="),
    "stream_tokens_per_s_p50_min": ("stream_tokens_per_s.p50", ">="),
    "tokens_per_s_min": ("tokens_per_s", ">="),
    "failovers_max": ("failovers", "<="),
}


class RunError(Exception):
    """The load test could not run (as opposed to: it ran and failed its SLOs)."""


# --- figures and verdict ----------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def figures(samples: dict[str, Any], failovers: int | None) -> dict[str, Any]:
    chats = samples["chats"]
    ttfts = [c["ttft_s"] for c in chats if c["ok"] and c["ttft_s"] is not None]
    # A stream's rate counts the tokens it showed: a reasoning model's hidden tokens are part
    # of completion_tokens but are spent before the first visible one.
    streams = [_visible(c) / (c["total_s"] - c["ttft_s"]) for c in chats
               if c["ok"] and _visible(c) and c["ttft_s"] is not None
               and c["total_s"] > c["ttft_s"]]
    tokens = sum(c["completion_tokens"] or 0 for c in chats if c["ok"])
    duration_s = max(1e-9, (samples["stopped_at"] or 0) - (samples["started_at"] or 0))
    requests = samples["requests"]
    return {
        "host": samples["host"],
        "users": samples["users"],
        "duration_s": round(duration_s, 1),
        "chats": len(chats),
        "chats_ok": sum(1 for c in chats if c["ok"]),
        "requests": requests,
        "request_failures": samples["request_failures"],
        "error_rate": round(samples["request_failures"] / requests, 4) if requests else None,
        "ttft_s": {f"p{q}": _round(percentile(ttfts, q)) for q in (50, 95, 99)},
        "tokens_per_s": round(tokens / duration_s, 1),
        "stream_tokens_per_s": {"p50": _round(percentile(streams, 50), 1)},
        "completion_tokens": tokens,
        "failovers": failovers,
    }


def _visible(chat: dict[str, Any]) -> int:
    return int(chat["completion_tokens"] or 0) - int(chat.get("reasoning_tokens") or 0)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _lookup(data: dict[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def load_slo(path: Path) -> dict[str, float]:
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("slo", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RunError(f"{path}: {exc}") from exc
    unknown = sorted(set(table) - set(CHECKS))
    if unknown:
        raise RunError(f"{path}: unknown SLO keys {unknown}; known: {sorted(CHECKS)}")
    if not table:
        raise RunError(f"{path}: no [slo] objectives")
    return {key: float(value) for key, value in table.items()}


def verdict(result: dict[str, Any], slo: dict[str, float]) -> dict[str, Any]:
    """``result`` plus ``checks`` and ``verdict``. A metric that could not be measured fails
    its check, except failovers against a deployment whose /metrics is not readable."""
    checks = []
    for key, objective in slo.items():
        metric, op = CHECKS[key]
        value = _lookup(result, metric)
        if value is None and metric == "failovers":
            passed, note = True, "not measured (/metrics not readable)"
        elif value is None:
            passed, note = False, "no data"
        else:
            passed = value <= objective if op == "<=" else value >= objective
            note = ""
        checks.append({"slo": key, "metric": metric, "objective": f"{op} {objective:g}",
                       "value": value, "passed": passed, **({"note": note} if note else {})})
    if result["chats_ok"] == 0:
        checks.append({"slo": "answers", "metric": "chats_ok", "objective": ">= 1",
                       "value": 0, "passed": False})
    return {"verdict": "pass" if all(c["passed"] for c in checks) else "fail", **result,
            "checks": checks}


# --- the local target -------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RunError(f"chatref serve exited with status {process.returncode}")
        try:
            if httpx.get(f"{url}/health/ready", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RunError(f"chatref serve was not ready within {timeout_s:.0f} s")


@contextmanager
def local_target(docs: list[Path], log_path: Path) -> Iterator[str]:
    """Two fake regions, an index of ``docs`` and `chatref serve`; yields its URL."""
    sys.path.insert(0, str(ROOT))  # the tests' Azure OpenAI double, as the benchmarks use it
    from chatref.chat.prompt import REWRITE_INSTRUCTIONS
    from tests.fakes.openai_server import FakeOpenAIServer

    with tempfile.TemporaryDirectory(prefix="chatref-loadtest-") as data_dir, \
            FakeOpenAIServer(answer=ANSWER, tokens_per_s=TOKENS_PER_S,
                             model_family="reasoning") as primary, \
            FakeOpenAIServer(answer=ANSWER, tokens_per_s=TOKENS_PER_S,
                             model_family="reasoning") as secondary:
        for region in (primary, secondary):
            region.set_default(first_token_delay_s=FIRST_TOKEN_DELAY_S,
                               answers_by_system={REWRITE_INSTRUCTIONS: REWRITE})
        endpoints = [
            {"name": "primary", "endpoint": primary.url, "deployment": "chat",
             "model_family": "reasoning",
             "api_key": "loadtest-fake-key", "priority": 1},
            {"name": "secondary", "endpoint": secondary.url, "deployment": "chat",
             "model_family": "reasoning",
             "api_key": "loadtest-fake-key", "priority": 2},
        ]
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("CHATREF_", "AZURE_", "OPENAI_", "APPLICATIONINSIGHTS_"))}
        env.update({
            "CHATREF_DATA_DIR": data_dir,
            "CHATREF_LLM_ENDPOINTS": json.dumps(endpoints),
            # every Locust user is the one local user: per-user limits would measure themselves
            "CHATREF_RATE_LIMIT_PER_MINUTE": "1000000",
            "CHATREF_MAX_CONCURRENT_STREAMS": "10000",
        })
        ingest = subprocess.run([str(BIN / "chatref"), "ingest", "--json", *map(str, docs)],
                                env=env, capture_output=True, text=True, timeout=600)
        if ingest.returncode not in (0, 1):  # 1: some file failed, the rest is indexed
            raise RunError(f"chatref ingest failed: {ingest.stderr.strip()[-500:]}")
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [str(BIN / "chatref"), "serve", "--port", str(port), "--log-level", "warning"],
                env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                _wait_ready(url, server, timeout_s=120)
                _warm_up(url)
                yield url
            finally:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


def _warm_up(url: str) -> None:
    """One chat before the clock starts: a deployed service has its embedder loaded and its
    connections to the model open; a fresh local one would charge that to the first users."""
    body = {"messages": [{"role": "user", "content": "How do I run chatref locally?"}]}
    with httpx.stream("POST", f"{url}/api/chat", json=body, timeout=120.0) as response:
        if response.status_code != 200:
            raise RunError(f"the warm-up chat answered HTTP {response.status_code}")
        for _ in response.iter_lines():
            pass


def failovers_total(url: str, headers: dict[str, str]) -> int | None:
    """Sum of chatref_llm_failovers_total in /metrics; None when /metrics is not readable."""
    try:
        response = httpx.get(f"{url}/metrics", headers=headers, timeout=10.0)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    total = 0.0
    for line in response.text.splitlines():
        match = re.match(r"^chatref_llm_failovers_total(?:\{[^}]*\})? ([0-9.eE+-]+)$", line)
        if match:
            total += float(match.group(1))
    return int(total)


# --- running Locust ---------------------------------------------------------------------------
def run_locust(url: str, out: Path, users: int, spawn_rate: float, run_time_s: int,
               token_env: str | None) -> dict[str, Any]:
    samples_path = out / "samples.json"
    samples_path.unlink(missing_ok=True)
    command = [
        str(BIN / "locust"), "-f", str(ROOT / "loadtest" / "locustfile.py"), "--headless",
        "--host", url, "-u", str(users), "-r", str(spawn_rate), "-t", f"{run_time_s}s",
        "--stop-timeout", "30", "--html", str(out / "report.html"), "--only-summary",
        "--exit-code-on-error", "0", "--loglevel", "WARNING", "--samples-out", str(samples_path),
    ]
    if token_env:
        command += ["--bearer-token-env", token_env]
    done = subprocess.run(command, capture_output=True, text=True,
                          timeout=run_time_s + 180)
    (out / "locust.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0 or not samples_path.is_file():
        raise RunError(f"locust failed (status {done.returncode}); see {out / 'locust.log'}")
    samples: dict[str, Any] = json.loads(samples_path.read_text(encoding="utf-8"))
    return samples


def run(args: argparse.Namespace) -> dict[str, Any]:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    slo = load_slo(args.slo)
    headers = {}
    if args.token_env:
        headers["Authorization"] = f"Bearer {os.environ[args.token_env]}"

    def measure(url: str) -> dict[str, Any]:
        before = failovers_total(url, headers)
        samples = run_locust(url, out, args.users, args.spawn_rate, args.run_time,
                             args.token_env)
        after = failovers_total(url, headers)
        failovers = after - before if before is not None and after is not None else None
        return figures(samples, failovers)

    if args.host:
        result = measure(args.host.rstrip("/"))
    else:
        with local_target(args.docs, out / "chatref.log") as url:
            result = measure(url)
        result["target"] = ("local: chatref serve, 2 fake regions, first token "
                            f"{FIRST_TOKEN_DELAY_S} s then {TOKENS_PER_S:g} tokens/s")
    result["slo_file"] = str(args.slo)
    result["load_average_1m"] = round(os.getloadavg()[0], 1)
    judged = verdict(result, slo)
    (out / "slo.json").write_text(json.dumps(judged, indent=2) + "\n", encoding="utf-8")
    return judged


def print_summary(judged: dict[str, Any], out: Path | None) -> None:
    ttft = judged["ttft_s"]
    print(f"{judged['chats_ok']}/{judged['chats']} chats ok in {judged['duration_s']} s; "
          f"TTFT p50 {ttft['p50']} p95 {ttft['p95']} p99 {ttft['p99']} s; "
          f"{judged['tokens_per_s']} tokens/s; error rate {judged['error_rate']}; "
          f"failovers {judged['failovers']}")
    for check in judged["checks"]:
        mark = "ok  " if check["passed"] else "FAIL"
        print(f"  {mark} {check['slo']}: {check['value']} (objective {check['objective']})")
    where = f" ({out / 'slo.json'}, {out / 'report.html'})" if out else ""
    print(f"verdict: {judged['verdict']}{where}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["verdict"]:
        parser = argparse.ArgumentParser(prog="loadtest/run.py verdict",
                                         description="Judge saved samples against an SLO file.")
        parser.add_argument("--samples", type=Path, required=True)
        parser.add_argument("--slo", type=Path, default=ROOT / "loadtest" / "slo.toml")
        parser.add_argument("--failovers", type=int, default=None)
        args = parser.parse_args(argv[1:])
        try:
            samples = json.loads(args.samples.read_text(encoding="utf-8"))
            judged = verdict(figures(samples, args.failovers), load_slo(args.slo))
        except (OSError, ValueError, RunError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(judged, indent=2))
        return 0 if judged["verdict"] == "pass" else 1

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("LOADTEST_HOST") or None,
                        help="load this deployment instead of a local server")
    parser.add_argument("--token-env", default=None,
                        help="environment variable with a bearer token for --host")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=5.0)
    parser.add_argument("--run-time", type=int, default=60, help="seconds (bounded)")
    parser.add_argument("--slo", type=Path, default=ROOT / "loadtest" / "slo.toml")
    parser.add_argument("--out", type=Path, default=ROOT / "loadtest" / "out")
    parser.add_argument("--docs", type=Path, nargs="+",
                        default=[ROOT / "docs", ROOT / "README.md"],
                        help="what the local server indexes")
    args = parser.parse_args(argv)
    if args.run_time < 1 or args.run_time > 3600:
        parser.error("--run-time must be between 1 and 3600 seconds")
    try:
        judged = run(args)
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_summary(judged, args.out)
    return 0 if judged["verdict"] == "pass" else 1


if __name__ == "__main__":
    sys.exit(main())
