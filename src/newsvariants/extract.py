"""Stage `extract`: one capture -> title, byline, date, language, body paragraphs, captions and the
removed spans, each with a reason. Offsets index the capture's text (`text_of_capture`).

Both forms go through one block classifier: a text dump's blocks are its lines; an HTML page is
first rendered to visible-text blocks (see `render`), which carry extra evidence (element, link
density, class/id hints, trafilatura's own judgement). The classifier labels every block from
evidence inside it (shape, patterns) and outside it (position, repetition in the page, recurrence
in other captures of the same source, script mismatch with the page).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from newsvariants.errors import NewsVariantsError
from newsvariants.normalize import fold
from newsvariants.records import Capture, Extraction, RemovedSpan, Span, TextSpan

EXTRACTOR_VERSION = "0.1"

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


def block_key(text: str) -> str:
    """Key for recognising the same block across pages (folded, lower-cased)."""
    return fold(text).lower()


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


# --- block evidence -------------------------------------------------------------------------

_MONTHS = (
    r"jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t(ember)?)?|"
    r"oct(ober)?|nov(ember)?|dec(ember)?"
)
_WEEKDAYS = r"mon(day)?|tue(s(day)?)?|wed(nesday)?|thu(rs(day)?)?|fri(day)?|sat(urday)?|sun(day)?"
_DATE_ONLY = re.compile(
    rf"^(({_WEEKDAYS})\s*,?\s*)?((\d{{1,2}}(st|nd|rd|th)?\s+({_MONTHS})\.?|({_MONTHS})\.?\s+\d{{1,2}}"
    rf"(st|nd|rd|th)?)\s*,?\s*\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}})"
    rf"(\s*,?\s*(at\s+)?\d{{1,2}}:\d{{2}}(\s*[ap]\.?m\.?)?(\s*[a-z]{{2,4}})?)?\.?$",
    re.IGNORECASE,
)
_COPYRIGHT = re.compile(r"^(©|\(c\)|copyright\b)|all rights reserved", re.IGNORECASE)
_CREDIT = re.compile(
    r"^(©|photo(graph)?\s*(:|by\b)|image\s*(:|by\b)|credit\s*:|picture\s*:|source\s*:\s*getty)",
    re.IGNORECASE,
)
_AGENCY = re.compile(
    r"(Getty Images|Reuters|AFP|AP Photo|Associated Press|EPA|Sputnik|TASS|Shutterstock|"
    r"Bloomberg|Xinhua|Anadolu|Alamy|iStock)",
)
_RELATED_HEAD = re.compile(
    r"^(check also|related( (stories|articles|posts|news|content|coverage))?|read (more|also|next)"
    r"|see also|more (from|stories|news|on this)|you (may|might) also (like|be interested)"
    r"|recommended( for you)?|most (read|popular|viewed)|trending( now)?|popular (posts|stories)"
    r"|latest (news|stories|posts)|also read|further reading|more in)\b.{0,40}$",
    re.IGNORECASE,
)
_COMMENTS_HEAD = re.compile(
    r"^(leave a (reply|comment)|post a comment|(\d+\s+)?comments?(\s*\(\d+\))?|add (a )?comment"
    r"|join the (conversation|discussion)|your email address will not be published|"
    r"discussion|reader comments)\b.{0,60}$",
    re.IGNORECASE,
)
_SHARE = re.compile(
    r"^(share( this( article| story)?)?( on)?|tweet|email|print|facebook|twitter|whatsapp|"
    r"linkedin|reddit|pinterest|telegram|copy link|follow us( on)?)\b[\s:|,/a-z]{0,60}$",
    re.IGNORECASE,
)
_SUBSCRIBE = re.compile(
    r"\b(subscribe|sign up|newsletter|log ?in|register|create (a free )?account)\b",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^(by|von|par|por|di)\s+[A-Z][\w.'-]+(\s+[A-Z][\w.'-]+){0,4}(\s*[,|].*)?$")
_BREADCRUMB_SEP = re.compile(r"\s(/|>|»|›|\|)\s")
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’»)\]]*$|[\"”’»]$")
_WORD = re.compile(r"\w+", re.UNICODE)
_LATIN = re.compile(r"[A-Za-z]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def _script(text: str) -> str:
    latin = len(_LATIN.findall(text))
    cyrillic = len(_CYRILLIC.findall(text))
    if latin == cyrillic == 0:
        return "none"
    return "latin" if latin >= cyrillic else "cyrillic"


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _is_sentence_like(text: str) -> bool:
    return _words(text) >= 8 and bool(_SENTENCE_END.search(text))


def _is_body_candidate(block: Block) -> bool:
    if block.extractor_body is False and block.link_density > 0.5:
        return False
    if _CREDIT.match(block.text) or (_COPYRIGHT.search(block.text) and _words(block.text) < 25):
        return False
    words = _words(block.text)
    return words >= 12 or (_is_sentence_like(block.text) and words >= 6)


def _credit_split(text: str) -> int | None:
    """Where a photo credit glued to a caption ends ("© X/Getty ImagesUS Secretary...")."""
    matches = list(_AGENCY.finditer(text[:200]))
    if not matches or not _CREDIT.match(text):
        return None
    end = matches[-1].end()
    rest = text[end:]
    return end if rest.strip() else None


# --- the classifier --------------------------------------------------------------------------


def classify_blocks(blocks: list[Block], context: PageContext) -> list[Decision]:
    """Label every block. Evidence from the block, its neighbours, the page and the site."""
    decisions = [Decision("removed", "boilerplate") for _ in blocks]
    if not blocks:
        return decisions
    page_script = Counter()
    for block in blocks:
        if _is_body_candidate(block):
            page_script[_script(block.text)] += len(block.text)
    main_script = page_script.most_common(1)[0][0] if page_script else "latin"
    repeats = Counter(block_key(b.text) for b in blocks)

    body_idx = [i for i, b in enumerate(blocks) if _is_body_candidate(b)]
    first_body = body_idx[0] if body_idx else len(blocks)
    end_marker = _first_end_marker(blocks, first_body)
    last_body = max((i for i in body_idx if i < end_marker), default=first_body)

    for i, block in enumerate(blocks):
        decisions[i] = _decide(
            block, i, blocks, first_body, last_body, end_marker, main_script, repeats, context
        )
    _mark_image_labels(blocks, decisions, first_body)
    _mark_title(blocks, decisions, first_body)
    return decisions


def _first_end_marker(blocks: list[Block], first_body: int) -> int:
    for i in range(first_body, len(blocks)):
        text = blocks[i].text
        if (
            _RELATED_HEAD.match(text)
            or _COMMENTS_HEAD.match(text)
            or (_COPYRIGHT.search(text) and _words(text) < 25)
        ):
            return i
    return len(blocks)


def _tail_reason(blocks: list[Block], i: int, end_marker: int) -> str:
    """Reason for a block after the article's end: the section heading it falls under."""
    reason = "boilerplate"
    for j in range(end_marker, i + 1):
        text = blocks[j].text
        if _RELATED_HEAD.match(text):
            reason = "related"
        elif _COMMENTS_HEAD.match(text):
            reason = "comments"
        elif _COPYRIGHT.search(text) and _words(text) < 25:
            reason = "copyright" if j == i else reason
    return reason


