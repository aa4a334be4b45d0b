"""The build: raw/ (+ the previous registry) -> corpus/.

Each stage lives in its own module and is a function over records; this module only runs them in
order (ingest -> extract -> normalize -> fingerprint/cluster -> stories -> align -> label ->
split -> pairs -> assemble -> validate -> write -> card), names the stage (and capture) when one
fails, writes into a temporary folder and swaps it in only after validation.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from newsvariants import __version__
from newsvariants.align import ALIGN_VERSION, align_paragraphs
from newsvariants.annotations import (
    Annotation,
    load_annotations,
    merge_units,
    resolve_annotations,
)
from newsvariants.cluster import ClusterInput, cluster_variants
from newsvariants.errors import NewsVariantsError, StageError
from newsvariants.extract import EXTRACTOR_VERSION, extract_capture
from newsvariants.ingest import load_captures
from newsvariants.label import LABEL_RULE_VERSION, relation_of, unit_scores
from newsvariants.pairs import build_pairs
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
from newsvariants.schema import SCHEMA_VERSION
from newsvariants.split import SPLITS

T = TypeVar("T")
RULE_VERSION = f"align-{ALIGN_VERSION}/label-{LABEL_RULE_VERSION}"
DEFAULT_VERSION = "0.0.0"


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


def variant_id_of(capture_id: str) -> str:
    return f"v-{capture_id}"


def cluster_stage(
    extractions: dict[str, Extraction],
    sources: dict[str, str] | None = None,
    engine: Any = None,
) -> list[list[str]]:
    """Clusters of capture IDs (sources: capture ID -> outlet, for the site-template filter;
    engine: the mapper whose groupby runs the LSH bands)."""
    items = [
        ClusterInput(cid, [p.text for p in ex.paragraphs], (sources or {}).get(cid))
        for cid, ex in sorted(extractions.items())
    ]
    return cluster_variants(items, engine)


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


def pivot_key(variant: Variant) -> tuple[str, int, int, str]:
    """Earliest published or captured (unknown dates last), most complete on ties."""
    date = variant.published_at or variant.captured_at or "9999"
    length = sum(len(p.text) for p in variant.paragraphs)
    return (date, -len(variant.paragraphs), -length, variant.variant_id)


def make_story(story_id: str, members: list[Variant], aliases: list[str]) -> Story:
    pivot = min(members, key=pivot_key)
    dates = [d for v in members for d in (v.published_at, v.captured_at) if d]
    titles = [v.title for v in sorted(members, key=pivot_key) if v.title]
    return Story(
        story_id=story_id,
        title=titles[0] if titles else None,
        first_seen=min(dates) if dates else None,
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
        joined = "\x1e".join(self.texts).encode("utf-8", "surrogatepass")
        return hashlib.sha256(joined).hexdigest()[:32]


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


def align_chunk(chunk: list[AlignTask]) -> list[tuple[str, Any]]:
    """Worker side of `align_all` (module level: pickled to the pool)."""
    from newsvariants.executor import attempt

    return [attempt(align_pair, task) for task in chunk]


# Code whose edits change alignments: part of every align cache key.
_ALIGN_MODULES = (
    "newsvariants.align",
    "newsvariants.label",
    "newsvariants.normalize",
    "newsvariants.records",
    "newsvariants.build",
)
_ALIGN_LIBRARIES = ("rapidfuzz", "ftfy")


def align_all(
    tasks: Sequence[AlignTask], runner: Any, progress: Progress = _no_progress
) -> list[Alignment]:
    """Align every task on the runner's workers, in task order.

    Cached per (pivot ID and text, variant ID and text, align/label code): a rebuild realigns only
    variants whose pivot or text changed. The story ID is not part of the key (a merge renames a
    story without changing its texts): a cached unit gets the task's story ID back.
    """
    from newsvariants.executor import code_fingerprint

    code = code_fingerprint(_ALIGN_MODULES, _ALIGN_LIBRARIES, RULE_VERSION)
    digests: dict[str, str] = {}

    def digest(side: Side) -> str:
        if side.variant_id not in digests:
            digests[side.variant_id] = side.digest()
        return digests[side.variant_id]

    keys = [
        f"align|{code}|{t.pivot.variant_id}|{digest(t.pivot)}|{t.other.variant_id}|{digest(t.other)}"
        for t in tasks
    ]
    found = runner.run(
        keys,
        tasks,
        align_chunk,
        lambda i, failure: StageError(
            "align",
            f"{failure.describe()} (story {tasks[i].story_id}, {tasks[i].other.variant_id})",
        ),
        lambda n: progress("align", n, len(tasks)),
        group_of=lambda task: task.story_id,  # one group per story: a groupby on Ray
    )
    result: list[Alignment] = []
    for task, units in zip(tasks, found, strict=True):
        for al in units:
            result.append(
                al if al.story_id == task.story_id else replace(al, story_id=task.story_id)
            )
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
        rule = rule_of[(va, vb)]
        kept, leftover = merge_units(
            [AlignmentUnit(tuple(al.paragraphs_a), tuple(al.paragraphs_b)) for al in rule],
            [ann.unit for ann in anns],
            len(a.paragraphs),
            len(b.paragraphs),
        )
        kept_units = set(kept)
        result += [
            al
            for al in rule
            if AlignmentUnit(tuple(al.paragraphs_a), tuple(al.paragraphs_b)) in kept_units
        ]
        result += [label_unit(b.story_id, a, b, unit) for unit in leftover]
        result += [label_unit(b.story_id, a, b, ann.unit, ann.relation) for ann in anns]
    return result


def assemble(
    captures: Sequence[Capture],
    extractions: dict[str, Extraction],
    clusters: list[list[str]],
    registry: StoryRegistry,
    annotations: Sequence[Annotation],
    runner: Any = None,
    progress: Progress = _no_progress,
    writer: Any = None,
    keep_records: bool = True,
) -> tuple[CorpusRecords, list[StoryEvent]]:
    """Stories, variants, alignments and pairs of every split. With a `writer`
    (write.SplitWriter) each split's files are written as soon as they exist; unless
    `keep_records`, the returned records then hold only their row counts, and each extraction
    is dropped from `extractions` once its variant is made (bounded memory)."""
    from newsvariants.executor import stage_runner

    if runner is None:  # the sequential engine, no cache
        with stage_runner() as own:
            return assemble(
                captures,
                extractions,
                clusters,
                registry,
                annotations,
                own,
                progress,
                writer,
                keep_records,
            )
    by_capture = {c.capture_id: c for c in captures}
    story_ids, events = registry.assign(clusters)
    records = CorpusRecords()
    all_variants: dict[str, Variant] = {}
    stories: list[Story] = []
    tasks: list[AlignTask] = []
    for sid, cluster in zip(story_ids, clusters, strict=True):
        members = [make_variant(by_capture[c], extractions[c], sid) for c in cluster]
        if not keep_records:  # a variant now carries what the build needs of its extraction
            for c in cluster:
                del extractions[c]
        story = make_story(sid, members, registry.stories[sid].aliases)
        stories.append(story)
        member_map = {v.variant_id: v for v in members}
        all_variants.update(member_map)
        tasks += align_tasks(story, member_map)
    all_alignments = run_stage("align", align_all, tasks, runner, progress)
    del tasks
    all_alignments = run_stage(
        "label", apply_annotations, all_alignments, annotations, all_variants
    )
    pivots = {s.story_id: s.pivot_variant_id for s in stories}
    split_of = {s.story_id: registry.split_of(s.story_id) for s in stories}
    # one split at a time from here: its records are written (with a writer) and freed before
    # the next split's are made
    variants_in: dict[str, list[Variant]] = {split: [] for split in SPLITS}
    for v in all_variants.values():
        variants_in[split_of[v.story_id]].append(v)
    alignments_in: dict[str, list[Alignment]] = {split: [] for split in SPLITS}
    for al in all_alignments:
        alignments_in[split_of[al.story_id]].append(al)
    del all_variants, all_alignments
    for split in SPLITS:
        split_records = {
            "stories": sorted(
                (s for s in stories if split_of[s.story_id] == split), key=lambda s: s.story_id
            ),
            "variants": sorted(variants_in.pop(split), key=lambda v: (v.story_id, v.variant_id)),
            "alignments": sorted(
                alignments_in.pop(split), key=lambda a: (a.story_id, a.variant_b, _unit_sort(a))
            ),
        }
        split_records["pairs"] = run_stage(
            "pairs",
            build_pairs,
            split_records["variants"],
            split_records["alignments"],
            pivots,
        )
        for config, rows in split_records.items():
            if writer is not None:
                run_stage("write", writer.write, config, split, rows)
                records.written.setdefault(config, {})[split] = len(rows)
            if writer is None or keep_records:
                getattr(records, config)[split] = rows
        del split_records
    return records, events


def _unit_sort(al: Alignment) -> tuple[int, int]:
    if al.paragraphs_a:
        return (al.paragraphs_a[0], al.paragraphs_b[0] if al.paragraphs_b else -1)
    return (10**9, al.paragraphs_b[0])


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
    from newsvariants.ingest import CAPTURES_FILE

    raw_manifest = (raw / CAPTURES_FILE).read_bytes() if (raw / CAPTURES_FILE).exists() else b""
    ann_dir = raw / "annotations"
    ann = (
        b"".join(p.name.encode() + b"\0" + p.read_bytes() for p in sorted(ann_dir.glob("*.jsonl")))
        if ann_dir.is_dir()
        else b""
    )
    inputs: dict[str, Any] = {
        "raw_manifest_sha256": hashlib.sha256(raw_manifest).hexdigest(),
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
    """A temporary folder beside `out`; removed unless swapped in."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-build-", dir=out.parent))
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def swap_in(tmp: Path, out: Path) -> None:
    """Replace `out` by `tmp` with renames only (the old corpus survives until the last step)."""
    backup = out.with_name(f".{out.name}-previous")
    if backup.exists():
        shutil.rmtree(backup)
    if out.exists():
        os.replace(out, backup)
    try:
        os.replace(tmp, out)
    except BaseException:
        if backup.exists():
            os.replace(backup, out)
        raise
    if backup.exists():
        shutil.rmtree(backup)


