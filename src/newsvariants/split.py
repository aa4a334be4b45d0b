"""Stage `split`: each story's split, from a salted hash of its ID (80/10/10).

The registry remembers the split, so a story never moves when captures are added; the hash only
decides for stories seen for the first time.
"""

from __future__ import annotations

import hashlib

SPLIT_SALT = "newsvariants-split-v1"  # changing it is a major release
SPLITS = ("train", "validation", "test")
SPLIT_BOUNDS = ((80, "train"), (90, "validation"), (100, "test"))


def hashed_split(story_id: str, salt: str = SPLIT_SALT) -> str:
    """train/validation/test from bucket = SHA-256(salt + story_id) mod 100."""
    bucket = int(hashlib.sha256((salt + story_id).encode("utf-8")).hexdigest(), 16) % 100
    for bound, name in SPLIT_BOUNDS:
        if bucket < bound:
            return name
    raise AssertionError("unreachable: bucket < 100")
