"""Stage `extract`: one capture -> title, byline, date, language, body paragraphs, captions and the
removed spans, each with a reason. Offsets index the capture's text (`text_of_capture`).

Both forms go through one block classifier: a text dump's blocks are its lines; an HTML page is
first rendered to visible-text blocks (see `render`), which carry extra evidence (element, link
density, class/id hints, trafilatura's own judgement). The classifier works in three steps:

1. every block gets a *removal reason* from evidence inside it (date, credit, share, subscribe,
   copyright patterns...: `extract_rules`) and outside it (recurrence in other captures of the
   source, repetition in the page, script mismatch with the page, the section heading it falls
   under);
2. every block gets a *score*: sentence-like blocks gain their size, everything else costs a little,
   section ends (comments, copyright) cost a lot; a blurb isolated between furniture (a teaser
   card) gains a quarter; below a sure headline, lower-case list lines cost nothing. The article
   body is the contiguous run of blocks with the highest total (the densest run of sentence-like
   text: a maximum-sum subarray), looked for below the headline that repeats the page's <title>,
   and cut at a "Related"/"Share"/comments marker when what follows is about something else
   (below a comments or sources heading, nothing is body whatever its topic);
3. inside that run, sentence-like blocks (and, in a dump, its list lines and subheadings) are
   body; around it, the headline, the byline and the dateline are recognised by shape and
   position; every other block keeps its removal reason.

The shape of every block (size, capitalisation, key; `extract_shape`) is computed once, for the
whole page at a time: the classifier reads every line of every page, so its cost per block is
what sets the extractor's speed.
"""

from __future__ import annotations

import array
import heapq
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from functools import cache, lru_cache
from itertools import accumulate, combinations
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np

from newsvariants import extract_rules, extract_shape
from newsvariants.errors import NewsVariantsError
from newsvariants.extract_rules import (
    AGENCY,
    COMMENTS_HEAD_RE,
    CREDIT_RE,
    DATE_ANY,
    MONTH_NUMBERS,
    SOURCES_HEAD_RE,
    hint_reason,
    is_dated_headline,
    page_reasons,
)
from newsvariants.extract_shape import (
    NON_LATIN,
    block_key,
    block_size,
    capitalised_share,
    ends_like_sentence,
    is_heading_shaped,
    is_sentence_like,
    page_keys,
    page_scripts,
    plain_latin,
    word_sizes,
)
from newsvariants.records import Capture, Extraction, RemovedSpan, Span, TextSpan

__all__ = [
    "DATE_YEARS",
    "EXTRACTOR_VERSION",
    "REMOVAL_REASONS",
    "Block",
    "Decision",
    "PageContext",
    "article_groups",
    "block_key",
    "block_size",
    "classify_blocks",
    "clear_caches",
    "dateline_of",
    "debug_extract",
    "detect_language",
    "extract_capture",
    "extract_text_dump",
    "extraction_from_blocks",
    "parse_date",
    "site_templates",
    "split_blocks",
    "text_of_capture",
]

# 0.3: tables, structured lists and repeats inside the article; HTML paragraphs in the article's
# containers that trafilatura left out; its lone kept blocks away from the article dropped;
# language on the body's first 256 characters.
# 0.4: HTML: the rows of a table trafilatura keeps are matched cell by cell; a safety net against
# a collapse of the body when trafilatura keeps only a fragment of the article
# (`render.classify_html_blocks`); a <br> ends a block of its container. Both forms: table rows
# above a section marker weigh their words when the tail is cut there (`_trim_tail`).
# 0.5: below the heading of the article's sources ("Sources:", "References"), nothing is body
# (reason `metadata`), as below a comments heading. Labelled teasers ("READ MORE: ...", up to 30
# words) and "More ... Stories" headings are `related`; a line labelled "Image caption" or
# "Media caption" is a caption. Site templates are counted per article, not per capture (a page
# captured twice by its source is not its own template: `article_groups`).
# 0.6: HTML nested deeper than 256 elements renders whole (it was cut there without a word);
# a page beyond libxml2's raised limit (2,048) is refused (`render.parse_html`). A headline the
# page does not repeat is the title when only a byline, dateline or credit stands between it and
# the body (`_heading_above_body`; it was removed as `navigation`).
# 0.8: an HTML page's publication date comes from its markup alone (`render.markup_date`), not
# from htmldate's fallbacks to text (a render-date header, a script's timestamp, the date of a
# quoted claim) or the copyright year; else, for both forms, from a dateline or a dated byline
# ("By X on Monday, November 18th, 2019", "Submitted on ...") between headline and body.
# 0.9: a page that states no date (no markup date, no dateline) is dated by its capture's URL
# when the URL holds one (`render.url_date`: "/2019/11/18/"), for both forms.
# 0.10: the headline is found above a share bar ("Share on Facebook" lines between it and the body)
# and above a short "By ..." line the byline rule did not take; a share bar's label is not it.
# 0.11: dates and datelines in French, German, Spanish, Italian, Portuguese, Dutch and Russian
# (month and weekday names, "Publié le", "Veröffentlicht am" ...); "Nov. 26,2024" is read without
# dateutil, which gave it the current year.
# 0.12: a numeric date written with dots is day first ("04.05.2024": 4 May, not 5 April).
# 0.13: an ambiguous slashed date ("04/05/2024") in the page's order (`slashed_day_first`).
# 0.14: two or more lines in a row that begin with a date and go on with a headline are related
# (`_dated_teasers`).
EXTRACTOR_VERSION = "0.14"

# The fixed vocabulary of removal reasons (schema/variant.schema.json `removed[].reason`,
# documented in DATASET_CARD.md).
REMOVAL_REASONS = (
    "date_header",
    "ad",
    "breadcrumb",
    "title",
    "caption",
    "credit",
    "related",
    "comments",
    "copyright",
    "share",
    "navigation",
    "byline",
    "template",
    "ticker",
    "subscribe",
    "metadata",
    "boilerplate",
)


_REASONS = frozenset(REMOVAL_REASONS)


@dataclass(slots=True)
class Block:
    """One block of the capture's text (a line of a dump, a rendered element of a page)."""

    index: int
    text: str
    start: int
    end: int
    tag: str = "p"  # HTML element (dumps: "p")
    link_density: float = 0.0
    hints: str = ""  # HTML class/id words
    extractor_body: bool | None = None  # trafilatura's judgement (HTML only)


@dataclass(frozen=True, slots=True)
class Decision:
    kind: str  # body | title | byline | caption | removed
    reason: str = ""
    evidence: Sequence[str] = ()


@lru_cache(maxsize=256)
def _decision(kind: str, reason: str = "", why: str = "") -> Decision:
    """Decisions are immutable and few: one shared instance for each."""
    return Decision(kind, reason, (why,) if why else ())


@dataclass(frozen=True)
class PageContext:
    """Evidence from outside one capture: blocks that recur in other captures of its source."""

    template_blocks: frozenset[str] = frozenset()


# A line's text without the spaces around it (a blank line has none).
_LINE_TEXT = re.compile(r"\S(?:[^\n]*\S)?")


def split_blocks(text: str) -> list[Block]:
    """Non-blank lines of a dump, with offsets of their stripped text."""
    # Column by column and `map`: the Block constructor is then called from C, which costs about
    # half of a comprehension that calls it once per line (a dump has hundreds of lines).
    lines = list(_LINE_TEXT.finditer(text))
    texts = [m.group() for m in lines]
    starts = [m.start() for m in lines]
    ends = [m.end() for m in lines]
    return list(map(Block, range(len(lines)), texts, starts, ends))


