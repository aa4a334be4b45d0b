"""`newsvariants validate` catches corruption and broken invariants, precisely."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsvariants.cli import app
from newsvariants.errors import ValidationError
from newsvariants.validate import _check_offsets, validate_corpus

from .conftest import RAW

runner = CliRunner()


def test_the_seed_corpus_is_valid_against_raw(seed_corpus: Path) -> None:
    counts = validate_corpus(seed_corpus, RAW)
    assert counts["variants"] == 2 and counts["alignments"] == 10


def test_one_flipped_byte_is_caught(seed_corpus: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(seed_corpus, corpus)
    target = corpus / "alignments" / "train-00000-of-00001.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    result = runner.invoke(app, ["validate", str(corpus), "--raw", str(RAW)])
    assert result.exit_code == 1
    assert "alignments/train-00000-of-00001.parquet" in result.output
    assert "SHA-256" in result.output


def test_a_row_count_mismatch_is_caught(seed_corpus: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(seed_corpus, corpus)
    manifest = json.loads((corpus / "MANIFEST.json").read_text())
    for entry in manifest["files"]:
        if entry["path"].startswith("variants/"):
            entry["rows"] += 1
    (corpus / "MANIFEST.json").write_text(json.dumps(manifest))
    with pytest.raises(ValidationError, match=r"variants/train.*3 rows|2 rows != MANIFEST"):
        validate_corpus(corpus, RAW)


def test_an_unlisted_file_is_caught(seed_corpus: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(seed_corpus, corpus)
    shutil.copy(
        corpus / "stories" / "train-00000-of-00001.parquet",
        corpus / "stories" / "test-00000-of-00001.parquet",
    )
    with pytest.raises(ValidationError, match="not listed in MANIFEST.json"):
        validate_corpus(corpus, RAW)


def _variant(text: str, start: int, end: int) -> dict:
    return {
        "variant_id": "v-0000000000000000",
        "paragraphs": [
            {
                "paragraph_id": "v-0000000000000000:p000",
                "text": text[start:end],
                "start": start,
                "end": end,
            }
        ],
        "captions": [],
        "title": None,
        "title_span": None,
        "byline": None,
        "byline_span": None,
        "removed": [],
    }


def test_offsets_must_slice_the_paragraph_out_of_the_capture() -> None:
    text = "Menu\nThe body sentence."
    variant = _variant(text, 5, len(text))
    problems: list[str] = []
    _check_offsets(variant, text, problems)
    assert problems == ["variant v-0000000000000000: character 0 ('M') lies in no span"]
    variant["paragraphs"][0]["start"] = 6
    problems = []
    _check_offsets(variant, text, problems)
    assert any("offsets do not slice its text" in p for p in problems)


def test_validate_fails_on_a_missing_corpus(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and "not a folder" in result.output
