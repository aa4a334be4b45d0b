"""Stage `align`: each variant's paragraphs against its story's pivot.

Algorithm (ALIGN_VERSION; described step by step in DATASET_CARD.md, section Alignment):
1. Score every paragraph pair (a_i, b_j) on the normalized texts (folded, lower-cased word tokens):
   the larger of the token-level Indel ratio (2 * LCS / (|a| + |b|) over tokens) and the word-bigram
   containment of the shorter side in the longer times (1 + cover) / 2, where cover is the shorter
   side's share of the longer side's tokens (bigram containment is not used below MIN_BIGRAMS).
2. Order prior: a dynamic programme over both lists (as in Gale and Church's sentence alignment)
   picks the in-order units of highest total score: 1-1 (pair score >= MATCH_MIN), 1-2 and 2-1 (a
   paragraph and its two pieces on the other side, see `_two_to_one`), or a skipped paragraph.
3. Moves (>= MOVE_MIN: out of order, the text must carry the evidence): two in-order 1-1 units
   are crossed when that scores more (`_uncross`); an in-order 1-1 unit is re-paired with a free
   paragraph that beats its pair by PART_GAIN (`_better_partners`); then free pairs are matched
   greedily, best first, whatever their order (`_moves`).
4. More pieces: a free paragraph, wherever it stands, joins a unit's side opposite a single
   paragraph when >= PART_MIN of its tokens lie inside that paragraph and joining raises the
   unit's fit (`_fit`) by >= PART_GAIN; best gain first, until nothing joins. Then a piece is
   dropped, or swapped for a free paragraph, when that raises the fit by >= PART_GAIN.
5. Rewrites: a pivot paragraph and a variant paragraph that are each the only free paragraph in
   the same gap between two consecutive in-order units are matched when they score >= GAP_MIN
   (a heavily rewritten paragraph kept in place, not a removal next to an addition).
6. What is left is `removed` (pivot side) or `added` (variant side).
Cost: O(|a| * |b|) pair scores per variant; a story with n variants costs n - 1 alignments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import permutations

from rapidfuzz.distance import Indel

from newsvariants.normalize import tokens
from newsvariants.records import AlignmentUnit

ALIGN_VERSION = "2"
# Thresholds on the pair score (0..1). Measured on the seed pair: paragraphs of the same story
# that are NOT each other's version score at most 0.27, reworded versions at least 0.77.
MATCH_MIN = 0.5  # in order, a pair scoring below this is not one paragraph's two versions
MOVE_MIN = 0.75  # out of order there is no positional evidence, so the text must carry it
GAP_MIN = 0.3  # alone in the same gap, a heavy rewrite is likelier than a remove + add
PART_MIN = 0.8  # share of a part's tokens that must lie inside the whole for a split/merge
PART_GAIN = 0.05  # joining a part must make the unit's texts measurably closer
MIN_BIGRAMS = 3  # below this, bigram containment is chance ("of the") and is not used


def token_containment(part: Sequence[str], whole: Sequence[str]) -> float:
    """Share of part's tokens (as a multiset) found in whole."""
    if not part:
        return 0.0
    return _counter_containment(Counter(part), len(part), Counter(whole))


def _counter_containment(part: Counter[str], size: int, whole: Counter[str]) -> float:
    if not size:
        return 0.0
    # only shared keys can count; the set intersection runs in C, unrelated pairs share few keys
    return sum(min(part[t], whole[t]) for t in part.keys() & whole.keys()) / size


@dataclass(frozen=True)
class _Para:
    """A paragraph's comparison features, computed once per alignment."""

    tokens: tuple[str, ...]
    unigrams: Counter[str]
    bigrams: Counter[str]
    n_bigrams: int

    @classmethod
    def of(cls, text: str) -> _Para:
        return _features(text)


# The pivot's paragraphs recur in all n - 1 alignments of a story (and syndicated copies repeat
# paragraphs verbatim): compute their features once. Bounded, so memory stays flat.
@lru_cache(maxsize=65536)
def _features(text: str) -> _Para:
    toks = tuple(tokens(text))
    pairs = [f"{x} {y}" for x, y in zip(toks, toks[1:], strict=False)]
    return _Para(toks, Counter(toks), Counter(pairs), len(pairs))


def clear_feature_cache() -> None:
    """Forget cached paragraph features (benchmarks measure cold work with it)."""
    _features.cache_clear()


