"""Stage `fingerprint`: shingles and MinHash signatures of each variant's extracted body (never the
raw page, so shared site chrome cannot join stories).

A body is the set of 64-bit hashes of its word 3-grams, taken within each paragraph (over the
comparison form of the text); each paragraph gets a MinHash signature of NUM_PERM values.

Why not datasketch here: measured on the synthetic benchmark (benchmarks/bench_stories.py), one
datasketch `MinHash` per paragraph (SHA-1 per shingle in Python plus the permutation set-up of each
object) costs 5-10x the numpy version and made fingerprinting the bottleneck at 100k captures, and
Python sets of string shingles took most of the memory. The numpy version hashes each distinct
token once (BLAKE2b), combines n-grams arithmetically, applies NUM_PERM multiply-xor hash functions
as one matrix operation per chunk and keeps shingles as uint64 arrays. `minhash()` (datasketch, 128
permutations) stays for callers that want a datasketch object (the benchmark baselines).

Tokens are `normalize.tokens`, the comparison tokens of every stage: its exact shortcut for plain
ASCII (no ftfy) is faster than a bare regex, and the ftfy path drops control characters and
repairs mojibake, so a body with a stray "\x00" or "\x1b" shingles as its clean copy does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # imported where used: datasketch pulls in scipy (~0.6 s for every process
    from datasketch import LeanMinHash  # that fingerprints, pool workers included)

from newsvariants.arrays import sorted_unique
from newsvariants.normalize import tokens

SHINGLE_SIZE = 3  # word 3-grams: short enough to survive a rewording mirror's substitutions
NUM_PERM = 64  # the 16 x 4 LSH bands of cluster.py use all of them
MINHASH_SEED = 1  # fixed: signatures are part of what makes builds reproducible
DATASKETCH_NUM_PERM = 128  # minhash() only (baselines); unchanged from the first release

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def shingles(text_tokens: Sequence[str], size: int = SHINGLE_SIZE) -> set[str]:
    """Word n-gram shingles; a text shorter than n gives its whole token string as one shingle."""
    if len(text_tokens) < size:
        return {" ".join(text_tokens)} if text_tokens else set()
    return {" ".join(text_tokens[i : i + size]) for i in range(len(text_tokens) - size + 1)}


def body_shingles(paragraphs: Sequence[str]) -> set[str]:
    return shingles(tokens("\n".join(paragraphs)))


def minhash(shingle_set: set[str]) -> LeanMinHash:
    """A datasketch signature of string shingles (used by the benchmark baselines)."""
    from datasketch import LeanMinHash, MinHash

    sig = MinHash(num_perm=DATASKETCH_NUM_PERM, seed=MINHASH_SEED)
    if shingle_set:
        sig.update_batch([s.encode("utf-8") for s in sorted(shingle_set)])
    return LeanMinHash(sig)


def signature_array(sig: LeanMinHash) -> np.ndarray:
    return np.asarray(sig.hashvalues, dtype=np.uint64)


# --- vectorised shingles and signatures ----------------------------------------------------------


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads arithmetic combinations of hashes over all 64 bits."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


@dataclass
class ShingleTable:
    """Word n-gram hashes of many paragraphs, stored flat.

    `hashes[para_start[k]:para_start[k + 1]]` are paragraph k's shingle hashes (in text order,
    repeats kept), `doc_start[d]:doc_start[d + 1]` the range of paragraphs of document d."""

    hashes: np.ndarray
    para_start: np.ndarray
    doc_start: np.ndarray

    def paragraph(self, k: int) -> np.ndarray:
        return self.hashes[self.para_start[k] : self.para_start[k + 1]]

    def body(self, d: int) -> np.ndarray:
        """Sorted unique shingle hashes of document d."""
        first, last = self.para_start[self.doc_start[d]], self.para_start[self.doc_start[d + 1]]
        return sorted_unique(self.hashes[first:last])


def _token_hashes(vocabulary: list[str]) -> np.ndarray:
    """Stable 64-bit token hashes (BLAKE2b: independent of PYTHONHASHSEED)."""
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
            for t in vocabulary
        ],
        dtype=np.uint64,
    )


def shingle_table(
    docs: Sequence[Sequence[str]], size: int = SHINGLE_SIZE, block_tokens: int = 2_000_000
) -> ShingleTable:
    """Shingle hashes of every paragraph of every document (docs are lists of paragraph texts).

    A paragraph shorter than `size` tokens gives one shingle of all its tokens. Tokens are hashed
    once per distinct token; n-grams are combined with numpy over blocks of about `block_tokens`
    tokens, so memory stays a few arrays of the input's size."""
    vocabulary: dict[str, int] = {}
    pieces: list[np.ndarray] = []
    doc_start = [0]
    seen: dict[str, np.ndarray] = {}  # syndicated copies repeat paragraphs: tokenize each once
    for paragraphs in docs:
        for text in paragraphs:
            ids = seen.get(text)
            if ids is None:
                words = tokens(text)
                ids = np.fromiter(
                    (vocabulary.setdefault(w, len(vocabulary)) for w in words), np.int32, len(words)
                )
                seen[text] = ids
            pieces.append(ids)
        doc_start.append(len(pieces))
    seen.clear()
    length = np.fromiter((len(p) for p in pieces), np.int64, len(pieces))
    token_ids = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)
    pieces.clear()
    token_hash = _token_hashes(list(vocabulary))[token_ids]
    del token_ids
    counts = np.where(length >= size, length - size + 1, np.minimum(length, 1))
    para_start = np.r_[0, np.cumsum(counts)]
    token_start = np.r_[0, np.cumsum(length)]
    hashes = np.empty(int(para_start[-1]), dtype=np.uint64)
    first = 0
    while first < len(length):
        last = max(first + 1, int(np.searchsorted(token_start, token_start[first] + block_tokens)))
        last = min(last, len(length))
        block = slice(first, last)
        tokens_block = token_hash[token_start[first] : token_start[last]]
        hashes[para_start[first] : para_start[last]] = _block_shingles(
            tokens_block, length[block], counts[block], size
        )
        first = last
    return ShingleTable(hashes, para_start, np.asarray(doc_start, dtype=np.int64))


