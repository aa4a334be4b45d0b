"""The build end to end on the seeds: right counts, reproducible, atomic."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsvariants import build as build_module
from newsvariants.build import build
from newsvariants.errors import StageError
from newsvariants.ingest import file_inputs, ingest

from .conftest import CORPUS, RAW, append_hand_written_record, corpus_copy
from .test_executor import tree_hashes


def _rows(corpus: Path, config: str) -> list[dict]:
    return pq.read_table(corpus / config / "train-00000-of-00001.parquet").to_pylist()


def test_seed_corpus_has_one_story_two_variants_ten_paragraphs_ten_units(
    seed_corpus: Path,
) -> None:
    stories = _rows(seed_corpus, "stories")
    variants = _rows(seed_corpus, "variants")
    alignments = _rows(seed_corpus, "alignments")
    assert len(stories) == 1 and stories[0]["n_variants"] == 2
    assert [len(v["paragraphs"]) for v in variants] == [10, 10]
    assert len(alignments) == 10
    units = sorted((a["paragraphs_a"], a["paragraphs_b"]) for a in alignments)
    assert units == [([i], [i]) for i in range(10)]
    assert {v["story_id"] for v in variants} == {stories[0]["story_id"]}


def test_two_builds_are_byte_identical(seed_corpus: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build(RAW, again, registry_path=RAW.parent / "released" / "REGISTRY.json")
    assert tree_hashes(again) == tree_hashes(seed_corpus)


def test_committed_corpus_equals_a_fresh_rebuild(seed_corpus: Path) -> None:
    assert tree_hashes(seed_corpus) == tree_hashes(CORPUS)


def test_manifest_lists_every_file_with_checksum_and_rows(seed_corpus: Path) -> None:
    manifest = json.loads((seed_corpus / "MANIFEST.json").read_text())
    listed = {f["path"]: f for f in manifest["files"]}
    for path in seed_corpus.rglob("*.parquet"):
        entry = listed[path.relative_to(seed_corpus).as_posix()]
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["rows"] == pq.ParquetFile(path).metadata.num_rows
    assert manifest["build_report"]["captures"] == 2
    assert len(manifest["inputs"]["digest"]) == 64


def test_a_failing_stage_leaves_the_previous_corpus_intact(
    seed_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = corpus_copy(seed_corpus, tmp_path)
    before = tree_hashes(out)

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(build_module, "cluster_stage", explode)
    with pytest.raises(StageError, match="stage 'cluster' failed.*disk on fire"):
        build(RAW, out)
    assert tree_hashes(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["corpus"]  # no half-written folder left


def test_an_extraction_crash_names_the_stage_and_the_capture(
    seed_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = corpus_copy(seed_corpus, tmp_path)

    def explode(*args: object, **kwargs: object) -> None:
        raise ValueError("bad block")

    monkeypatch.setattr(build_module, "extract_capture", explode)
    with pytest.raises(StageError) as info:
        build(RAW, out)
    assert "stage 'extract'" in str(info.value) and "captures/" in str(info.value)
    assert tree_hashes(out) == tree_hashes(seed_corpus)


def test_a_capture_without_a_body_is_quarantined_not_dropped(
    raw_copy: Path, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("Home\nLogin\nMenu\n", encoding="utf-8")
    [outcome] = ingest(
        file_inputs(junk, source="junk.example", captured_at=None, url=None, fmt="text"), raw_copy
    )
    out = tmp_path / "out"
    build(raw_copy, out)
    report = json.loads((out / "MANIFEST.json").read_text())["build_report"]
    assert report["captures"] == 3 and report["variants"] == 2
    [entry] = report["quarantined"]
    assert entry["capture_id"] == outcome.capture.capture_id
    assert entry["stage"] == "extract" and entry["reason"]


def test_binary_data_recorded_as_utf8_is_quarantined_as_not_text(
    raw_copy: Path, tmp_path: Path
) -> None:
    """A record written by hand (ingest refuses these bytes) must not publish U+FFFD and NUL
    "paragraphs": the build quarantines the capture, with the reason."""
    noise = bytes(range(256)) * 8
    capture_id = append_hand_written_record(raw_copy, noise, "utf_8", "noise.example")
    out = tmp_path / "out"
    build(raw_copy, out)
    report = json.loads((out / "MANIFEST.json").read_text())["build_report"]
    assert report["captures"] == 3 and report["variants"] == 2
    [entry] = report["quarantined"]
    assert entry["capture_id"] == capture_id and entry["stage"] == "extract"
    assert entry["reason"].startswith("read as utf_8, not text: ")


def test_streamed_blocks_write_the_bytes_of_one_write_and_queue_at_most_max_queued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's thread compresses while the build makes the next block; a slow disk makes
    the build wait instead of queueing every block in memory."""
    import threading
    import time

    import pyarrow as pa

    from newsvariants import write

    size, rows = write.ROW_GROUP_SIZE, write.ROW_GROUP_SIZE * 6 + 123
    schema = write.arrow_types("pair")  # the writer writes a config under its own schema

    def column(kind: pa.DataType) -> pa.Array:
        if pa.types.is_list(kind):
            return pa.array([[n, n + 1] for n in range(rows)], kind)
        values = range(rows) if pa.types.is_integer(kind) else (f"row {n}" for n in range(rows))
        return pa.array(values, kind)

    table = pa.Table.from_arrays([column(field.type) for field in schema], schema=schema)
    whole, streamed = write.SplitWriter(tmp_path / "whole"), write.SplitWriter(tmp_path / "stream")
    whole.write_table("pairs", "train", table)
    real_append, most = write.BlockWriter._append, [0]
    lock = threading.Lock()

    def slow_append(self, block):  # type: ignore[no-untyped-def]
        time.sleep(0.01)
        real_append(self, block)

    monkeypatch.setattr(write.BlockWriter, "_append", slow_append)
    blocks = streamed.blocks("pairs", "train")
    for start in range(0, rows, size):
        blocks.add(table.slice(start, size))
        with lock:
            most[0] = max(most[0], sum(not f.done() for f in streamed._queued))
    blocks.close()
    assert [e["sha256"] for e in streamed.files] == [e["sha256"] for e in whole.files]
    whole.close(), streamed.close()
    assert 1 <= most[0] <= write.MAX_QUEUED


