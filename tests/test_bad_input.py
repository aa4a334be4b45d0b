"""Bad input gets a clear error naming the file and the reason (or a quarantine entry), never
garbled text in the corpus: readings in the wrong encoding, compressed or binary files, dates
no capture can have, records with a key twice, a corpus folder that cannot be replaced."""

from __future__ import annotations

import errno
import gzip
import json
import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsvariants import build as build_module
from newsvariants.build import build
from newsvariants.cli import app
from newsvariants.errors import AnnotationError, IngestError, NewsVariantsError, RawStoreError
from newsvariants.ingest import (
    capture_errors,
    capture_record,
    detect_encoding,
    file_inputs,
    ingest,
    read_capture_records,
)
from newsvariants.registry import StoryRegistry

from .conftest import RAW, append_hand_written_record, corpus_copy
from .test_executor import tree_hashes

ENGLISH = (
    "The regional council approved the new bridge on Monday after a long public debate.\n\n"
    "Residents said the decision would change how they travel to work every single day!!\n"
)  # an even number of bytes: read as UTF-16, whole characters (odd, it does not decode)
FRENCH = (
    "Le président a déclaré mardi que les négociations se poursuivraient à Genève.\n\n"
    "« Nous sommes prêts », a-t-il ajouté devant la presse réunie à l’Élysée.\n"
)
RUSSIAN = (
    "Министр иностранных дел России заявил в четверг, что переговоры продолжатся.\n\n"
    "Он добавил, что стороны готовы обсуждать любые предложения партнёров.\n"
)


def _ingest_cli(path: Path, raw: Path, *options: str) -> tuple[int, str]:
    args = ["ingest", str(path), "--raw", str(raw), "--source", "x.org", *options]
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("text", "given", "expected"),
    [
        (ENGLISH, "utf-16", "garbled text"),  # ASCII read as UTF-16: CJK-looking characters
        (ENGLISH, "cp037", "not text"),  # EBCDIC: line breaks read as control characters
        (RUSSIAN, "koi8-r", "mojibake ('"),  # UTF-8 read as a legacy encoding
        (FRENCH, "cp1252", "mojibake ('Le prÃ©sident"),
    ],
)
def test_an_encoding_given_that_garbles_the_text_is_refused(
    tmp_path: Path, text: str, given: str, expected: str
) -> None:
    page = tmp_path / "p.txt"
    page.write_bytes(text.encode("utf-8"))
    raw = tmp_path / "raw"
    code, output = _ingest_cli(page, raw, "--encoding", given)
    assert code == 1 and "p.txt: read as " in output and expected in output
    assert not (raw / "captures.jsonl").exists()  # nothing stored
    code, output = _ingest_cli(page, raw)  # detected, it reads right
    assert code == 0 and "utf_8" in output


@pytest.mark.parametrize(
    ("text", "encoding"),
    [(FRENCH, "cp1252"), (RUSSIAN, "cp1251"), (RUSSIAN, "koi8-r"), (ENGLISH, "utf-16")],
)
def test_a_right_encoding_given_is_taken(tmp_path: Path, text: str, encoding: str) -> None:
    # the check must not stand in the way of `--encoding` correcting a wrong guess
    page = tmp_path / "p.txt"
    page.write_bytes(text.encode(encoding))
    [item] = file_inputs(
        page, source="x.org", captured_at=None, url=None, fmt="text", encoding=encoding
    )
    assert capture_record(item).encoding.replace("_", "-") in (encoding, "cp1251", "koi8-r")


def test_a_page_declaring_a_charset_that_garbles_it_is_sniffed_instead() -> None:
    body = RUSSIAN.replace("\n\n", "</p><p>")
    page = '<html><head><meta charset="{}"></head><body><p>' + body + "</p></body></html>"
    # a template declaring windows-1252 around cp1251 text: read as declared, it is "Ìèíèñòð"
    assert detect_encoding(page.format("windows-1252").encode("cp1251")) == "cp1251"
    assert detect_encoding(page.format("koi8-r").encode("koi8-r")) == "koi8_r"  # true: taken


