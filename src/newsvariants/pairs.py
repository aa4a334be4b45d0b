"""Stage `pairs`: benchmark pairs from the alignments, inside one split only.

Positives: every aligned unit whose relation is not added/removed gives a paragraph pair; every
non-pivot variant gives a document pair with its pivot. For each positive, up to one negative of
each kind, all drawn from the positive's split (negatives never cross splits):
- `same_story`: the pivot's text paired with a paragraph of the variant it is NOT aligned to
  (hardest: same topic, same names); documents have none;
- `nearest_other`: the most similar text (TF-IDF cosine) of another story in the same split;
- `random_other`: a text of another story in the same split, chosen by hash rank.
Sampling is deterministic: choices are ranked by SHA-256 of the pair key, never by a random seed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from newsvariants.label import POSITIVE_RELATIONS
from newsvariants.records import Alignment, Pair, Variant

PAIRS_VERSION = "1"
NEGATIVE_KINDS = ("same_story", "nearest_other", "random_other")


@dataclass(frozen=True)
class TextRef:
    story_id: str
    variant_id: str
    paragraphs: tuple[int, ...]
    text: str


def _hash(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()


def pair_id(granularity: str, a: TextRef, b: TextRef, kind: str) -> str:
    return "p-" + _hash(granularity, a.variant_id, a.paragraphs, b.variant_id, b.paragraphs, kind)[:16]


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
    stories = np.array([r.story_id for r in pool])
    found: list[TextRef | None] = []
    for start in range(0, len(queries), 512):
        sims = (query_matrix[start : start + 512] @ matrix.T).toarray()
        for row, query in enumerate(queries[start : start + 512]):
            scores = np.where(stories == query.story_id, -1.0, sims[row])
            best = int(np.argmax(scores))  # argmax takes the first of equal scores: deterministic
            found.append(pool[best] if scores[best] >= 0 else None)
    return found


def _random_other(query: TextRef, pool: Sequence[TextRef], key: str) -> TextRef | None:
    others = [r for r in pool if r.story_id != query.story_id]
    if not others:
        return None
    return min(others, key=lambda r: _hash(key, r.variant_id, r.paragraphs))


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
    for (a, b), near in zip(positives, nearest, strict=True):
        key = _hash(granularity, a.variant_id, a.paragraphs, b.variant_id, b.paragraphs)
        if aligned_b is not None:
            taken = set().union(*(aligned_b.get((b.variant_id, i), set()) for i in a.paragraphs))
            options = [
                j for j in range(len(by_id[b.variant_id].paragraphs)) if j not in taken
            ]
            if options:
                j = min(options, key=lambda x: _hash(key, x))
                other = TextRef(b.story_id, b.variant_id, (j,), by_id[b.variant_id].paragraphs[j].text)
                pairs.append(_pair(granularity, a, other, None, "same_story"))
        if near is not None:
            pairs.append(_pair(granularity, a, near, None, "nearest_other"))
        rand = _random_other(a, pool, key)
        if rand is not None:
            pairs.append(_pair(granularity, a, rand, None, "random_other"))
    return pairs
