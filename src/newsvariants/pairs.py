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
  among those sharing one of the query's rarest terms (an inverted-index search, see `nearest`),
  that is not a copy of the query (cosine below NEAR_COPY_COSINE: two stories may print one
  quote or wire paragraph, and that pair is not `unrelated`);
- `random_other`: a text of another story in the same split, chosen by hash: the split's texts
  stand on a ring by their hashes, and the query takes the first text of another story at or
  after its own hash, never the one `nearest_other` took (consistent hashing: a release that adds
  texts changes only the draws that a new text lands in front of, not all of them).
So the ratio is at most 3 negatives per paragraph positive (1 per kind) and 2 per document
positive; a negative drawn twice (e.g. the nearest text of a pivot paragraph aligned to several
variants, or two texts each other's nearest, drawn in both directions) is kept once, and a split
with a single story has no `*_other` negatives.
Sampling is deterministic: choices are ranked by SHA-256 of the pair key, never by a random seed,
and cost O(1) per positive for `random_other` and the postings of a few rare terms per distinct
query for `nearest_other`: linear in the split, not quadratic.

How it is computed at scale. Positives, `same_story` negatives and the hashed key of each positive
depend on one variant's alignment alone: `local_pairs` computes them next to the alignment (on
the workers, cached with it). The `*_other` negatives depend on the whole split and are drawn
once the split's alignments are in (`SplitPairs.finish`). A pair is held as a few numbers (its
64-bit pair ID, codes, and its two sides as *side codes*: a unit's pivot or variant side, a
paragraph, or a whole body); its texts are joined from the split's paragraph texts only when
its rows are written (`SplitTexts.table`), a row group at a time.
The nearest_other candidate search, the bulk of `finish`, is independent per query: given the
split's fitted pool (its postings), ranges of queries go to the runner's workers (`finish`'s
`mapper`, the same engine as the alignment) and their candidates are merged in query order, so
the pairs do not depend on the number of workers or on which worker finishes first. When the
pool's workers are up, a large split's document search goes whole to one of them while the driver
searches the paragraphs (`SplitPairs.finish`); which process searches never changes a result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from newsvariants import tfidf
from newsvariants.arrays import budget_ranges, sorted_unique
from newsvariants.label import POSITIVE_RELATIONS, RELATIONS
from newsvariants.records import Alignment

# 2: random_other drawn by hashed offset (O(1) per positive)
# 3: nearest_other searched through an inverted index of each query's rarest terms (linear)
# 4: a document positive's relation is label.document_relation, not its units' commonest relation
# 5: nearest_other never picks a copy of the query (TF-IDF cosine >= NEAR_COPY_COSINE)
# 6: random_other by consistent hashing and never nearest_other's pick; negatives unordered-unique
# 7: no negative whose two texts are also a positive's (the same pair of texts with both labels)
PAIRS_VERSION = "7"
NEAR_COPY_COSINE = 0.9
NEGATIVE_KINDS = ("same_story", "nearest_other", "random_other")
GRANULARITIES = ("paragraph", "document")
LABELS = ("same_source", "unrelated")  # codes 0 and 1 (the ClassLabel's own order differs)
# nearest_other search: the terms of a query that find candidates (its highest TF-IDF weights),
# how many candidates per query are scored exactly, and block sizes that bound memory.
QUERY_TERMS = 8
POSTINGS = 48  # impact-ordered postings cut to each term's best entries: bounded work per query
CANDIDATES = 16
QUERY_BLOCK = 1024  # (measured at 10k captures: blocks of 4096 searched ~1.5x slower)
RESCORE_BLOCK = 1 << 18
RESCORE_ENTRIES = 1 << 22  # ~0.1 GB of rows selected at once (a 100k build's documents: 0.45)
# Fewer distinct queries than this search in the driver: shipping the postings to running
# workers costs more than such a search takes. Where the workers would have to start first
# (~3 s for two, measured at 10k captures: a rebuild whose earlier stages came from the cache,
# or a pool stopped while the driver fits the split's TF-IDF), the search (~135 us per query)
# must be long enough to pay for that: 45k queries on two workers, so COLD_PARALLEL_QUERIES.
PARALLEL_QUERIES = 2048
COLD_PARALLEL_QUERIES = 50_000
# A split's document search goes whole to a running pool's worker from this many documents: the
# driver searches the paragraphs meanwhile (at 10k captures the train split's 8k documents take
# ~0.6 s, its paragraphs ~1 s). Below, the task's round trip is not worth it.
OFFLOAD_TEXTS = 2048

# Side codes: kind << SIDE_SHIFT | index. Split-wide, the index is an alignment row (UNIT_A,
# UNIT_B: its pivot or variant side), a paragraph of the split's variants in table order
# (PARAGRAPH) or a variant (DOCUMENT: its whole body). In `LocalPairs` the index is local to the
# aligned variant: its unit, its own paragraph j, or DOCUMENT 0 (the pivot) / 1 (itself).
UNIT_A, UNIT_B, PARAGRAPH, DOCUMENT = 0, 1, 2, 3
SIDE_SHIFT = 40
_INDEX = (1 << SIDE_SHIFT) - 1
PAIR_DTYPE = np.dtype(
    [
        ("key", "<u8"),  # the pair ID's 16 hex digits
        ("granularity", "i1"),
        ("label", "i1"),
        ("relation", "i1"),  # index in RELATIONS, -1 for negatives
        ("kind", "i1"),  # index in NEGATIVE_KINDS, -1 for positives
        ("a", "<i8"),
        ("b", "<i8"),
    ]
)
POSITIVE_DTYPE = np.dtype([("granularity", "i1"), ("a", "<i8"), ("offset", "<u8")])
_RELATION = {name: code for code, name in enumerate(RELATIONS)}
_KIND = {name: code for code, name in enumerate(NEGATIVE_KINDS)}


