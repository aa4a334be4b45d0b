"""Stage `validate`: every record against its schema, then cross-record invariants.

Checks, each reported with the file and row it concerns:
- MANIFEST.json is valid; every listed file exists with its SHA-256 and row count; no unlisted
  Parquet file;
- each Parquet file carries the features generated from schema/ and every row is schema-valid;
- IDs resolve (variant -> story, story -> variants and pivot, alignment -> variants and paragraph
  indexes, pair -> variants); alignment texts are the joined paragraph texts;
- no story in two splits; every variant, alignment and pair lies in its story's split;
- with raw/: every capture is accounted for (a variant or a quarantine entry); each paragraph's,
  caption's, title's and byline's offsets slice exactly their text out of the capture's text, and
  every non-blank character of that text lies in exactly one span.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from newsvariants.errors import ValidationError
from newsvariants.schema import decode_class_labels, hf_features, record_errors
from newsvariants.split import SPLITS
from newsvariants.write import CONFIGS, sha256_file, shard_name


def _read_rows(path: Path, kind: str, problems: list[str]) -> list[dict[str, Any]]:
    table = pq.read_table(path)
    features = hf_features(kind)
    meta = (table.schema.metadata or {}).get(b"huggingface")
    if meta is None:
        problems.append(f"{path}: no Hugging Face features in the Parquet metadata")
    else:
        embedded = json.loads(meta)["info"]["features"]
        if embedded != features.to_dict():
            problems.append(f"{path}: embedded features differ from schema/{kind}.schema.json")
    if table.schema.names != list(features):
        problems.append(f"{path}: columns {table.schema.names} != schema {list(features)}")
        return []
    rows = table.to_pylist()
    return [decode_class_labels(kind, row) for row in rows]


def _check_manifest(corpus: Path, problems: list[str]) -> dict[str, Any]:
    path = corpus / "MANIFEST.json"
    if not path.exists():
        raise ValidationError([f"{path}: missing"])
    manifest = json.loads(path.read_text(encoding="utf-8"))
    problems += [f"{path}: {p}" for p in record_errors("manifest", manifest)]
    listed = set()
    for entry in manifest.get("files", []):
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


def load_records(corpus: Path, problems: list[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """config -> split -> decoded rows (schema-checked)."""
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for config, kind in CONFIGS.items():
        found[config] = {}
        for split in SPLITS:
            path = corpus / config / shard_name(split)
            if not path.exists():
                found[config][split] = []
                continue
            try:
                rows = _read_rows(path, kind, problems)
            except Exception as exc:
                problems.append(f"{path}: unreadable Parquet: {exc}")
                rows = []
            for n, row in enumerate(rows):
                problems += [f"{path} row {n}: {p}" for p in record_errors(kind, row)]
            found[config][split] = rows
    return found


def _check_cross(records: dict[str, dict[str, list[dict[str, Any]]]], problems: list[str]) -> None:
    story_split: dict[str, str] = {}
    for split, rows in records["stories"].items():
        for s in rows:
            if s["story_id"] in story_split:
                problems.append(
                    f"story {s['story_id']} in two splits: {story_split[s['story_id']]} and {split}"
                )
            story_split[s["story_id"]] = split
    variants: dict[str, tuple[str, dict[str, Any]]] = {}
    for split, rows in records["variants"].items():
        for v in rows:
            variants[v["variant_id"]] = (split, v)
            if story_split.get(v["story_id"]) != split:
                problems.append(
                    f"variant {v['variant_id']} ({split}) belongs to story {v['story_id']} "
                    f"in split {story_split.get(v['story_id'])}"
                )
    for rows in records["stories"].values():
        for s in rows:
            if s["n_variants"] != len(s["variant_ids"]):
                problems.append(f"story {s['story_id']}: n_variants != len(variant_ids)")
            if s["pivot_variant_id"] not in s["variant_ids"]:
                problems.append(f"story {s['story_id']}: pivot not among its variants")
            for vid in s["variant_ids"]:
                if vid not in variants or variants[vid][1]["story_id"] != s["story_id"]:
                    problems.append(f"story {s['story_id']}: variant {vid} does not resolve")
    for split, rows in records["alignments"].items():
        for al in rows:
            where = f"alignment {al['alignment_id']}"
            if story_split.get(al["story_id"]) != split:
                problems.append(f"{where}: not in its story's split")
            for side in ("a", "b"):
                vid = al[f"variant_{side}"]
                if vid not in variants:
                    problems.append(f"{where}: variant_{side} {vid} does not resolve")
                    continue
                paras = variants[vid][1]["paragraphs"]
                idx = al[f"paragraphs_{side}"]
                if any(i >= len(paras) for i in idx):
                    problems.append(f"{where}: paragraphs_{side} {idx} out of range")
                    continue
                if "\n\n".join(paras[i]["text"] for i in idx) != al[f"text_{side}"]:
                    problems.append(f"{where}: text_{side} is not its paragraphs' text")
    for split, rows in records["pairs"].items():
        for p in rows:
            for side in ("a", "b"):
                if story_split.get(p[f"story_{side}"]) != split:
                    problems.append(
                        f"pair {p['pair_id']} ({split}): story_{side} {p[f'story_{side}']} "
                        f"is in split {story_split.get(p[f'story_{side}'])}"
                    )
                if p[f"variant_{side}"] not in variants:
                    problems.append(f"pair {p['pair_id']}: variant_{side} does not resolve")


def _check_offsets(variant: dict[str, Any], text: str, problems: list[str]) -> None:
    where = f"variant {variant['variant_id']}"
    spans: list[tuple[int, int, str]] = []
    for p in variant["paragraphs"]:
        if text[p["start"] : p["end"]] != p["text"]:
            problems.append(f"{where}: paragraph {p['paragraph_id']} offsets do not slice its text")
        spans.append((p["start"], p["end"], p["paragraph_id"]))
    for c in variant["captions"]:
        if text[c["start"] : c["end"]] != c["text"]:
            problems.append(f"{where}: caption at {c['start']} offsets do not slice its text")
        spans.append((c["start"], c["end"], "caption"))
    for name in ("title", "byline"):
        span = variant[f"{name}_span"]
        if span is not None:
            if text[span["start"] : span["end"]] != variant[name]:
                problems.append(f"{where}: {name}_span does not slice the {name}")
            spans.append((span["start"], span["end"], name))
    spans += [(r["start"], r["end"], r["reason"]) for r in variant["removed"]]
    covered = [0] * (len(text) + 1)
    for start, end, _ in spans:
        if not 0 <= start < end <= len(text):
            problems.append(f"{where}: span {start}-{end} outside the capture's text")
            continue
        for i in range(start, end):
            covered[i] += 1
    for i, ch in enumerate(text):
        if ch.strip() and covered[i] != 1:
            state = "no span" if covered[i] == 0 else f"{covered[i]} spans"
            problems.append(f"{where}: character {i} ({ch!r}) lies in {state}")
            break


def _check_raw(
    corpus: Path,
    raw: Path,
    records: dict[str, dict[str, list[dict[str, Any]]]],
    manifest: dict[str, Any],
    problems: list[str],
) -> None:
    from newsvariants.extract import text_of_capture
    from newsvariants.ingest import read_capture_records, verify_capture

    captures = {c.capture_id: c for c in read_capture_records(raw)}
    seen: dict[str, int] = defaultdict(int)
    for rows in records["variants"].values():
        for v in rows:
            seen[v["capture_id"]] += 1
            capture = captures.get(v["capture_id"])
            if capture is None:
                problems.append(f"variant {v['variant_id']}: capture not in {raw}/captures.jsonl")
                continue
            if capture.sha256 != v["capture_sha256"]:
                problems.append(f"variant {v['variant_id']}: capture_sha256 differs from raw/")
                continue
            _check_offsets(v, text_of_capture(capture, verify_capture(raw, capture)), problems)
    for q in manifest.get("build_report", {}).get("quarantined", []):
        seen[q["capture_id"]] += 1
    for cid in sorted(captures):
        if seen[cid] != 1:
            problems.append(
                f"capture {cid} is accounted for {seen[cid]} times (need one variant or quarantine)"
            )


def validate_corpus(corpus: Path, raw: Path | None = None) -> dict[str, int]:
    """Raise ValidationError listing every problem; returns row counts per config when clean."""
    problems: list[str] = []
    if not corpus.is_dir():
        raise ValidationError([f"{corpus}: not a folder"])
    manifest = _check_manifest(corpus, problems)
    records = load_records(corpus, problems)
    if not problems:
        _check_cross(records, problems)
    if raw is not None and not problems:
        _check_raw(corpus, raw, records, manifest, problems)
    if problems:
        raise ValidationError(problems)
    return {c: sum(len(r) for r in splits.values()) for c, splits in records.items()}
