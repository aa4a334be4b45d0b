"""Paragraph alignment: 1-1, splits, merges, moves, added and removed, on crafted paragraph lists,
then the seed pair end to end, then the cost (n - 1 alignments for n variants)."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from newsvariants import build as build_module
from newsvariants.align import (
    GAP_MIN,
    MATCH_MIN,
    _longest_chain,
    _pivot,
    _scores,
    _Side,
    align_paragraphs,
    clear_feature_cache,
    pair_score,
    swap_in,
)
from newsvariants.build import Side, build, label_unit
from newsvariants.label import RELATIONS, relation_of, unit_scores
from newsvariants.records import AlignmentUnit

from .conftest import CORPUS, SEED_MIRROR, SEED_ORIGINAL

# Six paragraphs of one made-up article; every test derives its variant from them.
ARTICLE = [
    "The city council voted on Tuesday to close the old harbour bridge to heavy traffic after "
    "engineers found cracks in two of its steel supports.",
    "Mayor Ana Ruiz said the closure would last at least six months while the supports are "
    "replaced, and that buses would be diverted through the northern ring road.",
    "Local shop owners warned that the diversion could cut the number of customers reaching the "
    "old town, which depends on visitors crossing the river from the station.",
    "The bridge, opened in 1962, carries about 40,000 vehicles a day and was last inspected in "
    "2019, when no structural damage was reported.",
    "Engineers will use sensors to monitor the remaining supports during the works, the council "
    "said in a statement published on its website.",
    "A public meeting on the traffic plan is scheduled for next Thursday at the town hall.",
]
UNRELATED = [
    "Heavy rain flooded several villages in the south of the country overnight, and rescue teams "
    "evacuated more than 300 residents by boat.",
    "The national football team named a new captain ahead of the qualifying match, ending weeks "
    "of speculation about the leadership of the squad.",
]


def _units(*pairs: tuple[tuple[int, ...], tuple[int, ...]]) -> list[AlignmentUnit]:
    return [AlignmentUnit(a, b) for a, b in pairs]


def _first_sentence_split(text: str) -> list[str]:
    head, tail = text.split(", ", 1)
    return [head + ".", tail[0].upper() + tail[1:]]


def _assert_partition(units: list[AlignmentUnit], n_a: int, n_b: int) -> None:
    a_seen = sorted(i for u in units for i in u.paragraphs_a)
    b_seen = sorted(j for u in units for j in u.paragraphs_b)
    assert a_seen == list(range(n_a)) and b_seen == list(range(n_b))


def test_identical_lists_align_one_to_one() -> None:
    units = align_paragraphs(ARTICLE, ARTICLE)
    assert units == _units(*(((i,), (i,)) for i in range(len(ARTICLE))))


def test_light_rewording_still_aligns_one_to_one() -> None:
    reworded = [
        ARTICLE[0].replace("voted on Tuesday", "decided on Tuesday"),
        ARTICLE[1].replace("would last", "will last"),
        *ARTICLE[2:],
    ]
    assert align_paragraphs(ARTICLE, reworded) == _units(
        *(((i,), (i,)) for i in range(len(ARTICLE)))
    )


def test_split_into_two_is_one_to_many() -> None:
    variant = ARTICLE[:1] + _first_sentence_split(ARTICLE[1]) + ARTICLE[2:]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((1,), (1, 2)) in units
    assert AlignmentUnit((2,), (3,)) in units and AlignmentUnit((5,), (6,)) in units
    _assert_partition(units, len(ARTICLE), len(variant))


def test_split_into_three_is_found_whichever_part_matched_first() -> None:
    sentences = [
        "Mayor Ana Ruiz said the closure would last at least six months.",
        "The steel supports will be replaced during that time.",
        "Buses would be diverted through the northern ring road, she added.",
    ]
    pivot = [ARTICLE[0], " ".join(sentences), ARTICLE[2]]
    variant = [ARTICLE[0], *sentences, ARTICLE[2]]
    units = align_paragraphs(pivot, variant)
    assert units == _units(((0,), (0,)), ((1,), (1, 2, 3)), ((2,), (4,)))


def test_merge_of_two_pivot_paragraphs_is_many_to_one() -> None:
    variant = [ARTICLE[0], ARTICLE[1] + " " + ARTICLE[2], *ARTICLE[3:]]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((1, 2), (1,)) in units
    assert AlignmentUnit((3,), (2,)) in units
    _assert_partition(units, len(ARTICLE), len(variant))


def test_moved_paragraph_is_found_out_of_order() -> None:
    variant = [ARTICLE[3], *ARTICLE[:3], *ARTICLE[4:]]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((3,), (0,)) in units
    assert AlignmentUnit((0,), (1,)) in units and AlignmentUnit((5,), (5,)) in units
    assert all(u.paragraphs_a and u.paragraphs_b for u in units)


def test_moved_and_lightly_edited_paragraph_is_found() -> None:
    moved = ARTICLE[5].replace("next Thursday", "on Thursday next week")
    variant = [moved, *ARTICLE[:5]]
    assert AlignmentUnit((5,), (0,)) in align_paragraphs(ARTICLE, variant)


def test_added_paragraph_stays_added_even_between_matches() -> None:
    variant = [*ARTICLE[:2], UNRELATED[0], *ARTICLE[2:]]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((), (2,)) in units
    assert sum(1 for u in units if u.paragraphs_a and u.paragraphs_b) == len(ARTICLE)


def test_removed_paragraph_is_removed() -> None:
    variant = ARTICLE[:3] + ARTICLE[4:]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((3,), ()) in units
    assert AlignmentUnit((4,), (3,)) in units


def test_removed_next_to_added_are_not_forced_together() -> None:
    variant = [*ARTICLE[:3], UNRELATED[1], *ARTICLE[4:]]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((3,), ()) in units and AlignmentUnit((), (3,)) in units


def test_heavy_rewrite_in_place_is_matched_in_its_gap() -> None:
    rewrite = (
        "Shopkeepers in the old town fear fewer customers will reach them, since most visitors "
        "cross the river on foot from the station."
    )
    score = pair_score(ARTICLE[2], rewrite)
    assert GAP_MIN <= score < MATCH_MIN  # only the gap rule can match it
    variant = [*ARTICLE[:2], rewrite, *ARTICLE[3:]]
    assert AlignmentUnit((2,), (2,)) in align_paragraphs(ARTICLE, variant)


def test_unrelated_lists_share_no_unit() -> None:
    units = align_paragraphs(ARTICLE[:2], UNRELATED)
    assert units == _units(((0,), ()), ((1,), ()), ((), (0,)), ((), (1,)))


def test_empty_sides() -> None:
    assert align_paragraphs([], ARTICLE[:2]) == _units(((), (0,)), ((), (1,)))
    assert align_paragraphs(ARTICLE[:1], []) == _units(((0,), ()))


def test_everything_at_once_partitions_both_sides() -> None:
    variant = [
        ARTICLE[5],  # moved to the top
        ARTICLE[0],
        *_first_sentence_split(ARTICLE[1]),  # split
        UNRELATED[0],  # added
        ARTICLE[3] + " " + ARTICLE[4],  # merge; ARTICLE[2] removed
    ]
    units = align_paragraphs(ARTICLE, variant)
    assert units == _units(
        ((0,), (1,)),
        ((1,), (2, 3)),
        ((2,), ()),
        ((3, 4), (5,)),
        ((5,), (0,)),
        ((), (4,)),
    )


def test_any_lists_are_partitioned_into_units_of_allowed_shapes() -> None:
    rng = random.Random(5)  # fixed seed: the same lists every run
    words = ["the", "council", "voted", "bridge", "closed", "mayor", "said", "buses", "town"]

    def paragraphs() -> list[str]:
        return [
            " ".join(rng.choices(words, k=rng.randint(0, 12))) for _ in range(rng.randint(0, 8))
        ]

    for _ in range(300):
        a, b = paragraphs(), paragraphs()
        a += rng.sample(b, k=min(2, len(b)))  # some shared paragraphs, in scrambled order
        units = align_paragraphs(a, b)
        _assert_partition(units, len(a), len(b))
        for unit in units:
            shape = (min(len(unit.paragraphs_a), 2), min(len(unit.paragraphs_b), 2))
            assert shape in {(1, 1), (1, 2), (2, 1), (1, 0), (0, 1)}


def test_a_one_word_paragraph_is_not_contained_in_everything() -> None:
    units = align_paragraphs(ARTICLE[:3], [ARTICLE[0], "Advertisement", ARTICLE[1], ARTICLE[2]])
    assert AlignmentUnit((), (1,)) in units


def test_a_split_part_is_not_taken_by_the_removed_paragraph_before_it() -> None:
    # ARTICLE[1] removed; the first half of ARTICLE[2] must not pair with it as a "rewrite"
    variant = [ARTICLE[0], *_first_sentence_split(ARTICLE[2]), *ARTICLE[3:]]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((2,), (1, 2)) in units and AlignmentUnit((1,), ()) in units


def test_a_split_beats_a_look_alike_neighbour_in_the_order_programme() -> None:
    part_1 = "Mayor Ana Ruiz said the closure would last at least six months."
    part_2 = "Buses would be diverted through the northern ring road, she added."
    look_alike = "Mayor Ana Ruiz said the closure of the bridge would last at least six months."
    pivot = [ARTICLE[0], look_alike, f"{part_1} {part_2}", ARTICLE[2]]
    variant = [ARTICLE[0], part_1, part_2, ARTICLE[2]]
    assert pair_score(look_alike, part_1) >= MATCH_MIN  # a 1-1 programme would pair these
    units = align_paragraphs(pivot, variant)
    assert AlignmentUnit((2,), (1, 2)) in units and AlignmentUnit((1,), ()) in units
    # the mirror image: a merge beats the look-alike on the variant side
    units = align_paragraphs(variant, pivot)
    assert AlignmentUnit((1, 2), (2,)) in units and AlignmentUnit((), (1,)) in units


def test_a_split_part_moved_away_still_joins_its_unit() -> None:
    first, second = _first_sentence_split(ARTICLE[1])
    variant = [ARTICLE[0], first, *ARTICLE[2:], second]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((1,), (1, 6)) in units
    _assert_partition(units, len(ARTICLE), len(variant))


def test_split_pieces_printed_in_reverse_order_are_one_unit() -> None:
    first, second = _first_sentence_split(ARTICLE[1])
    variant = [ARTICLE[0], second, *ARTICLE[2:4], first, *ARTICLE[4:]]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((1,), (1, 4)) in units
    _assert_partition(units, len(ARTICLE), len(variant))


def test_an_exact_copy_moved_away_wins_over_a_look_alike_in_place() -> None:
    look_alike = ARTICLE[1].split(", and")[0] + " next spring."  # reuses the first half
    variant = [ARTICLE[0], look_alike, *ARTICLE[2:], ARTICLE[1]]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((1,), (len(variant) - 1,)) in units
    assert AlignmentUnit((), (1,)) in units


def test_two_swapped_paragraphs_are_two_moves_not_two_rewrites() -> None:
    # the pivot's paragraphs 1 and 3 trade places; templated look-alikes make the in-order
    # pairing score >= MATCH_MIN, but each paragraph's exact copy is elsewhere
    pivot = [
        ARTICLE[0],
        "The council said the bridge would close on Monday for six months of repairs.",
        ARTICLE[2],
        "The council said the tunnel would reopen on Friday after six weeks of repairs.",
        ARTICLE[5],
    ]
    variant = [pivot[0], pivot[3], pivot[2], pivot[1], pivot[4]]
    assert pair_score(pivot[1], pivot[3]) >= MATCH_MIN
    units = align_paragraphs(pivot, variant)
    assert AlignmentUnit((1,), (3,)) in units and AlignmentUnit((3,), (1,)) in units


def test_a_look_alike_insertion_between_split_parts_stays_added() -> None:
    first, second = _first_sentence_split(ARTICLE[1])
    look_alike = "Mayor Ana Ruiz said the buses would be diverted through the northern ring road."
    variant = [ARTICLE[0], first, look_alike, second, *ARTICLE[2:]]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((1,), (1, 3)) in units and AlignmentUnit((), (2,)) in units


def test_a_merge_of_three_pivot_paragraphs() -> None:
    variant = [ARTICLE[0], " ".join(ARTICLE[1:4]), *ARTICLE[4:]]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((1, 2, 3), (1,)) in units
    _assert_partition(units, len(ARTICLE), len(variant))


def test_a_superfluous_piece_is_dropped_from_its_unit() -> None:
    # a split unit as an earlier step may leave it: the full copy plus a pull quote of it
    pieces = [ARTICLE[1], ARTICLE[1].split(", and")[0] + "."]
    pivot = _pivot((ARTICLE[1],))
    side = _Side(pivot.codes[0], [pivot.encode(t) for t in pieces], [True, True])
    unit, free = [0, 1], set()
    swap_in(side, unit, free)
    assert unit == [0] and free == {1}


def test_a_pull_quote_repeating_part_of_its_paragraph_is_added_not_a_split() -> None:
    pull_quote = ARTICLE[1].split(", and")[0] + "."
    units = align_paragraphs(ARTICLE[:3], [ARTICLE[0], ARTICLE[1], pull_quote, ARTICLE[2]])
    assert AlignmentUnit((1,), (1,)) in units and AlignmentUnit((), (2,)) in units


def test_a_short_line_sharing_a_phrase_is_not_the_version_of_a_removed_paragraph() -> None:
    variant = [*ARTICLE[:4], "The council said.", ARTICLE[5]]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((4,), ()) in units and AlignmentUnit((), (4,)) in units


# --- the seeds, end to end --------------------------------------------------------------------


def _rule_build(raw_copy: Path, tmp_path: Path) -> list[dict]:
    """The seed corpus with the rule's own units (the human annotations taken away)."""
    for path in (raw_copy / "annotations").glob("*.jsonl"):
        path.unlink()
    out = tmp_path / "corpus"
    build(raw_copy, out, registry_path=CORPUS / "REGISTRY.json")
    return pq.read_table(out / "alignments" / "train-00000-of-00001.parquet").to_pylist()


