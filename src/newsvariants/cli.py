"""The `newsvariants` command line (also `python -m newsvariants`)."""

from __future__ import annotations

import functools
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from newsvariants.errors import NewsVariantsError

if TYPE_CHECKING:  # imported where used: the command line starts without loading the stages
    from newsvariants.ingest import IngestOutcome
    from newsvariants.registry import StoryEvent

app = typer.Typer(
    name="newsvariants",
    help="Build, check, benchmark and release the NewsVariants corpus.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
# stdout is never wrapped at a width: scripts read its lines (a capture's, a build's summary)
out = Console(soft_wrap=True)

RawOption = Annotated[Path, typer.Option("--raw", help="raw/ folder (captures + metadata).")]
CorpusOption = Annotated[Path, typer.Option("--out", help="Corpus folder to write.")]
DEFAULT_CACHE_DIR = Path(".cache/newsvariants")  # gitignored


def _notice(message: str) -> None:
    # escaped: a message quotes paths and patterns ("[a-z0-9]"), which are not markup
    err.print(f"[yellow]note:[/] {escape(message)}", highlight=False, markup=True, soft_wrap=True)


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


def _require_corpus(corpus: Path) -> None:
    """Stop, saying so, unless `corpus` is a built corpus folder (a mistyped path read as an
    empty corpus gave "no rows in this release" or an empty explorer)."""
    if not (corpus / "MANIFEST.json").is_file():
        where = "no such folder" if not corpus.is_dir() else "no MANIFEST.json in it"
        raise _fail(NewsVariantsError(f"{corpus}: not a built corpus folder ({where})"))


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
    encoding: Annotated[
        str | None,
        typer.Option(help="Character encoding of the files (detected when omitted), e.g. cp1252."),
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(help="JSONL manifest: path, source, captured_at, url, format, encoding."),
    ] = None,
    skip_bad_records: Annotated[
        bool,
        typer.Option(
            "--skip-bad-records",
            help="A damaged WARC file (cut short, corrupt records): ingest its readable records "
            "and report the damaged byte ranges, instead of refusing the file.",
        ),
    ] = False,
) -> None:
    """Store captures in raw/ under their SHA-256 (re-ingesting the same bytes is a no-op)."""
    from newsvariants.ingest import file_inputs, manifest_inputs
    from newsvariants.ingest import ingest as ingest_items

    try:
        if manifest is not None:
            if files:
                raise NewsVariantsError("give capture files or --manifest, not both")
            items = manifest_inputs(manifest, notice=_notice, skip_bad_records=skip_bad_records)
        elif files:
            items = [
                item
                for path in files
                for item in file_inputs(
                    path,
                    source=source,
                    captured_at=captured_at,
                    url=url,
                    fmt=fmt,
                    note=note,
                    notice=_notice,
                    encoding=encoding,
                    skip_bad_records=skip_bad_records,
                )
            ]
        else:
            raise NewsVariantsError("nothing to ingest: give capture files or --manifest")
        outcomes = ingest_items(items, raw)
    except NewsVariantsError as exc:
        raise _fail(exc) from exc
    for o in outcomes:
        state = "added" if o.added else _already_present(o)
        # format and encoding are shown: both may be guesses to check (--format, --encoding)
        guessed = f"{o.capture.format}, {o.capture.encoding}"
        if o.replaced:  # its text will show them: the reader should know why
            guessed += f", {o.replaced} invalid byte sequence(s) read as U+FFFD"
        line = f"{o.capture.capture_id}  {state}  {o.origin}  ({guessed})"
        out.print(line, highlight=False, soft_wrap=True)  # one line a capture, however long
    if len(outcomes) > 1:  # on stderr: stdout stays one line a capture, for scripts
        err.print(ingest_summary(outcomes), highlight=False, soft_wrap=True)


def ingest_summary(outcomes: Sequence[IngestOutcome]) -> str:
    """One line of counts after the per-capture lines (a WARC or a manifest brings thousands)."""
    added = sum(o.added for o in outcomes)
    present = len(outcomes) - added
    line = f"ingested {len(outcomes):,} captures: {added:,} added, {present:,} already present"
    replaced = sum(bool(o.replaced) for o in outcomes)
    if replaced:
        line += f"; {replaced:,} with invalid byte sequences read as U+FFFD"
    return line


