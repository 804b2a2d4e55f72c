"""Hostile documents: how long `chatref ingest` takes to refuse each, and its peak memory.

    .venv/bin/python bench/hostile_ingest.py --out bench/.work/hostile

Each file is ingested alone (with one good file beside it) by the real command in a fresh
process; the figure is wall time and the peak resident memory of the largest process (the CLI or
its parse worker), from getrusage(RUSAGE_CHILDREN); ``refused_in_s`` times the parser alone, in
this process (the command's own start-up, a few seconds on a loaded machine, is the rest).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from chatref.errors import DocumentError  # noqa: E402
from chatref.ingest.parsers import parse_document  # noqa: E402
from tests.ingest import hostile  # noqa: E402

CASES = {
    "baseline: one good file": lambda p: p / "good.md",
    "3.5M empty paragraphs (.docx)": lambda p: hostile.empty_paragraphs_docx(p / "empty.docx"),
    "200k paragraphs (.docx)": lambda p: hostile.many_paragraphs_docx(p / "many.docx"),
    "300 MB zip bomb (.docx)": lambda p: hostile.zip_bomb_docx(p / "bomb.docx"),
    "20k zip entries (.docx)": lambda p: hostile.many_entries_docx(p / "entries.docx"),
    "10M-page tree (.pdf)": lambda p: hostile.huge_page_tree_pdf(p / "pages.pdf"),
}


def run_case(out: Path, name: str) -> dict[str, object]:
    folder = out / name.split()[0].replace(".", "")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    path = CASES[name](folder)
    (folder / "good.md").write_text("# Good\n\nThis one is indexed.\n", encoding="utf-8")
    env = {**os.environ, "CHATREF_DATA_DIR": str(folder / "data")}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "chatref.cli", "ingest", str(folder), "--json"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report = json.loads(result.stdout)
    parse_started = time.perf_counter()
    try:
        parse_document(path, path.read_bytes())
    except DocumentError:
        pass
    parse_s = time.perf_counter() - parse_started
    failed = {Path(f["source"]).name: f["reason"] for f in report["files"]
              if f["status"] == "failed"}
    return {"case": name, "size_kb": round(path.stat().st_size / 1024, 1),
            "seconds": round(elapsed, 2), "refused_in_s": round(parse_s, 3),
            "peak_rss_mb_so_far": round(peak_mb),
            "added": report["counts"]["added"], "reason": failed.get(path.name)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench/.work/hostile"))
    args = parser.parse_args()
    print("load average:", os.getloadavg())
    for name in CASES:
        print(json.dumps(run_case(args.out, name)), flush=True)
    print("load average:", os.getloadavg())


if __name__ == "__main__":
    main()