def clear_caches() -> None:
    """Forget memoised block keys, scripts and rule lookups (for honest speed measurements)."""
    extract_shape.clear_caches()
    extract_rules.clear_caches()


def site_templates(
    blocks_by_capture: Mapping[str, Sequence[str]], source_of: Mapping[str, str]
) -> dict[str, frozenset[str]]:
    """Blocks that recur in at least two articles of the same source and in a third of them.

    Counted per article, not per capture: the captures of one source that share two of their
    longest blocks (`article_groups`: a page captured twice, a copy with an edit) count once.
    Counted per capture, an article captured twice was all template, and its body was removed
    from both captures."""
    by_source: dict[str, list[Sequence[str]]] = {}
    for capture_id, texts in blocks_by_capture.items():
        by_source.setdefault(source_of[capture_id], []).append(texts)
    templates: dict[str, frozenset[str]] = {}
    for source, captures in by_source.items():
        # `page_keys`: `block_key` of each text, a whole capture at a time (ASCII at C speed);
        # made once a capture for both the grouping and the counting (block_key of the longest
        # texts one by one cost ~2 s of the ~4.5 s of a 100k-capture build's templates)
        page = [page_keys(list(texts)) for texts in captures]
        group_of = article_groups(captures, page)
        sizes = Counter(group_of)
        counts: Counter[str] = Counter()
        seen: dict[int, set[str]] = {}  # the keys counted so far for articles captured twice
        for capture_keys, group in zip(page, group_of, strict=True):
            keys = set(capture_keys)
            if sizes[group] > 1:
                keys -= seen.setdefault(group, set())
                seen[group] |= keys
            counts.update(keys)
        n = len(sizes)
        # A block in at least 2 articles and at least a third of them is template text; a quote
        # repeated by two articles of one outlet is rarer than a third of its pages.
        templates[source] = frozenset(
            key for key, count in counts.items() if count >= 2 and count * 3 >= n
        )
    return templates


_ARTICLE_BLOCKS = 3  # a capture's longest blocks, which two captures of one article share
_ARTICLE_BLOCK_CHARS = 40  # shorter ones (menu items, bylines, dates) say nothing of the article


def article_groups(
    captures: Sequence[Sequence[str]], keys: Sequence[Sequence[str]] | None = None
) -> list[int]:
    """For each capture (its block texts) of one source, the index of the first capture of the
    same article: those that share two of their three longest blocks (of 40 characters or more),
    directly or through another capture.

    Two of three: one shared long block may be a long piece of site furniture (a disclaimer
    outranking the paragraphs of a short article); two captures of one article share most of
    their paragraphs, and an edit to one of them leaves the other two. The longest blocks are
    chosen by their texts' length, then compared by their `block_key`: `keys`, each capture's
    `page_keys` when the caller has them, else made here."""
    if keys is None:
        keys = [page_keys(list(texts)) for texts in captures]
    parent = list(range(len(captures)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[tuple[str, str], int] = {}
    for i, texts in enumerate(captures):
        lengths = list(map(len, texts))
        # positions of the longest texts (ties: the first, as nlargest of the texts would)
        longest = heapq.nlargest(
            _ARTICLE_BLOCKS,
            (j for j, length in enumerate(lengths) if length >= _ARTICLE_BLOCK_CHARS),
            key=lengths.__getitem__,
        )
        chosen = sorted({keys[i][j] for j in longest})
        for pair in combinations(chosen, 2):
            j = first_with.setdefault(pair, i)
            a, b = root(i), root(j)
            parent[max(a, b)] = min(a, b)  # the group's root is its first capture
    return [root(i) for i in range(len(captures))]


# --- evidence about each block ---------------------------------------------------------------


@dataclass(slots=True)
class _Evidence:
    """What the classifier knows about one block before deciding it."""

    size: float
    sentence: bool
    reason: str | None  # removal reason from the block's own shape / the page / the site
    key: str  # block_key of its text
    section_end: bool = False  # starts the comments or the sources (nothing after is body)
    copy: bool = False  # a second copy of a paragraph seen above
    dated_teaser: bool = False  # an item of a list of dated teasers: related, but no heading


def _block_evidence(blocks: list[Block]) -> list[_Evidence]:
    """Each block's shape and own removal reason (its text; for HTML also its link density and
    its containers' class/id words)."""
    texts = [b.text for b in blocks]
    if any(b.tag != "p" or b.link_density or b.hints for b in blocks):
        return _html_block_evidence(blocks, texts)
    # A dump line's evidence is its text's alone, and a dump repeats about a quarter of its lines
    # (menus, share bars, teasers above and below the article): each distinct text is looked at
    # once, and every line takes its text's evidence.
    distinct = list(dict.fromkeys(texts))
    keys, sizes, sentences = _text_shapes(distinct)
    reasons = page_reasons(distinct, keys, sizes, sentences)
    if len(distinct) == len(texts):
        return list(map(_Evidence, sizes, sentences, reasons, keys))
    slot_of = {text: slot for slot, text in enumerate(distinct)}
    slots = list(map(slot_of.__getitem__, texts))
    columns = (sizes, sentences, reasons, keys)
    return list(map(_Evidence, *(map(column.__getitem__, slots) for column in columns)))


def _text_shapes(texts: list[str]) -> tuple[list[str], list[float], list[bool]]:
    """The `block_key`, size in words and sentence shape of each text."""
    keys = page_keys(texts)
    sizes = word_sizes(texts)
    # never sentence-shaped below five words
    sentences = [
        size >= 5 and is_sentence_like(t, size) for t, size in zip(texts, sizes, strict=True)
    ]
    return keys, sizes, sentences


def _html_block_evidence(blocks: list[Block], texts: list[str]) -> list[_Evidence]:
    """`_block_evidence` of a rendered page: the rules also read each block's link density and
    element, and its containers' class/id words name furniture."""
    keys, sizes, sentences = _text_shapes(texts)
    densities = [b.link_density for b in blocks]
    reasons = page_reasons(texts, keys, sizes, sentences, densities, [b.tag for b in blocks])
    # the furniture each block's containers name by their class/id words, if any
    hints = [hint_reason(b.hints) if b.hints else None for b in blocks]
    overruling = _overruling_hints(blocks, hints, sizes)
    for i, block in enumerate(blocks):
        against = block.extractor_body is True and hints[i] not in overruling
        if reasons[i] is None and hints[i] is not None and not against:
            reasons[i] = hints[i]
    return list(map(_Evidence, sizes, sentences, reasons, keys))


def _overruling_hints(blocks: list[Block], hints: list[str | None], sizes: list[float]) -> set[str]:
    """The furniture hints that outweigh trafilatura's judgement of a block it keeps: those of
    containers holding a minority of what it keeps (a share bar or a newsletter form inside the
    article element). A hint on the container of most of what it keeps is a class name of the
    article's own wrapper ("post-content promo-..."), not furniture."""
    kept: Counter[str | None] = Counter()
    for block, hint, size in zip(blocks, hints, sizes, strict=True):
        if block.extractor_body is True:
            kept[hint] += size
    total = sum(kept.values())
    return {hint for hint, words in kept.items() if hint is not None and 2 * words < total}


def _gather_evidence(
    blocks: list[Block], context: PageContext
) -> tuple[list[_Evidence], tuple[int, bool] | None]:
    evidence = _block_evidence(blocks)
    for i in _dated_teasers(blocks, evidence):
        evidence[i].reason, evidence[i].dated_teaser = "related", True
    keys = [ev.key for ev in evidence]
    repeated = {key for key, count in Counter(keys).items() if count > 1}
    first_seen = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))
    anchor = _headline_anchor(evidence)
    # Below a sure headline, lines repeated only there are the article's own (a recipe's "Eat
    # every 2-3 hours"); page furniture repeats from the header down.
    content_from = anchor[0] if anchor and anchor[1] else len(blocks)
    main_script, scripts = _main_script(blocks, evidence)
    templates = context.template_blocks
    # Only repeated and template blocks, and blocks in a script foreign to the page, can change
    # (a second copy's first copy is repeated too): visit those.
    visit = [i for i, key in enumerate(keys) if key in repeated or key in templates]
    if main_script is not None:
        foreign = [i for i, script in enumerate(scripts) if script not in ("none", main_script)]
        visit = sorted(set(visit).union(foreign))
    seen: set[str] = set()
    for i in visit:
        block, ev = blocks[i], evidence[i]
        key = ev.key
        kept = block.extractor_body is True  # trafilatura's DOM evidence outweighs repetition
        if key in templates:
            ev.reason = "template"
        elif (
            ev.reason is None
            and main_script is not None
            and scripts[i] not in ("none", main_script)
        ):
            if ev.size >= 4:
                ev.reason = "ad"  # a foreign-script line in the middle of a page is an ad
            else:
                ev.sentence = False
        elif (
            ev.reason is None
            and key in repeated
            and not ev.sentence
            and not kept
            and first_seen[key] < content_from
        ):
            ev.reason = "ad" if ev.size >= 4 else "navigation"
        elif ev.sentence and key in seen and not kept:
            ev.reason, ev.sentence = "boilerplate", False  # a second copy of a paragraph
            ev.copy = block.extractor_body is None
        seen.add(key)
    for block, ev in zip(blocks, evidence, strict=True):
        heading = _SECTION_END_HEADINGS.get(ev.reason or "")
        if heading is not None and heading.match(block.text):
            ev.section_end = True
    return evidence, anchor


