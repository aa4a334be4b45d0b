"""Stage `pairs`: benchmark pairs from the alignments, inside one split only.

Positives (label `same_source`):
- paragraph: every aligned unit whose relation is not added/removed (`relation` = the unit's);
- document: every non-pivot variant with its pivot (`relation` from the label rule applied to
  the whole bodies over their alignment, `label.document_relation`: identical, formatting,
  minor_edit or major_edit; never split/merge).
Negatives (label `unrelated`), all drawn from the positive's split, so negatives never cross splits.
For each positive, at most one of each kind, with the positive's text_a as their text_a:
- `same_story` (paragraphs only): a paragraph of the same variant_b that is NOT aligned to text_a
  (the hardest: same topic, same names); none when every paragraph of variant_b is aligned to it;
- `nearest_other`: the most similar text (TF-IDF cosine) of another story in the same split,
  among those sharing one of the query's rarest terms (an inverted-index search, see `_nearest`);
- `random_other`: a text of another story in the same split, chosen by hash.
So the ratio is at most 3 negatives per paragraph positive (1 per kind) and 2 per document
positive; a negative drawn twice (e.g. the nearest text of a pivot paragraph aligned to several
variants) is kept once, and a split with a single story has no `*_other` negatives.
Sampling is deterministic: choices are ranked by SHA-256 of the pair key, never by a random seed,
and cost O(1) per positive for `random_other` and the postings of a few rare terms per distinct
query for `nearest_other`: linear in the split, not quadratic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from newsvariants.label import POSITIVE_RELATIONS, document_relation
from newsvariants.records import Alignment, Pair, Variant

# 2: random_other drawn by hashed offset (O(1) per positive)
# 3: nearest_other searched through an inverted index of each query's rarest terms (linear)
# 4: a document positive's relation is label.document_relation, not its units' commonest relation
PAIRS_VERSION = "4"
NEGATIVE_KINDS = ("same_story", "nearest_other", "random_other")
# nearest_other search: the terms of a query that find candidates (its highest TF-IDF weights),
# how many candidates per query are scored exactly, and block sizes that bound memory.
QUERY_TERMS = 8
POSTINGS = 48  # impact-ordered postings cut to each term's best entries: bounded work per query
CANDIDATES = 16
QUERY_BLOCK = 4096
RESCORE_BLOCK = 1 << 18


class TextRef(NamedTuple):
    """A text of the split (a paragraph or a whole body). A NamedTuple, not a dataclass: the
    pools hold one per paragraph of the split, and tuples are several times cheaper to make."""

    story_id: str
    variant_id: str
    paragraphs: tuple[int, ...]
    text: str


def _hash(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()


def _first_by_hash(key: str, options: Sequence[int]) -> int:
    """min(options, key=lambda x: _hash(key, x)), hashing the shared prefix once."""
    prefix = hashlib.sha256(f"{key}\x1f".encode())
    best, best_digest = options[0], None
    for x in options:
        digest = prefix.copy()
        digest.update(str(x).encode())
        value = digest.hexdigest()
        if best_digest is None or value < best_digest:
            best, best_digest = x, value
    return best


def pair_id(granularity: str, a: TextRef, b: TextRef, kind: str) -> str:
    return (
        "p-" + _hash(granularity, a.variant_id, a.paragraphs, b.variant_id, b.paragraphs, kind)[:16]
    )


def _pair(granularity: str, a: TextRef, b: TextRef, relation: str | None, kind: str | None) -> Pair:
    return Pair(
        pair_id=pair_id(granularity, a, b, kind or relation or ""),
        granularity=granularity,
        text_a=a.text,
        text_b=b.text,
        label="same_source" if kind is None else "unrelated",
        relation=relation,
        negative_kind=kind,
        story_a=a.story_id,
        story_b=b.story_id,
        variant_a=a.variant_id,
        variant_b=b.variant_id,
        paragraphs_a=list(a.paragraphs),
        paragraphs_b=list(b.paragraphs),
    )


def _nearest(queries: Sequence[TextRef], pool: Sequence[TextRef]) -> list[TextRef | None]:
    """For each query, the most similar text (TF-IDF cosine) of the pool from another story,
    among the candidates found through the query's QUERY_TERMS rarest terms.

    An inverted-index search instead of comparing each query with the whole pool (which is
    quadratic: 211 s of a 10k-capture build, days at 1M): the query's highest-weighted terms are
    its rare ones (names, places, numbers), their postings are short, so a sparse product of the
    pruned queries with the pool finds the candidates in time proportional to those postings.
    The best CANDIDATES per query (by that partial score) are then scored exactly, and the best
    exact score wins, ties going to the first text in pool order. Identical (text, story) entries
    of the pool and identical (text, story) queries are scored once. A query that shares none of
    its rare terms with another story gets no nearest_other negative. Each term's postings are cut
    to its POSTINGS highest-weighted entries (impact ordering), so the work per query is bounded
    even where "rare" terms are common (small vocabularies, names that recur across stories).
    """
    if not queries or not pool:
        return [None] * len(queries)
    from sklearn.feature_extraction.text import TfidfVectorizer

    # distinct (text, story) of the pool, each represented by its first occurrence
    first: dict[tuple[str, str], int] = {}
    for index, ref in enumerate(pool):
        first.setdefault((ref.text, ref.story_id), index)
    entries = list(first.values())
    texts = [pool[i].text for i in entries]
    codes = {sid: n for n, sid in enumerate(sorted({r.story_id for r in pool}))}
    entry_story = np.array([codes[pool[i].story_id] for i in entries], dtype=np.int64)
    distinct_queries: dict[tuple[str, str], int] = {}
    for q in queries:
        distinct_queries.setdefault((q.text, q.story_id), len(distinct_queries))
    query_story = np.array([codes.get(sid, -1) for _, sid in distinct_queries], dtype=np.int64)

    vectorizer = TfidfVectorizer(lowercase=True, sublinear_tf=True, dtype=np.float64)
    matrix = vectorizer.fit_transform(texts).tocsr()
    query_matrix = vectorizer.transform([text for text, _ in distinct_queries]).tocsr()
    postings = _top_terms(matrix.T.tocsr(), POSTINGS)  # term -> its POSTINGS best entries
    pruned = _top_terms(query_matrix, QUERY_TERMS)
    candidates = _candidates(pruned, postings, query_story, entry_story)
    best = _rescore(query_matrix, matrix, candidates)
    chosen: list[TextRef | None] = [pool[entries[b]] if b >= 0 else None for b in best.tolist()]
    return [chosen[distinct_queries[(q.text, q.story_id)]] for q in queries]


def _top_terms(matrix: Any, keep: int) -> Any:
    """The matrix with only each row's `keep` largest weights (ties: the lower term index)."""
    from scipy.sparse import csr_matrix

    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((matrix.indices, -matrix.data, rows))
    rank = np.arange(len(order)) - matrix.indptr[rows[order]]
    kept = order[rank < keep]
    return csr_matrix((matrix.data[kept], (rows[kept], matrix.indices[kept])), shape=matrix.shape)


