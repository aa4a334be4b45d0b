"""Mistakes on the command line (a mistyped folder, a missing file, odd characters in a path) get
an error that names the path and the reason, and never touch the corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsvariants.cli import app

from .conftest import RAW
from .test_executor import tree_hashes

runner = CliRunner()


def test_a_mistyped_raw_folder_is_an_error_not_an_empty_corpus(
    seed_corpus: Path, tmp_path: Path
) -> None:
    # It used to build "0 captures", retire every story in the registry and swap that in.
    out = tmp_path / "corpus"
    shutil.copytree(seed_corpus, out)
    before = tree_hashes(out)
    for raw in (tmp_path / "raww", tmp_path):  # no such folder; a folder without captures.jsonl
        result = runner.invoke(app, ["build", "--raw", str(raw), "--out", str(out)])
        assert result.exit_code == 1
        assert f"{raw}: not a raw/ folder" in result.output
    assert tree_hashes(out) == before


def test_a_missing_registry_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "REGISTRY.json"
    result = runner.invoke(
        app,
        ["build", "--raw", str(RAW), "--out", str(tmp_path / "out"), "--registry", str(missing)],
    )
    assert result.exit_code == 1
    assert f"{missing}: no such registry file" in result.output
    assert not (tmp_path / "out").exists()


def test_validate_with_a_raw_folder_that_is_not_there_does_not_pass(seed_corpus: Path) -> None:
    # "valid (without raw/)" would skip every offset check the user asked for
    result = runner.invoke(app, ["validate", str(seed_corpus), "--raw", "no/such/raw"])
    assert result.exit_code == 1
    assert "no/such/raw: no such raw/ folder" in result.output
    checked = runner.invoke(app, ["validate", str(seed_corpus), "--raw", str(RAW)])
    assert checked.exit_code == 0 and "(with raw/)" in checked.output


@pytest.mark.parametrize(
    "command",
    [
        ["score", "predictions.jsonl", "--corpus", "{corpus}"],
        ["explore", "{corpus}", "--output", "{tmp}/explore"],
        ["bench", "{corpus}", "--output", "{tmp}/results", "--no-embeddings"],
    ],
)
def test_commands_reading_a_corpus_refuse_a_folder_that_is_not_one(
    tmp_path: Path, command: list[str]
) -> None:
    for corpus, why in (
        (tmp_path / "nocorp", "no such folder"),
        (tmp_path, "no MANIFEST.json in it"),
    ):
        args = [a.format(corpus=corpus, tmp=tmp_path) for a in command]
        result = runner.invoke(app, args)
        assert result.exit_code == 1
        assert f"{corpus}: not a built corpus folder ({why})" in result.output
    assert not (tmp_path / "explore").exists() and not (tmp_path / "results").exists()


def test_error_messages_are_printed_as_they_are_not_read_as_markup(tmp_path: Path) -> None:
    page = tmp_path / "[bold]" / "page.txt"
    page.parent.mkdir()
    page.write_text("A sentence of the article that is long enough to count.\n", "utf-8")
    result = runner.invoke(
        app, ["ingest", str(page), "--raw", str(tmp_path / "raw"), "--source", "Example.ORG"]
    )
    assert result.exit_code == 1
    assert "'^[a-z0-9][a-z0-9._-]*$'" in result.output  # the pattern, not an eaten "tag"
    assert "[bold]" in result.output
    odd = tmp_path / "a[/y]b.jsonl"  # a closing tag with no opening one crashed the printer
    result = runner.invoke(app, ["ingest", "--manifest", str(odd), "--raw", str(tmp_path / "r")])
    assert result.exit_code == 1 and f"{odd}: cannot read" in result.output


def test_extract_names_the_file_of_a_page_it_cannot_read_whole(tmp_path: Path) -> None:
    from .test_html import nested_page

    page = tmp_path / "deep.html"
    page.write_text(nested_page(2100), encoding="utf-8")
    result = runner.invoke(app, ["extract", str(page)])
    assert result.exit_code == 1
    assert f"{page}: libxml2 stopped reading the page at line 1" in result.output


def test_a_file_under_raw_captures_that_no_record_names_is_reported_not_left_out(
    seed_corpus: Path, raw_copy: Path, tmp_path: Path
) -> None:
    # A capture copied in by hand (or left by a killed ingest) was not built and not reported.
    stray = raw_copy / "captures" / "00" / "copied-by-hand.txt"
    stray.parent.mkdir(parents=True)
    stray.write_text("A Story\n\nIts only paragraph, copied into raw/ by hand.\n", encoding="utf-8")
    (raw_copy / "captures" / "00" / ".tmp-abc123").write_bytes(b"cut short")  # not a capture
    out = tmp_path / "corpus"
    shutil.copytree(seed_corpus, out)
    before = tree_hashes(out)
    result = runner.invoke(app, ["build", "--raw", str(raw_copy), "--out", str(out)])
    assert result.exit_code == 1
    assert "1 file(s) under captures/ that no record of captures.jsonl names" in result.output
    assert "captures/00/copied-by-hand.txt" in result.output and ".tmp-" not in result.output
    assert tree_hashes(out) == before
    result = runner.invoke(app, ["validate", str(out), "--raw", str(raw_copy)])
    assert result.exit_code == 1
    assert f"{stray}: no record of captures.jsonl names this file" in result.output
    stray.unlink()
    result = runner.invoke(app, ["validate", str(out), "--raw", str(raw_copy)])
    assert result.exit_code == 0, result.output


def test_a_build_without_any_registry_says_so(tmp_path: Path) -> None:
    # Built into a fresh folder, a corpus silently got new story IDs and splits.
    fresh = tmp_path / "fresh"
    result = runner.invoke(app, ["build", "--raw", str(RAW), "--out", str(fresh)])
    assert result.exit_code == 0, result.output
    assert "no registry" in result.output and "assigned afresh" in result.output
    again = runner.invoke(app, ["build", "--raw", str(RAW), "--out", str(fresh)])
    assert again.exit_code == 0 and "no registry" not in again.output  # it has its own now
