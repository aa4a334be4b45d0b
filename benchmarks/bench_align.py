"""Alignment benchmark: units and relations against the synthetic generator's gold, and cost.

Generates (or reads) synthetic stories with benchmarks/synth.py, aligns the gold paragraph texts of
every variant to its story's original (the pivot) with the project's aligner and relation rule, and
scores them against the gold correspondence:

- unit precision, recall and F1: a unit is (pivot paragraph indexes, variant paragraph indexes);
  a predicted unit counts only when it equals a gold unit exactly (added/removed units included);
- relation accuracy: share of the correctly found units whose relation equals the gold relation;
- speed: paragraphs aligned per second (pivot + variant paragraphs of every alignment, over the
  CPU time of this process for alignment + labelling: the machine is shared, wall time is noisy).
  The whole pass runs `--repeat` times with the memos cleared before each (every pass does the
  same cold work and must predict the same units: a determinism check) and the fastest pass is
  reported with the slowest, since other processes on a shared machine slow CPU time down too;
- cost: the story with most variants, replicated to 50..500 variants (each paragraph of each copy
  gets a token of its own, so no text repeats and no cached work is reused), goes through
  `build.align_story` (align + label), which must call the aligner exactly n - 1 times, with time
  per variant flat (linear in variants).

Gold paragraph texts are used directly, so extraction errors do not count here. Every gold unit
counts; the benchmark also reports how many gold `major_edit` units keep (almost) nothing of their
base paragraph, a check of the gold (the generator keeps an original sentence in every rewrite).

    python benchmarks/bench_align.py --stories 300 --seed 11
    python benchmarks/bench_align.py --synth-dir /tmp/synth   # an existing synth.py output
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz.distance import Indel

from newsvariants import build as build_module
from newsvariants import label as label_module
from newsvariants.align import align_paragraphs, clear_feature_cache
from newsvariants.label import relation_of, unit_scores
from newsvariants.normalize import tokens
from newsvariants.records import AlignmentUnit, Paragraph, Story, Variant

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "align.json"
Unit = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class GoldVariant:
    capture: str
    story: str
    role: str
    captured_at: str
    paragraphs: list[str]
    units: dict[Unit, str | None]  # gold unit -> gold relation (None when the gold has none)


# --- gold ---------------------------------------------------------------------------------------


def gold_units(paragraphs: list[dict], n_pivot: int) -> dict[Unit, str | None]:
    """Gold units of one variant from its paragraphs' `base` (pivot indexes) and `op`.

    Variant paragraphs sharing one single base form a split; a paragraph with several bases is a
    merge; a paragraph with no base is added; pivot paragraphs no paragraph is based on are removed.
    """
    by_base: dict[tuple[int, ...], list[int]] = {}
    ops: dict[tuple[int, ...], list[str]] = {}
    units: dict[Unit, str | None] = {}
    for j, para in enumerate(paragraphs):
        base = tuple(sorted(para.get("base") or ()))
        if not base:
            units[((), (j,))] = "added"
            continue
        by_base.setdefault(base, []).append(j)
        ops.setdefault(base, []).append(para.get("op") or "")
    for base, js in by_base.items():
        unit = (base, tuple(js))
        units[unit] = gold_relation(unit, ops[base])
    used = {i for a, _ in units for i in a}
    for i in range(n_pivot):
        if i not in used:
            units[((i,), ())] = "removed"
    return units


# The generator's op names -> the corpus's relations (ops naming a relation map to themselves).
OP_RELATION = {
    "copy": "identical",
    "verbatim": "identical",
    "same": "identical",
    "keep": "identical",
    "quotes": "formatting",
    "format": "formatting",
    "restyle": "formatting",
    "reword": "minor_edit",
    "minor": "minor_edit",
    "rewrite": "major_edit",
    "major": "major_edit",
    "move": None,  # a move says nothing of the text: judged by the unit only
    "moved": None,
}
RELATIONS = set(label_module.RELATIONS)  # the gold ops that are relation names


def gold_relation(unit: Unit, ops: list[str]) -> str | None:
    a, b = unit
    if len(a) > 1:
        return "merge"
    if len(b) > 1:
        return "split"
    op = ops[0]
    if op in RELATIONS:
        return op
    for name in op.replace("+", ",").replace("|", ",").split(","):
        if name.strip() in RELATIONS:
            return name.strip()
    return OP_RELATION.get(op.split("+")[0].split(",")[0].strip())


def load_gold(folder: Path) -> dict[str, list[GoldVariant]]:
    """Stories of the synthetic output: story -> variants, the pivot (earliest captured) first."""
    manifest = {}
    for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            manifest[_capture_key(rec)] = rec
    raw: dict[str, list[dict]] = {}
    for line in (folder / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            raw.setdefault(rec["story"], []).append(rec)
    stories: dict[str, list[GoldVariant]] = {}
    for story, recs in sorted(raw.items()):
        recs = [r for r in recs if r.get("paragraphs")]
        recs.sort(key=lambda r: (_captured_at(r, manifest), r.get("role") != "original"))
        if len(recs) < 2:
            continue
        n_pivot = len(recs[0]["paragraphs"])
        stories[story] = [
            GoldVariant(
                capture=_capture_key(r),
                story=story,
                role=r.get("role", ""),
                captured_at=_captured_at(r, manifest),
                paragraphs=[p["text"] for p in r["paragraphs"]],
                units=gold_units(r["paragraphs"], n_pivot) if k else {},
            )
            for k, r in enumerate(recs)
        ]
    return stories


def _capture_key(rec: dict) -> str:
    for key in ("capture", "capture_id", "id", "path", "file", "name"):
        if key in rec:
            return str(rec[key])
    raise KeyError(f"no capture key in {sorted(rec)}")


def _captured_at(rec: dict, manifest: dict[str, dict]) -> str:
    return str(rec.get("captured_at") or manifest.get(_capture_key(rec), {}).get("captured_at", ""))


# --- scoring ------------------------------------------------------------------------------------


@dataclass
class Tally:
    predicted: int = 0
    gold: int = 0
    found: int = 0
    relation_judged: int = 0
    relation_right: int = 0

    @property
    def precision(self) -> float:
        return self.found / max(1, self.predicted)

    @property
    def recall(self) -> float:
        return self.found / max(1, self.gold)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        return self.relation_right / max(1, self.relation_judged)


@dataclass(frozen=True)
class Aligned:
    pivot: GoldVariant
    variant: GoldVariant
    predicted: dict[Unit, str]


def align_all(stories: dict[str, list[GoldVariant]]) -> tuple[list[Aligned], int, float]:
    """Every variant against its story's pivot; also paragraphs aligned and seconds spent."""
    clear_feature_cache()  # every pass starts cold
    done, paragraphs, seconds = [], 0, 0.0
    for variants in stories.values():
        pivot = variants[0]
        for variant in variants[1:]:
            start = time.process_time()
            predicted = _align_and_label(pivot.paragraphs, variant.paragraphs)
            seconds += time.process_time() - start
            paragraphs += len(pivot.paragraphs) + len(variant.paragraphs)
            done.append(Aligned(pivot, variant, predicted))
    return done, paragraphs, seconds


