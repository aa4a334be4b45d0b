"""Human annotations: schema-checked, applied with label_source "human", loud when stale."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from newsvariants.annotations import load_annotations, parse_annotation
from newsvariants.build import BuildResult, apply_annotations, build
from newsvariants.errors import AnnotationError, StageError
from newsvariants.label import RELATIONS
from newsvariants.records import Alignment, Variant
from newsvariants.schema import record_errors

from .conftest import CORPUS, RAW, SEED_MIRROR, SEED_ORIGINAL

SEED_FILE = RAW / "annotations" / "seed-pair.jsonl"
PIVOT, OTHER = f"v-{SEED_MIRROR}", f"v-{SEED_ORIGINAL}"


def _lines(path: Path = SEED_FILE) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")


@pytest.fixture(scope="module")
def rule_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The seed corpus built with no annotations: the rule's units."""
    raw = tmp_path_factory.mktemp("raw") / "raw"
    shutil.copytree(RAW, raw, ignore=shutil.ignore_patterns("annotations"))
    return build(raw, tmp_path_factory.mktemp("out") / "corpus", CORPUS / "REGISTRY.json")


def _records(result: BuildResult) -> tuple[list[Alignment], dict[str, Variant]]:
    alignments = [a for rows in result.records.alignments.values() for a in rows]
    variants = {v.variant_id: v for rows in result.records.variants.values() for v in rows}
    return alignments, variants


def _apply(result: BuildResult, records: list[dict]) -> list[Alignment]:
    alignments, variants = _records(result)
    annotations = [
        parse_annotation(json.dumps(r), f"test.jsonl:{n}") for n, r in enumerate(records, 1)
    ]
    return apply_annotations(alignments, annotations, variants)


def _partition_holds(units: list[Alignment], result: BuildResult) -> None:
    _, variants = _records(result)
    a_seen = sorted(i for u in units for i in u.paragraphs_a)
    b_seen = sorted(j for u in units for j in u.paragraphs_b)
    assert a_seen == list(range(len(variants[PIVOT].paragraphs)))
    assert b_seen == list(range(len(variants[OTHER].paragraphs)))


# --- the seed pair's hand-checked file ---------------------------------------------------------


def test_seed_file_validates_and_judges_every_unit_as_the_issue_asks() -> None:
    records = _lines()
    assert all(record_errors("annotation", r) == [] for r in records)
    assert {(r["variant_a"], r["variant_b"]) for r in records} == {(PIVOT, OTHER)}
    assert sorted((r["paragraphs_a"], r["paragraphs_b"]) for r in records) == [
        ([i], [i]) for i in range(10)
    ]
    relation = {r["paragraphs_a"][0] + 1: r["relation"] for r in records}
    assert relation[2] == "identical"
    assert [relation[i] for i in (3, 9, 10, 5, 6, 7, 8)] == ["formatting"] * 3 + ["minor_edit"] * 4
    assert {relation[1], relation[4]} <= {"minor_edit", "major_edit"}


def test_seed_file_matches_the_rule_build(rule_build: BuildResult) -> None:
    rule = {tuple(a.paragraphs_a): a.relation for a in _records(rule_build)[0]}
    for record in _lines():
        assert rule[tuple(record["paragraphs_a"])] == record["relation"]
    units = _apply(rule_build, _lines())
    assert {u.label_source for u in units} == {"human"}
    _partition_holds(units, rule_build)


def test_the_built_seed_corpus_carries_the_human_labels(seed_corpus: Path) -> None:
    rows = pq.read_table(seed_corpus / "alignments" / "train-00000-of-00001.parquet").to_pylist()
    expected = {r["paragraphs_a"][0]: r["relation"] for r in _lines()}
    assert {r["label_source"] for r in rows} == {"human"}
    assert {r["paragraphs_a"][0]: RELATIONS[r["relation"]] for r in rows} == expected


# --- corrections --------------------------------------------------------------------------------


def test_a_corrected_relation_replaces_the_rule(rule_build: BuildResult) -> None:
    record = _lines()[0] | {"relation": "major_edit"}
    units = _apply(rule_build, [record])
    changed = [u for u in units if u.paragraphs_a == [0]]
    assert [(u.relation, u.label_source) for u in changed] == [("major_edit", "human")]
    assert sum(u.label_source == "rule" for u in units) == 9
    _partition_holds(units, rule_build)


