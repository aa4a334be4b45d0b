"""`newsvariants validate` catches corruption and broken invariants, precisely."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsvariants.cli import app
from newsvariants.errors import ValidationError
from newsvariants.validate import _check_coverage, _check_offsets, validate_corpus

from .conftest import RAW, corpus_copy

runner = CliRunner()


def test_the_seed_corpus_is_valid_against_raw(seed_corpus: Path) -> None:
    counts = validate_corpus(seed_corpus, RAW)
    assert counts["variants"] == 2 and counts["alignments"] == 10


def test_one_flipped_byte_is_caught(seed_corpus: Path, tmp_path: Path) -> None:
    corpus = corpus_copy(seed_corpus, tmp_path)
    target = corpus / "alignments" / "train-00000-of-00001.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    result = runner.invoke(app, ["validate", str(corpus), "--raw", str(RAW)])
    assert result.exit_code == 1
    assert "alignments/train-00000-of-00001.parquet" in result.output
    assert "SHA-256" in result.output


def test_a_row_count_mismatch_is_caught(seed_corpus: Path, tmp_path: Path) -> None:
    corpus = corpus_copy(seed_corpus, tmp_path)
    manifest = json.loads((corpus / "MANIFEST.json").read_text())
    for entry in manifest["files"]:
        if entry["path"].startswith("variants/"):
            entry["rows"] += 1
    (corpus / "MANIFEST.json").write_text(json.dumps(manifest))
    with pytest.raises(ValidationError, match=r"variants/train.*3 rows|2 rows != MANIFEST"):
        validate_corpus(corpus, RAW)


def test_an_unlisted_file_is_caught(seed_corpus: Path, tmp_path: Path) -> None:
    corpus = corpus_copy(seed_corpus, tmp_path)
    shutil.copy(
        corpus / "stories" / "train-00000-of-00001.parquet",
        corpus / "stories" / "test-00000-of-00001.parquet",
    )
    with pytest.raises(ValidationError, match="not listed in MANIFEST.json"):
        validate_corpus(corpus, RAW)


def test_a_card_whose_split_sizes_were_edited_is_caught(seed_corpus: Path, tmp_path: Path) -> None:
    # MANIFEST.json cannot hold the card's checksum (the card is written from it): an edited
    # num_examples passed validate, and load_dataset then failed with NonMatchingSplitsSizesError.
    corpus = corpus_copy(seed_corpus, tmp_path)
    card = corpus / "README.md"
    text = card.read_text(encoding="utf-8")
    assert text.count("num_examples: 21") == 1
    card.write_text(text.replace("num_examples: 21", "num_examples: 22"), encoding="utf-8")
    with pytest.raises(ValidationError, match=r"README.md: YAML `dataset_info` differs"):
        validate_corpus(corpus)
    card.unlink()
    with pytest.raises(ValidationError, match=r"README.md: missing"):
        validate_corpus(corpus)


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


def _coverage_by_character(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """The coverage rule, character by character: what `_check_coverage` must report."""
    problems = [f"v: span {s}-{e} outside the capture's text" for s, e in spans
                if not 0 <= s < e <= len(text)]  # fmt: skip
    inside = [(s, e) for s, e in spans if 0 <= s < e <= len(text)]
    for i, char in enumerate(text):
        held = sum(s <= i < e for s, e in inside)
        if held != 1 and not char.isspace():
            state = "no span" if held == 0 else f"{held} spans"
            return [*problems, f"v: character {i} ({char!r}) lies in {state}"]
    return problems


def test_coverage_reports_the_first_character_in_no_span_or_in_several() -> None:
    import random

    draw = random.Random(5)
    alphabet = "ab \n\u00a0\u3000."  # letters, a full stop and four kinds of blank
    for _ in range(3000):
        text = "".join(draw.choice(alphabet) for _ in range(draw.randint(0, 40)))
        spans = [
            (draw.randint(-2, len(text) + 2), draw.randint(-2, len(text) + 2))
            for _ in range(draw.randint(0, 6))
        ]
        found: list[str] = []
        _check_coverage("v", text, spans, found)
        assert found == _coverage_by_character(text, spans), (text, spans)


def test_coverage_of_spans_that_tile_the_text_is_checked_in_its_gaps() -> None:
    """Disjoint spans (a well-formed variant's, checked through their gaps alone), some dropped,
    some shifted onto their neighbour: the character-by-character rule's report."""
    import random

    draw = random.Random(7)
    alphabet = "ab \n\u00a0\u3000."
    for _ in range(3000):
        text = "".join(draw.choice(alphabet) for _ in range(draw.randint(0, 40)))
        cuts = sorted(draw.sample(range(len(text) + 1), min(len(text) + 1, draw.randint(0, 8))))
        spans = [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if draw.random() < 0.8]
        if spans and draw.random() < 0.2:  # one span reaching into the next: an overlap
            start, end = spans[0]
            spans[0] = (start, end + draw.randint(1, 3))
        draw.shuffle(spans)
        found: list[str] = []
        _check_coverage("v", text, spans, found)
        assert found == _coverage_by_character(text, spans), (text, spans)


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


# --- the compiled schema checks ------------------------------------------------------------------


def _rewrite(corpus: Path, config: str, change) -> Path:  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq

    path = corpus / config / "train-00000-of-00001.parquet"
    table = pq.read_table(path)
    pq.write_table(change(table), path)
    return path


def _set(table, column: str, row: int, value):  # type: ignore[no-untyped-def]
    import pyarrow as pa

    values = table[column].to_pylist()
    values[row] = value
    index = table.schema.get_field_index(column)
    return table.set_column(index, table.schema.field(index), pa.array(values, table[column].type))


@pytest.mark.parametrize(
    ("config", "column", "row", "value", "message"),
    [
        ("alignments", "relation", 3, 42, "relation: 42 is not one of"),
        ("alignments", "story_id", 1, "s-NOT-A-STORY", "story_id: 's-NOT-A-STORY' does not match"),
        ("variants", "language", 0, None, "language: None is not of type 'string'"),
        ("alignments", "paragraphs_b", 2, [-1], "paragraphs_b/0: -1 is less than the minimum"),
    ],
)
def test_a_broken_value_is_reported_with_file_row_and_field(
    seed_corpus: Path,
    tmp_path: Path,
    config: str,
    column: str,
    row: int,
    value: object,
    message: str,
) -> None:
    corpus = corpus_copy(seed_corpus, tmp_path)
    path = _rewrite(corpus, config, lambda t: _set(t, column, row, value))
    with pytest.raises(ValidationError) as info:
        validate_corpus(corpus)
    found = [p for p in info.value.problems if f"row {row}:" in p and str(path) in p]
    assert any(message in p for p in found), info.value.problems


def test_compiled_checks_flag_exactly_the_rows_jsonschema_rejects(seed_corpus: Path) -> None:
    import pyarrow.parquet as pq

    from newsvariants.schema import decode_class_labels, record_errors
    from newsvariants.validate import schema_bad_rows

    table = pq.read_table(seed_corpus / "variants" / "train-00000-of-00001.parquet")
    table = _set(table, "capture_id", 1, "XYZ")  # pattern
    paragraphs = table["paragraphs"].to_pylist()
    paragraphs[0][2]["text"] = ""  # minLength of a nested field
    paragraphs[0][3]["start"] = -5  # minimum of a nested field
    import pyarrow as pa

    index = table.schema.get_field_index("paragraphs")
    table = table.set_column(
        index, table.schema.field(index), pa.array(paragraphs, table["paragraphs"].type)
    )
    by_jsonschema = [
        n
        for n, row in enumerate(table.to_pylist())
        if record_errors("variant", decode_class_labels("variant", row))
    ]
    assert schema_bad_rows("variant", table).tolist() == by_jsonschema == [0, 1]


@pytest.mark.parametrize("window_bytes", [1, 1 << 30])
def test_cross_checks_find_the_same_problems_whatever_rows_they_read_at_once(
    seed_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window_bytes: int
) -> None:
    """Pairs and alignments are cross-checked a window of row groups at a time: a window of one
    row group and a window of the whole file report the same problems, at the right rows."""
    import pyarrow.parquet as pq

    import newsvariants.validate as validate_module

    corpus = corpus_copy(seed_corpus, tmp_path)
    for config, row, column in (("pairs", 19, "variant_b"), ("alignments", 8, "variant_a")):
        path = corpus / config / "train-00000-of-00001.parquet"
        table = _set(pq.read_table(path), column, row, "v-0000000000000000")
        pq.write_table(table, path, row_group_size=3)
        assert pq.ParquetFile(path).num_row_groups > 3
    monkeypatch.setattr(validate_module, "WINDOW_BYTES", window_bytes)
    problems: list[str] = []  # (the files no longer match MANIFEST.json: the checks run alone)
    records = validate_module.load_records(corpus, problems)
    assert problems == []
    validate_module._check_cross(corpus, records, problems)
    pairs = pq.read_table(corpus / "pairs" / "train-00000-of-00001.parquet")
    alignments = pq.read_table(corpus / "alignments" / "train-00000-of-00001.parquet")
    pair_id = pairs["pair_id"][19].as_py()
    alignment_id = alignments["alignment_id"][8].as_py()
    assert problems == [
        f"alignment {alignment_id}: variant_a v-0000000000000000 does not resolve",
        f"pair {pair_id}: variant_b does not resolve",
    ]


def test_a_manifest_that_is_not_json_or_points_outside_is_a_named_problem(
    seed_corpus: Path, tmp_path: Path
) -> None:
    corpus = corpus_copy(seed_corpus, tmp_path)
    manifest_path = corpus / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][0]["path"] = "../../outside.txt"  # was hashed: a file outside was read
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ValidationError, match=r"'../../outside.txt' leaves the corpus folder"):
        validate_corpus(corpus)
    manifest_path.write_text("{not json")
    with pytest.raises(ValidationError, match=r"MANIFEST.json: not JSON"):
        validate_corpus(corpus)
    manifest_path.write_text(json.dumps({**manifest, "files": "all"}))
    with pytest.raises(ValidationError, match=r"MANIFEST.json: "):
        validate_corpus(corpus)


