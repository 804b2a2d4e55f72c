"""Entry point of a parse worker process (see ingest/workers.py): ``python -m`` this module
with the two pipe descriptors."""

from __future__ import annotations

import sys

from chatref.ingest.workers import serve

if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
