"""The `pairs` config: positives from the alignments, three kinds of negatives, deterministic."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from newsvariants.pairs import RandomOther, TextRef
from newsvariants.split import SPLITS

from .multistory import read_rows, shared_corpus


@pytest.fixture()
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_corpus(tmp_path_factory)


def test_every_aligned_unit_except_added_removed_is_a_paragraph_positive(corpus: Path) -> None:
    alignments = read_rows(corpus, "alignments")
    pairs = read_rows(corpus, "pairs")
    for split in SPLITS:
        positives = {
            (p["variant_a"], tuple(p["paragraphs_a"]), p["variant_b"], tuple(p["paragraphs_b"])): p
            for p in pairs[split]
            if p["label"] == "same_source" and p["granularity"] == "paragraph"
        }
        expected = [a for a in alignments[split] if a["relation"] not in ("added", "removed")]
        assert len(positives) == len(expected) > 0
        for al in expected:
            key = (al["variant_a"], tuple(al["paragraphs_a"]), al["variant_b"])
            pair = positives[(*key, tuple(al["paragraphs_b"]))]
            assert (pair["text_a"], pair["text_b"]) == (al["text_a"], al["text_b"])
            assert pair["relation"] == al["relation"] and pair["negative_kind"] is None


def test_one_document_positive_per_non_pivot_variant_with_its_pivot(corpus: Path) -> None:
    stories = read_rows(corpus, "stories")
    pairs = read_rows(corpus, "pairs")
    for split in SPLITS:
        docs = [
            p
            for p in pairs[split]
            if p["granularity"] == "document" and p["label"] == "same_source"
        ]
        expected = {
            (s["pivot_variant_id"], v)
            for s in stories[split]
            for v in s["variant_ids"]
            if v != s["pivot_variant_id"]
        }
        assert {(p["variant_a"], p["variant_b"]) for p in docs} == expected


def test_document_relations_follow_the_rule_on_the_whole_text(corpus: Path) -> None:
    """identical only for equal bodies; every other document relation is one of the 1-1 kinds."""
    from newsvariants.normalize import comparison_form

    seen = set()
    for rows in read_rows(corpus, "pairs").values():
        for p in rows:
            if p["granularity"] != "document" or p["label"] != "same_source":
                continue
            seen.add(p["relation"])
            assert (p["relation"] == "identical") == (p["text_a"] == p["text_b"])
            if p["relation"] != "identical":
                same_form = comparison_form(p["text_a"]) == comparison_form(p["text_b"])
                assert (p["relation"] == "formatting") == same_form
            assert p["relation"] in ("identical", "formatting", "minor_edit", "major_edit")
    assert "minor_edit" in seen, seen  # the fixture's mirrors are light rewordings


def test_label_relation_and_negative_kind_are_consistent(corpus: Path) -> None:
    for rows in read_rows(corpus, "pairs").values():
        for p in rows:
            if p["label"] == "same_source":
                assert p["relation"] is not None and p["negative_kind"] is None
            else:
                assert p["relation"] is None and p["negative_kind"] is not None
                assert p["text_a"] != p["text_b"]


def test_same_story_negatives_pair_paragraphs_that_are_not_aligned(corpus: Path) -> None:
    alignments = read_rows(corpus, "alignments")
    found = 0
    for split, rows in read_rows(corpus, "pairs").items():
        aligned = {
            (a["variant_b"], i, j)
            for a in alignments[split]
            for i in a["paragraphs_a"]
            for j in a["paragraphs_b"]
        }
        for p in rows:
            if p["negative_kind"] == "same_story":
                found += 1
                assert p["granularity"] == "paragraph" and p["story_a"] == p["story_b"]
                for i in p["paragraphs_a"]:
                    assert (p["variant_b"], i, p["paragraphs_b"][0]) not in aligned
    assert found > 0


def test_at_most_one_negative_of_each_kind_per_positive(corpus: Path) -> None:
    for rows in read_rows(corpus, "pairs").values():
        for granularity in ("paragraph", "document"):
            kinds = Counter(
                p["negative_kind"] or "positive" for p in rows if p["granularity"] == granularity
            )
            assert kinds["positive"] > 0
            for kind in ("same_story", "nearest_other", "random_other"):
                assert kinds[kind] <= kinds["positive"]
            if granularity == "document":
                assert kinds["same_story"] == 0


def test_nearest_other_is_at_least_as_similar_as_random_other(corpus: Path) -> None:
    """TF-IDF nearest beats (or ties) the hash-drawn text for the same query, on average."""
    from rapidfuzz import fuzz

    near, rand = [], []
    for rows in read_rows(corpus, "pairs").values():
        for p in rows:
            if p["negative_kind"] == "nearest_other":
                near.append(fuzz.ratio(p["text_a"], p["text_b"]))
            elif p["negative_kind"] == "random_other":
                rand.append(fuzz.ratio(p["text_a"], p["text_b"]))
    assert near and rand
    assert sum(near) / len(near) >= sum(rand) / len(rand)


def _refs(stories: int, per_story: int) -> list[TextRef]:
    return [
        TextRef(f"s{s}", f"v{s}", (i,), f"text {s} {i}")
        for s in range(stories)
        for i in range(per_story)
    ]


def test_random_other_draws_another_story_deterministically_and_spreads() -> None:
    pool = _refs(50, 20)
    draws = [RandomOther(pool).draw(q, f"key{n}") for n, q in enumerate(pool[:200])]
    again = [RandomOther(list(reversed(pool))).draw(q, f"key{n}") for n, q in enumerate(pool[:200])]
    assert draws == again  # independent of the pool's input order
    assert all(
        d is not None and d.story_id != q.story_id for d, q in zip(draws, pool, strict=False)
    )
    assert len({(d.variant_id, d.paragraphs) for d in draws if d}) > 150


def test_random_other_is_none_when_the_pool_has_a_single_story() -> None:
    pool = _refs(1, 5)
    assert RandomOther(pool).draw(pool[0], "k") is None
    assert RandomOther([]).draw(pool[0], "k") is None


class _CountingList(list):
    reads = 0

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        type(self).reads += 1
        return super().__getitem__(index)


def test_random_other_reads_few_texts_per_draw_on_a_large_pool() -> None:
    """O(1) per draw: 100k texts, and a draw reads at most the query's own story plus one."""
    pool = _refs(20_000, 5)
    sampler = RandomOther(pool)
    sampler.pool = _CountingList(sampler.pool)
    queries = pool[::97]
    for n, query in enumerate(queries):
        drawn = sampler.draw(query, f"k{n}")
        assert drawn is not None and drawn.story_id != query.story_id
    assert _CountingList.reads <= len(queries) * 6