def test_seed_pair_aligns_paragraph_i_to_paragraph_i_with_the_issue_relations(
    raw_copy: Path, tmp_path: Path
) -> None:
    rows = _rule_build(raw_copy, tmp_path)
    assert {(r["variant_a"], r["variant_b"]) for r in rows} == {
        (f"v-{SEED_MIRROR}", f"v-{SEED_ORIGINAL}")
    }
    units = sorted((r["paragraphs_a"], r["paragraphs_b"]) for r in rows)
    assert units == [([i], [i]) for i in range(10)]
    # 1-based, as in the issue; the relation column is a ClassLabel (an index into RELATIONS)
    relation = {r["paragraphs_a"][0] + 1: RELATIONS[r["relation"]] for r in rows}
    assert relation[2] == "identical"
    assert [relation[i] for i in (3, 9, 10)] == ["formatting"] * 3
    assert [relation[i] for i in (5, 6, 7, 8)] == ["minor_edit"] * 4
    assert {relation[1], relation[4]} <= {"minor_edit", "major_edit"}
    assert {r["label_source"] for r in rows} == {"rule"}


# --- cost ---------------------------------------------------------------------------------------


def test_a_story_of_n_variants_costs_n_minus_one_alignments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from newsvariants.records import Paragraph, Story, Variant

    calls: list[int] = []
    real = build_module.align_paragraphs

    def counting(a: list[str], b: list[str]) -> list[AlignmentUnit]:
        calls.append(1)
        return real(a, b)

    monkeypatch.setattr(build_module, "align_paragraphs", counting)

    def variant(n: int) -> Variant:
        vid = f"v-{n:016x}"
        paras = [Paragraph(f"{vid}:p{i:03d}", t, 0, len(t)) for i, t in enumerate(ARTICLE)]
        return Variant(vid, "s-000000000000", f"{n:016x}", "0" * 64, "site", None, None, None,
                       None, None, "en", "text", paras, [], None, None, [], "1")  # fmt: skip

    members = {v.variant_id: v for v in (variant(n) for n in range(40))}
    story = Story("s-000000000000", None, None, 40, sorted(members), "v-0000000000000000", [])
    found = build_module.align_story(story, members)
    assert len(calls) == 39
    assert len(found) == 39 * len(ARTICLE)
    assert {a.variant_a for a in found} == {"v-0000000000000000"}


