"""Stage `align`: each variant's paragraphs against its story's pivot.

Algorithm (ALIGN_VERSION "3"; described step by step in DATASET_CARD.md, section Alignment). Texts
are compared as their tokens (`normalize.tokens`: folded, lower-cased words).
1. Copies: a variant paragraph equal to a pivot paragraph (as text, else as tokens) is its copy;
   repeated paragraphs pair in order. The longest chain of copies in order on both sides (a longest
   increasing subsequence) are the *anchors*; the other copies are moved paragraphs.
2. Pair score of the other paragraphs (a_i, b_j): the larger of the token ratio (2 * LCS / (|a| +
   |b|) over tokens) and the share of the shorter side's word bigrams found in order in the longer
   (an LCS over bigrams) times (1 + cover) / 2, where cover is the shorter side's share of the
   longer side's tokens (bigrams are not used below MIN_BIGRAMS).
3. In order, between anchors: in each gap between two consecutive anchors (and before the first,
   after the last), a dynamic programme (as in Gale and Church's sentence alignment) picks the
   in-order units of highest total score: 1-1 (>= MATCH_MIN), 1-2 and 2-1 (a paragraph and its
   two neighbouring pieces, see `_two_to_one`), or a skipped paragraph.
4. Moves: pairs of paragraphs still free, in any order, best first, when they score >= MOVE_MIN
   (out of order there is no positional evidence, so the text must carry it).
5. More pieces (n-1 and 1-n by containment): a free paragraph, wherever it stands, joins a unit's
   side opposite a single paragraph when >= PART_MIN of its tokens lie in order inside that
   paragraph and joining raises the unit's fit (`_fit_codes`) by >= PART_GAIN; best gain first,
   until nothing joins. Then a piece is dropped, or swapped for a free paragraph, when that raises
   the fit by >= PART_GAIN.
6. Rewrites in place (position prior): between two consecutive in-order units (anchors and step 3
   units), the pivot and variant paragraphs still free are paired in order, highest total score
   first, when a pair scores >= GAP_MIN: a heavy rewrite kept in its place is likelier than a
   removal next to an unrelated addition.
7. Repeated paragraphs (equal texts on one side) are interchangeable: units that took them in
   crossed order are re-paired in order.
8. What is left is `removed` (pivot side) or `added` (variant side).
Cost: copies are found by hashing, so a verbatim syndicated copy costs no comparison at all; pair
scores are computed (in C, rapidfuzz `cdist`) for the other paragraphs only. The pivot's features
are prepared once per story: a story with n variants costs n - 1 alignments.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import permutations, repeat

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Indel

from newsvariants.normalize import clear_memos, token_tuple
from newsvariants.records import AlignmentUnit

ALIGN_VERSION = "3"
# Thresholds on the pair score (0..1). Measured on the seed pair: paragraphs of the same story
# that are NOT each other's version score at most 0.27, reworded versions at least 0.77.
MATCH_MIN = 0.5  # in order, a pair scoring below this is not one paragraph's two versions
MOVE_MIN = 0.75  # out of order there is no positional evidence, so the text must carry it
GAP_MIN = 0.3  # between the same two in-order units, a heavy rewrite is likelier than remove + add
PART_MIN = 0.8  # share of a part's tokens that must lie (in order) inside the whole
PART_GAIN = 0.05  # joining a part must make the unit's texts measurably closer
MIN_BIGRAMS = 3  # below this, bigram containment is chance ("of the") and is not used

# Tokens are compared as strings of one character per distinct token, so that rapidfuzz compares
# token sequences in C. Codes come from the pivot's vocabulary, in order of first occurrence
# (deterministic); a variant token the pivot lacks gets UNKNOWN, which occurs in no pivot text.
# Every comparison is pivot against variant, so UNKNOWN never matches anything.
_UNKNOWN = chr(0x10000)
_FIRST_CODE = 0x10001
_LAST_CODE = 0x10FFFF
# Word bigrams too are one character each: the pair of token indexes (first, second) numbered
# first * V + second, V = the pivot's vocabulary + 1 (the last index stands for UNKNOWN), in the
# 2**20 code points above the Basic Multilingual Plane (no surrogates). Exact while V * V fits,
# up to 1,023 distinct pivot tokens; beyond, numbers wrap around (mod 2**20), so a bigram the
# pivot lacks may share a code with one of its B bigrams, with probability B / 2**20 (under 1 %
# for a 10,000-word pivot): that can only raise a containment a little, deterministically.
_BIGRAM_BASE = 0x10000
_BIGRAM_SPAN = 0x110000 - _BIGRAM_BASE


def _codes(count: int) -> Iterator[str]:
    """`count` distinct code characters (C-speed `chr` over a range)."""
    if count <= _LAST_CODE - _FIRST_CODE + 1:
        return map(chr, range(_FIRST_CODE, _FIRST_CODE + count))
    # a pivot with more than a million distinct tokens wraps around: codes then collide, which
    # can only make unrelated tokens look alike (never breaks the partition of paragraphs)
    return (chr(_FIRST_CODE + k % (_LAST_CODE - _FIRST_CODE + 1)) for k in range(count))


def _vocabulary(items: Iterable[str]) -> dict[str, str]:
    """A code for every distinct item, in order of first occurrence (deterministic)."""
    distinct = dict.fromkeys(items)
    return dict(zip(distinct, _codes(len(distinct)), strict=True))


def _index(keys: Sequence[str]) -> dict[str, tuple[int, ...]]:
    found: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        found.setdefault(key, []).append(i)
    return {key: tuple(where) for key, where in found.items()}


@dataclass(frozen=True)
class _Pivot:
    """The pivot's paragraphs prepared once per story: lookups for copies and token codes."""

    texts: tuple[str, ...]
    codes: tuple[str, ...]  # one character per token
    by_text: Mapping[str, tuple[int, ...]]
    by_codes: Mapping[str, tuple[int, ...]]
    token_code: Mapping[str, str]

    # Bigrams are needed only when some paragraph is not a copy: computed then, once per story.
    @cached_property
    def bigrams(self) -> list[str]:
        """One character per word bigram, per paragraph."""
        return self.encode_bigrams(self.codes)

    def encode(self, text: str) -> str:
        """A variant paragraph's token codes in this pivot's vocabulary."""
        toks = token_tuple(text)
        return "".join(map(self.token_code.get, toks, repeat(_UNKNOWN, len(toks))))

    def encode_bigrams(self, codes: Sequence[str]) -> list[str]:
        """Bigram codes of paragraphs, from their token codes (one numpy pass for them all)."""
        joined = "".join(codes)
        if len(joined) < 2:
            return [""] * len(codes)
        size = len(self.token_code) + 1
        index = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        index -= _FIRST_CODE
        index[index < 0] = size - 1  # UNKNOWN
        numbers = (index[:-1] * size + index[1:]) % _BIGRAM_SPAN + _BIGRAM_BASE
        pairs = numbers.astype(np.uint32).tobytes().decode("utf-32-le")
        # pairs[k] is tokens k and k + 1 of the joined text: a paragraph's own are its first
        # len - 1 positions (the last one straddles into the next paragraph)
        found, start = [], 0
        for coded in codes:
            found.append(pairs[start : start + len(coded) - 1] if coded else "")
            start += len(coded)
        return found


