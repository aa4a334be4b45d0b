"""Stage `label`: one relation per aligned unit, by a documented, versioned rule on normalized text.

Rule (LABEL_RULE_VERSION "2"), applied in order; the first step that applies gives the relation:
1. one side empty -> `added` (no pivot paragraph) or `removed` (no variant paragraph).
2. several pivot paragraphs -> `merge`; several variant paragraphs -> `split`.
3. the two texts are equal character for character -> `identical`.
4. equal after normalization (NFC, mojibake repair, quotes and dashes folded to ASCII, whitespace
   collapsed, quotation marks wrapping the whole paragraph dropped; case kept) -> `formatting`.
5. edit share <= MINOR_EDIT_MAX and character ratio >= MINOR_CHAR_MIN -> `minor_edit`.
6. otherwise -> `major_edit`.
Edit share = (tokens inserted + tokens deleted) / (tokens of a + tokens of b), from the minimal
token-level diff (rapidfuzz Indel opcodes, i.e. a longest common subsequence) of the lower-cased
word tokens of the folded texts; it equals 1 - the token Indel ratio. Character ratio = rapidfuzz
Indel normalized similarity of the folded texts (case kept).
Version 2 replaced difflib's (non-minimal) diff of version 1 by the minimal one.

Documents (the `pairs` config's document positives: a variant's whole body against its pivot's)
get the same steps 3-6, measured over the alignment instead of one unit (`document_relation`):
`identical` when the two bodies are equal character for character, `formatting` when equal after
normalization, else edit share = all units' inserted + deleted tokens (an added paragraph counts
all its tokens as inserted, a removed one as deleted; a moved paragraph costs nothing) over both
bodies' tokens, and character ratio = the units' character ratios weighted by their lengths, with
the paragraph thresholds. So a verbatim excerpt a third as long as its source is a `major_edit` of
it, and a mirror that swapped a few words is a `minor_edit`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz.distance import Indel, LCSseq

from newsvariants.normalize import comparison_form, fold, token_tuple
from newsvariants.records import Alignment, DiffOp, Scores

LABEL_RULE_VERSION = "2"
# Edit share: a word swapped ("will" for "would") or a short clause dropped or added in a sentence
# of 25-40 tokens costs 2-12 inserted + deleted tokens out of 50-80, well under a quarter; when a
# quarter or more of the tokens changed, a reader no longer sees the same sentence lightly edited.
MINOR_EDIT_MAX = 0.25
# Character ratio: a guard for edits the token diff undercounts (digits, names and punctuation
# rewritten inside tokens of the same count); light edits keep >= 0.85 on the seed pair, so 0.75
# leaves room without letting a rewrite through.
MINOR_CHAR_MIN = 0.75
RELATIONS = (
    "identical",
    "formatting",
    "minor_edit",
    "major_edit",
    "split",
    "merge",
    "added",
    "removed",
)
POSITIVE_RELATIONS = RELATIONS[:6]


def token_diff(a_tokens: Sequence[str], b_tokens: Sequence[str]) -> list[DiffOp]:
    """Equal, delete and insert runs turning a's tokens into b's.

    A minimal diff (rapidfuzz Indel opcodes: longest common subsequence of tokens), so the inserted
    and deleted counts are exactly the token Indel distance; a replaced run is written as its
    delete followed by its insert.
    """
    return _diff(a_tokens, b_tokens)[0]


def _diff(a_tokens: Sequence[str], b_tokens: Sequence[str]) -> tuple[list[DiffOp], int, int]:
    """`token_diff`, and the numbers of tokens inserted and deleted."""
    ops: list[DiffOp] = []
    deleted: list[str] = []
    inserted: list[str] = []
    equal = 0
    # Indel opcodes are equal, delete and insert runs (no replace); plain tuples are the cheapest
    for tag, a_start, a_end, b_start, b_end in Indel.opcodes(a_tokens, b_tokens).as_list():
        if tag == "delete":
            deleted += a_tokens[a_start:a_end]
        elif tag == "insert":
            inserted += b_tokens[b_start:b_end]
        else:
            _changed(ops, deleted, inserted)
            ops.append(DiffOp("equal", " ".join(a_tokens[a_start:a_end])))
            equal += a_end - a_start
    _changed(ops, deleted, inserted)
    return ops, len(b_tokens) - equal, len(a_tokens) - equal


def _changed(ops: list[DiffOp], deleted: list[str], inserted: list[str]) -> None:
    """Close a changed run: its deletions, then its insertions."""
    if deleted:
        ops.append(DiffOp("delete", " ".join(deleted)))
        deleted.clear()
    if inserted:
        ops.append(DiffOp("insert", " ".join(inserted)))
        inserted.clear()


def _shared(a: Sequence[str], b: Sequence[str]) -> int:
    """Size of the multiset intersection of two token lists (symmetric).

    The longest common subsequence of two sorted lists is their multiset intersection; sorting
    and rapidfuzz's LCS run in C, four times faster than counting with Counters.
    """
    return LCSseq.similarity(sorted(a), sorted(b))


def unit_scores(text_a: str, text_b: str) -> tuple[Scores, list[DiffOp]]:
    """The unit's scores and its token-level diff (a to b) on the normalized texts."""
    a_tok, b_tok = token_tuple(text_a), token_tuple(text_b)
    if text_a == text_b:
        return _scores_of_equal(a_tok)
    diff, inserted, deleted = _diff(a_tok, b_tok)
    set_a, set_b = set(a_tok), set(b_tok)
    union = set_a | set_b
    shared = _shared(a_tok, b_tok)  # computed once: it serves containment both ways
    scores = Scores(
        char_ratio=round(Indel.normalized_similarity(fold(text_a), fold(text_b)), 6),
        token_jaccard=round(len(set_a & set_b) / len(union), 6) if union else 1.0,
        containment_a_in_b=round(shared / len(a_tok), 6) if a_tok else 0.0,
        containment_b_in_a=round(shared / len(b_tok), 6) if b_tok else 0.0,
        tokens_inserted=inserted,
        tokens_deleted=deleted,
    )
    return scores, diff


