"""`newsvariants score` and the metrics it shares with the bench."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsvariants.cli import app
from newsvariants.errors import NewsVariantsError
from newsvariants.score import (
    PredictionError,
    best_threshold,
    cluster_metrics,
    prf,
    score_file,
)

from .multistory import read_rows, shared_corpus, with_a_train_text_in

runner = CliRunner()


@pytest.fixture()
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_corpus(tmp_path_factory)


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _oracle_pairs(corpus: Path, split: str = "test") -> list[dict]:
    return [
        {"pair_id": p["pair_id"], "score": 1.0 if p["label"] == "same_source" else 0.0}
        for p in read_rows(corpus, "pairs")[split]
    ]


def test_prf_and_cluster_metrics_on_hand_computed_cases() -> None:
    assert prf([1, 1, 0, 0], [1, 0, 1, 0]) == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    perfect = cluster_metrics(["a", "a", "b"], [7, 7, 3])
    assert perfect["ari"] == 1.0 and perfect["pairwise_f1"] == 1.0
    # gold pairs: (0,1); predicted pairs: (0,1), (0,2), (1,2) -> precision 1/3, recall 1
    lumped = cluster_metrics(["a", "a", "b"], [1, 1, 1])
    assert lumped["pairwise_precision"] == pytest.approx(1 / 3)
    assert lumped["pairwise_recall"] == 1.0
    assert lumped["ari"] == 0.0


def test_best_threshold_maximizes_f1_and_never_splits_equal_scores() -> None:
    assert best_threshold([1, 1, 0, 0], [0.9, 0.8, 0.3, 0.1]) == 0.8
    assert best_threshold([1, 0, 1], [0.5, 0.5, 0.2]) == 0.2  # f1 at 0.5: 0.5; at 0.2: 0.8
    # three pairs score 0.5: a threshold cannot take one of them and leave the others (taking only
    # the first, a positive, would "score" F1 0.67 at 0.5; the real F1 there is 0.4, at 0.2 0.67)
    assert best_threshold([1, 0, 0, 1], [0.5, 0.5, 0.5, 0.2]) == 0.2
    assert best_threshold([0, 0], [0.4, 0.6]) is None


def test_perfect_pair_scores_get_auc_and_f1_of_one(corpus: Path, tmp_path: Path) -> None:
    preds = _write(tmp_path / "p.jsonl", _oracle_pairs(corpus))
    report = score_file(corpus, preds, "pairs", "test")
    overall = report["groups"]["all"]
    assert overall["roc_auc"] == 1.0 and overall["f1"] == 1.0
    assert set(report["groups"]) == {"all", "paragraph", "document"}
    assert all(v == 1.0 for v in overall["recall_by_relation"].values())
    assert all(v == 0.0 for v in overall["accepted_by_negative_kind"].values())


def test_inverted_scores_get_auc_of_zero_and_labels_are_accepted(
    corpus: Path, tmp_path: Path
) -> None:
    rows = [{"pair_id": r["pair_id"], "score": 1.0 - r["score"]} for r in _oracle_pairs(corpus)]
    report = score_file(corpus, _write(tmp_path / "p.jsonl", rows), "pairs", "test")
    assert report["groups"]["all"]["roc_auc"] == 0.0
    labels = [
        {"pair_id": p["pair_id"], "label": "same_source"}
        for p in read_rows(corpus, "pairs")["test"]
    ]
    report = score_file(corpus, _write(tmp_path / "l.jsonl", labels), "pairs", "test")
    overall = report["groups"]["all"]
    assert overall["recall"] == 1.0 and overall["roc_auc"] is None
    assert overall["precision"] == pytest.approx(overall["positives"] / overall["n"])


def test_missing_duplicate_and_unknown_ids_are_named(corpus: Path, tmp_path: Path) -> None:
    rows = _oracle_pairs(corpus)
    with pytest.raises(PredictionError, match=rf"1 missing pair_id\(s\): {rows[0]['pair_id']}"):
        score_file(corpus, _write(tmp_path / "a.jsonl", rows[1:]), "pairs", "test")
    with pytest.raises(PredictionError, match=r"1 duplicate pair_id\(s\).*lines 1 and 2"):
        score_file(corpus, _write(tmp_path / "b.jsonl", [rows[0], *rows]), "pairs", "test")
    other = read_rows(corpus, "pairs")["train"][0]["pair_id"]
    unknown = [*rows, {"pair_id": other, "score": 0.3}]
    with pytest.raises(PredictionError, match=rf"1 unknown pair_id\(s\): {other}"):
        score_file(corpus, _write(tmp_path / "c.jsonl", unknown), "pairs", "test")


def test_bad_lines_are_reported_with_their_line_number(corpus: Path, tmp_path: Path) -> None:
    rows = _oracle_pairs(corpus)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rows[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(PredictionError, match=r"bad.jsonl:2: not JSON"):
        score_file(corpus, bad, "pairs", "test")
    rows[3] = {"pair_id": rows[3]["pair_id"], "score": "high"}
    with pytest.raises(PredictionError, match=r":4: score must be a finite number"):
        score_file(corpus, _write(tmp_path / "s.jsonl", rows), "pairs", "test")
    rows[3] = {"pair_id": rows[3]["pair_id"]}
    with pytest.raises(PredictionError, match=r":4: needs a 'score' or a 'label'"):
        score_file(corpus, _write(tmp_path / "t.jsonl", rows), "pairs", "test")


def test_story_clusterings_are_scored_against_story_ids(corpus: Path, tmp_path: Path) -> None:
    variants = read_rows(corpus, "variants")["validation"]
    exact = [{"variant_id": v["variant_id"], "cluster": v["story_id"]} for v in variants]
    report = score_file(corpus, _write(tmp_path / "s.jsonl", exact), "stories", "validation")
    assert report["ari"] == 1.0 and report["pairwise_f1"] == 1.0
    singletons = [{"variant_id": v["variant_id"], "cluster": n} for n, v in enumerate(variants)]
    report = score_file(corpus, _write(tmp_path / "t.jsonl", singletons), "stories", "validation")
    assert report["pairwise_recall"] == 0.0 and report["clusters"] == len(variants)


def test_an_empty_split_or_unknown_config_is_a_clear_error(
    seed_corpus: Path, tmp_path: Path
) -> None:
    preds = _write(tmp_path / "p.jsonl", [])
    with pytest.raises(NewsVariantsError, match="test split of pairs has no rows"):
        score_file(seed_corpus, preds, "pairs", "test")
    with pytest.raises(NewsVariantsError, match="cannot score config 'alignments'"):
        score_file(seed_corpus, preds, "alignments", "train")


def test_the_cli_prints_the_metrics_and_fails_cleanly(corpus: Path, tmp_path: Path) -> None:
    preds = _write(tmp_path / "p.jsonl", _oracle_pairs(corpus))
    result = runner.invoke(app, ["score", str(preds), "--corpus", str(corpus), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["groups"]["all"]["f1"] == 1.0
    table = runner.invoke(app, ["score", str(preds), "--corpus", str(corpus)])
    assert "| all |" in table.stdout
    _write(preds, _oracle_pairs(corpus)[2:])
    failed = runner.invoke(app, ["score", str(preds), "--corpus", str(corpus)])
    assert failed.exit_code == 1 and "2 missing pair_id(s)" in failed.output


def test_the_threshold_can_be_chosen_on_validation_predictions(
    corpus: Path, tmp_path: Path
) -> None:
    """Scores squeezed into [0.1, 0.2]: 0.5 accepts nothing, the validation threshold separates."""

    def squeezed(split: str) -> list[dict]:
        return [
            {"pair_id": p["pair_id"], "score": 0.1 + 0.1 * (p["label"] == "same_source")}
            for p in read_rows(corpus, "pairs")[split]
        ]

    test = _write(tmp_path / "test.jsonl", squeezed("test"))
    val = _write(tmp_path / "val.jsonl", squeezed("validation"))
    fixed = score_file(corpus, test, "pairs", "test")
    assert fixed["groups"]["all"]["recall"] == 0.0 and "(given)" in fixed["decision"]
    chosen = score_file(corpus, test, "pairs", "test", validation_predictions=val)
    assert chosen["groups"]["all"]["f1"] == 1.0
    assert chosen["decision"] == (
        "score >= all 0.2, paragraph 0.2, document 0.2 (chosen on validation per granularity)"
    )
    with pytest.raises(PredictionError, match="missing pair_id"):
        score_file(corpus, test, "pairs", "test", validation_predictions=test)


def test_validation_thresholds_are_chosen_and_applied_per_granularity_as_the_bench_does(
    corpus: Path, tmp_path: Path
) -> None:
    # Paragraph pairs scored in [0.1, 0.2], document pairs in [0.6, 0.7]: one threshold for all
    # pairs cannot separate both; the bench chooses one per granularity, and so does score.
    def shifted(split: str) -> list[dict]:
        return [
            {
                "pair_id": p["pair_id"],
                "score": 0.1 * (p["label"] == "same_source")
                + (0.6 if p["granularity"] == "document" else 0.1),
            }
            for p in read_rows(corpus, "pairs")[split]
        ]

    test = _write(tmp_path / "test.jsonl", shifted("test"))
    val = _write(tmp_path / "val.jsonl", shifted("validation"))
    report = score_file(corpus, test, "pairs", "test", validation_predictions=val)
    assert report["groups"]["paragraph"]["f1"] == 1.0
    assert report["groups"]["document"]["f1"] == 1.0
    assert "paragraph 0.2, document 0.7" in report["decision"]


def test_nonsense_arguments_and_labels_are_refused(corpus: Path, tmp_path: Path) -> None:
    pairs = read_rows(corpus, "pairs")["test"]
    scores = _write(tmp_path / "s.jsonl", [{"pair_id": p["pair_id"], "score": 0.5} for p in pairs])
    with pytest.raises(NewsVariantsError, match="finite number, not nan"):
        score_file(corpus, scores, "pairs", "test", threshold=float("nan"))
    booleans = _write(
        tmp_path / "b.jsonl", [{"pair_id": p["pair_id"], "label": True} for p in pairs]
    )
    with pytest.raises(PredictionError, match="b.jsonl:1: label must be"):
        score_file(corpus, booleans, "pairs", "test")
    with pytest.raises(NewsVariantsError, match="does not apply to stories"):
        score_file(corpus, scores, "stories", "test", validation_predictions=scores)


def test_text_disjoint_scoring_leaves_out_pairs_with_a_train_text(
    corpus: Path, tmp_path: Path
) -> None:
    from newsvariants.normalize import comparison_form

    leaky = with_a_train_text_in(corpus, tmp_path)
    rows = read_rows(leaky, "pairs")
    train_forms = {comparison_form(r[k]) for r in rows["train"] for k in ("text_a", "text_b")}
    test = rows["test"]
    leaked = [
        i
        for i, r in enumerate(test)
        if comparison_form(r["text_a"]) in train_forms
        or comparison_form(r["text_b"]) in train_forms
    ]
    assert 0 in leaked and len(leaked) < len(test)
    # right on every pair but the leaked one, whose label is turned over
    preds = _oracle_pairs(leaky)
    preds[0]["score"] = 1.0 - preds[0]["score"]
    path = _write(tmp_path / "p.jsonl", preds)
    assert score_file(leaky, path, "pairs", "test")["groups"]["all"]["roc_auc"] < 1.0
    report = score_file(leaky, path, "pairs", "test", text_disjoint=True)
    assert report["text_disjoint"] == {"scored": len(test) - len(leaked), "left_out": len(leaked)}
    assert report["groups"]["all"]["n"] == len(test) - len(leaked)
    assert report["groups"]["all"]["roc_auc"] == 1.0 and report["groups"]["all"]["f1"] == 1.0
    # thresholds chosen on validation (all its pairs, as the bench does) apply to the kept pairs
    val = _write(tmp_path / "v.jsonl", _oracle_pairs(leaky, "validation"))
    chosen = score_file(
        leaky, path, "pairs", "test", validation_predictions=val, text_disjoint=True
    )
    assert chosen["groups"]["all"]["f1"] == 1.0 and "validation" in chosen["decision"]
    table = runner.invoke(app, ["score", str(path), "--corpus", str(leaky), "--text-disjoint"])
    assert table.exit_code == 0, table.output
    assert f"{len(test) - len(leaked)} pairs scored, {len(leaked)} left out" in table.stdout


def test_text_disjoint_scoring_is_refused_where_it_means_nothing(
    corpus: Path, tmp_path: Path
) -> None:
    preds = _write(tmp_path / "p.jsonl", _oracle_pairs(corpus, "train"))
    with pytest.raises(NewsVariantsError, match="does not apply to pairs / train"):
        score_file(corpus, preds, "pairs", "train", text_disjoint=True)
    with pytest.raises(NewsVariantsError, match="does not apply to stories / test"):
        score_file(corpus, preds, "stories", "test", text_disjoint=True)


def test_text_disjoint_scores_keep_the_thresholds_chosen_on_all_validation_pairs(
    corpus: Path, tmp_path: Path
) -> None:
    """As the bench's text-disjoint column: the thresholds come from every validation pair, a
    validation pair with a train text included."""
    validation = read_rows(corpus, "pairs")["validation"]
    row = next(i for i, p in enumerate(validation) if p["label"] == "same_source")
    leaky = with_a_train_text_in(corpus, tmp_path, "validation", row)

    def squeezed(split: str) -> list[dict]:
        return [
            {"pair_id": p["pair_id"], "score": 0.1 + 0.1 * (p["label"] == "same_source")}
            for p in read_rows(leaky, "pairs")[split]
        ]

    val = squeezed("validation")
    val[row]["score"] = 0.15  # the leaked positive: only a threshold of 0.15 accepts it
    val_path = _write(tmp_path / "v.jsonl", val)
    test = _write(tmp_path / "t.jsonl", squeezed("test"))
    plain = score_file(leaky, test, "pairs", "test", validation_predictions=val_path)
    disjoint = score_file(
        leaky, test, "pairs", "test", validation_predictions=val_path, text_disjoint=True
    )
    assert "all 0.15" in plain["decision"]
    assert disjoint["decision"] == plain["decision"]
