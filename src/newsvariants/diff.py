"""`newsvariants diff OLD NEW`: what changed between two corpus releases.

Stories: added (a new ID with no captures from an old story), removed (an old ID gone without being
merged: retired), merged (an old ID now an alias of a surviving story), split (an old story whose
variants now lie in several stories: the ID stays on the larger part, the other parts are new IDs
or, when a merge came apart, restored aliases) and changed (same ID, different variants, pivot or
title). Variants: added, removed, moved (same variant in another story, with both splits: a move
across splits is a leak between releases) and changed (same variant, different paragraphs or
title). Pairs (the benchmark's `pairs` config, matched by `pair_id`): added, removed, changed
(same pair_id, different label, relation, text_a, text_b or split) and moved (the changed pairs
whose split differs: a pair that left test for train, say), each kind counted per split and per
label (as in NEW; removed pairs as in OLD). A pair_id hashes the pair's sides and its kind (a
positive's relation), so a pair whose relation changes is removed under one ID and added under
another.

Everything is read from the two corpus folders (the `stories`, `variants` and `pairs` configs and
NEW's REGISTRY.json, which records merges), so it works on any two releases, in either order.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from newsvariants.errors import NewsVariantsError
from newsvariants.registry import REGISTRY_FILE
from newsvariants.schema import class_label_names

STORY_KINDS = ("added", "removed", "merged", "split", "changed")
VARIANT_KINDS = ("added", "removed", "moved", "changed")
PAIR_KINDS = ("added", "removed", "changed", "moved")
PAIR_TITLES = {"added": "added", "removed": "removed", "changed": "changed", "moved": "moved split"}
PAIR_FIELDS = ("label", "relation", "text_a", "text_b", "split")  # compared for `changed`
PAIR_IDS_SHOWN = 5  # pair IDs per kind in the text report (at most `limit`; the JSON has them all)


@dataclass(frozen=True)
class Release:
    version: str | None
    stories: dict[str, dict[str, Any]]  # story_id -> {variant_ids, pivot_variant_id, title, split}
    variants: dict[str, dict[str, Any]]  # variant_id -> {story_id, digest, title}
    merged_into: dict[str, str]  # alias -> surviving story ID (from the registry)
    pairs: dict[str, dict[str, Any]]  # pair_id -> {split, label, relation, text_a, text_b digests}


def _rows(
    corpus: Path, config: str, columns: list[str], required: bool = True
) -> Iterator[dict[str, Any]]:
    """The rows of a config, each with its split (the file name's prefix: `train-00000-of-...`),
    read a batch at a time. A config with no files is an error unless not `required`."""
    files = sorted((corpus / config).glob("*.parquet"))
    if not files and required:
        raise NewsVariantsError(f"{corpus}: no {config}/*.parquet files (is it a corpus folder?)")
    return _rows_of(files, columns)


def _rows_of(files: list[Path], columns: list[str]) -> Iterator[dict[str, Any]]:
    for path in files:
        split = path.name.split("-", 1)[0]
        with pq.ParquetFile(path) as handle:
            for batch in handle.iter_batches(columns=columns):
                yield from ({**r, "split": split} for r in batch.to_pylist())


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _digest(paragraphs: list[dict[str, Any]]) -> str:
    return _text_digest("\n\n".join(p["text"] for p in paragraphs))


def _load_pairs(corpus: Path) -> dict[str, dict[str, Any]]:
    """pair_id -> what `changed` compares (texts as digests). Not required: a corpus whose stories
    all have one variant has no pairs, and an empty split has no file."""
    names = class_label_names("pair", "label")
    columns = ["pair_id", "label", "relation", "text_a", "text_b"]
    return {
        r["pair_id"]: {
            "split": r["split"],
            "label": names[r["label"]] if isinstance(r["label"], int) else r["label"],
            "relation": r["relation"],
            "text_a": _text_digest(r["text_a"]),
            "text_b": _text_digest(r["text_b"]),
        }
        for r in _rows(corpus, "pairs", columns, required=False)
    }


def load_release(corpus: Path) -> Release:
    """The parts of a corpus folder that the diff compares."""
    if not corpus.is_dir():
        raise NewsVariantsError(f"{corpus}: not a folder")
    manifest = corpus / "MANIFEST.json"
    version = json.loads(manifest.read_text("utf-8")).get("version") if manifest.exists() else None
    stories = {
        r["story_id"]: {
            "variant_ids": sorted(r["variant_ids"]),
            "pivot_variant_id": r["pivot_variant_id"],
            "title": r["title"],
            "n": len(r["variant_ids"]),
            "split": r["split"],
        }
        for r in _rows(corpus, "stories", ["story_id", "variant_ids", "pivot_variant_id", "title"])
    }
    variants = {
        r["variant_id"]: {
            "story_id": r["story_id"],
            "digest": _digest(r["paragraphs"]),
            "title": r["title"],
        }
        for r in _rows(corpus, "variants", ["variant_id", "story_id", "paragraphs", "title"])
    }
    merged_into: dict[str, str] = {}
    registry = corpus / REGISTRY_FILE
    if registry.exists():
        for sid, entry in json.loads(registry.read_text("utf-8"))["stories"].items():
            if entry.get("merged_into"):
                merged_into[sid] = entry["merged_into"]
    return Release(version, stories, variants, merged_into, _load_pairs(corpus))


def _survivor(release: Release, story_id: str) -> str | None:
    seen = set()
    while story_id in release.merged_into and story_id not in seen:
        seen.add(story_id)
        story_id = release.merged_into[story_id]
    return story_id if story_id in release.stories else None


def _story_changes(old: Release, new: Release) -> dict[str, list[dict[str, Any]]]:
    changes: dict[str, list[dict[str, Any]]] = {kind: [] for kind in STORY_KINDS}
    # where each old story's variants went (variants that still exist)
    destinations: dict[str, set[str]] = defaultdict(set)
    for vid, variant in old.variants.items():
        if vid in new.variants:
            destinations[variant["story_id"]].add(new.variants[vid]["story_id"])
    split_parts: dict[str, str] = {}  # new story ID -> the old story it split off
    for sid in sorted(old.stories):
        parts = destinations.get(sid, set())
        if sid in new.stories and len(parts) > 1:
            others = sorted(p for p in parts if p != sid and p not in old.stories)
            if others:
                restored = [p for p in others if old.merged_into.get(p)]  # a merge came apart
                changes["split"].append(
                    {"story_id": sid, "parts": [sid, *others], "restored": restored}
                )
                split_parts.update({p: sid for p in others})
        if sid in new.stories:
            continue
        survivor = _survivor(new, sid)
        if survivor is not None and survivor != sid:
            changes["merged"].append({"story_id": sid, "into": survivor})
        else:
            changes["removed"].append({"story_id": sid, "variants": old.stories[sid]["n"]})
    for sid in sorted(set(new.stories) - set(old.stories)):
        if sid not in split_parts:
            changes["added"].append({"story_id": sid, "variants": new.stories[sid]["n"]})
    for sid in sorted(set(old.stories) & set(new.stories)):
        before, after = old.stories[sid], new.stories[sid]
        detail: dict[str, Any] = {}
        gained = sorted(set(after["variant_ids"]) - set(before["variant_ids"]))
        lost = sorted(set(before["variant_ids"]) - set(after["variant_ids"]))
        if gained:
            detail["variants_added"] = gained
        if lost:
            detail["variants_removed"] = lost
        for field in ("pivot_variant_id", "title"):
            if before[field] != after[field]:
                detail[field] = [before[field], after[field]]
        if detail:
            changes["changed"].append({"story_id": sid, **detail})
    return changes


def _variant_changes(old: Release, new: Release) -> dict[str, list[dict[str, Any]]]:
    changes: dict[str, list[dict[str, Any]]] = {kind: [] for kind in VARIANT_KINDS}
    for vid in sorted(set(new.variants) - set(old.variants)):
        changes["added"].append({"variant_id": vid, "story_id": new.variants[vid]["story_id"]})
    for vid in sorted(set(old.variants) - set(new.variants)):
        changes["removed"].append({"variant_id": vid, "story_id": old.variants[vid]["story_id"]})
    for vid in sorted(set(old.variants) & set(new.variants)):
        before, after = old.variants[vid], new.variants[vid]
        if before["story_id"] != after["story_id"]:
            moved = {
                "variant_id": vid,
                "from": before["story_id"],
                "to": after["story_id"],
                "from_split": old.stories[before["story_id"]]["split"],
                "to_split": new.stories[after["story_id"]]["split"],
            }
            changes["moved"].append(moved)
        if before["digest"] != after["digest"] or before["title"] != after["title"]:
            what = [f for f in ("digest", "title") if before[f] != after[f]]
            changes["changed"].append(
                {"variant_id": vid, "fields": ["paragraphs" if f == "digest" else f for f in what]}
            )
    return changes


def _pair_facts(pair: dict[str, Any]) -> dict[str, Any]:
    return {"split": pair["split"], "label": pair["label"], "relation": pair["relation"]}


def _pair_changed(pid: str, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any] | None:
    """The change to a pair kept under its ID, or None: its facts as in NEW, the `fields` that
    differ and their `old` values (a changed text is named in `fields`, not shown)."""
    fields = [f for f in PAIR_FIELDS if before[f] != after[f]]
    if not fields:
        return None
    old = {f: before[f] for f in fields if f not in ("text_a", "text_b")}
    return {"pair_id": pid, **_pair_facts(after), "fields": fields, "old": old}


def _pair_changes(old: Release, new: Release) -> dict[str, list[dict[str, Any]]]:
    changes: dict[str, list[dict[str, Any]]] = {kind: [] for kind in PAIR_KINDS}
    for pid in sorted(set(new.pairs) - set(old.pairs)):
        changes["added"].append({"pair_id": pid, **_pair_facts(new.pairs[pid])})
    for pid in sorted(set(old.pairs) - set(new.pairs)):
        changes["removed"].append({"pair_id": pid, **_pair_facts(old.pairs[pid])})
    for pid in sorted(set(old.pairs) & set(new.pairs)):
        before, after = old.pairs[pid], new.pairs[pid]
        changed = _pair_changed(pid, before, after)
        if changed is not None:
            changes["changed"].append(changed)
        if before["split"] != after["split"]:
            changes["moved"].append(
                {
                    "pair_id": pid,
                    "label": after["label"],
                    "from_split": before["split"],
                    "to_split": after["split"],
                }
            )
    return changes


def _pair_split(item: dict[str, Any]) -> str:
    """The split a reported pair is counted in: where it is now (a removed pair: where it was)."""
    return item["to_split"] if "to_split" in item else item["split"]


def _pair_counts(changes: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per kind: how many, and how many per split and per label (sorted by name)."""
    counts: dict[str, dict[str, Any]] = {}
    for kind in PAIR_KINDS:
        items = changes[kind]
        by_split = Counter(_pair_split(item) for item in items)
        by_label = Counter(item["label"] for item in items)
        counts[kind] = {
            "split": dict(sorted(by_split.items())),
            "label": dict(sorted(by_label.items())),
        }
    return counts


def diff_corpora(old_path: Path, new_path: Path) -> dict[str, Any]:
    """Every story, variant and pair change from OLD to NEW, as plain data (sorted,
    deterministic)."""
    old, new = load_release(old_path), load_release(new_path)
    stories = _story_changes(old, new)
    variants = _variant_changes(old, new)
    pairs = _pair_changes(old, new)
    return {
        "old": _release_counts(old_path, old),
        "new": _release_counts(new_path, new),
        "summary": {
            "stories": {kind: len(stories[kind]) for kind in STORY_KINDS},
            "variants": {kind: len(variants[kind]) for kind in VARIANT_KINDS},
            "pairs": {kind: len(pairs[kind]) for kind in PAIR_KINDS},
            "pairs_by": _pair_counts(pairs),
        },
        "stories": stories,
        "variants": variants,
        "pairs": pairs,
    }


def _release_counts(path: Path, release: Release) -> dict[str, Any]:
    return {
        "path": str(path),
        "version": release.version,
        "stories": len(release.stories),
        "variants": len(release.variants),
        "pairs": len(release.pairs),
    }


def _story_line(kind: str, item: dict[str, Any]) -> str:
    sid = item["story_id"]
    if kind == "merged":
        return f"  {sid} merged into {item['into']} (now its alias)"
    if kind == "split":
        fresh = [p for p in item["parts"][1:] if p not in item["restored"]]
        parts = [f"new {', '.join(fresh)}"] if fresh else []
        if item["restored"]:
            parts.append(f"restored {', '.join(item['restored'])} (was an alias)")
        return f"  {sid} split: kept on {sid}, {'; '.join(parts)}"
    if kind in ("added", "removed"):
        return f"  {sid} ({item['variants']} variant(s))"
    parts = []
    if "variants_added" in item:
        parts.append(f"+{len(item['variants_added'])} variant(s)")
    if "variants_removed" in item:
        parts.append(f"-{len(item['variants_removed'])} variant(s)")
    for field in ("pivot_variant_id", "title"):
        if field in item:
            parts.append(f"{field.split('_')[0]} {item[field][0]!r} -> {item[field][1]!r}")
    return f"  {sid}: {'; '.join(parts)}"


def _variant_line(kind: str, item: dict[str, Any]) -> str:
    vid = item["variant_id"]
    if kind == "moved":
        splits = item["from_split"], item["to_split"]
        across = f" (split {splits[0]} -> {splits[1]})" if splits[0] != splits[1] else ""
        return f"  {vid}: {item['from']} -> {item['to']}{across}"
    if kind == "changed":
        return f"  {vid}: {', '.join(item['fields'])}"
    return f"  {vid} ({item['story_id']})"


def _pair_id_shown(kind: str, item: dict[str, Any]) -> str:
    if kind == "moved":
        return f"{item['pair_id']} ({item['from_split']} -> {item['to_split']})"
    if kind == "changed":
        return f"{item['pair_id']} ({', '.join(item['fields'])})"
    return item["pair_id"]


def _pair_line(kind: str, items: list[dict[str, Any]], by: dict[str, Any], limit: int) -> str:
    """One line for a kind of pair change: the count, per split and per label, the first IDs."""
    counts = "; ".join(", ".join(f"{k} {n}" for k, n in by[key].items()) for key in by)
    shown = [_pair_id_shown(kind, item) for item in items[: min(limit, PAIR_IDS_SHOWN)]]
    if len(items) > len(shown):
        shown.append(f"... and {len(items) - len(shown)} more (see --json)")
    return f"pairs {PAIR_TITLES[kind]}: {len(items)} ({counts}): {', '.join(shown)}"


def _pair_lines(report: dict[str, Any], limit: int, per_kind: bool) -> list[str]:
    counts = report["summary"]["pairs"]
    lines = ["pairs: " + ", ".join(f"{counts[k]} {PAIR_TITLES[k]}" for k in PAIR_KINDS)]
    if per_kind:
        by = report["summary"]["pairs_by"]
        lines.extend(
            _pair_line(kind, report["pairs"][kind], by[kind], limit)
            for kind in PAIR_KINDS
            if report["pairs"][kind]
        )
    return lines


def render_text(report: dict[str, Any], limit: int = 50, pair_ids: bool = True) -> str:
    """A readable report; stories and variants list at most `limit` items per kind, pairs get one
    line per kind with at most min(limit, PAIR_IDS_SHOWN) IDs (the JSON has them all). Without
    `pair_ids` (the release notes), pairs get only their summary line of counts."""
    old, new = report["old"], report["new"]
    lines = [
        f"old: {old['path']} (version {old['version']}): "
        f"{old['stories']} stories, {old['variants']} variants, {old['pairs']} pairs",
        f"new: {new['path']} (version {new['version']}): "
        f"{new['stories']} stories, {new['variants']} variants, {new['pairs']} pairs",
    ]
    for section, kinds, line in (
        ("stories", STORY_KINDS, _story_line),
        ("variants", VARIANT_KINDS, _variant_line),
    ):
        counts = report["summary"][section]
        lines.append(f"{section}: " + ", ".join(f"{counts[k]} {k}" for k in kinds))
        for kind in kinds:
            items = report[section][kind]
            if not items:
                continue
            lines.append(f"{section} {kind}:")
            lines.extend(line(kind, item) for item in items[:limit])
            if len(items) > limit:
                lines.append(f"  ... and {len(items) - limit} more (see --json)")
    lines.extend(_pair_lines(report, limit, per_kind=pair_ids))
    if not any(any(report["summary"][s].values()) for s in ("stories", "variants", "pairs")):
        lines.append("no changes")
    return "\n".join(lines) + "\n"
