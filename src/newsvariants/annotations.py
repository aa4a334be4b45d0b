"""Human annotations (raw/annotations/*.jsonl) override the rule's units and relations.

One line judges one aligned unit of a (pivot, variant) pair: which pivot paragraphs
(`paragraphs_a`) correspond to which variant paragraphs (`paragraphs_b`) and their relation. A line
that repeats the rule's unit and relation asserts it; a different unit or relation corrects it.
Either way the unit is published with `label_source = "human"`.

Each line pins its unit by the texts it was made on. When the corpus's paragraphs no longer have
those texts (re-extraction changed them, the indexes moved, the pivot changed), the build fails,
naming the file and line, instead of applying a stale judgement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from newsvariants.errors import AnnotationError, jsonl_lines, parse_json
from newsvariants.label import allowed_relations
from newsvariants.records import AlignmentUnit
from newsvariants.schema import record_errors

ANNOTATIONS_DIR = "annotations"


@dataclass(frozen=True)
class Annotation:
    variant_a: str
    variant_b: str
    paragraphs_a: tuple[int, ...]
    paragraphs_b: tuple[int, ...]
    relation: str
    text_a: str
    text_b: str
    annotator: str
    where: str  # file:line, for messages
    note: str | None = None

    @property
    def unit(self) -> AlignmentUnit:
        return AlignmentUnit(self.paragraphs_a, self.paragraphs_b)


def parse_annotation(line: str, where: str) -> Annotation:
    """One JSONL line -> Annotation; AnnotationError naming `where` when it is not a valid one."""
    try:
        record = parse_json(line)
    except ValueError as exc:
        raise AnnotationError(f"{where}: {exc}") from exc
    problems = record_errors("annotation", record)
    if problems:
        raise AnnotationError(f"{where}: {'; '.join(problems)}")
    annotation = Annotation(
        variant_a=record["variant_a"],
        variant_b=record["variant_b"],
        paragraphs_a=tuple(record["paragraphs_a"]),
        paragraphs_b=tuple(record["paragraphs_b"]),
        relation=record["relation"],
        text_a=record["text_a"],
        text_b=record["text_b"],
        annotator=record["annotator"],
        where=where,
        note=record.get("note"),
    )
    _check_shape(annotation)
    return annotation


def _check_shape(ann: Annotation) -> None:
    for side, indexes in (("a", ann.paragraphs_a), ("b", ann.paragraphs_b)):
        if list(indexes) != sorted(set(indexes)):
            raise AnnotationError(f"{ann.where}: paragraphs_{side} must be increasing, no repeats")
    allowed = allowed_relations(len(ann.paragraphs_a), len(ann.paragraphs_b))
    if ann.relation not in allowed:
        shape = f"{len(ann.paragraphs_a)} pivot and {len(ann.paragraphs_b)} variant paragraph(s)"
        raise AnnotationError(
            f"{ann.where}: relation {ann.relation!r} is impossible for a unit of {shape} "
            f"(possible: {', '.join(allowed) or 'none'})"
        )
    if ann.relation == "identical" and ann.text_a != ann.text_b:
        raise AnnotationError(f"{ann.where}: relation 'identical' but the texts differ")


def load_annotations(raw: Path) -> list[Annotation]:
    """Every annotation under raw/annotations/, files in name order, lines in file order."""
    folder = raw / ANNOTATIONS_DIR
    found: list[Annotation] = []
    if not folder.is_dir():
        return found
    # a notes.json or a sub/x.jsonl was skipped without a word: its annotations never counted
    others = sorted(
        p.name
        for p in folder.iterdir()
        if not p.name.startswith(".") and not (p.is_file() and p.suffix == ".jsonl")
    )
    if others:
        raise AnnotationError(
            f"{folder}: {', '.join(others)}: not an annotation file (only *.jsonl files are "
            "read there; rename or move it)"
        )
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(jsonl_lines(path, AnnotationError), start=1):
            if line.strip():
                found.append(parse_annotation(line, f"{path}:{number}"))
    return found


def check_annotation(annotation: Annotation, text_a: str, text_b: str) -> None:
    """Fail loudly when the annotated paragraphs' text changed since the annotation was made."""
    for side, expected, actual in (
        ("a", annotation.text_a, text_a),
        ("b", annotation.text_b, text_b),
    ):
        if expected != actual:
            variant = annotation.variant_a if side == "a" else annotation.variant_b
            indexes = annotation.paragraphs_a if side == "a" else annotation.paragraphs_b
            raise AnnotationError(
                f"{annotation.where}: paragraphs_{side} {list(indexes)} of {variant} no longer "
                f"match the annotated text (re-check the annotation): annotated "
                f"{expected[:60]!r}..., corpus has {actual[:60]!r}..."
            )


