"""`chatref ingest`, `chatref search` and `chatref eval retrieval`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from chatref.app import Services, build_services
from chatref.ingest.limits import FileLimits
from chatref.ingest.pipeline import IngestReport, ingest_paths, ingest_texts
from chatref.ingest.pipeline import Progress as ProgressCallback
from chatref.retrieval.evaluation import EvalResult, evaluate, load_beir
from chatref.retrieval.fusion import DEFAULT_TOKEN_WEIGHT, DEFAULT_VECTOR_WEIGHT
from chatref.retrieval.retriever import SEARCH_MODES, Retriever
from chatref.retrieval.types import SearchMode
from chatref.settings import Settings

IndexOption = Annotated[
    Path | None,
    typer.Option("--index", help="Index file [default: $CHATREF_DATA_DIR/index.sqlite]."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
ModeOption = Annotated[SearchMode, typer.Option("--mode", help="hybrid, keyword or vector.")]


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(),
        MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[current]}"),
        console=console, transient=True,
    )


def _report_table(report: IngestReport) -> Table:
    table = Table(title=f"ingest finished in {report.elapsed_s:.1f}s")
    for status in report.counts:
        table.add_column(status, justify="right")
    table.add_column("chunks written", justify="right")
    table.add_row(*(str(n) for n in report.counts.values()), str(report.chunks_written))
    return table


def ingest(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Files, folders (recursive) and Blob container URLs "
        "(https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX/) "
        "[default: $AZURE_STORAGE_BLOB_ENDPOINT/$AZURE_STORAGE_CONTAINER].")] = None,
    index: IndexOption = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Remove documents that vanished from PATHS.")
    ] = False,
    follow_symlinks: Annotated[bool, typer.Option(
        "--follow-symlinks", help="Follow symlinks that lead outside PATHS (skipped otherwise).",
    )] = False,
    max_file_mb: Annotated[float, typer.Option(
        "--max-file-mb", min=0.001, help="Refuse files larger than this.")] = 100.0,
    file_timeout_s: Annotated[float, typer.Option(
        "--file-timeout-s", min=0.1, help="Stop parsing a file after this long.")] = 60.0,
    as_json: JsonOption = False,
) -> None:
    """Index .md .txt .html .pdf .docx files and blobs; unchanged ones are skipped.

    Each file is parsed within limits (size, time, and .docx/.pdf paragraph, page and
    decompressed-size counts); a file over one is reported and the rest is indexed.
    Exit status 1 when any file failed (the others are still indexed).
    """
    settings = Settings()
    console = Console(stderr=True)
    files, urls = _files_and_containers(paths, settings)
    limits = FileLimits(max_file_mb=max_file_mb, timeout_s=file_timeout_s)

    async def run() -> IngestReport:
        services = build_services(settings, index_path=index)
        try:
            with _progress(console) as bar:
                task = bar.add_task("ingesting", total=None, current="")

                def step(done: int, total: int, current: str) -> None:
                    bar.update(task, completed=done, total=total, current=current[-60:])

                report = IngestReport()
                if files:
                    report = await ingest_paths(
                        files, services.index, services.embedder, prune=prune,
                        progress=None if as_json else step, follow_symlinks=follow_symlinks,
                        limits=limits,
                    )
                for url in urls:
                    report = report.merged(await _ingest_container(
                        url, settings, services, prune=prune, limits=limits,
                        progress=None if as_json else step))
                return report
        finally:
            await services.aclose()

    report = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report, console)
    if report.failures:
        raise typer.Exit(1)


def _files_and_containers(
    paths: list[str] | None, settings: Settings
) -> tuple[list[Path], list[str]]:
    """The local paths and the container URLs to ingest (the configured container if none)."""
    urls = [p for p in paths or [] if p.startswith(("https://", "http://"))]
    files = [Path(p) for p in paths or [] if p not in urls]
    if paths:
        return files, urls
    from chatref.ingest.blob_source import configured_container_url

    configured = configured_container_url(settings)
    if configured is None:
        raise typer.BadParameter("give files, folders or container URLs, or set "
                                 "AZURE_STORAGE_BLOB_ENDPOINT and AZURE_STORAGE_CONTAINER",
                                 param_hint="PATHS")
    return files, [configured]


def _print_report(report: IngestReport, console: Console) -> None:
    """Each failed or skipped document on stderr, then the counts on stdout."""
    for failure in report.failures:
        console.print(f"[red]failed[/] {failure.source}: {failure.reason}", highlight=False)
    for skipped in (o for o in report.outcomes if o.status == "skipped"):
        console.print(f"[yellow]skipped[/] {skipped.source}: {skipped.reason}", highlight=False)
    Console().print(_report_table(report))


async def _ingest_container(url: str, settings: Settings, services: Services, *, prune: bool,
                            limits: FileLimits, progress: ProgressCallback | None
                            ) -> IngestReport:
    from chatref.ingest.blob_source import open_blob_source
    from chatref.ingest.sources import ingest_source

    source = open_blob_source(url, settings)
    try:
        return await ingest_source(source, services.index, services.embedder, prune=prune,
                                   limits=limits, progress=progress)
    finally:
        await source.aclose()


def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    top: Annotated[int, typer.Option("--top", min=1, max=100, help="How many passages.")] = 5,
    mode: ModeOption = "hybrid",
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the passages that best match QUERY."""
    settings = Settings()

    async def run() -> list[dict[str, object]]:
        services = build_services(settings, index_path=index)
        try:
            passages = await services.retriever.search(query, top_k=top, mode=mode)
        finally:
            await services.aclose()
        return [
            {"source": p.source, "title": p.title, "page": p.page, "section": p.section,
             "text": p.text, "score": round(p.score, 6), "chunk_id": p.chunk_id}
            for p in passages
        ]

    results = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps(results, indent=2, ensure_ascii=False))
        return
    console = Console()
    if not results:
        console.print("no matching passages")
        return
    for rank, result in enumerate(results, start=1):
        where = f" p.{result['page']}" if result["page"] else (
            f" § {result['section']}" if result["section"] else "")
        console.print(f"[bold]{rank}. {result['title']}[/] [dim]{result['source']}{where} "
                      f"score {result['score']:.3f}[/]", highlight=False)
        text = str(result["text"])
        console.print(text if len(text) <= 400 else text[:400] + "…", highlight=False)
        console.print()