# A gold `major_edit` that shares (almost) nothing with its base paragraph, which only its position
# could pair. The generator keeps an original sentence in every rewrite, so there should be none:
# counted as a check of the gold, not left out of any score.
TEXTLESS_RATIO = 0.2


def textless(pivot: GoldVariant, variant: GoldVariant, unit: Unit, relation: str | None) -> bool:
    if relation != "major_edit":
        return False
    a = tokens(" ".join(pivot.paragraphs[i] for i in unit[0]))
    b = tokens(" ".join(variant.paragraphs[j] for j in unit[1]))
    return Indel.normalized_similarity(a, b) < TEXTLESS_RATIO


def count_textless(aligned: list[Aligned]) -> int:
    return sum(
        textless(item.pivot, item.variant, unit, relation)
        for item in aligned
        for unit, relation in item.variant.units.items()
    )


def evaluate(aligned: list[Aligned]) -> tuple[Tally, Counter, Counter]:
    """Unit P/R/F1 and relation accuracy; per gold relation: units and found right; confusions."""
    tally = Tally()
    per_relation: Counter[str] = Counter()
    right_by_relation: Counter[str] = Counter()
    confusion: Counter[str] = Counter()
    for item in aligned:
        gold, predicted = item.variant.units, item.predicted
        tally.predicted += len(predicted)
        tally.gold += len(gold)
        for unit, relation in gold.items():
            per_relation[relation or "?"] += 1
            if unit not in predicted:
                continue
            tally.found += 1
            if relation is None:
                continue
            tally.relation_judged += 1
            right = predicted[unit] == relation
            tally.relation_right += right
            right_by_relation[relation] += right
            if not right:
                confusion[f"{relation} -> {predicted[unit]}"] += 1
    return tally, per_relation, Counter({**right_by_relation, **confusion})