# --- copies, anchors and the position prior (ALIGN_VERSION 3) ----------------------------------


def test_copies_are_found_by_text_or_by_tokens_and_anchor_the_order() -> None:
    restyled = ARTICLE[1].replace("would", "\u201cwould\u201d")  # quotes only: equal tokens
    variant = [ARTICLE[0], restyled, UNRELATED[0], *ARTICLE[2:]]
    assert align_paragraphs(ARTICLE, variant) == _units(
        *(((i,), (i + (i >= 2),)) for i in range(len(ARTICLE))), ((), (2,))
    )


def test_longest_chain_keeps_the_most_copies_in_order() -> None:
    pairs = [(0, 0), (4, 1), (1, 2), (2, 3), (5, 4), (3, 5)]  # sorted by variant index
    assert _longest_chain(pairs) == [(0, 0), (1, 2), (2, 3), (3, 5)]
    assert _longest_chain([]) == []


def test_position_prior_pairs_a_rewrite_between_anchors_beside_a_removal() -> None:
    # paragraph 2 removed, paragraph 3 heavily rewritten in place: the gap between the copies of
    # paragraphs 1 and 4 holds two pivot paragraphs and one variant paragraph
    rewrite = (
        "Built in 1962, the bridge takes some 40,000 cars daily; its last check, in 2019, "
        "found it sound."
    )
    assert GAP_MIN <= pair_score(ARTICLE[3], rewrite) < MATCH_MIN
    assert pair_score(ARTICLE[2], rewrite) < GAP_MIN
    variant = [ARTICLE[0], ARTICLE[1], rewrite, ARTICLE[4], ARTICLE[5]]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((3,), (2,)) in units and AlignmentUnit((2,), ()) in units


