"""Stage `extract`: one capture -> title, byline, date, language, body paragraphs, captions and the
removed spans, each with a reason. Offsets index the capture's text (`text_of_capture`).

Both forms go through one block classifier: a text dump's blocks are its lines; an HTML page is
first rendered to visible-text blocks (see `render`), which carry extra evidence (element, link
density, class/id hints, trafilatura's own judgement). The classifier works in three steps:

1. every block gets a *removal reason* from evidence inside it (date, credit, share, subscribe,
   copyright patterns...) and outside it (recurrence in other captures of the source, repetition
   in the page, script mismatch with the page, the section heading it falls under);
2. every block gets a *score*: sentence-like blocks gain their size, everything else costs a little,
   section ends (comments, copyright) cost a lot; a blurb isolated between furniture (a teaser
   card) gains a quarter; below a sure headline, lower-case list lines cost nothing. The article
   body is the contiguous run of blocks with the highest total (the densest run of sentence-like
   text: a maximum-sum subarray), looked for below the headline that repeats the page's <title>,
   and cut at a "Related"/"Share"/comments marker when what follows is about something else;
3. inside that run, sentence-like blocks (and, in a dump, its list lines and subheadings) are
   body; around it, the headline, the byline and the dateline are recognised by shape and
   position; every other block keeps its removal reason.

No pattern here names a site: the rules are about the shape of page furniture, so they carry to
pages this project has never seen.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from newsvariants.errors import NewsVariantsError
from newsvariants.records import Capture, Extraction, RemovedSpan, Span, TextSpan

EXTRACTOR_VERSION = "0.2"

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


@dataclass
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


@dataclass
class Decision:
    kind: str  # body | title | byline | caption | removed
    reason: str = ""
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PageContext:
    """Evidence from outside one capture: blocks that recur in other captures of its source."""

    template_blocks: frozenset[str] = frozenset()


def split_blocks(text: str) -> list[Block]:
    """Non-blank lines of a dump, with offsets of their stripped text."""
    blocks: list[Block] = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            start = pos + (len(line) - len(line.lstrip()))
            blocks.append(Block(len(blocks), stripped, start, start + len(stripped)))
        pos += len(line) + 1
    return blocks


_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1 << 16)
def block_key(text: str) -> str:
    """Key for recognising the same block across pages and inside one page.

    NFKC + casefold + collapsed spaces: cheap enough for every line of every page (ftfy's full
    repair, used for comparison forms, costs ~50x more and a site repeats its own bytes anyway).
    """
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def clear_caches() -> None:
    """Forget memoised block keys and scripts (for honest speed measurements)."""
    block_key.cache_clear()
    _script.cache_clear()


def site_templates(
    blocks_by_capture: Mapping[str, Iterable[str]], source_of: Mapping[str, str]
) -> dict[str, frozenset[str]]:
    """Blocks that recur in at least two captures of the same source and in most of them."""
    per_source: dict[str, Counter[str]] = {}
    captures_per_source: Counter[str] = Counter()
    for capture_id, texts in blocks_by_capture.items():
        source = source_of[capture_id]
        captures_per_source[source] += 1
        per_source.setdefault(source, Counter()).update({block_key(t) for t in texts})
    templates: dict[str, frozenset[str]] = {}
    for source, counts in per_source.items():
        n = captures_per_source[source]
        if n < 2:
            templates[source] = frozenset()
            continue
        # A block in at least 2 captures and at least a third of them is template text; a quote
        # repeated by two articles of one outlet is rarer than a third of its pages.
        templates[source] = frozenset(
            key for key, count in counts.items() if count >= 2 and count * 3 >= n
        )
    return templates


# --- block evidence: patterns of page furniture ------------------------------------------------

_MONTHS = (
    r"jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t(ember)?)?|"
    r"oct(ober)?|nov(ember)?|dec(ember)?"
)
_WEEKDAYS = r"mon(day)?|tue(s(day)?)?|wed(nesday)?|thu(rs(day)?)?|fri(day)?|sat(urday)?|sun(day)?"
_DAY = r"\d{1,2}(st|nd|rd|th)?"
_DATE_CORE = (
    rf"({_DAY}\s+({_MONTHS})\.?|({_MONTHS})\.?\s+{_DAY})\s*,?\s*\d{{4}}"
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}"
    r"|\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
)
_TIME = r"\d{1,2}[:.]\d{2}(\s*[ap]\.?m\.?)?(\s*\(?[a-z]{2,4}\)?)?"
# A block that is nothing but a date (and maybe a weekday and a time).
_DATE_ONLY = re.compile(
    rf"^(({_WEEKDAYS})\.?\s*,?\s*)?({_DATE_CORE})(\s*[,|-]?\s*(at\s+)?{_TIME})?\.?$",
    re.IGNORECASE,
)
_DATE_ANY = re.compile(rf"({_DATE_CORE})", re.IGNORECASE)
_META_LABEL = re.compile(
    r"^((researched|edited|reported|written|compiled|produced|additional reporting|graphics?)"
    r"\s+by|tags|topics|subjects|filed under|categories|posted in)\s*:",
    re.IGNORECASE,
)
_META_LEAD = re.compile(
    r"^(published|updated|posted|last (updated|modified)|modified|first published|date)\b",
    re.IGNORECASE,
)
_COPYRIGHT = re.compile(r"^(©|\(c\)|copyright\b)|all rights reserved", re.IGNORECASE)
_RIGHTS = re.compile(r"rights reserved|^(©|\(c\)|copyright)\s*(19|20)\d\d\b", re.IGNORECASE)
_CREDIT = re.compile(
    r"^(©|photo(graph)?s?\s*(:|by\b|credit)|image\s*(:|by\b|credit)|credit\s*:|picture\s*:"
    r"|source\s*:\s*getty)",
    re.IGNORECASE,
)
_AGENCY = re.compile(
    r"(Getty Images|Reuters|AFP|AP Photo|Associated Press|EPA|Sputnik|TASS|Shutterstock|"
    r"Bloomberg|Xinhua|Anadolu|Alamy|iStock|PA Images|PA Wire)",
)
# A caption ends with its credit: "(Image: GETTY)", "(NASA/JPL)", "J. Smith / AP file".
_CAPTION_TAIL = re.compile(
    r"(\((image|photo|picture|credit|video|pic)s?\s*:[^)]*\)|\b(credit|photo|image)s?:\s*[^.!?]{2,80}"
    r"|\([^()]*/[^()]*\)"
    r"|\s/\s*(AP|AFP|Reuters|Getty Images|EPA|PA)[\w ]{0,12}|(Getty Images|Shutterstock))\s*$",
    re.IGNORECASE,
)
_EXPLICIT_CREDIT_TAIL = re.compile(
    r"[.)]\s+(credit|photo|image|picture)s?\s*:\s*[^.!?:]{2,60}$", re.IGNORECASE
)
_RELATED_HEAD = re.compile(
    r"^(check also|related( (stories|articles?|posts?|news|content|coverage|topics|links))?"
    r"|read (more|also|next)|see also|more (from|stories|news|on this|like this)"
    r"|you (may|might) (also )?(like|be interested|enjoy)|recommended( for you| reading)?"
    r"|most (read|popular|viewed|shared)|trending( now| stories)?|popular (posts|stories)"
    r"|latest (news|stories|posts|videos)|also read|further reading|more in|don'?t miss"
    r"|editor'?s picks|top stories|what to read next|up next|explore further)\b[^.!?]{0,40}$"
    r"|^related\s*:.{0,120}$"
    r"|^more\s+[\w'’-]+(\s+[\w'’-]+)?$",  # "More Washington Examiner", "More from ..."
    re.IGNORECASE,
)
_COMMENTS_HEAD = re.compile(
    r"^[\[(]?\s*(\d+\s+)?((top|best|most|latest|newest|reader|all|show|view|load|see)\s+)*"
    r"(rated\s+)?comments?\s*(\(\d+\))?\s*[\])]?$|"
    r"^\d+\s+(thoughts?|responses?|replies|reactions?)\s+(on|to)\s.{0,200}$|"  # WordPress
    r"^(leave a (reply|comment)|post a comment|add (a )?comment"
    r"|join the (conversation|discussion)|your email address will not be published"
    r"|reader comments|show comments|view comments|comment on this|no comments( yet)?)"
    r"\b[^.!?]{0,60}[.!?*]?$",
    re.IGNORECASE,
)
_SOCIAL = (
    r"facebook|twitter|whatsapp|linkedin|reddit|pinterest|telegram|flipboard|pocket|instagram"
    r"|youtube|tumblr|e-?mail|sms|print|copy link|messenger|vk|rss( feed)?"
)
_SHARE = re.compile(
    rf"^((share|tweet|follow( us)?|connect with us|find us|like us)\b[^.!?]{{0,40}}[.!]?"
    rf"|({_SOCIAL})(\s*[,|/·•]?\s*({_SOCIAL}))*)$",
    re.IGNORECASE,
)
_SUBSCRIBE = re.compile(
    r"\b((un)?subscribe|subscription|sign ?up|newsletter|inbox|log ?in|sign in|register|"
    r"create (a free )?account|download (our|the) app)\b",
    re.IGNORECASE,
)
_LEGAL = re.compile(
    r"\b(registered trademarks?|(is|are) (a )?trademarks? of"
    r"|terms (of|and conditions of) (use|service)|privacy (policy|notice)|cookie policy"
    r"|(we|this (web)?site) uses? cookies"
    r"|may not be (re)?published,? broadcast|not intended to diagnose|subject to copyright)\b",
    re.IGNORECASE,
)
_AD = re.compile(
    r"^(advertisement|advertising|sponsored( content)?|ad|promoted|story continues below"
    r"( advertisement)?|continue reading below|scroll to continue.*)$",
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"^(?i:by|von|par|por|di|door|av|от|автор)\s*:?\s+[A-ZÀ-ÝА-Я][\w.'’-]+"
    r"(\s+(and\s+)?[A-ZÀ-ÝА-Я][\w.'’-]+|,){0,8}(\s*[,|/–-].{0,60})?$",
)
# Market or score tickers: several signed numbers, percentages or prices on one line.
_TICKER_ITEM = re.compile(r"(?<!\w)[+\-−▲▼]\s?\d+([.,]\d+)?%?")
_BREADCRUMB_SEP = re.compile(r"\s(/|>|»|›|\|)\s|\s?(>|»|›)\s?$")
_TERMINAL = re.compile(r"[.!?。！？:;][\"'”’»)\]」』）]*$|[\"”’»」』]$")
_ELLIPSIS_END = re.compile(r"(…|\.\.\.)\s*$")
_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_SCRIPTS = {
    "latin": re.compile(r"[A-Za-z\u00c0-\u024f]"),
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "cjk": _CJK,
    "arabic": re.compile(r"[\u0600-\u06ff]"),
    "greek": re.compile(r"[\u0370-\u03ff]"),
    "hebrew": re.compile(r"[\u0590-\u05ff]"),
    "devanagari": re.compile(r"[\u0900-\u097f]"),
    "thai": re.compile(r"[\u0e00-\u0e7f]"),
}


_NON_LATIN = re.compile(
    "[\u0370-\u04ff\u0590-\u06ff\u0900-\u097f\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af]"
)


@lru_cache(maxsize=1 << 14)
def _script(text: str) -> str:
    if text.isascii() or not _NON_LATIN.search(text):  # the common case, one scan
        return "latin" if any(c.isalpha() for c in text) else "none"
    counts = {name: len(pattern.findall(text)) for name, pattern in _SCRIPTS.items()}
    counts["cjk"] *= 3  # one CJK character carries about what three Latin letters do
    best = max(counts, key=lambda name: (counts[name], name))
    return best if counts[best] else "none"


def block_size(text: str) -> float:
    """Length in words; CJK text has no spaces, so two CJK characters count as one word."""
    if text.isascii():
        return float(len(_WORD.findall(text)))
    cjk = len(_CJK.findall(text))
    if not cjk:
        return float(len(_WORD.findall(text)))
    return len(_WORD.findall(_CJK.sub(" ", text))) + cjk / 2


def _capitalised_share(text: str) -> float:
    words = [w for w in _WORD.findall(text) if not w.isdigit()]
    if not words:
        return 1.0
    return sum(1 for w in words if w[0].isupper()) / len(words)


def _is_sentence_like(text: str, size: float) -> bool:
    """Prose: ends like a sentence and has a few words, or is long and not a title-cased list."""
    tail = text[-6:]
    if size < 40 and _ELLIPSIS_END.search(tail):
        return False  # a truncated teaser ("... the country's Investigative Committee …")
    if size >= 5 and _TERMINAL.search(tail):
        return _capitalised_share(text) < 0.75 or size >= 12
    return size >= 18 and _capitalised_share(text) < 0.6


def _is_heading_shaped(text: str, size: float) -> bool:
    return 2 <= size <= 30 and not text.endswith((".", ":", ";", ",", "…")) and "|" not in text


@dataclass
class _Evidence:
    """What the classifier knows about one block before deciding it."""

    size: float
    sentence: bool
    reason: str | None  # removal reason from the block's own shape / the page / the site
    section_end: bool = False  # starts the comments (nothing after it is body)


def _own_reason(block: Block, size: float, sentence: bool) -> str | None:
    """A removal reason read off the block alone (its text; for HTML also its link density and
    its containers' class/id words), or None."""
    reason = _pattern_reason(block, size, sentence)
    if reason is None and block.hints and block.extractor_body is not True:
        return _hint_reason(block.hints)  # HTML: the container's class/id names furniture
    return reason


def _pattern_reason(block: Block, size: float, sentence: bool) -> str | None:
    """Patterns are tried only on blocks short enough for them to apply, behind cheap substring
    gates: this runs on every line of every page."""
    text = block.text
    if block.link_density > 0.6 and (
        (block.link_density > 0.8 and size < 30)
        or block.tag not in ("p", "h1", "h2", "h3", "blockquote", "li")
    ):
        return "navigation"
    if _CREDIT.match(text):
        if _AGENCY.search(text[:80]) and not _RIGHTS.search(text):
            return "credit"  # "© Jason Reed-Pool/Getty Images": a photo credit, not a notice
        return "copyright" if _COPYRIGHT.search(text) and size < 80 else "credit"
    if _EXPLICIT_CREDIT_TAIL.search(text[-80:]):
        return "caption"  # "... compared to its equivalent. Credit: ESA"
    if size <= 10 and _AGENCY.search(text) and not _TERMINAL.search(text):
        return "credit"  # "Natalie Naccache | Bloomberg | Getty Images", under a caption
    if size >= 80:
        return None
    lower = text.casefold()
    if _COPYRIGHT_GATE.search(lower):
        if _COPYRIGHT.search(text) and (size < 25 or _RIGHTS.search(text)):
            return "copyright"
        if _LEGAL.search(text):
            return "copyright"
    if size <= 40:
        reason = _short_block_reason(text, lower, size, sentence)
        if reason:
            return reason
    if size < 60 and _CAPTION_TAIL.search(text[-100:]):
        return "caption"
    return None


# Cheap gates (one scan of literals) in front of the costlier patterns.
_COPYRIGHT_GATE = re.compile(
    r"©|\(c\)|copyright|rights reserved|trademark|terms|privacy|cookie|broadcast|diagnose"
)
_SUBSCRIBE_GATE = re.compile(
    r"subscri|sign ?up|newsletter|inbox|log ?in|sign in|register|account|app"
)
_TICKER_GATE = re.compile(r"[+\-−▲▼]\s?\d")
_BREADCRUMB_GATE = re.compile(r"[/>»›|]")


# HTML class/id words of the block or its ancestors that name page furniture. Only the last
# ancestors' words count (the nearest container decides: an article inside a "page-wrapper").
_HINTS = (
    ("comments", re.compile(r"\bcomment(s|list|-list|_list|area|-area)?\b|\bdisqus\b")),
    ("share", re.compile(r"\b(share|sharing|social)[\w-]*")),
    ("related", re.compile(r"\b(related|recommend(ed|ations)?|more-stories|read-more)[\w-]*")),
    ("ad", re.compile(r"\b(advert\w*|ad-slot|ad-container|dfp|sponsor\w*|promo\w*)\b")),
    ("subscribe", re.compile(r"\b(newsletter|subscri\w*|signup|sign-up)[\w-]*")),
    ("breadcrumb", re.compile(r"\bbreadcrumbs?\b")),
    ("navigation", re.compile(r"\b(nav|navbar|navigation|menu|site-header|masthead)\b")),
    ("copyright", re.compile(r"\b(site-footer|copyright)\b")),
)


@lru_cache(maxsize=4096)
def _hint_reason(hints: str) -> str | None:
    words = hints.casefold()[-80:]
    for reason, pattern in _HINTS:
        if pattern.search(words):
            return reason
    return None


def _short_block_reason(text: str, lower: str, size: float, sentence: bool) -> str | None:
    """Reasons that only a short block (at most 40 words) can have."""
    if size <= 14:
        if _DATE_ONLY.match(text.replace(" ,", ",")):
            return "date_header"
        if size <= 6 and _AD.match(text):
            return "ad"
        if _RELATED_HEAD.match(text):
            return "related"
        if _SHARE.match(text):
            return "share"
    if size <= 25:
        if _META_LEAD.match(text) and _DATE_ANY.search(text):
            return "metadata"
        if _BYLINE.match(text):
            return "byline"
    if _META_LABEL.match(text):
        return "metadata"
    if _COMMENTS_HEAD.match(text):
        return "comments"
    subscribe = size < 30 and _SUBSCRIBE_GATE.search(lower) and _SUBSCRIBE.search(text)
    if subscribe and (not sentence or _TERMINAL.search(text)):
        return "subscribe"
    if not sentence and _TICKER_GATE.search(text) and len(_TICKER_ITEM.findall(text)) >= 3:
        return "ticker"
    crumbs = _BREADCRUMB_GATE.search(text) and not _TERMINAL.search(text)
    if crumbs and len(_BREADCRUMB_SEP.findall(text)) >= 2:
        return "breadcrumb"
    return None


def _gather_evidence(
    blocks: list[Block], context: PageContext
) -> tuple[list[_Evidence], tuple[int, bool] | None]:
    evidence = []
    for block in blocks:
        size = block_size(block.text)
        sentence = _is_sentence_like(block.text, size)
        evidence.append(_Evidence(size, sentence, _own_reason(block, size, sentence)))
    keys = [block_key(b.text) for b in blocks]
    counts = Counter(keys)
    first_seen = {key: len(keys) - 1 - i for i, key in enumerate(reversed(keys))}
    anchor = _headline_anchor(blocks, evidence)
    # Below a sure headline, lines repeated only there are the article's own (a recipe's "Eat
    # every 2-3 hours"); page furniture repeats from the header down.
    content_from = anchor[0] if anchor and anchor[1] else len(blocks)
    main_script = _main_script(blocks, evidence)
    seen: set[str] = set()
    for i, (block, ev) in enumerate(zip(blocks, evidence, strict=True)):
        key = keys[i]
        kept = block.extractor_body is True  # trafilatura's DOM evidence outweighs repetition
        if key in context.template_blocks:
            ev.reason = "template"
        elif ev.reason is None and _script(block.text) not in ("none", main_script):
            if ev.size >= 4:
                ev.reason = "ad"  # a foreign-script line in the middle of a page is an ad
            else:
                ev.sentence = False
        elif (
            ev.reason is None
            and counts[key] > 1
            and not ev.sentence
            and not kept
            and first_seen[key] < content_from
        ):
            ev.reason = "ad" if ev.size >= 4 else "navigation"
        elif ev.sentence and key in seen and not kept:
            ev.reason, ev.sentence = "boilerplate", False  # a second copy of a paragraph
        seen.add(key)
        if ev.reason == "comments" and _COMMENTS_HEAD.match(block.text):
            ev.section_end = True
    return evidence, anchor


def _main_script(blocks: list[Block], evidence: list[_Evidence]) -> str:
    weight: Counter[str] = Counter()
    for block, ev in zip(blocks, evidence, strict=True):
        if ev.sentence and ev.reason is None:
            weight[_script(block.text)] += len(block.text)
    if not weight:
        for block in blocks:
            weight[_script(block.text)] += len(block.text)
    ranked = sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked[0][0] if ranked else "latin"


# --- scoring and the body run ----------------------------------------------------------------

# Weights of the maximum-sum run. A sentence-like block gains its size in words; a short line of
# page furniture costs a little (a menu of 40 items costs ~80, more than any short paragraph
# gains, but one inline "Advertisement" does not split an article); a section end costs a lot.
_FURNITURE_COST = 1.5
_FURNITURE_COST_PER_WORD = 0.25
_REASON_COST = 4.0
_SECTION_END_COST = 25.0


def _score(block: Block, ev: _Evidence) -> float:
    if ev.section_end or ev.reason == "copyright":
        return -_SECTION_END_COST
    if ev.reason is not None:
        return -_REASON_COST
    if block.extractor_body is True:
        return max(ev.size, 8.0)
    if ev.sentence:
        if block.extractor_body is False:
            # trafilatura read the whole page (its DOM) and left this out: page furniture.
            return -_FURNITURE_COST
        return ev.size * (1.0 - block.link_density)
    return -(_FURNITURE_COST + _FURNITURE_COST_PER_WORD * min(ev.size, 20.0))


def _discount_isolated(blocks: list[Block], evidence: list[_Evidence], scores: list[float]) -> None:
    """Teaser cards (headline, author, date, blurb; repeated) put each blurb between page
    furniture; article paragraphs come in runs. A sentence block with no sentence block on either
    side has its gain cut to a quarter (a standfirst between headline and byline is discounted
    too, and it is not body either). HTML blocks trafilatura keeps are exempt (it has seen the
    DOM)."""
    positive = {i for i, value in enumerate(scores) if value > 0}
    for i in sorted(positive):
        if blocks[i].extractor_body is True or i == 0 or i == len(blocks) - 1:
            continue
        if i - 1 not in positive and i + 1 not in positive:
            scores[i] *= 0.25


def _free_list_items(
    blocks: list[Block], evidence: list[_Evidence], scores: list[float], headline: int
) -> None:
    """Below a sure headline, a short line of lower-case words ("1 cup asparagus, 2 eggs") is a
    list item or table row of the article, not a menu entry or a teaser (title case): it costs
    nothing, so a list does not split a recipe or a how-to in two."""
    for i in range(headline + 1, len(blocks)):
        ev = evidence[i]
        if (
            ev.reason is None
            and not ev.sentence
            and ev.size >= 3
            and blocks[i].extractor_body is None
            and _capitalised_share(blocks[i].text) < 0.5
        ):
            scores[i] = 0.0


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


def _headline_anchor(blocks: list[Block], evidence: list[_Evidence]) -> tuple[int, bool] | None:
    """Where the headline stands above the body: a later block that repeats the page's first
    block (a dump starts with the page's <title>, "Headline | Site"), and whether it is the whole
    headline (strong) or only part of it (a recipe card named after the dish, say)."""
    if len(blocks) < 3:
        return None
    page_title = block_key(blocks[0].text)
    headline = _SITE_SUFFIX.sub("", page_title)
    for i in range(1, len(blocks)):
        key = block_key(blocks[i].text)
        if evidence[i].size < 4 or len(key) < 20 or evidence[i].sentence:
            continue
        if key in page_title and any(ev.sentence for ev in evidence[i + 1 : i + 15]):
            return i, key == headline
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
    blocks: list[Block], scores: list[float], evidence: list[_Evidence], first: int, last: int
) -> int:
    """End the body at a section marker (related, share, comments, copyright) when the run before
    it outweighs what follows twice over and what follows is about something else (few of its
    words occur above): it is then another page section (teasers) made of sentences."""
    gained = 0.0
    for i in range(first, last + 1):
        if i > first and evidence[i].reason in _SECTION_MARKERS:
            after = sum(max(value, 0.0) for value in scores[i : last + 1])
            if (
                gained >= 2 * after
                and _topic_overlap(blocks, scores, first, i, last) < _TOPIC_SHIFT
            ):
                return max(j for j in range(first, i) if scores[j] > 0)
        gained += max(scores[i], 0.0)
    return last


