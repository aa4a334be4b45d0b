"""Stage `pairs`: benchmark pairs from the alignments, inside one split only.

Positives (label `same_source`):
- paragraph: every aligned unit whose relation is not added/removed (`relation` = the unit's);
- document: every non-pivot variant with its pivot (`relation` = the most frequent relation over
  its units, ties broken by the order identical < formatting < minor_edit < major_edit < ...).
Negatives (label `unrelated`), all drawn from the positive's split, so negatives never cross splits.
For each positive, at most one of each kind, with the positive's text_a as their text_a:
- `same_story` (paragraphs only): a paragraph of the same variant_b that is NOT aligned to text_a
  (the hardest: same topic, same names); none when every paragraph of variant_b is aligned to it;
- `nearest_other`: the most similar text (TF-IDF cosine) of another story in the same split;
- `random_other`: a text of another story in the same split, chosen by hash.
So the ratio is at most 3 negatives per paragraph positive (1 per kind) and 2 per document
positive; a negative drawn twice (e.g. the nearest text of a pivot paragraph aligned to several
variants) is kept once, and a split with a single story has no `*_other` negatives.
Sampling is deterministic: choices are ranked by SHA-256 of the pair key, never by a random seed,
and cost O(1) per positive for `random_other` and one sparse product per block for `nearest_other`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from newsvariants.label import POSITIVE_RELATIONS
from newsvariants.records import Alignment, Pair, Variant

PAIRS_VERSION = "2"  # 2: random_other drawn by hashed offset (O(1) per positive)
NEGATIVE_KINDS = ("same_story", "nearest_other", "random_other")
DENSE_BLOCK_CELLS = 1 << 24  # at most 16M similarities (128 MB) densified at once


@dataclass(frozen=True)
class TextRef:
    story_id: str
    variant_id: str
    paragraphs: tuple[int, ...]
    text: str


def _hash(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()


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
    """For each query, the most similar text of the pool from another story (TF-IDF cosine)."""
    if not queries or not pool:
        return [None] * len(queries)
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(lowercase=True, sublinear_tf=True)
    matrix = vectorizer.fit_transform([r.text for r in pool])
    query_matrix = vectorizer.transform([q.text for q in queries])
    codes = {sid: n for n, sid in enumerate(sorted({r.story_id for r in pool}))}
    stories = np.array([codes[r.story_id] for r in pool])
    found: list[TextRef | None] = []
    block = max(1, min(512, DENSE_BLOCK_CELLS // len(pool)))  # bounded memory on a large pool
    for start in range(0, len(queries), block):
        sims = (query_matrix[start : start + block] @ matrix.T).toarray()
        own = np.array([codes.get(q.story_id, -1) for q in queries[start : start + block]])
        sims[own[:, None] == stories[None, :]] = -1.0  # never a text of the query's own story
        best = np.argmax(sims, axis=1)  # the first of equal scores: deterministic
        found += [pool[b] if sims[i, b] >= 0 else None for i, b in enumerate(best)]
    return found


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
    relations_of: dict[str, Counter[str]] = {}
    for al in alignments:
        if al.relation not in POSITIVE_RELATIONS:
            continue
        a = TextRef(al.story_id, al.variant_a, tuple(al.paragraphs_a), al.text_a)
        b = TextRef(al.story_id, al.variant_b, tuple(al.paragraphs_b), al.text_b)
        pairs.append(_pair("paragraph", a, b, al.relation, None))
        para_pos.append((a, b))
        for i in al.paragraphs_a:
            aligned_b.setdefault((al.variant_b, i), set()).update(al.paragraphs_b)
        relations_of.setdefault(al.variant_b, Counter())[al.relation] += 1

    doc_pos: list[tuple[TextRef, TextRef]] = []
    for variant in sorted(variants, key=lambda v: v.variant_id):
        pivot = pivots[variant.story_id]
        if variant.variant_id == pivot or not variant.paragraphs:
            continue
        a, b = _doc_ref(by_id[pivot]), _doc_ref(variant)
        counts = relations_of.get(variant.variant_id, Counter())
        relation = min(counts, key=lambda r: (-counts[r], RELATIONS_ORDER[r])) if counts else None
        if relation is None:
            continue
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


RELATIONS_ORDER = {r: i for i, r in enumerate(POSITIVE_RELATIONS)}


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
                j = min(options, key=lambda x: _hash(key, x))
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