def side(kind: int, index: int) -> int:
    return kind << SIDE_SHIFT | index


def _hash(*parts: object) -> str:
    return _digest(*parts).hex()


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()


def _first_by_hash(key: str, options: Sequence[int]) -> int:
    """min(options, key=lambda x: _hash(key, x)), hashing the shared prefix once (raw digests
    compare as their hex strings do)."""
    prefix = hashlib.sha256(f"{key}\x1f".encode())
    best, best_digest = options[0], None
    for x in options:
        digest = prefix.copy()
        digest.update(str(x).encode())
        value = digest.digest()
        if best_digest is None or value < best_digest:
            best, best_digest = x, value
    return best


def pair_id(
    granularity: str,
    variant_a: str,
    paragraphs_a: Sequence[int],
    variant_b: str,
    paragraphs_b: Sequence[int],
    kind: str,
) -> str:
    """The published pair ID: its granularity, both sides and its kind (a positive: its
    relation) hashed."""
    pa_, pb_ = tuple(paragraphs_a), tuple(paragraphs_b)
    return "p-" + _hash(granularity, variant_a, pa_, variant_b, pb_, kind)[:16]


def _key(prefix: str, variant_b: str, paragraphs_b: tuple[int, ...], kind: str) -> int:
    """pair_id as a number, from the hashed prefix of its a side (see `_prefix`)."""
    text = f"{prefix}\x1f{variant_b}\x1f{paragraphs_b}\x1f{kind}"
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _prefix(granularity: str, variant_a: str, paragraphs_a: tuple[int, ...]) -> str:
    return f"{granularity}\x1f{variant_a}\x1f{paragraphs_a}"


def _offset(key: str) -> int:
    """Where random_other's walk through the hashed pool starts (modulo the pool's size)."""
    return int(_hash("offset", key)[:15], 16)


# --- what one aligned variant decides ---------------------------------------------------------


@dataclass(frozen=True)
class LocalPairs:
    """The pairs of one non-pivot variant that its alignment alone decides: a positive per unit
    whose relation is positive, with its same_story negative, and the document positive (side
    codes local to the variant). `positives` lists every positive (paragraph ones in unit order,
    then the document one) with the random_other offset of its key, and `prefixes` the hashed
    prefix (granularity, variant_a, paragraphs_a) of the pair IDs of its other negatives."""

    pairs: np.ndarray
    positives: np.ndarray
    prefixes: tuple[str, ...]


def local_pairs(
    pivot_id: str,
    pivot_paragraphs: int,
    other_id: str,
    other_paragraphs: int,
    units: Sequence[Alignment],
    doc_relation: str | None,
) -> LocalPairs:
    """`units`: the variant's alignment to its pivot (units in their published order, side codes
    refer to that order); `doc_relation`: the document positive's relation (label rule)."""
    aligned_b: dict[int, set[int]] = {}
    for al in units:
        if al.relation in POSITIVE_RELATIONS:
            for i in al.paragraphs_a:
                aligned_b.setdefault(i, set()).update(al.paragraphs_b)
    pairs: list[tuple[int, int, int, int, int, int, int]] = []
    positives: list[tuple[int, int, int]] = []
    prefixes: list[str] = []
    for row, al in enumerate(units):
        if al.relation not in POSITIVE_RELATIONS:
            continue
        a, b = tuple(al.paragraphs_a), tuple(al.paragraphs_b)
        prefix = _prefix("paragraph", pivot_id, a)
        unit_a, unit_b = side(UNIT_A, row), side(UNIT_B, row)
        pairs.append((_key(prefix, other_id, b, al.relation), 0, 0, _RELATION[al.relation], -1,
                      unit_a, unit_b))  # fmt: skip
        key = _hash("paragraph", pivot_id, a, other_id, b)
        taken = set().union(*(aligned_b.get(i, set()) for i in a))
        options = [j for j in range(other_paragraphs) if j not in taken]
        if options:
            j = _first_by_hash(key, options)
            pairs.append((_key(prefix, other_id, (j,), "same_story"), 0, 1, -1, _KIND["same_story"],
                          unit_a, side(PARAGRAPH, j)))  # fmt: skip
        positives.append((0, unit_a, _offset(key)))
        prefixes.append(prefix)
    if other_paragraphs and doc_relation is not None:
        a, b = tuple(range(pivot_paragraphs)), tuple(range(other_paragraphs))
        prefix = _prefix("document", pivot_id, a)
        doc_a = side(DOCUMENT, 0)
        pairs.append((_key(prefix, other_id, b, doc_relation), 1, 0, _RELATION[doc_relation], -1,
                      doc_a, side(DOCUMENT, 1)))  # fmt: skip
        positives.append((1, doc_a, _offset(_hash("document", pivot_id, a, other_id, b))))
        prefixes.append(prefix)
    return LocalPairs(
        np.array(pairs, dtype=PAIR_DTYPE),
        np.array(positives, dtype=POSITIVE_DTYPE),
        tuple(prefixes),
    )


# --- a split's texts, and pair rows made from them -----------------------------------------------


