"""Entry point of a parse worker process (see ingest/workers.py): ``python -m`` this module
with the two pipe descriptors."""

from __future__ import annotations

import os
import sys

# One tokenizer thread per worker: the workers are the unit of parallelism, and a second thread
# in each only competes with the other processes. Set before the tokenizer's thread pool starts;
# written, not read (Settings stays the only reader of the environment).
os.putenv("RAYON_NUM_THREADS", "1")

from chatref.ingest.workers import serve  # noqa: E402 - after the line above

if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