def _dated_teasers(blocks: list[Block], evidence: list[_Evidence]) -> list[int]:
    """Lines that begin with a date and go on with a headline (`is_dated_headline`), two or
    more in a row: a list of related or archived stories ("08/01/2014 Urkullu se declara a favor
    de la República", one line each). An article's dateline is one line, and its rest a time or
    a name; on the 84 pages of the dev and held-out benchmarks no line that begins with a date
    and goes on with text is body. Not a line trafilatura keeps (HTML), nor one a rule named."""
    dated = [
        i
        for i, (block, ev) in enumerate(zip(blocks, evidence, strict=True))
        if ev.reason is None and block.extractor_body is not True and is_dated_headline(block.text)
    ]
    return [
        i
        for k, i in enumerate(dated)
        if (k > 0 and dated[k - 1] == i - 1) or (k + 1 < len(dated) and dated[k + 1] == i + 1)
    ]


# The headings below which nothing is the article, by the reason their blocks get.
_SECTION_END_HEADINGS = {"comments": COMMENTS_HEAD_RE, "metadata": SOURCES_HEAD_RE}


def _main_script(blocks: list[Block], evidence: list[_Evidence]) -> tuple[str | None, list[str]]:
    """The script of the page's prose and of each block; None (and no list) when every letter of
    the page is Latin (the common case: no block can then be in another script)."""
    wide = "\n".join(b.text for b in blocks if not b.text.isascii())
    if plain_latin(wide) or not NON_LATIN.search(wide):
        return None, []
    scripts = page_scripts([b.text for b in blocks])
    weight: Counter[str] = Counter()
    for block, ev, script in zip(blocks, evidence, scripts, strict=True):
        if ev.sentence and ev.reason is None:
            weight[script] += len(block.text)
    if not weight:
        for block, script in zip(blocks, scripts, strict=True):
            weight[script] += len(block.text)
    ranked = sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))
    return (ranked[0][0] if ranked else "latin"), scripts


# --- scoring and the body run ----------------------------------------------------------------

# Weights of the maximum-sum run. A sentence-like block gains its size in words; a short line of
# page furniture costs a little (a menu of 40 items costs ~80, more than any short paragraph
# gains, but one inline "Advertisement" does not split an article); a section end costs a lot.
_FURNITURE_COST = 1.5
_FURNITURE_COST_PER_WORD = 0.25
_REASON_COST = 4.0
_SECTION_END_COST = 25.0


def _scores(blocks: list[Block], evidence: list[_Evidence]) -> list[float]:
    # HTML: the element and containers (class/id path) of the blocks trafilatura keeps. A
    # paragraph it left out in the very same place (an article split around an ad) is judged by
    # its shape, as in a dump.
    article = {(b.tag, b.hints) for b in blocks if b.extractor_body is True}
    scores = []
    for block, ev in zip(blocks, evidence, strict=True):
        if ev.copy:
            scores.append(0.0)  # a repeat neither adds to the article nor splits it
        elif ev.reason is not None:
            section_end = ev.section_end or ev.reason == "copyright"
            scores.append(-_SECTION_END_COST if section_end else -_REASON_COST)
        elif block.extractor_body is True:
            scores.append(max(ev.size, 8.0))
        elif ev.sentence:
            # trafilatura read the whole page (its DOM) and left it out: page furniture.
            left_out = block.extractor_body is False and (block.tag, block.hints) not in article
            scores.append(-_FURNITURE_COST if left_out else ev.size * (1.0 - block.link_density))
        else:
            scores.append(-(_FURNITURE_COST + _FURNITURE_COST_PER_WORD * min(ev.size, 20.0)))
    return scores


def _discount_isolated(blocks: list[Block], evidence: list[_Evidence], scores: list[float]) -> None:
    """Teaser cards (headline, author, date, blurb; repeated) put each blurb between page
    furniture; article paragraphs come in runs. A sentence block with no sentence block on either
    side has its gain cut to a quarter (a standfirst between headline and byline is discounted
    too, and it is not body either). HTML blocks trafilatura keeps are exempt (it has seen the
    DOM)."""
    positive = [value > 0 for value in scores]
    for i in range(1, len(scores) - 1):
        isolated = positive[i] and not positive[i - 1] and not positive[i + 1]
        if isolated and (blocks[i].extractor_body is not True or evidence[i].size < 25):
            scores[i] *= 0.25


def _free_list_items(blocks: list[Block], evidence: list[_Evidence], headline: int) -> set[int]:
    """Below a sure headline, a short line of lower-case words ("1 cup asparagus, 2 eggs") is a
    list item or table row of the article, not a menu entry or a teaser (title case): it costs
    nothing, so a list does not split a recipe or a how-to in two."""
    return {
        i
        for i in range(headline + 1, len(blocks))
        if evidence[i].reason is None
        and not evidence[i].sentence
        and evidence[i].size >= 3
        and blocks[i].extractor_body is None
        and capitalised_share(blocks[i].text) < 0.5
    }