@pytest.mark.parametrize(
    ("text", "encoding", "reason"),
    [
        (RUSSIAN * 3, "cp1251", "read as cp1251, mojibake ("),
        (ENGLISH * 3, "utf_16", "read as utf_16, garbled text"),
    ],
)
def test_a_record_with_an_encoding_that_garbles_its_bytes_is_quarantined(
    raw_copy: Path, tmp_path: Path, text: str, encoding: str, reason: str
) -> None:
    """A record edited by hand (ingest refuses such a reading): the build must not publish
    its mojibake as paragraphs."""
    capture_id = append_hand_written_record(raw_copy, text.encode("utf-8"), encoding, "x.org")
    out = tmp_path / "out"
    build(raw_copy, out)
    report = json.loads((out / "MANIFEST.json").read_text())["build_report"]
    [entry] = report["quarantined"]
    assert entry["capture_id"] == capture_id and entry["reason"].startswith(reason)
    assert report["variants"] == 2  # the seeds


def test_utf16_without_a_byte_order_mark_gets_the_encoding_to_give(tmp_path: Path) -> None:
    page = tmp_path / "p.txt"
    page.write_bytes(ENGLISH.encode("utf-16-le"))
    raw = tmp_path / "raw"
    code, output = _ingest_cli(page, raw)
    assert code == 1 and "p.txt: read as utf_8, not text" in output
    assert "give --encoding utf-16-le" in " ".join(output.split())
    code, output = _ingest_cli(page, raw, "--encoding", "utf-16-le")
    assert code == 0, output
    page.write_bytes(ENGLISH.encode("utf-16-be"))
    assert "give --encoding utf-16-be" in " ".join(_ingest_cli(page, raw)[1].split())


def test_a_gzip_compressed_dump_is_refused_with_what_to_do(tmp_path: Path) -> None:
    page = tmp_path / "p.txt.gz"
    page.write_bytes(gzip.compress(ENGLISH.encode("utf-8")))
    code, output = _ingest_cli(page, tmp_path / "raw")
    assert code == 1
    assert "p.txt.gz: gzip-compressed, and not a WARC file: decompress it" in output


def test_a_nul_in_a_text_dump_is_refused_but_an_html_page_shows_it_as_u_fffd(
    tmp_path: Path,
) -> None:
    dump = tmp_path / "p.txt"
    dump.write_bytes(ENGLISH.encode("utf-8").replace(b"bridge", b"bri\x00dge"))
    code, output = _ingest_cli(dump, tmp_path / "raw")
    at = ENGLISH.index("bridge") + 3
    assert code == 1 and f"p.txt: read as utf_8, NUL character at offset {at}" in output
    page = tmp_path / "p.html"
    body = ENGLISH.replace("bridge", "bri\x00dge").replace("\n\n", "</p><p>")
    page.write_bytes(f"<html><body><p>{body}</p></body></html>".encode())
    code, output = _ingest_cli(page, tmp_path / "raw")
    assert code == 0, output


def _capture_dated(tmp_path: Path, captured_at: str) -> list:
    page = tmp_path / "p.txt"
    page.write_text(ENGLISH, encoding="utf-8")
    return file_inputs(page, source="x.org", captured_at=captured_at, url=None, fmt="text")


@pytest.mark.parametrize("captured_at", ["0001-01-01", "1024-05-01T10:00Z", "1990-12-31"])
def test_a_capture_date_before_the_web_is_refused(tmp_path: Path, captured_at: str) -> None:
    with pytest.raises(IngestError, match=f"captured_at '{captured_at}' is before the web"):
        ingest(_capture_dated(tmp_path, captured_at), tmp_path / "raw")
    record = capture_record(_capture_dated(tmp_path, "2024-05-01")[0]).to_dict()
    assert capture_errors({**record, "captured_at": captured_at})  # build and validate too
    assert capture_errors({**record, "captured_at": "1991-08-06"}) == []


def test_a_capture_date_in_the_future_is_refused_at_ingest(tmp_path: Path) -> None:
    today = date(2026, 11, 25)
    items = _capture_dated(tmp_path, "2999-01-01")
    with pytest.raises(IngestError, match="'2999-01-01' is in the future .today is 2026-11-25"):
        ingest(items, tmp_path / "raw", today=today)
    # a day of grace for time zones ahead of UTC; a build's verdict does not depend on the day
    [outcome] = ingest(_capture_dated(tmp_path, "2026-11-26T09:00+10:00"), tmp_path / "raw", today)
    assert outcome.added
    record = capture_record(items[0]).to_dict()
    assert capture_errors(record) == []


