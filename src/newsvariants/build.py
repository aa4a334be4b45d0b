"""The build: raw/ (+ the previous registry) -> corpus/.

Each stage lives in its own module and is a function over records; this module only runs them in
order (ingest -> extract -> normalize -> fingerprint/cluster -> stories -> align -> label ->
split -> pairs -> assemble -> validate -> write -> card), names the stage (and capture) when one
fails, writes into a temporary folder and swaps it in only after validation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from newsvariants import __version__
from newsvariants.align import ALIGN_VERSION, align_paragraphs
from newsvariants.annotations import (
    Annotation,
    check_not_quarantined,
    load_annotations,
    merge_units,
    resolve_annotations,
)
from newsvariants.cluster import Fingerprint, bodies_of, cluster_bodies, fingerprints
from newsvariants.columns import Member, VariantTable, decode, text_digest
from newsvariants.errors import NewsVariantsError, StageError, unusable_folder
from newsvariants.executor import WORKER_MODULES as executor_modules
from newsvariants.executor import Shared, release_free_memory
from newsvariants.extract import EXTRACTOR_VERSION, extract_capture
from newsvariants.ingest import load_captures
from newsvariants.label import LABEL_RULE_VERSION, document_relation, relation_of, unit_scores
from newsvariants.pairs import (
    LABELS,
    PAIR_DTYPE,
    POSITIVE_DTYPE,
    LocalPairs,
    SplitPairs,
    SplitTexts,
    local_pairs,
)
from newsvariants.records import (
    Alignment,
    AlignmentUnit,
    Capture,
    Extraction,
    Pair,
    Paragraph,
    Quarantined,
    Story,
    Variant,
)
from newsvariants.registry import REGISTRY_FILE, StoryEvent, StoryRegistry
from newsvariants.schema import SCHEMA_VERSION, arrow_types, class_label_names
from newsvariants.split import SPLITS
from newsvariants.write import (
    CONFIGS,
    ROW_GROUP_SIZE,
    SplitWriter,
    encode_rows,
    sha256_file,
)

T = TypeVar("T")
RULE_VERSION = f"align-{ALIGN_VERSION}/label-{LABEL_RULE_VERSION}"
DEFAULT_VERSION = "0.0.0"
# The modules of the functions the build hands to pool workers (extraction's `Finish`, alignment,
# fingerprints, the pairs search and its sparse products, validate's raw checks), after the
# executor's own: the fork server imports them once.
WORKER_MODULES = (
    *executor_modules,
    "newsvariants.build",
    "newsvariants.pairs",
    "newsvariants.validate",
    "scipy.sparse",
)


@dataclass
class CorpusRecords:
    """Everything the build publishes, by config and split."""

    stories: dict[str, list[Story]] = field(default_factory=dict)
    variants: dict[str, list[Variant]] = field(default_factory=dict)
    alignments: dict[str, list[Alignment]] = field(default_factory=dict)
    pairs: dict[str, list[Pair]] = field(default_factory=dict)

    def records(self, config: str) -> dict[str, list[Any]]:
        """split -> the config's records (dataclasses, in row order) for every split."""
        table = getattr(self, config)
        return {split: table.get(split, []) for split in SPLITS}

    def rows(self, config: str) -> dict[str, list[dict[str, Any]]]:
        return {split: [r.to_dict() for r in rs] for split, rs in self.records(config).items()}

    # Row counts of configs already written split by split (their records were freed).
    written: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, config: str) -> int:
        if config in self.written:
            return sum(self.written[config].values())
        return sum(len(rows) for rows in self.records(config).values())


