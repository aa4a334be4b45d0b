"""The relation rule, step by step, and the unit scores and token diff."""

from __future__ import annotations

import random
import string
from collections import Counter

import ftfy
import pytest
from rapidfuzz.distance import Indel

from newsvariants.align import align_paragraphs
from newsvariants.build import Side, label_unit
from newsvariants.label import (
    MINOR_CHAR_MIN,
    MINOR_EDIT_MAX,
    RELATIONS,
    allowed_relations,
    document_relation,
    edit_share,
    relation_of,
    token_diff,
    unit_scores,
)
from newsvariants.normalize import _FOLD, _TOKEN, FTFY_INERT, _ascii_tokens, fold, tokens
from newsvariants.records import DiffOp, Scores

BASE = (
    "Mayor Ana Ruiz said the closure would last at least six months while the supports are "
    "replaced, and that buses would be diverted through the northern ring road."
)


def _relation(a: str, b: str, n_a: int = 1, n_b: int = 1) -> str:
    scores, _ = unit_scores(a, b)
    return relation_of(n_a, n_b, a, b, scores)


def test_one_side_empty_is_added_or_removed() -> None:
    assert _relation("", BASE, 0, 1) == "added"
    assert _relation(BASE, "", 1, 0) == "removed"


def test_several_paragraphs_on_one_side_are_merge_or_split_whatever_the_text() -> None:
    assert _relation(BASE, BASE, 2, 1) == "merge"
    assert _relation(BASE, BASE, 1, 3) == "split"


def test_identical_means_equal_character_for_character() -> None:
    assert _relation(BASE, BASE) == "identical"
    assert _relation(BASE, BASE + " ") != "identical"


@pytest.mark.parametrize(
    "variant",
    [
        BASE.replace("Mayor", "\u201cMayor") + "\u201d",  # wrapped in curly quotes
        "  " + BASE.replace(" said ", "\n said  "),  # whitespace and wrapping
        BASE.replace("six months", "six\u00a0months"),  # no-break space
    ],
)
def test_formatting_is_equal_after_folding_quotes_whitespace_and_wrapping_marks(
    variant: str,
) -> None:
    assert _relation(BASE, variant) == "formatting"


def test_dash_and_apostrophe_styles_are_formatting() -> None:
    a = "It\u2019s a long road \u2013 the mayor said \u2018no\u2019."
    b = "It's a long road - the mayor said 'no'."
    assert _relation(a, b) == "formatting"


def test_a_changed_case_is_not_formatting() -> None:
    assert _relation(BASE, BASE.replace("Mayor", "mayor")) == "minor_edit"


def test_a_word_swap_is_a_minor_edit() -> None:
    variant = BASE.replace("would last", "will last")
    scores, _ = unit_scores(BASE, variant)
    assert (scores.tokens_inserted, scores.tokens_deleted) == (1, 1)
    assert _relation(BASE, variant) == "minor_edit"


def test_edit_share_threshold_separates_minor_from_major() -> None:
    words = BASE.split()
    n = len(tokens(BASE))
    # Replacing k words costs 2k edits out of 2n tokens: share k / n.
    k_minor = int(MINOR_EDIT_MAX * n)
    k_major = k_minor + 1
    for k, expected in ((k_minor, "minor_edit"), (k_major, "major_edit")):
        variant = " ".join(w if i >= k else f"zz{i}" for i, w in enumerate(words))
        scores, _ = unit_scores(BASE, variant)
        assert scores.char_ratio >= MINOR_CHAR_MIN  # only the edit share decides here
        assert (edit_share(BASE, variant, scores) <= MINOR_EDIT_MAX) == (expected == "minor_edit")
        assert _relation(BASE, variant) == expected


def test_character_ratio_guards_edits_the_token_count_misses() -> None:
    # two long codes rewritten: few tokens change (edit share small), most characters do
    a = "Reference codes ABCDEFGHIJKLMNOPQRST and UVWXYZABCDEFGHIJKL in the report were fixed."
    b = "Reference codes QWERTYUIOPASDFGHJKLZ and XCVBNMQWERTYUIOPAS in the report were fixed."
    scores, _ = unit_scores(a, b)
    assert edit_share(a, b, scores) <= MINOR_EDIT_MAX and scores.char_ratio < MINOR_CHAR_MIN
    assert _relation(a, b) == "major_edit"
    c = a.replace("were fixed", "were fixed today")
    scores, _ = unit_scores(a, c)
    assert edit_share(a, c, scores) <= MINOR_EDIT_MAX and scores.char_ratio >= MINOR_CHAR_MIN
    assert _relation(a, c) == "minor_edit"