def test_a_key_given_twice_is_refused_where_it_was_silently_resolved(tmp_path: Path) -> None:
    page = tmp_path / "p.txt"
    page.write_text(ENGLISH, encoding="utf-8")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"path": "p.txt", "source": "a.org", "source": "b.org"}\n')
    result = CliRunner().invoke(
        app, ["ingest", "--manifest", str(manifest), "--raw", str(tmp_path / "r")]
    )
    assert result.exit_code == 1
    assert "m.jsonl:1: key 'source' given twice in one object" in result.output

    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    lines = (raw / "captures.jsonl").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace('"source":', '"source": "a.org", "source":', 1)
    (raw / "captures.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RawStoreError, match="captures.jsonl:2: key 'source' given twice"):
        read_capture_records(raw)

    registry = tmp_path / "REGISTRY.json"
    registry.write_text('{"split_salt": "a", "split_salt": "b", "generation": 0}')
    with pytest.raises(NewsVariantsError, match="REGISTRY.json: key 'split_salt' given twice"):
        StoryRegistry.load(registry)

    from newsvariants.annotations import parse_annotation

    with pytest.raises(AnnotationError, match="a.jsonl:3: key 'relation' given twice"):
        parse_annotation('{"relation": "copy", "relation": "added"}', "a.jsonl:3")


def test_a_corpus_folder_that_cannot_be_replaced_is_a_clear_error_and_stays_intact(
    seed_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = corpus_copy(seed_corpus, tmp_path)
    before = tree_hashes(out)
    real_replace = os.replace

    def busy(source: object, target: object) -> None:
        if Path(str(source)) == out:  # renaming a mount point away: "Device or resource busy"
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(source))
        real_replace(source, target)

    monkeypatch.setattr(build_module.os, "replace", busy)
    with pytest.raises(NewsVariantsError) as info:
        build(RAW, out)
    message = str(info.value)
    assert message.startswith(f"{out}: cannot put the new corpus in place")
    assert os.strerror(errno.EBUSY) in message and "previous corpus is unchanged" in message
    assert "--out" in message
    assert tree_hashes(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]  # no staging folder left


def test_extract_reads_a_stored_capture_as_its_record_says(tmp_path: Path) -> None:
    # detected, these cp1257 bytes read as cp1252 ("latvieðu valodâ"); --encoding corrected it
    page = tmp_path / "p.txt"
    text = "Šis ir teksts latviešu valodā par jauno tiltu pār Daugavu.\n"
    page.write_bytes(text.encode("cp1257"))
    raw = tmp_path / "raw"
    assert _ingest_cli(page, raw, "--encoding", "windows-1257")[0] == 0
    [record] = read_capture_records(raw)
    stored = raw / record.path

    def extracted(*args: str) -> dict:
        result = CliRunner().invoke(app, ["extract", *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    guessed = extracted(str(stored))
    assert guessed["encoding"] != "cp1257"  # what the correction was for
    for args in ([str(stored), "--raw", str(raw)], [str(page), "--encoding", "windows-1257"]):
        result = extracted(*args)
        assert result["encoding"] == "cp1257"
        assert [p["text"] for p in result["paragraphs"]] == [text.strip()]


def test_a_short_legacy_text_is_read_in_an_encoding_a_browser_reads() -> None:
    # among all of Python's codecs, charset-normalizer ranked shift_jis_2004 first for it
    short = "Съешь же ещё этих мягких булок.\n"
    assert detect_encoding(short.encode("koi8-r")) == "koi8_r"


def test_a_file_or_warc_record_larger_than_any_page_is_refused_or_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsvariants import ingest as ingest_module

    from .test_warc_encoding import build_warc

    monkeypatch.setattr(ingest_module, "MAX_CAPTURE_BYTES", 250)  # the WARC pages: 277, 292
    page = tmp_path / "p.txt"
    page.write_text(ENGLISH * 3, encoding="utf-8")
    code, output = _ingest_cli(page, tmp_path / "raw")
    assert code == 1 and f"p.txt: {len((ENGLISH * 3).encode())} bytes, more than any" in output
    warc = tmp_path / "w.warc.gz"
    warc.write_bytes(build_warc())
    result = CliRunner().invoke(
        app, ["ingest", str(warc), "--raw", str(tmp_path / "raw"), "--source", "x.org"]
    )
    assert result.exit_code == 0  # a WARC's other records are read; these two are told
    assert "2 larger than 0 MiB (not one page)" in result.output
