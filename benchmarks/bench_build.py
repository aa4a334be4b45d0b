"""Build benchmark: generated corpora of 1k / 10k / 100k captures, end to end and per stage.

    python benchmarks/bench_build.py [--sizes 1000,10000,100000] [--forms text,html]
        [--workers 1,2] [--repeat 3] [--incremental 10000] [--peer] [--data benchmarks/data]

For each form (text dumps, HTML) and size it generates captures with benchmarks/synth.py (cached
under --data, which is gitignored), ingests them (records/s), then builds the corpus once per
--workers value, each build in its own process so that timings and peak RSS are its own. Per stage
it reports captures/s (stage times come from wrapping build.run_stage; time not inside a named
stage is `other`), end to end captures/s, peak RSS of the build's whole process tree (driver plus
pool workers, sampled every 0.2 s) and the adjusted Rand index of the built stories against the
generator's gold stories.

--repeat N: N interleaved rounds of the --workers builds (w1, w2, w1, w2...); each size reports
its median run per --workers value, every run's time and the speed-up (median runs, and each
round's own ratio): on a shared machine one pair of builds can be off by a third.

--incremental N: builds N captures minus 1% with a fresh cache, adds the last 1%, rebuilds with
the cache and compares it (time and bytes) with an uncached build of the same raw/ and registry.
Then rebuilds once more with nothing new: every capture's work comes from the cache, so what that
build takes is the stages over the whole corpus (clustering, pairs, writing, validation), the floor
of any incremental build of this design.

--peer: the same captures through datatrove's MinHash deduplication (signature, buckets, cluster;
number normalisation off), its clusters taken as stories; throughput and ARI side by side. It gets
the cores the fastest build got (the last --workers value): as many signature tasks and pool
workers. Its log goes to datatrove.log in the run's folder.

Writes benchmarks/results/build.json (or --json) and prints a table. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import os
import struct
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CAPTURES_PER_STORY = 4.2  # what synth.py draws on average (measured: 1273 captures / 300 stories)
STAGES = (
    "ingest",
    "extract",
    "cluster",
    "align",
    "label",
    "pairs",
    "write",
    "card",
    "validate",
)


# --- peak RSS of a process tree ----------------------------------------------------------------


def _proc_fields(name: str) -> dict[int, list[str]]:
    """{pid: fields} of every process's /proc/PID/`name` ("status" lines or "stat" fields)."""
    found: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/{name}", encoding="utf-8") as handle:
                found[int(entry)] = (
                    handle.read().splitlines()
                    if name == "status"
                    else (handle.read().rsplit(")", 1)[1].split())
                )
        except OSError:
            continue
    return found


def _tree_sum(root: int, parent: dict[int, int], value: dict[int, int]) -> int:
    """The sum of `value` over `root` and all its descendants."""
    total = 0
    for pid in value:
        node = pid
        while node and node != root:
            node = parent.get(node, 0)
        if node == root:
            total += value[pid]
    return total


def _tree_rss_kib(root: int) -> int:
    """Resident KiB of `root` and all its descendants, from /proc (Linux).

    Hand-written because psutil is not a dependency of the package and the pool workers are
    children of a forkserver, so getrusage(RUSAGE_CHILDREN) of the driver does not see them.
    """
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for pid, lines in _proc_fields("status").items():
        fields = dict(line.split(":", 1) for line in lines if ":" in line)
        parent[pid] = int(fields.get("PPid", "0").strip())
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0] or 0)
    return _tree_sum(root, parent, rss)


_TICKS = os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(root: int) -> float:
    """CPU seconds (user + system) used so far by `root` and its descendants (/proc), live ones
    and those already reaped (a process's cutime/cstime: its waited-for children's CPU).

    Stage rates in CPU time do not depend on what else runs on a shared machine (wall time
    does). Pool workers are stopped while the driver works alone in large builds (and reaped by
    the forkserver, a descendant): counting only live processes made a stage's CPU negative."""
    stats = _proc_fields("stat")
    parent = {pid: int(fields[1]) for pid, fields in stats.items()}
    ticks = {pid: sum(int(field) for field in fields[11:15]) for pid, fields in stats.items()}
    return _tree_sum(root, parent, ticks) / _TICKS