def test_scores_count_tokens_and_containment_both_ways() -> None:
    variant = BASE.replace(", and that buses would be diverted through the northern ring road", "")
    scores, diff = unit_scores(BASE, variant)
    dropped = len(tokens(BASE)) - len(tokens(variant))
    assert scores.tokens_deleted == dropped and scores.tokens_inserted == 0
    assert scores.containment_b_in_a == 1.0
    assert scores.containment_a_in_b == pytest.approx(len(tokens(variant)) / len(tokens(BASE)))
    assert 0 < scores.token_jaccard < 1 and 0 < scores.char_ratio < 1
    assert [op.op for op in diff] == ["equal", "delete"]  # the clause ran to the end


def test_token_diff_rebuilds_both_sides() -> None:
    a = tokens(BASE)
    b = tokens("The mayor said closure will last six months, and buses go via the ring road.")
    diff = token_diff(a, b)
    rebuilt_a = " ".join(op.text for op in diff if op.op in ("equal", "delete")).split()
    rebuilt_b = " ".join(op.text for op in diff if op.op in ("equal", "insert")).split()
    assert rebuilt_a == a and rebuilt_b == b
    # minimal: the unchanged tokens are a longest common subsequence
    lcs = (len(a) + len(b) - Indel.distance(a, b)) // 2
    assert sum(len(op.text.split()) for op in diff if op.op == "equal") == lcs


def test_allowed_relations_by_unit_shape() -> None:
    assert allowed_relations(0, 1) == ("added",)
    assert allowed_relations(1, 0) == ("removed",)
    assert allowed_relations(2, 1) == ("merge",)
    assert allowed_relations(1, 2) == ("split",)
    assert allowed_relations(2, 2) == () and allowed_relations(0, 0) == ()
    assert set(allowed_relations(1, 1)) == {"identical", "formatting", "minor_edit", "major_edit"}
    assert set(RELATIONS) == {
        r for shape in ((0, 1), (1, 0), (2, 1), (1, 2), (1, 1)) for r in allowed_relations(*shape)
    }


# --- the fast paths compute exactly what the plain definitions say ----------------------------


def _reference_scores(text_a: str, text_b: str) -> tuple[Scores, list[DiffOp]]:
    """The scores as the card defines them, computed the plain way (Counters, difflib-free)."""
    a, b = tokens(text_a), tokens(text_b)
    counts_a, counts_b = Counter(a), Counter(b)
    shared = sum((counts_a & counts_b).values())
    lcs = (len(a) + len(b) - Indel.distance(a, b)) // 2
    union = set(a) | set(b)
    scores = Scores(
        char_ratio=round(Indel.normalized_similarity(fold(text_a), fold(text_b)), 6),
        token_jaccard=round(len(set(a) & set(b)) / len(union), 6) if union else 1.0,
        containment_a_in_b=round(shared / len(a), 6) if a else 0.0,
        containment_b_in_a=round(shared / len(b), 6) if b else 0.0,
        tokens_inserted=len(b) - lcs,
        tokens_deleted=len(a) - lcs,
    )
    return scores, token_diff(a, b)


def _random_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)  # fixed seed: the same texts every run
    words = ["the", "mayor", "said", "bridge", "it's", "well-known", "6", "road", "and", "road"]
    return [" ".join(rng.choices(words, k=rng.randint(0, 14))) for _ in range(count)]


def test_unit_scores_equal_the_plain_definitions() -> None:
    texts = [
        BASE,
        BASE.replace("would last", "will last"),
        "",
        "Six months.",
        *_random_texts(3, 40),
    ]
    for text_a in texts:
        for text_b in texts[:12]:
            assert unit_scores(text_a, text_b) == _reference_scores(text_a, text_b)


def test_equal_texts_get_the_general_scores_without_comparing() -> None:
    for text in [BASE, "", "...", "Six  months.", *_random_texts(4, 20)]:
        assert unit_scores(text, text) == _reference_scores(text, text)
        # the same text under another object identity takes the same shortcut
        assert unit_scores(text, "".join(list(text))) == unit_scores(text, text)