def test_nearest_other_finds_the_close_text_of_another_story_never_its_own() -> None:
    from newsvariants.pairs import _nearest

    pool = _refs(300, 4)
    twin = TextRef("s7", "v7", (9,), "harbour council Bergen approved the ferry plan")
    near = TextRef("s200", "v200", (9,), "harbour council Bergen approved the ferry plan today")
    own = TextRef("s7", "v7b", (8,), "harbour council Bergen approved the ferry plan")
    found = _nearest([twin, pool[0]], [*pool, near, own])
    assert found[0] == near  # the own story's identical copy is never chosen
    assert found[1] is not None and found[1].story_id != pool[0].story_id
    shuffled = _nearest([pool[0], twin], [*pool, near, own])
    assert shuffled == found[::-1]  # independent of the queries' order


def test_nearest_other_work_is_bounded_per_query(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every text shares the same rare-ish terms: the candidates stay POSTINGS-bounded."""
    from newsvariants import pairs

    seen: list[int] = []
    real = pairs._candidates

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        rows, cols = real(*args, **kwargs)
        seen.append(len(rows))
        return rows, cols

    monkeypatch.setattr(pairs, "_candidates", counting)
    pool = [
        TextRef(f"s{n}", f"v{n}", (0,), f"Lavrov Muttaqi Kabul talks item {n}") for n in range(3000)
    ]
    found = pairs._nearest(pool[:500], pool)
    assert all(
        f is not None and f.story_id != q.story_id for f, q in zip(found, pool, strict=False)
    )
    assert seen[0] <= 500 * pairs.CANDIDATES