# Below this share of shared long words, what follows a section marker is about something else.
# (On the development pages: teaser lists and comments 0.08-0.21, an article resuming after an
# inline "Don't miss" box 0.29-0.36.)
_TOPIC_SHIFT = 0.25
_CONTENT_WORD = re.compile(r"[^\W\d_]{5,}")


def _content_words(blocks: list[Block], scores: list[float], lo: int, hi: int) -> list[str]:
    return [
        w.casefold()
        for j in range(lo, hi)
        if scores[j] > 0
        for w in _CONTENT_WORD.findall(blocks[j].text)
    ]


def _topic_overlap(
    blocks: list[Block], scores: list[float], first: int, cut: int, last: int
) -> float:
    """Share of the long words after `cut` that also occur in the body before it."""
    before = set(_content_words(blocks, scores, first, cut))
    after = _content_words(blocks, scores, cut, last + 1)
    if not after:
        return 0.0
    return sum(w in before for w in after) / len(after)


_SECTION_MARKERS = ("related", "share", "comments", "copyright")


def _comments_start(evidence: list[_Evidence], first: int) -> int:
    """Index of the first comments heading after the body began (everything after is comments)."""
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
    scores = [_score(b, ev) for b, ev in zip(blocks, evidence, strict=True)]
    _discount_isolated(blocks, evidence, scores)
    if anchor and anchor[1]:
        _free_list_items(blocks, evidence, scores, anchor[0])
    first, last = _body_run(scores, anchor)
    last = _trim_tail(blocks, scores, evidence, first, last)
    comments_at = _comments_start(evidence, first) if last >= first else len(blocks)
    decisions = []
    section = ""
    for i, (block, ev) in enumerate(zip(blocks, evidence, strict=True)):
        if ev.reason in ("related", "comments"):
            section = ev.reason
        elif scores[i] > 0:
            section = ""
        decisions.append(_decide(block, ev, i, first, last, comments_at, section, scores[i]))
    _keep_subheadings(blocks, evidence, decisions)
    _mark_image_labels(blocks, decisions, first)
    _mark_title(blocks, evidence, decisions, first)
    _mark_byline(blocks, evidence, decisions, first)
    return decisions