@dataclass
class BuildResult:
    out: Path
    records: CorpusRecords
    events: list[StoryEvent]
    quarantined: list[Quarantined]
    captures: int
    # what the user should know that is not in the corpus (e.g. damaged cache entries redone)
    notes: list[str] = field(default_factory=list)


Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def run_stage(name: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one stage; any failure becomes a StageError naming the stage (and capture)."""
    try:
        return func(*args, **kwargs)
    except StageError:
        raise
    except NewsVariantsError as exc:
        raise StageError(name, str(exc)) from exc
    except Exception as exc:
        raise StageError(name, f"{type(exc).__name__}: {exc}") from exc
    finally:
        release_free_memory()


# --- stages -----------------------------------------------------------------------------------


def extract_all(
    raw: Path,
    captures: Sequence[Capture],
    progress: Progress = _no_progress,
    *,
    workers: int = 1,
    cache_dir: Path | None = None,
    engine: str = "local",
    runner: Any = None,
) -> tuple[dict[str, Extraction], list[Quarantined]]:
    """Extract every capture; a capture that cannot be read or has no body is quarantined.

    The per-capture work runs in newsvariants.executor: on `workers` processes (or Ray with
    engine="ray"), cached under `cache_dir` when given; the results never depend on either.
    """
    from newsvariants.executor import extract_captures

    return extract_captures(
        raw,
        captures,
        progress,
        workers=workers,
        cache_dir=cache_dir,
        engine=engine,
        extract=extract_capture,
        runner=runner,
    )


# Extractions turned into variant rows per batch: the Python records of one batch at a time.
TABLE_BATCH = 512


def extract_table(
    raw: Path, captures: Sequence[Capture], runner: Any, progress: Progress = _no_progress
) -> tuple[VariantTable, list[Quarantined]]:
    """`extract_all` for the build: the workers turn each extraction into its variant row (story
    ID blank, `variant_rows`), so the build holds Arrow rows, not Extraction objects, and the
    driver only gathers them (making and encoding the rows cost it ~3 s of its time at 10k
    captures, while the workers extract)."""
    from newsvariants.executor import Finish, iter_extractions

    quarantined: list[Quarantined] = []
    table = VariantTable()
    batch: list[tuple[Capture, VariantRow]] = []

    def flush() -> None:
        runs = _row_runs([row for _, row in batch])
        parts = [
            b for run in runs for b in (run.to_batches() if isinstance(run, pa.Table) else [run])
        ]
        rows = pa.Table.from_batches(parts, schema=arrow_types("variant"))
        table.add(
            rows.combine_chunks(), [c.capture_id for c, _ in batch], [r.digest for _, r in batch]
        )
        batch.clear()

    # the name keys the cache: a schema change must not read rows cached under another schema
    name = f"variant-row-{_schema_tag('variant')}"
    store = partial(VariantRow.to_cache, encode=SharedRows("variant"))
    finish = Finish(name, variant_rows, store, VariantRow.from_cache, _variant_batch)
    # extract_capture is looked up when the stage runs (tests replace it)
    found = iter_extractions(
        runner, raw, list(captures), progress, extract_capture, quarantined, finish
    )
    for capture, row in found:
        batch.append((capture, row))
        if len(batch) >= TABLE_BATCH:
            flush()
    if batch:
        flush()
    return table.freeze(arrow_types("variant")), quarantined


@dataclass(frozen=True)
class VariantRow:
    """One capture's extraction as its `variants` row (story ID blank): row `index` of `rows`, a
    table that the captures of one worker's chunk share (so they travel as one table, and the
    cache keeps that table once: `to_cache`), and the digest of its paragraph texts."""

    rows: pa.Table | pa.RecordBatch
    index: int
    digest: str

    def to_cache(self, encode: SharedRows | None = None) -> Shared:
        """Its chunk's table, kept once (an Arrow IPC message, `SharedRows`: the stage's
        `encode`), and its place in it. Kept a row at a time, reading the rows back cost ~40 us
        each (a message read, then 10k one-row batches put together), ~0.4 s of a 10k-capture
        rebuild."""
        key, data = (encode or SharedRows("variant"))(self.rows)
        return Shared(key, data, (self.index, self.digest))

    @classmethod
    def from_cache(cls, value: tuple[pa.RecordBatch, tuple[int, str]]) -> VariantRow:
        rows, (index, digest) = value
        if not (isinstance(rows, pa.RecordBatch) and 0 <= index < rows.num_rows):
            raise ValueError(f"not a cached variant row: {index!r} of {type(rows).__name__}")
        return cls(rows, index, str(digest))


def _variant_batch(data: bytes) -> pa.RecordBatch:
    return _from_batch_bytes(data, "variant")


def _row_runs(rows: list[VariantRow]) -> list[pa.Table | pa.RecordBatch]:
    """The rows as slices of their tables, one slice per run of consecutive rows of one table
    (a worker's chunk; a slice per row cost ~30 us a row to make and to concatenate)."""
    runs: list[pa.Table | pa.RecordBatch] = []
    start = 0
    for k in range(1, len(rows) + 1):
        same_table = k < len(rows) and rows[k].rows is rows[start].rows
        if same_table and rows[k].index == rows[k - 1].index + 1:
            continue
        runs.append(rows[start].rows.slice(rows[start].index, k - start))
        start = k
    return runs


def variant_rows(found: list[tuple[Capture, Extraction]]) -> list[VariantRow]:
    """Worker side of `extract_table` (module level: pickled to the pool): the variant rows of
    a chunk's extractions, encoded as one table."""
    rows = encode_rows("variant", [make_variant(c, e, "") for c, e in found])
    return [
        VariantRow(rows, k, text_digest(p.text for p in e.paragraphs))
        for k, (_, e) in enumerate(found)
    ]


def _batch_bytes(rows: pa.Table | pa.RecordBatch) -> bytes:
    """Rows as one Arrow IPC record-batch message, without the schema: read back with their
    kind's schema (`_from_batch_bytes`) they cost ~20 us a one-row value, where an IPC stream
    (schema, batch, end) cost ~95 us to open and its one-row table ~60 us more to concatenate
    (a warm 10k-capture rebuild loads 10k variant rows and ~9k alignments)."""
    if isinstance(rows, pa.Table):
        table = rows.combine_chunks()  # a message carries no schema, so no metadata either
        batches = table.to_batches()
        rows = batches[0] if batches else pa.RecordBatch.from_pylist([], schema=table.schema)
    return rows.serialize().to_pybytes()


def _from_batch_bytes(data: bytes, kind: str) -> pa.RecordBatch:
    return pa.ipc.read_record_batch(pa.py_buffer(data), arrow_types(kind))


class SharedRows:
    """The cache key and IPC bytes (`_batch_bytes`) of tables of `kind` rows that several cached
    values share (a worker chunk's rows). The key names the bytes (their digest) and the schema
    they are read with. One encoder a stage: a chunk's values are stored one after the other and
    each asks for their table's, so the last table is encoded once (and held, so that an `is`
    match is that table)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.last: tuple[pa.Table | pa.RecordBatch, str, bytes] | None = None

    def __call__(self, rows: pa.Table | pa.RecordBatch) -> tuple[str, bytes]:
        if self.last is None or self.last[0] is not rows:
            data = _batch_bytes(rows)
            digest = hashlib.sha256(data).hexdigest()[:32]
            self.last = (rows, f"rows|{self.kind}-{_schema_tag(self.kind)}|{digest}", data)
        return self.last[1], self.last[2]


@cache
def _schema_tag(kind: str) -> str:
    """Digest of the kind's Arrow schema: in the cache keys of rows kept as bare IPC messages."""
    return hashlib.sha256(arrow_types(kind).serialize().to_pybytes()).hexdigest()[:12]


def variant_id_of(capture_id: str) -> str:
    return f"v-{capture_id}"


# Code whose edits change fingerprints: part of every fingerprint cache key.
_FINGERPRINT_MODULES = (
    "newsvariants.fingerprint",
    "newsvariants.cluster",
    "newsvariants.normalize",
    "newsvariants.arrays",
)


def fingerprint_chunk(chunk: list[tuple[str, ...]]) -> list[tuple[str, Any]]:
    """Worker side of the fingerprints (module level: pickled to the pool): one shingle table
    for the chunk's bodies, a fingerprint per body."""
    from newsvariants.executor import attempt

    status, found = attempt(fingerprints, chunk)
    if status == "error":
        return [(status, found)] * len(chunk)
    return [("ok", fingerprint) for fingerprint in found]


def cluster_stage(
    table: VariantTable, runner: Any, progress: Progress = _no_progress
) -> list[list[str]]:
    """Clusters of capture IDs. Each body's fingerprint (shingles, band keys) is a function of its
    texts alone: made on the runner's workers and cached by the texts' digest; the bands'
    groupby runs on the runner's mapper, the rest in-process (cluster.py)."""
    from newsvariants.executor import code_fingerprint

    code = code_fingerprint(_FINGERPRINT_MODULES, ("ftfy",), "fingerprint")
    found: list[Fingerprint] = list(
        runner.stream(
            [f"fingerprint|{code}|{digest}" for digest in table.digests],
            table.paragraph_texts,
            fingerprint_chunk,
            lambda i, failure: StageError(
                "cluster", f"{failure.describe()} (capture {table.capture_ids[i]})"
            ),
            lambda n: progress("fingerprint", n, len(table)),
            store=Fingerprint.to_cache,
            load=Fingerprint.from_cache,
        )
    )
    assert table.table is not None
    sources = table.table.column("source").to_pylist()
    order = sorted(range(len(table)), key=table.capture_ids.__getitem__)
    bodies = bodies_of(
        [table.capture_ids[i] for i in order],
        [found[i] for i in order],
        [sources[i] for i in order],
    )
    del found
    runner.idle()  # the bands and the linking run in this process (local engines)
    progress("cluster", 0, 1)
    return cluster_bodies(bodies, runner.mapper)


def make_variant(capture: Capture, extraction: Extraction, story_id: str) -> Variant:
    vid = variant_id_of(capture.capture_id)
    return Variant(
        variant_id=vid,
        story_id=story_id,
        capture_id=capture.capture_id,
        capture_sha256=capture.sha256,
        source=capture.source,
        url=capture.url,
        title=extraction.title,
        byline=extraction.byline,
        published_at=extraction.published_at,
        captured_at=capture.captured_at,
        language=extraction.language,
        format=capture.format,
        paragraphs=[
            Paragraph(f"{vid}:p{i:03d}", p.text, p.start, p.end)
            for i, p in enumerate(extraction.paragraphs)
        ],
        captions=list(extraction.captions),
        title_span=extraction.title_span,
        byline_span=extraction.byline_span,
        removed=list(extraction.removed),
        extractor_version=extraction.extractor_version,
    )


def utc_instant(value: str) -> dt.datetime:
    """A date or date-time of the schemas' ISO 8601 forms as one UTC instant: a date-time's
    offset applied, a date taken from the start of its day. Compared as strings, the dates were
    out of order: "2024-05-01T23:30-05:00" sorted before "2024-05-02T01:00Z", which it follows,
    and "2022-04-13" before every time of the 13th."""
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:  # a date (the schemas require an offset with a time)
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def pivot_key(variant: Variant | Member) -> tuple[str, int, int, str]:
    """Earliest day (UTC) published or captured (unknown dates last), most complete on ties.

    By day, not by instant: a publication date has no time, so a capture's time cannot order it
    against one; and of two variants of one day the fuller one is the better reference (an
    excerpt captured an hour earlier made every paragraph of the article an `added` unit)."""
    date = variant.published_at or variant.captured_at
    day = utc_instant(date).date().isoformat() if date else "9999"
    if isinstance(variant, Member):
        count, length = variant.paragraphs, variant.length
    else:
        count, length = len(variant.paragraphs), sum(len(p.text) for p in variant.paragraphs)
    return (day, -count, -length, variant.variant_id)


def make_story(story_id: str, members: Sequence[Variant | Member], aliases: list[str]) -> Story:
    pivot = min(members, key=pivot_key)
    dates = [d for v in members for d in (v.published_at, v.captured_at) if d]
    titles = [v.title for v in sorted(members, key=pivot_key) if v.title]
    return Story(
        story_id=story_id,
        title=titles[0] if titles else None,
        # as written, the earliest by instant (ties: the string order, so the choice is stable)
        first_seen=min(dates, key=lambda d: (utc_instant(d), d)) if dates else None,
        n_variants=len(members),
        variant_ids=sorted(v.variant_id for v in members),
        pivot_variant_id=pivot.variant_id,
        sources=sorted({v.source for v in members}),
        aliases=aliases,
    )


def _join(variant: Variant, indexes: Sequence[int]) -> str:
    return "\n\n".join(variant.paragraphs[i].text for i in indexes)


def alignment_id(variant_a: str, variant_b: str, pa: Sequence[int], pb: Sequence[int]) -> str:
    key = f"{variant_a}|{variant_b}|{list(pa)}|{list(pb)}"
    return "a-" + hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Side:
    """What aligning needs of one variant: its ID and its paragraph texts."""

    variant_id: str
    texts: tuple[str, ...]

    @classmethod
    def of(cls, variant: Variant) -> Side:
        return cls(variant.variant_id, tuple(p.text for p in variant.paragraphs))

    def join(self, indexes: Sequence[int]) -> str:
        return "\n\n".join(self.texts[i] for i in indexes)

    def digest(self) -> str:
        return text_digest(self.texts)


def label_unit(
    story_id: str,
    a: Variant | Side,
    b: Variant | Side,
    unit: AlignmentUnit,
    relation: str | None = None,
) -> Alignment:
    a = a if isinstance(a, Side) else Side.of(a)
    b = b if isinstance(b, Side) else Side.of(b)
    text_a, text_b = a.join(unit.paragraphs_a), b.join(unit.paragraphs_b)
    scores, diff = unit_scores(text_a, text_b)
    rule = relation_of(len(unit.paragraphs_a), len(unit.paragraphs_b), text_a, text_b, scores)
    return Alignment(
        alignment_id=alignment_id(a.variant_id, b.variant_id, unit.paragraphs_a, unit.paragraphs_b),
        story_id=story_id,
        variant_a=a.variant_id,
        variant_b=b.variant_id,
        paragraphs_a=list(unit.paragraphs_a),
        paragraphs_b=list(unit.paragraphs_b),
        relation=relation or rule,
        scores=scores,
        diff=diff,
        text_a=text_a,
        text_b=text_b,
        label_source="human" if relation else "rule",
        rule_version=RULE_VERSION,
    )


@dataclass(frozen=True)
class AlignTask:
    """One variant to align (and label) against its story's pivot: the unit of parallel work."""

    story_id: str
    pivot: Side
    other: Side


def align_pair(task: AlignTask) -> list[Alignment]:
    units = align_paragraphs(list(task.pivot.texts), list(task.other.texts))
    return [label_unit(task.story_id, task.pivot, task.other, u) for u in units]


def align_tasks(story: Story, members: dict[str, Variant]) -> list[AlignTask]:
    """Every non-pivot variant against the pivot: n - 1 tasks for n variants."""
    pivot = Side.of(members[story.pivot_variant_id])
    return [
        AlignTask(story.story_id, pivot, Side.of(members[vid]))
        for vid in story.variant_ids
        if vid != pivot.variant_id
    ]


def align_story(story: Story, members: dict[str, Variant]) -> list[Alignment]:
    """Units of every non-pivot variant against the pivot: n - 1 alignments for n variants."""
    return [al for task in align_tasks(story, members) for al in align_pair(task)]


def _unit_sort(al: Alignment) -> tuple[int, int]:
    if al.paragraphs_a:
        return (al.paragraphs_a[0], al.paragraphs_b[0] if al.paragraphs_b else -1)
    return (10**9, al.paragraphs_b[0])


def _finish(task: AlignTask, alignments: list[Alignment]) -> tuple[list[Alignment], Any, Any]:
    """A variant's units in published order, its document relation and the pairs they decide."""
    units = sorted(alignments, key=_unit_sort)
    pivot, other = task.pivot, task.other
    doc = None
    if other.texts:
        doc = document_relation("\n\n".join(pivot.texts), "\n\n".join(other.texts), units)
    pairs = local_pairs(
        pivot.variant_id, len(pivot.texts), other.variant_id, len(other.texts), units, doc
    )
    return units, doc, pairs


@dataclass(frozen=True)
class Aligned:
    """One variant aligned to its pivot (what the align workers return, and the cache keeps):
    its units as alignment rows (rows start..start + count of `rows`, a table the variants of
    one chunk share, so a chunk's rows travel as one table), its document relation and the
    pairs that its alignment alone decides."""

    rows: pa.Table
    start: int
    count: int
    doc_relation: str | None
    pairs: LocalPairs

    def units(self) -> pa.Table:
        return self.rows.slice(self.start, self.count)

    def to_cache(self, encode: SharedRows | None = None) -> Shared:
        """What the cache keeps: its chunk's rows once (an Arrow IPC message, `SharedRows`: the
        stage's `encode`) and its place in them, with its document relation and pairs (their
        arrays as bytes: a pickled structured array cost ~8 us to load back, two per variant)."""
        key, data = (encode or SharedRows("alignment"))(self.rows)
        local = self.pairs
        if local.pairs.dtype != PAIR_DTYPE or local.positives.dtype != POSITIVE_DTYPE:
            raise ValueError("local pairs of another layout than pairs.py's dtypes")
        arrays = (local.pairs.tobytes(), local.positives.tobytes(), local.prefixes)
        return Shared(key, data, (self.start, self.count, self.doc_relation, *arrays))

    @classmethod
    def from_cache(
        cls, value: tuple[pa.Table, tuple[int, int, str | None, bytes, bytes, tuple[str, ...]]]
    ) -> Aligned:
        rows, (start, count, doc, pairs, positives, prefixes) = value
        if not (isinstance(rows, pa.Table) and 0 <= start <= start + count <= rows.num_rows):
            raise ValueError(f"not a cached alignment: rows {start}+{count!r}")
        if not (isinstance(prefixes, tuple) and all(isinstance(p, str) for p in prefixes)):
            raise ValueError("not a cached alignment's pair prefixes")
        local = LocalPairs(
            np.frombuffer(pairs, PAIR_DTYPE), np.frombuffer(positives, POSITIVE_DTYPE), prefixes
        )
        return cls(rows, start, count, doc, local)


def _alignment_table(data: bytes) -> pa.Table:
    return pa.Table.from_batches([_from_batch_bytes(data, "alignment")])


def align_chunk(chunk: list[AlignTask]) -> list[tuple[str, Any]]:
    """Worker side of the alignment (module level: pickled to the pool): align, label, sort,
    relate the documents and draw the local pairs of each task, then encode the chunk's units
    as one Arrow table."""
    from newsvariants.executor import attempt

    outcomes = [attempt(lambda t: _finish(t, align_pair(t)), task) for task in chunk]
    rows = encode_rows(
        "alignment", [al for status, value in outcomes if status == "ok" for al in value[0]]
    )
    results: list[tuple[str, Any]] = []
    start = 0
    for status, value in outcomes:
        if status != "ok":
            results.append((status, value))
            continue
        units, doc, pairs = value
        results.append(("ok", Aligned(rows, start, len(units), doc, pairs)))
        start += len(units)
    return results


# Code whose edits change alignments: part of every align cache key.
_ALIGN_MODULES = (
    "newsvariants.align",
    "newsvariants.label",
    "newsvariants.normalize",
    "newsvariants.records",
    "newsvariants.pairs",
    "newsvariants.build",
)
_ALIGN_LIBRARIES = ("rapidfuzz", "ftfy", "pyarrow")


def _annotated_units(
    story_id: str, rule: list[Alignment], anns: Sequence[Annotation], a: Side, b: Side
) -> list[Alignment]:
    """The rule's units of one (pivot, variant) pair with the annotated ones in their place."""
    kept, leftover = merge_units(
        [AlignmentUnit(tuple(al.paragraphs_a), tuple(al.paragraphs_b)) for al in rule],
        [ann.unit for ann in anns],
        len(a.texts),
        len(b.texts),
    )
    kept_units = set(kept)
    result = [
        al
        for al in rule
        if AlignmentUnit(tuple(al.paragraphs_a), tuple(al.paragraphs_b)) in kept_units
    ]
    result += [label_unit(story_id, a, b, unit) for unit in leftover]
    result += [label_unit(story_id, a, b, ann.unit, ann.relation) for ann in anns]
    return result


def apply_annotations(
    alignments: list[Alignment], annotations: Sequence[Annotation], variants: dict[str, Variant]
) -> list[Alignment]:
    """Replace the rule's units by the annotated ones (label_source "human") where a human judged.

    Fails (AnnotationError naming file and line) when an annotation no longer matches the corpus;
    a rule unit partly covered by an annotation is dropped and its other paragraphs become
    `removed`/`added` units, so every paragraph still lies in exactly one unit.
    """
    if not annotations:
        return alignments
    pivot_of = {al.variant_b: al.variant_a for al in alignments}

    def text_of(variant_id: str, indexes: Sequence[int]) -> str | None:
        variant = variants.get(variant_id)
        if variant is None:
            return None
        if any(i >= len(variant.paragraphs) for i in indexes):
            raise IndexError(variant_id)
        return _join(variant, indexes)

    by_pair = resolve_annotations(annotations, pivot_of, text_of)
    result = [al for al in alignments if (al.variant_a, al.variant_b) not in by_pair]
    rule_of: dict[tuple[str, str], list[Alignment]] = {pair: [] for pair in by_pair}
    for al in alignments:
        if (al.variant_a, al.variant_b) in rule_of:
            rule_of[(al.variant_a, al.variant_b)].append(al)
    for (va, vb), anns in sorted(by_pair.items()):
        a, b = variants[va], variants[vb]
        result += _annotated_units(b.story_id, rule_of[(va, vb)], anns, Side.of(a), Side.of(b))
    return result


@dataclass
class _Story:
    """A story of the build: its record and its members' rows in the variant table."""

    record: Story
    rows: list[int]  # in variant ID order
    pivot: int  # row of the pivot


def plan_stories(
    table: VariantTable, clusters: list[list[str]], registry: StoryRegistry
) -> tuple[dict[str, list[_Story]], list[StoryEvent]]:
    """Story IDs (the registry), records and pivots of every cluster, by split (sorted by ID)."""
    story_ids, events = registry.assign(clusters)
    members = table.members()
    row_of = table.row_of
    by_split: dict[str, list[_Story]] = {split: [] for split in SPLITS}
    for sid, cluster in zip(story_ids, clusters, strict=True):
        group = [members[row_of[c]] for c in cluster]
        record = make_story(sid, group, registry.stories[sid].aliases)
        rows = [m.row for m in sorted(group, key=lambda m: m.variant_id)]
        pivot = next(m.row for m in group if m.variant_id == record.pivot_variant_id)
        by_split[registry.split_of(sid)].append(_Story(record, rows, pivot))
    for stories in by_split.values():
        stories.sort(key=lambda s: s.record.story_id)
    return by_split, events


def assemble(
    table: VariantTable,
    clusters: list[list[str]],
    registry: StoryRegistry,
    annotations: Sequence[Annotation],
    runner: Any = None,
    progress: Progress = _no_progress,
    writer: SplitWriter | None = None,
    keep_records: bool = True,
) -> tuple[CorpusRecords, list[StoryEvent]]:
    """Stories, variants, alignments and pairs of every split, one split after the other: its
    variants are aligned on the runner's workers as a stream, each row group of alignments is
    written (with a `writer`, write.SplitWriter) as soon as it is complete, then the split's
    pairs are drawn and written a row group at a time. Unless `keep_records`, the returned
    records hold only row counts (bounded memory)."""
    from newsvariants.executor import stage_runner

    if runner is None:  # the sequential engine, no cache
        with stage_runner() as own:
            return assemble(
                table, clusters, registry, annotations, own, progress, writer, keep_records
            )
    by_split, events = plan_stories(table, clusters, registry)
    variant_ids = [variant_id_of(c) for c in table.capture_ids]
    pivot_of = {
        variant_ids[row]: variant_ids[s.pivot]
        for stories in by_split.values()
        for s in stories
        for row in s.rows
        if row != s.pivot
    }
    row_of = {vid: row for row, vid in enumerate(variant_ids)}

    def text_of(variant_id: str, indexes: Sequence[int]) -> str | None:
        row = row_of.get(variant_id)
        if row is None:
            return None
        texts = table.paragraph_texts(row)
        if any(i >= len(texts) for i in indexes):
            raise IndexError(variant_id)
        return "\n\n".join(texts[i] for i in indexes)

    by_pair = (
        run_stage("label", resolve_annotations, annotations, pivot_of, text_of)
        if annotations
        else {}
    )
    records = CorpusRecords()
    total = sum(len(s.rows) - 1 for stories in by_split.values() for s in stories)
    counter = _Counter(progress, total)
    for split in SPLITS:
        _assemble_split(
            split, by_split.pop(split), table, by_pair, runner, counter, writer, keep_records,
            records,
        )  # fmt: skip
    return records, events


@dataclass
class _Counter:
    """Progress of the alignment over every split."""

    progress: Progress
    total: int
    done: int = 0

    def report(self, split_done: int) -> None:
        self.progress("align", self.done + split_done, self.total)


def _assemble_split(
    split: str,
    stories: list[_Story],
    table: VariantTable,
    by_pair: dict[tuple[str, str], list[Annotation]],
    runner: Any,
    counter: _Counter,
    writer: SplitWriter | None,
    keep_records: bool,
    records: CorpusRecords,
) -> None:
    from newsvariants.executor import CACHE_FORMAT, code_fingerprint

    assert table.table is not None
    rows = [row for s in stories for row in s.rows]
    position = {row: n for n, row in enumerate(rows)}
    sizes = [len(s.rows) for s in stories]
    story_of_row = pa.array(np.repeat(np.arange(len(stories), dtype=np.int64), sizes), pa.int64())
    story_ids = pa.array([s.record.story_id for s in stories], pa.string())
    variants = table.table.take(pa.array(rows, pa.int64()))
    variants = variants.set_column(
        variants.schema.get_field_index("story_id"),
        variants.schema.field("story_id"),
        pc.take(story_ids, story_of_row),
    )
    story_records = [s.record for s in stories]
    _emit(writer, records, keep_records, "stories", split, encode_rows("story", story_records))
    _emit(writer, records, keep_records, "variants", split, variants)

    # alignment: every non-pivot variant against its story's pivot, streamed in output order
    tasks = [(n, s.pivot, row) for n, s in enumerate(stories) for row in s.rows if row != s.pivot]
    # the schema's digest too: rows are cached as bare IPC messages, read with today's schema
    code = code_fingerprint(
        _ALIGN_MODULES,
        _ALIGN_LIBRARIES,
        f"{CACHE_FORMAT}|{RULE_VERSION}|{_schema_tag('alignment')}",
    )
    vid = [variant_id_of(table.capture_ids[row]) for row in rows]
    keys = [
        f"align|{code}|{vid[position[p]]}|{table.digests[p]}|{vid[position[o]]}|{table.digests[o]}"
        for _, p, o in tasks
    ]
    pivot_texts: dict[int, tuple[str, ...]] = {}

    def task_at(i: int) -> AlignTask:
        n, pivot, other = tasks[i]
        if pivot not in pivot_texts:  # consecutive tasks share their pivot
            pivot_texts.clear()
            pivot_texts[pivot] = table.paragraph_texts(pivot)
        return AlignTask(
            stories[n].record.story_id,
            Side(vid[position[pivot]], pivot_texts[pivot]),
            Side(vid[position[other]], table.paragraph_texts(other)),
        )

    first = np.r_[0, np.cumsum(np.diff(table.first)[rows])].astype(np.int64)
    pairs = SplitPairs(first)
    units = _UnitBlocks(writer, records, keep_records, split)

    def align() -> None:
        found = runner.stream(
            keys,
            task_at,
            align_chunk,
            lambda i, failure: StageError(
                "align",
                f"{failure.describe()} (story {stories[tasks[i][0]].record.story_id}, "
                f"{vid[position[tasks[i][2]]]})",
            ),
            counter.report,
            groups=[n for n, _, _ in tasks],
            store=partial(Aligned.to_cache, encode=SharedRows("alignment")),
            load=Aligned.from_cache,
            load_whole=_alignment_table,
        )
        for i, ((n, pivot, other), aligned) in enumerate(zip(tasks, found, strict=True)):
            story_id = stories[n].record.story_id
            result = aligned.units()
            if result.num_rows and result.column("story_id")[0].as_py() != story_id:
                # cached before a merge renamed the story: the texts (the key) are the same
                result = result.set_column(
                    result.schema.get_field_index("story_id"),
                    result.schema.field("story_id"),
                    pa.array([story_id] * result.num_rows, pa.string()),
                )
            anns = by_pair.get((vid[position[pivot]], vid[position[other]]))
            if anns:
                task = task_at(i)
                rule = decode("alignment", result)
                done = _finish(task, _annotated_units(story_id, rule, anns, task.pivot, task.other))
                result = encode_rows("alignment", done[0])
                aligned = Aligned(result, 0, result.num_rows, done[1], done[2])
            pairs.add(aligned.pairs, units.rows, position[pivot], position[other])
            units.add(result, position[pivot], position[other])
        units.close()

    run_stage("align", align)
    counter.done += len(tasks)
    texts = SplitTexts(
        variant_ids=variants.column("variant_id").combine_chunks(),
        story_ids=variants.column("story_id").combine_chunks(),
        story_code=np.repeat(np.arange(len(stories), dtype=np.int64), sizes),
        first=first,
        texts=pa.concat_arrays(
            [c.flatten().field("text") for c in variants.column("paragraphs").chunks]
        )
        if variants.num_rows
        else pa.array([], pa.string()),
        unit_variant=units.variant(),
        unit_offsets=units.offsets(),
        unit_values=units.values(),
    )
    del variants
    runner.idle()  # the pool's workers restart (small) if the nearest_other search uses them
    found = run_stage("pairs", pairs.finish, texts, runner.mapper, runner.workers)
    run_stage("write", _write_pairs, writer, records, keep_records, split, texts, found)


def _emit(
    writer: SplitWriter | None,
    records: CorpusRecords,
    keep_records: bool,
    config: str,
    split: str,
    rows: pa.Table,
) -> None:
    """One whole config/split file (to the writer; decoded into records when they are kept)."""
    if writer is not None:
        run_stage("write", writer.write_table, config, split, rows)
        records.written.setdefault(config, {})[split] = rows.num_rows
    if writer is None or keep_records:
        getattr(records, config)[split] = decode(CONFIGS[config], rows)


class _UnitBlocks:
    """A split's alignment rows as they stream in, written a row group at a time; keeps of each
    row what pairs need (its variants and paragraph indexes, as numbers)."""

    def __init__(
        self, writer: SplitWriter | None, records: CorpusRecords, keep: bool, split: str
    ) -> None:
        self.out = writer.blocks("alignments", split) if writer is not None else None
        self.records, self.keep, self.split = records, keep or writer is None, split
        self.pending: list[pa.Table] = []
        self.pending_rows = 0
        self.rows = 0
        self.variants: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
        self.lists: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"a": [], "b": []}
        if self.keep:
            records.alignments[split] = []

    def add(self, rows: pa.Table, pivot: int, other: int) -> None:
        self.variants[0].append(np.full(rows.num_rows, pivot, dtype=np.int64))
        self.variants[1].append(np.full(rows.num_rows, other, dtype=np.int64))
        self.rows += rows.num_rows
        self.pending.append(rows)
        self.pending_rows += rows.num_rows
        if self.pending_rows >= ROW_GROUP_SIZE:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        if not self.pending:
            return
        whole = pa.concat_tables(self.pending).combine_chunks()
        cut = whole.num_rows if final else whole.num_rows - whole.num_rows % ROW_GROUP_SIZE
        for start in range(0, cut, ROW_GROUP_SIZE):
            self._block(whole.slice(start, min(ROW_GROUP_SIZE, cut - start)))
        rest = whole.slice(cut)
        self.pending = [rest] if rest.num_rows else []
        self.pending_rows = rest.num_rows

    def _block(self, block: pa.Table) -> None:
        block = block.combine_chunks()
        for side in ("a", "b"):
            lists = block.column(f"paragraphs_{side}").chunk(0)
            offsets = lists.offsets.to_numpy().astype(np.int64)
            values = lists.values.to_numpy().astype(np.int64)
            self.lists[side].append((offsets[:-1] - offsets[0], values[offsets[0] : offsets[-1]]))
        if self.out is not None:
            self.out.add(block)
        if self.keep:
            self.records.alignments[self.split] += decode("alignment", block)

    def close(self) -> None:
        self._flush(final=True)
        if self.out is not None:
            run_stage("write", self.out.close)
            self.records.written.setdefault("alignments", {})[self.split] = self.rows

    def variant(self) -> tuple[np.ndarray, np.ndarray]:
        return tuple(  # type: ignore[return-value]
            np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            for parts in self.variants
        )

    def _joined(self, side: str) -> tuple[np.ndarray, np.ndarray]:
        offsets, values, base = [], [], 0
        for starts, flat in self.lists[side]:
            offsets.append(starts + base)
            values.append(flat)
            base += len(flat)
        offsets.append(np.array([base], dtype=np.int64))
        return np.concatenate(offsets), (
            np.concatenate(values) if values else np.zeros(0, dtype=np.int64)
        )

    def offsets(self) -> tuple[np.ndarray, np.ndarray]:
        return self._joined("a")[0], self._joined("b")[0]

    def values(self) -> tuple[np.ndarray, np.ndarray]:
        return self._joined("a")[1], self._joined("b")[1]