def test_a_rewrite_is_not_paired_across_an_anchor() -> None:
    # the same rewrite, printed after the copy of paragraph 4: out of its place, it is added
    rewrite = (
        "Built in 1962, the bridge takes some 40,000 cars daily; its last check, in 2019, "
        "found it sound."
    )
    variant = [ARTICLE[0], ARTICLE[1], ARTICLE[2], ARTICLE[4], rewrite, ARTICLE[5]]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((3,), ()) in units and AlignmentUnit((), (4,)) in units


def test_two_rewrites_in_one_gap_pair_in_order() -> None:
    first = "Shopkeepers in the old town fear fewer customers, as visitors come from the station."
    second = (
        "Built in 1962, the bridge takes some 40,000 cars daily; its last check, in 2019, "
        "found it sound."
    )
    variant = [ARTICLE[0], ARTICLE[1], first, second, ARTICLE[4], ARTICLE[5]]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((2,), (2,)) in units and AlignmentUnit((3,), (3,)) in units


def test_a_merge_of_a_paragraph_and_one_moved_away_is_found_by_containment() -> None:
    # the variant joins paragraphs 1 and 4 into one, printed where paragraph 1 stood
    variant = [ARTICLE[0], ARTICLE[1] + " " + ARTICLE[4], ARTICLE[2], ARTICLE[3], ARTICLE[5]]
    units = align_paragraphs(ARTICLE, variant)
    assert AlignmentUnit((1, 4), (1,)) in units
    _assert_partition(units, len(ARTICLE), len(variant))


