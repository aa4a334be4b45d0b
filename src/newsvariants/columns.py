"""Records between stages held as Arrow columns, so that a 100k-capture build does not hold
millions of Python objects (one per paragraph, unit, pair) at once.

- `VariantTable`: every extracted capture as its `variants` row (the story ID left blank until
  clustering), in capture order, with what the later stages read of it (paragraph texts, the
  digest of each body, the fields that choose a story's pivot);
- `decode`: Arrow rows back into the record dataclasses (small builds and tests keep records).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from newsvariants.records import (
    Alignment,
    DiffOp,
    Pair,
    Paragraph,
    RemovedSpan,
    Scores,
    Span,
    Story,
    TextSpan,
    Variant,
)
from newsvariants.schema import decode_class_labels


def text_digest(texts: Iterable[str]) -> str:
    """Digest of a body's paragraph texts (cache keys of the stages that read only them)."""
    joined = "\x1e".join(texts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(joined).hexdigest()[:32]


class Member(NamedTuple):
    """What choosing a story's pivot and making its record read of a variant."""

    row: int
    variant_id: str
    published_at: str | None
    captured_at: str | None
    paragraphs: int
    length: int  # characters of its paragraph texts
    title: str | None
    source: str


@dataclass
class VariantTable:
    """Variant rows (schema `variant`, story_id blank) of every extracted capture, in capture
    order, gathered a batch at a time (`add`) and then frozen (`freeze`)."""

    batches: list[pa.Table] = field(default_factory=list)
    capture_ids: list[str] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    table: pa.Table | None = None
    texts: pa.ChunkedArray | None = None
    first: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))

    def add(self, rows: pa.Table, capture_ids: Sequence[str], digests: Sequence[str]) -> None:
        self.batches.append(rows)
        self.capture_ids += capture_ids
        self.digests += digests

    def freeze(self, schema: pa.Schema) -> VariantTable:
        self.table = pa.concat_tables(self.batches) if self.batches else schema.empty_table()
        self.batches = []
        paragraphs = self.table.column("paragraphs")
        lengths = pc.list_value_length(paragraphs).to_numpy(zero_copy_only=False)
        self.first = np.r_[0, np.cumsum(lengths)].astype(np.int64)
        self.texts = pa.chunked_array(
            [chunk.flatten().field("text") for chunk in paragraphs.chunks], pa.string()
        )
        return self

    @property
    def row_of(self) -> dict[str, int]:
        return {cid: row for row, cid in enumerate(self.capture_ids)}

    def __len__(self) -> int:
        return len(self.capture_ids)

    def paragraph_texts(self, row: int) -> tuple[str, ...]:
        assert self.texts is not None
        start, end = int(self.first[row]), int(self.first[row + 1])
        return tuple(self.texts.slice(start, end - start).to_pylist())

    def members(self) -> list[Member]:
        """Per row, the fields that choose pivots and make story records."""
        assert self.table is not None and self.texts is not None
        table = self.table
        chars = pc.utf8_length(self.texts).to_numpy(zero_copy_only=False).astype(np.int64)
        length = np.add.reduceat(np.r_[chars, 0], self.first[:-1]) * (np.diff(self.first) > 0)
        columns = [
            table.column(name).to_pylist()
            for name in ("variant_id", "published_at", "captured_at", "title", "source")
        ]
        counts = np.diff(self.first).tolist()
        return [
            Member(row, vid, pub, cap, n, size, title, source)
            for row, (vid, pub, cap, title, source, n, size) in enumerate(
                zip(*columns, counts, length.tolist(), strict=True)
            )
        ]


# --- Arrow rows back into records ---------------------------------------------------------------


def _span(value: dict[str, Any] | None) -> Span | None:
    return None if value is None else Span(value["start"], value["end"])


def decode(kind: str, table: pa.Table) -> list[Any]:
    """The rows of a `kind` table (story, variant, alignment, pair) as record dataclasses."""
    rows = [decode_class_labels(kind, row) for row in table.to_pylist()]
    if kind == "story":
        return [Story(**row) for row in rows]
    if kind == "pair":
        return [Pair(**row) for row in rows]
    if kind == "alignment":
        return [
            Alignment(
                **{
                    **row,
                    "scores": Scores(**row["scores"]),
                    "diff": [DiffOp(**op) for op in row["diff"]],
                }
            )
            for row in rows
        ]
    if kind == "variant":
        return [
            Variant(
                **{
                    **row,
                    "paragraphs": [Paragraph(**p) for p in row["paragraphs"]],
                    "captions": [TextSpan(**c) for c in row["captions"]],
                    "title_span": _span(row["title_span"]),
                    "byline_span": _span(row["byline_span"]),
                    "removed": [RemovedSpan(**r) for r in row["removed"]],
                }
            )
            for row in rows
        ]
    raise KeyError(kind)
