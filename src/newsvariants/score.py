"""Metrics of the benchmark, and `newsvariants score`: a user's predictions against one split.

pairs: ROC-AUC of the scores, precision/recall/F1 of the same_source decisions (a score at or above
the threshold, or a given label), recall per positive relation, and the share of negatives of each
kind wrongly accepted; reported for all pairs and per granularity (paragraph, document).
stories: adjusted Rand index and pairwise precision/recall/F1 of a clustering of the split's
variants against their story IDs.

Text-disjoint scoring (`--text-disjoint`): splits are disjoint by story, not by text; two stories
can print the same paragraph (a quote, a wire paragraph) and sit in two splits. The pair metrics
can then be computed on the pairs none of whose texts is a text of a train pair, compared in the
corpus's comparison form (`normalize.comparison_form`: what the `formatting` relation calls the
same text), so a model that memorised train texts gains nothing there.

Predictions are JSONL, one object per line:
  pairs:   {"pair_id": "p-…", "score": 0.93} or {"pair_id": "p-…", "label": 1 | "same_source"}
  stories: {"variant_id": "v-…", "cluster": "any id"}
Every ID of the split must appear exactly once, and no other ID may appear.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from newsvariants.errors import NewsVariantsError, jsonl_lines, parse_json
from newsvariants.schema import decode_class_labels
from newsvariants.split import SPLITS
from newsvariants.write import CONFIGS, shard_name

POSITIVE = "same_source"
PAIR_RELATIONS = ("identical", "formatting", "minor_edit", "major_edit", "split", "merge")
NEGATIVE_KINDS = ("same_story", "nearest_other", "random_other")
GROUPS = ("all", "paragraph", "document")
SCORED_CONFIGS = ("pairs", "stories")


class PredictionError(NewsVariantsError):
    """The predictions file does not match the split (missing, duplicate or unknown IDs, ...)."""


# --- corpus access ----------------------------------------------------------------------------


def split_rows(corpus: Path, config: str, split: str) -> list[dict[str, Any]]:
    """Rows of one config and split, ClassLabels decoded; [] for a split with no rows."""
    import pyarrow.parquet as pq

    if split not in SPLITS:
        raise NewsVariantsError(f"unknown split {split!r}: expected one of {', '.join(SPLITS)}")
    path = corpus / config / shard_name(split)
    if not path.exists():
        return []
    return [decode_class_labels(CONFIGS[config], r) for r in pq.read_table(path).to_pylist()]


# --- pair metrics -----------------------------------------------------------------------------


def roc_auc(gold: Sequence[int], scores: Sequence[float]) -> float | None:
    """ROC-AUC (scikit-learn); None when only one class is present (it is undefined then)."""
    from sklearn.metrics import roc_auc_score

    if len(set(gold)) < 2:
        return None
    return float(roc_auc_score(gold, scores))


def prf(gold: Sequence[int], predicted: Sequence[int]) -> dict[str, float]:
    tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g and p)
    fp = sum(1 for g, p in zip(gold, predicted, strict=True) if not g and p)
    fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def best_threshold(gold: Sequence[int], scores: Sequence[float]) -> float | None:
    """The score threshold (predict positive at >= t) with the highest F1; ties: the highest t.

    Every distinct score is a candidate, so this is exact; None when there is no positive.
    """
    if not any(gold):
        return None
    order = sorted(zip(scores, gold, strict=True), key=lambda x: -x[0])
    total_pos = sum(gold)
    best, best_f1, tp, fp = None, -1.0, 0, 0
    for i, (score, label) in enumerate(order):
        tp, fp = tp + label, fp + (1 - label)
        if i + 1 < len(order) and order[i + 1][0] == score:
            continue  # a threshold cannot separate equal scores
        f1 = 2 * tp / (tp + fp + total_pos)
        if f1 > best_f1:
            best, best_f1 = score, f1
    return best


def pair_metrics(
    rows: Sequence[dict[str, Any]],
    scores: Sequence[float] | None,
    predicted: Sequence[int],
) -> dict[str, Any]:
    """Metrics of one group of pairs; `scores` None when only labels were predicted."""
    gold = [int(r["label"] == POSITIVE) for r in rows]
    result: dict[str, Any] = {
        "n": len(rows),
        "positives": sum(gold),
        "roc_auc": roc_auc(gold, scores) if scores is not None else None,
        **prf(gold, predicted),
    }
    recall_by_relation: dict[str, float] = {}
    for relation in PAIR_RELATIONS:
        hits = [p for r, p in zip(rows, predicted, strict=True) if r["relation"] == relation]
        if hits:
            recall_by_relation[relation] = sum(hits) / len(hits)
    accepted_by_kind: dict[str, float] = {}
    for kind in NEGATIVE_KINDS:
        hits = [p for r, p in zip(rows, predicted, strict=True) if r["negative_kind"] == kind]
        if hits:
            accepted_by_kind[kind] = sum(hits) / len(hits)
    result["recall_by_relation"] = recall_by_relation
    result["accepted_by_negative_kind"] = accepted_by_kind
    return result


def group_rows(rows: Sequence[dict[str, Any]], group: str) -> list[int]:
    """Indexes of the rows in one group: all, or one granularity."""
    return [i for i, r in enumerate(rows) if group == "all" or r["granularity"] == group]


def evaluate_pairs(
    rows: Sequence[dict[str, Any]],
    scores: Sequence[float] | None,
    predicted: Sequence[int],
) -> dict[str, Any]:
    """pair_metrics for every non-empty group (all, paragraph, document)."""
    report: dict[str, Any] = {}
    for group in GROUPS:
        idx = group_rows(rows, group)
        if idx:
            report[group] = pair_metrics(
                [rows[i] for i in idx],
                [scores[i] for i in idx] if scores is not None else None,
                [predicted[i] for i in idx],
            )
    return report


# --- story metrics ----------------------------------------------------------------------------


def _pairs_within(sizes: Counter[Any]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())


def cluster_metrics(gold: Sequence[str], predicted: Sequence[Any]) -> dict[str, Any]:
    """ARI (scikit-learn) and pairwise P/R/F1 over pairs of variants put in one cluster.

    Pair counts come from the contingency table, so this is linear in the number of variants.
    """
    from sklearn.metrics import adjusted_rand_score

    both = _pairs_within(Counter(zip(gold, predicted, strict=True)))
    same_pred = _pairs_within(Counter(predicted))
    same_gold = _pairs_within(Counter(gold))
    precision = both / same_pred if same_pred else (1.0 if not same_gold else 0.0)
    recall = both / same_gold if same_gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": len(gold),
        "stories": len(set(gold)),
        "clusters": len(set(predicted)),
        "ari": float(adjusted_rand_score(gold, [str(p) for p in predicted])),
        "pairwise_precision": precision,
        "pairwise_recall": recall,
        "pairwise_f1": f1,
    }


# --- predictions ------------------------------------------------------------------------------


def read_predictions(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line; a clear error for a bad line."""
    try:
        lines = jsonl_lines(path, PredictionError)
    except OSError as exc:
        raise PredictionError(f"{path}: cannot read: {exc.strerror}") from exc
    found = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = parse_json(line)
        except ValueError as exc:
            raise PredictionError(f"{path}:{n}: {exc}") from exc
        if not isinstance(obj, dict):
            raise PredictionError(f"{path}:{n}: expected a JSON object")
        found.append((n, obj))
    return found


