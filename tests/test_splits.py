"""Splits cannot leak: by story, every record in its story's split, remembered across builds."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from newsvariants.build import build
from newsvariants.split import SPLITS, hashed_split

from .multistory import build_corpus, read_rows, shared_corpus


@pytest.fixture()
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_corpus(tmp_path_factory)


def _story_split(corpus: Path) -> dict[str, str]:
    return {
        s["story_id"]: split for split, rows in read_rows(corpus, "stories").items() for s in rows
    }


def test_the_fixture_uses_all_three_splits(corpus: Path) -> None:
    stories = read_rows(corpus, "stories")
    assert all(len(stories[s]) >= 2 for s in SPLITS), {s: len(stories[s]) for s in SPLITS}


def test_no_story_is_in_two_splits(corpus: Path) -> None:
    seen: dict[str, str] = {}
    for split, rows in read_rows(corpus, "stories").items():
        for story in rows:
            assert story["story_id"] not in seen, (story["story_id"], seen.get(story["story_id"]))
            seen[story["story_id"]] = split
    assert len(seen) == 9


def test_each_story_is_in_the_split_its_salted_hash_gives(corpus: Path) -> None:
    for story_id, split in _story_split(corpus).items():
        assert hashed_split(story_id) == split


def test_every_variant_and_alignment_lies_in_its_storys_split(corpus: Path) -> None:
    split_of = _story_split(corpus)
    for config in ("variants", "alignments"):
        rows = read_rows(corpus, config)
        assert sum(len(r) for r in rows.values()) > 0
        for split, records in rows.items():
            assert all(split_of[r["story_id"]] == split for r in records), config


def test_every_pair_and_both_of_its_texts_lie_in_the_pairs_split(corpus: Path) -> None:
    split_of = _story_split(corpus)
    variant_story = {
        v["variant_id"]: v["story_id"]
        for rows in read_rows(corpus, "variants").values()
        for v in rows
    }
    pairs = read_rows(corpus, "pairs")
    assert all(pairs[s] for s in SPLITS)
    for split, rows in pairs.items():
        for p in rows:
            for side in ("a", "b"):
                assert variant_story[p[f"variant_{side}"]] == p[f"story_{side}"]
                assert split_of[p[f"story_{side}"]] == split, (p["pair_id"], side)


def test_negatives_never_cross_splits_and_other_story_negatives_change_story(
    corpus: Path,
) -> None:
    split_of = _story_split(corpus)
    kinds = set()
    for split, rows in read_rows(corpus, "pairs").items():
        for p in rows:
            if p["label"] != "unrelated":
                continue
            kinds.add(p["negative_kind"])
            assert split_of[p["story_a"]] == split_of[p["story_b"]] == split
            if p["negative_kind"] == "same_story":
                assert p["story_a"] == p["story_b"]
            else:
                assert p["story_a"] != p["story_b"]
    assert kinds == {"same_story", "nearest_other", "random_other"}


def test_the_registry_split_wins_over_the_hash_so_stories_never_move(
    corpus: Path, tmp_path: Path
) -> None:
    """A story whose remembered split differs from its hash stays where the registry says."""
    registry = json.loads((corpus / "REGISTRY.json").read_text(encoding="utf-8"))
    story_id = min(s for s, e in registry["stories"].items() if e["split"] == "train")
    registry["stories"][story_id]["split"] = "test"
    remembered = tmp_path / "REGISTRY.json"
    remembered.write_text(json.dumps(registry), encoding="utf-8")
    out = tmp_path / "corpus"
    build(corpus.parent / "raw", out, registry_path=remembered)
    assert _story_split(out)[story_id] == "test"
    split_of = _story_split(out)
    for split, rows in read_rows(out, "pairs").items():
        assert all(split_of[p["story_a"]] == split_of[p["story_b"]] == split for p in rows)


def test_adding_captures_never_moves_an_existing_story(corpus: Path, tmp_path: Path) -> None:
    before = _story_split(corpus)
    root = tmp_path / "grown"
    shutil.copytree(corpus.parent / "raw", root / "raw")
    shutil.copytree(corpus, root / "corpus")
    from .multistory import STORIES

    build_corpus(root, stories=(*STORIES, 22, 32))  # two more stories, same raw/ + registry
    after = _story_split(root / "corpus")
    assert len(after) == len(before) + 2
    assert {s: after[s] for s in before} == before


def _excerpts_in_two_splits(story: int) -> tuple[str, str, str]:
    """Head excerpt, tail excerpt and full text of one long article, the excerpts' titles tagged
    so that their (first-build) story IDs hash into two different splits: the first tag that does.
    Story IDs derive from the capture bytes (registry._new_id), so this is decided by the text."""
    from newsvariants.ingest import sha256_bytes

    from .multistory import paragraph

    body = [paragraph(story, i) for i in range(10)]

    def page(title: str, paragraphs: list[str]) -> str:
        return "\n\n".join([title, *paragraphs]) + "\n"

    def split_of_page(text: str) -> str:
        capture_id = sha256_bytes(text.encode("utf-8"))[:16]
        story_id = "s-" + hashlib.sha256(f"story:{capture_id}".encode()).hexdigest()[:12]
        return hashed_split(story_id)

    for tag in range(1000):
        head = page(f"Part one ({tag})", body[:5])
        tail = page(f"Part two ({tag})", body[5:])
        if split_of_page(head) != split_of_page(tail):
            return head, tail, page("The whole report", body)
    raise AssertionError("no tag puts the two excerpts in different splits")


def test_a_merge_across_splits_keeps_the_surviving_ids_split_and_is_reported(
    tmp_path: Path,
) -> None:
    """Two excerpts of one article (sharing no text) are two stories in two splits; the full
    article, added later, contains both and merges them: the oldest ID survives with its split,
    the other becomes its alias, every record moves to the survivor's split, diff reports it."""
    from newsvariants.ingest import file_inputs, ingest
    from newsvariants.release import CorpusState, release_diff

    head, tail, full = _excerpts_in_two_splits(story=5)

    def add(name: str, text: str, day: int) -> None:
        path = tmp_path / "pages" / f"{name}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        captured = f"2024-01-{day:02d}"
        items = file_inputs(
            path, source=f"{name}.example", captured_at=captured, url=None, fmt="text"
        )
        ingest(items, tmp_path / "raw")

    corpus = tmp_path / "corpus"
    add("head", head, 1)
    add("tail", tail, 2)
    build(tmp_path / "raw", corpus)
    before = _story_split(corpus)
    assert len(before) == 2 and len(set(before.values())) == 2  # two stories, two splits
    old_state = CorpusState.read(corpus)

    add("full", full, 3)
    build(tmp_path / "raw", corpus, registry_path=corpus / "REGISTRY.json")
    after = _story_split(corpus)
    [survivor] = after
    registry = json.loads((corpus / "REGISTRY.json").read_text(encoding="utf-8"))
    [absorbed] = set(before) - {survivor}
    assert after[survivor] == before[survivor]  # the surviving ID keeps its split
    assert registry["stories"][absorbed]["merged_into"] == survivor
    assert absorbed in registry["stories"][survivor]["aliases"]
    for config in ("variants", "alignments"):
        rows = read_rows(corpus, config)
        assert sum(len(rows[s]) for s in SPLITS) > 0, config
        assert all(not rows[s] for s in SPLITS if s != after[survivor]), config
    pairs = read_rows(corpus, "pairs")
    assert all(not pairs[s] for s in SPLITS if s != after[survivor])
    lines = release_diff(old_state, CorpusState.read(corpus)).lines
    assert f"- story {absorbed} merged into {survivor} (kept as an alias)" in lines


# Written down once from the split rule (SHA-256 of salt + story ID, mod 100: 0-79 train, 80-89
# validation, 90-99 test): a change of salt, bounds or hash moves these, and with them the split
# of every published story, which only a major release may do.
GOLDEN_SPLITS = {
    "s-000000000000": "train",
    "s-000000000001": "train",
    "s-000000000002": "train",
    "s-000000000005": "test",
    "s-00000000000d": "test",
    "s-000000000007": "test",
    "s-000000000004": "validation",
    "s-000000000006": "validation",
    "s-00000000001a": "validation",
}


def test_the_split_of_a_story_id_is_what_it_was_when_written_down() -> None:
    assert {story: hashed_split(story) for story in GOLDEN_SPLITS} == GOLDEN_SPLITS


def test_the_splits_take_eighty_ten_and_ten_percent_of_stories() -> None:
    counts = {name: 0 for name in SPLITS}
    for i in range(20000):
        counts[hashed_split(f"s-{i:012x}")] += 1
    shares = {name: count / 20000 for name, count in counts.items()}
    assert abs(shares["train"] - 0.8) < 0.015
    assert abs(shares["validation"] - 0.1) < 0.01 and abs(shares["test"] - 0.1) < 0.01
