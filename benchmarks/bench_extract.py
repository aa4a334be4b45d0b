"""Extraction benchmark: bag-of-tokens F1 of the extracted body against human gold.

Reads the extraction development set (pages as HTML and as plain-text dumps, gold bodies) from a
path given on the command line, scores the project's extractor on both forms and, for reference,
trafilatura alone on the HTML and the raw dump itself, prints a table, the five worst pages with a
reason, and the speed, and writes benchmarks/results/extract.json.

    python benchmarks/bench_extract.py --dev ../shared/extraction-dev [--synth /tmp/synth-x]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsvariants.extract import PageContext, clear_caches, extract_text_dump
from newsvariants.ingest import decode_capture, detect_encoding
from newsvariants.records import Extraction
from newsvariants.render import extract_html

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DEV = REPO.parent / "shared" / "extraction-dev"
RESULTS = REPO / "benchmarks" / "results" / "extract.json"
_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Page:
    page_id: str
    url: str
    gold: str
    dump: str
    html: str


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


def bag_of_tokens(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall(text.lower()))


def score(predicted: str, gold: str) -> Score:
    """Bag-of-tokens precision, recall and F1 (as the Zyte article-extraction benchmark)."""
    pred, ref = bag_of_tokens(predicted), bag_of_tokens(gold)
    common = sum((pred & ref).values())
    n_pred, n_ref = sum(pred.values()), sum(ref.values())
    if n_pred == 0 and n_ref == 0:
        return Score(1.0, 1.0, 1.0)
    precision = common / n_pred if n_pred else 0.0
    recall = common / n_ref if n_ref else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1)


def load_pages(dev: Path) -> list[Page]:
    pages = []
    for line in (dev / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        page_id = entry["id"]
        dump_bytes = (dev / "dumps" / f"{page_id}.txt").read_bytes()
        html_bytes = gzip.decompress((dev / "pages" / f"{page_id}.html.gz").read_bytes())
        pages.append(
            Page(
                page_id=page_id,
                url=entry.get("url", ""),
                gold=entry["article_body"],
                dump=decode_capture(dump_bytes, detect_encoding(dump_bytes)),
                html=decode_capture(html_bytes, detect_encoding(html_bytes)),
            )
        )
    return sorted(pages, key=lambda p: p.page_id)


def body_of(extraction: Extraction) -> str:
    return "\n".join(p.text for p in extraction.paragraphs)


def trafilatura_body(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, include_comments=False, include_tables=False) or ""


SYSTEMS: dict[str, Callable[[Page], str]] = {
    "newsvariants dump": lambda p: body_of(extract_text_dump(p.dump, p.page_id[:16])),
    "newsvariants html": lambda p: body_of(extract_html(p.html, p.page_id[:16], PageContext())),
    "trafilatura html (reference)": lambda p: trafilatura_body(p.html),
    "raw dump (reference)": lambda p: p.dump,
}


def worst_reason(page: Page, predicted: str, result: Score) -> str:
    """A short reading of why a page scores low, from what was missed and what was added."""
    pred, ref = bag_of_tokens(predicted), bag_of_tokens(page.gold)
    missed = sum((ref - pred).values())
    extra = sum((pred - ref).values())
    if not pred:
        return "nothing extracted"
    if result.recall < result.precision:
        return f"missed {missed} gold tokens (recall {result.recall:.2f})"
    return f"kept {extra} non-gold tokens (precision {result.precision:.2f})"


def speed(pages: list[Page], system: Callable[[Page], str], min_seconds: float = 3.0) -> float:
    """Captures per CPU second of this (single-threaded) process: CPU time, not wall time, since
    the machine is shared. Warms up once (model loading), then repeats the set until min_seconds
    of CPU time have passed."""
    system(pages[0])
    done, elapsed = 0, 0.0
    while elapsed < min_seconds:
        clear_caches()  # each pass as if the pages were new (the caches only help within a page)
        started = time.process_time()
        for page in pages:
            system(page)
        elapsed += time.process_time() - started
        done += len(pages)
    return done / elapsed


def seed_pages() -> list[Page]:
    """The repository's own text captures (raw/), as pages without gold (for speed only)."""
    from newsvariants.ingest import capture_text, load_captures

    raw = REPO / "raw"
    return [
        Page(c.capture_id, c.url or "", "", capture_text(raw, c), "")
        for c in load_captures(raw)
        if c.format == "text"
    ]


