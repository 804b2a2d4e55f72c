"""`make loadtest` in small: Locust for 15 s against a local chatref with the fake model, a
verdict file of the promised shape, and an impossible SLO judged `fail`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT

RUN = str(REPO_ROOT / "loadtest" / "run.py")
pytestmark = pytest.mark.timeout(600)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, RUN, *args], capture_output=True, text=True,
                          timeout=540, cwd=REPO_ROOT)


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], int]:
    base = tmp_path_factory.mktemp("loadtest")
    docs = base / "docs"
    docs.mkdir()
    (docs / "running.md").write_text(
        "# Running chatref\n\nRun `make run` to install, index the docs and serve the chat on "
        "127.0.0.1:8000. With no model configured chatref answers extractively.\n",
        encoding="utf-8")
    out = base / "out"
    done = _run("--run-time", "15", "--users", "4", "--spawn-rate", "4", "--out", str(out),
                "--docs", str(docs))
    assert done.returncode in (0, 1), done.stdout + done.stderr
    judged = json.loads((out / "slo.json").read_text(encoding="utf-8"))
    return out, judged, done.returncode


def test_short_run_writes_report_and_verdict(short_run: tuple[Path, dict[str, Any], int]) -> None:
    out, judged, status = short_run
    assert judged["verdict"] in ("pass", "fail")
    assert status == (0 if judged["verdict"] == "pass" else 1)
    assert (out / "report.html").stat().st_size > 10_000
    assert set(judged["ttft_s"]) == {"p50", "p95", "p99"}
    assert judged["chats_ok"] >= 1 and judged["chats"] >= judged["chats_ok"]
    assert all(isinstance(judged["ttft_s"][p], float) for p in ("p50", "p95", "p99"))
    assert judged["ttft_s"]["p50"] <= judged["ttft_s"]["p95"] <= judged["ttft_s"]["p99"]
    assert judged["tokens_per_s"] > 0 and judged["completion_tokens"] > 0
    assert judged["error_rate"] == 0.0, judged
    assert judged["failovers"] == 0  # read from the local server's /metrics, healthy regions
    assert {c["slo"] for c in judged["checks"]} >= {"ttft_p95_s", "error_rate_max"}
    for check in judged["checks"]:
        assert set(check) >= {"slo", "metric", "objective", "value", "passed"}


def test_an_impossible_slo_is_judged_fail(
        short_run: tuple[Path, dict[str, Any], int], tmp_path: Path) -> None:
    out, _, _ = short_run
    impossible = tmp_path / "impossible.toml"
    impossible.write_text("[slo]\nttft_p50_s = 0.000001\nerror_rate_max = 1.0\n",
                          encoding="utf-8")
    done = _run("verdict", "--samples", str(out / "samples.json"), "--slo", str(impossible))
    assert done.returncode == 1, done.stdout + done.stderr
    judged = json.loads(done.stdout)
    assert judged["verdict"] == "fail"
    failed = [c["slo"] for c in judged["checks"] if not c["passed"]]
    assert failed == ["ttft_p50_s"]


def test_a_generous_slo_passes_the_same_samples(
        short_run: tuple[Path, dict[str, Any], int], tmp_path: Path) -> None:
    out, _, _ = short_run
    generous = tmp_path / "generous.toml"
    generous.write_text("[slo]\nttft_p99_s = 600\nerror_rate_max = 0.5\n", encoding="utf-8")
    done = _run("verdict", "--samples", str(out / "samples.json"), "--slo", str(generous))
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["verdict"] == "pass"


def test_an_unknown_slo_key_is_an_error_naming_it(
        short_run: tuple[Path, dict[str, Any], int], tmp_path: Path) -> None:
    out, _, _ = short_run
    typo = tmp_path / "typo.toml"
    typo.write_text("[slo]\nttft_p59_s = 1\n", encoding="utf-8")
    done = _run("verdict", "--samples", str(out / "samples.json"), "--slo", str(typo))
    assert done.returncode == 2 and "ttft_p59_s" in done.stderr


def test_a_streams_rate_counts_only_the_tokens_it_showed(
        short_run: tuple[Path, dict[str, Any], int], tmp_path: Path) -> None:
    out, _, _ = short_run
    recorded = json.loads((out / "samples.json").read_text(encoding="utf-8"))
    # The local fakes are reasoning deployments: each answer spends hidden tokens first.
    assert all(c["reasoning_tokens"] > 0 for c in recorded["chats"] if c["ok"])
    one_chat = {**recorded, "chats": [{"ttft_s": 0.5, "total_s": 2.0, "completion_tokens": 124,
                                       "reasoning_tokens": 64, "ok": True}]}
    samples = tmp_path / "samples.json"
    samples.write_text(json.dumps(one_chat), encoding="utf-8")
    slo = tmp_path / "slo.toml"
    slo.write_text("[slo]\nstream_tokens_per_s_p50_min = 1\n", encoding="utf-8")
    done = _run("verdict", "--samples", str(samples), "--slo", str(slo))
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["stream_tokens_per_s"]["p50"] == 40.0  # 60 shown in 1.5 s
