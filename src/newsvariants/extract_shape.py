"""Shape of a page's blocks: size in words, share of capitalised words, sentence shape, the key
that recognises a block again, the script it is written in.

Each feature has a reference definition on one block (`block_size`, `capitalised_share`,
`block_key`) and a page-wide form (`word_features`, `page_keys`) that computes it for every block
of a page with a few C-level string operations instead of a regex call per block: the extractor
reads every line of every page, and a regex word count costs about 60 ns a character. The
page-wide forms return exactly what the reference definitions return (tests/test_extract.py checks
them against each other on random and real text).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from itertools import repeat

import numpy as np

# A word: a run of letters or a run of digits ("COVID-19" is two, "don't" two, "7,612" two).
_WORD = re.compile(r"[^\W\d_]+|\d+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# A character outside ASCII that can be part of a word (letters, digits of other scripts).
_NON_ASCII_WORD_CHAR = re.compile(r"[^\W\x00-\x7f]")
_LETTER_CHAR = re.compile(r"[^\W\d_]")
_DIGIT_CHAR = re.compile(r"\d")
_SPACE = re.compile(r"\s+")
# Whitespace that `block_key` folds in NFKC text (NFKC turns the other spaces into " "): two
# spaces in a row, and every whitespace character but the space and the line break.
_IRREGULAR_SPACES = ("\t", "\x0b", "\x0c", "\r", "\x1c", "\x1d", "\x1e", "\x1f")
_IRREGULAR_SPACES += ("\x85", "\u1680", "\u2028", "\u2029")  # (and "  ", and edge spaces)


# --- size and capitalisation -----------------------------------------------------------------


def block_size(text: str) -> float:
    """Length in words; CJK text has no spaces, so two CJK characters count as one word."""
    if text.isascii():
        return float(len(_WORD.findall(text)))
    cjk = len(_CJK.findall(text))
    if not cjk:
        return float(len(_WORD.findall(text)))
    return len(_WORD.findall(_CJK.sub(" ", text))) + cjk / 2


def capitalised_share(text: str) -> float:
    """Share of the (non-numeric) words that start with a capital; 1.0 without words."""
    if plain_latin(text):  # the same count on the text's letter classes (see `word_sizes`)
        # its non-ASCII characters are punctuation: word breaks, as the "?" they become
        classes = b" " + text.encode("ascii", "replace").translate(_LETTER_CASES)
        capitals = classes.count(b" A")
        words = capitals + classes.count(b" a")
        return capitals / words if words else 1.0
    words = [w for w in _WORD.findall(text) if not w.isdigit()]
    if not words:
        return 1.0
    return sum(1 for w in words if w[0].isupper()) / len(words)


def _class_table(classes: dict[bytes, bytes]) -> bytes:
    """Translation table of ASCII bytes: each listed range to its class byte, the line break
    kept, anything else a space."""
    table = bytearray(b" " * 256)
    for span, cls in classes.items():
        for code in range(span[0], span[-1] + 1):
            table[code] = cls[0]
    table[ord("\n")] = ord("\n")
    return bytes(table)


# Word classes: letters `a`, digits `0` (word runs); letter cases: lower `a`, capital `A`.
_WORD_CLASSES = _class_table({b"az": b"a", b"AZ": b"a", b"09": b"0"})
_LETTER_CASES = _class_table({b"az": b"a", b"AZ": b"A"})
_DIGITS_AS_LETTERS = bytes.maketrans(b"0", b"a")


def word_sizes(texts: Sequence[str]) -> list[float]:
    """`block_size` of every text of a page, at once.

    A regex word count costs ~60 ns a character; here the page is reduced to its word classes
    (one `bytes.translate`), a letter run and a digit run that touch are parted by a space, and a
    text's size is the number of run starts (" a") in it: `bytes.count`. Exact for text whose
    only non-ASCII characters are not word characters (curly quotes, dashes, ©: they become
    spaces); texts with non-ASCII letters or digits (accents, other scripts, CJK) take
    `block_size` itself."""
    if not texts:
        return []
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:  # a text with its own line break
        return [block_size(t) for t in texts]
    lettered: list[int] = []  # lines with non-ASCII letters or digits
    if not joined.isascii():
        wide = [i for i, text in enumerate(texts) if not text.isascii()]
        if not plain_latin("\n".join(texts[i] for i in wide)):
            lettered = [i for i in wide if _NON_ASCII_WORD_CHAR.search(texts[i])]
            if sum(len(texts[i]) for i in lettered) > _REGEX_COUNT_LARGEST:
                return _sizes_by_code_point(joined, len(texts))
    classes = joined.encode("ascii", "replace").translate(_WORD_CLASSES)
    classes = classes.replace(b"a0", b"a 0").replace(b"0a", b"0 a")
    runs = (b" " + classes.translate(_DIGITS_AS_LETTERS).replace(b"\n", b"\n ")).split(b"\n")
    sizes = list(map(float, map(bytes.count, runs, repeat(b" a"))))
    for i in lettered:
        sizes[i] = block_size(texts[i])
    return sizes


# Up to this many characters of lines with non-ASCII letters, the regex definition counts them;
# beyond (a page in Cyrillic, Greek, CJK, or with many accents), `_sizes_by_code_point`.
_REGEX_COUNT_LARGEST = 2000
_OTHER, _LETTER, _DIGIT, _HALF_WORD, _LINE_BREAK = range(5)
_BASIC_PLANE = 0x10000


def _sizes_by_code_point(joined: str, lines: int) -> list[float]:
    """`block_size` of every line of a text in any script: each distinct character is classed
    once (by the word pattern itself), every character then through a table (numpy), and a
    line's size is the number of letter and digit runs that start in it, plus half its CJK
    characters. About ten times faster than the regex on a page of Cyrillic."""
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    basic = codes < _BASIC_PLANE  # most text: one table of the basic plane, indexed at once
    table = np.zeros(_BASIC_PLANE, dtype=np.uint8)
    present = np.flatnonzero(np.bincount(codes[basic], minlength=_BASIC_PLANE)).tolist()
    table[present] = [_char_class(chr(code)) for code in present]
    if basic.all():
        classes = table[codes]
    else:  # emoji and other characters beyond: one by one (few)
        classes = np.zeros(len(codes), dtype=np.uint8)
        classes[basic] = table[codes[basic]]
        classes[~basic] = [_char_class(chr(code)) for code in codes[~basic].tolist()]
    previous = np.concatenate((np.array([_OTHER], dtype=np.uint8), classes[:-1]))
    word = (classes == _LETTER) | (classes == _DIGIT)
    starts = word & (classes != previous)
    line = np.cumsum(classes == _LINE_BREAK)
    runs = np.bincount(line[starts], minlength=lines)
    half_words = np.bincount(line[classes == _HALF_WORD], minlength=lines)
    return (runs + half_words / 2).tolist()


@lru_cache(maxsize=1 << 14)
def _char_class(char: str) -> int:
    if char == "\n":
        return _LINE_BREAK
    if _CJK.match(char):
        return _HALF_WORD  # two CJK characters count as one word
    if _LETTER_CHAR.match(char):
        return _LETTER
    return _DIGIT if _DIGIT_CHAR.match(char) else _OTHER


# Non-ASCII characters common in pages in Latin script that are not word characters (nor of a
# script other than Latin): a page with no other non-ASCII character needs no look at its
# characters one by one. One character class: a regex scans it at C speed.
_COMMON_NON_WORD = "’‘“”—–…©•·«»\xa0®™°€£\u200b\xad"
_UNCOMMON_NON_ASCII = re.compile(f"[^\\x00-\\x7f{_COMMON_NON_WORD}]")


def plain_latin(text: str) -> bool:
    """Whether the text's only non-ASCII characters are common punctuation (then it has no
    non-ASCII letter or digit, and no character of another script)."""
    return text.isascii() or _UNCOMMON_NON_ASCII.search(text) is None


# --- sentence shape --------------------------------------------------------------------------

_STOPS = ".!?。！？:;"
_CLOSERS = "\"'”’»)]」』）"
_CLOSING_QUOTES = '"”’»」』'


def ends_like_sentence(text: str) -> bool:
    """Ends with a full stop, question or exclamation mark, colon or semicolon (maybe followed by
    closing quotes and brackets), or with a closing quote."""
    if not text:
        return False
    if text[-1] in _CLOSING_QUOTES:
        return True
    core = text.rstrip(_CLOSERS)
    return bool(core) and core[-1] in _STOPS


def is_sentence_like(text: str, size: float) -> bool:
    """Prose: ends like a sentence and has a few words, or is long and not a title-cased list."""
    if size < 40 and text.endswith(("…", "...")):
        return False  # a truncated teaser ("... the country's Investigative Committee …")
    if size >= 5 and ends_like_sentence(text):
        return size >= 12 or capitalised_share(text) < 0.75
    return size >= 18 and capitalised_share(text) < 0.6


def is_heading_shaped(text: str, size: float) -> bool:
    return 2 <= size <= 30 and not text.endswith((".", ":", ";", ",", "…")) and "|" not in text


# --- keys ------------------------------------------------------------------------------------


@lru_cache(maxsize=1 << 16)
def block_key(text: str) -> str:
    """Key for recognising the same block across pages and inside one page.

    NFKC + casefold + collapsed spaces: cheap enough for every line of every page (ftfy's full
    repair, used for comparison forms, costs ~50x more and a site repeats its own bytes anyway).
    """
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def page_keys(texts: Sequence[str]) -> list[str]:
    """`block_key` of every text of a page. An ASCII text (most lines) needs no normalisation and
    only `lower` (casefold is lower there); spaces are collapsed only if the page has any to
    collapse."""
    joined = "\n".join(texts)
    if joined.isascii():  # most pages: one `lower` of the whole page (it maps each character alone)
        joined = joined.lower()
        keys = joined.split("\n")
    else:
        keys = [t.lower() if t.isascii() else _nfkc(t).casefold() for t in texts]
        joined = "\n".join(keys)
    if len(keys) != len(texts) or joined.count("\n") != len(keys) - 1:
        # a text with its own line break: one at a time
        return [block_key(t) for t in texts]
    # Two spaces in a row, or a space at either end of a key: with the line breaks turned into
    # spaces and a space around the page, all are two spaces in a row (one search instead of
    # three; an empty key would show as one too, and collapsing leaves it as it is).
    spaced = f" {joined.replace(chr(10), ' ')} "
    if "  " in spaced or any(s in joined for s in _IRREGULAR_SPACES):
        return [" ".join(key.split()) for key in keys]
    return keys


def _nfkc(text: str) -> str:
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


# --- script ----------------------------------------------------------------------------------

# Letters of each script, in runs: a script's share of a block is the length its runs remove.
_SCRIPTS = {
    "latin": re.compile(r"[A-Za-z\u00c0-\u024f]+"),
    "cyrillic": re.compile(r"[\u0400-\u04ff]+"),
    "cjk": re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+"),
    "arabic": re.compile(r"[\u0600-\u06ff]+"),
    "greek": re.compile(r"[\u0370-\u03ff]+"),
    "hebrew": re.compile(r"[\u0590-\u05ff]+"),
    "devanagari": re.compile(r"[\u0900-\u097f]+"),
    "thai": re.compile(r"[\u0e00-\u0e7f]+"),
}
NON_LATIN = re.compile(
    "[\u0370-\u04ff\u0590-\u06ff\u0900-\u097f\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af]"
)


@lru_cache(maxsize=1 << 14)
def script_of(text: str) -> str:
    """The script most of the block's letters are written in (`none` without letters)."""
    if text.isascii() or not NON_LATIN.search(text):  # the common case, one scan
        return "latin" if any(c.isalpha() for c in text) else "none"
    counts = {
        name: len(text) - len(pattern.sub("", text)) if pattern.search(text) else 0
        for name, pattern in _SCRIPTS.items()
    }
    counts["cjk"] *= 3  # one CJK character carries about what three Latin letters do
    best = max(counts, key=lambda name: (counts[name], name))
    return best if counts[best] else "none"