class PeakRss:
    """Samples the tree RSS of this process in a background thread."""

    def __init__(self, every: float = 0.2) -> None:
        self.every, self.peak_kib = every, 0
        # Peak per stage: which stage to charge is set by the build's stage hook.
        self.stage, self.stage_peak_kib = "other", defaultdict(int)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            kib = _tree_rss_kib(os.getpid())
            self.peak_kib = max(self.peak_kib, kib)
            self.stage_peak_kib[self.stage] = max(self.stage_peak_kib[self.stage], kib)
            self._stop.wait(self.every)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, _tree_rss_kib(os.getpid()))


# --- one build, in a child process ---------------------------------------------------------------


def child_build(args: argparse.Namespace) -> None:
    """Run one build and print its timings as JSON (the parent runs this in a fresh process)."""
    from newsvariants import build as build_module

    seconds: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    real_run_stage = build_module.run_stage
    me = os.getpid()

    rss = PeakRss()

    def timed(name: str, func: Any, *a: Any, **k: Any) -> Any:
        start, start_cpu = time.perf_counter(), _tree_cpu_seconds(me)
        outer, rss.stage = rss.stage, name  # stages nest (labels inside align)
        try:
            return real_run_stage(name, func, *a, **k)
        finally:
            rss.stage = outer
            seconds[name] += time.perf_counter() - start
            cpu[name] += _tree_cpu_seconds(me) - start_cpu

    build_module.run_stage = timed
    with rss:
        start = time.perf_counter()
        result = build_module.build(
            Path(args.raw),
            Path(args.out),
            registry_path=Path(args.registry) if args.registry else None,
            workers=args.workers,
            cache_dir=Path(args.cache) if args.cache else None,
            engine=args.engine,
            keep_records=False,
        )
        total = time.perf_counter() - start
    total_cpu = sum(cpu.values())  # pool workers are gone once the build returns
    seconds["other"] = total - sum(seconds.values())
    print(
        json.dumps(
            {
                "captures": result.captures,
                "quarantined": len(result.quarantined),
                "seconds": total,
                "stage_seconds": dict(seconds),
                "stage_cpu_seconds": dict(cpu),
                "cpu_seconds": total_cpu,
                "peak_rss_mib": rss.peak_kib / 1024,
                "stage_peak_rss_mib": {k: v / 1024 for k, v in rss.stage_peak_kib.items()},
            }
        )
    )