def _gather(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """values[starts[k] : starts[k] + lengths[k]] for every k, concatenated (one numpy pass)."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=values.dtype)
    begin = np.cumsum(lengths) - lengths
    return values[np.repeat(starts - begin, lengths) + np.arange(total)]


@dataclass
class SplitTexts:
    """The split's variants (table order: story, then variant ID) and alignment rows, as the
    numbers and texts that pair sides are made from."""

    variant_ids: pa.Array  # string, per variant
    story_ids: pa.Array  # string, per variant
    story_code: np.ndarray  # per variant: its story's index (equal codes = same story)
    first: np.ndarray  # per variant: its first paragraph's index (and the total at the end)
    texts: pa.Array  # string, every paragraph of the split
    unit_variant: tuple[np.ndarray, np.ndarray]  # per alignment row: variant_a, variant_b
    unit_offsets: tuple[np.ndarray, np.ndarray]  # per alignment row: paragraphs_a/_b offsets
    unit_values: tuple[np.ndarray, np.ndarray]  # ... and values (paragraph indexes)

    @classmethod
    def empty_units(cls) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)

    def owner(self, paragraphs: np.ndarray) -> np.ndarray:
        """The variant of each (split-wide) paragraph index."""
        return np.searchsorted(self.first, paragraphs, side="right") - 1

    def sides(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(variant, list offsets, paragraph indexes within the variant) of each side code."""
        kind, index = codes >> SIDE_SHIFT, codes & _INDEX
        variant = np.zeros(len(codes), dtype=np.int64)
        lengths = np.zeros(len(codes), dtype=np.int64)
        starts = np.zeros(len(codes), dtype=np.int64)
        for k in (UNIT_A, UNIT_B):
            rows = kind == k
            offsets = self.unit_offsets[k]
            variant[rows] = self.unit_variant[k][index[rows]]
            starts[rows] = offsets[index[rows]]
            lengths[rows] = offsets[index[rows] + 1] - offsets[index[rows]]
        para = kind == PARAGRAPH
        variant[para] = self.owner(index[para])
        lengths[para] = 1
        doc = kind == DOCUMENT
        variant[doc] = index[doc]
        lengths[doc] = self.first[index[doc] + 1] - self.first[index[doc]]
        # gathered per kind, then put back in row order
        values = np.zeros(int(lengths.sum()), dtype=np.int64)
        offsets = np.r_[0, np.cumsum(lengths)]
        where = np.repeat(np.arange(len(codes)), lengths)
        for k in (UNIT_A, UNIT_B):
            rows = np.flatnonzero(kind == k)
            put = np.isin(where, rows) if len(rows) < len(codes) else slice(None)
            values[put] = _gather(self.unit_values[k], starts[rows], lengths[rows])
        rows = np.flatnonzero(para)
        values[np.isin(where, rows)] = index[rows] - self.first[variant[rows]]
        rows = np.flatnonzero(doc)
        values[np.isin(where, rows)] = _gather(
            np.arange(int(self.first[-1]) + 1), np.zeros(len(rows), dtype=np.int64), lengths[rows]
        )
        return variant, offsets, values

    def join(self, variant: np.ndarray, offsets: np.ndarray, values: np.ndarray) -> pa.Array:
        """The texts of sides: their paragraphs joined by a blank line, as `Side.join` does."""
        where = np.repeat(self.first[variant], np.diff(offsets)) + values
        taken = pc.take(self.texts, pa.array(where))
        lists = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), taken)
        return pc.binary_join(lists, "\n\n")

    def text_of(self, codes: np.ndarray) -> pa.Array:
        return self.join(*self.sides(codes))

    def describe(self, codes: np.ndarray) -> pa.Array:
        """f"{variant ID}\x1f{paragraphs}" of each side, the paragraphs as Python prints their
        tuple ("(3,)", "(0, 1)"): a side as pair IDs hash it. Built by Arrow kernels: as Python
        tuples and f-strings, a 10k-capture build spent ~0.4 s on the sides it hashed."""
        variant, offsets, values = self.sides(codes)
        numbers = pa.array(values, pa.int64()).cast(pa.string())
        inner = pc.binary_join(
            pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), numbers), ", "
        )
        close = pa.array(np.where(np.diff(offsets) == 1, ",)", ")"), pa.string())
        tuples = pc.binary_join_element_wise("(", inner, close, "")
        return pc.binary_join_element_wise(
            pc.take(self.variant_ids, pa.array(variant)), tuples, "\x1f"
        )

    def table(self, pairs: np.ndarray, schema: pa.Schema, label_ids: Sequence[int]) -> pa.Table:
        """Rows of the `pairs` config (with `schema`) for `pairs` (PAIR_DTYPE, split-wide sides);
        label_ids: the ClassLabel integer of each of LABELS."""
        columns: dict[str, pa.Array] = {
            "pair_id": pa.array([f"p-{key:016x}" for key in pairs["key"].tolist()], pa.string()),
            "granularity": pc.take(pa.array(GRANULARITIES), pa.array(pairs["granularity"])),
            "label": pa.array(np.asarray(label_ids, dtype=np.int64)[pairs["label"]]),
            "relation": _names(RELATIONS, pairs["relation"]),
            "negative_kind": _names(NEGATIVE_KINDS, pairs["kind"]),
        }
        for name in ("a", "b"):
            variant, offsets, values = self.sides(pairs[name])
            columns[f"text_{name}"] = self.join(variant, offsets, values)
            columns[f"story_{name}"] = pc.take(self.story_ids, pa.array(variant))
            columns[f"variant_{name}"] = pc.take(self.variant_ids, pa.array(variant))
            columns[f"paragraphs_{name}"] = pa.ListArray.from_arrays(
                pa.array(offsets.astype(np.int32)), pa.array(values, pa.int64())
            )
        arrays = [columns[f.name].cast(f.type) for f in schema]
        return pa.Table.from_arrays(arrays, schema=schema)


def _names(names: Sequence[str], codes: np.ndarray) -> pa.Array:
    """names[code] per code, null where the code is -1."""
    return pc.take(pa.array(list(names)), pa.array(codes.astype(np.int64), mask=codes < 0))


# --- a split's pairs ---------------------------------------------------------------------------