# The pivot recurs in all n - 1 alignments of its story, which run one after the other: a few
# entries keep it prepared (and bound the memory).
@lru_cache(maxsize=8)
def _pivot(texts: tuple[str, ...]) -> _Pivot:
    toks = [token_tuple(text) for text in texts]
    token_code = _vocabulary(t for group in toks for t in group)
    codes = tuple("".join(map(token_code.__getitem__, t)) for t in toks)
    return _Pivot(texts, codes, _index(texts), _index(codes), token_code)


def clear_feature_cache() -> None:
    """Forget prepared pivots and memoized tokens (benchmarks measure cold work with it)."""
    _pivot.cache_clear()
    clear_memos()


# --- step 1: copies and anchors ------------------------------------------------------------------


def _copies(pivot: _Pivot, b: Sequence[str], codes: Mapping[int, str]) -> list[tuple[int, int]]:
    """(pivot, variant) pairs of equal paragraphs, by text, else by tokens (`codes`: the variant
    paragraphs not equal as text to a pivot paragraph); repeated paragraphs pair in order."""
    taken: set[int] = set()
    found: dict[int, int] = {}

    def take(j: int, candidates: tuple[int, ...]) -> None:
        i = next((i for i in candidates if i not in taken), None)
        if i is not None:
            taken.add(i)
            found[j] = i

    for j, text in enumerate(b):
        if j not in codes:
            take(j, pivot.by_text[text])
    for j, coded in sorted(codes.items()):
        if coded:  # paragraphs without a word are equal only as text
            take(j, pivot.by_codes.get(coded, ()))
    return [(found[j], j) for j in sorted(found)]


