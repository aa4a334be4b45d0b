"""Mistakes on the command line (a mistyped folder, a missing file, odd characters in a path) get
an error that names the path and the reason, and never touch the corpus."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from newsvariants.cli import app

from .conftest import RAW, corpus_copy
from .test_executor import tree_hashes

runner = CliRunner()


def test_a_mistyped_raw_folder_is_an_error_not_an_empty_corpus(
    seed_corpus: Path, tmp_path: Path
) -> None:
    # It used to build "0 captures", retire every story in the registry and swap that in.
    out = corpus_copy(seed_corpus, tmp_path)
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
    out = corpus_copy(seed_corpus, tmp_path)
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
    # Built into a fresh folder, a corpus silently got new story IDs and splits. Before the
    # first release (no released/ beside raw/) the build says so, and says that it does not read
    # the last build's registry; once released/ holds one, the build starts from it, silently.
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    fresh = tmp_path / "fresh"
    result = runner.invoke(app, ["build", "--raw", str(raw), "--out", str(fresh)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "no registry" in said and "story IDs and splits come from raw/ alone" in said
    assert "is not read" not in said
    again = runner.invoke(app, ["build", "--raw", str(raw), "--out", str(fresh)])
    said = " ".join(again.output.split())
    assert again.exit_code == 0 and "no registry" in said
    assert f"{fresh / 'REGISTRY.json'} (the last build's) is not read" in said
    (tmp_path / "released").mkdir()
    shutil.copy(fresh / "REGISTRY.json", tmp_path / "released" / "REGISTRY.json")
    third = runner.invoke(app, ["build", "--raw", str(raw), "--out", str(fresh)])
    assert third.exit_code == 0 and "no registry" not in third.output


def test_validating_against_another_raw_folder_is_one_clear_problem(
    seed_corpus: Path, tmp_path: Path
) -> None:
    # A downloaded corpus checked inside a checkout (./raw is the default) got one
    # "capture not in raw/captures.jsonl" per variant.
    other = tmp_path / "raw"
    page = tmp_path / "page.txt"
    page.write_text("A Story\n\nIts only paragraph, in another raw/ folder.\n", encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(page), "--raw", str(other), "--source", "x.org"])
    result = runner.invoke(app, ["validate", str(seed_corpus), "--raw", str(other)])
    assert result.exit_code == 1
    assert "1 problem(s)" in result.output
    assert f"{other}: not the raw/ this corpus was built from" in result.output
    assert "validate with --no-raw" in result.output


def test_validate_no_raw_checks_the_corpus_alone_even_beside_a_raw_folder(
    seed_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "raw").mkdir()  # an empty raw/ that the corpus was not built from
    beside = runner.invoke(app, ["validate", str(seed_corpus)])
    assert beside.exit_code == 1 and "not the raw/ this corpus was built from" in beside.output
    alone = runner.invoke(app, ["validate", str(seed_corpus), "--no-raw"])
    assert alone.exit_code == 0 and "is valid (without raw/)" in alone.output
    both = runner.invoke(app, ["validate", str(seed_corpus), "--no-raw", "--raw", "raw"])
    assert both.exit_code == 1 and "not both" in both.output


def ingested_page(tmp_path: Path, source: str) -> tuple[Path, Path, list[str]]:
    """A one-paragraph page ingested into tmp_path/raw: (raw, the page, the ingest arguments)."""
    raw, page = tmp_path / "raw", tmp_path / "page.txt"
    page.write_text("A Story\n\nIts only paragraph.\n", encoding="utf-8")
    args = ["ingest", str(page), "--raw", str(raw), "--source", source]
    assert runner.invoke(app, args).exit_code == 0
    return raw, page, args


def test_ingesting_stored_bytes_under_other_metadata_says_what_is_kept(tmp_path: Path) -> None:
    raw, page, first = ingested_page(tmp_path, "a.example")
    again = runner.invoke(
        app,
        ["ingest", str(page), "--raw", str(raw), "--source", "b.example"]
        + ["--captured-at", "2024-06-01"],
    )
    assert again.exit_code == 0
    assert "already present (no-op; its record keeps source 'a.example', not 'b.example'" in (
        again.output
    )
    assert "captured_at None, not '2024-06-01'" in again.output
    same = runner.invoke(app, first)
    assert "already present (no-op)" in same.output and "keeps" not in same.output


def test_build_refuses_an_output_folder_that_is_not_a_corpus(tmp_path: Path) -> None:
    # A build replaces its output folder whole: it deleted a raw/ inside it, raw/ itself, or a
    # folder of notes, without a word.
    raw = tmp_path / "p" / "raw"
    shutil.copytree(RAW, raw)
    notes = tmp_path / "docs"
    notes.mkdir()
    (notes / "notes.txt").write_text("x", encoding="utf-8")
    (tmp_path / "out.txt").write_text("x", encoding="utf-8")
    for out, reason in (
        (raw.parent, "must not contain one another"),
        (raw, "must not contain one another"),
        (notes, "neither empty nor a corpus"),
        (tmp_path / "out.txt", "not a folder"),
    ):
        before = tree_hashes(tmp_path)
        result = runner.invoke(app, ["build", "--raw", str(raw), "--out", str(out)])
        assert result.exit_code == 1 and reason in result.output, result.output
        assert tree_hashes(tmp_path) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    assert runner.invoke(app, ["build", "--raw", str(raw), "--out", str(empty)]).exit_code == 0
    again = runner.invoke(app, ["build", "--raw", str(raw), "--out", str(empty)])  # a corpus now
    assert again.exit_code == 0, again.output


def test_a_line_separator_in_a_note_does_not_break_raw(tmp_path: Path) -> None:
    # Written unescaped into captures.jsonl (ensure_ascii=False), U+2028 was read back as a line
    # break (str.splitlines): the next ingest or build failed with "not JSON".
    raw = tmp_path / "raw"
    for name, note in (("a", "one\u2028two\u0085three"), ("b", None)):
        page = tmp_path / f"{name}.txt"
        page.write_text(f"Story {name}\n\nIts only paragraph, long enough to be one.\n", "utf-8")
        args = ["ingest", str(page), "--raw", str(raw), "--source", "x.org"]
        result = runner.invoke(app, args + (["--note", note] if note else []))
        assert result.exit_code == 0, result.output
    from newsvariants.ingest import read_capture_records

    notes = [c.note for c in read_capture_records(raw)]
    assert "one\u2028two\u0085three" in notes and len(notes) == 2


def test_a_saved_html_fragment_is_ingested_as_html(tmp_path: Path) -> None:
    page = tmp_path / "fragment.html"
    page.write_text('<div class="article"><p>A paragraph of the story.</p></div>\n', "utf-8")
    result = runner.invoke(
        app, ["ingest", str(page), "--raw", str(tmp_path / "raw"), "--source", "x.org"]
    )
    assert result.exit_code == 0 and "(html, utf_8)" in result.output, result.output
    same = tmp_path / "fragment.txt"  # the same bytes as a .txt: text, and the output says so
    same.write_text('<div class="article"><p>Another paragraph.</p></div>\n', "utf-8")
    result = runner.invoke(
        app, ["ingest", str(same), "--raw", str(tmp_path / "raw"), "--source", "x.org"]
    )
    assert "(text, utf_8)" in result.output


def test_a_file_in_raw_annotations_that_is_not_read_is_an_error(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / "annotations" / "notes.json").write_text("{}", encoding="utf-8")
    result = runner.invoke(app, ["build", "--raw", str(raw), "--out", str(tmp_path / "c")])
    assert result.exit_code == 1 and "notes.json: not an annotation file" in result.output


def test_ingesting_the_bytes_again_repairs_a_damaged_stored_file(tmp_path: Path) -> None:
    raw, page, args = ingested_page(tmp_path, "x.org")
    (stored,) = (raw / "captures").rglob("*.txt")
    stored.write_bytes(stored.read_bytes()[:10])  # truncated
    result = runner.invoke(app, args)
    assert "its damaged stored file written again" in result.output, result.output
    assert stored.read_bytes() == page.read_bytes()
    assert "no-op" in runner.invoke(app, args).output  # intact now: nothing to do


def test_an_output_folder_under_a_file_is_named_not_a_traceback(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    for out in (tmp_path / "notes.txt" / "corpus", tmp_path / "notes.txt" / "a" / "corpus"):
        before = tree_hashes(tmp_path)
        result = runner.invoke(app, ["build", "--raw", str(raw), "--out", str(out)])
        # a clean exit (SystemExit), not the FileExistsError of mkdir
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert f"{out}: cannot write the corpus there" in result.output, result.output
        assert f"{tmp_path / 'notes.txt'} is a file, not a folder" in result.output
        assert tree_hashes(tmp_path) == before


def test_a_read_only_output_parent_is_named_and_the_corpus_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    parent = tmp_path / "shared"
    out = parent / "corpus"
    assert runner.invoke(app, ["build", "--raw", str(raw), "--out", str(out)]).exit_code == 0
    before = tree_hashes(parent)
    parent.chmod(0o555)
    try:
        if os.access(parent, os.W_OK):  # root writes anyway: refuse as the kernel would
            import tempfile

            def refuse(*args: object, dir: str, **kwargs: object) -> str:
                raise PermissionError(13, "Permission denied", dir)

            monkeypatch.setattr(tempfile, "mkdtemp", refuse)
        result = runner.invoke(app, ["build", "--raw", str(raw), "--out", str(out)])
    finally:
        parent.chmod(0o755)
    assert result.exit_code == 1, result.output
    assert f"{out}: cannot write the corpus there ({parent}: Permission denied)" in " ".join(
        result.output.split()
    )
    assert tree_hashes(parent) == before


def _build(raw: Path, out: Path, *options: str) -> Result:
    return runner.invoke(app, ["build", "--raw", str(raw), "--out", str(out), *options])


def test_a_cache_folder_that_cannot_be_used_is_named_and_the_corpus_kept(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    out = tmp_path / "corpus"
    assert _build(raw, out).exit_code == 0
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    (tmp_path / "folder" / "captures.sqlite").mkdir(parents=True)
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / "captures.sqlite").write_bytes(b"not a database\n" * 500)
    before = tree_hashes(out)
    for cache_dir, reason in (
        (tmp_path / "notes.txt", "cannot use as the cache folder (%s is a file, not a folder)"),
        (
            tmp_path / "notes.txt" / "c",
            "cannot use as the cache folder (%s is a file, not a folder)",
        ),
        (tmp_path / "folder", "cannot use the cache database (unable to open database file)"),
        (tmp_path / "garbage", "cannot use the cache database (file is not a database)"),
    ):
        result = _build(raw, out, "--cache", "--cache-dir", str(cache_dir))
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        message = " ".join(result.output.split())
        assert reason.replace("%s", str(tmp_path / "notes.txt")) in message, message
        assert str(cache_dir) in message
        assert tree_hashes(out) == before


def _damage_cache(database: Path) -> int:
    """Damages cached values in the ways a disk or a killed writer might; returns how many."""
    from newsvariants.executor import encode_value

    db = sqlite3.connect(database)
    keys = sorted(key for (key,) in db.execute("SELECT key FROM entry"))
    scan, extract, fingerprint, align = (
        next(k for k in keys if k.startswith(p))
        for p in ("scan", "extract", "fingerprint", "align")
    )
    valid = encode_value(("a", "value"))
    damaged = {
        scan: b"\x01" + b"\xde\xad\xbe\xef",  # cut short
        extract: b"x" + bytes(64),  # not a zlib stream
        fingerprint: valid[: len(valid) // 2],  # an LZ4 frame cut in the middle
        align: valid,  # unpickles, but is not a cached alignment
    }
    # a source's value stands for its captures' scans, which are read only when it is unusable
    damaged |= {key: valid for key in keys if key.startswith("source-scan")}
    # the variant rows of a chunk, kept once for its captures: all of them are made again
    damaged[next(k for k in keys if k.startswith("rows|variant"))] = valid[:-3]
    with db:
        db.executemany(
            "UPDATE entry SET value = ? WHERE key = ?", [(v, k) for k, v in damaged.items()]
        )
    db.close()
    return len(damaged)


def test_damaged_cache_entries_are_computed_again_and_the_build_says_so(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    cache = tmp_path / "cache"
    for _ in range(2):  # the second build reads the first's registry, as the cached one will
        assert _build(raw, tmp_path / "plain").exit_code == 0
    assert _build(raw, tmp_path / "cached", "--cache", "--cache-dir", str(cache)).exit_code == 0
    count = _damage_cache(cache / "captures.sqlite")
    result = _build(raw, tmp_path / "cached", "--cache", "--cache-dir", str(cache))
    assert result.exit_code == 0, result.output
    message = " ".join(result.output.split())
    assert f"{cache / 'captures.sqlite'}: {count} cached values could not be read" in message
    assert tree_hashes(tmp_path / "cached") == tree_hashes(tmp_path / "plain")
    again = _build(raw, tmp_path / "cached", "--cache", "--cache-dir", str(cache))
    assert again.exit_code == 0 and "could not be read" not in again.output  # stored again


def test_an_interrupted_build_says_what_state_the_corpus_is_in(
    seed_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C used to exit 130 without a word."""
    from newsvariants import build as build_module

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    out = corpus_copy(seed_corpus, tmp_path)
    before = tree_hashes(out)
    monkeypatch.setattr(build_module, "build", interrupted)
    result = runner.invoke(app, ["build", "--raw", str(RAW), "--out", str(out)])
    assert result.exit_code == 130
    assert f"interrupted: {out} is as it was" in " ".join(result.output.split())
    assert tree_hashes(out) == before


def test_validating_a_corpus_caught_between_the_swap_renames_says_so(
    seed_corpus: Path, tmp_path: Path
) -> None:
    shutil.copytree(seed_corpus, tmp_path / ".corpus-previous")
    result = runner.invoke(app, ["validate", str(tmp_path / "corpus"), "--no-raw"])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "a build was interrupted while swapping it in" in said
    assert "the next build puts it back" in said
