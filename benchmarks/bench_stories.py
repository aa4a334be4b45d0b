"""Stories benchmark: quality and cost of clustering variants into stories.

Quality: generates a synthetic corpus (benchmarks/synth.py) in a temporary folder, ingests it into a
temporary raw/, runs the extract and cluster stages and compares the stories with the generator's
gold: pairwise precision, recall, F1 and adjusted Rand index, plus how often each kind of variant
joined its original. Rows: the pipeline on extracted bodies, the same clustering on the gold bodies
(extraction taken out of the picture) and, for reference, a standard near-duplicate setting
(datasketch MinHashLSH, word 5-grams, Jaccard >= 0.8, every candidate linked).

Cost: time and peak memory of cluster_variants alone on gold bodies at each size (captures), each in
a fresh subprocess, and datasketch's per-paragraph MinHash cost for comparison.

    python benchmarks/bench_stories.py                       # quality, 300 stories, text + html
    python benchmarks/bench_stories.py --stories 600 --seed 3 --workers 2
    python benchmarks/bench_stories.py --cost 10000,100000   # cost only

Writes benchmarks/results/stories.json (quality; stories-TAG.json with --tag TAG) and
benchmarks/results/stories_cost.json (cost).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import gold_bodies  # noqa: E402

from newsvariants import cluster  # noqa: E402
from newsvariants.cluster import ClusterInput, cluster_variants  # noqa: E402
from newsvariants.score import cluster_metrics  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
CAPTURES_PER_STORY = 5.0  # mean family size of synth.FAMILY_SIZES


def parameters() -> dict[str, Any]:
    from newsvariants import fingerprint

    return {
        "shingle_size": fingerprint.SHINGLE_SIZE,
        "num_perm": fingerprint.NUM_PERM,
        "minhash_seed": fingerprint.MINHASH_SEED,
        **cluster.parameters(),
    }


# --- quality ----------------------------------------------------------------------------------


def baseline_standard_dedup(items: Sequence[ClusterInput]) -> list[list[str]]:
    """Common deduplication settings: 5-gram Jaccard >= 0.8 by MinHashLSH, candidates linked."""
    from datasketch import MinHash, MinHashLSH

    from newsvariants.normalize import tokens

    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    signatures = {}
    for item in items:
        words = tokens("\n".join(item.paragraphs))
        grams = {" ".join(words[i : i + 5]) for i in range(max(1, len(words) - 4))}
        sig = MinHash(num_perm=128, seed=1)
        sig.update_batch([g.encode() for g in sorted(grams)])
        signatures[item.variant_id] = sig
        lsh.insert(item.variant_id, sig)
    parent = {v: v for v in signatures}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for vid in sorted(signatures):
        for other in lsh.query(signatures[vid]):
            ra, rb = find(vid), find(other)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = defaultdict(list)
    for vid in signatures:
        groups[find(vid)].append(vid)
    return sorted(sorted(g) for g in groups.values())


def score(clusters: list[list[str]], gold: dict[str, str], role: dict[str, str]) -> dict[str, Any]:
    predicted = {v: i for i, members in enumerate(clusters) for v in members}
    ids = sorted(gold)
    metrics = cluster_metrics([gold[v] for v in ids], [predicted[v] for v in ids])
    original = {gold[v]: predicted[v] for v in ids if role[v] == "original"}
    joined: dict[str, list[bool]] = defaultdict(list)
    for v in ids:
        if role[v] != "original":
            joined[role[v]].append(predicted[v] == original[gold[v]])
    metrics["joined_original"] = {r: round(sum(j) / len(j), 4) for r, j in sorted(joined.items())}
    return metrics


def quality(stories: int, seed: int, forms: tuple[str, ...], workers: int) -> dict[str, Any]:
    from synth import generate

    from newsvariants.build import extract_all
    from newsvariants.ingest import ingest, load_captures, manifest_inputs

    with tempfile.TemporaryDirectory(prefix="nv-stories-") as tmp:
        root = Path(tmp)
        summary = generate(root / "synth", stories, seed, forms)
        gold_rows = [
            json.loads(line)
            for line in (root / "synth" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        manifest = {
            json.loads(line)["path"]: json.loads(line)
            for line in (root / "synth" / "manifest.jsonl").read_text().splitlines()
        }
        by_sha = {
            hashlib.sha256((root / "synth" / r["path"]).read_bytes()).hexdigest(): r
            for r in gold_rows
        }
        raw = root / "raw"
        ingest(manifest_inputs(root / "synth" / "manifest.jsonl"), raw)
        captures = load_captures(raw)
        started = time.perf_counter()
        extractions, quarantined = extract_all(raw, captures, workers=workers)
        extract_seconds = time.perf_counter() - started
        gold = {c.capture_id: by_sha[c.sha256]["story"] for c in captures}
        role = {c.capture_id: by_sha[c.sha256]["role"] for c in captures}
        source = {c.capture_id: c.source for c in captures}
        extracted = [
            ClusterInput(cid, [p.text for p in ex.paragraphs], source[cid])
            for cid, ex in sorted(extractions.items())
        ]
        gold_items = [
            ClusterInput(
                c.capture_id,
                [p["text"] for p in by_sha[c.sha256]["paragraphs"]],
                manifest[by_sha[c.sha256]["path"]]["source"],
            )
            for c in captures
        ]
        rows = {}
        for name, items in (
            ("pipeline (extracted bodies)", extracted),
            ("clustering on gold bodies", gold_items),
            ("standard dedup: 5-gram J>=0.8 (extracted)", extracted),
        ):
            started = time.perf_counter()
            clusters = (
                baseline_standard_dedup(items)
                if name.startswith("standard")
                else cluster_variants(items)
            )
            seconds = time.perf_counter() - started
            kept = {i.variant_id for i in items}
            clusters += [[c] for c in sorted(set(gold) - kept)]  # quarantined: singletons
            rows[name] = {**score(clusters, gold, role), "seconds": round(seconds, 2)}
    return {
        "generator": summary,
        "forms": list(forms),
        "quarantined": len(quarantined),
        "extract_seconds": round(extract_seconds, 1),
        "parameters": parameters(),
        "rows": rows,
        "targets": {"ari": 0.95, "pairwise_precision": 0.99},
    }


def print_quality(result: dict[str, Any]) -> None:
    gen = result["generator"]
    print(
        f"synthetic: {gen['stories']} stories, {gen['captures']} captures, seed {gen['seed']}, "
        f"forms {','.join(result['forms'])}; quarantined {result['quarantined']}"
    )
    head = f"{'clustering':44} {'P':>7} {'R':>7} {'F1':>7} {'ARI':>7} {'clusters':>8} {'s':>6}"
    print(head)
    print("-" * len(head))
    for name, row in result["rows"].items():
        print(
            f"{name:44} {row['pairwise_precision']:7.4f} {row['pairwise_recall']:7.4f} "
            f"{row['pairwise_f1']:7.4f} {row['ari']:7.4f} {row['clusters']:8d} "
            f"{row['seconds']:6.1f}"
        )
    print(
        "joined their original (pipeline):",
        result["rows"]["pipeline (extracted bodies)"]["joined_original"],
    )


# --- cost ---------------------------------------------------------------------------------------


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cost_one(captures: int, seed: int) -> dict[str, Any]:
    """Run in a fresh process: cluster ~`captures` gold bodies; time and peak memory."""
    rows = gold_bodies(max(1, round(captures / CAPTURES_PER_STORY)), seed)
    items = [ClusterInput(name, paragraphs, name.split("_", 2)[2]) for name, _, paragraphs in rows]
    gold = {name: story for name, story, _ in rows}
    before = _rss_mb()
    started = time.perf_counter()
    bodies = cluster.body_fingerprints(items)
    fingerprinted = time.perf_counter()
    pairs = cluster.candidate_pairs(bodies)
    candidates = time.perf_counter()
    edges = cluster.verified_edges(bodies, pairs)
    verified = time.perf_counter()
    clusters = cluster.link(bodies.ids, edges, dict(zip(bodies.ids, bodies.body, strict=True)))
    done = time.perf_counter()
    predicted = {v: i for i, members in enumerate(clusters) for v in members}
    ids = sorted(gold)
    metrics = cluster_metrics([gold[v] for v in ids], [predicted[v] for v in ids])
    return {
        "captures": len(rows),
        "paragraphs": sum(len(p) for _, _, p in rows),
        "candidate_pairs": int(len(pairs)),
        "edges": len(edges),
        "seconds_total": round(done - started, 2),
        "seconds_fingerprint": round(fingerprinted - started, 2),
        "seconds_candidates": round(candidates - fingerprinted, 2),
        "seconds_verify": round(verified - candidates, 2),
        "seconds_link": round(done - verified, 2),
        "rss_before_mb": round(before, 1),
        "peak_rss_mb": round(_rss_mb(), 1),
        "ari": round(metrics["ari"], 4),
        "pairwise_precision": round(metrics["pairwise_precision"], 4),
        "pairwise_recall": round(metrics["pairwise_recall"], 4),
    }


def datasketch_paragraph_cost(seed: int, sample: int = 3000) -> dict[str, Any]:
    """Seconds per paragraph to build datasketch MinHash signatures vs the numpy ones."""
    from datasketch import LeanMinHash, MinHash

    from newsvariants.fingerprint import NUM_PERM, segment_signatures, shingle_table, shingles
    from newsvariants.normalize import tokens

    paragraphs = [p for _, _, body in gold_bodies(200, seed) for p in body][:sample]
    started = time.perf_counter()
    for text in paragraphs:
        sig = MinHash(num_perm=NUM_PERM, seed=1)
        sig.update_batch([s.encode() for s in shingles(tokens(text))])
        LeanMinHash(sig)
    datasketch_s = (time.perf_counter() - started) / len(paragraphs)
    started = time.perf_counter()
    table = shingle_table([paragraphs])
    segment_signatures(table.hashes, table.para_start)
    numpy_s = (time.perf_counter() - started) / len(paragraphs)
    return {
        "paragraphs": len(paragraphs),
        "datasketch_us_per_paragraph": round(datasketch_s * 1e6, 1),
        "numpy_us_per_paragraph": round(numpy_s * 1e6, 1),
        "speedup": round(datasketch_s / numpy_s, 1),
    }


def cost(sizes: Sequence[int], seed: int) -> dict[str, Any]:
    rows = []
    for size in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--cost-one", str(size), "--seed", str(seed)],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(out.stdout))
    return {
        "parameters": parameters(),
        "rows": rows,
        "minhash": datasketch_paragraph_cost(seed),
    }


def print_cost(result: dict[str, Any]) -> None:
    head = (
        f"{'captures':>9} {'paragraphs':>10} {'cand pairs':>10} {'total s':>8} {'fp s':>6} "
        f"{'cand s':>6} {'verify s':>8} {'link s':>6} {'peak MB':>8} {'ARI':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in result["rows"]:
        print(
            f"{r['captures']:9d} {r['paragraphs']:10d} {r['candidate_pairs']:10d} "
            f"{r['seconds_total']:8.1f} {r['seconds_fingerprint']:6.1f} "
            f"{r['seconds_candidates']:6.1f} {r['seconds_verify']:8.1f} {r['seconds_link']:6.1f} "
            f"{r['peak_rss_mb']:8.0f} {r['ari']:7.4f}"
        )
    m = result["minhash"]
    print(
        f"MinHash per paragraph: datasketch {m['datasketch_us_per_paragraph']} us, "
        f"numpy {m['numpy_us_per_paragraph']} us ({m['speedup']}x)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stories: clustering quality and cost")
    parser.add_argument("--stories", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--forms", default="text,html")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cost", default=None, help="comma-separated capture counts")
    parser.add_argument("--cost-one", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="", help="results file suffix: stories-TAG.json")
    args = parser.parse_args(argv)
    if args.cost_one is not None:
        print(json.dumps(cost_one(args.cost_one, args.seed)))
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.cost:
        result = cost([int(n) for n in args.cost.split(",")], args.seed)
        print_cost(result)
        (RESULTS / "stories_cost.json").write_text(json.dumps(result, indent=1) + "\n")
        return 0
    result = quality(args.stories, args.seed, tuple(args.forms.split(",")), args.workers)
    print_quality(result)
    name = f"stories-{args.tag}.json" if args.tag else "stories.json"
    (RESULTS / name).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