def _longest_chain(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest chain of pairs increasing on both sides (pairs sorted by variant index, each index
    used once): a longest increasing subsequence of the pivot indexes, O(k log k)."""
    tail_pivot: list[int] = []  # smallest pivot index ending a chain of each length
    tail_pair: list[int] = []
    before = [-1] * len(pairs)
    for k, (i, _) in enumerate(pairs):
        length = bisect_left(tail_pivot, i)
        before[k] = tail_pair[length - 1] if length else -1
        if length == len(tail_pivot):
            tail_pivot.append(i)
            tail_pair.append(k)
        else:
            tail_pivot[length], tail_pair[length] = i, k
    chain, k = [], tail_pair[-1] if tail_pair else -1
    while k >= 0:
        chain.append(pairs[k])
        k = before[k]
    return chain[::-1]


# --- step 2: pair scores -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scores:
    """Scores of pivot x variant paragraphs (zero for copies, which are never compared)."""

    a: Sequence[str]  # token codes of the pivot's paragraphs
    b: Sequence[str]  # token codes of the variant's paragraphs
    score: list[list[float]]  # [i][j]: pair score (step 2)
    ratio: list[list[float]]  # [i][j]: token ratio
    # Could one paragraph be a piece of the other: >= PART_MIN of its tokens lie, in order, in it?
    b_in_a: list[list[bool]]  # [i][j]: variant paragraph j inside pivot paragraph i
    a_in_b: list[list[bool]]  # [i][j]: pivot paragraph i inside variant paragraph j


_NEVER = float("inf")


def _distances(a: list[str], b: list[str]) -> list[list[int]]:
    return process.cdist(a, b, scorer=Indel.distance, dtype=np.int32, workers=1).tolist()


def _scores(pivot: _Pivot, b_codes: list[str], free_a: list[int], free_b: list[int]) -> _Scores:
    """Step 2 between the free paragraphs (the others stay 0: they are never looked at).

    The LCS comes from rapidfuzz's Indel distance (|a| + |b| - 2 LCS), computed in C for all
    pairs at once (`cdist`); the arithmetic per pair is plain Python, faster than numpy on the
    few paragraphs left once copies are taken. Nested lists: cheap element access later.
    """
    n, m = len(pivot.codes), len(b_codes)
    score, ratio = [[0.0] * m for _ in range(n)], [[0.0] * m for _ in range(n)]
    b_in_a, a_in_b = [[False] * m for _ in range(n)], [[False] * m for _ in range(n)]
    a, b = [pivot.codes[i] for i in free_a], [b_codes[j] for j in free_b]
    tokens = _distances(a, b)
    bigrams = _distances([pivot.bigrams[i] for i in free_a], pivot.encode_bigrams(b))
    len_b = [len(y) for y in b]
    # a paragraph without a token is inside nothing
    inside_b = [PART_MIN * size if size else _NEVER for size in len_b]
    for i, len_a, token_row, bigram_row in zip(free_a, map(len, a), tokens, bigrams, strict=True):
        score_i, ratio_i, b_in_a_i, a_in_b_i = score[i], ratio[i], b_in_a[i], a_in_b[i]
        inside_a = PART_MIN * len_a if len_a else _NEVER
        for j, size_b, inside, distance, bigram_distance in zip(
            free_b, len_b, inside_b, token_row, bigram_row, strict=True
        ):
            total = len_a + size_b
            common = (total - distance) // 2
            pair = ratio_i[j] = 2 * common / total if total else 0.0  # no token: nothing shared
            b_in_a_i[j] = common >= inside
            a_in_b_i[j] = common >= inside_a
            shorter, longer = (len_a, size_b) if len_a <= size_b else (size_b, len_a)
            if shorter <= MIN_BIGRAMS:  # fewer than MIN_BIGRAMS bigrams: the ratio alone
                score_i[j] = pair
                continue
            # bigram LCS over the shorter side's bigrams (a text of k tokens has k - 1).
            # Containment finds the parts of a split or merge, which the ratio scores low.
            # Weighted by how much of the longer text the shorter covers, so that a part (half
            # of a split: 0.75) never outscores a full copy (1.0) and a short quote of a long
            # paragraph stays near MATCH_MIN.
            weighted = (
                (total - 2 - bigram_distance) / (2 * (shorter - 1)) * (0.5 + 0.5 * shorter / longer)
            )
            score_i[j] = weighted if weighted > pair else pair
    return _Scores(pivot.codes, b_codes, score, ratio, b_in_a, a_in_b)


def pair_score(a_text: str, b_text: str) -> float:
    """Similarity of two paragraphs as the aligner sees it (step 2; a copy scores 1.0)."""
    pivot = _pivot((a_text,))
    coded = pivot.encode(b_text)
    if a_text == b_text or (coded and coded == pivot.codes[0]):
        return 1.0
    return _scores(pivot, [coded], [0], [0]).score[0][0]


# --- steps 3 and 6: in order, gap by gap ---------------------------------------------------------

Group = tuple[list[int], list[int]]  # a unit being built: pivot indexes, variant indexes
NO_UNIT = float("-inf")


def _fit_codes(whole: str, pieces: Sequence[str]) -> float:
    """Token ratio of `whole` to its pieces joined, in the piece order that fits best.

    Pieces may have been moved apart (the second half of a split printed first): up to three
    pieces every order is tried, beyond that the given order is kept.
    """
    if not pieces:
        return 0.0
    orders = permutations(pieces) if len(pieces) <= 3 else [tuple(pieces)]
    return max(Indel.normalized_similarity(whole, "".join(order)) for order in orders)


def _two_to_one(whole: str, first: str, second: str, alone: float) -> float:
    """Score of `whole` aligned to two neighbouring paragraphs together, -inf when they are not
    its two pieces: (the callers check that each is mostly inside it) lengths must roughly add
    up, and together they must be measurably closer to it than either alone (so an added
    neighbour never joins). `alone` is the better token ratio of the two by themselves."""
    size = len(first) + len(second)
    if not 0.5 * len(whole) <= size <= 1.5 * len(whole):
        return NO_UNIT
    together = Indel.normalized_similarity(whole, first + second)
    # A unit of two pieces explains two paragraphs: it weighs as two matches in the programme.
    return 2 * together if together - alone >= PART_GAIN else NO_UNIT


def _split_score(s: _Scores, i: int, j1: int, j2: int) -> float:
    if not (s.b_in_a[i][j1] and s.b_in_a[i][j2]):
        return NO_UNIT
    return _two_to_one(s.a[i], s.b[j1], s.b[j2], max(s.ratio[i][j1], s.ratio[i][j2]))


def _merge_score(s: _Scores, i1: int, i2: int, j: int) -> float:
    if not (s.a_in_b[i1][j] and s.a_in_b[i2][j]):
        return NO_UNIT
    return _two_to_one(s.b[j], s.a[i1], s.a[i2], max(s.ratio[i1][j], s.ratio[i2][j]))


# How a cell of the programme was reached; on equal totals the first in this order wins.
_ONE_ONE, _ONE_TWO, _TWO_ONE, _SKIP_A, _SKIP_B = range(5)
_STEPS = {_ONE_ONE: (1, 1), _ONE_TWO: (1, 2), _TWO_ONE: (2, 1), _SKIP_A: (1, 0), _SKIP_B: (0, 1)}


def _in_order(
    s: _Scores, ia: Sequence[int], jb: Sequence[int], floor: float, pieces: bool
) -> list[Group]:
    """In-order units of highest total score over two index lists (one gap).

    A dynamic programme over both prefixes, as in Gale and Church's sentence alignment: each cell
    takes the best of ending with a 1-1 unit (score >= floor) or, when `pieces`, a split or a merge
    of neighbours, or of skipping a pivot or a variant paragraph.
    """
    n, m = len(ia), len(jb)
    if not n or not m:
        return []
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    step = [[_SKIP_B] * (m + 1)] + [[_SKIP_A] * (m + 1) for _ in range(n)]
    for x in range(1, n + 1):
        i, here, above, how = ia[x - 1], best[x], best[x - 1], step[x]
        scores, b_inside, a_inside = s.score[i], s.b_in_a[i], s.a_in_b[i]
        a_before_inside = s.a_in_b[ia[x - 2]] if x > 1 else a_inside
        for y in range(1, m + 1):
            total, way = NO_UNIT, _SKIP_A
            j = jb[y - 1]
            pair = scores[j]
            if pair >= floor:
                total, way = above[y - 1] + pair, _ONE_ONE
            # (the containment flags first: most cells are no split or merge, and cheaply so)
            if pieces and y > 1 and b_inside[j] and b_inside[jb[y - 2]]:
                unit = above[y - 2] + _split_score(s, i, jb[y - 2], j)
                total, way = (unit, _ONE_TWO) if unit > total else (total, way)
            if pieces and x > 1 and a_inside[j] and a_before_inside[j]:
                unit = best[x - 2][y - 1] + _merge_score(s, ia[x - 2], i, j)
                total, way = (unit, _TWO_ONE) if unit > total else (total, way)
            if above[y] > total:
                total, way = above[y], _SKIP_A
            if here[y - 1] > total:
                total, way = here[y - 1], _SKIP_B
            here[y], how[y] = total, way
    units: list[Group] = []
    x, y = n, m
    while x or y:
        dx, dy = _STEPS[step[x][y]]
        if dx and dy:
            units.append((list(ia[x - dx : x]), list(jb[y - dy : y])))
        x, y = x - dx, y - dy
    return units[::-1]


def _gaps(
    in_order: Sequence[Group], n: int, m: int, free_a: set[int], free_b: set[int]
) -> list[tuple[list[int], list[int]]]:
    """Free pivot and variant paragraphs between consecutive in-order units (and at both ends)."""
    spans = sorted((min(a), max(a), min(b), max(b)) for a, b in in_order)
    spans.append((n, n, m, m))
    fa, fb = sorted(free_a), sorted(free_b)
    gaps = []
    last_a = last_b = -1
    for first_a, end_a, first_b, end_b in spans:
        gap_a = fa[bisect_right(fa, last_a) : bisect_left(fa, first_a)]
        gap_b = fb[bisect_right(fb, last_b) : bisect_left(fb, first_b)]
        if gap_a and gap_b:
            gaps.append((gap_a, gap_b))
        last_a, last_b = end_a, end_b
    return gaps


def _take(units: list[Group], found: list[Group], free_a: set[int], free_b: set[int]) -> None:
    for side_a, side_b in found:
        units.append((list(side_a), list(side_b)))
        free_a.difference_update(side_a)
        free_b.difference_update(side_b)


# --- step 4: moves -------------------------------------------------------------------------------


def _moves(s: _Scores, free_a: set[int], free_b: set[int]) -> list[Group]:
    """Free pairs scoring >= MOVE_MIN, best first (ties: pivot order, then variant order)."""
    candidates = sorted(
        (-s.score[i][j], i, j)
        for i in sorted(free_a)
        for j in sorted(free_b)
        if s.score[i][j] >= MOVE_MIN
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    found: list[Group] = []
    for _, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            found.append(([i], [j]))
    return found


# --- step 5: more pieces (splits and merges by containment) --------------------------------------


@dataclass(frozen=True)
class _Side:
    """One side of a unit seen from its single opposite paragraph `whole`."""

    whole: str  # token codes of the single paragraph
    codes: Sequence[str]  # token codes of the pieces' side
    may_join: Sequence[bool]  # per paragraph of the pieces' side: mostly inside `whole`?

    def fit(self, pieces: Sequence[int]) -> float:
        return _fit_codes(self.whole, [self.codes[k] for k in sorted(pieces)])


def _side_b(s: _Scores, i: int) -> _Side:
    """Variant paragraphs as pieces of pivot paragraph i (a split)."""
    return _Side(s.a[i], s.b, s.b_in_a[i])


def _side_a(s: _Scores, j: int) -> _Side:
    """Pivot paragraphs as pieces of variant paragraph j (a merge)."""
    return _Side(s.b[j], s.a, [row[j] for row in s.a_in_b])


def _attach_parts(s: _Scores, units: list[Group], free_a: set[int], free_b: set[int]) -> None:
    """Grow units into splits (variant side) and merges (pivot side), best gain first.

    Any free paragraph may join, wherever it is (a part can be moved away from its unit, or an
    insertion can sit between two parts). Best first, so a true part outbids a look-alike (an added
    sentence that reuses the paragraph's names); once the true parts have joined, the look-alike
    no longer adds anything.
    """
    while True:
        best: tuple[float, int, str, int] | None = None
        for k, (side_a, side_b) in enumerate(units):
            options: list[tuple[str, int, _Side, list[int], set[int]]] = []
            if len(side_a) == 1:
                options.append(("b", k, _side_b(s, side_a[0]), side_b, free_b))
            if len(side_b) == 1:
                options.append(("a", k, _side_a(s, side_b[0]), side_a, free_a))
            for name, _, side, pieces, free in options:
                joinable = [p for p in sorted(free) if side.may_join[p]]
                if not joinable:
                    continue
                now = side.fit(pieces)
                for p in joinable:
                    gain = side.fit([*pieces, p]) - now
                    if gain >= PART_GAIN and (best is None or gain > best[0]):
                        best = (gain, k, name, p)
        if best is None:
            return
        _, k, name, p = best
        if name == "b":
            units[k][1].append(p)
            free_b.discard(p)
        else:
            units[k][0].append(p)
            free_a.discard(p)


def _swap_parts(s: _Scores, units: list[Group], free_a: set[int], free_b: set[int]) -> None:
    """Drop a piece of a split or merge, or replace it by a free paragraph, that fits worse.

    The in-order programme only joins neighbours: when a look-alike insertion sits between the two
    pieces of a split it can take the second piece's place; and a piece joined before its unit's
    true copy was found may be superfluous. Each change must raise the unit's token ratio by
    PART_GAIN, so changes never go back and forth.
    """
    for side_a, side_b in units:
        if len(side_a) == 1 and len(side_b) > 1:
            swap_in(_side_b(s, side_a[0]), side_b, free_b)
        elif len(side_b) == 1 and len(side_a) > 1:
            swap_in(_side_a(s, side_b[0]), side_a, free_a)


def swap_in(side: _Side, pieces: list[int], free: set[int]) -> None:
    """Drop a piece, or swap it for a free paragraph, while that raises the fit by PART_GAIN."""
    while True:
        now = side.fit(pieces)
        change = None
        for old in sorted(pieces):
            rest = [p for p in pieces if p != old]
            if side.fit(rest) - now >= PART_GAIN:
                change = (old, None)
                break
            fits = (p for p in sorted(free) if side.may_join[p])
            better = [p for p in fits if side.fit([*rest, p]) - now >= PART_GAIN]
            if better:
                change = (old, better[0])
                break
        if change is None:
            return
        old, new = change
        pieces.remove(old)
        free.add(old)
        if new is not None:
            pieces.append(new)
            free.discard(new)
        pieces.sort()


# --- the whole -----------------------------------------------------------------------------------


def unit_order(unit: AlignmentUnit) -> tuple[int, int]:
    """Pivot order; `added` units after every pivot paragraph, in variant order."""
    if unit.paragraphs_a:
        return (unit.paragraphs_a[0], unit.paragraphs_b[0] if unit.paragraphs_b else -1)
    return (10**9, unit.paragraphs_b[0])


def _fuzzy_units(
    pivot: _Pivot, b_codes: list[str], anchors: list[Group], free_a: set[int], free_b: set[int]
) -> list[Group]:
    """Steps 2-6 on the paragraphs that are not copies; updates the free sets."""
    s = _scores(pivot, b_codes, sorted(free_a), sorted(free_b))
    n, m = len(pivot.codes), len(b_codes)
    units: list[Group] = []
    for gap_a, gap_b in _gaps(anchors, n, m, free_a, free_b):
        _take(units, _in_order(s, gap_a, gap_b, MATCH_MIN, pieces=True), free_a, free_b)
    in_order = [*anchors, *((list(x), list(y)) for x, y in units)]
    # (each step needs free paragraphs: a light edit of every paragraph ends after step 3)
    if free_a and free_b:
        _take(units, _moves(s, free_a, free_b), free_a, free_b)
    if free_a or free_b:
        _attach_parts(s, units, free_a, free_b)
    _swap_parts(s, units, free_a, free_b)
    if free_a and free_b:
        for gap_a, gap_b in _gaps(in_order, n, m, free_a, free_b):
            _take(units, _in_order(s, gap_a, gap_b, GAP_MIN, pieces=False), free_a, free_b)
    return units


def _repeats_in_order(units: list[Group], texts: Sequence[str], side: int) -> None:
    """Re-pair, in order, units whose only paragraph on `side` is a repeated text.

    Paragraphs of one side with the same text are interchangeable (every unit keeps its texts
    whichever it gets); copies pair repeats in order, but a repeat edited in one place and copied
    in another can leave two units crossing.
    """
    if len(set(texts)) == len(texts):
        return
    for where in _index(texts).values():
        members = [u for u in units if len(u[side]) == 1 and u[side][0] in where and u[1 - side]]
        if len(members) < 2:
            continue
        mine = sorted(u[side][0] for u in members)
        partners = sorted((list(u[1 - side]) for u in members), key=min)
        for unit, index, partner in zip(members, mine, partners, strict=True):
            unit[side][:] = [index]
            unit[1 - side][:] = partner


def align_paragraphs(a: Sequence[str], b: Sequence[str]) -> list[AlignmentUnit]:
    """Units aligning variant b's paragraphs to pivot a's, ordered by pivot paragraph.

    Every paragraph of a and of b lies in exactly one unit.
    """
    if list(a) == list(b):  # a verbatim copy (syndication): nothing to compare
        return [AlignmentUnit((i,), (i,)) for i in range(len(a))]
    pivot = _pivot(tuple(a))
    # only paragraphs that are not a pivot paragraph's text need tokens
    coded = {j: pivot.encode(t) for j, t in enumerate(b) if t not in pivot.by_text}
    copies = _copies(pivot, b, coded)
    units: list[Group] = [([i], [j]) for i, j in copies]
    free_a = set(range(len(a))) - {i for i, _ in copies}
    free_b = set(range(len(b))) - {j for _, j in copies}
    if free_a and free_b:
        b_codes = [""] * len(b)  # copies are never compared
        for j in free_b:  # (a repeated text whose pivot copies are all taken was not encoded)
            b_codes[j] = coded[j] if j in coded else pivot.encode(b[j])
        anchors = [([i], [j]) for i, j in _longest_chain(copies)]
        units += _fuzzy_units(pivot, b_codes, anchors, free_a, free_b)
    _repeats_in_order(units, a, 0)
    _repeats_in_order(units, b, 1)
    result = [AlignmentUnit(tuple(sorted(x)), tuple(sorted(y))) for x, y in units]
    result += [AlignmentUnit((i,), ()) for i in sorted(free_a)]
    result += [AlignmentUnit((), (j,)) for j in sorted(free_b)]
    return sorted(result, key=unit_order)
