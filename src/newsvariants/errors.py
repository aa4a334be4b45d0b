"""Errors that name the file or the stage and capture they are about."""

from __future__ import annotations


class NewsVariantsError(Exception):
    """Base of every error the package raises on purpose."""


class IngestError(NewsVariantsError):
    """A capture or metadata record was refused; nothing was written."""


class RawStoreError(NewsVariantsError):
    """raw/ is inconsistent (a hash mismatch, a missing file, a bad metadata line)."""


class StageError(NewsVariantsError):
    """A pipeline stage failed; names the stage and, where known, the capture."""

    def __init__(self, stage: str, message: str, capture: str | None = None) -> None:
        self.stage = stage
        self.capture = capture
        where = f" (capture {capture})" if capture else ""
        super().__init__(f"stage {stage!r} failed{where}: {message}")


class ValidationError(NewsVariantsError):
    """The corpus breaks a schema or a cross-record invariant."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s):\n{shown}{more}")


class AnnotationError(NewsVariantsError):
    """A human annotation no longer matches the paragraphs it was made on."""