@pytest.mark.parametrize(
    ("correction", "human", "left_over"),
    [
        ({"paragraphs_b": [], "text_b": "", "relation": "removed"}, ([3], []), ([], [3], "added")),
        ({"paragraphs_a": [], "text_a": "", "relation": "added"}, ([], [3]), ([3], [], "removed")),
    ],
)
def test_a_corrected_unit_leaves_no_paragraph_behind(
    rule_build: BuildResult, correction: dict, human: tuple, left_over: tuple
) -> None:
    units = _apply(rule_build, [_lines()[3] | correction])
    by_unit = {(tuple(u.paragraphs_a), tuple(u.paragraphs_b)): u for u in units}
    assert by_unit[tuple(map(tuple, human))].label_source == "human"
    rest = by_unit[(tuple(left_over[0]), tuple(left_over[1]))]
    assert (rest.relation, rest.label_source) == (left_over[2], "rule")
    _partition_holds(units, rule_build)


# --- loud failures ------------------------------------------------------------------------------


def test_stale_text_fails_the_build_naming_file_and_line(raw_copy: Path, tmp_path: Path) -> None:
    path = raw_copy / "annotations" / "seed-pair.jsonl"
    records = _lines(path)
    records[2]["text_b"] = records[2]["text_b"].replace("Lavrov", "Lavrov, 72,")
    _write(path, records)
    with pytest.raises(
        StageError, match=r"seed-pair\.jsonl:3: paragraphs_b \[2\].*no longer match"
    ):
        build(raw_copy, tmp_path / "corpus", registry_path=CORPUS / "REGISTRY.json")
    assert not (tmp_path / "corpus").exists()


def test_annotation_errors_name_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "annotations"
    folder.mkdir()
    good = _lines()[0]
    for bad, reason in (
        ("{not json", "not JSON"),
        (json.dumps(good | {"relation": "paraphrase"}), "paraphrase"),
        (json.dumps(good | {"paragraphs_b": [0, 1]}), "impossible for a unit"),
        (json.dumps(good | {"relation": "identical"}), "texts differ"),
        (json.dumps(good | {"paragraphs_a": [1, 0], "relation": "merge"}), "increasing"),
    ):
        (folder / "x.jsonl").write_text(json.dumps(good) + "\n\n" + bad + "\n", "utf-8")
        with pytest.raises(AnnotationError, match=rf"x\.jsonl:3: .*{reason}"):
            load_annotations(tmp_path)


def test_an_annotation_of_a_pair_that_is_not_aligned_fails(rule_build: BuildResult) -> None:
    swapped = _lines()[0] | {"variant_a": OTHER, "variant_b": PIVOT}
    with pytest.raises(AnnotationError, match="test.jsonl:1: .* is not aligned to") as info:
        _apply(rule_build, [swapped])
    assert "annotate the pair again against the new pivot or remove the line" in str(info.value)


def test_an_index_out_of_range_fails(rule_build: BuildResult) -> None:
    record = _lines()[0] | {"paragraphs_b": [10]}
    with pytest.raises(AnnotationError, match=r"test.jsonl:1: paragraphs_b \[10\] out of range"):
        _apply(rule_build, [record])


def test_two_annotations_of_one_paragraph_fail(rule_build: BuildResult) -> None:
    first, second = _lines()[4], _lines()[5]
    second = second | {
        "paragraphs_a": [4, 5],
        "text_a": first["text_a"] + "\n\n" + second["text_a"],
        "relation": "merge",
    }
    with pytest.raises(AnnotationError, match=r"test.jsonl:2: paragraph 4 .* test.jsonl:1"):
        _apply(rule_build, [first, second])


def test_an_annotation_of_a_quarantined_capture_fails_naming_the_quarantine(
    raw_copy: Path, tmp_path: Path
) -> None:
    # The mirror's record names an encoding its bytes are not in: the build quarantines it. The
    # error used to say only that the variant is not aligned ("unknown variant").
    manifest = raw_copy / "captures.jsonl"
    records = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    for record in records:
        if record["capture_id"] == SEED_MIRROR:
            record["encoding"] = "ascii"
    _write(manifest, records)
    with pytest.raises(StageError) as info:
        build(raw_copy, tmp_path / "corpus", registry_path=CORPUS / "REGISTRY.json")
    message = str(info.value)
    assert f"seed-pair.jsonl:1: variant {PIVOT} is annotated" in message
    assert "this build quarantined its capture (captures/ae/" in message
    assert "cannot decode" in message
    assert not (tmp_path / "corpus").exists()