def _decide(
    block: Block,
    i: int,
    blocks: list[Block],
    first_body: int,
    last_body: int,
    end_marker: int,
    main_script: str,
    repeats: Counter[str],
    context: PageContext,
) -> Decision:
    text = block.text
    key = block_key(text)
    if key in context.template_blocks:
        return Decision("removed", "template", ["recurs in other captures of this source"])
    if _DATE_ONLY.match(text.replace(" ,", ",")):
        return Decision("removed", "date_header", ["date-only block"])
    script = _script(text)
    if script not in ("none", main_script):
        return Decision("removed", "ad", [f"{script} block in a {main_script} page"])
    if repeats[key] > 1 and not _is_sentence_like(text):
        return Decision("removed", "ad", ["short block repeated in the page"])
    if i >= end_marker:
        return Decision("removed", _tail_reason(blocks, i, end_marker), ["after the article's end"])
    if _COPYRIGHT.search(text) and _words(text) < 25 and not _CREDIT.match(text):
        return Decision("removed", "copyright")
    if _CREDIT.match(text) or (_AGENCY.search(text) and _words(text) <= 6 and i < first_body):
        return Decision("caption", "credit", ["photo credit"])
    if len(_BREADCRUMB_SEP.findall(text)) >= 2 and not _SENTENCE_END.search(text):
        return Decision("removed", "breadcrumb", ["path separators"])
    if _SHARE.match(text):
        return Decision("removed", "share")
    if _BYLINE.match(text) and _words(text) <= 12:
        return Decision("byline", "byline")
    if first_body <= i <= last_body and _is_body_candidate(block):
        return Decision("body")
    if i < first_body:
        if _SUBSCRIBE.search(text) and _words(text) < 15:
            return Decision("removed", "subscribe")
        return Decision("removed", "navigation", ["before the article body"])
    if _SUBSCRIBE.search(text):
        return Decision("removed", "subscribe")
    if first_body <= i <= last_body:
        return Decision("removed", "boilerplate", ["short non-sentence block inside the body"])
    return Decision("removed", "boilerplate", ["after the article body"])


