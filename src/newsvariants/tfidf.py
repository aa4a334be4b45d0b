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

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from newsvariants.arrays import budget_ranges

_WORD_BREAK = r"[^\pL\pN_]+"
BLOCK = 1 << 16  # texts tokenised at a time: bounds the flattened tokens held at once
# ... and bytes of text: tokens take ~7x their text's bytes while counted, and a block of long
# texts (a 100k-capture split's 54k documents, 115 MiB) held 0.8 GB of them
BLOCK_BYTES = 1 << 24
SLICE = 1 << 12  # fewest texts a thread tokenises: below it, starting threads costs more

T = TypeVar("T")


@dataclass(frozen=True)
class TfidfModel:
    """A fitted vocabulary (sorted, as scikit-learn's) and the IDF of each of its terms."""

    vocabulary: pa.Array  # strings, sorted by code point
    idf: np.ndarray  # float64, one per term

    def transform(self, texts: pa.Array, block: int = BLOCK, threads: int = 1) -> Any:
        """L2-normalised sublinear TF-IDF rows (a CSR matrix) of `texts`; unknown terms drop.
        `block`: texts tokenised (and weighed) at a time, shared among `threads` (`_slices`)."""
        width = len(self.idf)

        def rows_of(part: pa.Array) -> Any:
            tokens, row = _tokens(part)
            found = pc.fill_null(pc.index_in(tokens, value_set=self.vocabulary), -1)
            col = found.to_numpy(zero_copy_only=False).astype(np.int64)
            known = col >= 0
            counted = _count(row[known], col[known], width)
            return _weigh(_matrix(*counted, len(part), width), self.idf)

        return _stack(_map(rows_of, _slices(texts, block, threads), threads), width)


def fit_transform(texts: pa.Array, block: int = BLOCK, threads: int = 1) -> tuple[TfidfModel, Any]:
    """The model fitted on `texts` (a string array) and their TF-IDF rows. `block`: texts
    tokenised (and weighed) at a time, shared among `threads` (`_slices`): besides the result,
    memory holds one block's tokens and every block's counts (a 100k-capture split: ~16M
    counts)."""
    # Each slice's distinct tokens and (row in slice, local term, count) triples; the vocabulary
    # is the sorted union of the slices' tokens, known only once every slice is read.
    slices = _slices(texts, block, threads)
    parts = _map(_slice_counts, slices, threads)
    words = pa.concat_arrays([p[0] for p in parts]) if parts else pa.array([], pa.string())
    vocabulary = pc.unique(words)
    vocabulary = pc.take(vocabulary, pc.sort_indices(vocabulary))
    width = len(vocabulary)
    # Each term's rank of first appearance in `texts`: scikit-learn numbers terms so while
    # counting, then renumbers them in sorted order without re-sorting its rows, so a row's
    # terms are stored (and its norm summed) in this order.
    appearance = np.full(width, -1, dtype=np.int64)
    df = np.zeros(width, dtype=np.int64)
    seen = 0
    for k, (dictionary, (row, local, counts)) in enumerate(parts):
        to_global = pc.index_in(dictionary, value_set=vocabulary).to_numpy().astype(np.int64)
        new = to_global[appearance[to_global] < 0]  # in the slice's order of first appearance
        appearance[new] = np.arange(seen, seen + len(new))
        seen += len(new)
        col = to_global[local].astype(np.int32)
        df += np.bincount(col, minlength=width)
        parts[k] = (dictionary, (row, col, counts))
    # scikit-learn's smoothed IDF, operation for operation (bit-identical weights)
    idf = df.astype(np.float64)
    idf += 1.0
    idf = np.full_like(idf, fill_value=len(texts) + 1, dtype=np.float64) / idf
    np.log(idf, out=idf)
    idf += 1.0
    matrices = []
    for part in slices:
        _, (row, col, counts) = parts.pop(0)  # each slice's counts go once weighed
        matrices.append(_weigh(_matrix(row, col, counts, len(part), width, appearance), idf))
    return TfidfModel(vocabulary, idf), _stack(matrices, width)


