"""Stage `cluster`: variants -> stories.

A story is the set of variants that reproduce one source text (verbatim copies, excerpts, edited
mirrors). The decision rule, with every parameter below, is documented in DATASET_CARD.md
("Stories"):

1. Shingles: word 3-grams of each body paragraph's comparison form, hashed to 64 bits
   (fingerprint.py). Text on TEMPLATE_MIN_PAGES or more pages, and TEMPLATE_SHARE of the pages,
   of one source, and on no page of another source, is site template (chrome the extractor
   missed) and is left out of that source's bodies, unless that would leave fewer than
   MIN_SHARED shingles (a page the source republished).
2. Candidates: MinHash LSH banding (LSH_BANDS bands of LSH_ROWS rows) over each *paragraph* of at
   least MIN_PARAGRAPH_SHINGLES shingles: two variants are candidates when their paragraphs
   collide in at least MIN_COLLISIONS bands. Paragraph-level banding finds an excerpt a third as
   long as its source (its document Jaccard is ~0.33, below any usable document threshold, but its
   paragraphs are identical) and a rewording mirror (most of its paragraphs keep a high Jaccard)
   while keeping unrelated pairs rare. Buckets larger than MAX_BUCKET (a story syndicated hundreds
   of times, a boilerplate paragraph) are linked as a star plus a path, not all pairs.
3. Verification: an edge is kept when the two bodies share at least MIN_SHARED shingles and the
   smaller body's shingles are at least MIN_CONTAINMENT inside the larger one.
4. Linkage without chaining: edges are taken strongest first into a union-find; two groups merge
   only when at least MIN_GROUP_LINK of their member pairs (deterministic samples of each group)
   reach MIN_CONTAINMENT too, so one bridge between two dense groups does not merge them.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from newsvariants.arrays import sorted_unique
from newsvariants.fingerprint import NUM_PERM, segment_signatures, shingle_table

LSH_BANDS = 16
LSH_ROWS = 4
assert LSH_BANDS * LSH_ROWS <= NUM_PERM
# The Jaccard at which a paragraph pair becomes a candidate with probability ~1/2 per paragraph.
LSH_THRESHOLD = round((1 / LSH_BANDS) ** (1 / LSH_ROWS), 3)
MIN_PARAGRAPH_SHINGLES = 5  # shorter paragraphs (datelines, "Read more") give no candidates
MAX_BUCKET = 50
# A pair must collide in at least two bands: one identical paragraph collides in all 16, while
# two unrelated paragraphs that share a stock sentence (J ~ 0.4) collide in about one.
MIN_COLLISIONS = 2
MIN_CONTAINMENT = 0.5
MIN_SHARED = 10
MIN_GROUP_LINK = 0.5
LINK_SAMPLE = 8
TEMPLATE_MIN_PAGES = 3
# ... and on at least this share of the source's pages: chrome is on (nearly) every page, while
# common phrases ("one of the", "told reporters that") are on fewer; removing those from one
# source's bodies and not another's would lower the containment of true pairs.
TEMPLATE_SHARE = 0.8

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def parameters() -> dict[str, float | int]:
    """Every parameter of the decision rule (recorded in MANIFEST.json by the build)."""
    return {
        "lsh_bands": LSH_BANDS,
        "lsh_rows": LSH_ROWS,
        "lsh_threshold": LSH_THRESHOLD,
        "min_paragraph_shingles": MIN_PARAGRAPH_SHINGLES,
        "min_collisions": MIN_COLLISIONS,
        "max_bucket": MAX_BUCKET,
        "min_containment": MIN_CONTAINMENT,
        "min_shared": MIN_SHARED,
        "min_group_link": MIN_GROUP_LINK,
        "link_sample": LINK_SAMPLE,
        "template_min_pages": TEMPLATE_MIN_PAGES,
        "template_share": TEMPLATE_SHARE,
    }


@dataclass(frozen=True)
class ClusterInput:
    variant_id: str
    paragraphs: Sequence[str]
    source: str | None = None  # enables the per-source template filter


@dataclass(frozen=True)
class Edge:
    a: str
    b: str
    score: float


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """|a & b| / min(|a|, |b|) of sorted unique hash arrays: 1.0 when one is inside the other."""
    if len(a) == 0 or len(b) == 0:
        return 0.0
    return _shared(a, b) / min(len(a), len(b))


def _shared(a: np.ndarray, b: np.ndarray) -> int:
    """|a & b| for sorted unique arrays by binary search (no concatenate-and-sort per pair)."""
    if len(a) > len(b):
        a, b = b, a
    found = np.searchsorted(b, a)
    found[found == len(b)] = 0
    return int(np.count_nonzero(b[found] == a))


# --- fingerprints and bodies ------------------------------------------------------------------


@dataclass(frozen=True)
class Fingerprint:
    """What clustering needs of one variant, a function of its paragraph texts alone (so it is
    computed on the workers and cached per capture): the sorted unique shingle hashes of its
    body and the LSH band keys of each of its paragraphs of at least MIN_PARAGRAPH_SHINGLES
    shingles ((paragraphs, LSH_BANDS) uint64)."""

    body: np.ndarray
    band_keys: np.ndarray

    def to_cache(self) -> tuple[str, bytes, bytes]:
        """What the cache keeps: the arrays' bytes (a pickled array costs ~60 us to load back,
        two of them per capture: ~1 s of a cached 10k-capture rebuild, in the driver)."""
        return self.body.dtype.str, self.body.tobytes(), self.band_keys.tobytes()

    @classmethod
    def from_cache(cls, value: tuple[str, bytes, bytes]) -> Fingerprint:
        dtype, body, band_keys = value
        keys = np.frombuffer(band_keys, dtype=np.uint64).reshape(-1, LSH_BANDS)
        return cls(np.frombuffer(body, dtype=np.dtype(dtype)), keys)


def fingerprints(
    docs: Sequence[Sequence[str]], chunk_paragraphs: int = 20_000
) -> list[Fingerprint]:
    """Fingerprints of many documents (lists of paragraph texts) at once: one shingle table, so
    tokens shared by the documents are hashed once. A document's fingerprint does not depend on
    the others."""
    table = shingle_table(docs)
    owner = np.repeat(np.arange(len(docs)), np.diff(table.doc_start))
    usable = np.flatnonzero(np.diff(table.para_start) >= MIN_PARAGRAPH_SHINGLES)
    keys = np.empty((len(usable), LSH_BANDS), dtype=np.uint64)
    for begin in range(0, len(usable), chunk_paragraphs):
        chunk = usable[begin : begin + chunk_paragraphs]
        lengths = table.para_start[chunk + 1] - table.para_start[chunk]
        segments = np.r_[0, np.cumsum(lengths)]
        # the chunk's paragraphs gathered as consecutive segments of one array
        gather = np.repeat(table.para_start[chunk] - segments[:-1], lengths) + np.arange(
            segments[-1]
        )
        keys[begin : begin + len(chunk)] = _band_keys(
            segment_signatures(table.hashes[gather], segments)
        )
    bounds = np.searchsorted(owner[usable], np.arange(len(docs) + 1))
    return [
        Fingerprint(table.body(d), keys[bounds[d] : bounds[d + 1]].copy()) for d in range(len(docs))
    ]


@dataclass
class Bodies:
    """Per variant (in sorted ID order): its body's shingles (site template removed) and the band
    keys of its paragraphs."""

    ids: list[str]
    body: list[np.ndarray]
    band_keys: list[np.ndarray]


def body_fingerprints(items: Sequence[ClusterInput]) -> Bodies:
    ordered = sorted(items, key=lambda item: item.variant_id)
    found = fingerprints([item.paragraphs for item in ordered])
    return bodies_of(
        [item.variant_id for item in ordered], found, [item.source for item in ordered]
    )


def bodies_of(
    ids: Sequence[str], found: Sequence[Fingerprint], sources: Sequence[str | None]
) -> Bodies:
    """Bodies from per-variant fingerprints (ids sorted, with their fingerprints and sources)."""
    body = drop_templates([f.body for f in found], sources)
    return Bodies(list(ids), body, [f.band_keys for f in found])


def drop_templates(body: list[np.ndarray], sources: Sequence[str | None]) -> list[np.ndarray]:
    """Remove shingles found on most pages of one source (site template): on at least
    TEMPLATE_MIN_PAGES pages and TEMPLATE_SHARE of them, and on no page of another source.

    The last condition is what tells a site's chrome from an article it carries many versions of
    (an updated story captured again and again): the article is on most of the site's pages too,
    but also on the pages of the outlets it came from or went to. Removed as template, it left
    each version only its own update, and the versions fell into stories of one capture each
    (renamed as soon as an unrelated page of the site changed the shares)."""
    by_source: dict[str, list[int]] = defaultdict(list)
    for index, source in enumerate(sources):
        if source is not None:
            by_source[source].append(index)
    repeated: dict[str, np.ndarray] = {}
    for source in sorted(by_source):
        pages = by_source[source]
        if len(pages) < TEMPLATE_MIN_PAGES:
            continue
        values, counts = np.unique(np.concatenate([body[i] for i in pages]), return_counts=True)
        found = values[counts >= max(TEMPLATE_MIN_PAGES, TEMPLATE_SHARE * len(pages))]
        if found.size:
            repeated[source] = found
    if not repeated:
        return list(body)
    shared = _shared_with_other_sources(body, sources, repeated)
    result = list(body)
    for source, found in repeated.items():
        template = found[~np.isin(found, shared, assume_unique=True)]
        if template.size == 0:
            continue
        for i in by_source[source]:
            kept = body[i][~np.isin(body[i], template, assume_unique=True)]
            if kept.size >= MIN_SHARED:  # else the page is mostly text the source repeats
                result[i] = kept
    return result


def _shared_with_other_sources(
    body: list[np.ndarray], sources: Sequence[str | None], repeated: dict[str, np.ndarray]
) -> np.ndarray:
    """The shingles of `repeated` (per source) that are also on a page of another source (or of
    no known source), sorted: one pass over all bodies, against the few repeated shingles."""
    candidates = np.unique(np.concatenate(list(repeated.values())))
    names = {source: k for k, source in enumerate(sorted(repeated))}
    code = np.array([names.get(source, -1) for source in sources], dtype=np.int64)
    lengths = np.fromiter(map(len, body), np.int64, len(body))
    ends = np.cumsum(lengths)
    hits, owners = [], []
    start = 0
    while start < len(body):  # pages a block at a time: one isin per block, not per page
        base = int(ends[start - 1]) if start else 0
        stop = max(int(np.searchsorted(ends, base + _NEEDLES_PER_BLOCK, side="right")), start + 1)
        shingles = np.concatenate(body[start:stop])
        found = np.isin(shingles, candidates)
        hits.append(shingles[found])
        owners.append(np.repeat(code[start:stop], lengths[start:stop])[found])
        start = stop
    shingle, owner = np.concatenate(hits), np.concatenate(owners)
    if shingle.size == 0:
        return candidates[:0]
    order = np.lexsort((owner, shingle))  # (shingle, source) pairs, each counted once
    shingle, owner = shingle[order], owner[order]
    first = np.ones(shingle.size, dtype=bool)
    first[1:] = (shingle[1:] != shingle[:-1]) | (owner[1:] != owner[:-1])
    shingles, n_sources = np.unique(shingle[first], return_counts=True)
    # a shingle on pages of one source only appears here once; `repeated` shingles on pages of
    # no repeating source carry owner -1, which counts as another source too
    return shingles[n_sources > 1]


# --- candidates -------------------------------------------------------------------------------


def _band_keys(sigs: np.ndarray) -> np.ndarray:
    """(n, LSH_BANDS) keys: each band's LSH_ROWS signature values combined into one uint64."""
    keys = np.zeros((sigs.shape[0], LSH_BANDS), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for band in range(LSH_BANDS):
            key = np.full(sigs.shape[0], np.uint64(band + 1), dtype=np.uint64)
            for row in range(LSH_ROWS):
                key = (key * _GOLDEN) ^ sigs[:, band * LSH_ROWS + row]
            keys[:, band] = key
    return keys


def _bucket_pairs(keys: np.ndarray, owners: np.ndarray, width: int) -> np.ndarray:
    """Codes i * width + j (i < j) of the owner pairs that share a key in one band, one per
    shared key: all pairs in buckets of at most MAX_BUCKET entries, a star (first entry to each)
    plus a path in bigger ones. Work is proportional to the pairs emitted."""
    order = np.lexsort((owners, keys))
    keys, owners = keys[order], owners[order]
    fresh = np.r_[True, keys[1:] != keys[:-1]]
    shared = ~fresh | ~np.r_[fresh[1:], True]  # same key as the previous or the next entry
    keys, owners = keys[shared], owners[shared].astype(np.int64)  # lone entries pair with nothing
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(owners)])
    bucket_of = np.repeat(np.arange(len(starts)), sizes)
    position = np.arange(len(owners))
    size_of = sizes[bucket_of]
    big = size_of > MAX_BUCKET
    # how many later entries of its bucket each entry pairs with (one, the path, in big buckets)
    after = size_of - 1 - (position - starts[bucket_of])
    after[big] = np.minimum(after[big], 1)
    by_after = np.argsort(-after, kind="stable")
    after_sorted = after[by_after]
    found = []
    for offset in range(1, int(after.max(initial=0)) + 1):
        left = by_after[: np.searchsorted(-after_sorted, -offset, side="right")]
        found.append((owners[left], owners[left + offset]))
    star = np.flatnonzero(big & (position != starts[bucket_of]))
    found.append((owners[starts[bucket_of[star]]], owners[star]))
    first = np.concatenate([a for a, _ in found])
    second = np.concatenate([b for _, b in found])
    distinct = first != second
    low, high = np.minimum(first, second)[distinct], np.maximum(first, second)[distinct]
    return sorted_unique(low * width + high)