def _already_present(o: IngestOutcome) -> str:
    what = []
    if o.recoded_from is not None:
        what.append(f"encoding corrected from {o.recoded_from}")
    if o.repaired:
        what.append("its damaged stored file written again")
    what = what or ["no-op"]
    if o.differs:  # e.g. the same page ingested again under another outlet's name
        kept = ", ".join(f"{name} {old!r}, not {new!r}" for name, old, new in o.differs)
        what.append(f"its record keeps {kept}")
    return f"already present ({'; '.join(what)})"


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


# Beyond this many quarantined captures or story events, `build` prints a summary (a build of
# 100k new captures makes ~20k stories: one line each buried the rest of its output).
LISTED_LINES = 20


def listed_lines(lines: list[str], limit: int | None, where_all: str) -> list[str]:
    """`lines`, or the first `limit` of them and a line saying how many more (and `where_all`
    they are)."""
    if limit is None or len(lines) <= limit:
        return lines
    return [*lines[:limit], f"... and {len(lines) - limit} more ({where_all})"]


def story_event_lines(events: Sequence[StoryEvent], limit: int | None) -> list[str]:
    """What `build` prints of the registry's story events: each one when they are few (or
    `limit` is None); else their counts by kind, then the events that change an existing
    story's identity (split, merged, unmerged, retired, returned) before the new ones, since a
    user who cites story IDs needs those first."""
    from newsvariants.registry import STORY_EVENT_KINDS

    lines = [f"{e.kind}: {e.story_id} {e.detail}" for e in events]
    if limit is None or len(lines) <= limit:
        return lines
    counts = Counter(e.kind for e in events)
    kinds = [k for k in STORY_EVENT_KINDS if counts[k]] + sorted(
        k for k in counts if k not in STORY_EVENT_KINDS
    )
    summary = "story events: " + ", ".join(f"{counts[k]:,} {k}" for k in kinds)
    changes = [line for e, line in zip(events, lines, strict=True) if e.kind != "new"]
    created = [line for e, line in zip(events, lines, strict=True) if e.kind == "new"]
    return [summary, *listed_lines(changes + created, limit, "--verbose lists every one")]


@app.command()
def build(
    raw: RawOption = Path("raw"),
    corpus: CorpusOption = Path("corpus"),
    registry: Annotated[
        Path | None,
        typer.Option(
            help="The last release's REGISTRY.json (default: released/REGISTRY.json beside "
            "raw/, which `newsvariants release` writes)."
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Processes for per-capture work (0: one per core).")
    ] = 1,
    cache: Annotated[
        bool, typer.Option("--cache", help="Reuse per-capture work of earlier builds.")
    ] = False,
    cache_dir: Annotated[
        Path, typer.Option("--cache-dir", help="Where --cache keeps per-capture work.")
    ] = DEFAULT_CACHE_DIR,
    engine: Annotated[str, typer.Option(help="local (process pool) or ray (extra).")] = "local",
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            help=f"List every quarantined capture and story event (else, beyond {LISTED_LINES}, "
            "a summary and the first ones).",
        ),
    ] = False,
) -> None:
    """Build the corpus from raw/ (every stage), validate it, then swap it in."""
    from newsvariants.build import build as run_build
    from newsvariants.build import default_registry, released_dir
    from newsvariants.registry import REGISTRY_FILE

    registry = registry or default_registry(raw)
    if registry is None:
        last_build = corpus / REGISTRY_FILE
        _notice(
            f"no registry ({released_dir(raw) / REGISTRY_FILE} does not exist: no release yet, "
            "and --registry is not given): story IDs and splits come from raw/ alone."
            + (
                f" {last_build} (the last build's) is not read: builds start from the last "
                f"release's registry; to keep its IDs, pass --registry {last_build}."
                if last_build.is_file()
                else ""
            )
        )
    with _progress_bar() as bar:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            result = run_build(
                raw,
                corpus,
                registry,
                progress=report,
                workers=workers,
                cache_dir=cache_dir if cache else None,
                engine=engine,
                keep_records=False,
            )
        except NewsVariantsError as exc:
            raise _fail(exc) from exc
        except KeyboardInterrupt:
            # said, not a bare exit 130: the user wants to know what state the corpus is in
            err.print(
                f"interrupted: {corpus} is as it was (a build stopped while swapping it in "
                "leaves it beside it as a dot-folder ending in -previous, which the next build "
                "restores; the next build also removes this one's staging folder)",
                highlight=False,
            )
            raise typer.Exit(130) from None
    for note in result.notes:
        _notice(note)
    counts = {c: result.records.count(c) for c in ("stories", "variants", "alignments", "pairs")}
    out.print(
        f"built {corpus}: {result.captures} captures -> "
        + ", ".join(f"{c} {n}" for c, n in counts.items())
        + f"; {len(result.quarantined)} quarantined",
        highlight=False,
    )
    quarantined = [f"quarantined {q.capture_id} ({q.path}): {q.reason}" for q in result.quarantined]
    limit = None if verbose else LISTED_LINES
    for line in listed_lines(quarantined, limit, "MANIFEST.json's build_report lists every one"):
        out.print(f"  {line}", highlight=False)
    for line in story_event_lines(result.events, limit):
        out.print(f"  {line}", highlight=False)