def _align_and_label(a: list[str], b: list[str]) -> dict[Unit, str]:
    out = {}
    for unit in align_paragraphs(a, b):
        text_a = "\n\n".join(a[i] for i in unit.paragraphs_a)
        text_b = "\n\n".join(b[j] for j in unit.paragraphs_b)
        scores, _ = unit_scores(text_a, text_b)
        n_a, n_b = len(unit.paragraphs_a), len(unit.paragraphs_b)
        out[(unit.paragraphs_a, unit.paragraphs_b)] = relation_of(n_a, n_b, text_a, text_b, scores)
    return out


# --- cost ---------------------------------------------------------------------------------------


def cost_curve(variants: list[GoldVariant], sizes: list[int]) -> list[dict]:
    """One story replicated to n variants through build.align_story: calls and time per variant."""
    calls = 0
    real = build_module.align_paragraphs

    def counting(a: list[str], b: list[str]) -> list[AlignmentUnit]:
        nonlocal calls
        calls += 1
        return real(a, b)

    build_module.align_paragraphs = counting
    rows = []
    try:
        for n in sizes:
            members = {}
            for k in range(n):
                source = variants[k % len(variants)] if k else variants[0]
                vid = f"v-{k:016x}"
                # a token of its own in every paragraph: no text repeats, so no cached work
                texts = source.paragraphs if k == 0 else [f"{t} w{k}" for t in source.paragraphs]
                members[vid] = _variant(vid, texts)
            clear_feature_cache()
            story = Story("s-000000000000", None, None, n, sorted(members), "v-" + "0" * 16, [])
            calls = 0
            start = time.process_time()
            units = build_module.align_story(story, members)
            seconds = time.process_time() - start
            rows.append(
                {
                    "variants": n,
                    "aligner_calls": calls,
                    "units": len(units),
                    "seconds": round(seconds, 3),
                    "ms_per_variant": round(1000 * seconds / max(1, n - 1), 2),
                }
            )
    finally:
        build_module.align_paragraphs = real
    return rows


def _variant(vid: str, texts: list[str]) -> Variant:
    paras = [Paragraph(f"{vid}:p{i:03d}", t, 0, len(t)) for i, t in enumerate(texts)]
    return Variant(
        vid, "s-000000000000", vid[2:], "0" * 64, "synth", None, None, None, None, None, "en",
        "text", paras, [], None, None, [], "synth",
    )  # fmt: skip


# --- main ---------------------------------------------------------------------------------------