def _as_if_released(corpus: Path, edited: Path) -> str:
    """Record an edited file's checksum and size in MANIFEST.json and regenerate the card, as
    someone passing off a hand edit would; the file's path in the corpus."""
    import hashlib

    from newsvariants.card import render_card

    manifest_path = corpus / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text())
    relative = edited.relative_to(corpus).as_posix()
    for entry in manifest["files"]:
        if entry["path"] == relative:
            entry.update(sha256=hashlib.sha256(edited.read_bytes()).hexdigest())
            entry.update(bytes=edited.stat().st_size)
    manifest_path.write_text(json.dumps(manifest, indent=1))
    render_card(corpus)  # its YAML header states the file sizes
    return relative


def test_a_relation_changed_with_its_checksum_recomputed_is_caught_only_by_rebuild(
    seed_corpus: Path, tmp_path: Path
) -> None:
    """A hand edit that keeps every record valid and MANIFEST.json consistent passes the
    checks; the rebuild from raw/ shows the file is not what the inputs and code make."""
    corpus = corpus_copy(seed_corpus, tmp_path)
    path = _rewrite(
        corpus, "alignments", lambda t: _set(t, "relation", 0, 3 - t["relation"][0].as_py())
    )
    relative = _as_if_released(corpus, path)
    validate_corpus(corpus, RAW)  # every check passes: the gap --rebuild closes
    result = runner.invoke(app, ["validate", str(corpus), "--raw", str(RAW), "--rebuild"])
    assert result.exit_code == 1
    assert "3 file(s) are not what raw/ and this code build" in result.output
    assert "is valid" not in result.output  # not "valid" first, then the failed comparison
    for edited in ("MANIFEST.json", "README.md", relative):
        assert f"{edited}: differs from the rebuild" in result.output


