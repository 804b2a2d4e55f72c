"""Container figures: image size and cold start to ready.

Cold start = from `podman run` (fresh, empty data volume; read-only root; host network; no
settings) to the first 200 from /health/ready, polled every 50 ms. That includes the container
set-up, Python's imports, copying the image's prebuilt index into the volume, and opening it.
Each run is one new container; the figure is the median (and the worst) of the runs.

Run:  make image && .venv/bin/python bench/container_start.py [--image localhost/chatref:dev]
      [--runs 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' podman helper
from tests.container.podman import image_size_bytes, running  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="localhost/chatref:dev")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    starts: list[float] = []
    for _ in range(args.runs):
        began = time.perf_counter()
        with running(args.image, free_port()) as container:
            container.wait_ready()
            starts.append(time.perf_counter() - began)
    result = {
        "image": args.image,
        "image_size_mb": round(image_size_bytes(args.image) / 1e6),
        "runs": args.runs,
        "cold_start_to_ready_s": {"median": round(statistics.median(starts), 2),
                                  "min": round(min(starts), 2), "max": round(max(starts), 2)},
        "load_average_1m": round(os.getloadavg()[0], 1),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['image']}: {result['image_size_mb']} MB")
    s = result["cold_start_to_ready_s"]
    print(f"cold start to ready over {args.runs} runs: median {s['median']} s "
          f"(min {s['min']}, max {s['max']}); load average {result['load_average_1m']}")


if __name__ == "__main__":
    main()
