"""Ingest: content-addressed, idempotent, validated, all-or-nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsvariants.cli import app
from newsvariants.errors import IngestError, RawStoreError
from newsvariants.ingest import (
    file_inputs,
    ingest,
    load_captures,
    manifest_inputs,
    read_capture_records,
    sha256_bytes,
)

from .conftest import RAW, SEED_MIRROR, SEED_ORIGINAL

runner = CliRunner()
BODY = "A sentence of the article that is long enough to count as body text here.\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_captures_are_stored_byte_for_byte_with_honest_metadata() -> None:
    captures = {c.capture_id: c for c in load_captures(RAW)}
    assert set(captures) == {SEED_ORIGINAL, SEED_MIRROR}
    for capture in captures.values():
        data = (RAW / capture.path).read_bytes()
        assert sha256_bytes(data) == capture.sha256
        assert capture.capture_id == capture.sha256[:16]
    original, mirror = captures[SEED_ORIGINAL], captures[SEED_MIRROR]
    assert original.url is None and original.captured_at is None  # unknown, not invented
    assert mirror.url is None and mirror.captured_at == "2024-04-25"  # its render date


def test_ingest_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    page = _write(tmp_path / "page.txt", BODY)
    first = ingest(
        file_inputs(page, source="example.org", captured_at=None, url=None, fmt=None), raw
    )
    again = ingest(
        file_inputs(page, source="example.org", captured_at=None, url=None, fmt=None), raw
    )
    assert first[0].added and not again[0].added
    assert first[0].capture.sha256 == sha256_bytes(page.read_bytes())
    assert len(read_capture_records(raw)) == 1
    stored = raw / first[0].capture.path
    assert stored.read_bytes() == page.read_bytes()


def test_cli_says_a_repeated_ingest_is_a_no_op(tmp_path: Path) -> None:
    page = _write(tmp_path / "page.txt", BODY)
    args = ["ingest", str(page), "--raw", str(tmp_path / "raw"), "--source", "example.org"]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert "no-op" in result.output


def test_cli_counts_what_an_ingest_of_many_captures_did_on_stderr(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.txt", BODY)
    second = _write(tmp_path / "b.txt", BODY + "Another line of it.\n")
    raw = tmp_path / "raw"
    once = runner.invoke(app, ["ingest", str(first), "--raw", str(raw), "--source", "x.org"])
    assert once.exit_code == 0 and "ingested" not in once.stderr  # one capture: its line says it
    both = runner.invoke(
        app, ["ingest", str(first), str(second), "--raw", str(raw), "--source", "x.org"]
    )
    assert both.exit_code == 0, both.output
    assert both.stderr.strip() == "ingested 2 captures: 1 added, 1 already present"
    # stdout stays one line a capture
    assert [line.split()[1] for line in both.stdout.splitlines()] == ["already", "added"]


def test_manifest_ingest_reads_paths_relative_to_the_manifest(tmp_path: Path) -> None:
    _write(tmp_path / "in" / "a.txt", BODY)
    _write(tmp_path / "in" / "b.html", "<html><body><p>" + BODY + "</p></body></html>")
    manifest = _write(
        tmp_path / "in" / "m.jsonl",
        json.dumps({"path": "a.txt", "source": "a.org", "captured_at": "2024-01-02"})
        + "\n"
        + json.dumps({"path": "b.html", "source": "b.org", "url": "https://b.org/x"})
        + "\n",
    )
    outcomes = ingest(manifest_inputs(manifest), tmp_path / "raw")
    formats = sorted(o.capture.format for o in outcomes)
    assert formats == ["html", "text"]  # sniffed, not given


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"path": "a.txt", "source": "a.org", "captured_at": "last tuesday"}, "captured_at"),
        ({"path": "a.txt", "source": "A B"}, "source"),
        ({"path": "a.txt", "source": "a.org", "url": "ftp://x"}, "url"),
        ({"source": "a.org"}, "path"),
        ({"path": "a.txt"}, "field 'source'"),
        ({"path": "a.txt", "source": "a.org", "colour": "red"}, "colour"),
    ],
)
def test_bad_manifest_line_is_refused_naming_line_and_field(
    tmp_path: Path, entry: dict, field: str
) -> None:
    _write(tmp_path / "a.txt", BODY)
    good = json.dumps({"path": "a.txt", "source": "a.org"})
    manifest = _write(tmp_path / "m.jsonl", good + "\n" + json.dumps(entry) + "\n")
    with pytest.raises(IngestError) as info:
        manifest_inputs(manifest)
    message = str(info.value)
    assert "m.jsonl:2" in message and field in message
    assert "--" not in message  # a manifest's errors name its fields, not the CLI's options


def test_a_refused_manifest_writes_nothing(tmp_path: Path) -> None:
    _write(tmp_path / "a.txt", BODY)
    lines = [
        json.dumps({"path": "a.txt", "source": "a.org"}),
        json.dumps({"path": "a.txt", "source": "a.org", "captured_at": "soon"}),
    ]
    manifest = _write(tmp_path / "m.jsonl", "\n".join(lines) + "\n")
    raw = tmp_path / "raw"
    result = runner.invoke(app, ["ingest", "--manifest", str(manifest), "--raw", str(raw)])
    assert result.exit_code != 0
    assert "m.jsonl:2" in result.output and "captured_at" in result.output
    assert not raw.exists() or not any(raw.rglob("*"))


def test_a_changed_raw_file_is_detected(raw_copy: Path) -> None:
    capture = read_capture_records(raw_copy)[0]
    path = raw_copy / capture.path
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(RawStoreError, match="SHA-256 mismatch"):
        load_captures(raw_copy)


def test_a_missing_raw_file_is_named(raw_copy: Path) -> None:
    capture = read_capture_records(raw_copy)[0]
    path = raw_copy / capture.path
    path.unlink()
    with pytest.raises(
        RawStoreError, match=re.escape(f"{path}: missing (capture {capture.capture_id})")
    ):
        load_captures(raw_copy)
    path.mkdir()  # a folder where the file was is no capture either
    with pytest.raises(RawStoreError, match="missing"):
        load_captures(raw_copy)


def _edit_records(raw: Path, edit: str) -> int:
    """Apply one kind of damage to raw/captures.jsonl; the number of the line it lands on."""
    path = raw / "captures.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    first, second = json.loads(lines[0]), json.loads(lines[1])
    if edit == "duplicate":  # the same capture recorded twice (with other metadata)
        lines.append(json.dumps({**first, "source": "other.example"}))
    elif edit == "stolen id":  # another capture's bytes under the first one's identifier
        lines[1] = json.dumps({**second, "capture_id": first["capture_id"]})
    elif edit == "wrong path":
        lines[0] = json.dumps({**first, "path": second["path"]})
    elif edit == "wrong size":
        lines[0] = json.dumps({**first, "bytes": first["bytes"] + 1})
    elif edit == "impossible date":
        lines[0] = json.dumps({**first, "captured_at": "2024-13-45"})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"duplicate": 3, "stolen id": 2}.get(edit, 1)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ("duplicate", "already recorded on line 1"),
        ("stolen id", "not the first 16 digits of sha256"),
        ("wrong path", "path captures/"),
        ("wrong size", "bytes, but its record"),
        ("impossible date", "not a date that exists"),
    ],
)
def test_a_capture_record_that_disagrees_with_its_bytes_or_another_record_is_refused(
    raw_copy: Path, edit: str, reason: str
) -> None:
    # Such a record once made a variant disappear (or publish another capture's metadata)
    # while validation passed: the build must refuse raw/ and name the line.
    number = _edit_records(raw_copy, edit)
    with pytest.raises(RawStoreError, match=re.escape(reason)) as info:
        load_captures(raw_copy)
    if edit != "wrong size":  # the size is only known from the bytes: the error names the file
        assert f"captures.jsonl:{number}:" in str(info.value)


def test_an_impossible_capture_date_is_refused_at_ingest(tmp_path: Path) -> None:
    page = _write(tmp_path / "page.txt", BODY)
    items = file_inputs(page, source="example.org", captured_at="2024-02-30", url=None, fmt=None)
    with pytest.raises(IngestError, match="page.txt: invalid metadata: captured_at '2024-02-30'"):
        ingest(items, tmp_path / "raw")
    naive = file_inputs(
        page, source="example.org", captured_at="2024-05-01T10:00:00", url=None, fmt=None
    )
    with pytest.raises(IngestError, match="expected: .* its UTC offset"):  # says what it wants
        ingest(naive, tmp_path / "raw")
    leap = "2024-02-29T23:59Z"
    ok = file_inputs(page, source="example.org", captured_at=leap, url=None, fmt=None)
    assert ingest(ok, tmp_path / "raw")[0].added  # a leap day, with a UTC time, exists


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("noise.bin", bytes(range(256)) * 8, "cannot detect the character encoding"),
        ("cut.txt.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "does not decompress"),
        # a declared latin-1 decodes any bytes: read so, they are a mess, so it is not taken,
        # and no encoding a browser reads makes text of them
        (
            "noise.html",
            b'<html><head><meta charset="iso-8859-1"></head><body><p>'
            + bytes(range(256)) * 8
            + b"</p></body></html>",
            "cannot detect the character encoding",
        ),
    ],
)
def test_a_file_that_is_not_a_capture_is_named_in_the_error(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    good = _write(tmp_path / "good.txt", BODY)
    bad = tmp_path / name
    bad.write_bytes(data)
    result = runner.invoke(
        app, ["ingest", str(good), str(bad), "--raw", str(tmp_path / "raw"), "--source", "x.org"]
    )
    assert result.exit_code == 1
    assert f"{bad}: " in result.output and reason in result.output
    assert not (tmp_path / "raw").exists()  # all or nothing: the good file is not stored either
