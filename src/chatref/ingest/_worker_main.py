"""Entry point of a parse worker process (see ingest/workers.py): ``python -m`` this module
with the two pipe descriptors."""

from __future__ import annotations

import os
import sys

# The tokenizer runs in the worker's own thread: the workers are the unit of parallelism. Its
# thread pool's second thread only competed with the other processes, and handing each file's
# few chunks to a pool thread made embedding them 1.7 times as costly (docs/benchmarks.md).
# Written, not read: Settings stays the only reader of the environment.
os.putenv("TOKENIZERS_PARALLELISM", "false")
os.putenv("RAYON_NUM_THREADS", "1")

from chatref.ingest.workers import serve  # noqa: E402 - after the line above

if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
