"""HTML captures: one deterministic rendering to visible text, then the same block classifier
with trafilatura's judgement and metadata as evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsvariants.executor import extract_captures
from newsvariants.extract import (
    Block,
    PageContext,
    classify_blocks,
    extract_capture,
    text_of_capture,
)
from newsvariants.extract_rules import hint_reason
from newsvariants.ingest import CaptureInput, capture_record, file_inputs, ingest, load_captures
from newsvariants.records import Capture
from newsvariants.render import (
    UnrenderablePage,
    classify_html_blocks,
    extract_html,
    render_html,
)

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


def test_a_line_break_ends_a_block_of_its_container_not_an_element_of_its_own() -> None:
    html = (
        '<html><body><div class="story-body">The lead, straight in the div.<br>'
        "The second line.<br/>The <b>third</b> line.</div>"
        '<p class="note">A note<br>on two lines.</p></body></html>'
    )
    page = render_html(html)
    assert [(b.text, b.tag, b.hints) for b in page.blocks] == [
        ("The lead, straight in the div.", "div", "story-body"),
        ("The second line.", "div", "story-body"),
        ("The third line.", "div", "story-body"),
        ("A note", "p", "note"),
        ("on two lines.", "p", "note"),
    ]


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


def blocks_of(rows: list[tuple[str, str, str, bool | None, float]]) -> list[Block]:
    """Rendered blocks by hand: (text, element, class/id hints, trafilatura's judgement, link
    density), with offsets as `render_html` gives them."""
    blocks, pos = [], 0
    for i, (text, tag, hints, kept, density) in enumerate(rows):
        blocks.append(Block(i, text, pos, pos + len(text), tag, density, hints, kept))
        pos += len(text) + 1
    return blocks


ARTICLE = "main article-body"
PARAGRAPHS = [
    f"Paragraph {n} of the report explains what the harbour board decided about the ferry fares "
    "and why the change matters to the people who cross the water every morning."
    for n in range(1, 9)
]


def test_paragraphs_trafilatura_left_out_in_the_article_container_are_body() -> None:
    rows = [("Harbour board sets fares", "h1", ARTICLE, True, 0.0)]
    rows += [(p, "p", ARTICLE, True, 0.0) for p in PARAGRAPHS[:4]]
    rows += [("Advertisement", "div", "ad-slot", False, 0.0)]
    rows += [(p, "p", ARTICLE, False, 0.0) for p in PARAGRAPHS[4:]]  # trafilatura stopped at the ad
    rows += [
        (
            "A sidebar paragraph about something else entirely, in a box of its own.",
            "p",
            "sidebar promo-box",
            False,
            0.0,
        )
    ]
    decisions = classify_blocks(blocks_of(rows), PageContext())
    body = [row[0] for row, d in zip(rows, decisions, strict=True) if d.kind == "body"]
    assert body == PARAGRAPHS


def test_teaser_blurbs_trafilatura_keeps_between_links_are_not_body() -> None:
    rows = [("Harbour board sets fares", "h1", ARTICLE, True, 0.0)]
    rows += [(p, "p", ARTICLE, True, 0.0) for p in PARAGRAPHS[:5]]
    rows.append(("Get our newsletter", "h3", "newsletter-form", True, 0.0))
    rows.append(("Thanks for signing up!", "p", "newsletter-form", True, 0.0))
    rows.append(("Please check the box to confirm", "label", "newsletter-form", False, 0.0))
    for n in range(6):
        rows.append((f"Other story headline {n}", "a", "teaser", True, 1.0))
        rows.append((f"A short blurb about other story {n} here.", "p", "teaser", True, 0.0))
    rows += [(link, "a", "footer-nav", False, 1.0) for link in ("Help", "About Us", "Careers")]
    decisions = classify_blocks(blocks_of(rows), PageContext())
    body = [row[0] for row, d in zip(rows, decisions, strict=True) if d.kind == "body"]
    assert body == PARAGRAPHS[:5]


def test_a_share_bar_or_signup_form_trafilatura_keeps_inside_the_article_is_not_body() -> None:
    # trafilatura keeps what sits inside the article element; the containers' class names say
    # these are a share bar and a newsletter form, whatever language the page is in
    rows = [("Harbour board sets fares", "h1", ARTICLE, True, 0.0)]
    rows += [(p, "p", ARTICLE, True, 0.0) for p in PARAGRAPHS]
    rows.append(("Iesaki šo rakstu:", "div", f"{ARTICLE} share-compact right", True, 0.0))
    form = f"{ARTICLE} subscribe-form ajax subscribe-form-txt"
    rows.append(("Piesakies LSM pasta saņemšanai!", "strong", form, True, 0.0))
    rows.append(
        (
            "Šo vēstkopu mēs izsūtīsim aptuveni reizi nedēļā ar iespēju jebkurā brīdī atteikties.",
            "p",
            form + " subscribe-form-desc",
            True,
            0.0,
        )
    )
    decisions = classify_blocks(blocks_of(rows), PageContext())
    body = [row[0] for row, d in zip(rows, decisions, strict=True) if d.kind == "body"]
    assert body == PARAGRAPHS
    assert [d.reason for d in decisions[-3:]] == ["share", "subscribe", "subscribe"]


def test_a_furniture_word_on_the_article_wrapper_itself_is_not_evidence() -> None:
    # the class of the container of (nearly) everything trafilatura keeps names the article,
    # whatever its words ("post-content promo-...")
    wrapper = "col-lg-8 post-content promo-wrapper"
    rows = [("Harbour board sets fares", "h1", wrapper, True, 0.0)]
    rows += [(p, "p", wrapper, True, 0.0) for p in PARAGRAPHS]
    rows.append(("Share this story", "div", f"{wrapper} share-bar", True, 0.0))
    decisions = classify_blocks(blocks_of(rows), PageContext())
    body = [row[0] for row, d in zip(rows, decisions, strict=True) if d.kind == "body"]
    assert body == PARAGRAPHS
    assert hint_reason(wrapper) == "ad"


def test_class_words_are_matched_between_underscores_and_digits_too() -> None:
    assert hint_reason("sf_comment_list borde_bottom sf_comment_text") == "comments"
    assert hint_reason("sf_comment_1073341 titulo_post") == "comments"
    assert hint_reason("main_menu menu_item") == "navigation"
    assert hint_reason("post_share_buttons") == "share"
    assert hint_reason("commentary-column") is None
    assert hint_reason("unavailable-notice") is None
    assert hint_reason("promotional") == "ad"


def test_a_table_trafilatura_keeps_is_body_cell_by_cell() -> None:
    # trafilatura writes each row as one line ("| 1 | Crew Alder | 93 | 1 |"); the rendering
    # gives each cell a block of its own ("1", "Crew Alder"), too short to match by trigrams.
    # Unmatched, the cells were judged as furniture and the table cut the article in two (the
    # paragraph after it was lost).
    crews = ["Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir"]
    rows = "".join(
        f"<tr><td>{n}</td><td>Crew {name}</td><td>{100 - 7 * n}</td><td>{n % 3}</td></tr>"
        for n, name in enumerate(crews, start=1)
    )
    html = (
        "<html><head><title>Harbour league table | Coastline Gazette</title></head><body>"
        "<nav><ul><li><a href='/'>Home</a></li><li><a href='/sport'>Sport</a></li></ul></nav>"
        "<article class='story'><h1>Harbour league table after the weekend</h1>"
        + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:3])
        + "<p>The standings after six races:</p>"
        "<table><tr><th>Pos.</th><th>Crew</th><th>Points</th><th>Wins</th></tr>"
        f"{rows}</table>"
        "<p>The next race is on Saturday, weather permitting, the organisers said on Monday.</p>"
        "</article><footer>© 2025 Coastline Gazette. All rights reserved.</footer></body></html>"
    )
    ex = extract_html(html, "table", context=PageContext())
    assert_full_provenance(render_html(html).text, ex)
    body = [p.text for p in ex.paragraphs]
    assert body[:4] == [*PARAGRAPHS[:3], "The standings after six races:"]
    assert body[4:8] == ["Pos.", "Crew", "Points", "Wins"]
    assert body[8:12] == ["1", "Crew Alder", "93", "1"]
    assert body[-5:] == [
        "6",
        "Crew Fir",
        "58",
        "0",
        "The next race is on Saturday, weather permitting, the organisers said on Monday.",
    ]
    assert len(body) == 4 + 4 * 7 + 1


def test_article_is_kept_when_trafilatura_keeps_only_a_fragment_of_it() -> None:
    # trafilatura misread the page and kept one caption-like line in a gallery box: every
    # paragraph of the article, left out, would cost instead of gain and the body collapse to
    # that fragment. The page's shape supports far more body: trafilatura's "left out" is then
    # no evidence, and the article is read by its shape.
    rows = [("Harbour board sets fares", "h1", "headline", False, 0.0)]
    rows.append(("By Mara Linde", "div", "byline", False, 0.0))
    rows += [(p, "p", ARTICLE, False, 0.0) for p in PARAGRAPHS]
    rows.append(("The morning ferry leaves the north pier.", "p", "gallery slide", True, 0.0))
    rows += [(link, "a", "footer-nav", False, 1.0) for link in ("Help", "About Us", "Careers")]
    blocks = blocks_of(rows)
    trusted = classify_blocks(blocks, PageContext())
    trusted_body = [row[0] for row, d in zip(rows, trusted, strict=True) if d.kind == "body"]
    assert not set(trusted_body) & set(PARAGRAPHS)  # the collapse the net is for
    decisions = classify_html_blocks(blocks, PageContext())
    body = [row[0] for row, d in zip(rows, decisions, strict=True) if d.kind == "body"]
    assert body[: len(PARAGRAPHS)] == PARAGRAPHS
    assert [b.extractor_body for b in blocks] == [row[3] for row in rows]  # marks restored


def test_trafilatura_judgement_stands_when_its_body_is_not_a_collapse() -> None:
    # trafilatura keeps the article and leaves out the author's bio below it, sentences in a box
    # of their own: judged by shape alone the bio would run on from the article, but the body
    # with trafilatura's judgement is most of the shape's, so the judgement stands.
    bio = [
        "Mara Linde has covered the harbour and its ferries for the Gazette since 2012.",
        "Before that she reported on the city council and wrote about local schools for years.",
    ]
    rows = [("Harbour board sets fares", "h1", ARTICLE, True, 0.0)]
    rows += [(p, "p", ARTICLE, True, 0.0) for p in PARAGRAPHS]
    rows += [(line, "p", "author-bio", False, 0.0) for line in bio]
    rows += [(link, "a", "footer-nav", False, 1.0) for link in ("Help", "About Us", "Careers")]
    blocks = blocks_of(rows)
    for block in blocks:
        block.extractor_body = None if block.extractor_body is False else block.extractor_body
    shape_only = classify_blocks(blocks, PageContext())
    shape_body = [row[0] for row, d in zip(rows, shape_only, strict=True) if d.kind == "body"]
    assert set(bio) & set(shape_body)  # what distrusting trafilatura here would cost
    decisions = classify_html_blocks(blocks_of(rows), PageContext())
    body = [row[0] for row, d in zip(rows, decisions, strict=True) if d.kind == "body"]
    assert body == PARAGRAPHS


def test_a_page_date_after_the_day_of_the_build_is_kept_the_same_on_any_day() -> None:
    # trafilatura's latest date was the clock's: this page lost its date until 2031, so the same
    # raw/ built in different years gave different corpora
    html = (
        '<html><head><meta property="article:published_time" content="2031-05-04T10:00:00Z">'
        "<title>Council budget</title></head><body><h1>Council budget</h1>"
        "<p>The council approved its budget on Monday after a long debate in the town hall.</p>"
        "<p>Members argued over the library hours and the cost of repairing the old bridge.</p>"
        "</body></html>"
    )
    assert extract_html(html, "x", PageContext()).published_at == "2031-05-04"


def nested_page(depth: int) -> str:
    """An article whose every paragraph sits one <div> deeper than the one before."""
    paragraphs = "".join(
        f"<div><p>Paragraph {i} of the nested article says something in a full sentence.</p>"
        for i in range(depth)
    )
    return f"<html><body><h1>The nested article</h1>{paragraphs}{'</div>' * depth}</body></html>"


def test_a_page_nested_deeper_than_256_elements_renders_whole() -> None:
    # libxml2 stops at 256 nested elements by default and hands back the tree it has, without an
    # error: this page rendered its first 253 paragraphs and lost the rest. 1,500 levels are also
    # beyond Python's recursion limit, which a recursive walk of the tree would hit.
    page = render_html(nested_page(1500))
    assert len(page.blocks) == 1 + 1500
    assert page.blocks[-1].text.startswith("Paragraph 1499 of the nested article")
    assert render_html(nested_page(1500)) == page
    ex = extract_html(nested_page(1500), "deep", PageContext())
    assert len(ex.paragraphs) == 1500
    assert_full_provenance(page.text, ex)


def test_a_page_beyond_libxml2_limit_is_refused_with_the_reason() -> None:
    with pytest.raises(UnrenderablePage, match=r"line 1 \(Excessive depth in document: 2048\)"):
        render_html(nested_page(2100))
    with pytest.raises(UnrenderablePage):
        extract_capture(html_capture(nested_page(2100).encode()), nested_page(2100).encode())


def test_a_page_libxml2_cannot_read_whole_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    # scanned like an undecodable capture: one such page in a crawl is a quarantine entry of the
    # build report, not a failed build, and not a variant cut at the limit
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "deep.html").write_text(nested_page(2100), encoding="utf-8")
    (pages / "ok.html").write_bytes(PAGE.read_bytes())
    items = [
        item
        for path in sorted(pages.iterdir())
        for item in file_inputs(path, source="site.example", captured_at=None, url=None, fmt="html")
    ]
    raw = tmp_path / "raw"
    ingest(items, raw)
    captures = load_captures(raw)
    for workers in (1, 2):
        extractions, quarantined = extract_captures(raw, captures, workers=workers)
        deep = [c.path for c in captures if b"Paragraph 2099" in (raw / c.path).read_bytes()]
        assert [q.path for q in quarantined] == deep
        assert quarantined[0].reason.startswith("cannot render: libxml2 stopped reading the page")
        assert len(extractions) == 1


def _dated_page(head: str, top: str = "", script: str = "") -> str:
    """A page whose article states no date in its text, with `head` markup, a `top` bar above
    the headline and a `script` in the body."""
    paragraphs = "".join(
        f"<p>Paragraph {n} of the report says what the council decided about the old bridge.</p>"
        for n in range(1, 6)
    )
    return (
        f"<html><head><title>Council budget</title>{head}</head><body>{top}"
        f"<h1>Council budget</h1>{paragraphs}{script}</body></html>"
    )


@pytest.mark.parametrize(
    ("head", "top", "script"),
    [
        # a render-date header in an element whose class says "date" (htmldate read its text)
        ("", '<div class="date">Mon, 25 Dec 2023</div>', ""),
        # a timestamp in a script (htmldate's regex over the page source found it)
        ("", "", '<script>var built = "2023-12-25T04:07:50Z";</script>'),
        # the copyright year, which htmldate gave as January 1st
        ('<meta itemprop="copyrightYear" content="2023">', "", ""),
    ],
)
def test_a_date_the_markup_does_not_state_is_not_the_publication_date(
    head: str, top: str, script: str
) -> None:
    assert extract_html(_dated_page(head, top, script), "x", PageContext()).published_at is None


@pytest.mark.parametrize(
    "head",
    [
        '<meta property="article:published_time" content="2020-05-14T08:00:00Z">',
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"datePublished": "2020-05-14T08:00:00Z"}</script>',
        '<link rel="canonical" href="https://example.org/news/2020/05/14/council-budget">',
    ],
)
def test_the_date_the_markup_states_is_the_publication_date_over_a_render_date(head: str) -> None:
    page = _dated_page(head, '<div class="date">Mon, 25 Dec 2023</div>')
    assert extract_html(page, "x", PageContext()).published_at == "2020-05-14"


def test_a_time_element_dates_the_page_and_its_text_does_not() -> None:
    top = '<div class="date">Mon, 25 Dec 2023</div>'
    page = _dated_page("", top + '<time datetime="2020-05-14T08:00">14 May</time>')
    assert extract_html(page, "x", PageContext()).published_at == "2020-05-14"