def _score(a: _Para, b: _Para) -> float:
    ratio = Indel.normalized_similarity(a.tokens, b.tokens)
    shorter, longer = (a, b) if len(a.tokens) <= len(b.tokens) else (b, a)
    if shorter.n_bigrams < MIN_BIGRAMS:
        return ratio
    # Containment finds the parts of a split or merge, which the ratio scores low. Weighted by how
    # much of the longer text the shorter covers, so that a part (half of a split: 0.75) never
    # outscores a full copy (1.0) and a short quote of a long paragraph stays near MATCH_MIN.
    cover = len(shorter.tokens) / max(1, len(longer.tokens))
    contained = _counter_containment(shorter.bigrams, shorter.n_bigrams, longer.bigrams)
    return max(ratio, contained * (0.5 + 0.5 * cover))


def pair_score(a_text: str, b_text: str) -> float:
    """Similarity of two paragraphs as the aligner sees it (step 1 of the algorithm)."""
    return _score(_Para.of(a_text), _Para.of(b_text))


def score_matrix(a: Sequence[str], b: Sequence[str]) -> list[list[float]]:
    pa, pb = [_Para.of(t) for t in a], [_Para.of(t) for t in b]
    return [[_score(x, y) for y in pb] for x in pa]


Group = tuple[list[int], list[int]]  # a unit being built: pivot indexes, variant indexes


def _part_of(part: _Para, whole: _Para) -> bool:
    """Could `part` be a piece of `whole` (most of its tokens occur in it)?"""
    return _counter_containment(part.unigrams, len(part.tokens), whole.unigrams) >= PART_MIN


def _two_to_one(whole: _Para, first: _Para, second: _Para) -> float:
    """Score of `whole` aligned to two neighbouring paragraphs together, -inf when they are not
    its two pieces: each must be mostly inside it, lengths must roughly add up, and together they
    must be measurably closer to it than either alone (so an added neighbour never joins)."""
    size = len(first.tokens) + len(second.tokens)
    if not 0.5 * len(whole.tokens) <= size <= 1.5 * len(whole.tokens):
        return NO_UNIT
    if not (_part_of(first, whole) and _part_of(second, whole)):
        return NO_UNIT
    together = Indel.normalized_similarity(whole.tokens, first.tokens + second.tokens)
    alone = max(
        Indel.normalized_similarity(whole.tokens, first.tokens),
        Indel.normalized_similarity(whole.tokens, second.tokens),
    )
    # A unit of two pieces explains two paragraphs: it weighs as two matches in the programme.
    return 2 * together if together - alone >= PART_GAIN else NO_UNIT


NO_UNIT = float("-inf")


