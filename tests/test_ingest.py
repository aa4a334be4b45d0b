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