def previous_version(registry_path: Path | None) -> str:
    if registry_path is None:
        return DEFAULT_VERSION
    manifest = registry_path.parent / "MANIFEST.json"
    if manifest.exists():
        return json.loads(manifest.read_text(encoding="utf-8")).get("version", DEFAULT_VERSION)
    return DEFAULT_VERSION


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
    from newsvariants.executor import stage_runner
    from newsvariants.validate import validate_corpus
    from newsvariants.write import SplitWriter, write_corpus

    if registry_path is None and (out / REGISTRY_FILE).exists():
        registry_path = out / REGISTRY_FILE
    registry_text = registry_path.read_text(encoding="utf-8") if registry_path else None
    registry = run_stage("registry", StoryRegistry.load, registry_path)
    version = version or previous_version(registry_path)

    captures = run_stage("ingest", load_captures, raw)
    with ExitStack() as stack:
        tmp = stack.enter_context(staging_dir(out))
        runner = stack.enter_context(stage_runner(workers, engine, cache_dir))
        extractions, quarantined = run_stage(
            "extract",
            extract_all,
            raw,
            captures,
            progress,
            workers=workers,
            cache_dir=cache_dir,
            engine=engine,
            runner=runner,
        )
        progress("cluster", 0, 1)
        sources = {c.capture_id: c.source for c in captures}
        clusters = run_stage("cluster", cluster_stage, extractions, sources, runner.mapper)
        annotations = run_stage("annotations", load_annotations, raw)
        writer = stack.enter_context(closing(SplitWriter(tmp)))
        records, events = assemble(
            captures,
            extractions,
            clusters,
            registry,
            annotations,
            runner,
            progress,
            writer,
            keep_records,
        )
        del extractions
        inputs = inputs_digest(raw, registry_text)
        report = {
            "captures": len(captures),
            "variants": records.count("variants"),
            "quarantined": [q.__dict__ for q in sorted(quarantined, key=lambda q: q.capture_id)],
        }
        progress("write", 0, 1)
        run_stage(
            "write", write_corpus, tmp, writer, registry, inputs, report, version, SCHEMA_VERSION
        )
        run_stage("card", render_card, tmp)
        run_stage("validate", validate_corpus, tmp, raw, runner.mapper, runner.workers)
        swap_in(tmp, out)
    return BuildResult(out, records, events, quarantined, len(captures))