def _combine(columns: Sequence[np.ndarray]) -> np.ndarray:
    combined = np.zeros(len(columns[0]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:
            combined = _mix64(combined * _GOLDEN + column)
    return combined


def _block_shingles(
    token_hash: np.ndarray, length: np.ndarray, counts: np.ndarray, size: int
) -> np.ndarray:
    """Shingle hashes of consecutive paragraphs (their tokens concatenated), paragraph by
    paragraph: full n-grams that do not cross a paragraph end, one shingle per short paragraph."""
    out = np.empty(int(counts.sum()), dtype=np.uint64)
    slot_start = np.r_[0, np.cumsum(counts)][:-1]
    short = np.flatnonzero((length > 0) & (length < size))
    is_short_slot = np.zeros(len(out), dtype=bool)
    is_short_slot[slot_start[short]] = True
    if len(token_hash) >= size:
        grams = _combine([token_hash[k : len(token_hash) - size + 1 + k] for k in range(size)])
        ends = np.repeat(np.cumsum(length), length)[: len(grams)]
        valid = np.arange(len(grams)) + size <= ends
        out[~is_short_slot] = grams[valid]
    if short.size:
        starts = np.r_[0, np.cumsum(length)][:-1][short]
        widths = length[short]
        columns = [
            np.where(k < widths, token_hash[np.minimum(starts + k, len(token_hash) - 1)], 0)
            for k in range(size)
        ]
        # a short paragraph hashes only its own tokens: columns past its width leave it unchanged
        combined = np.zeros(len(short), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k, column in enumerate(columns):
                step = _mix64(combined * _GOLDEN + column)
                combined = np.where(k < widths, step, combined)
        out[is_short_slot] = combined
    return out


def shingle_hashes(paragraphs: Sequence[str], size: int = SHINGLE_SIZE) -> np.ndarray:
    """Sorted unique uint64 hashes of the word n-grams of one body (within paragraphs)."""
    return shingle_table([paragraphs], size).body(0)


def _hash_functions(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Multiply-xor hash functions h_i(x) = (x ^ a_i) * b_i (b_i odd) from a fixed seed: x is
    already a mixed 64-bit hash, so each h_i is a cheap pseudo-random permutation."""
    rng = np.random.Generator(np.random.PCG64(seed))
    salts = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2)
    multipliers = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + 1
    return salts, multipliers


_SALTS, _MULTIPLIERS = _hash_functions(NUM_PERM, MINHASH_SEED)


def signature(hashes: np.ndarray) -> np.ndarray:
    """MinHash signature (NUM_PERM uint64 values) of shingle hashes; all-max when empty."""
    return segment_signatures(hashes, np.array([0, len(hashes)]))[0]


def segment_signatures(
    hashes: np.ndarray, starts: np.ndarray, chunk_rows: int = 4096
) -> np.ndarray:
    """Signatures of consecutive segments hashes[starts[k]:starts[k + 1]] as a (k, NUM_PERM) array.

    Segments are hashed a chunk at a time (about `chunk_rows` shingles) and reduced with
    minimum.reduceat; an empty segment gets the all-max signature. The permuted values of a chunk
    are computed in place in one buffer of L2 size (4096 x 64 x 8 bytes = 2 MiB): three times
    faster than 50k-row temporaries, which made each pass a trip to main memory (measured)."""
    count = len(starts) - 1
    out = np.full((count, NUM_PERM), _MASK64, dtype=np.uint64)
    filled = np.flatnonzero(starts[1:] > starts[:-1])
    buffer = np.empty((0, NUM_PERM), dtype=np.uint64)
    begin = 0
    while begin < len(filled):
        limit = starts[filled[begin]] + chunk_rows
        end = max(begin + 1, int(np.searchsorted(starts[filled + 1], limit, side="right")))
        batch = filled[begin:end]
        lo, hi = starts[batch[0]], starts[batch[-1] + 1]
        if hi - lo > len(buffer):  # a segment longer than a chunk comes whole
            buffer = np.empty((max(hi - lo, chunk_rows), NUM_PERM), dtype=np.uint64)
        permuted = buffer[: hi - lo]
        np.bitwise_xor(hashes[lo:hi, None], _SALTS[None, :], out=permuted)
        np.multiply(permuted, _MULTIPLIERS[None, :], out=permuted)  # wraps modulo 2**64
        out[batch] = np.minimum.reduceat(permuted, starts[batch] - lo, axis=0)
        begin = end
    return out