def _decide(
    block: Block,
    ev: _Evidence,
    i: int,
    first: int,
    last: int,
    comments_at: int,
    section: str,
    score: float,
) -> Decision:
    if block.tag == "figcaption" or ev.reason == "caption":
        return Decision("caption", "caption", ["a media caption"])
    if i >= comments_at and ev.reason in (None, "navigation", "boilerplate"):
        return Decision("removed", section or "comments", ["after the comments heading"])
    if ev.reason == "credit":
        return Decision("caption", "credit", ["photo credit"])
    if ev.reason is not None:
        return Decision("removed", ev.reason)
    if block.tag == "h1":
        return Decision("removed", "title", ["the page's main heading"])
    if first <= i <= last and score > 0:
        return Decision("body", evidence=["sentence-like block in the densest run"])
    if block.extractor_body and score > 0:
        return Decision("body", evidence=["trafilatura keeps it"])
    if section:
        return Decision("removed", section, [f"under a {section} heading"])
    if first <= i <= last and block.extractor_body is None and ev.size >= 2:
        # A dump's short lines inside the article's run: subheadings, list items, table rows.
        return Decision("body", evidence=["inside the densest run"])
    if i < first:
        return Decision("removed", "navigation", ["before the article body"])
    return Decision("removed", "boilerplate", ["outside the article body"])


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
        if _is_heading_shaped(text, evidence[i].size) and blocks[i].link_density < 0.5:
            decisions[i] = Decision("body", evidence=["subheading between body paragraphs"])


