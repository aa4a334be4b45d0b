"""Human annotations (raw/annotations/*.jsonl) override the rule's units and relations.

Each line pins the unit it judges by the texts it was made on; when the corpus's paragraphs no
longer have those texts the build fails, naming the file and line, instead of applying a stale
judgement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from newsvariants.errors import AnnotationError
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


def load_annotations(raw: Path) -> list[Annotation]:
    folder = raw / ANNOTATIONS_DIR
    found: list[Annotation] = []
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AnnotationError(f"{where}: not JSON: {exc}") from exc
            problems = record_errors("annotation", record)
            if problems:
                raise AnnotationError(f"{where}: {'; '.join(problems)}")
            found.append(
                Annotation(
                    variant_a=record["variant_a"],
                    variant_b=record["variant_b"],
                    paragraphs_a=tuple(record["paragraphs_a"]),
                    paragraphs_b=tuple(record["paragraphs_b"]),
                    relation=record["relation"],
                    text_a=record["text_a"],
                    text_b=record["text_b"],
                    annotator=record["annotator"],
                    where=where,
                )
            )
    return found


def check_annotation(annotation: Annotation, text_a: str, text_b: str) -> None:
    """Fail loudly when the annotated paragraphs' text changed since the annotation was made."""
    for side, expected, actual in (("a", annotation.text_a, text_a), ("b", annotation.text_b, text_b)):
        if expected != actual:
            raise AnnotationError(
                f"{annotation.where}: paragraphs_{side} of {getattr(annotation, 'variant_' + side)} "
                f"no longer match the annotated text (re-check the annotation): "
                f"annotated {expected[:60]!r}..., corpus has {actual[:60]!r}..."
            )
