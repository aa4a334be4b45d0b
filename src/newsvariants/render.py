"""HTML -> the page's visible text as blocks: the one deterministic rendering step whose output
the offsets of an HTML capture index (so `validate` can recompute it from raw/).

Then `extract_html` labels those blocks with the same classifier as text dumps, with trafilatura's
judgement of the page (which blocks it keeps as the article, comments excluded) and its metadata
as strong evidence.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import lxml.html
from lxml import etree

from newsvariants.errors import NewsVariantsError
from newsvariants.extract import (
    DATE_YEARS,
    Block,
    Decision,
    PageContext,
    block_key,
    block_size,
    classify_blocks,
    dateline_of,
    detect_language,
    extraction_from_blocks,
)
from newsvariants.records import Extraction

_SKIP = {
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "head",
    "iframe",
    "object",
    "canvas",
    "select",
    "option",
    "button",
    "form-hidden",
}
_BLOCK = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "nav",
    "aside",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "td",
    "th",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "address",
    "form",
    "fieldset",
    "legend",
    "details",
    "summary",
    "caption",
    "hr",
    "br",
    "body",
    "html",
    "label",
    "time-block",
}
_SPACE = re.compile(r"\s+")
_WORDS = re.compile(r"\w+")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


@dataclass(frozen=True)
class RenderedPage:
    text: str
    blocks: list[Block]


class _Renderer:
    def __init__(self) -> None:
        self.blocks: list[tuple[str, str, float, str]] = []
        self._parts: list[tuple[str, bool]] = []  # (text, inside a link)
        self._tag = "p"
        self._hints = ""

    def flush(self) -> None:
        text = _SPACE.sub(" ", "".join(t for t, _ in self._parts)).strip()
        if text:
            linked = len(_SPACE.sub(" ", "".join(t for t, a in self._parts if a)).strip())
            self.blocks.append((text, self._tag, min(1.0, linked / len(text)), self._hints))
        self._parts = []

    def walk(self, root: etree._Element) -> None:
        """Every node in document order. A stack of pending steps, not recursion: a page may nest
        2,048 elements deep (libxml2's limit), twice Python's recursion limit."""
        steps: list[tuple[Any, ...]] = [(self._enter, root, False, "")]
        while steps:
            step, *args = steps.pop()
            step(*args, steps)

    def _enter(
        self, node: etree._Element, in_link: bool, hints: str, steps: list[tuple[Any, ...]]
    ) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        tag = tag.lower()
        if tag in _SKIP or not tag:
            self._tail(node, in_link)
            return
        if node.get("hidden") is not None or "display:none" in (node.get("style") or "").replace(
            " ", ""
        ):
            self._tail(node, in_link)
            return
        if tag == "br":
            # A line break inside its container: it ends a block, but the text after it is still
            # the container's (a "p" or an article "div"), not an element of its own. Named "br",
            # the lead of `<div>Lead.<br>Second.<br>Third.</div>` and the lines after it looked
            # like blocks of different places (and "br" like no paragraph element at all).
            self.flush()
            self._tail(node, in_link)
            return
        own = " ".join(filter(None, [node.get("class"), node.get("id")]))
        node_hints = (hints + " " + own).strip()[-200:] if own else hints
        is_block = tag in _BLOCK
        if is_block:
            self.flush()
            self._tag, self._hints = tag, node_hints
        if node.text:
            self._parts.append((node.text, in_link or tag == "a"))
        # pushed in reverse: the children run first, in order, then the element's end
        steps.append((self._leave, node, in_link, is_block))
        for child in reversed(node):
            if is_block:
                steps.append((self._after_child, tag, node_hints))
            steps.append((self._enter, child, in_link or tag == "a", node_hints))

    def _after_child(self, tag: str, hints: str, steps: list[tuple[Any, ...]]) -> None:
        # text that follows a child block inside a block belongs to the outer block
        if not self._parts:
            self._tag, self._hints = tag, hints

    def _leave(
        self, node: etree._Element, in_link: bool, is_block: bool, steps: list[tuple[Any, ...]]
    ) -> None:
        if is_block:
            self.flush()
        self._tail(node, in_link)

    def _tail(self, node: etree._Element, in_link: bool) -> None:
        if node.tail:
            self._parts.append((node.tail, in_link))


class UnrenderablePage(NewsVariantsError):
    """libxml2 stopped reading the page at one of its limits: rendering it would silently cut
    the text there."""


def parse_html(html: str) -> etree._Element | None:
    """The page's element tree (None when there is no document to read).

    libxml2 stops at 256 nested elements unless told `huge_tree` (then at 2,048; old pages with
    unclosed <font> or <b> tags nest that deep) and returns the tree it has, without an error:
    the rest of the page was lost without a word. A page beyond the raised limit is refused
    with the reason, and the build quarantines it."""
    # lxml refuses a str that carries an encoding declaration (XHTML's <?xml ... ?>); the text is
    # already decoded, so the declaration says nothing and is dropped before parsing.
    html = _XML_DECLARATION.sub("", html, count=1)
    parser = lxml.html.HTMLParser(huge_tree=True)
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    limits = [e for e in parser.error_log if e.type_name == "ERR_RESOURCE_LIMIT"]
    if limits:
        reason = limits[0].message.split(", use XML_PARSE_HUGE")[0]  # it is in use already
        raise UnrenderablePage(
            f"libxml2 stopped reading the page at line {limits[0].line} ({reason}): "
            "the rest of its text would be lost"
        )
    return root


def render_html(html: str) -> RenderedPage:
    """Visible text blocks of a page, one a line, with offsets into the joined text."""
    return render_tree(parse_html(html) if html.strip() else None)


def render_tree(root: etree._Element | None) -> RenderedPage:
    """`render_html` of a parsed page (None: no document)."""
    if root is None:
        return RenderedPage("", [])
    renderer = _Renderer()
    renderer.walk(root)
    renderer.flush()
    blocks: list[Block] = []
    pieces: list[str] = []
    pos = 0
    for text, tag, density, hints in renderer.blocks:
        blocks.append(Block(len(blocks), text, pos, pos + len(text), tag, density, hints))
        pieces.append(text)
        pos += len(text) + 1
    return RenderedPage("\n".join(pieces), blocks)


_NGRAM = 3


def _ngrams(key: str) -> set[tuple[str, ...]]:
    words = _WORDS.findall(key)
    return {tuple(words[i : i + _NGRAM]) for i in range(max(len(words) - _NGRAM + 1, 0))}


def _table_cells(line: str) -> list[str] | None:
    """The cells of one of trafilatura's table rows (a line of keys: "| 1 | kyle busch | 5040 |"),
    or None when the line is not a table row."""
    if not line.startswith("|") or not line.rstrip().endswith("|"):
        return None
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    cells = [cell for cell in cells if cell]
    if all(not cell.strip("-: ") for cell in cells):
        return []  # the rule under the header row ("|---|---|"): a row of no cells
    return cells


def _match_table_rows(blocks: list[Block], keys: list[str], lines: list[str]) -> list[str]:
    """trafilatura writes a table row as one line, "| a | b | c |"; the rendering gives each cell
    a block of its own, mostly too short for word trigrams ("1", "Kyle Busch"), so a table of the
    article was judged cell by cell as furniture (and a long one split the article in two). A row
    is matched as the run of consecutive blocks whose keys are its cells in order (each row used
    once). Returns the lines left to match: all but the rows matched and the header rules."""
    by_first: dict[str, list[int]] = {}
    cells_of: dict[int, list[str]] = {}
    for n, line in enumerate(lines):
        cells = _table_cells(line)
        if cells:
            cells_of[n] = cells
            by_first.setdefault(cells[0], []).append(n)
        elif cells is not None:
            cells_of[n] = cells  # a header rule: nothing to match
    if not by_first:
        return lines
    matched: set[int] = {n for n, cells in cells_of.items() if not cells}
    i = 0
    while i < len(blocks):
        candidates = by_first.get(keys[i], [])
        row = next((n for n in candidates if keys[i : i + len(cells_of[n])] == cells_of[n]), None)
        if row is None:
            i += 1
            continue
        candidates.remove(row)
        matched.add(row)
        width = len(cells_of[row])
        for block in blocks[i : i + width]:
            block.extractor_body = True
        i += width
    return [line for n, line in enumerate(lines) if n not in matched]


def _match_lines(blocks: list[Block], lines: list[str]) -> None:
    """Exact matches first (each of trafilatura's lines used once); then the rest by word
    trigrams against the lines left over, so a summary bullet that repeats a body sentence is not
    taken for the sentence it repeats. Table rows are matched cell by cell first."""
    keys = [block_key(b.text) for b in blocks]
    lines = _match_table_rows(blocks, keys, lines)
    left = Counter(lines)
    for block, key in zip(blocks, keys, strict=True):
        if block.extractor_body:
            continue
        block.extractor_body = left[key] > 0
        if block.extractor_body:
            left[key] -= 1
    left_grams = set().union(*(_ngrams(line) for line, n in left.items() if n > 0))
    for block, key in zip(blocks, keys, strict=True):
        if block.extractor_body:
            continue
        grams = _ngrams(key)
        block.extractor_body = bool(grams) and sum(g in left_grams for g in grams) >= len(grams) / 2


# htmldate's parameters as trafilatura sets them for extensive=False, but for the latest date:
# the last one `extract.parse_date` accepts, not the clock's (trafilatura's default is today: a
# page dated after the day of the build lost its date, and the same raw/ built later gave
# another corpus).
_DATE_CONFIG = {
    "original_date": True,
    "extensive_search": False,
    "max_date": f"{DATE_YEARS[-1]}-12-31",
}


def markup_date(root: etree._Element | None) -> str | None:
    """The publication date the page's markup states (YYYY-MM-DD), or None: htmldate on a copy
    of the page that holds only its metadata: `<meta>` tags, JSON-LD, the canonical link, and
    `<time datetime>` attributes without their text.

    Why not htmldate on the whole page: when the markup has no date it falls back to text,
    even with extensive_search off: the text of elements whose class says "date" (a page's
    render-date header, "Mon, 25 Dec 2023" on a 2020 article), any timestamp in the HTML
    source (a script's build time, a day after the article's `<time>`) and, in htmldate 1.11,
    any bare date in the text; so the result depended on the installed htmldate too. A date in
    the text is the article's only where it stands (`dateline_of`: between headline and body),
    which htmldate does not see. The copyright year (`itemprop="copyrightYear"`) is dropped:
    htmldate turns it into January 1st of that year, a day the article was not published."""
    if root is None:
        return None
    import htmldate

    return htmldate.find_date(_metadata_only(root), **_DATE_CONFIG)


def url_date(url: str | None) -> str | None:
    """The date a page's URL is dated by (`/2019/11/18/`, `/2019-11-18-...`: year, month and day
    in that order, as htmldate reads them), YYYY-MM-DD, or None. News sites put the article's
    publication day in its path; on the 61 extraction-dev pages, the 16 URLs dated so agree with
    every date the page states (its markup's, 16 of 16, and its dateline's, 2 of 2)."""
    if not url:
        return None
    import htmldate

    # htmldate reads a URL's date first (before any markup); an empty page has nothing else
    return htmldate.find_date("<html><body></body></html>", url=url, **_DATE_CONFIG)


def _metadata_only(root: etree._Element) -> etree._Element:
    """A new page of copies of `root`'s metadata elements (the tree itself is left unchanged)."""
    element = lxml.html.Element
    head, body = element("head"), element("body")
    for node in root.iter("meta", "link", "script", "time"):
        tag, attrs = node.tag, dict(node.attrib)
        if tag == "meta" and (attrs.get("itemprop") or "").lower() != "copyrightyear":
            head.append(element("meta", attrs))
        elif tag == "link" and (attrs.get("rel") or "").lower() == "canonical":
            head.append(element("link", attrs))
        elif tag == "script" and (attrs.get("type") or "").lower() == "application/ld+json":
            script = element("script", attrs)
            script.text = node.text
            head.append(script)
        elif tag == "time" and attrs.get("datetime"):
            body.append(element("time", attrs))
    page = element("html")
    page.extend([head, body])
    return page


def _trafilatura_evidence(html: str, blocks: list[Block]) -> dict[str, str | None]:
    """Mark the blocks trafilatura keeps as the article (comments excluded) and return its
    title. A block is kept when it is one of trafilatura's lines or when half its word
    trigrams occur in trafilatura's text (the two renderings split some elements differently).
    Blocks stay unjudged (None) when trafilatura finds no article at all."""
    body, title = trafilatura_article(html)
    if body and body.strip():
        _match_lines(blocks, [block_key(line) for line in body.split("\n") if line.strip()])
    return {"title": title}


def trafilatura_article(html: str) -> tuple[str | None, str | None]:
    """trafilatura's judgement of a page: the text of its article (comments excluded; None when
    it finds none) and the page's title from its metadata.

    One run for both (JSON output): a separate `extract_metadata` parsed the page again (~2 ms
    of the ~38 of a page); bodies and titles are the same (61 real and 470 generated pages
    compared). The metadata's date is not used (`markup_date` is); trafilatura looks for one
    anyway, and this config keeps that search short (no extensive search) and independent of
    the day of the build."""
    import trafilatura

    found = trafilatura.extract(
        html,
        output_format="json",
        with_metadata=True,
        date_extraction_params=_DATE_CONFIG,
        include_comments=False,
        include_tables=True,
        favor_precision=False,
        deduplicate=False,
    )
    if found is None:  # no article: the title is the metadata's alone
        meta = trafilatura.extract_metadata(html, date_config=_DATE_CONFIG)
        return None, getattr(meta, "title", None) if meta else None
    document = json.loads(found)
    return document.get("text"), document.get("title")


def extract_html(html: str, capture_id: str, context: PageContext) -> Extraction:
    """Extract the article from an HTML page: render, add trafilatura's evidence, classify with
    the same block classifier as text dumps."""
    root = parse_html(html) if html.strip() else None
    stated = markup_date(root)
    page = render_tree(root)
    meta = _trafilatura_evidence(html, page.blocks)
    decisions = classify_html_blocks(page.blocks, context)
    _mark_meta_title(page.blocks, decisions, meta["title"])
    body = [b.text for b, d in zip(page.blocks, decisions, strict=True) if d.kind == "body"]
    language = detect_language(body)
    published_at = dateline_of(page.blocks, decisions, language)  # also labels the dateline
    return extraction_from_blocks(
        capture_id,
        page.blocks,
        decisions,
        language=language,
        published_at=stated or published_at,
    )


# A safety net against a collapse of the body (`classify_html_blocks`): the body chosen with
# trafilatura's judgement may be at most this many times smaller than the body the page's own
# shape supports, when that one holds at least this many words.
_COLLAPSE_RATIO = 2.0
_COLLAPSE_LEAST_WORDS = 50.0


def _body_words(blocks: list[Block], decisions: list[Decision]) -> float:
    return sum(
        block_size(b.text) for b, d in zip(blocks, decisions, strict=True) if d.kind == "body"
    )


def classify_html_blocks(blocks: list[Block], context: PageContext) -> list[Decision]:
    """`classify_blocks` with a safety net against a collapse of the body.

    A sentence-like block that trafilatura left out, outside the containers of the blocks it
    keeps, costs instead of gaining. When trafilatura keeps only a fragment of the article (a
    caption, one paragraph, a box in another container: it happens on markup it misreads), every
    other paragraph is then lost: a catastrophic recall failure, on a page whose shape plainly
    shows an article. So the page is classified a second time with "left out" taken as no
    evidence (what trafilatura keeps still counts; everything else is judged by its shape, as in a
    dump); when the first body is less than half of that one, trafilatura's judgement is the
    outlier and the second body is kept. On pages where trafilatura reads the article right, its
    "left out" costs little body (the bodies are alike) and its judgement stands."""
    decisions = classify_blocks(blocks, context)
    if not any(b.extractor_body is False for b in blocks):
        return decisions  # trafilatura found no article: the decisions are shape-based already
    # copies: the page's blocks keep trafilatura's judgement for what follows
    shape_blocks = [
        replace(b, extractor_body=None) if b.extractor_body is False else b for b in blocks
    ]
    shape_decisions = classify_blocks(shape_blocks, context)
    shape_words = _body_words(blocks, shape_decisions)
    if shape_words >= _COLLAPSE_LEAST_WORDS and (
        _COLLAPSE_RATIO * _body_words(blocks, decisions) < shape_words
    ):
        return shape_decisions
    return decisions


def _mark_meta_title(blocks: list[Block], decisions: list[Decision], title: str | None) -> None:
    """The page's own headline (trafilatura's title metadata) wins over the shape-based guess."""
    if not title:
        return
    title_key = block_key(title)
    matches = [
        i
        for i, b in enumerate(blocks)
        if block_key(b.text) == title_key and decisions[i].kind != "body"
    ]
    if not matches:
        return
    for i, decision in enumerate(decisions):
        if decision.kind == "title":
            decisions[i] = Decision("removed", "title", ["another copy of the headline"])
    chosen = next((i for i in matches if blocks[i].tag == "h1"), matches[-1])
    decisions[chosen] = Decision("title", "title", ["trafilatura's title metadata"])