def mean_lines(pages: list[Page]) -> float:
    return round(sum(len(p.dump.splitlines()) for p in pages) / len(pages), 1)


def trafilatura_calls(page: Page) -> str:
    """What `extract_html` asks of trafilatura for one page (`render.trafilatura_article`)."""
    from newsvariants.render import trafilatura_article

    return trafilatura_article(page.html)[0] or ""


def html_split(pages: list[Page]) -> dict[str, float]:
    """Where an HTML page's time goes, as milliseconds of CPU time per page, each stage timed on
    its own: trafilatura (`render.trafilatura_article`), the rendering step, and the project's
    classifier (classify with its safety net as `extract_html` runs it, dateline, language,
    assembling) on rendered blocks that carry trafilatura's judgement already."""
    from newsvariants.extract import (
        dateline_of,
        detect_language,
        extraction_from_blocks,
    )
    from newsvariants.render import _trafilatura_evidence, classify_html_blocks, render_html

    rendered = {}
    for page in pages:
        blocks = render_html(page.html).blocks
        _trafilatura_evidence(page.html, blocks)
        rendered[page.page_id] = blocks

    def classify(page: Page) -> str:
        blocks = rendered[page.page_id]
        decisions = classify_html_blocks(blocks, PageContext())
        published_at = dateline_of(blocks, decisions)
        body = [b.text for b, d in zip(blocks, decisions, strict=True) if d.kind == "body"]
        extraction = extraction_from_blocks(
            page.page_id,
            blocks,
            decisions,
            language=detect_language(body),
            published_at=published_at,
        )
        return body_of(extraction)

    return {
        "html_ms_per_page": round(1000 / speed(pages, SYSTEMS["newsvariants html"]), 2),
        "html_ms_trafilatura": round(1000 / speed(pages, trafilatura_calls), 2),
        "html_ms_render": round(1000 / speed(pages, lambda p: render_html(p.html).text), 2),
        "html_ms_classifier": round(1000 / speed(pages, classify), 2),
    }


def synthetic_pages(folder: Path) -> tuple[list[Page], list[Page]]:
    """The text dumps and the HTML pages `benchmarks/synth.py` wrote (for speed only)."""
    captures = folder / "captures" if (folder / "captures").is_dir() else folder
    dumps = [
        Page(path.stem, "", "", path.read_text(encoding="utf-8"), "")
        for path in sorted(captures.glob("*.txt"))
    ]
    pages = [
        Page(path.stem, "", "", "", path.read_text(encoding="utf-8"))
        for path in sorted(captures.glob("*.html"))
    ]
    return dumps, pages


def measure_speed(pages: list[Page], synth: Path | None = None) -> dict[str, float]:
    rates: dict[str, float] = {
        "dumps_per_s": round(speed(pages, SYSTEMS["newsvariants dump"]), 1),
        "dump_mean_lines": mean_lines(pages),
        "html_per_s": round(speed(pages, SYSTEMS["newsvariants html"]), 1),
    }
    print(
        f"\nspeed (CPU time, one process): {rates['dumps_per_s']} dumps/s "
        f"(dev dumps, {rates['dump_mean_lines']} lines on average), "
        f"{rates['html_per_s']} html pages/s"
    )
    rates.update(html_split(pages))
    print(
        f"  an HTML page: {rates['html_ms_per_page']} ms in all; trafilatura "
        f"{rates['html_ms_trafilatura']} ms, rendering {rates['html_ms_render']} ms, "
        f"the classifier {rates['html_ms_classifier']} ms (each timed on its own)"
    )
    seeds = seed_pages()
    if seeds:
        rates["seed_dumps_per_s"] = round(speed(seeds, SYSTEMS["newsvariants dump"]), 1)
        rates["seed_mean_lines"] = mean_lines(seeds)
        print(
            f"  the repository's seed dumps: {rates['seed_dumps_per_s']} dumps/s "
            f"({rates['seed_mean_lines']} lines on average)"
        )
    if synth is not None:
        dumps, html_pages = synthetic_pages(synth)
        if dumps:
            rates["synth_dumps_per_s"] = round(speed(dumps, SYSTEMS["newsvariants dump"]), 1)
            rates["synth_dump_mean_lines"] = mean_lines(dumps)
            print(
                f"  synthetic dumps ({len(dumps)}): {rates['synth_dumps_per_s']} dumps/s "
                f"({rates['synth_dump_mean_lines']} lines on average)"
            )
        if html_pages:
            rates["synth_html_per_s"] = round(speed(html_pages, SYSTEMS["newsvariants html"]), 1)
            print(f"  synthetic HTML ({len(html_pages)}): {rates['synth_html_per_s']} pages/s")
    return rates