@app.command()
def validate(
    corpus: Annotated[Path, typer.Argument(help="Corpus folder.")] = Path("corpus"),
    raw: Annotated[
        Path | None,
        typer.Option(
            help="raw/ folder, to check offsets against the captures (default: ./raw if there)."
        ),
    ] = None,
    no_raw: Annotated[
        bool, typer.Option("--no-raw", help="Check the corpus alone, even if ./raw is there.")
    ] = False,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Also rebuild it from raw/ (in a temporary folder) and compare every file.",
        ),
    ] = False,
    registry: Annotated[
        Path | None,
        typer.Option(
            help="--rebuild: the registry the corpus was built from (default: the last "
            "release's, released/REGISTRY.json beside raw/; MANIFEST.json names it by SHA-256)."
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Processes for the checks against raw/ (each capture re-read, an HTML page "
            "re-rendered) and for --rebuild (0: one per core)."
        ),
    ] = 1,
) -> None:
    """Check every record against its schema and every cross-record invariant."""
    from newsvariants.build import WORKER_MODULES
    from newsvariants.executor import boot_forkserver, runs_a_pool, stage_runner
    from newsvariants.validate import validate_corpus

    if raw is not None and no_raw:
        raise _fail(NewsVariantsError("give --raw or --no-raw, not both"))
    if rebuild and no_raw:
        raise _fail(NewsVariantsError("--rebuild rebuilds from raw/: not with --no-raw"))
    if raw is not None and not raw.is_dir():  # asked for and missing: not "valid without raw/"
        raise _fail(NewsVariantsError(f"{raw}: no such raw/ folder"))
    default_raw = Path("raw") if Path("raw").is_dir() and not no_raw else None
    raw_dir = raw if raw is not None else default_raw
    if rebuild and raw_dir is None:  # said before the checks, not after them
        raise _fail(NewsVariantsError("--rebuild needs raw/ (give --raw)"))
    try:
        # a pool only for the checks against raw/: the others run in this process, meanwhile
        # the pool's fork server imports what its workers need (a build's modules, validate's
        # among them: --rebuild's pool forks from the same server)
        processes = workers if raw_dir is not None else 1
        if runs_a_pool(processes, "local"):
            boot_forkserver(WORKER_MODULES)
        with stage_runner(processes, preload=WORKER_MODULES) as runner:
            counts = validate_corpus(corpus, raw_dir, runner.mapper, runner.workers)
    except NewsVariantsError as exc:
        raise _fail(exc) from exc
    checked = "with" if raw_dir else "without"
    if not (rebuild and raw_dir is not None):
        out.print(f"{corpus} is valid ({checked} raw/): " + json.dumps(counts), highlight=False)
        return
    # "valid" only once the rebuild agrees: a failed comparison must not follow a "valid"
    out.print(
        f"{corpus} passes the checks (with raw/): {json.dumps(counts)}; rebuilding to compare",
        highlight=False,
    )
    _check_rebuild(corpus, raw_dir, workers, registry)


def _check_rebuild(corpus: Path, raw: Path, workers: int, registry: Path | None) -> None:
    """Stop unless a rebuild from raw/ and the registry the corpus was built from reproduces
    every file of the corpus."""
    from newsvariants.build import default_registry, rebuild_differences

    try:
        differences = rebuild_differences(corpus, raw, workers, registry or default_registry(raw))
    except NewsVariantsError as exc:
        raise _fail(exc) from exc
    if differences:
        shown = "; ".join(differences)
        raise _fail(
            NewsVariantsError(
                f"{corpus}: {len(differences)} file(s) are not what raw/ and this code build: "
                f"{shown}{_code_note(corpus)}"
            )
        )
    out.print(
        f"{corpus} is valid: it passes the checks and a rebuild from {raw} reproduces it byte "
        "for byte",
        highlight=False,
    )