class SplitPairs:
    """The pairs of one split, gathered while its alignments stream in (`add`), completed with
    the negatives drawn from the whole split (`finish`)."""

    # Variants whose local side codes are made split-wide at once: numpy's cost per call (~2 us
    # an operation) paid per variant was ~1.8 s of the driver's time at 10k captures.
    BATCH = 1024

    def __init__(self, first: np.ndarray) -> None:
        self.first = first
        self.pairs: list[np.ndarray] = []
        self.positives: list[np.ndarray] = []
        self.prefixes: list[str] = []
        self._waiting: list[tuple[LocalPairs, int, int, int]] = []

    def globalise(
        self, codes: np.ndarray, row: np.ndarray, pivot: np.ndarray, other: np.ndarray
    ) -> np.ndarray:
        """Local side codes (see LocalPairs) as split-wide ones; for each code, its variant's
        units start at alignment row `row`, and `pivot` and `other` are the split's indexes of
        its variant's pivot and of the variant itself (arrays as long as `codes`, or numbers)."""
        kind, index = codes >> SIDE_SHIFT, codes & _INDEX
        index = np.where(kind <= UNIT_B, index + row, index)
        index = np.where(kind == PARAGRAPH, index + self.first[other], index)
        index = np.where(kind == DOCUMENT, np.where(index == 0, pivot, other), index)
        return kind << SIDE_SHIFT | index

    def add(self, local: LocalPairs, row: int, pivot: int, other: int) -> None:
        """One variant's local pairs; its units start at alignment row `row`, `pivot` and
        `other` are the split's indexes of its pivot and of itself."""
        self._waiting.append((local, row, pivot, other))
        self.prefixes += local.prefixes
        if len(self._waiting) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._waiting:
            return
        places = np.array([place for _, *place in self._waiting], dtype=np.int64).reshape(-1, 3)
        for name, out in (("pairs", self.pairs), ("positives", self.positives)):
            parts = [getattr(local, name) for local, *_ in self._waiting]
            values = np.concatenate(parts)
            owner = np.repeat(np.arange(len(parts)), [len(part) for part in parts])
            row, pivot, other = places[owner].T
            for side_name in ("a", "b") if name == "pairs" else ("a",):
                values[side_name] = self.globalise(values[side_name], row, pivot, other)
            out.append(values)
        self._waiting.clear()

    def finish(self, texts: SplitTexts, mapper: Any = None, workers: int = 1) -> np.ndarray:
        """Every pair of the split (PAIR_DTYPE), sorted by pair ID, each pair ID once.

        `mapper` (an executor Mapper, with its number of `workers`) runs the nearest_other
        candidate search; None searches in this process. The pairs are the same either way."""
        self._flush()
        positives = (
            np.concatenate(self.positives) if self.positives else np.zeros(0, POSITIVE_DTYPE)
        )
        found = list(self.pairs)
        order = np.argsort(texts.variant_ids.to_numpy(zero_copy_only=False), kind="stable")
        counts = np.diff(texts.first)
        paragraph_pool = _gather(np.arange(int(texts.first[-1])), texts.first[order], counts[order])
        document_pool = order[counts[order] > 0]
        pools = [side(PARAGRAPH, 0) + paragraph_pool, side(DOCUMENT, 0) + document_pool]
        asked = [np.flatnonzero(positives["granularity"] == g) for g in range(len(GRANULARITIES))]
        queries = [positives["a"][which] for which in asked]
        # The documents' search goes whole to a worker, started first, when the pool is up and
        # the split large enough; this process searches the paragraphs meanwhile, their
        # candidate search included: shipping the postings to the pool's other worker cost
        # more than that search (10k captures: 0.3-0.8 s of waiting, 0.2 s searched here).
        offload = (
            mapper is not None
            and workers > 1
            and mapper.running
            and len(queries[1]) > 0
            and len(pools[1]) >= OFFLOAD_TEXTS
        )
        documents = _nearest_search(texts, queries[1], pools[1], mapper, workers, offload)
        paragraph_mapper = None if offload else mapper
        near = [_nearest_search(texts, queries[0], pools[0], paragraph_mapper, workers), documents]
        for granularity, which in enumerate(asked):
            found.append(
                _other_negatives(
                    texts,
                    positives[which],
                    [self.prefixes[i] for i in which.tolist()],
                    granularity,
                    pools[granularity],
                    near[granularity],
                )
            )
        pairs = np.concatenate(found) if found else np.zeros(0, PAIR_DTYPE)
        pairs = pairs[np.argsort(pairs["key"], kind="stable")]
        first = np.r_[True, pairs["key"][1:] != pairs["key"][:-1]][: len(pairs)]
        return _distinct_negatives(pairs[first], texts)


def _stories_of(texts: SplitTexts, codes: np.ndarray) -> np.ndarray:
    """The story code of each side."""
    variant, _, _ = texts.sides(codes)
    return texts.story_code[variant]


def _nearest_search(
    texts: SplitTexts,
    queries: np.ndarray,
    pool: np.ndarray,
    mapper: Any,
    workers: int,
    offload: bool = False,
) -> Callable[[], np.ndarray]:
    """`nearest` of the `queries` in the `pool` (side codes), as a call that returns it. With
    `offload`, the whole search starts now on one of the mapper's workers
    (`_nearest_on_worker`) and the call waits for it; otherwise it runs when called, here (its
    candidate search on `mapper`, if any)."""
    if not len(queries) or not len(pool):
        return lambda: np.full(len(queries), -1, dtype=np.int64)
    # each side's text once: a document query is its story's pivot, asked by each other variant
    # (a 100k-capture train split: 64k queries, 13k sides, 0.1 GB of their texts)
    asked, which = np.unique(queries, return_inverse=True)

    def arguments() -> tuple[pa.Array, np.ndarray, pa.Array, np.ndarray]:
        return (
            texts.text_of(asked),
            _stories_of(texts, asked),
            texts.text_of(pool),
            _stories_of(texts, pool),
        )

    if offload:
        found = _nearest_on_worker(*arguments(), mapper)
        return lambda: found()[which]
    return lambda: nearest(*arguments(), mapper, workers)[which]