def _by_id(
    path: Path, predictions: list[tuple[int, dict[str, Any]]], key: str, expected: Sequence[str]
) -> dict[str, tuple[int, dict[str, Any]]]:
    """Predictions keyed by ID; errors list (a few of) the missing, duplicate and unknown IDs."""
    by_id: dict[str, tuple[int, dict[str, Any]]] = {}
    duplicates: list[str] = []
    for n, obj in predictions:
        if not isinstance(obj.get(key), str):
            raise PredictionError(f"{path}:{n}: no {key!r} string")
        if obj[key] in by_id:
            duplicates.append(f"{obj[key]} (lines {by_id[obj[key]][0]} and {n})")
        by_id[obj[key]] = (n, obj)
    wanted = set(expected)
    unknown = sorted(i for i in by_id if i not in wanted)
    missing = [i for i in expected if i not in by_id]
    problems = []
    for name, ids in (("duplicate", duplicates), ("unknown", unknown), ("missing", missing)):
        if ids:
            shown = ", ".join(ids[:5]) + (f", … ({len(ids)} in all)" if len(ids) > 5 else "")
            problems.append(f"{len(ids)} {name} {key}(s): {shown}")
    if problems:
        raise PredictionError(f"{path}: " + "; ".join(problems))
    return by_id