def _scores_of_equal(toks: Sequence[str]) -> tuple[Scores, list[DiffOp]]:
    """`unit_scores` of a text with itself, without comparing (most units are verbatim copies);
    tests/test_label.py checks it against the general computation."""
    contained = 1.0 if toks else 0.0
    diff = [DiffOp("equal", " ".join(toks))] if toks else []
    return Scores(1.0, 1.0, contained, contained, 0, 0), diff


def edit_share(text_a: str, text_b: str, scores: Scores) -> float:
    """(inserted + deleted tokens) / (tokens of a + tokens of b); 0 for two empty texts."""
    total = len(token_tuple(text_a)) + len(token_tuple(text_b))
    return (scores.tokens_inserted + scores.tokens_deleted) / max(1, total)


def allowed_relations(n_a: int, n_b: int) -> tuple[str, ...]:
    """Relations a unit of this shape can have (a human annotation may pick among them only)."""
    if n_a == 0 and n_b == 0 or n_a > 1 and n_b > 1:
        return ()
    if n_a == 0:
        return ("added",)
    if n_b == 0:
        return ("removed",)
    if n_a > 1:
        return ("merge",)
    if n_b > 1:
        return ("split",)
    return RELATIONS[:4]


def relation_of(n_a: int, n_b: int, text_a: str, text_b: str, scores: Scores) -> str:
    """The rule (module docstring) for a unit of n_a pivot and n_b variant paragraphs."""
    if n_a == 0:
        return "added"
    if n_b == 0:
        return "removed"
    if n_a > 1:
        return "merge"
    if n_b > 1:
        return "split"
    if text_a == text_b:
        return "identical"
    if comparison_form(text_a) == comparison_form(text_b):
        return "formatting"
    if edit_share(text_a, text_b, scores) <= MINOR_EDIT_MAX and scores.char_ratio >= MINOR_CHAR_MIN:
        return "minor_edit"
    return "major_edit"


def document_relation(text_a: str, text_b: str, units: Sequence[Alignment]) -> str:
    """The rule for a whole body (module docstring): `text_a`, `text_b` are the pivot's and the
    variant's paragraphs joined, `units` every unit of the variant's alignment to the pivot."""
    if text_a == text_b:
        return "identical"
    if comparison_form(text_a) == comparison_form(text_b):
        return "formatting"
    edits = tokens = 0
    weighted_char = 0.0
    length = 0
    for unit in units:
        edits += unit.scores.tokens_inserted + unit.scores.tokens_deleted
        tokens += len(token_tuple(unit.text_a)) + len(token_tuple(unit.text_b))
        size = len(unit.text_a) + len(unit.text_b)
        weighted_char += unit.scores.char_ratio * size
        length += size
    char_ratio = weighted_char / length if length else 0.0
    if edits / max(1, tokens) <= MINOR_EDIT_MAX and char_ratio >= MINOR_CHAR_MIN:
        return "minor_edit"
    return "major_edit"