@dataclass
class Evaluation:
    """Every system's per-page scores and outputs, and its means over pages."""

    per_page: dict[str, dict[str, dict[str, float]]]
    summary: dict[str, dict[str, float]]
    outputs: dict[str, dict[str, str]]


def evaluate(pages: list[Page], systems: dict[str, Callable[[Page], str]]) -> Evaluation:
    """Score every system on every page against its gold; print the means as a table."""
    per_page: dict[str, dict[str, dict[str, float]]] = {}
    summary: dict[str, dict[str, float]] = {}
    outputs: dict[str, dict[str, str]] = {}
    for name, system in systems.items():
        scores = {}
        outputs[name] = {}
        for page in pages:
            predicted = system(page)
            outputs[name][page.page_id] = predicted
            scores[page.page_id] = score(predicted, page.gold)
        per_page[name] = {k: vars(v) for k, v in scores.items()}
        summary[name] = {
            metric: round(statistics.fmean(getattr(s, metric) for s in scores.values()), 4)
            for metric in ("precision", "recall", "f1")
        }
    print(f"{'system':<30} {'precision':>9} {'recall':>7} {'F1':>7}")
    for name, row in summary.items():
        print(f"{name:<30} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>7.3f}")
    return Evaluation(per_page, summary, outputs)


def worst_pages(
    pages: list[Page], evaluation: Evaluation, systems: list[str]
) -> dict[str, list[dict[str, object]]]:
    """The five lowest-scoring pages of each of `systems`, with a reason; printed too."""
    worst: dict[str, list[dict[str, object]]] = {}
    by_id = {p.page_id: p for p in pages}
    for name in systems:
        ranked = sorted(evaluation.per_page[name].items(), key=lambda kv: (kv[1]["f1"], kv[0]))
        worst[name] = []
        print(f"\nfive worst pages, {name}:")
        for page_id, values in ranked[:5]:
            page = by_id[page_id]
            reason = worst_reason(page, evaluation.outputs[name][page_id], Score(**values))
            worst[name].append({"id": page_id, "url": page.url, "f1": values["f1"], "why": reason})
            print(f"  {values['f1']:.3f}  {page_id[:12]}  {page.url[:60]:<60}  {reason}")
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dev",
        type=Path,
        default=DEFAULT_DEV,
        help="extraction-dev folder: gold.jsonl, dumps/, pages/ (not in the repository: README)",
    )
    parser.add_argument("--no-speed", action="store_true", help="skip the speed measurement")
    parser.add_argument(
        "--synth", type=Path, default=None, help="also time the captures benchmarks/synth.py wrote"
    )
    args = parser.parse_args()
    if not (args.dev / "gold.jsonl").is_file():
        parser.error(
            f"{args.dev}: no gold.jsonl here; --dev must point at a copy of the extraction "
            "development set (gold.jsonl, dumps/, pages/; README, section Build at scale)"
        )
    pages = load_pages(args.dev)
    print(f"extraction-dev: {len(pages)} pages, bag-of-tokens vs gold, mean over pages\n")
    evaluation = evaluate(pages, SYSTEMS)
    worst = worst_pages(pages, evaluation, ["newsvariants dump", "newsvariants html"])
    rates: dict[str, float] = {}
    if not args.no_speed:
        rates = measure_speed(pages, args.synth)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "extraction-dev",
        "pages": len(pages),
        "summary": evaluation.summary,
        "worst": worst,
        "speed": rates,
        "per_page": evaluation.per_page,
    }
    RESULTS.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
