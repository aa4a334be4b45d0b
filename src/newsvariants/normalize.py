"""Stage `normalize`: the comparison form of a text.

The original text is always kept; this form is used only to compare texts (clustering, alignment,
labels). Mojibake is repaired here (ftfy), never in stored text, so offsets stay exact.
"""

from __future__ import annotations

import re

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
_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)
_WRAPPING_QUOTES = "\"'"


def fold(text: str) -> str:
    """NFC, mojibake repaired, quotes/dashes folded to ASCII, whitespace collapsed."""
    fixed = ftfy.fix_text(text, normalization="NFC")
    return _SPACE.sub(" ", fixed.translate(_FOLD)).strip()


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
    return _TOKEN.findall(fold(text).lower())
