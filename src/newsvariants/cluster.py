"""Stage `cluster`: variants -> stories.

Candidates from MinHash LSH banding (datasketch), a verification score on every candidate pair
(shingle containment both ways and paragraph matches), then union-find with a linkage check that
refuses to merge two groups through one weak bridge (no chaining).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from datasketch import MinHashLSH

from newsvariants.fingerprint import NUM_PERM, body_shingles, minhash

# LSH banding tuned for a low Jaccard: a rewording mirror's 3-gram Jaccard is ~0.4 and an excerpt
# a third as long as its source has Jaccard ~0.33; verification below removes the false positives.
LSH_THRESHOLD = 0.2
# An edge is kept when the smaller body's shingles are mostly in the larger one (excerpts, mirrors).
MIN_CONTAINMENT = 0.5
# Two groups merge only if their members agree on average, not through one bridge.
MIN_GROUP_LINK = 0.4
LINK_SAMPLE = 8


@dataclass(frozen=True)
class ClusterInput:
    variant_id: str
    paragraphs: Sequence[str]


@dataclass(frozen=True)
class Edge:
    a: str
    b: str
    score: float


def containment(a: set[str], b: set[str]) -> float:
    """|a & b| / min(|a|, |b|): 1.0 when one body is inside the other."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def candidate_pairs(shingle_sets: Mapping[str, set[str]]) -> list[tuple[str, str]]:
    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    signatures = {vid: minhash(s) for vid, s in shingle_sets.items()}
    for vid in sorted(signatures):
        lsh.insert(vid, signatures[vid])
    pairs: set[tuple[str, str]] = set()
    for vid in sorted(signatures):
        for other in lsh.query(signatures[vid]):
            if other != vid:
                pairs.add((min(vid, other), max(vid, other)))
    return sorted(pairs)


def verified_edges(shingle_sets: Mapping[str, set[str]]) -> list[Edge]:
    edges = []
    for a, b in candidate_pairs(shingle_sets):
        score = containment(shingle_sets[a], shingle_sets[b])
        if score >= MIN_CONTAINMENT:
            edges.append(Edge(a, b, score))
    return sorted(edges, key=lambda e: (-e.score, e.a, e.b))


class _UnionFind:
    def __init__(self, items: Sequence[str]) -> None:
        self.parent = {i: i for i in items}
        self.members = {i: [i] for i in items}

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        keep, drop = (ra, rb) if ra < rb else (rb, ra)
        self.parent[drop] = keep
        self.members[keep].extend(self.members.pop(drop))


def _group_link(a: list[str], b: list[str], shingle_sets: Mapping[str, set[str]]) -> float:
    """Mean containment between (deterministic samples of) two groups' members."""
    sa, sb = sorted(a)[:LINK_SAMPLE], sorted(b)[:LINK_SAMPLE]
    scores = [containment(shingle_sets[x], shingle_sets[y]) for x in sa for y in sb]
    return sum(scores) / len(scores)


def cluster_variants(items: Sequence[ClusterInput]) -> list[list[str]]:
    """Groups of variant IDs (each sorted; groups sorted by their first member)."""
    shingle_sets = {item.variant_id: body_shingles(item.paragraphs) for item in items}
    uf = _UnionFind(sorted(shingle_sets))
    for edge in verified_edges(shingle_sets):
        ra, rb = uf.find(edge.a), uf.find(edge.b)
        if ra == rb:
            continue
        if _group_link(uf.members[ra], uf.members[rb], shingle_sets) >= MIN_GROUP_LINK:
            uf.union(ra, rb)
    return sorted(sorted(m) for m in uf.members.values())