def _mark_title(
    blocks: list[Block], evidence: list[_Evidence], decisions: list[Decision], first: int
) -> None:
    """The headline: the heading-shaped block nearest above the body that the page repeats (its
    <title> in the first block, a breadcrumb's last step) or that HTML marks as its main heading.
    Other furniture copies of it (the "Headline | Site" line of a dump) are removed as `title`."""
    keys = [block_key(b.text) for b in blocks]
    crumbs = [keys[j] for j, ev in enumerate(evidence) if ev.reason == "breadcrumb"]
    for i in range(min(first, len(blocks)) - 1, max(first - 40, 0) - 1, -1):
        block, ev = blocks[i], evidence[i]
        if decisions[i].kind != "removed" or ev.reason not in (None, "ad", "navigation"):
            continue
        if not (block.tag == "h1" or (ev.size >= 3 and _is_heading_shaped(block.text, ev.size))):
            continue
        repeated = any(keys[i] in keys[j] for j in range(i)) or any(keys[i] in c for c in crumbs)
        if repeated or block.tag in ("h1", "title"):
            decisions[i] = Decision("title", "title", ["headline before the body"])
            _mark_title_copies(keys, decisions, i)
            return


def _mark_title_copies(keys: list[str], decisions: list[Decision], title: int) -> None:
    for j, key in enumerate(keys):
        if j == title or keys[title] not in key or decisions[j].kind != "removed":
            continue
        if decisions[j].reason in ("navigation", "ad", "boilerplate") and len(key) < 3 * len(
            keys[title]
        ):
            decisions[j] = Decision("removed", "title", ["a copy of the headline"])


