"""`newsvariants bench`: baselines on a multi-story corpus, and honesty on the seed corpus."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from newsvariants.bench import (
    CharJaccard,
    ExactHash,
    MinHashJaccard,
    RapidfuzzRatio,
    TfidfCosine,
    default_baselines,
    markdown_table,
    run_bench,
    write_results,
)
from newsvariants.cli import app

from .multistory import read_rows, shared_corpus, with_a_train_text_in

runner = CliRunner()
NAMES = ["exact_hash", "char_jaccard", "minhash", "tfidf_cosine", "rapidfuzz_ratio"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_bench(
        shared_corpus(tmp_path_factory), functools.partial(default_baselines, with_embeddings=False)
    )


def test_baselines_agree_with_their_definitions() -> None:
    a = 'The "council" approved the plan.'
    b = "The \u201ccouncil\u201d approved  the plan."  # curly quotes, double space
    assert ExactHash().similarity(a, b) == 1.0  # equal after normalization
    assert ExactHash().similarity(a, a + " Later.") == 0.0
    assert CharJaccard().similarity(a, a) == 1.0
    assert 0.0 < CharJaccard().similarity(a, "The council rejected the plan.") < 1.0
    jaccard = CharJaccard().similarity(a, "The council rejected the plan.")
    estimate = MinHashJaccard().similarity(a, "The council rejected the plan.")
    assert abs(jaccard - estimate) < 0.2
    assert RapidfuzzRatio().similarity(a, b) == 1.0
    tfidf = TfidfCosine()
    tfidf.fit([a, "An unrelated sentence about harbours."])
    scores = tfidf.pair_scores([a, a], [a, "harbours"])
    assert scores[0] == pytest.approx(1.0) and scores[1] == 0.0


def test_matrices_are_symmetric_with_a_unit_diagonal() -> None:
    texts = ["alpha beta gamma", "alpha beta delta", "omega"]
    for baseline in (CharJaccard(), RapidfuzzRatio(), ExactHash()):
        sims = baseline.matrix(texts)
        assert np.allclose(sims, sims.T) and np.allclose(np.diag(sims), 1.0)


def test_every_baseline_reports_pairs_and_stories_on_validation_and_test(report: dict) -> None:
    assert list(report["pairs"]) == NAMES and list(report["stories"]) == NAMES
    for name in NAMES:
        for group in ("all", "paragraph", "document"):
            entry = report["pairs"][name][group]
            assert set(entry) == {
                "threshold",
                "predicts_all_positive",
                "validation",
                "test",
                "test_text_disjoint",
            }
            for split in ("validation", "test"):
                metrics = entry[split]
                assert 0.0 <= metrics["f1"] <= 1.0
                assert metrics["roc_auc"] is None or 0.0 <= metrics["roc_auc"] <= 1.0
        stories = report["stories"][name]
        assert -1.0 <= stories["test"]["ari"] <= 1.0


def _leaked(corpus: Path) -> tuple[list[dict], set[int]]:
    """The test pairs, and the indexes of those with a text of a train pair (comparison form)."""
    from newsvariants.normalize import comparison_form

    rows = read_rows(corpus, "pairs")
    train = {comparison_form(r[k]) for r in rows["train"] for k in ("text_a", "text_b")}
    test = rows["test"]
    found = {
        i
        for i, r in enumerate(test)
        for k in ("text_a", "text_b")
        if comparison_form(r[k]) in train
    }
    return test, found


def test_text_disjoint_test_metrics_count_the_pairs_without_a_train_text(
    report: dict, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    corpus = shared_corpus(tmp_path_factory)
    test, leaked = _leaked(corpus)
    for group in ("all", "paragraph", "document"):
        entry = report["pairs"]["rapidfuzz_ratio"][group]
        in_group = [i for i, r in enumerate(test) if group == "all" or r["granularity"] == group]
        assert entry["test_text_disjoint"]["n"] == len([i for i in in_group if i not in leaked])
        if not leaked:  # the same pairs: the same metrics
            assert entry["test_text_disjoint"] == entry["test"]
    leaky = with_a_train_text_in(corpus, tmp_path)
    test, leaked = _leaked(leaky)
    assert 0 in leaked
    found = run_bench(leaky, lambda: ([ExactHash()], "not run"))["pairs"]["exact_hash"]["all"]
    assert found["test"]["n"] == len(test)
    assert found["test_text_disjoint"]["n"] == len(test) - len(leaked)
    table = markdown_table(run_bench(leaky, lambda: ([ExactHash()], "not run")))
    assert f"| {len(test) - len(leaked)}, " in table


def test_the_mirrors_are_found_by_the_fuzzy_baselines(report: dict) -> None:
    """Light rewording defeats exact hashing but not shingles or edit distance."""
    assert report["pairs"]["rapidfuzz_ratio"]["paragraph"]["test"]["roc_auc"] > 0.9
    assert report["stories"]["char_jaccard"]["test"]["pairwise_f1"] == 1.0
    exact = report["pairs"]["exact_hash"]["paragraph"]["test"]["recall_by_relation"]
    assert exact["identical"] == 1.0 and exact["minor_edit"] == 0.0


def test_a_threshold_that_predicts_every_pair_positive_is_flagged_in_json_and_table(
    report: dict,
) -> None:
    """On this corpus exact_hash separates nothing on documents better than "always yes": its
    F1-best threshold is its lowest score. The table must not present that as a detector."""
    flagged = {
        (name, group)
        for name, groups in report["pairs"].items()
        for group, entry in groups.items()
        if entry["predicts_all_positive"]
    }
    for name, group in flagged:
        entry = report["pairs"][name][group]
        assert entry["validation"]["recall"] == 1.0  # everything predicted positive
    assert ("exact_hash", "document") in flagged
    assert ("rapidfuzz_ratio", "paragraph") not in flagged
    table = markdown_table(report)
    for name, group in flagged:
        assert f"| {name} | {group} | " in table
    marked = [line for line in table.splitlines() if " (all +) |" in line]
    assert len(marked) == len(flagged) and "_(all +): the F1-best threshold" in table


def test_the_embedding_baseline_says_why_it_did_not_run(report: dict) -> None:
    assert report["embeddings"].startswith("not run")
    assert "minilm_cosine" not in report["pairs"]


def test_results_are_written_deterministically(report: dict, tmp_path: Path) -> None:
    first = [p.read_bytes() for p in write_results(report, tmp_path / "a")]
    second = [p.read_bytes() for p in write_results(report, tmp_path / "b")]
    assert first == second
    table = (tmp_path / "a" / "baselines.md").read_text(encoding="utf-8")
    assert table == markdown_table(report)
    assert all(f"| {name} |" in table for name in NAMES)
    assert json.loads((tmp_path / "a" / "baselines.json").read_text())["pairs"].keys() == set(NAMES)


def test_seed_corpus_has_no_validation_or_test_rows_and_says_so(
    seed_corpus: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["bench", str(seed_corpus), "--output", str(tmp_path), "--no-embeddings"]
    )
    assert result.exit_code == 0, result.output
    assert "no rows in validation and test" in result.stdout
    saved = json.loads((tmp_path / "baselines.json").read_text(encoding="utf-8"))
    assert saved["pairs"] == {} and saved["sizes"]["test"] == {"pairs": 0, "variants": 0}
    # with nothing to evaluate no model is loaded, so the report (which the card embeds) is the
    # same whether or not the embeddings extra is installed
    chosen: list[bool] = []

    def choose() -> tuple[list, str]:
        chosen.append(True)
        return [ExactHash()], "run: a model from model/"

    report = run_bench(seed_corpus, choose)
    assert chosen == [] and report["embeddings"] == saved["embeddings"]
    assert "Sentence-embedding baseline: not run: no baseline was run." in markdown_table(report)


def test_bench_report_includes_the_card_ready_table(report: dict) -> None:
    table = markdown_table(report)
    assert table.startswith("Baselines on the corpus built from inputs digest ")
    assert "**stories**" in table and "**pairs**" in table


class _LetterModel:
    """Stands in for a SentenceTransformer: normalized letter counts as embeddings."""

    def encode(self, texts: list[str], batch_size: int, normalize_embeddings: bool) -> np.ndarray:
        vectors = np.array(
            [[t.lower().count(c) for c in "abcdefghijklmnopqrstuvwxyz"] for t in texts], float
        )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms) if normalize_embeddings else vectors


def test_the_embedding_baseline_scores_cosines_of_the_models_embeddings() -> None:
    from newsvariants.bench import MiniLMCosine

    baseline = MiniLMCosine(_LetterModel())
    scores = baseline.pair_scores(["abc", "abc"], ["cba", "xyz"])
    assert scores[0] == pytest.approx(1.0) and scores[1] == 0.0
    sims = baseline.matrix(["abc", "abd", "xyz"])
    assert np.allclose(sims, sims.T) and sims[0, 1] == pytest.approx(2 / 3)


def test_bench_writes_outside_the_cards_results_by_default(
    seed_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build puts benchmarks/results/baselines.md into the card: a user's `bench` run must
    not change what the next build writes, so by default it writes to bench-results/."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["bench", str(seed_corpus), "--no-embeddings"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "bench-results").iterdir()) == [
        "baselines.json",
        "baselines.md",
    ]
    assert not (tmp_path / "benchmarks").exists()