def test_variant_rows_are_gathered_as_runs_of_their_tables() -> None:
    from newsvariants.build import VariantRow, _row_runs

    first = pa.table({"n": [0, 1, 2, 3]})
    second = pa.table({"n": [10, 11]})
    # a run, a gap (a capture without a body), another table, then a cached row of its own
    rows = [VariantRow(first, 0, ""), VariantRow(first, 1, ""), VariantRow(first, 3, "")]
    rows += [VariantRow(second, 0, ""), VariantRow(second, 1, ""), VariantRow(second, 1, "")]
    runs = _row_runs(rows)
    assert [run.num_rows for run in runs] == [2, 1, 2, 1]
    assert pa.concat_tables(runs).column("n").to_pylist() == [0, 1, 3, 10, 11, 11]
    assert _row_runs([]) == []


def test_cached_rows_read_back_as_they_were_made() -> None:
    """Variant and alignment rows cached as their chunk's table, a bare IPC message kept once
    for the chunk, come back equal, under their kind's Arrow types (the writer adds the
    features metadata), zero rows too; the keys of the tables name the schema."""
    from newsvariants.build import (
        Aligned,
        VariantRow,
        _alignment_table,
        _schema_tag,
        _variant_batch,
    )
    from newsvariants.columns import decode
    from newsvariants.pairs import local_pairs
    from newsvariants.schema import arrow_types

    variants = pq.read_table(CORPUS / "variants" / "train-00000-of-00001.parquet")
    alignments = pq.read_table(CORPUS / "alignments" / "train-00000-of-00001.parquet")
    assert variants.num_rows >= 2 and alignments.num_rows >= 2
    kept = {VariantRow(variants, index, "d").to_cache() for index in range(variants.num_rows)}
    assert len({(shared.key, shared.whole) for shared in kept}) == 1  # one table for all
    for shared in kept:
        assert _schema_tag("variant") in shared.key
        back = VariantRow.from_cache((_variant_batch(shared.whole), shared.part))
        assert back.digest == "d" and back.rows.schema == arrow_types("variant")
        assert (
            back.rows.slice(back.index, 1).to_pylist()
            == variants.slice(shared.part[0], 1).to_pylist()
        )
    first = decode("alignment", alignments.slice(0, 1))
    pairs = local_pairs("a", 1, "b", 1, first, "minor_edit")  # a paragraph and a document pair
    assert len(pairs.pairs) and len(pairs.positives)
    for start, count in ((0, alignments.num_rows), (1, 1), (0, 0)):
        made = Aligned(alignments, start, count, "minor_edit", pairs)
        shared = made.to_cache()
        assert _schema_tag("alignment") in shared.key
        back = Aligned.from_cache((_alignment_table(shared.whole), shared.part))
        assert back.units().schema == arrow_types("alignment")
        assert back.units().to_pylist() == made.units().to_pylist()
        assert back.doc_relation == "minor_edit"
        assert back.pairs.prefixes == pairs.prefixes
        for name in ("pairs", "positives"):
            kept_array, made_array = getattr(back.pairs, name), getattr(pairs, name)
            assert kept_array.dtype == made_array.dtype
            assert kept_array.tobytes() == made_array.tobytes()
    assert _schema_tag("variant") != _schema_tag("alignment")


