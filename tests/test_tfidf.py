"""`tfidf`: scikit-learn's sublinear TF-IDF (the reference), computed by Arrow and numpy kernels:
the same vocabulary in the same order and bit-identical weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from newsvariants import tfidf

from .multistory import read_rows, shared_corpus

ROOT = Path(__file__).resolve().parents[1]

# Case mappings where Arrow's and Python's lower case differ (final sigma, dotted capital I,
# title-case digraphs), scripts, digits, underscores, one-letter words, empty and blank texts.
MULTILINGUAL = [
    "ΟΔΟΣ ΣΟΦΙΑΣ: η Σοφία μένει εδώ ΟΣ",
    "İstanbul'da İSTANBUL ve Iğdır; STRASSE straße Ǆemal ǅemal",
    "Naïve café — “quoted” ‘words’ … résumé RÉSUMÉ",
    "東京都 は 東京 です。 北京 2024年",
    "Привет, мир! Это тест: ПРИВЕТ мир 123 45",
    "नमस्ते दुनिया हिन्दी",  # combining marks split Python's \w runs, and RE2's
    "snake_case __init__ a_b x y z 1 2",
    "",
    "   ",
    "a b c d",
    "٣٤ ١٢٣ العربية العربيّة",
    # every ASCII character: which of them are word characters, which break words
    "".join(map(chr, range(1, 128))) + " O'Neil's x-ray 3.14 a,b tab\tnew\nline __x__",
]


def _reference(pool: list[str], queries: list[str]) -> tuple[TfidfVectorizer, object, object]:
    vectorizer = TfidfVectorizer(lowercase=True, sublinear_tf=True, dtype=np.float64)
    matrix = vectorizer.fit_transform(pool).tocsr()
    matrix.sort_indices()  # same values; scikit-learn leaves fitted rows unsorted
    return vectorizer, matrix, vectorizer.transform(queries).tocsr()


def _assert_identical(expected: object, got: object) -> None:
    assert expected.shape == got.shape
    assert np.array_equal(expected.indptr, got.indptr)
    assert np.array_equal(expected.indices, got.indices)
    assert np.array_equal(expected.data, got.data)  # bit for bit, not approximately


def _check(pool: list[str], queries: list[str], block: int = tfidf.BLOCK, threads: int = 1) -> None:
    vectorizer, expected, expected_queries = _reference(pool, queries)
    model, matrix = tfidf.fit_transform(pa.array(pool, pa.string()), block, threads)
    assert model.vocabulary.to_pylist() == list(vectorizer.get_feature_names_out())
    assert np.array_equal(model.idf, vectorizer.idf_)
    _assert_identical(expected, matrix)
    got_queries = model.transform(pa.array(queries, pa.string()), block, threads)
    _assert_identical(expected_queries, got_queries)


def test_multilingual_texts_match_scikit_learn() -> None:
    queries = [*MULTILINGUAL[::-1], "unknown words only", "ΣΟΦΙΑΣ zzz εδώ"]
    _check(MULTILINGUAL, queries)


@pytest.mark.parametrize("block", [1, 3, 7])
def test_blocks_do_not_change_the_result(block: int) -> None:
    # terms first seen in later blocks: the storage order of fitted rows follows first appearance
    _check(MULTILINGUAL * 2, MULTILINGUAL, block=block)


@pytest.mark.parametrize(("block", "threads"), [(tfidf.BLOCK, 2), (tfidf.BLOCK, 3), (5, 2)])
def test_threads_do_not_change_the_result(
    block: int, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tfidf, "SLICE", 2)  # slices this small, so the tiny texts are split
    _check(MULTILINGUAL * 2, MULTILINGUAL, block=block, threads=threads)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_byte_budget_does_not_change_the_result(
    threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a few texts a block, and texts longer than a block's budget alone
    monkeypatch.setattr(tfidf, "BLOCK_BYTES", 48)
    monkeypatch.setattr(tfidf, "SLICE", 2)
    slices = tfidf._slices(pa.array(MULTILINGUAL * 2, pa.string()), tfidf.BLOCK, threads)
    assert len(slices) > len(MULTILINGUAL) / 2
    assert all(len(s) == 1 or pc.sum(pc.binary_length(s)).as_py() <= 48 // threads for s in slices)
    _check(MULTILINGUAL * 2, MULTILINGUAL, threads=threads)


def test_seed_captures_match_scikit_learn() -> None:
    lines = [
        line
        for path in sorted((ROOT / "raw" / "captures").rglob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert len(lines) > 50
    _check(lines, lines[::3] + MULTILINGUAL)


def test_corpus_paragraphs_match_scikit_learn(tmp_path_factory: pytest.TempPathFactory) -> None:
    variants = read_rows(shared_corpus(tmp_path_factory), "variants")
    texts = [p["text"] for rows in variants.values() for row in rows for p in row["paragraphs"]]
    assert len(texts) > 100
    _check(texts, texts[1::2], block=64)


def test_no_texts_and_no_terms() -> None:
    model, matrix = tfidf.fit_transform(pa.array(["", "a", "!"], pa.string()))
    assert len(model.vocabulary) == 0 and matrix.shape == (3, 0) and matrix.nnz == 0
    empty = model.transform(pa.array([], pa.string()))
    assert empty.shape == (0, 0)
