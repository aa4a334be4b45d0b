"""Stable story IDs: release N, more captures (or a takedown), release N+1 - every rule checked."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from newsvariants.build import build
from newsvariants.ingest import CAPTURES_FILE, file_inputs, ingest
from newsvariants.registry import REGISTRY_FILE, StoryRegistry

from .test_cluster import article, reword


def add_capture(raw: Path, name: str, paragraphs: list[str], source: str, day: int) -> str:
    """Ingest one plain-text capture (paragraphs separated by blank lines); its capture ID."""
    folder = raw.parent / "incoming"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.txt"
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    items = file_inputs(path, source=source, captured_at=f"2024-01-{day:02d}", url=None, fmt="text")
    outcomes = ingest(items, raw)
    return outcomes[0].capture.capture_id


def remove_capture(raw: Path, capture_id: str) -> None:
    """A takedown: the capture leaves raw/ (its metadata line and its file)."""
    lines = (raw / CAPTURES_FILE).read_text(encoding="utf-8").splitlines()
    kept = []
    for line in lines:
        record = json.loads(line)
        if record["capture_id"] == capture_id:
            (raw / record["path"]).unlink()
        else:
            kept.append(line)
    (raw / CAPTURES_FILE).write_text("".join(f"{k}\n" for k in kept), encoding="utf-8")


def stories_of(corpus: Path) -> dict[str, dict]:
    """story_id -> row (all splits), with its split and its capture IDs."""
    found = {}
    for path in sorted((corpus / "stories").glob("*.parquet")):
        split = path.name.split("-")[0]
        for row in pq.read_table(path).to_pylist():
            captures = sorted(v.removeprefix("v-") for v in row["variant_ids"])
            found[row["story_id"]] = {**row, "split": split, "captures": captures}
    return found


def story_of(stories: dict[str, dict], capture_id: str) -> str:
    return next(sid for sid, row in stories.items() if capture_id in row["captures"])


@pytest.fixture()
def release(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    counter = iter(range(1, 100))

    def run() -> tuple[Path, dict[str, dict]]:
        out = tmp_path / f"release{next(counter)}"
        previous = sorted(tmp_path.glob("release*/" + REGISTRY_FILE))
        build(raw, out, registry_path=previous[-1] if previous else None)
        return out, stories_of(out)

    return raw, run


def test_new_captures_join_existing_stories_without_renaming_anything(release) -> None:
    raw, run = release
    a, b = article(1), article(2)
    a1 = add_capture(raw, "a1", a, "alpha.example", 1)
    a2 = add_capture(raw, "a2", reword(a, 5), "beta.example", 2)
    b1 = add_capture(raw, "b1", b, "alpha.example", 3)
    _, first = run()
    story_a, story_b = story_of(first, a1), story_of(first, b1)
    assert story_a != story_b and first[story_a]["captures"] == sorted([a1, a2])

    a3 = add_capture(raw, "a3", a[:3], "gamma.example", 4)  # an excerpt
    c1 = add_capture(raw, "c1", article(3), "gamma.example", 5)
    out, second = run()
    assert story_of(second, a3) == story_a  # joined, kept its ID
    assert second[story_a]["captures"] == sorted([a1, a2, a3])
    assert story_of(second, b1) == story_b
    story_c = story_of(second, c1)
    assert story_c not in first  # a new story gets a new ID; no old ID is reused or renumbered
    for sid in first:
        assert second[sid]["split"] == first[sid]["split"]  # splits never move
    registry = StoryRegistry.load(out / REGISTRY_FILE)
    assert registry.captures[a3] == story_a


def two_releases_of_halves(raw: Path, run, x: list[str]) -> tuple[str, str, list[dict]]:  # type: ignore[no-untyped-def]
    """Release 1: the head of article x; release 2: its tail (sharing nothing with the head), a
    story of its own. (head capture, tail capture, the two releases' stories)."""
    head = add_capture(raw, "x-head", x[:5], "alpha.example", 1)
    _, first = run()
    tail = add_capture(raw, "x-tail", x[5:], "beta.example", 2)
    _, second = run()
    return head, tail, [first, second]


def test_a_merge_keeps_the_oldest_id_and_records_the_others_as_aliases(release) -> None:
    raw, run = release
    x = article(10, paragraphs=10)
    head, tail, (first, second) = two_releases_of_halves(raw, run, x)
    older, newer = story_of(first, head), story_of(second, tail)
    assert newer != older and story_of(second, head) == older

    full = add_capture(raw, "x-full", x, "gamma.example", 3)  # contains both: they merge
    out, third = run()
    merged = story_of(third, full)
    assert merged == older  # the oldest ID survives (older generation), not the newer one
    assert third[merged]["captures"] == sorted([head, tail, full])
    assert newer not in third
    assert newer in third[merged]["aliases"]
    assert third[merged]["split"] == first[older]["split"]
    registry = StoryRegistry.load(out / REGISTRY_FILE)
    assert registry.stories[newer].status == "merged"
    assert registry.stories[newer].merged_into == older
    assert registry.resolve(newer) == older


def test_a_split_keeps_the_id_on_the_larger_part_and_the_split_of_the_story(release) -> None:
    raw, run = release
    x = article(20, paragraphs=10)
    # head and tail overlap by two paragraphs (containment 1/3: not one story on their own)
    head = add_capture(raw, "x-head", x[:6], "alpha.example", 2)
    head_copy = add_capture(raw, "x-head-copy", reword(x[:6], 7, 0.02), "beta.example", 3)
    tail = add_capture(raw, "x-tail", x[4:], "gamma.example", 4)
    full = add_capture(raw, "x-full", x, "delta.example", 1)
    _, first = run()
    sid = story_of(first, full)
    assert first[sid]["captures"] == sorted([head, head_copy, tail, full])

    remove_capture(raw, full)  # the bridge is taken down: head and tail no longer belong together
    out, second = run()
    assert story_of(second, head) == sid and story_of(second, head_copy) == sid  # larger part
    part = story_of(second, tail)
    assert part != sid and part not in first
    assert second[part]["split"] == first[sid]["split"]  # no leak across splits
    assert StoryRegistry.load(out / REGISTRY_FILE).stories[sid].status == "active"


def test_a_story_whose_captures_all_left_is_retired_not_reused(release) -> None:
    raw, run = release
    only = add_capture(raw, "lonely", article(30), "alpha.example", 1)
    add_capture(raw, "other", article(31), "beta.example", 2)
    _, first = run()
    gone = story_of(first, only)
    remove_capture(raw, only)
    out, second = run()
    assert gone not in second
    registry = StoryRegistry.load(out / REGISTRY_FILE)
    assert registry.stories[gone].status == "retired"
    again = add_capture(raw, "lonely", article(30), "alpha.example", 1)
    _, third = run()
    assert story_of(third, again) == gone  # same capture again: its old story comes back


def test_registry_assign_is_deterministic_and_order_independent() -> None:
    clusters = [["c3", "c4"], ["c1", "c2"], ["c5"]]
    one, two = StoryRegistry(), StoryRegistry()
    ids_one, _ = one.assign(clusters)
    ids_two, _ = two.assign(list(reversed(clusters)))
    assert dict(zip(map(tuple, clusters), ids_one, strict=True)) == dict(
        zip(map(tuple, reversed(clusters)), ids_two, strict=True)
    )
    assert one.dumps() == two.dumps()


def test_two_stories_regrouped_across_two_clusters_keep_one_id_each() -> None:
    # Each story's captures are spread evenly over the two new clusters: both used to keep the
    # first cluster, so one was merged into the other and the second cluster got a new ID.
    registry = StoryRegistry()
    before, _ = registry.assign([["a1", "a2"], ["b1", "b2"]])
    after, events = registry.assign([["a1", "b1"], ["a2", "b2"]])
    assert sorted(after) == sorted(before)
    assert [e.kind for e in events] == []
    assert all(registry.stories[sid].aliases == [] for sid in after)
    # a story with a majority still keeps it, tie or not for the other story
    registry = StoryRegistry()
    a, b = registry.assign([["a1", "a2", "a3"], ["b1", "b2"]])[0]
    after, events = registry.assign([["a1", "a2", "b1"], ["a3", "b2"]])
    assert after == [a, b] and events == []


def test_undoing_a_merge_gives_the_part_that_splits_off_its_old_id_back(release) -> None:
    raw, run = release
    x = article(40, paragraphs=10)
    head, tail, (first, second) = two_releases_of_halves(raw, run, x)
    older, newer = story_of(first, head), story_of(second, tail)
    full = add_capture(raw, "x-full", x, "gamma.example", 3)  # the bridge: they merge
    _, third = run()
    assert story_of(third, tail) == older and newer in third[older]["aliases"]

    remove_capture(raw, full)  # the bridge is taken down: the merge comes apart
    out, fourth = run()
    assert story_of(fourth, head) == older
    assert story_of(fourth, tail) == newer  # its old ID back, not a third one
    assert sorted(fourth) == sorted([older, newer])
    assert fourth[older]["aliases"] == [] and fourth[newer]["aliases"] == []
    assert fourth[newer]["split"] == third[older]["split"]  # where its captures were published
    registry = StoryRegistry.load(out / REGISTRY_FILE)
    assert registry.stories[newer].status == "active"
    assert registry.stories[newer].merged_into is None
    assert registry.resolve(newer) == newer

    _, fifth = run()  # nothing changed: nothing moves
    assert {sid: row["captures"] for sid, row in fifth.items()} == {
        sid: row["captures"] for sid, row in fourth.items()
    }


def test_a_standing_merge_keeps_its_survivor_and_its_captures_own_stories() -> None:
    registry = StoryRegistry()
    (a,), _ = registry.assign([["a1"]])
    _, _ = registry.assign([["a1"], ["b1", "b2", "b3"]])
    b = registry.captures["b1"]
    ids, events = registry.assign([["a1", "b1", "b2", "b3", "x"]])  # x bridges them
    assert ids == [a] and [(e.kind, e.detail) for e in events] == [("merged", f"absorbed {b}")]
    assert registry.captures["b1"] == b and registry.captures["x"] == a  # own stories kept
    again, events = registry.assign([["a1", "b1", "b2", "b3", "x", "y"]])
    assert again == [a] and events == []  # a standing merge: no new event, same survivor
    # undone: the older story keeps its own capture even though the other part is larger
    ids, events = registry.assign([["a1", "x", "y"], ["b1", "b2", "b3"]])
    assert ids == [a, b]
    assert [e.kind for e in events] == ["unmerged"]
    assert registry.stories[a].aliases == [] and registry.stories[b].split == registry.split_of(a)


def test_undoing_a_merge_cleans_the_aliases_all_along_the_chain() -> None:
    registry = StoryRegistry()
    (z,), _ = registry.assign([["z1"]])
    registry.assign([["z1"], ["a1"], ["b1"]])
    a, b = registry.captures["a1"], registry.captures["b1"]
    registry.assign([["z1"], ["a1", "b1"]])  # same generation and size: the smaller ID stays
    kept, folded = min(a, b), max(a, b)
    assert registry.resolve(folded) == kept
    registry.assign([["z1", "a1", "b1"]])  # then both fold into z, the oldest
    assert registry.resolve(folded) == z and registry.stories[z].aliases == sorted([a, b])

    ids, events = registry.assign([["z1"], ["a1", "b1"]])  # the last merge is undone
    assert ids == [z, kept] and [(e.kind, e.story_id) for e in events] == [("unmerged", kept)]
    assert registry.stories[z].aliases == [] and registry.stories[kept].aliases == [folded]
    assert registry.resolve(folded) == kept

    ids, events = registry.assign([["z1"], ["a1"], ["b1"]])  # and the first one
    assert ids == [z, a, b] and [(e.kind, e.story_id) for e in events] == [("unmerged", folded)]
    assert all(registry.stories[s].aliases == [] for s in (z, a, b))
    assert all(registry.stories[s].status == "active" for s in (z, a, b))


def test_a_story_that_comes_back_is_reported() -> None:
    registry = StoryRegistry()
    (gone, _), _ = registry.assign([["g1"], ["o1"]])
    _, events = registry.assign([["o1"]])
    assert [(e.kind, e.story_id) for e in events] == [("retired", gone)]
    ids, events = registry.assign([["g1"], ["o1"]])
    assert ids[0] == gone and [(e.kind, e.story_id) for e in events] == [("returned", gone)]
    assert registry.stories[gone].status == "active"