def _search_mode(value: str) -> SearchMode:
    if value not in SEARCH_MODES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(SEARCH_MODES)}",
                                 param_hint="--mode")
    return value


eval_app = typer.Typer(help="Measure answer quality.", no_args_is_help=True)


@eval_app.command("retrieval")
def eval_retrieval(
    dataset: Annotated[Path, typer.Option("--dataset", help="BEIR-style folder.")],
    mode: Annotated[
        list[str] | None,
        typer.Option("--mode", help="hybrid, keyword or vector; repeatable [default: all three]."),
    ] = None,
    split: Annotated[str, typer.Option("--split", help="test, or train for tuning.")] = "test",
    vector_weight: Annotated[
        float | None, typer.Option("--vector-weight", min=0.0, max=1.0,
                                   help="Hybrid fusion weight [default: the tuned one].")
    ] = None,
    fusion: Annotated[
        str, typer.Option("--fusion", help="weighted (default) or rrf, for comparison.")
    ] = "weighted",
    token_weight: Annotated[
        float, typer.Option("--token-weight", min=0.0, max=1.0,
                            help="Weight of the late-interaction token match (0: off).")
    ] = DEFAULT_TOKEN_WEIGHT,
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """Index a BEIR collection and print nDCG@10 and recall@100 per mode."""
    if fusion not in ("weighted", "rrf"):
        raise typer.BadParameter(f"{fusion!r} is not weighted or rrf", param_hint="--fusion")
    settings = Settings()
    loaded = load_beir(dataset, split=split)
    index_path = index or settings.chatref_data_dir / "eval" / f"{loaded.name}.sqlite"
    modes = [_search_mode(m) for m in mode or ["keyword", "vector", "hybrid"]]
    console = Console(stderr=True)

    async def run() -> list[EvalResult]:
        services = build_services(settings, index_path=index_path)
        retriever = Retriever(
            services.index, services.embedder, fusion="rrf" if fusion == "rrf" else "weighted",
            vector_weight=DEFAULT_VECTOR_WEIGHT if vector_weight is None else vector_weight,
            token_weight=token_weight,
        )
        try:
            with _progress(console) as bar:
                task = bar.add_task("indexing corpus", total=loaded.corpus_size(), current="")
                await ingest_texts(
                    loaded.corpus(), services.index, services.embedder,
                    total=loaded.corpus_size(),
                    progress=lambda done, total, _: bar.update(task, completed=done),
                )
                results = []
                for current in modes:
                    task = bar.add_task(f"{current} queries", total=len(loaded.queries),
                                        current="")

                    def step(done: int, _total: int, task: TaskID = task) -> None:
                        bar.update(task, completed=done)

                    results.append(
                        await evaluate(retriever, loaded, mode=current, progress=step)
                    )
                return results
        finally:
            await services.aclose()

    results = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps({
            "dataset": loaded.name, "split": split, "queries": len(loaded.queries),
            "fusion": fusion, "token_weight": token_weight,
            "results": [r.__dict__ for r in results],
        }, indent=2))
        return
    Console().print(_results_table(f"{loaded.name} ({split}, {len(loaded.queries)} queries)",
                                   results))


def _results_table(title: str, results: list[EvalResult]) -> Table:
    table = Table(title=title)
    for column in ("mode", "nDCG@10", "recall@100", "p50 ms", "p95 ms"):
        table.add_column(column, justify="left" if column == "mode" else "right")
    for r in results:
        table.add_row(r.mode, f"{r.ndcg_at_10:.4f}", f"{r.recall_at_100:.4f}",
                      f"{r.latency_p50_ms:.1f}", f"{r.latency_p95_ms:.1f}")
    return table


def register(app: typer.Typer) -> None:
    """Add ingest, search and eval to the main app."""
    app.command("ingest")(ingest)
    app.command("search")(search)
    from chatref.cli.eval_answers import answers

    eval_app.command("answers")(answers)
    app.add_typer(eval_app, name="eval")