def _write_pairs(
    writer: SplitWriter | None,
    records: CorpusRecords,
    keep_records: bool,
    split: str,
    texts: SplitTexts,
    pairs: np.ndarray,
) -> None:
    """The split's pairs, a row group at a time (their texts are joined block by block)."""
    schema = arrow_types("pair")
    label_names = class_label_names("pair", "label")
    label_ids = [label_names.index(name) for name in LABELS]
    out = writer.blocks("pairs", split) if writer is not None else None
    keep = keep_records or writer is None
    if keep:
        records.pairs[split] = []
    for start in range(0, len(pairs), ROW_GROUP_SIZE):
        block = texts.table(pairs[start : start + ROW_GROUP_SIZE], schema, label_ids)
        if out is not None:
            out.add(block)
        if keep:
            records.pairs[split] += decode("pair", block)
    if out is not None:
        out.close()
        records.written.setdefault("pairs", {})[split] = len(pairs)


# --- inputs digest ----------------------------------------------------------------------------


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_parameters() -> dict[str, Any]:
    from newsvariants import align, cluster, fingerprint, label, pairs, split

    return {
        "extractor_version": EXTRACTOR_VERSION,
        "shingle_size": fingerprint.SHINGLE_SIZE,
        "num_perm": fingerprint.NUM_PERM,
        "minhash_seed": fingerprint.MINHASH_SEED,
        **cluster.parameters(),
        "align_version": align.ALIGN_VERSION,
        "match_min": align.MATCH_MIN,
        "move_min": align.MOVE_MIN,
        "part_min": align.PART_MIN,
        "gap_min": align.GAP_MIN,
        "label_rule_version": label.LABEL_RULE_VERSION,
        "minor_edit_max": label.MINOR_EDIT_MAX,
        "minor_char_min": label.MINOR_CHAR_MIN,
        "pairs_version": pairs.PAIRS_VERSION,
        "split_salt": split.SPLIT_SALT,
    }