def test_repeated_paragraphs_pair_in_order() -> None:
    repeated = "The council did not respond to a request for comment."
    pivot = [ARTICLE[0], repeated, ARTICLE[1], repeated, ARTICLE[2]]
    edited = repeated.replace("did not respond", "declined to respond")
    variant = [ARTICLE[0], edited, ARTICLE[1], repeated, ARTICLE[2]]
    units = align_paragraphs(pivot, variant)
    assert units == _units(*(((i,), (i,)) for i in range(5)))


def test_identical_is_given_to_equal_texts_only() -> None:
    variant = [
        ARTICLE[0],
        ARTICLE[1].replace(" at least ", "\u00a0at least\u00a0"),  # no-break spaces
        ARTICLE[2] + " ",  # a copy by tokens, one character longer
        ARTICLE[3].replace("vehicles", "Vehicles"),  # a copy by tokens, case changed
        *ARTICLE[4:],
    ]
    pivot, other = Side("va", tuple(ARTICLE)), Side("vb", tuple(variant))
    for unit in align_paragraphs(ARTICLE, variant):
        labelled = label_unit("s", pivot, other, unit)
        assert (labelled.relation == "identical") == (labelled.text_a == labelled.text_b), unit
    assert [
        relation_of(1, 1, a, b, unit_scores(a, b)[0])
        for a, b in zip(ARTICLE[1:4], variant[1:4], strict=True)
    ] == [
        "formatting",
        "formatting",
        "minor_edit",
    ]