_SKELETON = re.compile(r"[^\W_]+|\s+")  # what a row's punctuation skeleton leaves out
_DIGITS = re.compile(r"\d+")
# The same on ASCII text, as byte tables (`bytes.translate` runs at C speed; a regex `sub` costs
# a few microseconds a row): the ASCII characters `_SKELETON` matches (letters, digits and
# whitespace: `\s` covers \x1c-\x1f too), and every byte but a digit turned into a space.
_ASCII_SKELETON_GAPS = bytes(c for c in range(128) if chr(c).isalnum() or chr(c).isspace())
_ASCII_DIGITS_ONLY = bytes(c if chr(c) in "0123456789" else ord(" ") for c in range(256))


def _skeleton(text: str) -> str:
    """A row's punctuation skeleton: its text without its words and spaces."""
    if text.isascii():
        return text.encode("ascii").translate(None, _ASCII_SKELETON_GAPS).decode("ascii")
    return _SKELETON.sub("", text)


def _number_count(text: str) -> int:
    """How many numbers (runs of digits) a row holds."""
    if text.isascii():
        return len(text.encode("ascii").translate(_ASCII_DIGITS_ONLY).split())
    return len(_DIGITS.findall(text))


_MIN_ROWS = 4
_ROW_LARGEST = 40  # words: a table row or list item is short


def _table_rows(blocks: list[Block], evidence: list[_Evidence]) -> set[int]:
    """A dump's tables and structured lists: at least four lines in a row, none sentence-shaped
    nor furniture, that share their shape: the same punctuation ("Spain (Group F): 11th
    appearance") or the same count of numbers ("1 Kyle Busch 5040 5 1 17 27"). A menu's lines
    ("Home", "World") have neither. Their rows cost nothing, like list items."""
    candidates = [
        i
        for i, (block, ev) in enumerate(zip(blocks, evidence, strict=True))
        if ev.reason is None
        and not ev.sentence
        and 3 <= ev.size <= _ROW_LARGEST
        and block.extractor_body is None
    ]
    candidates = _in_long_runs(candidates)  # rows stand in a row: the others need no shape
    texts = [blocks[i].text for i in candidates]
    skeletons = [_skeleton(text) or None for text in texts]
    numbers = [_number_count(text) for text in texts]
    counts = [count if count >= 3 else None for count in numbers]
    return _shared_runs(candidates, skeletons) | _shared_runs(candidates, counts)


def _in_long_runs(indexes: list[int]) -> list[int]:
    """The (ascending) indexes that lie in a run of at least `_MIN_ROWS` consecutive ones."""
    kept: list[int] = []
    run_start = 0
    for k in range(1, len(indexes) + 1):
        if k == len(indexes) or indexes[k] != indexes[k - 1] + 1:
            if k - run_start >= _MIN_ROWS:
                kept += indexes[run_start:k]
            run_start = k
    return kept


def _shared_runs(indexes: list[int], shapes: Sequence[object]) -> set[int]:
    """The indexes of runs of at least `_MIN_ROWS` consecutive blocks with one shape (not None)."""
    rows: set[int] = set()
    run: list[int] = []
    for k, (i, shape) in enumerate(zip(indexes, shapes, strict=True)):
        continues = k > 0 and indexes[k - 1] == i - 1 and shapes[k - 1] == shape
        if not (continues and shape is not None):
            if len(run) >= _MIN_ROWS:
                rows.update(run)
            run = []
        if shape is not None:
            run.append(i)
    if len(run) >= _MIN_ROWS:
        rows.update(run)
    return rows


def _list_after(blocks: list[Block], evidence: list[_Evidence], listed: set[int], last: int) -> int:
    """An article often ends with a list ("Qualified teams:" and its rows): the run stops at its
    last sentence, since list items gain nothing. Extend it over a list that follows at once
    (at least three items, maybe after one lead-in heading)."""
    j = last + 1
    if j < len(blocks) and j not in listed and _lead_in(blocks[j], evidence[j]):
        j += 1
    end = j
    while end < len(blocks) and end in listed:
        end += 1
    return end - 1 if end - j >= 3 else last


def _lead_in(block: Block, ev: _Evidence) -> bool:
    heading = is_heading_shaped(block.text, ev.size) or block.text.endswith(":")
    return ev.reason is None and not ev.sentence and ev.size <= 8 and heading


def _best_run(scores: list[float]) -> tuple[int, int]:
    """[first, last] of the contiguous run with the highest total (Kadane); (0, -1) if none."""
    best, best_run = 0.0, (0, -1)
    total, start = 0.0, 0
    for i, value in enumerate(scores):
        if total <= 0:
            total, start = 0.0, i
        total += value
        if total > best:
            best, best_run = total, (start, i)
    return best_run


_SITE_SUFFIX = re.compile(r"\s+[|–—:-]\s+[^|–—:]{1,60}$")


def _headline_anchor(evidence: list[_Evidence]) -> tuple[int, bool] | None:
    """Where the headline stands above the body: a later block that repeats the page's first
    block (a dump starts with the page's <title>, "Headline | Site"), and whether it is the whole
    headline (strong) or only part of it (a recipe card named after the dish, say)."""
    if len(evidence) < 3:
        return None
    page_title = evidence[0].key
    headline = _SITE_SUFFIX.sub("", page_title)
    for i in range(1, len(evidence)):
        ev = evidence[i]
        if ev.size < 4 or len(ev.key) < 20 or ev.sentence or ev.key not in page_title:
            continue
        # Not the <title> repeated but a line of furniture a page puts at its top and again
        # between its paragraphs (an ad, a newsletter prompt): two paragraphs stand right above
        # it (a headline opens the article, and a line inside a run of paragraphs is inside it;
        # one sentence above a headline may be the site's tagline).
        if i >= 2 and evidence[i - 1].sentence and evidence[i - 2].sentence:
            continue
        if any(later.sentence for later in evidence[i + 1 : i + 15]):
            return i, ev.key == headline
    return None


def _body_run(scores: list[float], anchor: tuple[int, bool] | None) -> tuple[int, int]:
    """The best run. The body follows its headline: with a strong headline anchor the best run
    after it wins; with a weak one, only if it carries at least half the page's best."""
    first, last = _best_run(scores)
    if anchor is None or first > anchor[0]:
        return first, last
    headline, strong = anchor
    after_first, after_last = _best_run(scores[headline + 1 :])
    if after_last < after_first:
        return first, last
    whole = sum(scores[first : last + 1])
    after = sum(scores[headline + 1 + after_first : headline + 2 + after_last])
    if after >= 0.5 * whole or (strong and after >= _MIN_BODY_GAIN):
        return after_first + headline + 1, after_last + headline + 1
    return first, last


_MIN_BODY_GAIN = 30.0  # words: a run this size after the headline is a real (short) article