def test_a_build_killed_between_the_swap_renames_gets_its_previous_corpus_back(
    seed_corpus: Path, tmp_path: Path
) -> None:
    # The state a kill between swap_in's renames leaves: no corpus, only its backup. The next
    # build must read the previous registry from it, not start the story IDs over.
    out = tmp_path / "corpus"
    shutil.copytree(seed_corpus, tmp_path / ".corpus-previous")
    before = tree_hashes(tmp_path / ".corpus-previous")
    assert build_module.recover_interrupted_swap(out)
    assert tree_hashes(out) == before and not (tmp_path / ".corpus-previous").exists()
    assert not build_module.recover_interrupted_swap(out)  # nothing to recover now
    shutil.move(out, tmp_path / ".corpus-previous")
    # a registry inside out/, given, is read after the recovery (before it, out/ is missing)
    build(RAW, out, registry_path=out / "REGISTRY.json")
    assert tree_hashes(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]


def test_the_built_corpus_folder_is_as_readable_as_any_new_folder(
    seed_corpus: Path, tmp_path: Path
) -> None:
    # The staging folder comes from mkdtemp (mode 0700); swapped in, it is the corpus, which
    # others on the machine (a shared data folder, a web server) must be able to read.
    plain = tmp_path / "plain"
    plain.mkdir()
    assert seed_corpus.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_the_package_as_a_wheel_lays_it_out_builds_the_committed_corpus(tmp_path: Path) -> None:
    # An installed wheel has no checkout around it: the files the build reads from there must
    # ship in the package (pyproject's force-include). It once failed at the card stage.
    repo = RAW.parent
    site = tmp_path / "site"
    shutil.copytree(repo / "src" / "newsvariants", site / "newsvariants")
    pyproject = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    for source, target in shipped.items():
        copy = shutil.copytree if (repo / source).is_dir() else shutil.copyfile
        (site / target).parent.mkdir(parents=True, exist_ok=True)
        copy(repo / source, site / target)
    out = tmp_path / "corpus"
    code = (
        "import sys; from pathlib import Path; from newsvariants.build import build; "
        "assert Path(sys.modules['newsvariants'].__file__).is_relative_to(Path(sys.argv[1])); "
        "build(Path(sys.argv[2]), Path(sys.argv[3]), registry_path=Path(sys.argv[4]))"
    )
    args = [str(site), str(RAW), str(out), str(CORPUS / "REGISTRY.json")]
    env = {**os.environ, "PYTHONPATH": str(site)}
    subprocess.run([sys.executable, "-c", code, *args], check=True, env=env, cwd=tmp_path)
    assert tree_hashes(out) == tree_hashes(CORPUS)


def test_staging_folders_of_killed_builds_are_removed_by_the_next_build(
    seed_corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "corpus"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process ID that no longer runs (a killed build's)
    abandoned = tmp_path / f".corpus-build-{dead.pid}-x1y2"
    running = tmp_path / f".corpus-build-{os.getpid()}-a1b2"  # this process: still running
    unknown = tmp_path / ".corpus-build-q7w8"  # no process ID in the name: left alone
    for folder in (abandoned, running, unknown):
        (folder / "variants").mkdir(parents=True)
    build(RAW, out, registry_path=CORPUS / "REGISTRY.json")
    assert not abandoned.exists() and running.exists() and unknown.exists()
    assert tree_hashes(out) == tree_hashes(seed_corpus)