def _candidates(
    pruned: Any, postings: Any, query_story: np.ndarray, entry_story: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(query, pool entry) pairs: for each query, its CANDIDATES best pool entries of another
    story by the partial score of its rare terms over truncated postings (ties: the lower entry
    index). At most QUERY_TERMS * POSTINGS products per query, whatever the pool's size."""
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    for start in range(0, pruned.shape[0], QUERY_BLOCK):
        block = (pruned[start : start + QUERY_BLOCK] @ postings).tocoo()
        rows, cols, data = (
            block.row.astype(np.int64) + start,
            block.col.astype(np.int64),
            block.data,
        )
        other = query_story[rows] != entry_story[cols]
        rows, cols, data = rows[other], cols[other], data[other]
        order = np.lexsort((cols, -data, rows))
        rows, cols = rows[order], cols[order]
        starts = np.searchsorted(rows, rows, side="left")
        keep = np.arange(len(rows)) - starts < CANDIDATES
        rows_out.append(rows[keep])
        cols_out.append(cols[keep])
    return np.concatenate(rows_out), np.concatenate(cols_out)


def _rescore(
    query_matrix: Any, matrix: Any, candidates: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """For each query, the candidate entry of highest exact cosine (ties: the lower entry
    index), or -1 when it has no candidate."""
    rows, cols = candidates
    best = np.full(query_matrix.shape[0], -1, dtype=np.int64)
    if len(rows) == 0:
        return best
    scores = np.empty(len(rows))
    for start in range(0, len(rows), RESCORE_BLOCK):
        r, c = rows[start : start + RESCORE_BLOCK], cols[start : start + RESCORE_BLOCK]
        scores[start : start + len(r)] = np.asarray(
            query_matrix[r].multiply(matrix[c]).sum(axis=1)
        ).ravel()
    order = np.lexsort((cols, -scores, rows))
    rows, cols = rows[order], cols[order]
    head = np.r_[True, rows[1:] != rows[:-1]]
    best[rows[head]] = cols[head]
    return best


class RandomOther:
    """Draws a text of another story: the pool in a fixed hashed order, entered at a hashed offset.

    Walking from the offset to the first text of another story is O(1) per query in practice (it
    skips at most the texts of the query's own story, which the hashed order scatters), instead
    of ranking the whole pool for every query.
    """

    def __init__(self, pool: Sequence[TextRef]) -> None:
        self.pool = sorted(pool, key=lambda r: _hash("order", r.variant_id, r.paragraphs))

    def draw(self, query: TextRef, key: str) -> TextRef | None:
        n = len(self.pool)
        if n == 0:
            return None
        start = int(_hash("offset", key)[:15], 16) % n
        for step in range(n):
            candidate = self.pool[(start + step) % n]
            if candidate.story_id != query.story_id:
                return candidate
        return None


def build_pairs(
    variants: Sequence[Variant], alignments: Sequence[Alignment], pivots: dict[str, str]
) -> list[Pair]:
    """Pairs of one split (all inputs from that split), sorted by pair_id."""
    by_id = {v.variant_id: v for v in variants}
    pairs: list[Pair] = []
    para_pos: list[tuple[TextRef, TextRef]] = []
    aligned_b: dict[tuple[str, int], set[int]] = {}
    units_of: dict[str, list[Alignment]] = {}
    for al in alignments:
        units_of.setdefault(al.variant_b, []).append(al)
        if al.relation not in POSITIVE_RELATIONS:
            continue
        a = TextRef(al.story_id, al.variant_a, tuple(al.paragraphs_a), al.text_a)
        b = TextRef(al.story_id, al.variant_b, tuple(al.paragraphs_b), al.text_b)
        pairs.append(_pair("paragraph", a, b, al.relation, None))
        para_pos.append((a, b))
        for i in al.paragraphs_a:
            aligned_b.setdefault((al.variant_b, i), set()).update(al.paragraphs_b)

    doc_pos: list[tuple[TextRef, TextRef]] = []
    for variant in sorted(variants, key=lambda v: v.variant_id):
        pivot = pivots[variant.story_id]
        if variant.variant_id == pivot or not variant.paragraphs:
            continue
        a, b = _doc_ref(by_id[pivot]), _doc_ref(variant)
        relation = document_relation(a.text, b.text, units_of.get(variant.variant_id, []))
        pairs.append(_pair("document", a, b, relation, None))
        doc_pos.append((a, b))

    para_pool = [
        TextRef(v.story_id, v.variant_id, (i,), p.text)
        for v in sorted(variants, key=lambda v: v.variant_id)
        for i, p in enumerate(v.paragraphs)
    ]
    doc_pool = [_doc_ref(v) for v in sorted(variants, key=lambda v: v.variant_id) if v.paragraphs]
    pairs += _negatives("paragraph", para_pos, para_pool, by_id, aligned_b)
    pairs += _negatives("document", doc_pos, doc_pool, by_id, None)
    unique = {p.pair_id: p for p in pairs}
    return [unique[k] for k in sorted(unique)]


def _doc_ref(variant: Variant) -> TextRef:
    return TextRef(
        variant.story_id,
        variant.variant_id,
        tuple(range(len(variant.paragraphs))),
        "\n\n".join(p.text for p in variant.paragraphs),
    )


def _negatives(
    granularity: str,
    positives: list[tuple[TextRef, TextRef]],
    pool: list[TextRef],
    by_id: dict[str, Variant],
    aligned_b: dict[tuple[str, int], set[int]] | None,
) -> list[Pair]:
    pairs: list[Pair] = []
    nearest = _nearest([a for a, _ in positives], pool)
    random_other = RandomOther(pool)
    for (a, b), near in zip(positives, nearest, strict=True):
        key = _hash(granularity, a.variant_id, a.paragraphs, b.variant_id, b.paragraphs)
        if aligned_b is not None:
            taken = set().union(*(aligned_b.get((b.variant_id, i), set()) for i in a.paragraphs))
            options = [j for j in range(len(by_id[b.variant_id].paragraphs)) if j not in taken]
            if options:
                j = _first_by_hash(key, options)
                other = TextRef(
                    b.story_id, b.variant_id, (j,), by_id[b.variant_id].paragraphs[j].text
                )
                pairs.append(_pair(granularity, a, other, None, "same_story"))
        if near is not None:
            pairs.append(_pair(granularity, a, near, None, "nearest_other"))
        rand = random_other.draw(a, key)
        if rand is not None:
            pairs.append(_pair(granularity, a, rand, None, "random_other"))
    return pairs
