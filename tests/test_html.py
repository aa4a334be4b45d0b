"""HTML captures: one deterministic rendering to visible text, then the same block classifier
with trafilatura's judgement and metadata as evidence."""

from __future__ import annotations

from pathlib import Path

from newsvariants.extract import PageContext, extract_capture, text_of_capture
from newsvariants.ingest import CaptureInput, capture_record
from newsvariants.records import Capture
from newsvariants.render import extract_html, render_html

from .test_extract import assert_full_provenance

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
PAGE = FIXTURES / "harbour_page.html"
BODY_STARTS = [
    "The harbour ferry will run every twenty minutes",
    "Officials said two additional boats",
    "Commuters who cross daily welcomed the change",
    "The authority will review the timetable again",
]


def html_capture(html: bytes, source: str = "coastline") -> Capture:
    return capture_record(CaptureInput(html, "page.html", source, None, None, "html"))


def test_render_keeps_visible_text_only_and_is_deterministic() -> None:
    html = PAGE.read_text(encoding="utf-8")
    page = render_html(html)
    assert page == render_html(html)
    assert "do not render me" not in page.text and "color: red" not in page.text
    assert "Harbour ferry timetable to change in spring | Coastline Gazette" not in page.text
    assert all(page.text[b.start : b.end] == b.text for b in page.blocks)
    assert page.text == "\n".join(b.text for b in page.blocks)
    nav = [b for b in page.blocks if b.text == "Home"]
    assert nav and nav[0].link_density == 1.0 and "main-nav" in nav[0].hints
    assert any(b.tag == "h1" for b in page.blocks)


def test_html_article_is_separated_from_nav_ad_share_and_comments() -> None:
    html = PAGE.read_text(encoding="utf-8")
    ex = extract_html(html, "harbour", context=PageContext())
    text = render_html(html).text
    assert_full_provenance(text, ex)
    assert len(ex.paragraphs) == 4
    for paragraph, start in zip(ex.paragraphs, BODY_STARTS, strict=True):
        assert paragraph.text.startswith(start)
    reasons = {text[r.start : r.end]: r.reason for r in ex.removed}
    assert reasons["Home"] == "navigation"
    assert reasons["Advertisement"] == "ad"
    assert reasons["Share this article Facebook Twitter Email"] == "share"
    assert reasons["3 Comments"] == "comments"
    assert any(t.startswith("Finally! I have been waiting") for t in reasons)  # a comment...
    assert not any(p.text.startswith("Finally!") for p in ex.paragraphs)  # ...is not body
    assert reasons["Related Stories"] == "related"
    assert reasons["© 2025 Coastline Gazette. All rights reserved."] == "copyright"
    assert [c.text for c in ex.captions] == [
        "The morning ferry leaves the north pier. Photo: Coastline Gazette"
    ]
    assert ex.title == "Harbour ferry timetable to change in spring"
    assert ex.byline == "By Mara Linde"
    assert ex.language == "en"


def test_html_publication_date_comes_from_markup_not_the_render_date() -> None:
    ex = extract_html(PAGE.read_text(encoding="utf-8"), "harbour", context=PageContext())
    assert ex.published_at is not None and ex.published_at.startswith("2025-03-01")


def test_html_capture_offsets_index_the_rendered_text() -> None:
    data = PAGE.read_bytes()
    capture = html_capture(data)
    text = text_of_capture(capture, data)
    assert text == render_html(data.decode("utf-8")).text
    ex = extract_capture(capture, data)
    assert_full_provenance(text, ex)


def test_page_without_an_article_yields_no_body_but_full_provenance() -> None:
    html = (
        "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        "<footer>© 2025 Example Ltd. All rights reserved.</footer></body></html>"
    )
    ex = extract_html(html, "empty", context=PageContext())
    assert ex.paragraphs == []
    assert_full_provenance(render_html(html).text, ex)


def test_empty_or_broken_html_renders_to_nothing() -> None:
    assert render_html("").text == ""
    assert render_html("   \n").blocks == []


def test_xhtml_with_an_xml_declaration_renders() -> None:
    xhtml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        "<body><p>The harbour ferry will run every twenty minutes from April onwards.</p>"
        "</body></html>"
    )
    page = render_html(xhtml)
    assert page.text == "The harbour ferry will run every twenty minutes from April onwards."


def test_class_names_of_containers_are_evidence() -> None:
    paragraphs = "".join(
        f"<p>Paragraph {n} of the story explains what the harbour board decided about fares.</p>"
        for n in range(1, 6)
    )
    html = (
        f"<html><body><article><h1>Harbour board sets fares</h1>{paragraphs}</article>"
        '<div class="newsletter-box"><p>The best of our local reporting, every morning.</p></div>'
        "</body></html>"
    )
    ex = extract_html(html, "hints", context=PageContext())
    text = render_html(html).text
    assert len(ex.paragraphs) == 5
    reasons = {text[r.start : r.end]: r.reason for r in ex.removed}
    assert reasons["The best of our local reporting, every morning."] == "subscribe"