def _nearest_on_worker(
    queries: pa.Array,
    query_story: np.ndarray,
    pool: pa.Array,
    pool_story: np.ndarray,
    mapper: Any,
) -> Callable[[], np.ndarray]:
    """`nearest` as one task on `mapper`, started now; the returned call waits for its result.
    The task carries each distinct (text, story) of the pool and of the queries once (`nearest`
    scores only those): ~2 MB for the ~1.2k distinct queries and ~8k documents of a
    10k-capture train split, whose search takes ~0.6 s."""
    entries, _ = distinct_first(pool, pool_story)
    asked, which = distinct_first(queries, query_story)
    task = (
        pc.take(queries, pa.array(asked)),
        query_story[asked],
        pc.take(pool, pa.array(entries)),
        pool_story[entries],
    )
    # A generator, not a list: PoolMapper runs short sequences in-process.
    results = mapper.map(nearest_tasks, ([task] for _ in range(1)))

    def result() -> np.ndarray:
        best = next(results)[0]  # an index among the distinct entries, or -1
        return np.where(best >= 0, entries[np.maximum(best, 0)], -1)[which]

    return result


def nearest_tasks(chunk: list[tuple[pa.Array, np.ndarray, pa.Array, np.ndarray]]) -> list[Any]:
    """Worker side of `_nearest_on_worker` (module level: pickled to the pool)."""
    return [nearest(*task) for task in chunk]


def _other_negatives(
    texts: SplitTexts,
    positives: np.ndarray,
    prefixes: list[str],
    granularity: int,
    pool: np.ndarray,
    search: Callable[[], np.ndarray],
) -> np.ndarray:
    """nearest_other and random_other negatives of one granularity's positives; `pool`: side
    codes of every text of the split, in pool order (variants by ID, then paragraph order);
    `search`: the nearest_other entry of each positive (`_nearest_search`)."""
    if len(positives) == 0 or len(pool) == 0:
        return np.zeros(0, PAIR_DTYPE)
    near = search()
    pool_story = _stories_of(texts, pool)
    query_story = _stories_of(texts, positives["a"])
    drawn = random_other(
        _order_keys(texts, pool), pool_story, positives["offset"], query_story, exclude=near
    )
    # Only the chosen entries are described (a whole 100k-capture pool as Python tuples: ~0.2 GB).
    chosen_entries = sorted_unique(np.concatenate([near[near >= 0], drawn[drawn >= 0]]))
    described = texts.describe(pool[chosen_entries])
    prefix_of = pa.array(prefixes, pa.string())
    found: list[np.ndarray] = []
    for kind, chosen in (("nearest_other", near), ("random_other", drawn)):
        queries = np.flatnonzero(chosen >= 0)
        entries = chosen[queries]
        rows = np.zeros(len(queries), dtype=PAIR_DTYPE)
        rows["key"] = _keys(
            pc.take(prefix_of, pa.array(queries)),
            pc.take(described, pa.array(np.searchsorted(chosen_entries, entries))),
            kind,
        )
        rows["granularity"], rows["label"], rows["relation"] = granularity, 1, -1
        rows["kind"] = _KIND[kind]
        rows["a"], rows["b"] = positives["a"][queries], pool[entries]
        found.append(rows)
    return np.concatenate(found)


def _keys(prefixes: pa.Array, described: pa.Array, kind: str) -> np.ndarray:
    """`_key` of each (a side's hashed prefix, the b side as `SplitTexts.describe` gives it)."""
    texts = pc.binary_join_element_wise(prefixes, described, kind, "\x1f")
    return _digest_heads(texts).astype(np.uint64)


def _digests(texts: pa.Array) -> list[bytes]:
    """The SHA-256 digest of each (UTF-8) text."""
    sha256 = hashlib.sha256
    return [sha256(text).digest() for text in texts.cast(pa.binary()).to_pylist()]


def _digest_heads(texts: pa.Array) -> np.ndarray:
    """The first 8 bytes of the SHA-256 of each (UTF-8) text, as big-endian numbers."""
    return np.frombuffer(b"".join([d[:8] for d in _digests(texts)]), dtype=">u8")


def _order_keys(texts: SplitTexts, pool: np.ndarray, block: int = 1 << 16) -> list[bytes]:
    """random_other's hashed order of the pool entries (SHA-256 digests of
    `_digest("order", variant ID, paragraphs)`), described a block at a time."""
    found: list[bytes] = []
    for start in range(0, len(pool), block):
        described = texts.describe(pool[start : start + block])
        found += _digests(pc.binary_join_element_wise("order", described, "\x1f"))
    return found


