"""Builds start from the last release's registry (released/ beside raw/), never from the last
build's: the corpus is a function of raw/ and the release alone, whatever was built in between,
and `validate --rebuild` redoes the build a corpus came from, grown or not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from newsvariants.cli import app
from newsvariants.ingest import file_inputs, ingest

from .conftest import CORPUS, RAW
from .multistory import take_down, write_captures
from .test_executor import tree_hashes

runner = CliRunner()


def _released_seed(root: Path) -> Path:
    """raw/ (the seed captures) and released/ (the seed release's registry and manifest)."""
    raw = root / "raw"
    shutil.copytree(RAW, raw)
    (root / "released").mkdir()
    for name in ("REGISTRY.json", "MANIFEST.json"):
        shutil.copy(CORPUS / name, root / "released" / name)
    return raw


def _add_story(raw: Path, pages: Path, story: int) -> list[str]:
    """Ingest one story (an original and a mirror); their capture IDs."""
    before = {r["capture_id"] for r in _records(raw)}
    items = []
    for n, path in enumerate(write_captures(pages, stories=(story,), mirrors=1)):
        source = "origin.example" if n == 0 else "mirror1.example"
        items += file_inputs(path, source=source, captured_at="2024-03-01", url=None, fmt="text")
    ingest(items, raw)
    return sorted({r["capture_id"] for r in _records(raw)} - before)


def _records(raw: Path) -> list[dict]:
    lines = (raw / "captures.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _build(raw: Path, out: Path) -> None:
    result = runner.invoke(app, ["build", "--raw", str(raw), "--out", str(out)])
    assert result.exit_code == 0, result.output


def test_a_grown_corpus_builds_the_same_twice_and_its_rebuild_validates(tmp_path: Path) -> None:
    raw = _released_seed(tmp_path)
    _add_story(raw, tmp_path / "pages", 0)
    corpus = tmp_path / "corpus"
    _build(raw, corpus)
    registry = json.loads((corpus / "REGISTRY.json").read_text(encoding="utf-8"))
    assert len(registry["stories"]) == 2  # the build made a story the release does not have
    first = tree_hashes(corpus)
    _build(raw, corpus)  # it read the release's registry again, not the one it wrote
    assert tree_hashes(corpus) == first
    result = runner.invoke(app, ["validate", str(corpus), "--raw", str(raw), "--rebuild"])
    assert result.exit_code == 0, result.output
    assert "reproduces it byte for byte" in " ".join(result.output.split())
    # the corpus's own registry is its output: rebuilding from it is refused, with the reason
    wrong = runner.invoke(
        app,
        ["validate", str(corpus), "--raw", str(raw), "--rebuild"]
        + ["--registry", str(corpus / "REGISTRY.json")],
    )
    assert wrong.exit_code == 1
    said = " ".join(wrong.output.split())
    assert "built from a registry with SHA-256" in said and "REGISTRY.json has SHA-256" in said


def test_the_corpus_does_not_depend_on_the_builds_run_since_the_release(tmp_path: Path) -> None:
    """A story made after the release, then its first capture taken down: built step by step
    (the intermediate build knew the story's ID) or at once, the corpus is the same, since both
    start from the release's registry."""
    raw = _released_seed(tmp_path)
    story = _add_story(raw, tmp_path / "pages", 0)
    _add_story(raw, tmp_path / "pages", 1)
    stepwise = tmp_path / "corpus"
    _build(raw, stepwise)
    take_down(raw, story[0])  # the capture the new story's ID was derived from
    _build(raw, stepwise)
    at_once = tmp_path / "other"
    _build(raw, at_once)
    assert tree_hashes(stepwise) == tree_hashes(at_once)