def check_not_quarantined(annotations: Sequence[Annotation], quarantined: dict[str, str]) -> None:
    """Fail, naming the annotation and the quarantine, when an annotation is about a variant the
    build quarantined (`quarantined`: variant ID -> why): "not in the corpus" alone left the user
    looking for a typo in the annotation."""
    for ann in annotations:
        for variant in (ann.variant_a, ann.variant_b):
            if variant in quarantined:
                raise AnnotationError(
                    f"{ann.where}: variant {variant} is annotated, but this build quarantined "
                    f"its capture ({quarantined[variant]})"
                )


# Joins the texts of a variant's paragraphs at the given indexes (the build's `_join`); None when
# the variant is not in the corpus, IndexError when an index is out of range.
TextOf = Callable[[str, Sequence[int]], str | None]


def resolve_annotations(
    annotations: Sequence[Annotation], pivot_of: dict[str, str], text_of: TextOf
) -> dict[tuple[str, str], list[Annotation]]:
    """Check every annotation against the corpus; group them by (pivot, variant) pair.

    `pivot_of` maps each aligned (non-pivot) variant to its story's pivot. Fails, naming the file
    and line, when a variant is unknown, variant_a is not variant_b's pivot, an index is out of
    range, the texts changed, or two annotations of a pair claim the same paragraph.
    """
    by_pair: dict[tuple[str, str], list[Annotation]] = {}
    claimed: dict[tuple[str, str, int], str] = {}
    for ann in annotations:
        pivot = pivot_of.get(ann.variant_b)
        if pivot != ann.variant_a:
            raise AnnotationError(
                f"{ann.where}: {ann.variant_b} is not aligned to {ann.variant_a} in this corpus "
                f"(its pivot is {pivot or 'none: unknown variant or itself a pivot'}). An "
                "annotation names the pivot it was made against: when new captures change a "
                "story's pivot (an earlier copy), annotate the pair again against the new pivot "
                "or remove the line"
            )
        texts = []
        for side, variant, indexes in (
            ("a", ann.variant_a, ann.paragraphs_a),
            ("b", ann.variant_b, ann.paragraphs_b),
        ):
            try:
                text = text_of(variant, indexes)
            except IndexError as exc:
                raise AnnotationError(
                    f"{ann.where}: paragraphs_{side} {list(indexes)} out of range for {variant}"
                ) from exc
            if text is None:
                raise AnnotationError(f"{ann.where}: variant {variant} is not in the corpus")
            texts.append(text)
            for index in indexes:
                key = (side, variant, index)
                if key in claimed and claimed[key] != ann.where:
                    raise AnnotationError(
                        f"{ann.where}: paragraph {index} of {variant} is already annotated at "
                        f"{claimed[key]}"
                    )
                claimed[key] = ann.where
        check_annotation(ann, texts[0], texts[1])
        by_pair.setdefault((ann.variant_a, ann.variant_b), []).append(ann)
    return by_pair


def merge_units(
    rule_units: Sequence[AlignmentUnit], annotated: Sequence[AlignmentUnit], n_a: int, n_b: int
) -> tuple[list[AlignmentUnit], list[AlignmentUnit]]:
    """The pair's units once the annotated ones replace the rule's units they touch.

    Returns (rule units kept, rule units for paragraphs left over): a rule unit sharing any
    paragraph with an annotated unit is dropped whole; its other paragraphs, now in no unit,
    become `removed` (pivot side) or `added` (variant side) units, so every paragraph of both
    variants still lies in exactly one unit.
    """
    taken_a = {i for u in annotated for i in u.paragraphs_a}
    taken_b = {j for u in annotated for j in u.paragraphs_b}
    kept = [
        u
        for u in rule_units
        if not taken_a.intersection(u.paragraphs_a) and not taken_b.intersection(u.paragraphs_b)
    ]
    covered_a = taken_a | {i for u in kept for i in u.paragraphs_a}
    covered_b = taken_b | {j for u in kept for j in u.paragraphs_b}
    leftover = [AlignmentUnit((i,), ()) for i in range(n_a) if i not in covered_a]
    leftover += [AlignmentUnit((), (j,)) for j in range(n_b) if j not in covered_b]
    return kept, leftover