def run_synth(out: Path, stories: int, seed: int) -> None:
    cmd = [sys.executable, str(REPO / "benchmarks" / "synth.py"), "--out", str(out)]
    cmd += ["--stories", str(stories), "--seed", str(seed)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def timed_passes(
    stories: dict[str, list[GoldVariant]], repeat: int
) -> tuple[list[Aligned], int, list[float]]:
    """`repeat` cold passes; all must predict the same units and relations (determinism)."""
    aligned, paragraphs, seconds = align_all(stories)
    times = [seconds]
    for _ in range(repeat - 1):
        again, _, seconds = align_all(stories)
        if [x.predicted for x in again] != [x.predicted for x in aligned]:
            raise SystemExit("two passes over the same input predicted different units")
        times.append(seconds)
    return aligned, paragraphs, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synth-dir", type=Path, help="an existing synth.py output folder")
    parser.add_argument("--stories", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (fastest reported)")
    parser.add_argument("--sizes", default="50,100,200,500", help="variants per story, cost curve")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="nv-bench-align-") as tmp:
        folder = args.synth_dir
        if folder is None:
            folder = Path(tmp) / "synth"
            run_synth(folder, args.stories, args.seed)
        stories = load_gold(folder)
    aligned, paragraphs, times = timed_passes(stories, max(1, args.repeat))
    full, per_relation, extra = evaluate(aligned)
    n_textless = count_textless(aligned)
    speed, slowest = paragraphs / max(min(times), 1e-9), paragraphs / max(max(times), 1e-9)
    biggest = max(stories.values(), key=len)
    curve = cost_curve(biggest, [int(x) for x in args.sizes.split(",")])

    print(f"stories {len(stories)}, alignments {len(aligned)}, gold units {full.gold}")
    print(f"{'metric':<26}{'all gold':>10}{'target':>10}")
    for name, key, target in (
        ("unit precision", "precision", ""),
        ("unit recall", "recall", ""),
        ("unit F1", "f1", ">= 0.98"),
        ("relation accuracy", "accuracy", ">= 0.95"),
    ):
        print(f"{name:<26}{getattr(full, key):>10.4f}{target:>10}")
    print(
        f"{'paragraphs aligned / s':<26}{speed:>10.0f}   ({paragraphs} in {min(times):.2f} s CPU, "
        f"fastest of {len(times)} passes; slowest {slowest:.0f}/s)"
    )
    print(
        f"(gold check: {n_textless} gold major_edit units share < {TEXTLESS_RATIO} token ratio "
        "with their base paragraph)"
    )
    print("\nper gold relation: units, found with the right relation")
    for rel in sorted(per_relation):
        print(f"  {rel:<12}{per_relation[rel]:>7}{extra.get(rel, 0):>7}")
    mistakes = {k: v for k, v in extra.items() if "->" in k}
    if mistakes:
        print("relation mistakes (gold -> predicted):", json.dumps(mistakes, sort_keys=True))
    print("\ncost: one story replicated, every variant aligned to the pivot (build.align_story)")
    print(f"{'variants':>9}{'aligner calls':>15}{'seconds':>10}{'ms/variant':>12}")
    for row in curve:
        print(
            f"{row['variants']:>9}{row['aligner_calls']:>15}{row['seconds']:>10.2f}"
            f"{row['ms_per_variant']:>12.2f}"
        )

    def metrics(t: Tally) -> dict:
        return {
            "unit_precision": round(t.precision, 4),
            "unit_recall": round(t.recall, 4),
            "unit_f1": round(t.f1, 4),
            "relation_accuracy": round(t.accuracy, 4),
            "gold_units": t.gold,
            "predicted_units": t.predicted,
            "relation_judged_units": t.relation_judged,
        }

    result = {
        "benchmark": "align",
        "synth": {"stories": args.stories, "seed": args.seed, "dir": str(args.synth_dir or "")},
        "stories": len(stories),
        "alignments": len(aligned),
        "all_gold": metrics(full),
        "textless_gold_major_edits": n_textless,
        "per_gold_relation": dict(sorted(per_relation.items())),
        "found_with_right_relation": {k: v for k, v in sorted(extra.items()) if "->" not in k},
        "relation_mistakes": dict(sorted(mistakes.items())),
        "paragraphs_aligned": paragraphs,
        "align_and_label_seconds": [round(t, 3) for t in times],
        "paragraphs_aligned_per_second": round(speed),
        "paragraphs_aligned_per_second_slowest_pass": round(slowest),
        "cost_curve": curve,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
