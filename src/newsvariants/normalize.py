"""Stage `normalize`: the comparison form of a text.

The original text is always kept; this form is used only to compare texts (clustering, alignment,
labels). Mojibake is repaired here (ftfy), never in stored text, so offsets stay exact.
"""

from __future__ import annotations

import re
from functools import lru_cache

import ftfy

NORMALIZE_VERSION = "1"

# Typographic quote and dash variants folded to ASCII; outlets restyle these freely.
_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u200b": "",
        "\u00ad": "",
        "\u2026": "...",
    }
)
_TOKEN = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)
_WRAPPING_QUOTES = "\"'"


# Text made only of these characters is left unchanged by ftfy (up to the quote folding below), so
# ftfy, which costs 50-100 us a paragraph, is skipped for it: printable ASCII without "&" (ftfy
# unescapes HTML entities), tab and newline (no control characters, which ftfy removes), plus the
# typographic quotes, dashes, ellipsis and no-break space that outlets restyle. None of those can
# be mojibake: in every single-byte encoding ftfy tries they are either absent or UTF-8
# continuation/lead bytes that never form a valid sequence among themselves and ASCII.
# tests/test_label.py checks the shortcut against ftfy on random strings over this alphabet.
FTFY_INERT = re.compile(
    r"[\t\n\x20-\x25\x27-\x7e\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0]*"
)


def _fold_characters(text: str) -> str:
    """`fold` before whitespace is collapsed (tokens do not need that step)."""
    if not FTFY_INERT.fullmatch(text):
        return ftfy.fix_text(text, normalization="NFC").translate(_FOLD)
    # the only ASCII character _FOLD changes is the backtick
    return text if text.isascii() and "`" not in text else text.translate(_FOLD)


# Memos for paragraphs, which the aligner and the labeller read again and again: within a story
# the pivot's paragraphs are compared with every variant (least recently used entries go first, so
# the pivot's stay) and each unit's texts are read again while it is labelled. Bounded, so memory
# stays flat (a few MB); `tokens`, which callers also give whole documents, is not memoized.
_MEMO = 2048
_memo_fold_characters = lru_cache(maxsize=_MEMO)(_fold_characters)


@lru_cache(maxsize=_MEMO)
def fold(text: str) -> str:
    """NFC, mojibake repaired, quotes/dashes folded to ASCII, whitespace collapsed."""
    # str.split() splits on exactly the characters `\s` matches (both use Unicode's isspace) and
    # drops the ends: the same as re.sub(r"\s+", " ", ...).strip(), several times faster
    return " ".join(_memo_fold_characters(text).split())


def strip_wrapping_quotes(text: str) -> str:
    """Drop quotation marks that wrap the whole text (a quoted paragraph restyled as plain)."""
    while len(text) >= 2 and text[0] in _WRAPPING_QUOTES and text[-1] in _WRAPPING_QUOTES:
        inner = text[1:-1].strip()
        if inner.count('"') % 2:
            break
        text = inner
    wrapped_before_stop = text[-1:] in (".", ",", ";", ":", "!", "?")
    if len(text) >= 3 and text[0] in _WRAPPING_QUOTES and text[-2] in _WRAPPING_QUOTES:
        text = text[1:-2] + text[-1] if wrapped_before_stop else text
    return text


def comparison_form(text: str) -> str:
    """The form used for `formatting` equality: folded and wrapping quotes removed (case kept)."""
    return strip_wrapping_quotes(fold(text))


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens of the folded text."""
    return _word_tokens(_fold_characters(text))


@lru_cache(maxsize=_MEMO)
def token_tuple(text: str) -> tuple[str, ...]:
    """`tokens` of a paragraph, memoized (a tuple, so that callers cannot change the memo)."""
    return tuple(_word_tokens(_memo_fold_characters(text)))


def _word_tokens(folded: str) -> list[str]:
    # whitespace runs are not collapsed first: a token never spans one, so they cannot matter
    lowered = folded.lower()
    return _ascii_tokens(lowered) if lowered.isascii() else _TOKEN.findall(lowered)


# Every byte but a lower-case ASCII word character, "-" and "'" becomes a space.
_ASCII_TOKEN_BYTES = bytes(
    c if chr(c) in "abcdefghijklmnopqrstuvwxyz0123456789_-'" else 0x20 for c in range(256)
)


def _ascii_tokens(lowered: str) -> list[str]:
    """`_TOKEN.findall` on lower-case ASCII text, twice as fast.

    A token consists of word characters, "-" and "'" only, and the pattern looks neither behind
    nor ahead of them, so matches never span another character and the text can be cut there
    first (bytes.translate and split run in C). Most pieces are then one plain word, which is
    its own token; the others (hyphens, apostrophes, underscores) go through the pattern.
    tests/test_label.py compares both on random text.
    """
    found: list[str] = []
    for piece in lowered.encode("ascii").translate(_ASCII_TOKEN_BYTES).decode("ascii").split():
        if piece.isalnum():
            found.append(piece)
        else:
            found += _TOKEN.findall(piece)
    return found


def clear_memos() -> None:
    """Forget memoized folds and tokens (benchmarks measure cold work with it)."""
    _memo_fold_characters.cache_clear()
    fold.cache_clear()
    token_tuple.cache_clear()
