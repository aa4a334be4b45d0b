"""`newsvariants diff OLD NEW` on two real releases built in a temporary folder."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsvariants.build import build
from newsvariants.cli import app
from newsvariants.diff import PAIR_IDS_SHOWN, _variant_line, diff_corpora, render_text
from newsvariants.registry import REGISTRY_FILE
from newsvariants.release import story_diff_text
from newsvariants.write import shard_name, write_parquet

from .conftest import CORPUS
from .multistory import read_rows
from .test_cluster import article, reword
from .test_registry import add_capture, remove_capture, stories_of, story_of


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("releases")
    raw = root / "raw"
    raw.mkdir()
    a, x, s = article(1), article(2, paragraphs=10), article(3, paragraphs=10)
    ids = {
        "a1": add_capture(raw, "a1", a, "alpha.example", 1),
        "a2": add_capture(raw, "a2", reword(a, 5), "beta.example", 2),
        "x-head": add_capture(raw, "x-head", x[:5], "alpha.example", 3),
        "x-tail": add_capture(raw, "x-tail", x[5:], "beta.example", 4),
        "s-full": add_capture(raw, "s-full", s, "gamma.example", 1),
        "s-head": add_capture(raw, "s-head", s[:6], "alpha.example", 5),
        "s-head2": add_capture(raw, "s-head2", reword(s[:6], 9, 0.02), "beta.example", 6),
        "s-tail": add_capture(raw, "s-tail", s[4:], "delta.example", 7),
        "lonely": add_capture(raw, "lonely", article(4), "delta.example", 8),
    }
    old = root / "old"
    build(raw, old)
    ids["a3"] = add_capture(raw, "a3", a[:3], "gamma.example", 9)  # story A changes
    ids["x-full"] = add_capture(raw, "x-full", x, "gamma.example", 10)  # merges head and tail
    ids["n1"] = add_capture(raw, "n1", article(5), "alpha.example", 11)  # a new story
    remove_capture(raw, ids["s-full"])  # story S splits
    remove_capture(raw, ids["lonely"])  # its story is retired
    new = root / "new"
    build(raw, new, registry_path=old / REGISTRY_FILE)
    remove_capture(raw, ids["x-full"])  # the merge of head and tail comes apart
    undone = root / "undone"
    build(raw, undone, registry_path=new / REGISTRY_FILE)
    before, after = stories_of(old), stories_of(new)
    sid = {name: story_of(before, cid) for name, cid in ids.items() if name in _old_names()}
    sid.update(
        {
            f"new:{name}": story_of(after, cid)
            for name, cid in ids.items()
            if name not in ("s-full", "lonely")
        }
    )
    return {"old": old, "new": new, "undone": undone, "ids": ids, "sid": sid}


def _old_names() -> set[str]:
    return {"a1", "a2", "x-head", "x-tail", "s-full", "s-head", "s-head2", "s-tail", "lonely"}


def test_story_changes_are_all_reported(releases: dict) -> None:
    report = diff_corpora(releases["old"], releases["new"])
    sid, stories = releases["sid"], report["stories"]
    assert report["summary"]["stories"] == {
        "added": 1,
        "removed": 1,
        "merged": 1,
        "split": 1,
        "changed": 3,
    }
    assert stories["added"] == [{"story_id": sid["new:n1"], "variants": 1}]
    assert stories["removed"] == [{"story_id": sid["lonely"], "variants": 1}]
    survivor = sid["new:x-full"]
    gone = ({sid["x-head"], sid["x-tail"]} - {survivor}).pop()
    assert stories["merged"] == [{"story_id": gone, "into": survivor}]
    assert stories["split"] == [
        {"story_id": sid["s-head"], "parts": [sid["s-head"], sid["new:s-tail"]], "restored": []}
    ]
    changed = {c["story_id"]: c for c in stories["changed"]}
    a_id = f"v-{releases['ids']['a3']}"
    assert changed[sid["a1"]]["variants_added"] == [a_id]
    assert changed[survivor]["variants_added"] == sorted(
        f"v-{releases['ids'][n]}" for n in ("x-full", "x-head", "x-tail") if sid.get(n) != survivor
    )
    assert set(changed[sid["s-head"]]["variants_removed"]) == {
        f"v-{releases['ids']['s-full']}",
        f"v-{releases['ids']['s-tail']}",
    }


def test_variant_changes_are_all_reported(releases: dict) -> None:
    report = diff_corpora(releases["old"], releases["new"])
    ids, sid, variants = releases["ids"], releases["sid"], report["variants"]
    assert [v["variant_id"] for v in variants["added"]] == sorted(
        f"v-{ids[n]}" for n in ("a3", "x-full", "n1")
    )
    assert [v["variant_id"] for v in variants["removed"]] == sorted(
        f"v-{ids[n]}" for n in ("s-full", "lonely")
    )
    moved = {v["variant_id"]: v for v in variants["moved"]}
    tail = moved[f"v-{ids['s-tail']}"]
    assert (tail["from"], tail["to"]) == (sid["s-tail"], sid["new:s-tail"])
    assert tail["from_split"] == tail["to_split"]  # a part that splits off keeps the split
    assert len(moved) == 2  # s-tail, and the merged half of x
    stories = {**stories_of(releases["old"]), **stories_of(releases["new"])}
    for v in moved.values():
        assert (v["from_split"], v["to_split"]) == (
            stories[v["from"]]["split"],
            stories[v["to"]]["split"],
        )
    assert variants["changed"] == []  # same raw bytes, same extractor: same paragraphs


def test_identical_releases_have_no_changes(releases: dict) -> None:
    report = diff_corpora(releases["new"], releases["new"])
    assert not any(report["summary"]["stories"].values())
    assert not any(report["summary"]["variants"].values())
    assert report["new"]["pairs"] > 0 and not any(report["summary"]["pairs"].values())


def test_the_command_prints_text_and_json(releases: dict) -> None:
    runner = CliRunner()
    args = ["diff", str(releases["old"]), str(releases["new"])]
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    assert "stories: 1 added, 1 removed, 1 merged, 1 split, 3 changed" in text.output
    assert f"{releases['sid']['s-head']} split: kept on {releases['sid']['s-head']}" in text.output
    as_json = runner.invoke(app, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == json.loads(
        json.dumps(diff_corpora(releases["old"], releases["new"]))
    )


def test_the_command_names_a_folder_that_is_not_a_corpus(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["diff", str(tmp_path), str(tmp_path)])
    assert result.exit_code == 1
    assert "no stories/*.parquet" in result.output


def test_an_undone_merge_is_reported_as_a_split_that_restores_the_alias(releases: dict) -> None:
    report = diff_corpora(releases["new"], releases["undone"])
    sid = releases["sid"]
    survivor = sid["new:x-full"]
    alias = ({sid["x-head"], sid["x-tail"]} - {survivor}).pop()
    assert report["stories"]["split"] == [
        {"story_id": survivor, "parts": [survivor, alias], "restored": [alias]}
    ]
    assert report["stories"]["added"] == []
    text = render_text(report)
    assert f"{survivor} split: kept on {survivor}, restored {alias} (was an alias)" in text


def test_a_variant_moved_across_splits_is_shown_with_both_splits() -> None:
    item = {"variant_id": "v-1", "from": "s-a", "to": "s-b"}
    across = _variant_line("moved", {**item, "from_split": "test", "to_split": "train"})
    within = _variant_line("moved", {**item, "from_split": "train", "to_split": "train"})
    assert across == "  v-1: s-a -> s-b (split test -> train)"
    assert within == "  v-1: s-a -> s-b"


# --- pairs ---------------------------------------------------------------------------------------


def pairs_by_id(corpus: Path) -> dict[str, dict]:
    """pair_id -> row of the `pairs` config (labels as names), with its split."""
    return {
        row["pair_id"]: {**row, "split": split}
        for split, rows in read_rows(corpus, "pairs").items()
        for row in rows
    }


def with_pairs(corpus: Path, out: Path, pairs: list[dict]) -> Path:
    """A copy of `corpus` whose `pairs` config is `pairs` (rows with their split)."""
    shutil.copytree(corpus, out)
    shutil.rmtree(out / "pairs")
    for split in sorted({row["split"] for row in pairs}):
        rows = [{k: v for k, v in r.items() if k != "split"} for r in pairs if r["split"] == split]
        write_parquet(out / "pairs" / shard_name(split), "pair", rows)
    return out


def _variants_of(releases: dict, names: tuple[str, ...]) -> set[str]:
    return {f"v-{releases['ids'][n]}" for n in names}


def test_pairs_added_and_removed_follow_the_captures(releases: dict) -> None:
    report = diff_corpora(releases["old"], releases["new"])
    before, after = pairs_by_id(releases["old"]), pairs_by_id(releases["new"])
    added = [p["pair_id"] for p in report["pairs"]["added"]]
    removed = [p["pair_id"] for p in report["pairs"]["removed"]]
    assert added == sorted(set(after) - set(before))
    assert removed == sorted(set(before) - set(after))
    gone = _variants_of(releases, ("s-full", "lonely"))  # captures taken down
    fresh = _variants_of(releases, ("a3", "x-full", "n1"))  # captures added
    of_gone = {p for p, r in before.items() if {r["variant_a"], r["variant_b"]} & gone}
    of_fresh = {p for p, r in after.items() if {r["variant_a"], r["variant_b"]} & fresh}
    assert of_gone and of_gone <= set(removed)
    assert of_fresh and of_fresh <= set(added)
    facts = ("split", "label", "relation")
    assert report["pairs"]["removed"][0] == {
        "pair_id": removed[0],
        **{k: before[removed[0]][k] for k in facts},
    }
    assert report["pairs"]["changed"] == [] and report["pairs"]["moved"] == []
    assert report["summary"]["pairs"] == {
        "added": len(added),
        "removed": len(removed),
        "changed": 0,
        "moved": 0,
    }
    for kind, rows in (
        ("added", [after[p] for p in added]),
        ("removed", [before[p] for p in removed]),
    ):
        assert report["summary"]["pairs_by"][kind] == {
            "split": dict(sorted(Counter(r["split"] for r in rows).items())),
            "label": dict(sorted(Counter(r["label"] for r in rows).items())),
        }
    assert (report["old"]["pairs"], report["new"]["pairs"]) == (len(before), len(after))


def _edited(rows: list[dict]) -> tuple[list[dict], dict[str, dict]]:
    """The rows with four train pairs edited: a text, a label (and relation), a split, a text and
    a split; (the rows, the four as they were, by what was done to them)."""
    rows = sorted(rows, key=lambda r: r["pair_id"])
    train = [r for r in rows if r["split"] == "train"]
    negative = next(r for r in train if r["label"] == "unrelated")
    text, moved, both = [r for r in train if r is not negative][:3]
    picked = {"text": text, "label": negative, "moved": moved, "both": both}
    edits = {
        "text": {"text_a": text["text_a"] + " (corrected)"},
        "label": {"label": "same_source", "relation": "identical"},
        "moved": {"split": "test"},
        "both": {"text_b": both["text_b"] + " (corrected)", "split": "validation"},
    }
    changed = {id(r): {**r, **edits[what]} for what, r in picked.items()}
    return [changed.get(id(r), r) for r in rows], picked


def _facts(row: dict, **now: object) -> dict:
    return {
        "pair_id": row["pair_id"],
        "split": row["split"],
        "label": row["label"],
        "relation": row["relation"],
        **now,
    }


def test_pairs_changed_and_moved_to_another_split_are_reported(
    releases: dict, tmp_path: Path
) -> None:
    rows, picked = _edited(list(pairs_by_id(releases["new"]).values()))
    edited = with_pairs(releases["new"], tmp_path / "edited", rows)
    report = diff_corpora(releases["new"], edited)
    pairs = report["pairs"]
    assert pairs["added"] == [] and pairs["removed"] == []
    text, label, moved, both = (picked[k] for k in ("text", "label", "moved", "both"))
    expected = [
        _facts(text, fields=["text_a"], old={}),
        _facts(
            label,
            label="same_source",
            relation="identical",
            fields=["label", "relation"],
            old={"label": "unrelated", "relation": None},
        ),
        _facts(moved, split="test", fields=["split"], old={"split": "train"}),
        _facts(both, split="validation", fields=["text_b", "split"], old={"split": "train"}),
    ]
    assert pairs["changed"] == sorted(expected, key=lambda c: c["pair_id"])
    went = {moved["pair_id"]: "test", both["pair_id"]: "validation"}
    assert pairs["moved"] == sorted(
        (
            {"pair_id": r["pair_id"], "label": r["label"], "from_split": "train", "to_split": to}
            for r, to in ((moved, "test"), (both, "validation"))
        ),
        key=lambda m: m["pair_id"],
    )
    assert report["summary"]["pairs"] == {"added": 0, "removed": 0, "changed": 4, "moved": 2}
    by = report["summary"]["pairs_by"]
    assert by["changed"]["split"] == {"test": 1, "train": 2, "validation": 1}
    assert by["changed"]["label"] == dict(sorted(Counter(c["label"] for c in expected).items()))
    assert by["moved"]["split"] == {"test": 1, "validation": 1}
    lines = render_text(report).splitlines()
    labels = ", ".join(f"{k} {n}" for k, n in by["moved"]["label"].items())
    shown = ", ".join(f"{p} (train -> {went[p]})" for p in sorted(went))
    assert f"pairs moved split: 2 (test 1, validation 1; {labels}): {shown}" in lines
    changed_line = next(line for line in lines if line.startswith("pairs changed: 4 ("))
    assert f"{label['pair_id']} (label, relation)" in changed_line
    assert f"{both['pair_id']} (text_b, split)" in changed_line
    assert "pairs: 0 added, 0 removed, 4 changed, 2 moved split" in lines


def test_the_text_report_shows_the_first_pair_ids_of_each_kind(releases: dict) -> None:
    report = diff_corpora(releases["old"], releases["new"])
    added = [p["pair_id"] for p in report["pairs"]["added"]]
    assert len(added) > PAIR_IDS_SHOWN  # so that the rest is cut
    by = report["summary"]["pairs_by"]["added"]
    counts = "; ".join(
        ", ".join(f"{k} {n}" for k, n in by[key].items()) for key in ("split", "label")
    )
    lines = render_text(report).splitlines()
    assert (
        f"pairs added: {len(added)} ({counts}): {', '.join(added[:PAIR_IDS_SHOWN])}, "
        f"... and {len(added) - PAIR_IDS_SHOWN} more (see --json)"
    ) in lines
    short = render_text(report, limit=2).splitlines()
    assert (
        f"pairs added: {len(added)} ({counts}): {', '.join(added[:2])}, "
        f"... and {len(added) - 2} more (see --json)"
    ) in short
    removed = len(report["pairs"]["removed"])
    assert f"pairs: {len(added)} added, {removed} removed, 0 changed, 0 moved split" in lines
    assert not any(line.startswith("pairs changed") for line in lines)  # no line for no change


def test_release_notes_have_one_summary_line_of_pairs(releases: dict) -> None:
    notes = story_diff_text(releases["old"], releases["new"], "0.2.0").splitlines()
    report = diff_corpora(releases["old"], releases["new"])
    counts = report["summary"]["pairs"]
    assert [line for line in notes if line.startswith("pairs")] == [
        f"pairs: {counts['added']} added, {counts['removed']} removed, 0 changed, 0 moved split"
    ]
    assert counts["added"] and counts["removed"]


def test_a_corpus_without_pairs_has_them_all_removed(releases: dict, tmp_path: Path) -> None:
    # every story a single variant: no pair, and no pairs/ file (an empty split is not written)
    empty = with_pairs(releases["new"], tmp_path / "no-pairs", [])
    report = diff_corpora(releases["new"], empty)
    assert [p["pair_id"] for p in report["pairs"]["removed"]] == sorted(
        pairs_by_id(releases["new"])
    )
    assert report["new"]["pairs"] == 0
    assert render_text(diff_corpora(empty, empty)).endswith("no changes\n")


def test_the_seed_corpus_against_itself_has_no_pair_changes() -> None:
    report = diff_corpora(CORPUS, CORPUS)
    assert report["old"]["pairs"] == len(pairs_by_id(CORPUS)) > 0
    assert report["summary"]["pairs"] == {"added": 0, "removed": 0, "changed": 0, "moved": 0}
    assert all(items == [] for items in report["pairs"].values())
    text = render_text(report)
    assert "pairs: 0 added, 0 removed, 0 changed, 0 moved split\nno changes\n" in text