def test_the_same_input_gives_the_same_units_whatever_came_before() -> None:
    variant = [ARTICLE[5], ARTICLE[0], *_first_sentence_split(ARTICLE[1]), UNRELATED[0], ARTICLE[3]]
    clear_feature_cache()
    first = align_paragraphs(ARTICLE, variant)
    align_paragraphs(list(reversed(ARTICLE)), UNRELATED + ARTICLE[:2])  # other work in between
    assert align_paragraphs(ARTICLE, variant) == first
    clear_feature_cache()
    assert align_paragraphs(ARTICLE, variant) == first


def test_pair_scores_do_not_depend_on_the_other_paragraphs() -> None:
    # codes come from the whole pivot's vocabulary: the score of a pair must not change with it
    pivot = [*UNRELATED, *ARTICLE]
    variant = [ARTICLE[2][:90], ARTICLE[4].replace("sensors", "drones")]
    pv = _pivot(tuple(pivot))
    codes = [pv.encode(t) for t in variant]
    s = _scores(pv, codes, list(range(len(pivot))), [0, 1])
    for i, text_a in enumerate(pivot):
        for j, text_b in enumerate(variant):
            assert s.score[i][j] == pytest.approx(pair_score(text_a, text_b), abs=1e-12)


def test_bigram_codes_are_exact_for_pivots_of_up_to_1023_distinct_words() -> None:
    words = [f"w{k}" for k in range(1023)]
    pivot = _pivot((" ".join(words),))
    variant = " ".join(words[::-1][:50] + ["unknown", "x"] + words[:50])
    (bigrams,) = pivot.encode_bigrams([pivot.encode(variant)])
    # a bigram code occurs in the pivot exactly when the variant's bigram occurs in its text
    pivot_pairs = set(zip(words, words[1:], strict=False))
    toks = variant.split()
    known = [(x, y) in pivot_pairs for x, y in zip(toks, toks[1:], strict=False)]
    assert [code in set(pivot.bigrams[0]) for code in bigrams] == known