def _mark_byline(
    blocks: list[Block], evidence: list[_Evidence], decisions: list[Decision], first: int
) -> None:
    """The byline: "By Name" near the start of the body (the first wins; later ones are removed
    as `byline`)."""
    found = False
    for i in range(len(blocks)):
        if decisions[i].reason != "byline" or abs(i - first) > 15:
            continue
        decisions[i] = Decision("removed", "byline") if found else Decision("byline", "byline")
        found = True


_CREDIT_PARTS = re.compile(r"\S\s*[|/]\s*\S")


def _mark_image_labels(blocks: list[Block], decisions: list[Decision], first: int) -> None:
    """A block right above a photo credit is the image's caption or label: above the body a
    short label ("Chuck Hagel"), inside it a caption the credit line belongs to."""
    for i in range(len(blocks) - 1):
        following = decisions[i + 1]
        if following.kind != "caption" or following.reason != "credit":
            continue
        decision, size = decisions[i], block_size(blocks[i].text)
        if i < first:
            label = decision.reason in ("navigation", "boilerplate") and size <= 12
            label = label and not _TERMINAL.search(blocks[i].text)
        else:  # a photographer's credit ("Name | Agency"), not a bare agency line ("Reuters")
            credit = blocks[i + 1].text
            label = decision.kind == "body" and size <= 60 and bool(_CREDIT_PARTS.search(credit))
        if label:
            decisions[i] = Decision("caption", "caption", ["above a photo credit"])