def _code_note(corpus: Path) -> str:
    """Why a rebuild may differ other than by an edit: the corpus was built by other code."""
    from newsvariants import __version__
    from newsvariants.extract import EXTRACTOR_VERSION

    inputs = json.loads((corpus / "MANIFEST.json").read_text(encoding="utf-8"))["inputs"]
    built = (inputs.get("code_version"), inputs["parameters"].get("extractor_version"))
    if built == (__version__, EXTRACTOR_VERSION):
        return ""
    return (
        f" (the corpus was built by package {built[0]}, extractor {built[1]}; this is "
        f"{__version__}, extractor {EXTRACTOR_VERSION}: differences may come from the code)"
    )


@app.command()
def extract(
    file: Annotated[Path, typer.Argument(help="One capture (text dump or HTML).")],
    fmt: Annotated[str | None, typer.Option("--format", help="text or html (sniffed).")] = None,
    source: Annotated[str, typer.Option(help="Outlet name, for site templates.")] = "unknown",
    raw: Annotated[
        Path | None, typer.Option(help="raw/ to learn the source's site templates from.")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="The page's URL (dates a page that states no date).")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Character encoding of the file (detected when not given).")
    ] = None,
) -> None:
    """Extract one capture and print the result as JSON (for debugging extraction). A capture
    stored in --raw is read as its record says (encoding, format, source, URL)."""
    from newsvariants.extract import debug_extract

    try:
        result = debug_extract(file, fmt=fmt, source=source, raw=raw, url=url, encoding=encoding)
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

    _require_corpus(corpus)
    index = write_explorer(corpus, output)
    out.print(f"wrote {index}", highlight=False)


@app.command()
def bench(
    corpus: Annotated[Path, typer.Argument(help="Corpus folder.")] = Path("corpus"),
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            help="Folder for baselines.json and baselines.md. The build puts the table from "
            "benchmarks/results/ into the card: write there only to refresh the card.",
        ),
    ] = Path("bench-results"),
    embeddings: Annotated[
        bool, typer.Option(help="Run the sentence-embedding baseline when it is installed.")
    ] = True,
) -> None:
    """Run the baselines on validation and test; print the table, write JSON and markdown."""
    from newsvariants.bench import default_baselines, markdown_table, run_bench, write_results

    _require_corpus(corpus)
    choose = functools.partial(default_baselines, with_embeddings=embeddings)
    try:
        report = run_bench(corpus, choose, progress=lambda n: err.print(f"bench {n}"))
    except (NewsVariantsError, OSError) as exc:
        raise _fail(exc) from exc
    sys.stdout.write(markdown_table(report))
    for path in write_results(report, output):
        err.print(f"wrote {path}", highlight=False)


