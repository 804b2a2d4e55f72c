"""podman, as these machines need it (runc, cgroupfs, rlimits it may not raise; DESIGN.md),
for the container test and bench/container_start.py. Builds the image with the same script as
`make image`, under a tag of the caller's so that concurrent runs never share one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"]
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def podman_unavailable() -> str | None:
    """Why podman cannot run containers here, or None when it can."""
    if shutil.which("podman") is None or shutil.which("runc") is None:
        return ("podman and runc are not installed (make test installs them on Debian with "
                "scripts/install-podman.sh)")
    probe = subprocess.run([*PODMAN, "info", "--format", "json"], capture_output=True,
                           text=True, timeout=60)
    if probe.returncode != 0:
        return f"podman cannot run here: {probe.stderr.strip()[:300]}"
    return None


def podman(*args: str, timeout_s: float = 120, check: bool = True) -> str:
    done = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout_s)
    if check and done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)} failed ({done.returncode}): "
                           f"{done.stderr.strip()[-2000:]}")
    return done.stdout


def build_image(tag: str, build: str | None = None) -> None:
    """`make image` under another tag (base and dependency layers come from the cache), named
    ``build`` (CHATREF_BUILD) if given, else after the checkout's commit."""
    env = {**os.environ, "PYTHON": sys.executable}
    if build is not None:
        env["CHATREF_BUILD"] = build
    done = subprocess.run(["bash", "scripts/image.sh", tag], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"scripts/image.sh failed ({done.returncode}):\n"
                           f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def image_size_bytes(tag: str) -> int:
    return int(json.loads(podman("image", "inspect", tag))[0]["Size"])


@dataclass
class Container:
    name: str
    url: str

    def logs(self) -> str:
        """The container's stdout and stderr (uvicorn and our start-up lines go to stderr)."""
        done = subprocess.run([*PODMAN, "logs", self.name], capture_output=True, text=True,
                              timeout=60)
        return done.stdout + done.stderr

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*PODMAN, "exec", self.name, *command], capture_output=True,
                              text=True, timeout=60)

    def wait_ready(self, timeout_s: float = 120.0) -> float:
        """Poll /health/ready until 200; the seconds it took. Raises with the logs if not."""
        started = time.perf_counter()
        last = "no answer"
        while time.perf_counter() - started < timeout_s:
            try:
                response = httpx.get(f"{self.url}/health/ready", timeout=2.0)
                if response.status_code == 200:
                    return time.perf_counter() - started
                last = f"HTTP {response.status_code}: {response.text[:300]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            state = podman("inspect", "--format", "{{.State.Status}}", self.name, check=False)
            if state.strip() not in ("running", "created", "configured", ""):
                break
            time.sleep(0.05)
        raise AssertionError(f"{self.name} not ready ({last}); logs:\n{self.logs()[-4000:]}")


@contextmanager
def running(tag: str, port: int, env: dict[str, str] | None = None) -> Iterator[Container]:
    """The image started as documented: host network (local mode listens on loopback),
    read-only root file system, a fresh named data volume; removed afterwards."""
    name = f"chatref-test-{uuid.uuid4().hex[:10]}"
    volume = f"{name}-data"
    podman("volume", "create", volume)
    # --no-healthcheck: podman runs HEALTHCHECKs with systemd timers, and there is no systemd
    args = ["run", "--detach", "--name", name, *ULIMITS, "--no-healthcheck",
            "--network", "host", "--read-only",
            "--volume", f"{volume}:/home/chatref/data", "--env", f"PORT={port}"]
    for key, value in (env or {}).items():
        args += ["--env", f"{key}={value}"]
    try:
        podman(*args, tag)
        yield Container(name=name, url=f"http://127.0.0.1:{port}")
    finally:
        podman("rm", "--force", "--time", "2", name, check=False, timeout_s=60)
        podman("volume", "rm", "--force", volume, check=False)