# --- publication date ------------------------------------------------------------------------


def dateline_of(blocks: list[Block], decisions: list[Decision]) -> str | None:
    """The article's own date: a date block between the headline and the body, or next to the
    byline. A date above the headline is the page's render date (a `date_header`), never this."""
    anchors = [i for i, d in enumerate(decisions) if d.kind in ("title", "byline")]
    body = [i for i, d in enumerate(decisions) if d.kind == "body"]
    if not anchors or not body:
        return None
    low, high = min(anchors), max(body[0], max(anchors) + 2)
    for i in range(low + 1, min(high, len(blocks))):
        if decisions[i].kind != "removed" or decisions[i].reason not in ("date_header", "metadata"):
            continue
        parsed = parse_date(blocks[i].text)
        if parsed:
            decisions[i] = Decision("removed", "metadata", ["the article's dateline"])
            return parsed
    return None


def parse_date(text: str) -> str | None:
    """ISO date (YYYY-MM-DD) of the first date in a block, or None."""
    match = _DATE_ANY.search(text)
    if not match:
        return None
    from dateutil import parser as date_parser

    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", match.group(0))
    cleaned = re.sub(r"[年月]", "-", cleaned).replace("日", "")
    try:
        return date_parser.parse(cleaned, dayfirst=False, fuzzy=True).date().isoformat()
    except (ValueError, OverflowError):
        return None


