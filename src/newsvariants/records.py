"""Typed records passed between pipeline stages.

Field names mirror the JSON Schemas in schema/ (tests/test_schema.py checks that they do); the
schemas stay the single source of truth for the published columns and their types.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Capture:
    """Metadata of one stored capture (schema/capture.schema.json)."""

    capture_id: str
    sha256: str
    path: str
    source: str
    url: str | None
    captured_at: str | None
    format: str
    encoding: str
    bytes: int
    rights: str
    container: dict[str, str] | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class TextSpan:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class RemovedSpan:
    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class Extraction:
    """What extraction finds in one capture; offsets index the capture's text."""

    capture_id: str
    title: str | None
    byline: str | None
    published_at: str | None
    language: str
    paragraphs: list[TextSpan]
    captions: list[TextSpan]
    title_span: Span | None
    byline_span: Span | None
    removed: list[RemovedSpan]
    extractor_version: str


@dataclass(frozen=True)
class Paragraph:
    paragraph_id: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Variant:
    """One capture's article (schema/variant.schema.json)."""

    variant_id: str
    story_id: str
    capture_id: str
    capture_sha256: str
    source: str
    url: str | None
    title: str | None
    byline: str | None
    published_at: str | None
    captured_at: str | None
    language: str
    format: str
    paragraphs: list[Paragraph]
    captions: list[TextSpan]
    title_span: Span | None
    byline_span: Span | None
    removed: list[RemovedSpan]
    extractor_version: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Story:
    """A group of variants of one source text (schema/story.schema.json)."""

    story_id: str
    title: str | None
    first_seen: str | None
    n_variants: int
    variant_ids: list[str]
    pivot_variant_id: str
    sources: list[str]
    aliases: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AlignmentUnit:
    """One aligned unit, before labelling: which paragraphs of a and b correspond."""

    paragraphs_a: tuple[int, ...]
    paragraphs_b: tuple[int, ...]


@dataclass(frozen=True)
class Scores:
    char_ratio: float
    token_jaccard: float
    containment_a_in_b: float
    containment_b_in_a: float
    tokens_inserted: int
    tokens_deleted: int


@dataclass(frozen=True)
class DiffOp:
    op: str
    text: str


@dataclass(frozen=True)
class Alignment:
    """One labelled unit (schema/alignment.schema.json)."""

    alignment_id: str
    story_id: str
    variant_a: str
    variant_b: str
    paragraphs_a: list[int]
    paragraphs_b: list[int]
    relation: str
    scores: Scores
    diff: list[DiffOp]
    text_a: str
    text_b: str
    label_source: str
    rule_version: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Pair:
    """One benchmark pair (schema/pair.schema.json)."""

    pair_id: str
    granularity: str
    text_a: str
    text_b: str
    label: str
    relation: str | None
    negative_kind: str | None
    story_a: str
    story_b: str
    variant_a: str
    variant_b: str
    paragraphs_a: list[int]
    paragraphs_b: list[int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Quarantined:
    """A capture left out of the corpus, with the stage and the reason."""

    capture_id: str
    path: str
    stage: str
    reason: str