def _label_value(path: Path, n: int, value: Any) -> int:
    if value in (0, 1) and not isinstance(value, float | bool):  # true == 1 in Python, not here
        return int(value)
    if value in (POSITIVE, "unrelated"):
        return int(value == POSITIVE)
    raise PredictionError(f"{path}:{n}: label must be 0, 1, 'same_source' or 'unrelated'")


def _score_value(path: Path, n: int, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PredictionError(f"{path}:{n}: score must be a finite number")
    return float(value)


def pair_predictions(
    path: Path, rows: Sequence[dict[str, Any]]
) -> tuple[list[float] | None, list[int] | None]:
    """(scores, labels) of a pair predictions file, in the order of `rows` (either may be None)."""
    by_id = _by_id(path, read_predictions(path), "pair_id", [r["pair_id"] for r in rows])
    entries = [by_id[r["pair_id"]] for r in rows]
    has_score = [("score" in obj) for _, obj in entries]
    has_label = [("label" in obj) for _, obj in entries]
    for (n, _), s, lab in zip(entries, has_score, has_label, strict=True):
        if not s and not lab:
            raise PredictionError(f"{path}:{n}: needs a 'score' or a 'label'")
    if len(set(has_score)) > 1 or len(set(has_label)) > 1:
        raise PredictionError(f"{path}: give the same fields (score and/or label) on every line")
    scores = [_score_value(path, n, o["score"]) for n, o in entries] if all(has_score) else None
    labels = [_label_value(path, n, o["label"]) for n, o in entries] if all(has_label) else None
    return scores, labels


def thresholds_on_validation(path: Path, rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The F1-best threshold of validation predictions for each group (all pairs, paragraphs,
    documents), as the bench chooses them (`bench.bench_pairs`); groups without a positive pair
    on validation get none."""
    scores, _ = pair_predictions(path, rows)
    if scores is None:
        raise PredictionError(f"{path}: validation predictions need a 'score' on every line")
    chosen: dict[str, float] = {}
    for group in GROUPS:
        idx = group_rows(rows, group)
        gold = [int(rows[i]["label"] == POSITIVE) for i in idx]
        threshold = best_threshold(gold, [scores[i] for i in idx])
        if threshold is not None:
            chosen[group] = threshold
    if not chosen:
        raise PredictionError(f"{path}: the validation split has no positive pair")
    return chosen


def score_pairs(
    path: Path,
    rows: Sequence[dict[str, Any]],
    threshold: float | Mapping[str, float] = 0.5,
    threshold_source: str = "given",
    keep: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Metrics of pair predictions on the split's rows: labels if given, else score >= the
    threshold (one for every group, or one per group: those groups only). The predictions cover
    every row; with `keep`, only the rows at those indexes are scored."""
    scores, labels = pair_predictions(path, rows)
    if keep is not None:
        rows, scores, labels = _subset(keep, rows, scores, labels)
    if labels is not None:
        return {"decision": "label", "groups": evaluate_pairs(rows, scores, labels)}
    assert scores is not None  # pair_predictions gives scores, labels or both
    if not isinstance(threshold, Mapping):
        predicted = [int(s >= threshold) for s in scores]
        decision = f"score >= {threshold:g} ({threshold_source})"
        return {"decision": decision, "groups": evaluate_pairs(rows, scores, predicted)}
    groups: dict[str, Any] = {}
    for group, value in threshold.items():
        found = evaluate_pairs(rows, scores, [int(s >= value) for s in scores]).get(group)
        if found is not None:
            groups[group] = found
    chosen = ", ".join(f"{group} {value:g}" for group, value in threshold.items())
    return {"decision": f"score >= {chosen} ({threshold_source})", "groups": groups}


def _subset(
    keep: Sequence[int],
    rows: Sequence[dict[str, Any]],
    scores: Sequence[float] | None,
    labels: Sequence[int] | None,
) -> tuple[list[dict[str, Any]], list[float] | None, list[int] | None]:
    return (
        [rows[i] for i in keep],
        [scores[i] for i in keep] if scores is not None else None,
        [labels[i] for i in keep] if labels is not None else None,
    )


# --- text-disjoint scoring ----------------------------------------------------------------------


def text_forms(pairs: Iterable[Mapping[str, Any]]) -> set[str]:
    """The comparison forms of every text (text_a and text_b) of some pairs."""
    return _forms(text for pair in pairs for text in (pair["text_a"], pair["text_b"]))


def train_text_forms(corpus: Path) -> set[str]:
    """`text_forms` of the corpus's train pairs (their two text columns only are read)."""
    import pyarrow.parquet as pq

    path = corpus / "pairs" / shard_name("train")
    if not path.exists():
        return set()
    table = pq.read_table(path, columns=["text_a", "text_b"])
    return _forms(table.column("text_a").to_pylist() + table.column("text_b").to_pylist())


def _forms(texts: Iterable[str]) -> set[str]:
    from newsvariants.normalize import comparison_form

    return {comparison_form(text) for text in set(texts)}  # each distinct text folded once


def text_disjoint_rows(rows: Sequence[dict[str, Any]], train_forms: set[str]) -> list[int]:
    """Indexes of the pair rows neither of whose texts is, in comparison form, a train text."""
    from newsvariants.normalize import comparison_form

    # each distinct text folded once, as in `_forms` (a paragraph is in many pairs)
    texts = {text for row in rows for text in (row["text_a"], row["text_b"])}
    shared = {text for text in texts if comparison_form(text) in train_forms}
    return [
        i
        for i, row in enumerate(rows)
        if row["text_a"] not in shared and row["text_b"] not in shared
    ]


def score_stories(path: Path, variants: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Metrics of a clustering (cluster per variant_id) of the split's variants."""
    by_id = _by_id(path, read_predictions(path), "variant_id", [v["variant_id"] for v in variants])
    clusters = []
    for v in variants:
        n, obj = by_id[v["variant_id"]]
        cluster = obj.get("cluster")
        if not isinstance(cluster, str | int) or isinstance(cluster, bool):
            raise PredictionError(f"{path}:{n}: 'cluster' must be a string or an integer")
        clusters.append(f"{type(cluster).__name__}:{cluster}")
    return cluster_metrics([v["story_id"] for v in variants], clusters)


def score_file(
    corpus: Path,
    predictions: Path,
    config: str = "pairs",
    split: str = "test",
    threshold: float = 0.5,
    validation_predictions: Path | None = None,
    text_disjoint: bool = False,
) -> dict[str, Any]:
    """`newsvariants score`: the metrics of a predictions file on one config and split.

    For pairs given as scores, the threshold is `threshold`, or, with `validation_predictions`,
    the F1-best threshold of those scores on the validation split for each granularity (all,
    paragraph, document), each applied to its own rows, as the bench chooses and applies them.
    With `text_disjoint`, the pairs that share a text with a train pair are left out of the
    metrics; the predictions still cover every pair, and the thresholds are chosen on all
    validation pairs, as the bench chooses those of its text-disjoint column.
    """
    if config not in SCORED_CONFIGS:
        raise NewsVariantsError(f"cannot score config {config!r}: expected pairs or stories")
    if not math.isfinite(threshold):
        raise NewsVariantsError(f"the threshold must be a finite number, not {threshold}")
    if config == "stories" and validation_predictions is not None:
        raise NewsVariantsError(
            "--validation chooses a pair score threshold: it does not apply to stories"
        )
    if text_disjoint and (config != "pairs" or split == "train"):
        raise NewsVariantsError(
            "--text-disjoint leaves out the validation or test pairs that share a text with "
            f"train: it does not apply to {config} / {split}"
        )
    table = "pairs" if config == "pairs" else "variants"
    rows = _nonempty_rows(corpus, table, split)
    if config == "stories":
        metrics = score_stories(predictions, rows)
        return {"config": config, "split": split, "predictions": str(predictions), **metrics}
    forms = train_text_forms(corpus) if text_disjoint else None
    keep = _kept(corpus, split, rows, forms)
    if validation_predictions is not None:
        chosen = thresholds_on_validation(
            validation_predictions, _nonempty_rows(corpus, table, "validation")
        )
        metrics = score_pairs(
            predictions, rows, chosen, "chosen on validation per granularity", keep
        )
    else:
        metrics = score_pairs(predictions, rows, threshold, keep=keep)
    report = {"config": config, "split": split, "predictions": str(predictions), **metrics}
    if keep is not None:
        report["text_disjoint"] = {"scored": len(keep), "left_out": len(rows) - len(keep)}
    return report


def _kept(
    corpus: Path, split: str, rows: Sequence[dict[str, Any]], train_forms: set[str] | None
) -> list[int] | None:
    """The text-disjoint rows of a split (None: all rows count); an error when none is left."""
    if train_forms is None:
        return None
    keep = text_disjoint_rows(rows, train_forms)
    if not keep:
        raise NewsVariantsError(
            f"{corpus}: every pair of the {split} split shares a text with a train pair: "
            "nothing is left to score text-disjoint"
        )
    return keep


def _nonempty_rows(corpus: Path, table: str, split: str) -> list[dict[str, Any]]:
    rows = split_rows(corpus, table, split)
    if not rows:
        raise NewsVariantsError(
            f"{corpus}: the {split} split of {table} has no rows in this release: nothing to score"
        )
    return rows


def format_report(report: dict[str, Any]) -> str:
    """The score report as a small markdown table."""
    head = f"{report['config']} / {report['split']} ({report['predictions']})"
    if report["config"] == "stories":
        cols = ("n", "stories", "clusters", "ari", "pairwise_precision", "pairwise_recall")
        cols += ("pairwise_f1",)
        return "\n".join(
            [head, "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            + ["| " + " | ".join(_fmt(report[c]) for c in cols) + " |"]
        )
    if "text_disjoint" in report:
        kept = report["text_disjoint"]
        head += (
            f"; text-disjoint from train: {kept['scored']} pairs scored, "
            f"{kept['left_out']} left out"
        )
    lines = [
        f"{head}; decision: {report['decision']}",
        "",
        "| group | n | positives | ROC-AUC | precision | recall | F1 | recall by relation "
        "| accepted negatives by kind |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for group, m in report["groups"].items():
        lines.append(
            f"| {group} | {m['n']} | {m['positives']} | {_fmt(m['roc_auc'])} | "
            f"{_fmt(m['precision'])} | {_fmt(m['recall'])} | {_fmt(m['f1'])} | "
            f"{_fmt_map(m['recall_by_relation'])} | {_fmt_map(m['accepted_by_negative_kind'])} |"
        )
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _fmt_map(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in values.items()) or "–"
