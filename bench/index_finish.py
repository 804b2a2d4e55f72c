"""What an ingest's finish costs on an index: its vector graph and its keyword postings built
from the rows and saved (``SqliteIndex.save_vectors``, what ``finish_ingest`` calls), timed
whole and in its two parts, each in a fresh copy of the index with nothing saved beside it.

    .venv/bin/python bench/index_finish.py bench/.work/files-txt.sqlite [--rounds 2]

Prints one JSON object: wall-clock and this process's CPU seconds per round for the whole
finish, the graph alone and the postings alone, and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from chatref.retrieval.sqlite_index import SqliteIndex


def timed(source: Path, step: Callable[[SqliteIndex], object]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / source.name
        shutil.copyfile(source, copy)  # the SQLite file alone: no graph or postings beside it
        index = SqliteIndex.open(copy, embedder_name="wordllama/l2_supercat", dimension=256)
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            step(index)
            return {"wall_s": round(time.perf_counter() - wall, 2),
                    "cpu_s": round(time.process_time() - cpu, 2)}
        finally:
            index.close()


def graph(index: SqliteIndex) -> None:
    """Built and saved (from 20,000 chunks), as the finish does."""
    with index._vlock:  # noqa: SLF001 - a benchmark of the index's own steps
        index._ensure_ann()  # noqa: SLF001


def postings(index: SqliteIndex) -> None:
    """Built and saved (from 20,000 chunks), as the finish does."""
    with index._lock:  # noqa: SLF001
        index._catch_up_keywords()  # noqa: SLF001


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("index", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    result: dict[str, object] = {"load_before": os.getloadavg()}
    steps: dict[str, Callable[[SqliteIndex], object]] = {
        "finish": SqliteIndex.save_vectors, "graph": graph, "postings": postings}
    for name, step in steps.items():
        result[name] = [timed(args.index, step) for _ in range(args.rounds)]
    result["load_after"] = os.getloadavg()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
