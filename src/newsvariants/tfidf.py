"""TF-IDF vectors of Arrow strings: scikit-learn's `TfidfVectorizer(sublinear_tf=True)` (its
defaults otherwise: lower case, tokens of 2+ word characters, smoothed IDF, L2 rows), with the
same vocabulary order and bit-identical weights, computed by Arrow and numpy kernels.

Why not scikit-learn itself (it stays the reference: tests/test_tfidf.py checks equality on
multilingual texts and on a built corpus's paragraphs): the `pairs` stage vectorises every
paragraph of a split. scikit-learn's `CountVectorizer` counts tokens in a Python loop (a dict
lookup and an append per token: ~2.1 s for the 62k paragraphs of a 10k-capture train split, ~10x
that at 100k) and importing it costs ~1.2 s in the build's driver (it pulls in scipy.stats).
Here tokens are split by Arrow's regex kernel, found in the vocabulary by its hash kernels and
counted by sparse-matrix construction: no per-token Python.

Tokens: scikit-learn's pattern `(?u)\\b\\w\\w+\\b` takes the maximal runs of word characters
(Python's `\\w`: letters, digits, underscore) of length >= 2, which is what splitting on
`[^\\pL\\pN_]+` and keeping the pieces of 2+ characters gives. Over all of Unicode the two agree
but for code points unassigned in Python's Unicode database (newer scripts that RE2's tables
already have). Lower case is Python's `str.lower` (full case mapping, final sigma) for non-ASCII
texts; ASCII texts are lowered by Arrow, which for ASCII is the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_WORD_BREAK = r"[^\pL\pN_]+"
BLOCK = 1 << 16  # texts tokenised at a time: bounds the flattened tokens held at once


@dataclass(frozen=True)
class TfidfModel:
    """A fitted vocabulary (sorted, as scikit-learn's) and the IDF of each of its terms."""

    vocabulary: pa.Array  # strings, sorted by code point
    idf: np.ndarray  # float64, one per term

    def transform(self, texts: pa.Array, block: int = BLOCK) -> Any:
        """L2-normalised sublinear TF-IDF rows (a CSR matrix) of `texts`; unknown terms drop.
        `block`: texts tokenised at a time."""
        rows, cols, counts = [], [], []
        for start in range(0, len(texts), block):
            tokens, row = _tokens(texts.slice(start, block))
            found = pc.fill_null(pc.index_in(tokens, value_set=self.vocabulary), -1)
            col = found.to_numpy(zero_copy_only=False).astype(np.int64)
            known = col >= 0
            r, c, n = _count(row[known] + start, col[known], len(self.idf))
            rows.append(r)
            cols.append(c)
            counts.append(n)
        return _weigh(_stack(rows, cols, counts, len(texts), len(self.idf)), self.idf)


def fit_transform(texts: pa.Array, block: int = BLOCK) -> tuple[TfidfModel, Any]:
    """The model fitted on `texts` (a string array) and their TF-IDF rows. `block`: texts
    tokenised at a time."""
    # Each block's distinct tokens and (row, local term, count) triples; the vocabulary is the
    # sorted union of the blocks' tokens, known only once every block is read.
    parts: list[tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, len(texts), block):
        tokens, row = _tokens(texts.slice(start, block))
        encoded = pc.dictionary_encode(tokens)  # codes in order of first appearance
        local = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        r, c, n = _count(row + start, local, len(encoded.dictionary))
        parts.append((encoded.dictionary, r, c, n))
    words = pa.concat_arrays([p[0] for p in parts]) if parts else pa.array([], pa.string())
    vocabulary = pc.unique(words)
    vocabulary = pc.take(vocabulary, pc.sort_indices(vocabulary))
    # Each term's rank of first appearance in `texts`: scikit-learn numbers terms so while
    # counting, then renumbers them in sorted order without re-sorting its rows, so a row's
    # terms are stored (and its norm summed) in this order.
    appearance = np.full(len(vocabulary), -1, dtype=np.int64)
    seen = 0
    rows, cols, counts = [], [], []
    for dictionary, r, c, n in parts:
        to_global = pc.index_in(dictionary, value_set=vocabulary).to_numpy().astype(np.int64)
        new = to_global[appearance[to_global] < 0]  # in the block's order of first appearance
        appearance[new] = np.arange(seen, seen + len(new))
        seen += len(new)
        rows.append(r)
        cols.append(to_global[c])
        counts.append(n)
    matrix = _stack(rows, cols, counts, len(texts), len(vocabulary), appearance)
    # scikit-learn's smoothed IDF, operation for operation (bit-identical weights)
    df = np.bincount(matrix.indices, minlength=len(vocabulary)).astype(np.float64)
    df += 1.0
    idf = np.full_like(df, fill_value=len(texts) + 1, dtype=np.float64)
    idf /= df
    np.log(idf, out=idf)
    idf += 1.0
    return TfidfModel(vocabulary, idf), _weigh(matrix, idf)


def _tokens(texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The tokens of `texts` in order, and the index (in `texts`) of each one's text."""
    parts = pc.split_pattern_regex(_lower(texts), _WORD_BREAK)
    row = pc.list_parent_indices(parts).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(parts)
    long_enough = pc.greater_equal(pc.utf8_length(flat), 2)
    keep = long_enough.to_numpy(zero_copy_only=False)
    return pc.filter(flat, long_enough), row[keep]


def _lower(texts: pa.Array) -> pa.Array:
    """`str.lower` of each text: Arrow's for ASCII texts, Python's for the others (Arrow maps
    characters one to one; Python's full case mapping turns a final "Σ" into "ς", "İ" into two
    code points)."""
    texts = pc.fill_null(texts, "")
    lowered = pc.utf8_lower(texts)
    wide = pc.invert(pc.string_is_ascii(texts))
    if not pc.any(wide).as_py():
        return lowered
    python = [text.lower() for text in pc.filter(texts, wide).to_pylist()]
    return pc.replace_with_mask(lowered, wide, pa.array(python, pa.string()))


def _count(
    row: np.ndarray, col: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (row, col) pairs, sorted, with how often each occurs."""
    keys = row * max(width, 1) + col
    distinct, counts = np.unique(keys, return_counts=True)
    return distinct // max(width, 1), distinct % max(width, 1), counts


def _stack(
    rows: list[np.ndarray],
    cols: list[np.ndarray],
    counts: list[np.ndarray],
    height: int,
    width: int,
    storage_rank: np.ndarray | None = None,
) -> Any:
    """A CSR matrix of counts (float64) from distinct (row, col, count) triples, each row's
    entries stored by `storage_rank` of their column (None: by column)."""
    from scipy.sparse import csr_matrix

    row = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    col = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    data = np.concatenate(counts).astype(np.float64) if counts else np.zeros(0)
    within = col if storage_rank is None else storage_rank[col]
    order = np.argsort(row * max(width, 1) + within)  # keys are distinct: any sort will do
    indptr = np.zeros(height + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=height), out=indptr[1:])
    return csr_matrix((data[order], col[order], indptr), shape=(height, width))


def _weigh(matrix: Any, idf: np.ndarray) -> Any:
    """Counts to sublinear TF-IDF, rows L2-normalised, as scikit-learn computes them: 1 + log(tf),
    times IDF, each row divided by the square root of its sum of squares, summed in index order
    in the row's storage order (a sparse product with ones sums a row sequentially, as
    scikit-learn's Cython loop does; numpy's pairwise sums would round differently). The rows
    come back with sorted indices."""
    from scipy.sparse import csr_matrix

    np.log(matrix.data, out=matrix.data)
    matrix.data += 1.0
    matrix.data *= idf[matrix.indices]
    squares = csr_matrix((matrix.data * matrix.data, matrix.indices, matrix.indptr), matrix.shape)
    norms = np.sqrt(squares @ np.ones(matrix.shape[1]))
    norms[norms == 0.0] = 1.0
    matrix.data /= np.repeat(norms, np.diff(matrix.indptr))
    matrix.sort_indices()  # moves entries within rows; no value changes
    return matrix