def _mark_title(blocks: list[Block], decisions: list[Decision], first_body: int) -> None:
    """The headline: the last heading-shaped block before the body, preferably one the breadcrumb
    or another block repeats (a mirror's breadcrumb ends in the title)."""
    crumbs = [b.text for b, d in zip(blocks, decisions, strict=True) if d.reason == "breadcrumb"]
    for i in range(first_body - 1, -1, -1):
        block, decision = blocks[i], decisions[i]
        if decision.kind != "removed" or decision.reason not in ("navigation", "boilerplate"):
            continue
        text = block.text
        words = _words(text)
        heading_shaped = 3 <= words <= 30 and not text.endswith((".", ":"))
        in_crumb = any(block_key(text) in block_key(c) for c in crumbs)
        if heading_shaped and (in_crumb or block.tag in ("h1", "title")):
            decisions[i] = Decision("title", "title", ["headline before the body"])
            return


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
            cut = _credit_split(block.text)
            if cut is None:
                removed.append(RemovedSpan(block.start, block.end, "credit"))
                continue
            removed.append(RemovedSpan(block.start, block.start + cut, "credit"))
            rest = block.text[cut:]
            lead = len(rest) - len(rest.lstrip())
            captions.append(TextSpan(rest.strip(), block.start + cut + lead, block.end))
        else:
            removed.append(RemovedSpan(block.start, block.end, decision.reason or "boilerplate"))
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


def _mark_image_labels(blocks: list[Block], decisions: list[Decision], first_body: int) -> None:
    """A short block right before a photo credit, above the body, is the image's label."""
    for i in range(min(first_body, len(blocks)) - 1):
        nxt = decisions[i + 1]
        if nxt.kind == "caption" and decisions[i].reason in ("navigation", "boilerplate"):
            if _words(blocks[i].text) <= 12 and not _SENTENCE_END.search(blocks[i].text):
                decisions[i] = Decision("caption", "caption", ["image label above a credit"])


def detect_language(texts: list[str]) -> str:
    """ISO 639-1 code of the body (py3langid), `und` when there is too little text."""
    sample = " ".join(texts)[:5000]
    if _words(sample) < 5:
        return "und"
    import py3langid

    code, _ = py3langid.classify(sample)
    return code


def extract_text_dump(text: str, capture_id: str, context: PageContext | None = None) -> Extraction:
    """Extract the article from a plain-text page dump."""
    blocks = split_blocks(text)
    decisions = classify_blocks(blocks, context or PageContext())
    body = [b.text for b, d in zip(blocks, decisions, strict=True) if d.kind == "body"]
    return extraction_from_blocks(capture_id, blocks, decisions, language=detect_language(body))


def text_of_capture(capture: Capture, data: bytes) -> str:
    """The text every offset of this capture indexes: the decoded dump, or the rendered page."""
    from newsvariants.ingest import decode_capture

    decoded = decode_capture(data, capture.encoding)
    if capture.format == "html":
        from newsvariants.render import render_html

        return render_html(decoded).text
    return decoded


def extract_capture(capture: Capture, data: bytes, context: PageContext | None = None) -> Extraction:
    """Extract one capture of either form."""
    from newsvariants.ingest import decode_capture

    decoded = decode_capture(data, capture.encoding)
    if capture.format == "html":
        from newsvariants.render import extract_html

        return extract_html(decoded, capture.capture_id, context or PageContext())
    return extract_text_dump(decoded, capture.capture_id, context)


def debug_extract(
    path: Path, *, fmt: str | None, source: str, raw: Path | None
) -> dict[str, Any]:
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