def band_pairs(width: int, columns: dict[str, np.ndarray]) -> np.ndarray:
    """The pair codes of one LSH band (rows: key, owner): the group function of the bands'
    groupby."""
    return _bucket_pairs(np.ascontiguousarray(columns["key"]), columns["owner"], width)


def candidate_pairs(bodies: Bodies, engine: Any = None) -> np.ndarray:
    """(i, j) index pairs of variants whose paragraphs collide in at least MIN_COLLISIONS bands.

    The bands are a groupby (one group per band: `engine.group_arrays`, Ray Data's groupby with
    --engine ray); each band's distinct pairs are counted over all bands at once."""
    from newsvariants.executor import group_arrays

    counts = np.fromiter((len(k) for k in bodies.band_keys), np.int64, len(bodies.band_keys))
    if counts.sum() == 0:
        return np.zeros((0, 2), dtype=np.int64)
    keys = np.concatenate(bodies.band_keys)
    owner = np.repeat(np.arange(len(bodies.ids), dtype=np.int32), counts)
    width = len(bodies.ids)
    columns = {
        "band": np.tile(np.arange(LSH_BANDS, dtype=np.int16), len(keys)),  # int16: a radix sort
        "key": keys.ravel(),
        "owner": np.repeat(owner, LSH_BANDS),
    }
    del keys
    by_band = (engine.group_arrays if engine is not None else group_arrays)(
        partial(band_pairs, width), columns, "band"
    )
    codes, hits = np.unique(
        np.concatenate([by_band[b] for b in sorted(by_band)]), return_counts=True
    )
    kept = codes[hits >= MIN_COLLISIONS]
    return np.stack([kept // width, kept % width], axis=1)


# --- verification and linkage -----------------------------------------------------------------


def verify(a: np.ndarray, b: np.ndarray) -> float | None:
    """The edge score (containment) of two bodies, or None when the pair is not one story."""
    if len(a) == 0 or len(b) == 0:
        return None
    shared = _shared(a, b)
    score = shared / min(len(a), len(b))
    if shared < MIN_SHARED or score < MIN_CONTAINMENT:
        return None
    return score


def shared_counts(body: Sequence[np.ndarray], pairs: np.ndarray) -> np.ndarray:
    """|body[i] & body[j]| of each pair (i, j) of sorted unique hash arrays (`_shared` of every
    pair). Every partner j of one i is searched for in body[i] at once, a block of pairs at a
    time: a 100k-capture build has ~1M candidate pairs but ~100k distinct i, and the numpy calls
    of one search cost more than the search (~20 us a pair, 20 s in all)."""
    counts = np.zeros(len(pairs), dtype=np.int64)
    lengths = np.fromiter(map(len, body), np.int64, len(body))
    # a pair with an empty body shares nothing (and would leave reduceat an empty segment)
    kept = np.flatnonzero((lengths[pairs[:, 0]] > 0) & (lengths[pairs[:, 1]] > 0))
    order = kept[np.argsort(pairs[kept, 0], kind="stable")]
    left, right = pairs[order, 0], pairs[order, 1]
    needle_ends = np.cumsum(lengths[right])  # where each pair's needles end, over all blocks
    groups = np.flatnonzero(np.diff(left, prepend=-1)).tolist() + [len(left)]
    first = 0
    while first < len(groups) - 1:
        # a block: whole groups, ~_NEEDLES_PER_BLOCK needles (bounded memory at any scale)
        base = needle_ends[groups[first] - 1] if groups[first] else 0
        last = int(np.searchsorted(needle_ends, base + _NEEDLES_PER_BLOCK, side="right"))
        last = max(bisect.bisect_right(groups, last) - 1, first + 1)
        lo, hi = groups[first], groups[last]
        needles = np.concatenate([body[j] for j in right[lo:hi].tolist()])
        found = np.empty(len(needles), dtype=bool)
        ends = (needle_ends[lo:hi] - base).tolist()
        for g in range(first, last):
            start, stop = groups[g], groups[g + 1]
            a = ends[start - lo - 1] if start > lo else 0
            b = ends[stop - lo - 1]
            haystack, wanted = body[int(left[start])], needles[a:b]
            at = haystack.searchsorted(wanted)  # past the end: clipped, no match either way
            np.equal(haystack.take(at, mode="clip"), wanted, out=found[a:b])
        starts = np.r_[0, needle_ends[lo : hi - 1] - base]
        counts[order[lo:hi]] = np.add.reduceat(found, starts, dtype=np.int64)
        first = last
    return counts


_NEEDLES_PER_BLOCK = 1 << 22  # 32 MiB of needles


def verified_edges(
    bodies: Bodies, pairs: np.ndarray | None = None, engine: Any = None
) -> list[Edge]:
    """Candidate pairs that pass verification (`verify`), strongest first (ties by IDs)."""
    rank = _id_ranks(bodies.ids)
    first, second, score = _verified(bodies, rank, pairs, engine)
    ids = bodies.ids
    return [
        Edge(ids[i], ids[j], value)
        for i, j, value in zip(first.tolist(), second.tolist(), score.tolist(), strict=True)
    ]


def _id_ranks(ids: Sequence[str]) -> np.ndarray:
    """Each ID's place in sorted ID order."""
    _, rank = np.unique(np.array(ids, dtype=str), return_inverse=True)
    return rank.reshape(-1)


def _verified(
    bodies: Bodies, rank: np.ndarray, pairs: np.ndarray | None, engine: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`verified_edges` as arrays: the two variants' indexes and the score of each edge."""
    if pairs is None:
        pairs = candidate_pairs(bodies, engine=engine)
    pairs = pairs.reshape(-1, 2)
    shared = shared_counts(bodies.body, pairs)
    lengths = np.fromiter(map(len, bodies.body), np.int64, len(bodies.body))
    smaller = np.minimum(lengths[pairs[:, 0]], lengths[pairs[:, 1]])
    passed = (smaller > 0) & (shared >= MIN_SHARED)
    pairs, shared, smaller = pairs[passed], shared[passed], smaller[passed]
    # float64 division of integers below 2**53: the same number as Python's `shared / smaller`
    score = shared / smaller
    passed = score >= MIN_CONTAINMENT
    pairs, score = pairs[passed], score[passed]
    order = np.lexsort((rank[pairs[:, 1]], rank[pairs[:, 0]], -score))  # ties in ID order
    return pairs[order, 0], pairs[order, 1], score[order]


def _sample(members: list[Any]) -> list[Any]:
    """Up to LINK_SAMPLE members spread over the group (sorted IDs, so deterministic)."""
    ordered = sorted(members)
    if len(ordered) <= LINK_SAMPLE:
        return ordered
    step = len(ordered) / LINK_SAMPLE
    return [ordered[int(k * step)] for k in range(LINK_SAMPLE)]


def link(
    ids: Sequence[str], edges: Sequence[Edge], body: Mapping[str, np.ndarray]
) -> list[list[str]]:
    """Groups of IDs from verified edges (strongest first): `link_ranks` on the IDs' places in
    sorted order (an ID given twice is one variant)."""
    ordered = sorted(set(ids))
    place = {variant_id: i for i, variant_id in enumerate(ordered)}
    first = np.array([place[e.a] for e in edges], dtype=np.int64)
    second = np.array([place[e.b] for e in edges], dtype=np.int64)
    groups = link_ranks(len(ordered), first, second, [body[i] for i in ordered])
    return [[ordered[r] for r in group] for group in groups]


def cluster_variants(items: Sequence[ClusterInput], engine: Any = None) -> list[list[str]]:
    """Groups of variant IDs (each sorted; groups sorted by their first member).

    `engine` (an executor Mapper) runs the LSH bands' groupby; in-process when None."""
    return cluster_bodies(body_fingerprints(items), engine)


def cluster_bodies(bodies: Bodies, engine: Any = None) -> list[list[str]]:
    """`cluster_variants` from the variants' bodies (fingerprints made beforehand): `link` of
    the verified edges, on the variants' places in ID order (`link_ranks`)."""
    rank = _id_ranks(bodies.ids)
    if len(set(rank.tolist())) < len(rank):  # an ID twice: as `link` treats it
        body = dict(zip(bodies.ids, bodies.body, strict=True))
        return link(bodies.ids, verified_edges(bodies, engine=engine), body)
    first, second, _ = _verified(bodies, rank, None, engine)
    by_rank = [bodies.body[i] for i in np.argsort(rank).tolist()]
    groups = link_ranks(len(rank), rank[first], rank[second], by_rank)
    ids = sorted(bodies.ids)
    return [[ids[r] for r in group] for group in groups]


def link_ranks(
    count: int, first: np.ndarray, second: np.ndarray, body: Sequence[np.ndarray]
) -> list[list[int]]:
    """Groups of variants named by their place in ID order (0..count-1, `body` in that order),
    from verified edges given as two arrays, strongest first: each edge joins its two groups
    when `_group_link_ranks` reaches MIN_GROUP_LINK; a group's root is its first place.
    Integers and lists instead of IDs, dicts and Edge records: at 10k captures, linking with
    those and making the 47k edges took ~0.25 s of the cluster stage's ~1.3 s. ID order is
    place order, so the groups are those IDs would give (`link`)."""
    parent = list(range(count))
    members = {i: [i] for i in range(count)}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    low, high = np.minimum(first, second), np.maximum(first, second)
    contained = set((low * count + high).tolist())  # every edge reaches MIN_CONTAINMENT
    for a, b in zip(first.tolist(), second.tolist(), strict=True):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        if _group_link_ranks(members[ra], members[rb], body, contained, count) >= MIN_GROUP_LINK:
            keep, drop = (ra, rb) if ra < rb else (rb, ra)
            parent[drop] = keep
            members[keep].extend(members.pop(drop))
    return sorted(sorted(m) for m in members.values())


def _group_link_ranks(
    a: list[int], b: list[int], body: Sequence[np.ndarray], contained: set[int], count: int
) -> float:
    """Share of member pairs across two groups (deterministic samples of each, `_sample`) whose
    containment reaches MIN_CONTAINMENT: the groups merge only if most of those pairs would be
    edges too. `contained`: the codes (lower place * count + higher) of the pairs known to reach
    it (the verified edges: most sampled pairs are edges, so only the others are measured).

    (A mean containment was measured too: it lets a short excerpt made of the quote two sibling
    articles share bridge them; the share of agreeing pairs does not.)"""
    pairs = [(x, y) for x in _sample(a) for y in _sample(b)]
    agree = sum(
        min(x, y) * count + max(x, y) in contained
        or containment(body[x], body[y]) >= MIN_CONTAINMENT
        for x, y in pairs
    )
    return agree / len(pairs)