# Characters ftfy provably leaves alone (normalize.FTFY_INERT) and some it does not.
_INERT = (
    string.ascii_letters
    + string.digits
    + " .,;:!?'\"()-/\t\n"
    + "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0"
)
_NOT_INERT = [
    "&amp;",
    "\u00e2\u20ac\u2122",
    "caf\u00e9",
    "\x1b[1m",
    "\u00c3\u00a9",
    "x\x00y",
    "\u201e",
]


def test_fold_skips_ftfy_only_where_ftfy_would_change_nothing() -> None:
    rng = random.Random(7)  # fixed seed: the same strings every run
    for _ in range(3000):
        text = "".join(rng.choice(_INERT) for _ in range(rng.randint(0, 40)))
        assert FTFY_INERT.fullmatch(text)
        slow = " ".join(ftfy.fix_text(text, normalization="NFC").translate(_FOLD).split())
        assert fold(text) == slow
    for piece in _NOT_INERT:
        text = f"Prices at the {piece} rose"
        assert not FTFY_INERT.fullmatch(text)
        assert fold(text) == " ".join(
            ftfy.fix_text(text, normalization="NFC").translate(_FOLD).split()
        )
    assert fold("It\u00e2\u20ac\u2122s") == "It's"  # mojibake still repaired


def test_ascii_tokens_equal_the_token_pattern() -> None:
    rng = random.Random(11)  # fixed seed: the same strings every run
    alphabet = "ab z09_-'" + "-'" * 3 + " .,\t\n"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert _ascii_tokens(text) == _TOKEN.findall(text), text
    assert tokens("It's a well-known 40,000-seat hall_2") == [
        "it's",
        "a",
        "well-known",
        "40",
        "000-seat",
        "hall_2",
    ]
    # non-ASCII text goes through the pattern itself
    assert tokens("Caf\u00e9 \u00fcber-cool") == ["caf\u00e9", "\u00fcber-cool"]


# --- documents ----------------------------------------------------------------------------------

ARTICLE = [
    BASE,
    "Engineers found corrosion in two of the four main supports during a routine inspection in "
    "March, the city's transport department said in a statement on Tuesday.",
    "Repairs are expected to cost about 14 million euros, paid for by the regional government "
    "and a European infrastructure fund, according to the department.",
    "Residents of the eastern districts have complained for years about the state of the bridge, "
    "which was built in 1962 and last renovated in the early 1990s.",
    "The opposition called for an independent review of every bridge of the same design in the "
    "region before the winter, when traffic on the ring road is heaviest.",
    "A public meeting on the diversions will be held at the town hall next Monday evening, the "
    "mayor's office said, and the timetable of the affected bus lines will be published online.",
]


def _document(pivot: list[str], variant: list[str]) -> str:
    """document_relation over the variant's alignment to the pivot (units labelled by the rule)."""
    a, b = Side("va", tuple(pivot)), Side("vb", tuple(variant))
    units = [label_unit("s", a, b, unit) for unit in align_paragraphs(pivot, variant)]
    return document_relation("\n\n".join(pivot), "\n\n".join(variant), units)


def test_a_document_is_identical_only_when_its_text_is() -> None:
    assert _document(ARTICLE, list(ARTICLE)) == "identical"
    moved = [ARTICLE[1], ARTICLE[0], *ARTICLE[2:]]  # every paragraph a verbatim copy, one moved
    assert _document(ARTICLE, moved) == "minor_edit"  # not identical: the text differs


def test_a_document_with_only_quote_changes_is_formatting() -> None:
    curly = [p.replace("'", "\u2019") for p in ARTICLE]
    assert curly != ARTICLE
    assert _document(ARTICLE, curly) == "formatting"


def test_a_few_swapped_words_are_a_minor_edit_of_the_document() -> None:
    mirror = [p.replace("would", "will").replace("said", "stated") for p in ARTICLE]
    assert _document(ARTICLE, mirror) == "minor_edit"


def test_an_excerpt_or_a_heavily_extended_copy_is_a_major_edit_of_the_document() -> None:
    assert _document(ARTICLE, ARTICLE[:2]) == "major_edit"  # a third of the text
    extra = [
        f"{p} Critics said the plan came far too late for the people affected." for p in ARTICLE
    ]
    assert _document(ARTICLE, extra + ARTICLE[:3]) == "major_edit"


def test_a_document_with_no_aligned_text_is_a_major_edit() -> None:
    other = ["An unrelated paragraph about the weather in the mountains this weekend, with snow."]
    assert _document(ARTICLE, other) == "major_edit"