# Script code points, as (first, last) ranges, in the column order of `page_scripts` (by name,
# last first: numpy's argmax takes the first of equal counts, `script_of` the largest name).
_SCRIPT_RANGES = {
    "thai": ((0x0E00, 0x0E7F),),
    "latin": ((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F)),
    "hebrew": ((0x0590, 0x05FF),),
    "greek": ((0x0370, 0x03FF),),
    "devanagari": ((0x0900, 0x097F),),
    "cyrillic": ((0x0400, 0x04FF),),
    "cjk": ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF)),
    "arabic": ((0x0600, 0x06FF),),
}
_SCRIPT_NAMES = tuple(_SCRIPT_RANGES)
_SCRIPT_WEIGHTS = np.array([3 if name == "cjk" else 1 for name in _SCRIPT_NAMES])


@lru_cache(maxsize=1)
def _script_table() -> np.ndarray:
    """Column of `_SCRIPT_NAMES` (+1) of every basic-plane code point; 0: none of them."""
    table = np.zeros(_BASIC_PLANE, dtype=np.uint8)
    for column, ranges in enumerate(_SCRIPT_RANGES.values(), start=1):
        for first, last in ranges:
            table[first : last + 1] = column
    return table


def page_scripts(texts: Sequence[str]) -> list[str]:
    """`script_of` of every text of a page: letters counted by script for all texts at once
    (numpy over the code points) instead of eight regex scans a text. Texts with no letter of
    another script than Latin take `script_of` itself (its "any letter" test)."""
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:
        return [script_of(t) for t in texts]
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    columns = _script_table()[np.minimum(codes, _BASIC_PLANE - 1)]  # beyond: none of them
    columns[codes >= _BASIC_PLANE] = 0
    line = np.cumsum(codes == ord("\n"))
    counts = (
        np.bincount(
            line * (len(_SCRIPT_NAMES) + 1) + columns,
            minlength=len(texts) * (len(_SCRIPT_NAMES) + 1),
        ).reshape(len(texts), len(_SCRIPT_NAMES) + 1)[:, 1:]
        * _SCRIPT_WEIGHTS
    )
    latin = _SCRIPT_NAMES.index("latin")
    other_letters = counts.sum(axis=1) - counts[:, latin]
    best = counts.argmax(axis=1).tolist()
    return [
        _SCRIPT_NAMES[best[i]] if other_letters[i] else script_of(text)
        for i, text in enumerate(texts)
    ]


def clear_caches() -> None:
    """Forget memoised keys and scripts (for honest speed measurements)."""
    block_key.cache_clear()
    script_of.cache_clear()
    _char_class.cache_clear()