def test_the_seed_corpus_is_reproduced_by_rebuild(seed_corpus: Path) -> None:
    result = runner.invoke(app, ["validate", str(seed_corpus), "--raw", str(RAW), "--rebuild"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "is valid: it passes the checks and a rebuild" in said
    assert "reproduces it byte for byte" in said


def test_a_variant_whose_source_differs_from_its_capture_record_is_caught(
    seed_corpus: Path, tmp_path: Path
) -> None:
    corpus = corpus_copy(seed_corpus, tmp_path)
    _as_if_released(
        corpus, _rewrite(corpus, "variants", lambda t: _set(t, "source", 1, "elsewhere.example"))
    )
    with pytest.raises(ValidationError) as info:
        validate_corpus(corpus, RAW)
    assert any(
        "source 'elsewhere.example' differs from raw/'s" in p for p in info.value.problems
    ), info.value.problems


def test_validate_checks_raw_on_workers_and_finds_what_one_process_finds(
    seed_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`validate --workers 2` runs the checks against raw/ (every capture re-read, every HTML
    page re-rendered) on a pool, and reports what one process reports."""
    from newsvariants import executor

    corpus = corpus_copy(seed_corpus, tmp_path)
    path = _rewrite(corpus, "variants", lambda t: _set(t, "url", 0, "https://example.org/moved"))
    _as_if_released(corpus, path)
    monkeypatch.setattr(executor, "POOL_MIN_TASKS", 0)  # two variants: the pool all the same
    pooled: list[int] = []
    pool_map = executor.PoolMapper.map

    def counted_map(self, func, chunks):  # type: ignore[no-untyped-def]
        pooled.append(self.workers)
        return pool_map(self, func, chunks)

    monkeypatch.setattr(executor.PoolMapper, "map", counted_map)
    outputs = {}
    for workers in ("1", "2"):
        result = runner.invoke(
            app, ["validate", str(corpus), "--raw", str(RAW), "--workers", workers]
        )
        assert result.exit_code == 1, result.output
        outputs[workers] = result.output
    assert pooled == [2]  # the one-process run started no pool
    assert outputs["2"] == outputs["1"]
    assert "url 'https://example.org/moved' differs from raw/'s" in " ".join(outputs["2"].split())
    valid = runner.invoke(app, ["validate", str(seed_corpus), "--raw", str(RAW), "--workers", "2"])
    assert valid.exit_code == 0, valid.output


def test_validate_on_workers_reports_raw_problems_only_once_the_corpus_is_sound(
    seed_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With workers the checks against raw/ start before the schema and cross-record checks of
    the alignments and pairs, and run beside them; as in one process, their problems are
    reported only when those checks pass (a broken file first, then its consequences)."""
    from newsvariants import executor

    corpus = corpus_copy(seed_corpus, tmp_path)
    variants = _rewrite(
        corpus, "variants", lambda t: _set(t, "url", 0, "https://example.org/moved")
    )
    _as_if_released(corpus, variants)
    alignments = _rewrite(corpus, "alignments", lambda t: _set(t, "text_b", 0, "not the text"))
    _as_if_released(corpus, alignments)
    monkeypatch.setattr(executor, "POOL_MIN_TASKS", 0)  # two variants: the pool all the same
    problems = {}
    for workers in (1, 2):
        mapper = executor.make_mapper(workers)
        try:
            with pytest.raises(ValidationError) as info:
                validate_corpus(corpus, RAW, mapper, workers)
        finally:
            getattr(mapper, "close", lambda: None)()
        problems[workers] = info.value.problems
    assert problems[2] == problems[1]
    assert any("text_b" in p for p in problems[2]), problems[2]
    assert not any("example.org/moved" in p for p in problems[2]), problems[2]
