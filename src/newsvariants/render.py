"""HTML -> the page's visible text as blocks: the one deterministic rendering step whose output
the offsets of an HTML capture index (so `validate` can recompute it from raw/).

Then `extract_html` labels those blocks with the same classifier as text dumps, with trafilatura's
judgement of the page (which blocks it keeps as the article, comments excluded) and its metadata
as strong evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

from newsvariants.extract import (
    Block,
    Decision,
    PageContext,
    block_key,
    classify_blocks,
    detect_language,
    extraction_from_blocks,
)
from newsvariants.records import Extraction

RENDER_VERSION = "1"

_SKIP = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object", "canvas",
         "select", "option", "button", "form-hidden"}
_BLOCK = {
    "p", "div", "section", "article", "main", "header", "footer", "nav", "aside", "h1", "h2",
    "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd", "table", "tr", "td", "th",
    "blockquote", "pre", "figure", "figcaption", "address", "form", "fieldset", "legend",
    "details", "summary", "caption", "hr", "br", "body", "html", "label", "time-block",
}
_SPACE = re.compile(r"\s+")


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

    def walk(self, node: etree._Element, in_link: bool, hints: str) -> None:
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
        own = " ".join(filter(None, [node.get("class"), node.get("id")]))
        node_hints = (hints + " " + own).strip()[-200:] if own else hints
        is_block = tag in _BLOCK
        if is_block:
            self.flush()
            self._tag, self._hints = tag, node_hints
        if node.text:
            self._parts.append((node.text, in_link or tag == "a"))
        for child in node:
            self.walk(child, in_link or tag == "a", node_hints)
            if is_block and not self._parts:
                self._tag, self._hints = tag, node_hints
        if is_block:
            self.flush()
        self._tail(node, in_link)

    def _tail(self, node: etree._Element, in_link: bool) -> None:
        if node.tail:
            self._parts.append((node.tail, in_link))


def render_html(html: str) -> RenderedPage:
    """Visible text blocks of a page, one a line, with offsets into the joined text."""
    if not html.strip():
        return RenderedPage("", [])
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return RenderedPage("", [])
    renderer = _Renderer()
    renderer.walk(root, False, "")
    renderer.flush()
    blocks: list[Block] = []
    pieces: list[str] = []
    pos = 0
    for text, tag, density, hints in renderer.blocks:
        blocks.append(Block(len(blocks), text, pos, pos + len(text), tag, density, hints))
        pieces.append(text)
        pos += len(text) + 1
    return RenderedPage("\n".join(pieces), blocks)


def _trafilatura_judgement(html: str) -> tuple[set[str], dict[str, str | None]]:
    import trafilatura

    body = trafilatura.extract(
        html, include_comments=False, include_tables=False, favor_precision=False, deduplicate=False
    )
    keys = {block_key(line) for line in (body or "").split("\n") if line.strip()}
    meta = trafilatura.extract_metadata(html)
    info = {
        "title": getattr(meta, "title", None) if meta else None,
        "author": getattr(meta, "author", None) if meta else None,
        "date": getattr(meta, "date", None) if meta else None,
    }
    return keys, info


def extract_html(html: str, capture_id: str, context: PageContext) -> Extraction:
    """Extract the article from an HTML page: render, add trafilatura's evidence, classify."""
    page = render_html(html)
    keys, meta = _trafilatura_judgement(html)
    for block in page.blocks:
        block.extractor_body = block_key(block.text) in keys
    decisions = classify_blocks(page.blocks, context)
    title_key = block_key(meta["title"]) if meta["title"] else None
    for i, block in enumerate(page.blocks):
        key = block_key(block.text)
        if block.extractor_body and decisions[i].kind != "body":
            if decisions[i].reason not in ("ad", "template", "share", "comments", "related"):
                decisions[i] = Decision("body", evidence=["trafilatura keeps it"])
        elif decisions[i].kind == "body" and keys and not block.extractor_body:
            decisions[i] = Decision("removed", "boilerplate", ["trafilatura drops it"])
        if title_key and key == title_key and decisions[i].kind != "body":
            decisions[i] = Decision("title", "title")
    body = [b.text for b, d in zip(page.blocks, decisions, strict=True) if d.kind == "body"]
    return extraction_from_blocks(
        capture_id,
        page.blocks,
        decisions,
        language=detect_language(body),
        published_at=meta["date"],
    )