def _trim_tail(
    blocks: list[Block],
    scores: list[float],
    evidence: list[_Evidence],
    run: tuple[int, int],
    listed: set[int],
) -> int:
    """End the body run (`run`: its first and last block) at a section marker (related, share,
    comments, copyright) when the run before it outweighs what follows twice over and what follows
    is about something else (few of its words occur above): it is then another page section
    (teasers) made of sentences. Above the marker a table row or list item (`listed`: it gains
    nothing in the run) weighs its words, since it is the article's (a standings table, then share
    buttons and teasers, is an article and not a lead-in to them); below the marker only gains
    count, since the rows of a list there are as likely its teasers as the article's."""
    first, last = run
    gained = 0.0
    # Both made at the first marker (most pages have none): what the run gains from each block
    # to its end, in one pass (one sum per marker was quadratic on a page of thousands of
    # "Share" lines; gains are word counts and their quarters, exact in binary in dumps, so the
    # order of the sum changes nothing there), and the topic split.
    after_from: list[float] = []
    topics: _TopicSplit | None = None
    for i in range(first, last + 1):
        marker = i > first and evidence[i].reason in _SECTION_MARKERS
        if marker and not after_from:
            gains = (max(v, 0.0) for v in reversed(scores[first : last + 1]))
            after_from = list(accumulate(gains))[::-1]
        if marker and gained >= 2 * after_from[i - first]:
            topics = topics or _TopicSplit(blocks, scores, (first, i, last))
            if topics.overlap_at(i) < _TOPIC_SHIFT:
                return max(j for j in range(first, i) if scores[j] > 0)
        gained += evidence[i].size if i in listed else max(scores[i], 0.0)
    return last


# Below this share of shared long words, what follows a section marker is about something else.
# (On the development pages: teaser lists and comments 0.08-0.21, an article resuming after an
# inline "Don't miss" box 0.29-0.36.)
_TOPIC_SHIFT = 0.25
_CONTENT_WORD = re.compile(r"[^\W\d_]{5,}")
_CONTENT_WORD_LENGTH = 5
# ASCII letters lower-cased (casefold is lower in ASCII), every other byte a space.
_ASCII_LETTERS_ONLY = (
    bytes(ord(chr(c).lower()) if chr(c).isalpha() else ord(" ") for c in range(128)) + b" " * 128
)


def _long_words(text: str) -> list[str]:
    """The casefolded words of five letters or more (`_CONTENT_WORD`) of a block. A block whose
    only non-ASCII characters are punctuation (curly quotes, dashes: word breaks, as the "?" they
    are replaced by) through a byte table and `split` (a regex `findall` costs ~10 us a
    paragraph)."""
    if plain_latin(text):
        letters = text.encode("ascii", "replace").translate(_ASCII_LETTERS_ONLY).decode("ascii")
        return [w for w in letters.split() if len(w) >= _CONTENT_WORD_LENGTH]
    return [w.casefold() for w in _CONTENT_WORD.findall(text)]


class _TopicSplit:
    """The share of the long words of the body after a cut that also occur before it, for cuts
    moving down the run (`overlap_at`, called with rising indexes): the words are kept as a set
    before the cut and counts after it, and each block crosses over once, so a page costs one
    pass over its words however many cuts are tried (each cut from scratch was quadratic).
    Only blocks that gain (score > 0) count, on either side."""

    def __init__(self, blocks: list[Block], scores: list[float], cut: tuple[int, int, int]) -> None:
        first, at, last = cut
        self.words = [
            _long_words(blocks[j].text) if scores[j] > 0 else [] for j in range(first, last + 1)
        ]
        self.first, self.at = first, at
        self.before = {w for block in self.words[: at - first] for w in block}
        self.after: Counter[str] = Counter(w for block in self.words[at - first :] for w in block)
        self.after_total = sum(self.after.values())
        self.shared = sum(count for w, count in self.after.items() if w in self.before)

    def overlap_at(self, at: int) -> float:
        for block in self.words[self.at - self.first : at - self.first]:  # cross the cut
            for w in block:
                self.after[w] -= 1
                self.shared -= w in self.before
            self.after_total -= len(block)
            for w in set(block) - self.before:
                self.before.add(w)
                self.shared += self.after[w]
        self.at = at
        return self.shared / self.after_total if self.after_total else 0.0


_SECTION_MARKERS = ("related", "share", "comments", "copyright")


def _section_end(evidence: list[_Evidence], first: int) -> int:
    """Index of the first comments or sources heading after the body began (nothing after it is
    the article)."""
    for i in range(first + 1, len(evidence)):
        if evidence[i].section_end:
            return i
    return len(evidence)


# --- the classifier --------------------------------------------------------------------------


def classify_blocks(blocks: list[Block], context: PageContext) -> list[Decision]:
    """Label every block. Evidence from the block, its neighbours, the page and the site."""
    if not blocks:
        return []
    evidence, anchor = _gather_evidence(blocks, context)
    scores = _scores(blocks, evidence)
    _discount_isolated(blocks, evidence, scores)
    listed = _table_rows(blocks, evidence)
    if anchor and anchor[1]:
        listed |= _free_list_items(blocks, evidence, anchor[0])
    for i in listed:
        scores[i] = max(scores[i], 0.0)
    first, last = _body_run(scores, anchor)
    last = _trim_tail(blocks, scores, evidence, (first, last), listed)
    last = _list_after(blocks, evidence, listed, last) if last >= first else last
    ends_at = _section_end(evidence, first) if last >= first else len(blocks)
    # below the comments heading lie comments; below the sources heading, sources (`metadata`)
    end_reason = (evidence[ends_at].reason or "") if ends_at < len(blocks) else ""
    decisions = []
    section = ""
    for i, (block, ev) in enumerate(zip(blocks, evidence, strict=True)):
        if ev.reason in ("related", "comments") and not ev.dated_teaser:
            section = ev.reason  # what follows a heading (a dated teaser carries its own date)
        elif scores[i] > 0:
            section = ""
        place = _BEFORE if i < first else _INSIDE if i <= last else _AFTER
        below = end_reason if i >= ends_at else ""
        decisions.append(_decide(block, ev, place, below, section, scores[i]))
    _keep_subheadings(blocks, evidence, decisions)
    _mark_image_labels(blocks, evidence, decisions, first)
    _mark_title(blocks, evidence, decisions, first)
    _mark_byline(decisions, first)
    _drop_stray_kept(blocks, decisions, first, last)
    return decisions


def _drop_stray_kept(blocks: list[Block], decisions: list[Decision], first: int, last: int) -> None:
    """HTML: away from the article's run, a block trafilatura keeps on its own, between page
    furniture, is a teaser or a form's message ("Thanks for signing up!"), not the article."""
    kept = _decision("body", "", "trafilatura keeps it")
    for i, decision in enumerate(decisions):
        if decision is not kept or first <= i <= last:
            continue
        before = i > 0 and decisions[i - 1].kind == "body"
        after = i + 1 < len(blocks) and decisions[i + 1].kind == "body"
        if not before and not after:
            decisions[i] = _decision("removed", "boilerplate", "kept alone, away from the article")


_BEFORE, _INSIDE, _AFTER = -1, 0, 1  # where a block stands relative to the body run

# The decisions `_decide` takes for most blocks, made once: it runs for every block of every page,
# and a dictionary lookup costs less than a call of the `_decision` cache (same instances).
_MEDIA_CAPTION = _decision("caption", "caption", "a media caption")
_PHOTO_CREDIT = _decision("caption", "credit", "photo credit")
_REMOVED_FOR = {reason: _decision("removed", reason) for reason in REMOVAL_REASONS}
_BODY_IN_RUN = _decision("body", "", "sentence-like block in the densest run")
_SHORT_LINE_IN_RUN = _decision("body", "", "inside the densest run")
_BEFORE_BODY = _decision("removed", "navigation", "before the article body")
_OUTSIDE_BODY = _decision("removed", "boilerplate", "outside the article body")