def _monotone_units(
    pa: Sequence[_Para], pb: Sequence[_Para], scores: list[list[float]]
) -> list[Group]:
    """In-order units of highest total score: 1-1, 1-2 (split) and 2-1 (merge), gaps free.

    A dynamic programme over both prefixes, as in Gale and Church's sentence alignment: each cell
    takes the best of skipping a pivot paragraph, skipping a variant paragraph, or ending with a
    1-1 unit (score >= MATCH_MIN), a split or a merge (scored by `_two_to_one`).
    """
    n, m = len(pa), len(pb)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    step = [[(0, 0)] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        for j in range(m + 1):
            if i == 0 and j == 0:
                continue
            options = []
            if i and j and scores[i - 1][j - 1] >= MATCH_MIN:
                options.append((best[i - 1][j - 1] + scores[i - 1][j - 1], (1, 1)))
            if i and j > 1:
                unit = _two_to_one(pa[i - 1], pb[j - 2], pb[j - 1])
                options.append((best[i - 1][j - 2] + unit, (1, 2)))
            if i > 1 and j:
                unit = _two_to_one(pb[j - 1], pa[i - 2], pa[i - 1])
                options.append((best[i - 2][j - 1] + unit, (2, 1)))
            if i:
                options.append((best[i - 1][j], (1, 0)))
            if j:
                options.append((best[i][j - 1], (0, 1)))
            # max keeps the first of equal totals: units before skips, in the order listed
            best[i][j], step[i][j] = max(options, key=lambda o: o[0])
    units: list[Group] = []
    i, j = n, m
    while i or j:
        di, dj = step[i][j]
        if di and dj:
            units.append((list(range(i - di, i)), list(range(j - dj, j))))
        i, j = i - di, j - dj
    return units[::-1]


def _uncross(scores: list[list[float]], ordered: list[Group]) -> list[tuple[int, int]]:
    """Take out pairs of in-order 1-1 units that are really two moved paragraphs.

    The programme maximises the total score in order, so two look-alike pairs (0.55 + 0.6) can beat
    one exact copy whose partner moved (1.0). When crossing the two units scores more and both
    crossed pairs reach MOVE_MIN, they are taken out of `ordered` and returned crossed.
    """
    crossed: list[tuple[int, int]] = []
    singles = [k for k, (a, b) in enumerate(ordered) if len(a) == 1 and len(b) == 1]
    taken: set[int] = set()
    for x, k in enumerate(singles):
        for k2 in singles[x + 1 :]:
            if k in taken or k2 in taken:
                continue
            (i1,), (j1,) = ordered[k]
            (i2,), (j2,) = ordered[k2]
            now = scores[i1][j1] + scores[i2][j2]
            swapped = scores[i1][j2] + scores[i2][j1]
            if swapped > now and min(scores[i1][j2], scores[i2][j1]) >= MOVE_MIN:
                crossed += [(i1, j2), (i2, j1)]
                taken |= {k, k2}
    ordered[:] = [unit for k, unit in enumerate(ordered) if k not in taken]
    return crossed


def _better_partners(scores: list[list[float]], ordered: list[Group]) -> list[tuple[int, int]]:
    """Take out in-order 1-1 units whose paragraph has a clearly better partner elsewhere.

    A paragraph paired in order with a look-alike (0.75) while its exact copy was moved away (1.0):
    when a paragraph left free scores >= MOVE_MIN and beats the in-order partner by >= PART_GAIN,
    the unit is taken out of `ordered` and re-paired with it (the look-alike becomes free).
    """
    used_a = {i for a, _ in ordered for i in a}
    used_b = {j for _, b in ordered for j in b}
    free_a = [i for i in range(len(scores)) if i not in used_a]
    free_b = [j for j in range(len(scores[0])) if j not in used_b]
    repaired: list[tuple[int, int]] = []
    for k, (a, b) in enumerate(list(ordered)):
        if len(a) != 1 or len(b) != 1:
            continue
        i, j = a[0], b[0]
        bar = max(MOVE_MIN, scores[i][j] + PART_GAIN)
        options = [(scores[i][y], i, y) for y in free_b if scores[i][y] >= bar]
        options += [(scores[x][j], x, j) for x in free_a if scores[x][j] >= bar]
        if options:
            _, x, y = max(options, key=lambda o: (o[0], -o[1], -o[2]))
            repaired.append((x, y))
            ordered[k] = ([], [])
            free_a = [f for f in [*free_a, i] if f != x]
            free_b = [f for f in [*free_b, j] if f != y]
    ordered[:] = [unit for unit in ordered if unit[0]]
    return repaired


def _moves(scores: list[list[float]], units: list[Group]) -> list[tuple[int, int]]:
    used_a = {i for a, _ in units for i in a}
    used_b = {j for _, b in units for j in b}
    candidates = sorted(
        (-scores[i][j], i, j)
        for i in range(len(scores))
        if i not in used_a
        for j in range(len(scores[i]))
        if j not in used_b and scores[i][j] >= MOVE_MIN
    )
    found = []
    for _, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            found.append((i, j))
    return found


def _join_gain(whole: _Para, parts: list[int], candidate: int, paras: Sequence[_Para]) -> float:
    """How much closer `parts` + `candidate` get to the single paragraph `whole` (or -1)."""
    if not _part_of(paras[candidate], whole):
        return -1.0
    return _fit(whole, [*parts, candidate], paras) - _fit(whole, parts, paras)


def _fit(whole: _Para, parts: Sequence[int], paras: Sequence[_Para]) -> float:
    """Token ratio of `whole` to its pieces joined, in the piece order that fits best.

    Pieces may have been moved apart (the second half of a split printed first): up to three
    pieces every order is tried, beyond that their order in the variant is kept.
    """
    if not parts:
        return 0.0
    orders = permutations(sorted(parts)) if len(parts) <= 3 else [sorted(parts)]
    return max(
        Indel.normalized_similarity(whole.tokens, tuple(t for i in order for t in paras[i].tokens))
        for order in orders
    )


def _attach_parts(
    pa: Sequence[_Para], pb: Sequence[_Para], units: list[Group], free_a: set[int], free_b: set[int]
) -> None:
    """Grow 1-1 units into splits (variant side) and merges (pivot side), best gain first.

    Any free paragraph may join, wherever it is (a part can be moved away from its unit, or an
    insertion can sit between two parts). Best first, so a true part outbids a look-alike (an added
    sentence that reuses the paragraph's names); once the true parts have joined, the look-alike
    no longer adds anything.
    """
    while True:
        best: tuple[float, int, str, int] | None = None
        for k, (side_a, side_b) in enumerate(units):
            options: list[tuple[str, int, float]] = []
            if len(side_a) == 1:
                whole = pa[side_a[0]]
                options += [("b", j, _join_gain(whole, side_b, j, pb)) for j in sorted(free_b)]
            if len(side_b) == 1:
                whole = pb[side_b[0]]
                options += [("a", i, _join_gain(whole, side_a, i, pa)) for i in sorted(free_a)]
            for side, index, gain in options:
                if gain >= PART_GAIN and (best is None or gain > best[0]):
                    best = (gain, k, side, index)
        if best is None:
            return
        _, k, side, index = best
        if side == "b":
            units[k][1].append(index)
            free_b.discard(index)
        else:
            units[k][0].append(index)
            free_a.discard(index)


def _swap_parts(
    pa: Sequence[_Para], pb: Sequence[_Para], units: list[Group], free_a: set[int], free_b: set[int]
) -> None:
    """Drop a piece of a split or merge, or replace it by a free paragraph, that fits worse.

    The in-order programme only joins neighbours: when a look-alike insertion sits between the two
    pieces of a split it can take the second piece's place; and a piece joined before its unit's
    true copy was found may be superfluous. Each change must raise the unit's token ratio by
    PART_GAIN, so changes never go back and forth.
    """
    for side_a, side_b in units:
        if len(side_a) == 1 and len(side_b) > 1:
            _swap_in(pa[side_a[0]], side_b, free_b, pb)
        elif len(side_b) == 1 and len(side_a) > 1:
            _swap_in(pb[side_b[0]], side_a, free_a, pa)


def _swap_in(whole: _Para, parts: list[int], free: set[int], paras: Sequence[_Para]) -> None:
    """Drop a piece, or swap it for a free paragraph, while that raises the fit by PART_GAIN."""
    while True:
        now = _fit(whole, parts, paras)
        change = None
        for old in parts:
            rest = [p for p in parts if p != old]
            if _fit(whole, rest, paras) - now >= PART_GAIN:
                change = (old, None)
                break
            fits = (n for n in sorted(free) if _part_of(paras[n], whole))
            better = [n for n in fits if _fit(whole, [*rest, n], paras) - now >= PART_GAIN]
            if better:
                change = (old, better[0])
                break
        if change is None:
            return
        old, new = change
        parts.remove(old)
        free.add(old)
        if new is not None:
            parts.append(new)
            free.discard(new)
        parts.sort()


def _gap_rewrites(
    scores: list[list[float]], in_order: list[Group], free_a: set[int], free_b: set[int]
) -> list[Group]:
    """Lone free pivot and variant paragraphs between the same two consecutive in-order units."""
    n, m = len(scores), len(scores[0])
    spans = [(-1, -1, -1, -1)]
    spans += [(min(a), max(a), min(b), max(b)) for a, b in sorted(in_order, key=lambda u: u[0])]
    spans.append((n, n, m, m))
    found: list[Group] = []
    for before, after in zip(spans, spans[1:], strict=False):
        gap_a = [i for i in range(before[1] + 1, after[0]) if i in free_a]
        gap_b = [j for j in range(before[3] + 1, after[2]) if j in free_b]
        if len(gap_a) == 1 and len(gap_b) == 1 and scores[gap_a[0]][gap_b[0]] >= GAP_MIN:
            found.append(([gap_a[0]], [gap_b[0]]))
            free_a.discard(gap_a[0])
            free_b.discard(gap_b[0])
    return found


def unit_order(unit: AlignmentUnit) -> tuple[int, int]:
    """Pivot order; `added` units after every pivot paragraph, in variant order."""
    if unit.paragraphs_a:
        return (unit.paragraphs_a[0], unit.paragraphs_b[0] if unit.paragraphs_b else -1)
    return (10**9, unit.paragraphs_b[0])


def align_paragraphs(a: Sequence[str], b: Sequence[str]) -> list[AlignmentUnit]:
    """Units aligning variant b's paragraphs to pivot a's, ordered by pivot paragraph.

    Every paragraph of a and of b lies in exactly one unit.
    """
    if not a or not b:
        return [AlignmentUnit((i,), ()) for i in range(len(a))] + [
            AlignmentUnit((), (j,)) for j in range(len(b))
        ]
    pa, pb = [_Para.of(t) for t in a], [_Para.of(t) for t in b]
    scores = [[_score(x, y) for y in pb] for x in pa]
    ordered = _monotone_units(pa, pb, scores)
    moved = _uncross(scores, ordered)
    moved += _better_partners(scores, ordered)
    moved += _moves(scores, [*ordered, *(([i], [j]) for i, j in moved)])
    units = ordered + [([i], [j]) for i, j in moved]
    free_a = set(range(len(a))) - {i for x, _ in units for i in x}
    free_b = set(range(len(b))) - {j for _, y in units for j in y}
    _attach_parts(pa, pb, units, free_a, free_b)
    _swap_parts(pa, pb, units, free_a, free_b)
    units += _gap_rewrites(scores, ordered, free_a, free_b)
    result = [AlignmentUnit(tuple(sorted(x)), tuple(sorted(y))) for x, y in units]
    result += [AlignmentUnit((i,), ()) for i in sorted(free_a)]
    result += [AlignmentUnit((), (j,)) for j in sorted(free_b)]
    return sorted(result, key=unit_order)