def random_other(
    order_keys: Sequence[bytes],
    pool_story: np.ndarray,
    offsets: np.ndarray,
    query_story: np.ndarray,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """For each query, a pool entry of another story (-1 when there is none): the pool on a ring in
    hashed order (`order_keys`, SHA-256 digests), entered where the query's `offset` (60 bits of
    its own hash) falls among the digests' first 60 bits, walked forward to the first text of
    another story that is not the query's `exclude` entry (its nearest_other pick).

    Entering by hash value and not by position (offset % len(pool)) is what keeps the draws when
    texts are added: a draw changes only if a new text lands between the query's point and the
    text it drew (consistent hashing); by position, every draw moved when the pool grew (99% of
    random_other pairs changed after adding 60 stories to 300).

    The walk is O(1) per query in practice (it skips at most the texts of the query's own story,
    which the hashed order scatters); all queries take their steps together, one numpy pass per
    step."""
    n = len(order_keys)
    found = np.full(len(offsets), -1, dtype=np.int64)
    if n == 0 or len(offsets) == 0:
        return found
    digests = np.frombuffer(b"".join(order_keys), dtype=">u8")
    words = digests.reshape(n, -1)
    order = np.lexsort(words.T[::-1])  # by the whole digest (as its hex string sorts)
    ordered_story = pool_story[order]
    points = words[order, 0].astype(np.uint64) >> np.uint64(4)  # 60 bits, as offsets have
    start = np.searchsorted(points, offsets.astype(np.uint64), side="left").astype(np.int64)
    skip = np.full(len(offsets), -1, dtype=np.int64) if exclude is None else exclude
    todo = np.arange(len(offsets))
    for step in range(n):
        candidate = (start[todo] + step) % n
        entry = order[candidate]
        other = (ordered_story[candidate] != query_story[todo]) & (entry != skip[todo])
        found[todo[other]] = entry[other]
        todo = todo[~other]
        if len(todo) == 0:
            break
    return found


def _distinct_negatives(pairs: np.ndarray, texts: SplitTexts) -> np.ndarray:
    """The pairs (sorted by pair ID) with their negatives made distinct:
    - one negative per pair of sides, in either order (B, the nearest text of A, may have A as
      its own nearest): the one with the smaller pair ID stays;
    - no negative whose two texts (in either order) are also a positive's. Two stories can print
      one paragraph word for word (a quote, a wire sentence that clustering did not take for a
      shared source); a negative drawn from the other story's copy then held the same two texts
      as a positive of the first story, with the opposite label (2 pairs of texts in ~200k rows
      of a generated 10k-capture corpus): no model can get both right."""
    if len(pairs) == 0:
        return pairs
    negative = pairs["label"] == 1
    one_a, one_b = _one_paragraph(texts, pairs["a"]), _one_paragraph(texts, pairs["b"])
    paragraph_index = np.arange(int(texts.first[-1]))
    sides = _row_codes(_unordered_sides(pairs, one_a, one_b, paragraph_index))
    _, first = np.unique(sides[negative], return_index=True)  # first occurrences: stable
    keep = ~negative
    keep[np.flatnonzero(negative)[first]] = True
    text_ids = pc.dictionary_encode(texts.texts).indices.to_numpy(zero_copy_only=False)
    texts_of = _row_codes(_unordered_sides(pairs, one_a, one_b, text_ids.astype(np.int64)))
    keep &= ~(negative & np.isin(texts_of, texts_of[~negative]))
    return pairs[keep]


def _row_codes(rows: np.ndarray) -> np.ndarray:
    """A number per row of a 2-D int64 array, equal for equal rows and only for them (the row's
    rank among the distinct rows). One lexsort of the columns: numpy's unique(axis=0) and isin of
    rows viewed as bytes sort them as void items, ~3x slower (0.13 s a call at 10k captures)."""
    codes = np.zeros(len(rows), dtype=np.int64)
    if len(rows) == 0:
        return codes
    order = np.lexsort(rows.T[::-1])
    ordered = rows[order]
    codes[order] = np.cumsum(np.r_[False, (ordered[1:] != ordered[:-1]).any(axis=1)])
    return codes


def _one_paragraph(texts: SplitTexts, codes: np.ndarray) -> np.ndarray:
    """The split-wide index of the paragraph each side is, when it is one paragraph (a query's
    unit side and a pool paragraph name one paragraph with different codes), else -1."""
    variant, offsets, values = texts.sides(codes)
    single = np.diff(offsets) == 1
    paragraph = texts.first[variant] + values[offsets[:-1].clip(max=len(values) - 1)]
    return np.where(single, paragraph, -1)


def _unordered_sides(
    pairs: np.ndarray, one_a: np.ndarray, one_b: np.ndarray, identity: np.ndarray
) -> np.ndarray:
    """(granularity, smaller side, larger side) of each pair, a side as one number: the
    `identity` of its paragraph (split-wide paragraph index -> a number: the index itself, or
    its text's) when it is one paragraph (`_one_paragraph`), else -1 - its code."""
    a = np.where(one_a >= 0, identity[one_a.clip(min=0)], -1 - pairs["a"].astype(np.int64))
    b = np.where(one_b >= 0, identity[one_b.clip(min=0)], -1 - pairs["b"].astype(np.int64))
    return np.stack([pairs["granularity"], np.minimum(a, b), np.maximum(a, b)], axis=1)


def nearest(
    queries: Sequence[str] | pa.Array,
    query_story: np.ndarray,
    pool: Sequence[str] | pa.Array,
    pool_story: np.ndarray,
    mapper: Any = None,
    workers: int = 1,
) -> np.ndarray:
    """For each query (a text and its story's code), the index of the most similar text (TF-IDF
    cosine) of the pool from another story, among the candidates found through the query's
    QUERY_TERMS rarest terms; -1 when it shares none of its rare terms with another story.

    An inverted-index search instead of comparing each query with the whole pool (which is
    quadratic: 211 s of a 10k-capture build, days at 1M): the query's highest-weighted terms are
    its rare ones (names, places, numbers), their postings are short, so a sparse product of the
    pruned queries with the pool finds the candidates in time proportional to those postings.
    The best CANDIDATES per query (by that partial score) are then scored exactly, and the best
    exact score below NEAR_COPY_COSINE wins, ties going to the first text in pool order.
    Identical (text, story) entries of the pool and identical (text, story) queries are scored
    once. Each term's postings are cut
    to its POSTINGS highest-weighted entries (impact ordering), so the work per query is bounded
    even where "rare" terms are common (small vocabularies, names that recur across stories).

    Texts stay in Arrow (`tfidf`: scikit-learn's TF-IDF weights, by Arrow and numpy kernels): a
    100k-capture split has ~600k pool paragraphs, which as Python strings and dictionary keys
    held ~0.5 GB at once.

    The candidate search runs on `mapper` (see `_candidates`) when given; the vectorizer, the
    postings and the exact rescoring run here (the workers get the postings and pruned queries
    only: small).
    """
    if not len(queries) or not len(pool):
        return np.full(len(queries), -1, dtype=np.int64)
    queries, pool = _arrow_strings(queries), _arrow_strings(pool)
    entries, _ = distinct_first(pool, pool_story)  # each distinct (text, story) of the pool once
    entry_story = pool_story[entries].astype(np.int64)
    asked, which = distinct_first(queries, query_story)
    distinct_story = query_story[asked].astype(np.int64)

    # the driver tokenises on as many threads as the build has workers (idle meanwhile)
    threads = max(1, workers)
    model, matrix = tfidf.fit_transform(pc.take(pool, pa.array(entries)), threads=threads)
    query_matrix = model.transform(pc.take(queries, pa.array(asked)), threads=threads)
    postings = _top_terms(matrix.T.tocsr(), POSTINGS)  # term -> its POSTINGS best entries
    pruned = _top_terms(query_matrix, QUERY_TERMS)
    candidates = _candidates(pruned, postings, distinct_story, entry_story, mapper, workers)
    best = _rescore(query_matrix, matrix, candidates)
    chosen = np.where(best >= 0, entries[np.maximum(best, 0)], -1)
    return chosen[which]


def _arrow_strings(texts: Sequence[str] | pa.Array) -> pa.Array:
    return texts if isinstance(texts, pa.Array) else pa.array(list(texts), pa.string())


def distinct_first(texts: pa.Array, story: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, which) of the distinct (text, story) pairs: `first`, the index of each one's first
    occurrence, in order of first occurrence; `which`, for each item, its pair's position in
    `first`. Equal texts are found by Arrow's hash table, not by Python dictionary keys."""
    codes = pc.dictionary_encode(texts).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    stories = np.asarray(story, dtype=np.int64)
    keys = codes * (int(stories.max(initial=0)) + 1) + stories
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[inverse.reshape(-1)]


def _top_terms(matrix: Any, keep: int) -> Any:
    """The matrix with only each row's `keep` largest weights (ties: the lower term index).

    A row of at most `keep` entries keeps them all; a row of up to `_SORTED_ROW_LARGEST` entries
    (a query's terms) gets its `keep` best from one partition of all such rows laid out as a grid
    (`_best_of_rows`; a three-key sort of their entries took ~4x longer); a longer row (a
    common term's postings: most of the entries at 100k captures) gets its `keep`-th largest
    weight from a partition of its own, linear in its length, not a grid row that wide."""
    from scipy.sparse import csr_matrix

    lengths = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    kept = lengths[rows] <= keep
    sorted_rows = (lengths[rows] > keep) & (lengths[rows] <= _SORTED_ROW_LARGEST)
    if sorted_rows.any():
        entries = np.flatnonzero(sorted_rows)
        owner = rows[entries]  # renumbered from 0: a row of `_best_of_rows`'s grid each
        local = np.cumsum(np.r_[False, owner[1:] != owner[:-1]])
        best = _best_of_rows(local, matrix.indices[entries], matrix.data[entries], keep)
        kept[entries[best]] = True
    for row in np.flatnonzero(lengths > _SORTED_ROW_LARGEST).tolist():
        start, stop = int(matrix.indptr[row]), int(matrix.indptr[row + 1])
        kept[start:stop] = _top_of_row(matrix.data[start:stop], matrix.indices[start:stop], keep)
    chosen = np.flatnonzero(kept)
    return csr_matrix(
        (matrix.data[chosen], (rows[chosen], matrix.indices[chosen])), shape=matrix.shape
    )


_SORTED_ROW_LARGEST = 256  # entries


def _top_of_row(data: np.ndarray, indices: np.ndarray, keep: int) -> np.ndarray:
    """Mask of the `keep` largest values of one row (ties: the lower index), len(data) > keep."""
    threshold = np.partition(data, len(data) - keep)[len(data) - keep]
    mask = data > threshold
    tied = np.flatnonzero(data == threshold)
    wanted = keep - int(np.count_nonzero(mask))
    mask[tied[np.argsort(indices[tied], kind="stable")[:wanted]]] = True
    return mask


def _candidates(
    pruned: Any,
    postings: Any,
    query_story: np.ndarray,
    entry_story: np.ndarray,
    mapper: Any = None,
    workers: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """(query, pool entry) pairs: for each query, its CANDIDATES best pool entries of another
    story by the partial score of its rare terms over truncated postings (ties: the lower entry
    index). At most QUERY_TERMS * POSTINGS products per query, whatever the pool's size.

    Each query's candidates depend on its own row alone, so contiguous ranges of queries run as
    separate tasks on `mapper` (workers > 1): as many tasks as the pool keeps in flight, all sent
    at once, each shipping the postings and the stories of the pool's entries once; their results
    are concatenated in range order, which is the order of the in-process search."""
    queries = pruned.shape[0]
    enough = PARALLEL_QUERIES if mapper is not None and mapper.running else COLD_PARALLEL_QUERIES
    if mapper is None or workers <= 1 or queries < enough:
        return search_candidates(postings, entry_story, [(0, pruned, query_story)])[0]
    from newsvariants.executor import WINDOW_PER_WORKER

    # ranges of at least PARALLEL_QUERIES / 2 queries (fewer would not pay for their shipping)
    tasks = min(workers * WINDOW_PER_WORKER, max(1, 2 * queries // PARALLEL_QUERIES), queries)
    bounds = np.linspace(0, queries, tasks + 1).astype(np.int64).tolist()
    chunks = (
        [(start, pruned[start:stop], query_story[start:stop])]
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
    )
    # A generator, not a list: PoolMapper runs short *sequences* in-process (it counts items, and
    # these few items are large); the size test above has decided already.
    found = [
        part
        for chunk in mapper.map(partial(search_candidates, postings, entry_story), chunks)
        for part in chunk
    ]
    # A pool's workers stop now rather than idle through the rescoring, the split's memory peak
    # in this process (at 100k captures they added ~0.3 GB to it); the next map starts new ones.
    mapper.release()
    return np.concatenate([rows for rows, _ in found]), np.concatenate([cols for _, cols in found])


def search_candidates(
    postings: Any, entry_story: np.ndarray, chunk: list[tuple[int, Any, np.ndarray]]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Worker side of `_candidates` (module level: pickled to the pool): for each (first query,
    pruned rows of the queries from there, their stories) of the chunk, the candidates (query
    indexes counted from 0, as in the whole search), QUERY_BLOCK queries at a time."""
    found: list[tuple[np.ndarray, np.ndarray]] = []
    for first, pruned, query_story in chunk:
        rows_out: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        cols_out: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        for start in range(0, pruned.shape[0], QUERY_BLOCK):
            block = (pruned[start : start + QUERY_BLOCK] @ postings).tocoo()
            rows, cols, data = (
                block.row.astype(np.int64) + start,
                block.col.astype(np.int64),
                block.data,
            )
            other = query_story[rows] != entry_story[cols]
            rows, cols, data = rows[other], cols[other], data[other]
            keep = _best_of_rows(rows - start, cols, data, CANDIDATES)
            rows_out.append(rows[keep] + first)
            cols_out.append(cols[keep])
        found.append((np.concatenate(rows_out), np.concatenate(cols_out)))
    return found


def _best_of_rows(rows: np.ndarray, cols: np.ndarray, data: np.ndarray, keep: int) -> np.ndarray:
    """Mask of each row's `keep` entries of highest data (ties: the lower col, then the earlier
    entry), rows counted from 0 (a block of a sparse product). The rescoring orders candidates
    itself, so only the set matters: each row's `keep`-th best value comes from a partition of a
    (rows, longest row) array, not a three-key sort of every entry (which was most of the
    search: 1.4 of 1.7 s at 10k captures)."""
    if len(rows) == 0:
        return np.zeros(0, dtype=bool)
    if (rows[1:] < rows[:-1]).any():  # a product's entries come row by row; anything else is sorted
        order = np.argsort(rows, kind="stable")
        mask = np.empty(len(rows), dtype=bool)
        mask[order] = _best_of_rows(rows[order], cols[order], data[order], keep)
        return mask
    counts = np.bincount(rows)
    first = np.r_[0, np.cumsum(counts)[:-1]]
    cost = -data  # lower is better; a row's missing places hold +inf
    if counts.max() > keep:
        threshold = _kth_lowest(rows, first, counts, cost, keep)
    else:
        threshold = np.full(len(counts), np.inf)  # every entry is kept
    better = cost < threshold[rows]
    tied = np.flatnonzero(cost == threshold[rows])
    room = keep - np.bincount(rows[better], minlength=len(counts))
    tied = tied[np.lexsort((cols[tied], rows[tied]))]  # by row, then lower col first
    tied_rows = rows[tied]
    rank = np.arange(len(tied)) - np.searchsorted(tied_rows, tied_rows, side="left")
    better[tied[rank < room[tied_rows]]] = True
    return better


def _kth_lowest(
    rows: np.ndarray, first: np.ndarray, counts: np.ndarray, cost: np.ndarray, k: int
) -> np.ndarray:
    """Each row's k-th lowest cost (+inf if it has fewer), rows sorted and counted from 0, by a
    partition of a (rows, longest row) grid, GRID_CELLS cells at a time: a 100k-capture split's
    108k queries, pruned to their best terms, made a 0.2 GB grid at once."""
    threshold = np.empty(len(counts))
    step = max(1, GRID_CELLS // int(counts.max()))  # rows a grid
    for lo in range(0, len(counts), step):
        hi = min(lo + step, len(counts))
        start, stop = int(first[lo]), int(first[hi - 1] + counts[hi - 1])
        grid = np.full((hi - lo, max(int(counts[lo:hi].max()), k)), np.inf)
        at = rows[start:stop]
        grid[at - lo, np.arange(start, stop) - first[at]] = cost[start:stop]
        threshold[lo:hi] = np.partition(grid, k - 1, axis=1)[:, k - 1]
    return threshold


GRID_CELLS = 1 << 22  # 32 MiB


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
    # blocks bounded by the entries their rows hold too: documents have ~50x a paragraph's
    entries = np.diff(query_matrix.indptr)[rows] + np.diff(matrix.indptr)[cols]
    for start, stop in budget_ranges(entries, RESCORE_ENTRIES, RESCORE_BLOCK):
        r, c = rows[start:stop], cols[start:stop]
        scores[start:stop] = np.asarray(query_matrix[r].multiply(matrix[c]).sum(axis=1)).ravel()
    # a text this close to the query is a copy of it (a quote two stories print, a wire
    # paragraph), not an unrelated text: labelled `unrelated`, it contradicted the positives
    distinct = scores < NEAR_COPY_COSINE
    rows, cols, scores = rows[distinct], cols[distinct], scores[distinct]
    order = np.lexsort((cols, -scores, rows))
    rows, cols = rows[order], cols[order]
    head = np.r_[True, rows[1:] != rows[:-1]]
    best[rows[head]] = cols[head]
    return best