def _decide(
    block: Block, ev: _Evidence, place: int, below_end: str, section: str, score: float
) -> Decision:
    """`below_end`: the reason of the section end (comments, sources) the block is below, if
    any; `section`: the related or comments heading it falls under, if any."""
    reason = ev.reason
    if reason == "caption" or block.tag == "figcaption":
        return _MEDIA_CAPTION
    if below_end and reason in (None, "navigation", "boilerplate"):
        return _decision("removed", section or below_end, "after the comments or sources heading")
    if reason == "credit":
        return _PHOTO_CREDIT
    if reason is not None:
        return _REMOVED_FOR.get(reason) or _decision("removed", reason)
    if block.tag == "h1":
        return _decision("removed", "title", "the page's main heading")
    if place == _INSIDE and score > 0:
        return _BODY_IN_RUN
    if block.extractor_body and score > 0:
        return _decision("body", "", "trafilatura keeps it")
    if section:
        return _decision("removed", section, f"under a {section} heading")
    if place == _INSIDE and block.extractor_body is None and ev.size >= 2:
        # A dump's short lines inside the article's run: subheadings, list items, table rows.
        return _SHORT_LINE_IN_RUN
    if place == _BEFORE:
        return _BEFORE_BODY
    return _OUTSIDE_BODY


def _keep_subheadings(
    blocks: list[Block], evidence: list[_Evidence], decisions: list[Decision]
) -> None:
    """A heading-shaped block between two body paragraphs is a subheading of the article."""
    for i in range(1, len(blocks) - 1):
        if decisions[i].kind != "removed" or evidence[i].reason is not None:
            continue
        if decisions[i - 1].kind != "body" or decisions[i + 1].kind != "body":
            continue
        text = blocks[i].text
        if is_heading_shaped(text, evidence[i].size) and blocks[i].link_density < 0.5:
            decisions[i] = _decision("body", "", "subheading between body paragraphs")


def _mark_title(
    blocks: list[Block], evidence: list[_Evidence], decisions: list[Decision], first: int
) -> None:
    """The headline: the heading-shaped block nearest above the body that the page repeats (its
    <title> in the first block, a breadcrumb's last step) or that HTML marks as its main heading.
    Other furniture copies of it (the "Headline | Site" line of a dump) are removed as `title`."""
    keys = [ev.key for ev in evidence]
    crumbs = [keys[j] for j, ev in enumerate(evidence) if ev.reason == "breadcrumb"]
    # Keys never hold a line break, so a key found in the joined keys lies inside one of them.
    joined = "\n".join(keys)
    lengths = list(accumulate(map(len, keys), initial=0))  # key i starts at lengths[i] + i
    for i in range(min(first, len(blocks)) - 1, max(first - 40, 0) - 1, -1):
        block, ev = blocks[i], evidence[i]
        if decisions[i].kind != "removed" or ev.reason not in (None, "ad", "navigation"):
            continue
        if not (block.tag == "h1" or (ev.size >= 3 and is_heading_shaped(block.text, ev.size))):
            continue
        repeated = (i > 0 and joined.find(keys[i], 0, lengths[i] + i - 1) >= 0) or any(
            keys[i] in c for c in crumbs
        )
        if repeated or block.tag in ("h1", "title"):
            decisions[i] = _decision("title", "title", "headline before the body")
            _mark_title_copies(keys, decisions, i)
            return
    heading = _heading_above_body(blocks, evidence, decisions, first)
    if heading is not None:
        decisions[heading] = _decision("title", "title", "heading right above the body")
        _mark_title_copies(keys, decisions, heading)


# What may stand between an article's headline and its first paragraph: a share bar too ("Share
# on Facebook" lines right under the headline are common; they hid the headline of such pages).
_BETWEEN_HEADLINE_AND_BODY = ("byline", "metadata", "date_header", "credit", "caption", "share")
# A share bar's own label can repeat the headline ("Share All sharing options for: <headline>"):
# next to share lines, a line that opens with "Share" is the bar's, not the headline (elsewhere
# it may be one: "Share prices fall ...").
_SHARE_LABEL = re.compile(r"share\b", re.IGNORECASE)
# A short "By ..." line the byline rule did not take ("By Staff Writer 2") is a byline still: the
# headline is above it, not it.
_BY_LINE = re.compile(r"by\s", re.IGNORECASE)
_BY_LINE_WORDS = 8


def _heading_above_body(
    blocks: list[Block], evidence: list[_Evidence], decisions: list[Decision], first: int
) -> int | None:
    """A page that does not repeat its headline (no <title> line, no breadcrumb): the block right
    above the body, past its byline, dateline and photo credit only, when it is heading-shaped.
    It was removed as `navigation` (a short line without a full stop), and the variant had no
    title. Anything else in between (a menu, a teaser) and there is none."""
    for i in range(min(first, len(blocks)) - 1, -1, -1):
        reason = decisions[i].reason
        if decisions[i].kind in ("byline", "caption") or reason in _BETWEEN_HEADLINE_AND_BODY:
            continue
        ev = evidence[i]
        beside = (decisions[j].reason for j in (i - 1, i + 1) if 0 <= j < len(decisions))
        if "share" in beside and _SHARE_LABEL.match(blocks[i].text):
            continue
        if ev.size <= _BY_LINE_WORDS and _BY_LINE.match(blocks[i].text):
            continue
        shaped = ev.size >= 3 and is_heading_shaped(blocks[i].text, ev.size)
        shaped = shaped and parse_date(blocks[i].text) is None  # "By admin - 2018-09-16"
        if decisions[i].kind == "removed" and reason in (None, "navigation") and shaped:
            return i
        return None
    return None


def _mark_title_copies(keys: list[str], decisions: list[Decision], title: int) -> None:
    for j, key in enumerate(keys):
        if j == title or keys[title] not in key or decisions[j].kind != "removed":
            continue
        if decisions[j].reason in ("navigation", "ad", "boilerplate") and len(key) < 3 * len(
            keys[title]
        ):
            decisions[j] = _decision("removed", "title", "a copy of the headline")


def _mark_byline(decisions: list[Decision], first: int) -> None:
    """The byline: "By Name" near the start of the body (the first wins; later ones are removed
    as `byline`)."""
    found = False
    for i in range(max(first - 15, 0), min(first + 16, len(decisions))):
        if decisions[i].reason != "byline":
            continue
        decisions[i] = _decision("removed", "byline") if found else _decision("byline", "byline")
        found = True


_CREDIT_PARTS = re.compile(r"\S\s*[|/]\s*\S")


# An image's label above the body names what it shows ("Chuck Hagel", "2"); a longer line above a
# credit is the headline over the lead image ("N.Y. completes frantic comeback to extend unbeaten
# streak to 15" above "Associated Press"), which the title step looks for past the credit.
_LABEL_WORDS = 4


def _mark_image_labels(
    blocks: list[Block], evidence: list[_Evidence], decisions: list[Decision], first: int
) -> None:
    """A block right above a photo credit is the image's caption or label: above the body a
    short label ("Chuck Hagel"), inside it a caption the credit line belongs to."""
    for i in range(len(blocks) - 1):
        following = decisions[i + 1]
        if following.kind != "caption" or following.reason != "credit":
            continue
        decision, size = decisions[i], evidence[i].size
        if i < first:
            label = decision.reason in ("navigation", "boilerplate") and size <= _LABEL_WORDS
            label = label and not ends_like_sentence(blocks[i].text)
        else:  # a photographer's credit ("Name | Agency"), not a bare agency line ("Reuters")
            credit = blocks[i + 1].text
            label = decision.kind == "body" and size <= 60 and bool(_CREDIT_PARTS.search(credit))
        if label:
            decisions[i] = _decision("caption", "caption", "above a photo credit")