# --- assembling the extraction ----------------------------------------------------------------


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
        span = TextSpan(block.text, block.start, block.end)
        if decision.kind == "body":
            paragraphs.append(span)
        elif decision.kind == "title" and title is None:
            title, title_span = block.text, Span(block.start, block.end)
        elif decision.kind == "byline" and byline is None:
            byline, byline_span = block.text, Span(block.start, block.end)
        elif decision.kind == "caption" and decision.reason == "caption":
            captions.append(span)
        elif decision.kind == "caption":
            _split_credit(block, captions, removed)
        else:
            reason = decision.reason if decision.reason in REMOVAL_REASONS else "boilerplate"
            removed.append(RemovedSpan(block.start, block.end, reason))
    return Extraction(
        capture_id=capture_id,
        title=title,
        byline=byline,
        published_at=published_at,
        language=language,
        paragraphs=paragraphs,
        captions=sorted(captions, key=lambda c: c.start),
        title_span=title_span,
        byline_span=byline_span,
        removed=sorted(removed, key=lambda r: r.start),
        extractor_version=EXTRACTOR_VERSION,
    )


def _credit_split(text: str) -> int | None:
    """Where a photo credit glued to a caption ends ("© X/Getty ImagesUS Secretary...")."""
    matches = list(_AGENCY.finditer(text[:200]))
    if not matches or not _CREDIT.match(text):
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