def _slices(texts: pa.Array, block: int, threads: int) -> list[pa.Array]:
    """`texts` cut into consecutive slices that `threads` threads work on at once: a block
    (BLOCK texts, BLOCK_BYTES at most) shared among them (so the tokens held at once stay one
    block's), each slice at least SLICE texts unless that is too many bytes (fewer: starting a
    thread costs more than it saves), no more slices than threads when that is enough. Arrow's
    and numpy's kernels release the GIL, and are most of the work: the `pairs` stage of a
    100k-capture build tokenised for ~6 s in its driver, while the workers waited for the
    postings."""
    threads = max(threads, 1)
    step = block if threads == 1 else max(SLICE, min(block // threads, -(-len(texts) // threads)))
    sizes = pc.fill_null(pc.binary_length(texts), 0).to_numpy(zero_copy_only=False)
    ranges = budget_ranges(sizes, BLOCK_BYTES // threads, step)
    return [texts.slice(start, stop - start) for start, stop in ranges]


def _map(func: Callable[[pa.Array], T], slices: list[pa.Array], threads: int) -> list[T]:
    """func of each slice, in order, on up to `threads` threads."""
    if threads <= 1 or len(slices) <= 1:
        return [func(part) for part in slices]
    with ThreadPoolExecutor(min(threads, len(slices))) as pool:
        return list(pool.map(func, slices))


def _slice_counts(
    texts: pa.Array,
) -> tuple[pa.Array, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The distinct tokens of `texts` (in order of first appearance) and their counts per text
    (`_count`, terms numbered in that order)."""
    tokens, row = _tokens(texts)
    encoded = pc.dictionary_encode(tokens)  # codes in order of first appearance
    local = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return encoded.dictionary, _count(row, local, len(encoded.dictionary))


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
    """Distinct (row, col) pairs, sorted, with how often each occurs (int32: half the memory of
    the counts every block keeps until the vocabulary is known)."""
    span = max(width, 1)
    distinct, counts = np.unique(row * span + col, return_counts=True)
    return (
        (distinct // span).astype(np.int32),
        (distinct % span).astype(np.int32),
        counts.astype(np.int32),
    )


def _matrix(
    row: np.ndarray,
    col: np.ndarray,
    counts: np.ndarray,
    height: int,
    width: int,
    storage_rank: np.ndarray | None = None,
) -> Any:
    """A CSR matrix of counts (float64) from distinct (row, col, count) triples sorted by row,
    each row's entries stored by `storage_rank` of their column (None: by column, as given)."""
    from scipy.sparse import csr_matrix

    if storage_rank is not None:
        order = np.argsort(row.astype(np.int64) * max(width, 1) + storage_rank[col])
        row, col, counts = row[order], col[order], counts[order]
    indptr = np.zeros(height + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=height), out=indptr[1:])
    if indptr[-1] < np.iinfo(np.int32).max:  # 32-bit indices where they fit: 12 bytes an entry
        indptr = indptr.astype(np.int32)
    return csr_matrix((counts.astype(np.float64), col, indptr), shape=(height, width))


def _stack(matrices: list[Any], width: int) -> Any:
    """The blocks' rows as one CSR matrix."""
    from scipy.sparse import csr_matrix, vstack

    if not matrices:
        return csr_matrix((0, width))
    return vstack(matrices, format="csr") if len(matrices) > 1 else matrices[0]


def _weigh(matrix: Any, idf: np.ndarray) -> Any:
    """Counts to sublinear TF-IDF, rows L2-normalised, as scikit-learn computes them: 1 + log(tf),
    times IDF, each row divided by the square root of its sum of squares, summed in the row's
    storage order (a sparse product with ones sums a row sequentially, as
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