# --- publication date ------------------------------------------------------------------------


def dateline_of(
    blocks: list[Block], decisions: list[Decision], language: str = "und"
) -> str | None:
    """The article's own date: the first date between the headline and the body, in a dateline
    ("Published: ...", "Submitted on Mon, 2019-01-21 13:49") or in the byline ("By X on Monday,
    November 18th, 2019"). A date above the headline is the page's render date (a
    `date_header`), never this; one in the body or a caption is the story's. A slashed date is
    read in the order the page writes them (`slashed_day_first`; `language` is the body's)."""
    anchors = [i for i, d in enumerate(decisions) if d.kind in ("title", "byline")]
    if not anchors:
        return None
    body = next((i for i, d in enumerate(decisions) if d.kind == "body"), None)
    if body is None:
        return None
    low, high = min(anchors), max(body, max(anchors) + 2)
    for i in range(low, min(high, len(blocks))):
        decision = decisions[i]
        byline = decision.kind == "byline" or decision.reason == "byline"
        if not byline and decision.reason not in ("date_header", "metadata"):
            continue
        text = blocks[i].text
        parsed = parse_date(text, "/" in text and slashed_day_first(blocks, language))
        if parsed:
            if not byline:
                decisions[i] = _decision("removed", "metadata", "the article's dateline")
            return parsed
    return None


def slashed_day_first(blocks: Sequence[Block], language: str) -> bool:
    """Whether the page writes numeric dates with slashes day first (25/04/2024) rather than
    month first (04/25/2024), which decides how an ambiguous one (04/05/2024) is read. Its own
    unambiguous ones tell, when they agree; else its language: month first is the United States'
    order, so an English page's (dateutil's default), and no other language's."""
    orders = set()
    for block in blocks:
        if "/" in block.text:
            for found in _SLASHED_DATE.finditer(block.text):
                first, second = int(found["first"]), int(found["second"])
                if first <= 12 < second <= 31:
                    orders.add("month first")
                elif second <= 12 < first <= 31:
                    orders.add("day first")
    if len(orders) == 1:
        return orders == {"day first"}
    return language not in ("en", "und")


def parse_date(text: str, day_first: bool = False) -> str | None:
    """ISO date (YYYY-MM-DD) of the first date in a block, or None. `day_first`: how a slashed
    date both of whose numbers can be a month is read (04/05/2024: 4 May; else 5 April)."""
    match = DATE_ANY.search(text)
    if not match:
        return None
    plain = _plain_date(match.group(0), day_first)
    if plain is not None:
        return plain
    from dateutil import parser as date_parser

    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", match.group(0))
    cleaned = re.sub(r"[年月]", "-", cleaned).replace("日", "")
    if not _FULL_YEAR.search(cleaned):
        # "1/1/70": dateutil puts a two-digit year within 50 years of today, so the same page
        # would get another date in another year (and "0099" became 1999)
        return None
    try:
        # default: a field dateutil does not find comes from it, not from today's date (it read
        # "Nov. 26,2024" as November 26 of the current year: a corpus that changed with the clock)
        parsed = date_parser.parse(cleaned, dayfirst=False, fuzzy=True, default=_NO_CLOCK).date()
    except (ValueError, OverflowError):
        return None
    return parsed.isoformat() if parsed.year in DATE_YEARS else None


_NO_CLOCK = datetime(1800, 1, 1)  # outside DATE_YEARS: a date dateutil half-read is dropped
DATE_YEARS = range(1900, 2100)  # the years a publication date may have (render: trafilatura's)
_FULL_YEAR = re.compile(r"(?<!\d)(19|20)\d\d(?!\d)")  # a year written in full, in DATE_YEARS


# The unambiguous forms of a date: "Nov. 20, 2019", "20th November 2019", "25. April 2024",
# "25 de abril de 2024", "2019-11-20". dateutil reads the English ones as this does (a parse
# costs it ~250 us) and not the others; anything else is left to it.
_NAMED_DATE = re.compile(
    r"(?:(?P<day>\d{1,2})(?-i:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?(?P<month>[^\W\d_]{3,10})\.?"
    r"|(?P<month2>[^\W\d_]{3,10})\.?\s+(?P<day2>\d{1,2})(?-i:st|nd|rd|th|er|º)?)"
    r"\s*,?\s*(?:de\s+)?(?P<year>\d{4})",
    re.IGNORECASE,
)
_ISO_DATE = re.compile(r"(?P<year>\d{4})([-/])(?P<month>\d{1,2})\2(?P<day>\d{1,2})")
# "25.04.2024": written with dots, a numeric date is day first wherever it is written so
# (German, Russian, Polish, Turkish, Nordic pages); dateutil read it month first, as 4 May.
_DOTTED_DATE = re.compile(r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})")
# "04/05/2024": 5 April in the US, 4 May in the UK and most of the world (`slashed_day_first`
# tells from the page); a first number above 12 can only be a day, a second only a day too.
_SLASHED_DATE = re.compile(
    r"(?<!\d)(?P<first>\d{1,2})/(?P<second>\d{1,2})/(?P<year>(?:19|20)\d\d|\d\d)(?!\d)"
)


def _plain_date(found: str, day_first: bool = False) -> str | None:
    """ISO date of a date `DATE_ANY` found, when it is one of the plain forms; else None."""
    named = _NAMED_DATE.fullmatch(found)
    if named:
        month = MONTH_NUMBERS.get((named["month"] or named["month2"]).lower())
        day, year = int(named["day"] or named["day2"]), int(named["year"])
    elif (slashed := _SLASHED_DATE.fullmatch(found)) and len(slashed["year"]) == 4:
        year, first, second = int(slashed["year"]), int(slashed["first"]), int(slashed["second"])
        day_first = first > 12 or (day_first and second <= 12)
        month, day = (second, first) if day_first else (first, second)
    else:
        numeric = _ISO_DATE.fullmatch(found) or _DOTTED_DATE.fullmatch(found)
        if not numeric:
            return None
        year, month, day = int(numeric["year"]), int(numeric["month"]), int(numeric["day"])
    if month is None or year not in DATE_YEARS or not 1 <= month <= 12:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:  # no such day: what dateutil makes of it is its own
        return None


# --- assembling the extraction ----------------------------------------------------------------

_BY_START = attrgetter("start")


def extraction_from_blocks(
    capture_id: str,
    blocks: list[Block],
    decisions: list[Decision],
    *,
    language: str,
    published_at: str | None = None,
) -> Extraction:
    paragraphs: list[TextSpan] = []
    captions: list[TextSpan] = []
    removed: list[RemovedSpan] = []
    title = byline = None
    title_span = byline_span = None
    for block, decision in zip(blocks, decisions, strict=True):
        kind = decision.kind
        if kind == "body":
            paragraphs.append(TextSpan(block.text, block.start, block.end))
        elif kind == "removed":
            reason = decision.reason if decision.reason in _REASONS else "boilerplate"
            removed.append(RemovedSpan(block.start, block.end, reason))
        elif kind == "title" and title is None:
            title, title_span = block.text, Span(block.start, block.end)
        elif kind == "byline" and byline is None:
            byline, byline_span = block.text, Span(block.start, block.end)
        elif kind == "caption" and decision.reason == "caption":
            captions.append(TextSpan(block.text, block.start, block.end))
        elif kind == "caption":
            _split_credit(block, captions, removed)
        else:  # a second title or byline
            reason = decision.reason if decision.reason in _REASONS else "boilerplate"
            removed.append(RemovedSpan(block.start, block.end, reason))
    return Extraction(
        capture_id=capture_id,
        title=title,
        byline=byline,
        published_at=published_at,
        language=language,
        paragraphs=paragraphs,
        captions=sorted(captions, key=_BY_START),
        title_span=title_span,
        byline_span=byline_span,
        removed=sorted(removed, key=_BY_START),
        extractor_version=EXTRACTOR_VERSION,
    )


