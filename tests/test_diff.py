"""`newsvariants diff OLD NEW` on two real releases built in a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsvariants.build import build
from newsvariants.cli import app
from newsvariants.diff import _variant_line, diff_corpora, render_text
from newsvariants.registry import REGISTRY_FILE

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