def run_child(
    raw: Path,
    out: Path,
    workers: int,
    cache: Path | None = None,
    registry: Path | None = None,
    engine: str = "local",
) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "child", "--raw", str(raw)]
    command += ["--out", str(out), "--workers", str(workers), "--engine", engine]
    if cache:
        command += ["--cache", str(cache)]
    if registry:
        command += ["--registry", str(registry)]
    env = dict(os.environ)
    if CODE_SNAPSHOT is not None:  # every build of this run uses the same code
        env["PYTHONPATH"] = os.pathsep.join([str(CODE_SNAPSHOT / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"build failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


CODE_SNAPSHOT: Path | None = None


def snapshot_code(folder: Path) -> Path:
    """Copy the code (src/, schema/, the card) so that edits made to the checkout while the
    benchmark runs (others work in it) cannot make two builds of one run differ."""
    import shutil

    if folder.exists():
        shutil.rmtree(folder)
    for part in ("src", "schema"):
        shutil.copytree(REPO / part, folder / part, ignore=shutil.ignore_patterns("__pycache__"))
    # the card renders these from the checkout
    for part in ("DATASET_CARD.md", "CITATION.cff", "benchmarks/results/baselines.md"):
        if (REPO / part).is_file():
            (folder / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REPO / part, folder / part)
    return folder


# --- data ---------------------------------------------------------------------------------------


def generated(data: Path, form: str, size: int, seed: int) -> Path:
    """synth.py output with at least `size` captures, manifest cut to exactly `size` lines."""
    sys.path.insert(0, str(HERE))
    from synth import generate

    folder = data / f"{form}-{size}-seed{seed}"
    if not (folder / "manifest.jsonl").exists():
        generate(
            folder,
            n_stories=max(1, round(size / CAPTURES_PER_STORY * 1.05)),
            seed=seed,
            forms=(form,),
        )
    lines = (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    if len(lines) < size:
        raise RuntimeError(f"{folder}: synth wrote {len(lines)} captures, fewer than {size}")
    (folder / f"manifest-{size}.jsonl").write_text("\n".join(lines[:size]) + "\n", "utf-8")
    return folder


def ingest_manifest(folder: Path, manifest: Path, raw: Path) -> tuple[float, dict[str, str]]:
    """Ingest into raw/; seconds taken and capture_id per manifest path."""
    from newsvariants.ingest import ingest, manifest_inputs

    start = time.perf_counter()
    items = manifest_inputs(manifest)
    outcomes = ingest(items, raw)
    seconds = time.perf_counter() - start
    paths = [json.loads(line)["path"] for line in manifest.read_text("utf-8").splitlines()]
    return seconds, {p: o.capture.capture_id for p, o in zip(paths, outcomes, strict=True)}


def gold_stories(folder: Path) -> dict[str, str]:
    rows = (json.loads(line) for line in (folder / "gold.jsonl").read_text("utf-8").splitlines())
    return {row["path"]: row["story"] for row in rows}


def corpus_stories(corpus: Path) -> dict[str, str]:
    """capture_id -> story_id over every split of the built variants."""
    import pyarrow.parquet as pq

    found: dict[str, str] = {}
    for path in sorted((corpus / "variants").glob("*.parquet")):
        table = pq.read_table(path, columns=["capture_id", "story_id"]).to_pydict()
        found.update(zip(table["capture_id"], table["story_id"], strict=True))
    return found


def ari(gold: dict[str, str], predicted: dict[str, str], id_of: dict[str, str]) -> float:
    """ARI over every ingested capture; a capture without a predicted story is a singleton."""
    from sklearn.metrics import adjusted_rand_score

    paths = sorted(p for p in id_of if p in gold)
    labels = [predicted.get(id_of[p], f"alone:{id_of[p]}") for p in paths]
    return float(adjusted_rand_score([gold[p] for p in paths], labels))


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


# --- the peer: datatrove's MinHash dedup ---------------------------------------------------------


def peer_datatrove(raw: Path, work: Path, workers: int) -> tuple[float, dict[str, str]]:
    """datatrove MinHash dedup (signature -> buckets -> cluster) over the same captures' text, with
    `workers` processes; returns seconds and capture_id -> cluster (singletons get their own)."""
    import shutil

    from datatrove.data import Document
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupSignature,
    )
    from datatrove.utils.hashing import HashConfig
    from datatrove.utils.text import TextNormConfig

    from newsvariants.ingest import capture_text, load_captures

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    captures = load_captures(raw)
    start = time.perf_counter()
    # The page text datatrove would see: text dumps as they are, HTML through trafilatura (what
    # datatrove's own Trafilatura extractor step runs).
    texts = [_peer_text(raw, c, capture_text) for c in captures]

    def documents(data: Any = None, rank: int = 0, world_size: int = 1) -> Any:
        # task `rank` of `world_size` reads every world_size-th capture, as a sharded reader would
        for index in range(rank, len(captures), world_size):
            yield Document(text=texts[index], id=captures[index].capture_id)

    # sha1 shingle hashes: datatrove 0.10's xxhash path passes str where xxhash 3.6 wants bytes.
    config = MinhashConfig(
        norm_config=TextNormConfig(norm_numbers=False), hash_config=HashConfig(hash_fc="sha1")
    )
    signature = MinhashDedupSignature(
        output_folder=str(work / "sigs"), config=config, language=_split_tokenizer()
    )
    stages = [
        [documents, signature],
        [
            MinhashDedupBuckets(
                input_folder=str(work / "sigs"), output_folder=str(work / "buckets"), config=config
            )
        ],
        [
            MinhashDedupCluster(
                input_folder=str(work / "buckets"),
                output_folder=str(work / "clusters"),
                config=config,
                save_cluster_id=True,
            )
        ],
    ]
    with _stderr_to(work / "datatrove.log"):  # its INFO lines, a few hundred per stage
        tasks = (workers, config.num_buckets, 1)
        for n, pipeline in enumerate(stages):
            LocalPipelineExecutor(
                pipeline=pipeline,
                tasks=tasks[n],
                workers=workers,
                # one folder a stage: datatrove skips the ranks its folder marks as completed
                logging_dir=str(work / f"logs{n}"),
                # fork: the tasks share the texts read above (forkserver would pickle them all)
                start_method="fork",
            ).run()
    # Stage 3 writes, per signature task, (document index, cluster id) pairs for every document
    # in a cluster; the index counts that task's documents.
    clusters: dict[str, str] = {}
    for rank in range(workers):
        path = work / "clusters" / f"{rank:06d}.clusters"
        found = path.read_bytes() if path.exists() else b""
        for index, cluster in struct.iter_unpack("<II", found):
            clusters[captures[rank + index * workers].capture_id] = f"dt:{cluster}"
    seconds = time.perf_counter() - start
    return seconds, {
        c.capture_id: clusters.get(c.capture_id, f"dt-alone:{c.capture_id}") for c in captures
    }


@contextlib.contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """File descriptor 2 (the process's and its forked children's stderr) into `path` meanwhile."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _split_tokenizer() -> Any:
    """datatrove's English word tokenizer needs spaCy (not installed here); after its own text
    simplification (lowercase, punctuation removed) splitting on whitespace gives the same words
    for the English synthetic text."""
    from datatrove.utils.word_tokenizers import WordTokenizer

    class SplitTokenizer(WordTokenizer):
        def word_tokenize(self, text: str) -> list[str]:
            return text.split()

        def sent_tokenize(self, text: str) -> list[str]:
            return [line for line in text.split("\n") if line.strip()]

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            raise NotImplementedError

    return SplitTokenizer("en")


def _peer_text(raw: Path, capture: Any, capture_text: Any) -> str:
    if capture.format != "html":
        return capture_text(raw, capture)
    import trafilatura

    from newsvariants.ingest import decode_capture, verify_capture

    html = decode_capture(verify_capture(raw, capture), capture.encoding)
    return trafilatura.extract(html) or ""


# --- the runs -----------------------------------------------------------------------------------


def bench_size(args: argparse.Namespace, form: str, size: int) -> dict[str, Any]:
    folder = generated(args.data, form, size, args.seed)
    run = folder / f"run-{size}"
    raw = run / "raw"
    if raw.exists():
        import shutil

        shutil.rmtree(run)
    ingest_s, id_of = ingest_manifest(folder, folder / f"manifest-{size}.jsonl", raw)
    gold = gold_stories(folder)
    row: dict[str, Any] = {
        "form": form,
        "captures": size,
        "ingest_seconds": ingest_s,
        "ingest_captures_per_s": size / ingest_s,
        "builds": {},
    }
    runs, digests = _worker_rounds(args, form, size, raw, run)
    for workers, measured_runs in runs.items():
        measured = _median_run(measured_runs)
        measured["seconds_runs"] = [m["seconds"] for m in measured_runs]
        measured["captures_per_s"] = size / measured["seconds"]
        measured["stage_captures_per_s"] = {
            # stages under 10 ms (e.g. label, now done inside align) have no meaningful rate
            stage: size / s
            for stage, s in measured["stage_seconds"].items()
            if s >= 0.01
        }
        measured["stage_captures_per_cpu_s"] = {
            stage: size / s for stage, s in measured["stage_cpu_seconds"].items() if s >= 0.01
        }
        measured["ari"] = ari(gold, corpus_stories(run / f"corpus-w{workers}"), id_of)
        row["builds"][str(workers)] = measured
    # every build of every round, whatever its number of workers, wrote the same bytes
    row["outputs_identical_across_workers"] = len(digests) == 1
    if len(runs) > 1:
        row["speedup"] = _speedup(runs)
    if args.peer:
        workers = args.workers[-1]
        seconds, predicted = peer_datatrove(raw, run / "datatrove", workers)
        row["peer_datatrove"] = {
            "workers": workers,
            "seconds": seconds,
            "captures_per_s": size / seconds,
            "ari": ari(gold, predicted, id_of),
        }
    return row


def _worker_rounds(
    args: argparse.Namespace, form: str, size: int, raw: Path, run: Path
) -> tuple[dict[int, list[dict[str, Any]]], set[str]]:
    """`--repeat` rounds of one build per --workers value, interleaved (w1, w2, w1, w2...): the
    machine is shared and its speed drifts over minutes, so builds of one round see the same
    conditions and their ratio is fairer than that of two builds minutes apart."""
    runs: dict[int, list[dict[str, Any]]] = {w: [] for w in args.workers}
    digests: set[str] = set()
    for round_ in range(args.repeat):
        for workers in args.workers:
            out = run / f"corpus-w{workers}"
            measured = run_child(raw, out, workers)
            measured["load_average"] = os.getloadavg()
            runs[workers].append(measured)
            digests.add(tree_digest(out))
            print(
                f"  {form} {size} workers={workers} round {round_ + 1}/{args.repeat}: "
                f"{measured['seconds']:.1f}s",
                flush=True,
            )
    return runs, digests


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median time (the lower middle of an even count): a real run, whose stages
    add up, rather than averaged stages."""
    ranked = sorted(runs, key=lambda m: m["seconds"])
    return dict(ranked[(len(ranked) - 1) // 2])


def _speedup(runs: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    """Time with the fewest workers over time with the most: the ratio of the median runs, and
    the ratio within each round (the spread says how much one figure can be trusted)."""
    fewest, most = min(runs), max(runs)
    slow = [m["seconds"] for m in runs[fewest]]
    fast = [m["seconds"] for m in runs[most]]
    return {
        "workers": [fewest, most],
        "median_ratio": _median_run(runs[fewest])["seconds"] / _median_run(runs[most])["seconds"],
        "round_ratios": [a / b for a, b in zip(slow, fast, strict=True)],
    }


def bench_incremental(args: argparse.Namespace) -> dict[str, Any]:
    """Full build of 99% (cold cache), then +1% with the warm cache vs. without a cache."""
    import shutil

    size = args.incremental
    folder = generated(args.data, "text", size, args.seed)
    run = folder / "incremental"
    if run.exists():
        shutil.rmtree(run)
    lines = (folder / f"manifest-{size}.jsonl").read_text("utf-8").splitlines()
    cut = size - max(1, size // 100)
    (folder / "manifest-base.jsonl").write_text("\n".join(lines[:cut]) + "\n", "utf-8")
    (folder / "manifest-new.jsonl").write_text("\n".join(lines[cut:]) + "\n", "utf-8")
    raw, cache = run / "raw", run / "cache"
    ingest_manifest(folder, folder / "manifest-base.jsonl", raw)
    cold = run_child(raw, run / "v1", args.workers[-1], cache=cache)
    ingest_manifest(folder, folder / "manifest-new.jsonl", raw)
    registry = run / "v1" / "REGISTRY.json"
    warm = run_child(raw, run / "cached", args.workers[-1], cache=cache, registry=registry)
    scratch = run_child(raw, run / "scratch", args.workers[-1], registry=registry)
    unchanged = run_child(raw, run / "unchanged", args.workers[-1], cache=cache, registry=registry)
    return {
        "captures_before": cut,
        "captures_added": size - cut,
        "workers": args.workers[-1],
        "full_build_seconds": cold["seconds"],
        "incremental_seconds": warm["seconds"],
        "uncached_rebuild_seconds": scratch["seconds"],
        "incremental_over_full": warm["seconds"] / cold["seconds"],
        "incremental_stage_seconds": warm["stage_seconds"],
        "full_stage_seconds": cold["stage_seconds"],
        "byte_identical_to_uncached": tree_digest(run / "cached") == tree_digest(run / "scratch"),
        "unchanged_rebuild_seconds": unchanged["seconds"],
        "unchanged_rebuild_over_full": unchanged["seconds"] / cold["seconds"],
        "unchanged_rebuild_stage_seconds": unchanged["stage_seconds"],
        "unchanged_rebuild_identical": tree_digest(run / "unchanged")
        == tree_digest(run / "cached"),
    }


def print_table(results: dict[str, Any]) -> None:
    header = ["form", "captures", "w", "total s", "cap/s", "RSS MiB", "ARI"]
    header += [f"{s} c/s" for s in STAGES if s != "card"]
    print(" | ".join(header))
    for row in results["sizes"]:
        for workers, b in row["builds"].items():
            rates = b["stage_captures_per_s"]
            cells = [row["form"], str(row["captures"]), workers, f"{b['seconds']:.1f}"]
            cells += [f"{b['captures_per_s']:.1f}", f"{b['peak_rss_mib']:.0f}", f"{b['ari']:.3f}"]
            cells += [f"{rates[s]:.0f}" if s in rates else "-" for s in STAGES if s != "card"]
            print(" | ".join(cells))
        if "speedup" in row:
            up = row["speedup"]
            rounds = ", ".join(f"{r:.2f}" for r in up["round_ratios"])
            print(
                f"{row['form']} {row['captures']}: workers {up['workers'][0]} -> "
                f"{up['workers'][1]}: {up['median_ratio']:.2f}x (median runs; rounds: {rounds})"
            )
        if "peer_datatrove" in row:
            peer = row["peer_datatrove"]
            print(
                f"{row['form']} | {row['captures']} | {peer['workers']} (datatrove) | "
                f"{peer['seconds']:.1f} | "
                f"{peer['captures_per_s']:.1f} | - | {peer['ari']:.3f}"
            )
    if "incremental" in results:
        inc = results["incremental"]
        print(
            f"incremental: +{inc['captures_added']} on {inc['captures_before']}: "
            f"{inc['incremental_seconds']:.1f}s vs full {inc['full_build_seconds']:.1f}s "
            f"({inc['incremental_over_full']:.0%}); identical={inc['byte_identical_to_uncached']}"
        )
        print(
            f"nothing new, all from the cache: {inc['unchanged_rebuild_seconds']:.1f}s "
            f"({inc['unchanged_rebuild_over_full']:.0%} of full; the whole-corpus stages); "
            f"identical={inc['unchanged_rebuild_identical']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    child = sub.add_parser("child")
    child.add_argument("--raw", required=True)
    child.add_argument("--out", required=True)
    child.add_argument("--workers", type=int, default=1)
    child.add_argument("--cache")
    child.add_argument("--registry")
    child.add_argument("--engine", default="local")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--forms", default="text,html")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--repeat", type=int, default=1, help="interleaved rounds of the --workers builds"
    )
    parser.add_argument("--incremental", type=int, default=0, help="size for the +1%% rebuild")
    parser.add_argument("--peer", action="store_true", help="also run datatrove's MinHash dedup")
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "build.json")
    args = parser.parse_args(argv)
    if args.command == "child":
        child_build(args)
        return 0
    if args.peer and importlib.util.find_spec("datatrove") is None:
        # before any build: the peer runs after the first one, minutes in
        parser.error("--peer needs datatrove: pip install -e '.[peer]'")
    args.workers = [int(w) for w in args.workers.split(",")]
    global CODE_SNAPSHOT
    CODE_SNAPSHOT = snapshot_code(args.data / f"code-{args.json.stem}")
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()},
        "sizes": [],
    }
    for form in args.forms.split(","):
        for size in (int(s) for s in args.sizes.split(",") if s):
            results["sizes"].append(bench_size(args, form, size))
    if args.incremental:
        results["incremental"] = bench_incremental(args)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print_table(results)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