def inputs_digest(raw: Path, registry_text: str | None) -> dict[str, Any]:
    from newsvariants.ingest import records_sha256

    ann_dir = raw / "annotations"
    ann = (
        b"".join(p.name.encode() + b"\0" + p.read_bytes() for p in sorted(ann_dir.glob("*.jsonl")))
        if ann_dir.is_dir()
        else b""
    )
    inputs: dict[str, Any] = {
        "raw_manifest_sha256": records_sha256(raw),
        "registry_sha256": _sha256_text(registry_text) if registry_text is not None else None,
        "annotations_sha256": hashlib.sha256(ann).hexdigest(),
        "code_version": __version__,
        "parameters": build_parameters(),
    }
    inputs["digest"] = _sha256_text(json.dumps(inputs, sort_keys=True))
    return {"digest": inputs.pop("digest"), **inputs}


# --- the executor -------------------------------------------------------------------------------


@contextmanager
def staging_dir(out: Path) -> Iterator[Path]:
    """A temporary folder beside `out`; removed unless swapped in. A place where it cannot be
    made (a read-only folder, a parent that is a file) is an error naming `out`, raised before
    any stage has run (it was a traceback)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned_staging(out)
        # the process ID in the name tells a later build whether this one is still running
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-build-{os.getpid()}-", dir=out.parent))
    except OSError as exc:
        raise NewsVariantsError(
            f"{out}: cannot write the corpus there ({unusable_folder(out.parent, exc)})"
        ) from exc
    try:
        # mkdtemp makes a private (0700) folder, and this one becomes the corpus: give it the
        # mode any new folder gets here (the umask's), read off a folder made inside it.
        probe = tmp / ".mode"
        probe.mkdir()
        tmp.chmod(probe.stat().st_mode & 0o777)
        probe.rmdir()
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def remove_abandoned_staging(out: Path) -> list[Path]:
    """Remove the staging folders of killed builds into `out` (a killed 100k-capture build
    leaves gigabytes): those whose process is gone. A running build's folder is left alone, and
    so is one whose name holds no process ID."""
    removed = []
    for folder in sorted(out.parent.glob(f".{out.name}-build-*")):
        pid = folder.name.removeprefix(f".{out.name}-build-").split("-")[0]
        if not pid.isdigit() or _process_exists(int(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def backup_of(out: Path) -> Path:
    """Where `swap_in` keeps the previous corpus while it renames the new one into place."""
    return out.with_name(f".{out.name}-previous")


def check_output_folder(raw: Path, out: Path) -> None:
    """A build replaces `out` whole: refuse a folder that is not a corpus (a raw/, a folder of
    notes, a file), where it deleted whatever was there."""
    if out.exists() and not out.is_dir():
        raise NewsVariantsError(f"{out}: not a folder (the corpus is written as a folder)")
    here, source = out.resolve(), raw.resolve()
    if here == source or here in source.parents or source in here.parents:
        raise NewsVariantsError(
            f"{out}: the output folder and raw/ ({raw}) must not contain one another: a build "
            "replaces the whole output folder"
        )
    if out.is_dir() and any(out.iterdir()) and not (out / "MANIFEST.json").is_file():
        raise NewsVariantsError(
            f"{out}: neither empty nor a corpus (no MANIFEST.json): a build replaces the whole "
            "folder, so give a new or empty folder, or a corpus folder"
        )


def recover_interrupted_swap(out: Path) -> bool:
    """Put the previous corpus back if a build was killed between `swap_in`'s two renames (no
    `out`, only its backup): a killed build must leave the corpus it would have replaced. True if
    it did."""
    backup = backup_of(out)
    if out.exists() or not backup.is_dir():
        return False
    os.replace(backup, out)
    return True


def swap_in(tmp: Path, out: Path) -> None:
    """Replace `out` by `tmp` with renames only (the old corpus survives until the last step;
    `recover_interrupted_swap` puts it back if the process dies between the two)."""
    backup = backup_of(out)
    try:
        if backup.exists():
            shutil.rmtree(backup)
        if out.exists():
            os.replace(out, backup)
    except OSError as exc:
        raise _swap_error(out, exc) from exc
    try:
        os.replace(tmp, out)
    except BaseException as exc:
        if backup.exists():
            os.replace(backup, out)
        if isinstance(exc, OSError):
            raise _swap_error(out, exc) from exc
        raise
    if backup.exists():
        shutil.rmtree(backup)


def _swap_error(out: Path, exc: OSError) -> NewsVariantsError:
    """The error of a corpus folder that cannot be renamed (a mount point: "Device or resource
    busy"; a parent without write permission), telling that the previous corpus is intact."""
    return NewsVariantsError(
        f"{out}: cannot put the new corpus in place ({unusable_folder(out, exc)}); the previous "
        "corpus is unchanged. Is the folder a mount point, or its parent read-only? Build into "
        "another folder with --out."
    )


RELEASED_DIR = "released"  # beside raw/: the last release's REGISTRY.json and MANIFEST.json


def released_dir(beside: Path) -> Path:
    """Where `newsvariants release` keeps the last release's registry and manifest: `released/`
    beside raw/ (and beside corpus/, its sibling in a checkout: `beside` is either). With raw/,
    they are the next build's inputs: story IDs and splits come from the release, not from
    whichever build ran last, so every build of the same raw/ after a release writes the same
    files, and `validate --rebuild` can redo the build a corpus came from."""
    return Path(os.path.abspath(beside)).parent / RELEASED_DIR


def default_registry(raw: Path) -> Path | None:
    """The last release's registry (`released_dir`), or None before the first release."""
    path = released_dir(raw) / REGISTRY_FILE
    return path if path.is_file() else None


def previous_manifest(registry_path: Path | None) -> dict[str, Any] | None:
    """The MANIFEST.json beside the registry the build starts from (the last release's)."""
    manifest = registry_path.parent / "MANIFEST.json" if registry_path is not None else None
    if manifest is None or not manifest.exists():
        return None
    return json.loads(manifest.read_text(encoding="utf-8"))


def build(
    raw: Path,
    out: Path,
    registry_path: Path | None = None,
    version: str | None = None,
    progress: Progress = _no_progress,
    *,
    workers: int = 1,
    cache_dir: Path | None = None,
    engine: str = "local",
    keep_records: bool = True,
) -> BuildResult:
    """Build the corpus from raw/ into out/ (atomically).

    `workers` processes extract captures (0: one per core), `cache_dir` keeps per-capture work
    between builds, `engine="ray"` runs it on Ray Data; none of them changes a byte of the output.
    Each split is written as soon as it is made; `keep_records=False` frees its records then
    (BuildResult.records keeps only row counts: what the command line and large builds want).
    """
    from newsvariants.card import render_card
    from newsvariants.executor import boot_forkserver, runs_a_pool, stage_runner
    from newsvariants.validate import validate_corpus
    from newsvariants.write import write_corpus

    out = Path(os.path.abspath(out))  # "." has no name to put a staging folder beside
    recover_interrupted_swap(out)
    if runs_a_pool(workers, engine):
        boot_forkserver(WORKER_MODULES)  # its imports overlap reading raw/
    # No registry given: story IDs and splits start afresh. The registry is never taken from
    # `out` by default: that is the last build's, and a build must depend on raw/ and the last
    # release's registry only, not on which builds ran since (`released_dir`).
    if registry_path is not None and not registry_path.is_file():
        raise NewsVariantsError(f"{registry_path}: no such registry file (the previous release's)")
    registry_text = registry_path.read_text(encoding="utf-8") if registry_path else None
    registry = run_stage("registry", StoryRegistry.load, registry_path)
    previous = previous_manifest(registry_path)
    if version is None and previous is not None:
        # the previous version names this build only if its files come out the same (write)
        version = previous.get("version", DEFAULT_VERSION)
        previous_files = {f["path"]: f["sha256"] for f in previous.get("files", [])}
    else:
        version, previous_files = version or DEFAULT_VERSION, None

    captures = run_stage("ingest", load_captures, raw)
    check_output_folder(raw, out)  # after raw/ itself is checked: its error is the clearer one
    with ExitStack() as stack:
        tmp = stack.enter_context(staging_dir(out))
        runner = stack.enter_context(
            stage_runner(workers, engine, cache_dir, len(captures), WORKER_MODULES)
        )
        table, quarantined = run_stage("extract", extract_table, raw, captures, runner, progress)
        captured = len(captures)
        del captures  # ~1 KB a capture (its manifest record), of no use after extraction
        clusters = run_stage("cluster", cluster_stage, table, runner, progress)
        annotations = run_stage("annotations", load_annotations, raw)
        why = {variant_id_of(q.capture_id): f"{q.path}: {q.reason}" for q in quarantined}
        run_stage("annotations", check_not_quarantined, annotations, why)
        writer = stack.enter_context(closing(SplitWriter(tmp)))
        records, events = assemble(
            table, clusters, registry, annotations, runner, progress, writer, keep_records
        )
        del table
        inputs = inputs_digest(raw, registry_text)
        report = {
            "captures": captured,
            "variants": records.count("variants"),
            "quarantined": [q.__dict__ for q in sorted(quarantined, key=lambda q: q.capture_id)],
        }
        progress("write", 0, 1)
        run_stage(
            "write",
            write_corpus,
            tmp,
            writer,
            registry,
            inputs,
            report,
            version,
            SCHEMA_VERSION,
            previous_files,
        )
        run_stage("card", render_card, tmp)
        run_stage("validate", validate_corpus, tmp, raw, runner.mapper, runner.workers)
        swap_in(tmp, out)
    notes = runner.cache.notes()
    return BuildResult(out, records, events, quarantined, captured, notes)


def rebuild_differences(
    corpus: Path, raw: Path, workers: int = 1, registry: Path | None = None
) -> list[str]:
    """How the files of `corpus` differ from a rebuild from `raw` and `registry`, the registry
    the corpus was built from (one line a file, sorted; empty when every byte is reproduced).

    Validation checks records against their schemas, each other and raw/, and files against
    MANIFEST.json; a label or relation changed by hand, with the checksum recomputed, passes all
    of that. Only rebuilding shows that the published files are what the inputs and the code
    make, which is the claim a release makes. The corpus's own REGISTRY.json is its build's
    output, not its input (a build that makes new stories adds them): MANIFEST.json names the
    registry the build started from by its SHA-256, and `registry` must be that file."""
    manifest = json.loads((corpus / "MANIFEST.json").read_text(encoding="utf-8"))
    wanted = manifest["inputs"].get("registry_sha256")
    # as the build hashes it (inputs_digest): its text
    given = _sha256_text(registry.read_text(encoding="utf-8")) if registry is not None else None
    if given != wanted:
        built_from = f"a registry with SHA-256 {wanted[:12]}…" if wanted else "no registry"
        found = f"{registry} has SHA-256 {given[:12]}…" if given else "none was given"
        raise NewsVariantsError(
            f"{corpus}: built from {built_from}, but {found}: rebuild with the registry it was "
            "built from (--registry; by default the last release's, released/REGISTRY.json)"
        )
    with tempfile.TemporaryDirectory(prefix="newsvariants-rebuild-") as scratch:
        again = Path(scratch) / "corpus"
        build(raw, again, registry_path=registry, workers=workers, keep_records=False)
        # A release downloaded from the Hub holds its inputs inside it (`raw/`, `released/`):
        # they are what the rebuild reads, not files it should make.
        inputs = [raw, released_dir(raw)] + ([registry.parent] if registry is not None else [])
        published = _file_hashes(corpus, skip=inputs)
        return _tree_differences(published, _file_hashes(again))


def _file_hashes(folder: Path, skip: Sequence[Path] = ()) -> dict[str, str]:
    """SHA-256 of every file under `folder` by its relative path, but those under `skip`."""
    skipped = [os.path.abspath(path) + os.sep for path in skip]
    return {
        path.relative_to(folder).as_posix(): sha256_file(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not os.path.abspath(path).startswith(tuple(skipped))
    }


def _tree_differences(published: dict[str, str], rebuilt: dict[str, str]) -> list[str]:
    lines = []
    for path in sorted(published.keys() | rebuilt.keys()):
        if path not in rebuilt:
            lines.append(f"{path}: not made by the rebuild")
        elif path not in published:
            lines.append(f"{path}: made by the rebuild, missing from the corpus")
        elif published[path] != rebuilt[path]:
            lines.append(f"{path}: differs from the rebuild")
    return lines
