"""The `newsvariants` command line (also `python -m newsvariants`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from newsvariants.errors import NewsVariantsError

app = typer.Typer(
    name="newsvariants",
    help="Build, check, benchmark and release the NewsVariants corpus.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

RawOption = Annotated[Path, typer.Option("--raw", help="raw/ folder (captures + metadata).")]
CorpusOption = Annotated[Path, typer.Option("--out", help="Corpus folder to write.")]


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code=1)


@app.command()
def ingest(
    files: Annotated[list[Path] | None, typer.Argument(help="Capture files or WARC files.")] = None,
    raw: RawOption = Path("raw"),
    source: Annotated[str | None, typer.Option(help="Outlet name (e.g. rt.com).")] = None,
    captured_at: Annotated[
        str | None,
        typer.Option("--captured-at", help="ISO 8601 date or date-time; omit if unknown."),
    ] = None,
    url: Annotated[str | None, typer.Option(help="URL the page was captured from.")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="text, html or warc (sniffed when omitted).")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Provenance note for the metadata.")] = None,
    manifest: Annotated[
        Path | None, typer.Option(help="JSONL manifest: path, source, captured_at, url, format.")
    ] = None,
) -> None:
    """Store captures in raw/ under their SHA-256 (re-ingesting the same bytes is a no-op)."""
    from newsvariants.ingest import file_inputs, manifest_inputs
    from newsvariants.ingest import ingest as ingest_items

    try:
        if manifest is not None:
            if files:
                raise NewsVariantsError("give capture files or --manifest, not both")
            items = manifest_inputs(manifest)
        elif files:
            items = [
                item
                for path in files
                for item in file_inputs(
                    path, source=source, captured_at=captured_at, url=url, fmt=fmt, note=note
                )
            ]
        else:
            raise NewsVariantsError("nothing to ingest: give capture files or --manifest")
        outcomes = ingest_items(items, raw)
    except NewsVariantsError as exc:
        raise _fail(exc) from exc
    for o in outcomes:
        state = "added" if o.added else "already present (no-op)"
        out.print(f"{o.capture.capture_id}  {state}  {o.origin}", highlight=False)


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@app.command()
def build(
    raw: RawOption = Path("raw"),
    corpus: CorpusOption = Path("corpus"),
    registry: Annotated[
        Path | None,
        typer.Option(help="Previous release's REGISTRY.json (default: the one in --out)."),
    ] = None,
) -> None:
    """Build the corpus from raw/ (every stage), validate it, then swap it in."""
    from newsvariants.build import build as run_build

    with _progress_bar() as bar:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            result = run_build(raw, corpus, registry, progress=report)
        except NewsVariantsError as exc:
            raise _fail(exc) from exc
    counts = {
        c: sum(len(v) for v in getattr(result.records, c).values())
        for c in ("stories", "variants", "alignments", "pairs")
    }
    out.print(
        f"built {corpus}: {result.captures} captures -> "
        + ", ".join(f"{n} {c}" for c, n in counts.items())
        + f"; {len(result.quarantined)} quarantined",
        highlight=False,
    )
    for q in result.quarantined:
        out.print(f"  quarantined {q.capture_id} ({q.path}): {q.reason}", highlight=False)
    for event in result.events:
        if event.kind != "kept":
            out.print(f"  {event.kind}: {event.story_id} {event.detail}", highlight=False)


@app.command()
def validate(
    corpus: Annotated[Path, typer.Argument(help="Corpus folder.")] = Path("corpus"),
    raw: Annotated[
        Path | None, typer.Option(help="raw/ folder, to check offsets against the captures.")
    ] = Path("raw"),
) -> None:
    """Check every record against its schema and every cross-record invariant."""
    from newsvariants.validate import validate_corpus

    raw_dir = raw if raw is not None and raw.exists() else None
    try:
        counts = validate_corpus(corpus, raw_dir)
    except NewsVariantsError as exc:
        raise _fail(exc) from exc
    checked = "with" if raw_dir else "without"
    out.print(f"{corpus} is valid ({checked} raw/): " + json.dumps(counts), highlight=False)


@app.command()
def extract(
    file: Annotated[Path, typer.Argument(help="One capture (text dump or HTML).")],
    fmt: Annotated[str | None, typer.Option("--format", help="text or html (sniffed).")] = None,
    source: Annotated[str, typer.Option(help="Outlet name, for site templates.")] = "unknown",
    raw: Annotated[
        Path | None, typer.Option(help="raw/ to learn the source's site templates from.")
    ] = None,
) -> None:
    """Extract one capture and print the result as JSON (for debugging extraction)."""
    from newsvariants.extract import debug_extract

    try:
        result = debug_extract(file, fmt=fmt, source=source, raw=raw)
    except (NewsVariantsError, OSError) as exc:
        raise _fail(exc) from exc
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


@app.command()
def explore(
    corpus: Annotated[Path, typer.Argument(help="Corpus folder.")] = Path("corpus"),
    output: Annotated[Path, typer.Option("--output", help="Folder for the HTML pages.")] = Path(
        "explore"
    ),
) -> None:
    """Write a static HTML view of every story: variants side by side, relations, diffs."""
    from newsvariants.explore import write_explorer

    index = write_explorer(corpus, output)
    out.print(f"wrote {index}", highlight=False)


def main() -> None:
    app(prog_name="newsvariants")
