"""Stage `label`: one relation per aligned unit, by a documented, versioned rule on normalized text.

Rule (LABEL_RULE_VERSION), applied in order:
1. one side empty                    -> `added` (pivot side empty) or `removed` (variant side empty)
2. several pivot paragraphs          -> `merge`;  several variant paragraphs -> `split`
3. texts equal byte for byte         -> `identical`
4. equal after folding quotes, dashes, whitespace and wrapping quotation marks -> `formatting`
5. token edit share <= MINOR_EDIT_MAX and character ratio >= MINOR_CHAR_MIN -> `minor_edit`
6. otherwise                         -> `major_edit`
The edit share is (inserted + deleted tokens) / (tokens of a + tokens of b) from a token-level
diff of the folded, lower-cased texts.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from rapidfuzz.distance import Indel

from newsvariants.align import token_containment
from newsvariants.normalize import comparison_form, fold, tokens
from newsvariants.records import DiffOp, Scores

LABEL_RULE_VERSION = "1"
# A reworded sentence ("will" for "would", a clause of a few words dropped) changes well under a
# quarter of the tokens; rewriting that touches more is a different sentence for a reader.
MINOR_EDIT_MAX = 0.25
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
    ops: list[DiffOp] = []
    matcher = difflib.SequenceMatcher(a=a_tokens, b=b_tokens, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append(DiffOp("equal", " ".join(a_tokens[i1:i2])))
            continue
        if i2 > i1:
            ops.append(DiffOp("delete", " ".join(a_tokens[i1:i2])))
        if j2 > j1:
            ops.append(DiffOp("insert", " ".join(b_tokens[j1:j2])))
    return ops


def unit_scores(text_a: str, text_b: str) -> tuple[Scores, list[DiffOp]]:
    a_tok, b_tok = tokens(text_a), tokens(text_b)
    diff = token_diff(a_tok, b_tok)
    inserted = sum(len(op.text.split()) for op in diff if op.op == "insert")
    deleted = sum(len(op.text.split()) for op in diff if op.op == "delete")
    set_a, set_b = set(a_tok), set(b_tok)
    union = set_a | set_b
    scores = Scores(
        char_ratio=round(Indel.normalized_similarity(fold(text_a), fold(text_b)), 6),
        token_jaccard=round(len(set_a & set_b) / len(union), 6) if union else 1.0,
        containment_a_in_b=round(token_containment(a_tok, b_tok), 6),
        containment_b_in_a=round(token_containment(b_tok, a_tok), 6),
        tokens_inserted=inserted,
        tokens_deleted=deleted,
    )
    return scores, diff


def relation_of(n_a: int, n_b: int, text_a: str, text_b: str, scores: Scores) -> str:
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
    total = len(tokens(text_a)) + len(tokens(text_b))
    edit_share = (scores.tokens_inserted + scores.tokens_deleted) / max(1, total)
    if edit_share <= MINOR_EDIT_MAX and scores.char_ratio >= MINOR_CHAR_MIN:
        return "minor_edit"
    return "major_edit"