@app.command()
def score(
    predictions: Annotated[Path, typer.Argument(help="Predictions JSONL.")],
    config: Annotated[str, typer.Option(help="pairs or stories.")] = "pairs",
    split: Annotated[str, typer.Option(help="train, validation or test.")] = "test",
    corpus: Annotated[Path, typer.Option("--corpus", help="Corpus folder.")] = Path("corpus"),
    threshold: Annotated[
        float, typer.Option(help="pairs given only scores: same_source when score >= this.")
    ] = 0.5,
    validation: Annotated[
        Path | None,
        typer.Option(
            help="Validation predictions (pairs): choose the thresholds there (best F1 for all "
            "pairs, paragraphs and documents), as the bench does."
        ),
    ] = None,
    text_disjoint: Annotated[
        bool,
        typer.Option(
            "--text-disjoint",
            help="pairs: leave out of the metrics the pairs that share a text with a train pair "
            "(same comparison form); predictions still cover every pair.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Score your predictions (pair_id + score/label, or variant_id + cluster) on one split."""
    from newsvariants.score import format_report, score_file

    _require_corpus(corpus)
    try:
        report = score_file(
            corpus, predictions, config, split, threshold, validation, text_disjoint
        )
    except NewsVariantsError as exc:
        raise _fail(exc) from exc
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(format_report(report) + "\n")


@app.command()
def release(
    version: Annotated[str, typer.Argument(help="The release version, X.Y.Z.")],
    corpus: Annotated[Path, typer.Option("--corpus", help="Built corpus folder.")] = Path("corpus"),
    date: Annotated[
        str | None, typer.Option(help="Release date YYYY-MM-DD (default: today, UTC).")
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option(help="The previous release's corpus folder (default: from git tag vOLD)."),
    ] = None,
    changelog: Annotated[Path, typer.Option(help="CHANGELOG.md to add the entry to.")] = Path(
        "CHANGELOG.md"
    ),
    citation: Annotated[Path, typer.Option(help="CITATION.cff to rewrite.")] = Path("CITATION.cff"),
    released: Annotated[
        Path | None,
        typer.Option(
            help="Where the release's REGISTRY.json and MANIFEST.json are kept for the next "
            "builds (default: released/ beside the corpus folder)."
        ),
    ] = None,
) -> None:
    """Release the built corpus: MANIFEST version, card, CHANGELOG entry, CITATION.cff, and the
    registry the next builds start from (released/)."""
    import datetime

    from newsvariants.build import released_dir
    from newsvariants.release import CorpusState, previous_from_git
    from newsvariants.release import release as run_release
    from newsvariants.write import release_of

    day = date or datetime.datetime.now(datetime.UTC).date().isoformat()
    released = released or released_dir(corpus)
    try:
        # a build changed since release X.Y.Z is X.Y.Z+dev: its previous release is X.Y.Z
        current = release_of(CorpusState.read(corpus).manifest["version"])
        if previous is None and current != "0.0.0":
            with previous_from_git(Path.cwd(), f"v{current}", corpus.as_posix()) as found:
                if found is None:
                    raise NewsVariantsError(
                        f"no git tag v{current} to diff against: give --previous"
                    )
                result = run_release(corpus, version, day, changelog, citation, found, released)
        else:
            result = run_release(corpus, version, day, changelog, citation, previous, released)
    except (NewsVariantsError, OSError) as exc:
        raise _fail(exc) from exc
    kind = result.diff.required if result.diff.previous_version else "first release"
    out.print(f"released {corpus} as {result.version} ({kind})", highlight=False)
    for line in result.diff.lines:
        out.print(f"  {line}", highlight=False)
    out.print("wrote " + ", ".join(str(p) for p in result.written), highlight=False)
    out.print(
        "next: scripts/build_corpus.sh (a build from the registry just released: the release "
        "must be what its own registry builds; its data files do not change), then "
        f"`newsvariants validate corpus --rebuild`, commit, git tag v{result.version}, "
        "newsvariants publish --repo ORG/NAME",
        highlight=False,
    )


@app.command()
def publish(
    repo: Annotated[str, typer.Option("--repo", help="Hugging Face dataset repo, ORG/NAME.")],
    corpus: Annotated[Path, typer.Option("--corpus", help="Released corpus folder.")] = Path(
        "corpus"
    ),
    raw: RawOption = Path("raw"),
    without_inputs: Annotated[
        bool,
        typer.Option(
            "--without-inputs",
            help="Upload the corpus alone, not raw/ and the registry it was built from (the "
            "Hub copy then cannot be rebuilt or its offsets checked against the captures).",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the exact operations; upload nothing.")
    ] = False,
) -> None:
    """Upload the released corpus, with the raw/ captures and registry it was built from, as a
    Hugging Face dataset repo and tag it vX.Y.Z."""
    from newsvariants.publish import plan_publish
    from newsvariants.publish import publish as run_publish

    try:
        plan = plan_publish(corpus, repo, None if without_inputs else raw)
    except NewsVariantsError as exc:
        raise _fail(exc) from exc
    for note in plan.notes:
        _notice(note)
    heading = "dry run: would run" if dry_run else "publishing"
    out.print(f"{heading} {plan.repo} {plan.tag}:", highlight=False)
    for line in plan.describe():
        out.print(line, highlight=False, soft_wrap=True)
    if dry_run:
        return
    try:
        commit = run_publish(plan)
    except Exception as exc:  # hub errors come in many types; all end the command the same way
        raise _fail(exc) from exc
    out.print(f"published {plan.repo} at {commit}, tagged {plan.tag}", highlight=False)


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The older corpus folder.")],
    new: Annotated[Path, typer.Argument(help="The newer corpus folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Stories, variants and pairs added, removed or changed (merged, split, moved) between two
    releases."""
    from newsvariants.diff import diff_corpora, render_text

    try:
        report = diff_corpora(old, new)
    except (NewsVariantsError, OSError) as exc:
        raise _fail(exc) from exc
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_text(report))


def main() -> None:
    app(prog_name="newsvariants")
