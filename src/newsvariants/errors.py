"""Errors that name the file or the stage and capture they are about."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


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


class CacheError(NewsVariantsError):
    """The --cache folder or its database cannot be used (the cache file is named)."""


def unusable_folder(folder: Path, exc: OSError) -> str:
    """Why `folder` cannot be made or written: a file where a folder should be (mkdir says only
    "File exists" or "Not a directory"), else what the system said."""
    for ancestor in (folder, *folder.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                return f"{ancestor} is a file, not a folder"
            break
    return f"{exc.filename or folder}: {exc.strerror or exc}"


def jsonl_lines(path: Path, error: type[NewsVariantsError] = NewsVariantsError) -> list[str]:
    """The lines of a UTF-8 JSONL file, split at "\\n" only (a CRLF line loses its "\\r").

    Not `str.splitlines`: it also splits at U+2028, U+2029, U+0085 and other separators that JSON
    strings may hold unescaped (a note or URL with one made raw/captures.jsonl unreadable by the
    tool that wrote it). A file that is not UTF-8 is an `error` naming the file and the byte."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"{path}:{line}: not UTF-8 (byte {exc.start}: {exc.reason})") from exc
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def parse_json(text: str) -> Any:
    """`json.loads`, except that an object with one key twice is refused: json.loads keeps the
    last value silently, so a hand-edited record giving "source" twice lost one without a word.
    Raises ValueError saying what is wrong ("not JSON: ..." or the key given twice)."""
    try:
        return json.loads(text, object_pairs_hook=_object_of_unique_keys)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc


def _object_of_unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"key {key!r} given twice in one object")
        found[key] = value
    return found