def detect_language(texts: list[str]) -> str:
    """ISO 639-1 code of the body (py3langid: a fixed model, so deterministic); `und` when there
    is too little text to tell."""
    sample = " ".join(texts)[:500]  # enough for a confident guess; langid is linear in length
    if block_size(sample) < 5:
        return "und"
    import py3langid

    code, _ = py3langid.classify(sample)
    return code


def extract_text_dump(text: str, capture_id: str, context: PageContext | None = None) -> Extraction:
    """Extract the article from a plain-text page dump."""
    blocks = split_blocks(text)
    decisions = classify_blocks(blocks, context or PageContext())
    published_at = dateline_of(blocks, decisions)
    body = [b.text for b, d in zip(blocks, decisions, strict=True) if d.kind == "body"]
    return extraction_from_blocks(
        capture_id, blocks, decisions, language=detect_language(body), published_at=published_at
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
    """Extract one capture of either form."""
    from newsvariants.ingest import decode_capture

    decoded = decode_capture(data, capture.encoding)
    if capture.format == "html":
        from newsvariants.render import extract_html

        return extract_html(decoded, capture.capture_id, context or PageContext())
    return extract_text_dump(decoded, capture.capture_id, context)


def debug_extract(path: Path, *, fmt: str | None, source: str, raw: Path | None) -> dict[str, Any]:
    """`newsvariants extract FILE`: one capture -> a JSON-ready dict (offsets into its text)."""
    from newsvariants.ingest import (
        CaptureInput,
        capture_record,
        capture_text,
        load_captures,
        sniff_format,
    )

    data = path.read_bytes()
    fmt = fmt or sniff_format(data)
    if fmt not in ("text", "html"):
        raise NewsVariantsError(f"{path}: extract takes one text or html capture, not {fmt}")
    capture = capture_record(CaptureInput(data, str(path), source, None, None, fmt))
    context = PageContext()
    if raw is not None:
        peers = [c for c in load_captures(raw) if c.source == source and c.format == "text"]
        texts = {c.capture_id: [b.text for b in split_blocks(capture_text(raw, c))] for c in peers}
        if capture.format == "text" and capture.capture_id not in texts:
            from newsvariants.ingest import decode_capture

            texts[capture.capture_id] = [
                b.text for b in split_blocks(decode_capture(data, capture.encoding))
            ]
        templates = site_templates(texts, {cid: source for cid in texts})
        context = PageContext(templates.get(source, frozenset()))
    extraction = extract_capture(capture, data, context)
    result = asdict(extraction)
    result["encoding"] = capture.encoding
    result["format"] = capture.format
    return result
