"""Stage `align`: each variant's paragraphs against its story's pivot.

Algorithm (ALIGN_VERSION; described in DATASET_CARD.md):
1. Score every paragraph pair (a_i, b_j) by similarity of the normalized texts: the larger of the
   rapidfuzz Indel ratio and the token containment of the shorter side in the longer.
2. Order prior: a monotone dynamic programme (Needleman-Wunsch, zero gap cost) picks the 1-1
   matches of highest total score among pairs scoring >= MATCH_MIN.
3. Moves: unmatched pairs that score >= MOVE_MIN are matched greedily (best first), whatever order.
4. Splits and merges: an unmatched paragraph whose tokens lie mostly (>= PART_MIN) inside a matched
   paragraph on the other side, next to that paragraph's match, joins its unit (1-n or n-1).
5. What is left is `removed` (pivot side) or `added` (variant side).
Cost: O(|a| * |b|) per variant pair; a story with n variants costs n - 1 alignments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rapidfuzz.distance import Indel

from newsvariants.normalize import fold, tokens
from newsvariants.records import AlignmentUnit

ALIGN_VERSION = "1"
MATCH_MIN = 0.5  # below this two paragraphs are not the same paragraph, even in order
MOVE_MIN = 0.75  # out of order, stronger evidence is needed
PART_MIN = 0.8  # share of a part's tokens that must lie inside the whole for a split/merge


def token_containment(part: Sequence[str], whole: Sequence[str]) -> float:
    """Share of part's tokens (as a multiset) found in whole."""
    if not part:
        return 0.0
    have = Counter(whole)
    found = 0
    for tok in part:
        if have[tok] > 0:
            have[tok] -= 1
            found += 1
    return found / len(part)


def pair_score(a_text: str, b_text: str, a_tok: Sequence[str], b_tok: Sequence[str]) -> float:
    ratio = Indel.normalized_similarity(a_text, b_text)
    shorter, longer = (a_tok, b_tok) if len(a_tok) <= len(b_tok) else (b_tok, a_tok)
    # containment alone would match a one-line teaser to any paragraph repeating its words:
    # weight it by how much of the longer text the shorter covers.
    cover = len(shorter) / max(1, len(longer))
    return max(ratio, token_containment(shorter, longer) * min(1.0, 0.5 + cover))


def score_matrix(a: Sequence[str], b: Sequence[str]) -> list[list[float]]:
    a_fold, b_fold = [fold(t).lower() for t in a], [fold(t).lower() for t in b]
    a_tok, b_tok = [tokens(t) for t in a], [tokens(t) for t in b]
    return [
        [pair_score(a_fold[i], b_fold[j], a_tok[i], b_tok[j]) for j in range(len(b))]
        for i in range(len(a))
    ]


def _monotone_matches(scores: list[list[float]]) -> list[tuple[int, int]]:
    n = len(scores)
    m = len(scores[0]) if n else 0
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            s = scores[i - 1][j - 1]
            diag = best[i - 1][j - 1] + s if s >= MATCH_MIN else float("-inf")
            best[i][j] = max(best[i - 1][j], best[i][j - 1], diag)
    matches = []
    i, j = n, m
    while i > 0 and j > 0:
        s = scores[i - 1][j - 1]
        if s >= MATCH_MIN and best[i][j] == best[i - 1][j - 1] + s:
            matches.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    return sorted(matches)


def _moves(scores: list[list[float]], matches: list[tuple[int, int]]) -> list[tuple[int, int]]:
    used_a = {i for i, _ in matches}
    used_b = {j for _, j in matches}
    candidates = sorted(
        (
            (-scores[i][j], i, j)
            for i in range(len(scores))
            if i not in used_a
            for j in range(len(scores[i]))
            if j not in used_b and scores[i][j] >= MOVE_MIN
        )
    )
    found = []
    for _, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            found.append((i, j))
    return found


def _attach_parts(
    a: Sequence[str], b: Sequence[str], matches: list[tuple[int, int]]
) -> list[AlignmentUnit]:
    a_tok, b_tok = [tokens(t) for t in a], [tokens(t) for t in b]
    units = {i: ([i], [j]) for i, j in matches}
    b_to_a = {j: i for i, j in matches}
    a_to_b = {i: j for i, j in matches}
    used_a, used_b = set(a_to_b), set(b_to_a)
    # split: an unmatched b_j next to b_k (matched to a_i), mostly inside a_i
    for j in range(len(b)):
        if j in used_b:
            continue
        for k in (j - 1, j + 1):
            i = b_to_a.get(k)
            if i is None or len(units[i][0]) > 1:
                continue
            rest = [t for t in a_tok[i]]
            if token_containment(b_tok[j], rest) >= PART_MIN and _adds_coverage(
                a_tok[i], [b_tok[x] for x in units[i][1]], b_tok[j]
            ):
                units[i][1].append(j)
                units[i][1].sort()
                used_b.add(j)
                b_to_a[j] = i
                break
    # merge: an unmatched a_i next to a_k (matched to b_j), mostly inside b_j
    for i in range(len(a)):
        if i in used_a:
            continue
        for k in (i - 1, i + 1):
            if k not in units or len(units[k][1]) > 1:
                continue
            j = units[k][1][0]
            if token_containment(a_tok[i], b_tok[j]) >= PART_MIN and _adds_coverage(
                b_tok[j], [a_tok[x] for x in units[k][0]], a_tok[i]
            ):
                units[k][0].append(i)
                units[k][0].sort()
                used_a.add(i)
                break
    result = [AlignmentUnit(tuple(pa), tuple(pb)) for pa, pb in units.values()]
    result += [AlignmentUnit((i,), ()) for i in range(len(a)) if i not in used_a]
    result += [AlignmentUnit((), (j,)) for j in range(len(b)) if j not in used_b]
    return sorted(result, key=_unit_order)


def _adds_coverage(whole: Sequence[str], parts: list[Sequence[str]], extra: Sequence[str]) -> bool:
    """The extra part covers tokens of the whole that the parts already matched do not."""
    before = token_containment(whole, [t for p in parts for t in p])
    after = token_containment(whole, [t for p in parts for t in p] + list(extra))
    return after - before >= 0.15


def _unit_order(unit: AlignmentUnit) -> tuple[int, int]:
    if unit.paragraphs_a:
        return (unit.paragraphs_a[0], unit.paragraphs_b[0] if unit.paragraphs_b else -1)
    return (10**9, unit.paragraphs_b[0])


def align_paragraphs(a: Sequence[str], b: Sequence[str]) -> list[AlignmentUnit]:
    """Units aligning variant b's paragraphs to pivot a's, ordered by pivot paragraph."""
    if not a or not b:
        return [AlignmentUnit((i,), ()) for i in range(len(a))] + [
            AlignmentUnit((), (j,)) for j in range(len(b))
        ]
    scores = score_matrix(a, b)
    matches = _monotone_matches(scores)
    matches += _moves(scores, matches)
    return _attach_parts(a, b, sorted(matches))
