"""Stage `fingerprint`: MinHash signatures of each variant's extracted body (never the raw page,
so shared site chrome cannot join stories)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from datasketch import LeanMinHash, MinHash

from newsvariants.normalize import tokens

SHINGLE_SIZE = 3  # word 3-grams: short enough to survive a rewording mirror's substitutions
NUM_PERM = 128
MINHASH_SEED = 1  # fixed: signatures are part of what makes builds reproducible


def shingles(text_tokens: Sequence[str], size: int = SHINGLE_SIZE) -> set[str]:
    """Word n-gram shingles; a text shorter than n gives its whole token string as one shingle."""
    if len(text_tokens) < size:
        return {" ".join(text_tokens)} if text_tokens else set()
    return {" ".join(text_tokens[i : i + size]) for i in range(len(text_tokens) - size + 1)}


def body_shingles(paragraphs: Sequence[str]) -> set[str]:
    return shingles(tokens("\n".join(paragraphs)))


def minhash(shingle_set: set[str]) -> LeanMinHash:
    sig = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED)
    if shingle_set:
        sig.update_batch([s.encode("utf-8") for s in sorted(shingle_set)])
    return LeanMinHash(sig)


def signature_array(sig: LeanMinHash) -> np.ndarray:
    return np.asarray(sig.hashvalues, dtype=np.uint64)