def _credit_split(text: str) -> int | None:
    """Where a photo credit glued to a caption ends ("© X/Getty ImagesUS Secretary...")."""
    matches = list(AGENCY.finditer(text[:200]))
    if not matches or not CREDIT_RE.match(text):
        return None
    end = matches[-1].end()
    return end if text[end:].strip() else None


def _split_credit(block: Block, captions: list[TextSpan], removed: list[RemovedSpan]) -> None:
    cut = _credit_split(block.text)
    if cut is None:
        removed.append(RemovedSpan(block.start, block.end, "credit"))
        return
    removed.append(RemovedSpan(block.start, block.start + cut, "credit"))
    rest = block.text[cut:]
    lead = len(rest) - len(rest.lstrip())
    captions.append(TextSpan(rest.strip(), block.start + cut + lead, block.end))


_LANGUAGE_SAMPLE = 256  # characters


def _leading(texts: list[str], chars: int) -> list[str]:
    """The first texts, as many as it takes to have `chars` characters."""
    taken, total = [], 0
    for text in texts:
        taken.append(text)
        total += len(text) + 1
        if total >= chars:
            break
    return taken


def detect_language(texts: list[str]) -> str:
    """Language of the body (py3langid: a fixed model, so deterministic), as its label: a BCP 47
    primary language subtag (ISO 639-1 where there is one, else ISO 639-3: `yue`, `zxx`); `und`
    when there is too little text to tell."""
    # The body's first 256 characters: enough for a confident guess (on the development pages it
    # agrees with the guess from 5,000 everywhere), and langid's cost grows with the sample
    # (its feature walk is Python, byte by byte: 500 characters cost as much as the rest of the
    # extraction of a page).
    sample = " ".join(_leading(texts, _LANGUAGE_SAMPLE))[:_LANGUAGE_SAMPLE]
    if block_size(sample) < 5:
        return "und"
    code, _ = language_identifier().classify(sample)
    return code


@cache
def language_identifier() -> Any:
    """py3langid's model (what `py3langid.classify` uses), in an identifier of this process with
    faster containers for three of its tables; the same numbers, so the same scores bit for bit
    (tests/test_extract.py compares with `py3langid.classify`).

    Why: its byte-by-byte walk reads two lists of 104k Python ints (a pointer and an object per
    read, cache misses), and its scoring gathers float16 rows that numpy converts to float32 on
    every call. As int32 arrays and a float32 table (+28 MB a process), language detection takes
    ~0.2 ms instead of ~0.45 ms a page: a third of the extraction of a short page (measured).
    Where a py3langid release names its tables otherwise, they are left as they come."""
    from py3langid import langid

    identifier = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=False)
    for name in ("_rowbase", "tk_output"):
        table = getattr(identifier, name, None)
        if isinstance(table, list) and min(table) >= -(2**31) and max(table) < 2**31:
            setattr(identifier, name, array.array("i", table))
    scores = getattr(identifier, "nb_ptc", None)
    if isinstance(scores, np.ndarray) and scores.dtype == np.float16:
        identifier.nb_ptc = scores.astype(np.float32)
    return identifier


def extract_text_dump(text: str, capture_id: str, context: PageContext | None = None) -> Extraction:
    """Extract the article from a plain-text page dump."""
    blocks = split_blocks(text)
    decisions = classify_blocks(blocks, context or PageContext())
    body = [b.text for b, d in zip(blocks, decisions, strict=True) if d.kind == "body"]
    language = detect_language(body)
    published_at = dateline_of(blocks, decisions, language)
    return extraction_from_blocks(
        capture_id, blocks, decisions, language=language, published_at=published_at
    )


def text_of_capture(capture: Capture, data: bytes) -> str:
    """The text every offset of this capture indexes: the decoded dump, or the rendered page."""
    from newsvariants.ingest import decode_capture

    decoded = decode_capture(data, capture.encoding)
    if capture.format == "html":
        from newsvariants.render import render_html

        return render_html(decoded).text
    return decoded


def extract_capture(
    capture: Capture, data: bytes, context: PageContext | None = None
) -> Extraction:
    """Extract one capture of either form. A page that states no publication date (no markup
    date, no dateline) is dated by its URL, when the capture has one with a date in it."""
    from newsvariants.ingest import decode_capture

    decoded = decode_capture(data, capture.encoding)
    if capture.format == "html":
        from newsvariants.render import extract_html

        extraction = extract_html(decoded, capture.capture_id, context or PageContext())
    else:
        extraction = extract_text_dump(decoded, capture.capture_id, context)
    if extraction.published_at is None and capture.url:
        from newsvariants.render import url_date

        return replace(extraction, published_at=url_date(capture.url))
    return extraction


def debug_extract(
    path: Path,
    *,
    fmt: str | None,
    source: str,
    raw: Path | None,
    url: str | None = None,
    encoding: str | None = None,
) -> dict[str, Any]:
    """`newsvariants extract FILE`: one capture -> a JSON-ready dict (offsets into its text).

    A file whose bytes are a capture of `raw` is read as its record says (encoding, format,
    source, URL), as the build reads it: an encoding corrected at ingest with --encoding is
    not guessed again."""
    from newsvariants.ingest import (
        CaptureInput,
        capture_record,
        capture_text,
        load_captures,
        read_input_file,
        sha256_bytes,
    )

    data, fmt = read_input_file(path, fmt)
    if fmt not in ("text", "html"):
        raise NewsVariantsError(f"{path}: extract takes one text or html capture, not {fmt}")
    stored = {c.sha256: c for c in load_captures(raw)} if raw is not None else {}
    capture = stored.get(sha256_bytes(data)) or capture_record(
        CaptureInput(data, str(path), source, None, url, fmt, encoding=encoding)
    )
    source = capture.source
    context = PageContext()
    if raw is not None:
        peers = [c for c in stored.values() if c.source == source and c.format == "text"]
        texts = {c.capture_id: [b.text for b in split_blocks(capture_text(raw, c))] for c in peers}
        if capture.format == "text" and capture.capture_id not in texts:
            from newsvariants.ingest import decode_capture

            texts[capture.capture_id] = [
                b.text for b in split_blocks(decode_capture(data, capture.encoding))
            ]
        templates = site_templates(texts, {cid: source for cid in texts})
        context = PageContext(templates.get(source, frozenset()))
    try:
        extraction = extract_capture(capture, data, context)
    except NewsVariantsError as exc:  # the stages' own errors name no file (the build names it)
        raise NewsVariantsError(f"{path}: {exc}") from exc
    result = asdict(extraction)
    result["encoding"] = capture.encoding
    result["format"] = capture.format
    return result
