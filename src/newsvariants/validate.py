"""Stage `validate`: every record against its schema, then cross-record invariants.

Checks, each reported with the file and row it concerns:
- MANIFEST.json is valid; every listed file exists with its SHA-256 and row count; no unlisted
  Parquet file;
- each Parquet file carries the features generated from schema/ and every row is schema-valid;
- IDs resolve (variant -> story, story -> variants and pivot, alignment -> variants and paragraph
  indexes, pair -> variants); alignment texts are the joined paragraph texts;
- no story in two splits; every variant, alignment and pair lies in its story's split;
- with raw/: every capture is accounted for (a variant or a quarantine entry), and every file
  under raw/captures by a record; each paragraph's, caption's, title's and byline's offsets
  slice exactly their text out of the capture's text, and every non-blank character of that
  text lies in exactly one span.

Built to run on millions of rows: the schema of each record kind is compiled into vectorised Arrow
checks (null, enum, pattern, minimum/maximum, minLength, per nested list item; types,
required fields and additionalProperties are the Arrow schema, checked once per file), and only
rows that fail are turned into Python records for jsonschema's precise messages. Cross-record
invariants are set operations over whole columns (Arrow `is_in`/`index_in`), and each capture is
read once for its offsets (coverage: a sweep over the spans' ends).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newsvariants.arrays import sorted_unique
from newsvariants.card import card_problems
from newsvariants.errors import ValidationError
from newsvariants.schema import (
    CLASS_LABEL_KEY,
    decode_class_labels,
    load_schema,
    record_errors,
)
from newsvariants.split import SPLITS
from newsvariants.write import CONFIGS, arrow_schema, sha256_file, shard_name
from newsvariants.write import features as cached_features

Records = dict[str, dict[str, pa.Table]]

# --- the schema, compiled to column checks ----------------------------------------------------


def _types(prop: dict[str, Any]) -> list[str]:
    declared = prop.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


_HANDLED = {
    "type",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "items",
    "properties",
    "required",
    "additionalProperties",
    "description",
    CLASS_LABEL_KEY,
}


def _flag(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Boolean numpy mask from an Arrow boolean result (null counts as passing: nulls are
    checked on their own)."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _bad_rows(array: pa.Array, prop: dict[str, Any], rows: np.ndarray) -> list[np.ndarray]:
    """Top-level row indexes (rows[i] for element i of `array`) that break `prop`."""
    unknown = set(prop) - _HANDLED
    if unknown:  # a keyword this compiler does not know: every row goes to jsonschema
        return [rows]
    bad: list[np.ndarray] = []
    types = _types(prop)
    valid = _flag(array.is_valid())
    if "null" not in types and not valid.all():
        bad.append(rows[~valid])
    if prop.get(CLASS_LABEL_KEY):
        names = [v for v in prop["enum"] if v is not None]
        bad.append(rows[_flag(pc.or_(pc.less(array, 0), pc.greater_equal(array, len(names))))])
        return bad
    if "enum" in prop:
        allowed = [v for v in prop["enum"] if v is not None]
        outside = ~_flag(pc.is_in(array, value_set=pa.array(allowed)))
        bad.append(rows[outside & valid])  # null is checked above, with the type
    if "pattern" in prop:
        matched = pc.match_substring_regex(array, prop["pattern"])
        bad.append(rows[_flag(pc.invert(matched))])
    if "minLength" in prop:
        bad.append(rows[_flag(pc.less(pc.utf8_length(array), prop["minLength"]))])
    if "minimum" in prop:
        bad.append(rows[_flag(pc.less(array, prop["minimum"]))])
    if "maximum" in prop:
        bad.append(rows[_flag(pc.greater(array, prop["maximum"]))])
    if "items" in prop and isinstance(array, pa.ListArray):
        parents = pc.list_parent_indices(array).to_numpy()
        bad += _bad_rows(array.flatten(), prop["items"], rows[parents])
    if "properties" in prop and isinstance(array, pa.StructArray):
        present = np.flatnonzero(valid)
        for name, sub in prop["properties"].items():
            child = array.field(name)
            if len(present) < len(array):
                child = child.take(pa.array(present))
            bad += _bad_rows(child, sub, rows[present])
    return bad


def schema_bad_rows(kind: str, table: pa.Table) -> np.ndarray:
    """Sorted indexes of the rows of `table` (with the kind's Arrow schema) that may break the
    kind's JSON Schema; every other row is valid."""
    rows = np.arange(table.num_rows)
    bad: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    for name, prop in load_schema(kind)["properties"].items():
        bad += _bad_rows(table[name].combine_chunks(), prop, rows)
    return sorted_unique(np.concatenate(bad))


def _read_table(path: Path, kind: str, problems: list[str], keep: bool = True) -> pa.Table | None:
    """Check one file's features and every row's schema, a row group at a time (bounded memory);
    returns the table when `keep` (None when its columns are wrong or not kept)."""
    handle = pq.ParquetFile(path)
    schema = handle.schema_arrow
    features = cached_features(kind)  # made once per kind, not per file
    meta = (schema.metadata or {}).get(b"huggingface")
    if meta is None:
        problems.append(f"{path}: no Hugging Face features in the Parquet metadata")
    else:
        embedded = json.loads(meta)["info"]["features"]
        if embedded != features.to_dict():
            problems.append(f"{path}: embedded features differ from schema/{kind}.schema.json")
    if schema.names != list(features):
        problems.append(f"{path}: columns {schema.names} != schema {list(features)}")
        return None
    expected = arrow_schema(kind)
    for name in features:
        if schema.field(name).type != expected.field(name).type:
            problems.append(
                f"{path}: column {name} is {schema.field(name).type}, "
                f"schema says {expected.field(name).type}"
            )
            return None
    kept: list[pa.Table] = []
    first = 0
    for group in range(handle.num_row_groups):
        table = handle.read_row_group(group)
        for n in schema_bad_rows(kind, table).tolist():
            row = decode_class_labels(kind, table.slice(n, 1).to_pylist()[0])
            found = record_errors(kind, row) or ["breaks a constraint of its schema"]
            problems += [f"{path} row {first + n}: {p}" for p in found]
        first += table.num_rows
        if keep:
            kept.append(table)
    if not keep:
        return None
    return pa.concat_tables(kept) if kept else expected.empty_table()


def _read_rows(path: Path, kind: str, problems: list[str]) -> list[dict[str, Any]]:
    """Every row of one file as a decoded record (small corpora, tools and tests)."""
    table = _read_table(path, kind, problems)
    if table is None:
        return []
    return [decode_class_labels(kind, row) for row in table.to_pylist()]


def _check_manifest(corpus: Path, problems: list[str]) -> dict[str, Any]:
    path = corpus / "MANIFEST.json"
    if not path.exists():
        raise ValidationError([f"{path}: missing"])
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError([f"{path}: not JSON: {exc}"]) from exc
    schema_problems = [f"{path}: {p}" for p in record_errors("manifest", manifest)]
    if schema_problems:  # its entries cannot be trusted to have a path to check
        raise ValidationError(schema_problems)
    listed = set()
    for entry in manifest["files"]:
        relative = PurePosixPath(entry["path"])
        if relative.is_absolute() or ".." in relative.parts:  # never read outside the corpus
            problems.append(f"{path}: file path {entry['path']!r} leaves the corpus folder")
            continue
        file = corpus / entry["path"]
        listed.add(entry["path"])
        if not file.exists():
            problems.append(f"{file}: listed in MANIFEST.json but missing")
            continue
        digest = sha256_file(file)
        if digest != entry["sha256"]:
            problems.append(
                f"{file}: SHA-256 {digest[:12]}... != MANIFEST.json {entry['sha256'][:12]}..."
            )
        if entry["rows"] is not None and file.suffix == ".parquet":
            try:
                rows = pq.ParquetFile(file).metadata.num_rows
            except Exception as exc:  # a corrupt file raises from deep inside Arrow
                problems.append(f"{file}: unreadable Parquet: {exc}")
                continue
            if rows != entry["rows"]:
                problems.append(f"{file}: {rows} rows != MANIFEST.json {entry['rows']}")
    for file in sorted(corpus.glob("*/*.parquet")):
        if file.relative_to(corpus).as_posix() not in listed:
            problems.append(f"{file}: not listed in MANIFEST.json")
    return manifest


# Configs kept in memory for the cross-record checks; the others are streamed a window of row
# groups at a time (at 100k captures the pairs alone are over a GB of text).
KEPT_CONFIGS = ("stories", "variants")
STREAMED_CONFIGS = tuple(c for c in CONFIGS if c not in KEPT_CONFIGS)
# Columns the cross-record checks read from the streamed configs.
CROSS_COLUMNS = {
    "alignments": [
        "alignment_id",
        "story_id",
        "variant_a",
        "variant_b",
        "paragraphs_a",
        "paragraphs_b",
        "text_a",
        "text_b",
    ],
    "pairs": ["pair_id", "story_a", "story_b", "variant_a", "variant_b"],
}


def load_records(
    corpus: Path, problems: list[str], configs: Iterable[str] = tuple(CONFIGS)
) -> Records:
    """Schema-check every file of `configs`; config -> split -> table for those of KEPT_CONFIGS
    (an empty table when the file is absent)."""
    found: Records = {}
    for config in configs:
        kind = CONFIGS[config]
        keep = config in KEPT_CONFIGS
        found[config] = {}
        empty = arrow_schema(kind).empty_table()
        for split in SPLITS:
            path = corpus / config / shard_name(split)
            table = None
            if path.exists():
                try:
                    table = _read_table(path, kind, problems, keep=keep)
                except Exception as exc:
                    problems.append(f"{path}: unreadable Parquet: {exc}")
            if keep:
                found[config][split] = empty if table is None else table
    return found


# Row groups of a streamed config are checked this many bytes at a time: each membership check
# (`pc.is_in`, `pc.index_in`) hashes its whole value set (every variant ID) once per call, so a
# call per row group hashed the 100k IDs of a 100k-capture build ~550 times (9 s); a window of
# row groups is one call, and memory stays bounded.
WINDOW_BYTES = 64 << 20


def _streamed(corpus: Path, config: str) -> Iterator[tuple[str, pa.Table]]:
    """(split, the cross-check columns of consecutive row groups, up to WINDOW_BYTES) over a
    streamed config's files."""
    for split in SPLITS:
        path = corpus / config / shard_name(split)
        if not path.exists():
            continue
        handle = pq.ParquetFile(path)
        window: list[pa.Table] = []
        size = 0
        for group in range(handle.num_row_groups):
            window.append(handle.read_row_group(group, columns=CROSS_COLUMNS[config]))
            size += window[-1].nbytes
            if size >= WINDOW_BYTES:
                yield split, pa.concat_tables(window)
                window, size = [], 0
        if window:
            yield split, pa.concat_tables(window)


def _strings(column: pa.ChunkedArray | pa.Array) -> list[Any]:
    return column.to_pylist()


def _index_in(values: pa.Array | pa.ChunkedArray, keys: pa.Array) -> np.ndarray:
    """Position of each value in `keys`, -1 where absent."""
    found = pc.index_in(values, value_set=keys)
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _outside(values: pa.ChunkedArray, allowed: pa.Array) -> np.ndarray:
    """Row indexes whose value is not in `allowed`."""
    return np.flatnonzero(~_flag(pc.is_in(values, value_set=allowed)))


def _check_cross(corpus: Path, records: Records, problems: list[str]) -> dict[str, int]:
    """Cross-record invariants; returns the row counts of the streamed configs."""
    streamed_rows = dict.fromkeys(CROSS_COLUMNS, 0)
    story_split: dict[str, str] = {}
    in_split: dict[str, pa.Array] = {}
    for split, table in records["stories"].items():
        ids = _strings(table["story_id"])
        for sid in ids:
            if sid in story_split:
                problems.append(f"story {sid} in two splits: {story_split[sid]} and {split}")
            story_split[sid] = split
        in_split[split] = pa.array(ids, pa.string())

    # every variant of every split, in one table (split order, then row order)
    variants = pa.concat_tables(
        [t.select(["variant_id", "story_id", "paragraphs"]) for t in records["variants"].values()]
    )
    variant_ids = variants["variant_id"].combine_chunks()
    variant_story = _strings(variants["story_id"])
    for split, table in records["variants"].items():
        for n in _outside(table["story_id"], in_split[split]).tolist():
            vid, sid = table["variant_id"][n].as_py(), table["story_id"][n].as_py()
            problems.append(
                f"variant {vid} ({split}) belongs to story {sid} in split {story_split.get(sid)}"
            )

    for table in records["stories"].values():
        counts = pc.list_value_length(table["variant_ids"]).to_numpy(zero_copy_only=False)
        members = table["variant_ids"].combine_chunks()
        story_ids = _strings(table["story_id"])
        for n in np.flatnonzero(table["n_variants"].to_numpy() != counts).tolist():
            problems.append(f"story {story_ids[n]}: n_variants != len(variant_ids)")
        parents = pc.list_parent_indices(members).to_numpy()
        flat = members.flatten()
        pivots = pc.take(table["pivot_variant_id"], pa.array(parents))
        has_pivot = np.zeros(table.num_rows, dtype=bool)
        has_pivot[parents[_flag(pc.equal(flat, pivots))]] = True
        for n in np.flatnonzero(~has_pivot).tolist():
            problems.append(f"story {story_ids[n]}: pivot not among its variants")
        where = _index_in(flat, variant_ids)
        flat_ids = _strings(flat)
        for k in range(len(flat_ids)):
            sid = story_ids[parents[k]]
            if where[k] < 0 or variant_story[where[k]] != sid:
                problems.append(f"story {sid}: variant {flat_ids[k]} does not resolve")

    paragraphs = variants["paragraphs"].combine_chunks()
    n_paragraphs = pc.list_value_length(paragraphs).to_numpy(zero_copy_only=False)
    first_paragraph = paragraphs.offsets.to_numpy()[:-1]
    paragraph_texts = paragraphs.flatten().field("text")
    for split, table in _streamed(corpus, "alignments"):
        streamed_rows["alignments"] += table.num_rows
        if table.num_rows == 0:
            continue
        ids = table["alignment_id"]  # read for the rows with a problem only
        for n in _outside(table["story_id"], in_split[split]).tolist():
            problems.append(f"alignment {ids[n].as_py()}: not in its story's split")
        for side in ("a", "b"):
            _check_alignment_side(
                table,
                side,
                ids,
                variant_ids,
                n_paragraphs,
                first_paragraph,
                paragraph_texts,
                problems,
            )
    for split, table in _streamed(corpus, "pairs"):
        streamed_rows["pairs"] += table.num_rows
        if table.num_rows == 0:
            continue
        ids = table["pair_id"]  # read for the rows with a problem only
        for side in ("a", "b"):
            stories = table[f"story_{side}"]
            for n in _outside(stories, in_split[split]).tolist():
                sid = stories[n].as_py()
                problems.append(
                    f"pair {ids[n].as_py()} ({split}): story_{side} {sid} "
                    f"is in split {story_split.get(sid)}"
                )
            for n in _outside(table[f"variant_{side}"], variant_ids).tolist():
                problems.append(f"pair {ids[n].as_py()}: variant_{side} does not resolve")
    return streamed_rows


def _check_alignment_side(
    table: pa.Table,
    side: str,
    ids: pa.ChunkedArray,
    variant_ids: pa.Array,
    n_paragraphs: np.ndarray,
    first_paragraph: np.ndarray,
    paragraph_texts: pa.Array,
    problems: list[str],
) -> None:
    """variant_<side> resolves, paragraphs_<side> are in range, text_<side> is their text."""
    where = _index_in(table[f"variant_{side}"], variant_ids)
    indexes = table[f"paragraphs_{side}"].combine_chunks()
    parents = pc.list_parent_indices(indexes).to_numpy()
    flat = indexes.flatten().to_numpy(zero_copy_only=False).astype(np.int64)
    unresolved = where < 0
    out_of_range = np.zeros(table.num_rows, dtype=bool)
    row_variant = where[parents]
    beyond = (row_variant >= 0) & (flat >= n_paragraphs[np.maximum(row_variant, 0)])
    out_of_range[parents[beyond]] = True
    out_of_range &= ~unresolved
    for n in np.flatnonzero(unresolved).tolist():
        vid = table[f"variant_{side}"][n].as_py()
        problems.append(f"alignment {ids[n].as_py()}: variant_{side} {vid} does not resolve")
    for n in np.flatnonzero(out_of_range).tolist():
        idx = table[f"paragraphs_{side}"][n].as_py()
        problems.append(f"alignment {ids[n].as_py()}: paragraphs_{side} {idx} out of range")
    # the joined text of each unit's paragraphs, as one vectorised take and join
    usable = ~(unresolved | out_of_range)
    flat_usable = usable[parents]
    take = np.where(flat_usable, first_paragraph[np.maximum(row_variant, 0)] + flat, 0)
    texts = pc.take(paragraph_texts, pa.array(take, pa.int64()))
    joined = pc.binary_join(pa.ListArray.from_arrays(indexes.offsets, texts), "\n\n")
    differs = ~_flag(pc.equal(joined, table[f"text_{side}"].combine_chunks()))
    for n in np.flatnonzero(differs & usable).tolist():
        problems.append(f"alignment {ids[n].as_py()}: text_{side} is not its paragraphs' text")


def _check_offsets(variant: dict[str, Any], text: str, problems: list[str]) -> None:
    """Each span slices exactly its text; every non-blank character lies in exactly one span."""
    where = f"variant {variant['variant_id']}"
    spans: list[tuple[int, int]] = []
    for p in variant["paragraphs"]:
        if text[p["start"] : p["end"]] != p["text"]:
            problems.append(f"{where}: paragraph {p['paragraph_id']} offsets do not slice its text")
        spans.append((p["start"], p["end"]))
    for c in variant["captions"]:
        if text[c["start"] : c["end"]] != c["text"]:
            problems.append(f"{where}: caption at {c['start']} offsets do not slice its text")
        spans.append((c["start"], c["end"]))
    for name in ("title", "byline"):
        span = variant[f"{name}_span"]
        if span is not None:
            if text[span["start"] : span["end"]] != variant[name]:
                problems.append(f"{where}: {name}_span does not slice the {name}")
            spans.append((span["start"], span["end"]))
    spans += [(r["start"], r["end"]) for r in variant["removed"]]
    _check_coverage(where, text, spans, problems)


def _check_coverage(
    where: str, text: str, spans: Iterable[tuple[int, int]], problems: list[str]
) -> None:
    """Every non-blank character (`str.isspace` false) of `text` lies in exactly one span; the
    first one that does not is reported, with how many spans hold it.

    A sweep over the spans' ends: between two consecutive ends every character lies in the same
    number of spans, so only the stretches held by no span or by several are looked at (`lstrip`
    finds their first non-blank character). ~3x faster than counting per character with numpy
    (a 100k-capture build checks 100k texts of ~5k characters)."""
    size = len(text)
    change: dict[int, int] = {}  # position -> spans starting there minus spans ending there
    for start, end in spans:
        if not 0 <= start < end <= size:
            problems.append(f"{where}: span {start}-{end} outside the capture's text")
            continue
        change[start] = change.get(start, 0) + 1
        change[end] = change.get(end, 0) - 1
    depth, at = 0, 0
    for position in sorted(change.keys() | {size}):
        if depth != 1 and position > at:
            stretch = text[at:position]
            rest = stretch.lstrip()
            if rest:
                i = at + len(stretch) - len(rest)
                state = "no span" if depth == 0 else f"{depth} spans"
                problems.append(f"{where}: character {i} ({text[i]!r}) lies in {state}")
                return
        depth += change.get(position, 0)
        at = position


# the variant metadata copied from its capture record: checked equal to raw/'s
_CAPTURE_FIELDS = ("source", "url", "captured_at", "format")
_OFFSET_COLUMNS = [
    "variant_id",
    "capture_id",
    "capture_sha256",
    *_CAPTURE_FIELDS,
    "paragraphs",
    "captions",
    "title",
    "title_span",
    "byline",
    "byline_span",
    "removed",
]


def _compact_batches(table: pa.Table, size: int) -> Iterator[pa.RecordBatch]:
    """Batches of `size` rows that own their buffers: a sliced batch pickles the whole table's
    buffers (a 256-row slice of a 22 MiB table pickled to 23 MiB), which made the offset checks
    quadratic in the pool; a taken copy pickles only its rows. The table is made one chunk first:
    `take` from a table of several chunks (a file's row groups) concatenates them at every call,
    which cost 22 ms a batch at 100k captures (8.6 s), 3 ms once combined."""
    table = table.combine_chunks()
    for start in range(0, table.num_rows, size):
        rows = np.arange(start, min(start + size, table.num_rows))
        yield from table.take(rows).combine_chunks().to_batches()


def check_offsets_items(raw: Path, items: list[tuple[Any, pa.RecordBatch, int]]) -> list[list[str]]:
    """Worker side of the checks against raw/: (capture, batch of variant rows, row) ->
    problems (the metadata copied from the capture record, the hash, the offsets).

    Items of one chunk share their batch (pickled once), which is turned into Python once."""
    from newsvariants.extract import text_of_capture
    from newsvariants.ingest import verify_capture

    rows: dict[int, list[dict[str, Any]]] = {}
    found: list[list[str]] = []
    for capture, batch, n in items:
        if id(batch) not in rows:
            rows[id(batch)] = batch.to_pylist()
        variant = rows[id(batch)][n]
        problems: list[str] = []
        problems += [
            f"variant {variant['variant_id']}: {name} {variant[name]!r} differs from raw/'s "
            f"{getattr(capture, name)!r}"
            for name in _CAPTURE_FIELDS
            if variant[name] != getattr(capture, name)
        ]
        if capture.sha256 != variant["capture_sha256"]:
            problems.append(f"variant {variant['variant_id']}: capture_sha256 differs from raw/")
        else:
            text = text_of_capture(capture, verify_capture(raw, capture))
            _check_offsets(variant, text, problems)
        found.append(problems)
    return found


def _raw_problems(
    raw: Path,
    records: Records,
    manifest: dict[str, Any],
    mapper: Any = None,
    workers: int = 1,
) -> list[str]:
    """Every capture accounted for once; each variant's offsets against its capture's text, on
    the mapper's workers (each reads its captures: the text of an HTML capture is re-rendered).
    Reads only the variants of `records`."""
    from newsvariants.executor import InProcessMapper, chunked
    from newsvariants.ingest import (
        CAPTURES_FILE,
        read_capture_records,
        records_sha256,
        unrecorded_capture_files,
    )

    problems: list[str] = []
    built_from = manifest.get("inputs", {}).get("raw_manifest_sha256")
    found = records_sha256(raw)
    if built_from and found != built_from:
        # one problem, not one per capture (a downloaded corpus checked against a checkout's raw/)
        return [
            f"{raw}: not the raw/ this corpus was built from: its {CAPTURES_FILE} has SHA-256 "
            f"{found}, MANIFEST.json's inputs.raw_manifest_sha256 is {built_from} (rebuild, or "
            "validate with --no-raw)"
        ]
    captures = {c.capture_id: c for c in read_capture_records(raw)}
    problems += [
        f"{raw / path}: no record of captures.jsonl names this file (ingest it, or remove it)"
        for path in unrecorded_capture_files(raw, captures.values())
    ]
    seen: dict[str, int] = defaultdict(int)
    items: list[tuple[Any, pa.RecordBatch, int]] = []
    for table in records["variants"].values():
        for batch in _compact_batches(table.select(_OFFSET_COLUMNS), 256):
            ids = batch.column("capture_id").to_pylist()
            variant_ids = batch.column("variant_id").to_pylist()
            for n, cid in enumerate(ids):
                seen[cid] += 1
                if cid not in captures:
                    problems.append(
                        f"variant {variant_ids[n]}: capture not in {raw}/captures.jsonl"
                    )
                    continue
                items.append((captures[cid], batch, n))
    chunks = chunked(items, workers)
    for checked in (mapper or InProcessMapper()).map(partial(check_offsets_items, raw), chunks):
        for item_problems in checked:
            problems += item_problems
    for q in manifest.get("build_report", {}).get("quarantined", []):
        seen[q["capture_id"]] += 1
    for cid in sorted(captures):
        if seen[cid] != 1:
            problems.append(
                f"capture {cid} is accounted for {seen[cid]} times (need one variant or quarantine)"
            )
    return problems


def validate_corpus(
    corpus: Path, raw: Path | None = None, mapper: Any = None, workers: int = 1
) -> dict[str, int]:
    """Raise ValidationError listing every problem; returns row counts per config when clean.

    `mapper` (an executor Mapper, with its `workers`) runs the per-capture offset checks."""
    problems: list[str] = []
    if not corpus.is_dir():
        from newsvariants.build import backup_of

        backup = backup_of(corpus)
        if backup.is_dir():  # a build killed between swap_in's two renames
            raise ValidationError(
                [
                    f"{corpus}: not a folder: a build was interrupted while swapping it in; the "
                    f"previous corpus is {backup}, and the next build puts it back"
                ]
            )
        raise ValidationError([f"{corpus}: not a folder"])
    manifest = _check_manifest(corpus, problems)
    problems += card_problems(corpus, manifest)
    records = load_records(corpus, problems, KEPT_CONFIGS)
    raw_problems: Callable[[], list[str]] | None = None
    if raw is not None and not problems:
        check_raw = partial(_raw_problems, raw, records, manifest, mapper, workers)
        # The checks against raw/ need only the variants. With workers they start now, on a
        # thread that mostly waits for the workers, and run beside this thread's schema and
        # cross-record checks of the other files (100k text captures, two workers: validate
        # 13.4 s -> 11.3 s). Their problems count only if those checks pass, as when they ran
        # after them.
        raw_problems = check_raw
        if workers > 1:
            from newsvariants.executor import in_background

            raw_problems = in_background(check_raw)
    records.update(load_records(corpus, problems, STREAMED_CONFIGS))
    counts: dict[str, int] = {}
    if not problems:
        counts = _check_cross(corpus, records, problems)
    if raw_problems is not None and (workers > 1 or not problems):
        found = raw_problems()  # a started check is waited for: no thread outlives this call
        if not problems:
            problems += found
    if problems:
        raise ValidationError(problems)
    return {c: counts.get(c, sum(t.num_rows for t in records[c].values())) for c in CONFIGS}
