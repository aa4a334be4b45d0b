"""Extraction of plain-text page dumps: the seeds exactly, provenance of every character, the
evidence the block classifier uses, and `newsvariants extract FILE`."""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsvariants.cli import app
from newsvariants.extract import (
    REMOVAL_REASONS,
    Block,
    PageContext,
    _block_evidence,
    _long_words,
    _number_count,
    _skeleton,
    article_groups,
    extract_capture,
    extract_text_dump,
    parse_date,
    site_templates,
    split_blocks,
    text_of_capture,
)
from newsvariants.extract_rules import (
    _CAPTION_TAIL,
    HEAD_RULES,
    _caption_tail,
    _ends_with_agency,
    head_rule,
    is_dated_headline,
    page_reasons,
    pattern_reason,
)
from newsvariants.extract_shape import (
    block_key,
    block_size,
    capitalised_share,
    ends_like_sentence,
    is_sentence_like,
    page_keys,
    page_scripts,
    script_of,
    word_sizes,
)
from newsvariants.ingest import CaptureInput, capture_record, load_captures, verify_capture
from newsvariants.records import Capture, Extraction
from newsvariants.schema import load_schema

from .conftest import RAW, SEED_MIRROR, SEED_ORIGINAL

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
HARBOUR_DUMP = FIXTURES / "harbour_dump.txt"
runner = CliRunner()


def seed(capture_id: str) -> tuple[str, Extraction]:
    """A seed capture of the repository's raw/ (via raw/captures.jsonl): its text, extracted."""
    capture = next(c for c in load_captures(RAW) if c.capture_id == capture_id)
    data = verify_capture(RAW, capture)
    return text_of_capture(capture, data), extract_capture(capture, data)


def line_of(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1


def lines(text: str) -> list[str]:
    return text.split("\n")


def assert_full_provenance(text: str, extraction: Extraction) -> None:
    """Every span slices the text; every non-blank character lies in exactly one span."""
    spans: list[tuple[int, int]] = []
    for span in [*extraction.paragraphs, *extraction.captions]:
        assert text[span.start : span.end] == span.text
        spans.append((span.start, span.end))
    for name, span in (("title", extraction.title_span), ("byline", extraction.byline_span)):
        if span is not None:
            assert text[span.start : span.end] == getattr(extraction, name)
            spans.append((span.start, span.end))
    for removed in extraction.removed:
        assert removed.reason in REMOVAL_REASONS
        spans.append((removed.start, removed.end))
    covered = [0] * len(text)
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        for i in range(start, end):
            covered[i] += 1
    for i, char in enumerate(text):
        if char.strip():
            assert covered[i] == 1, f"character {i} ({char!r}) lies in {covered[i]} spans"
        else:
            assert covered[i] <= 1


def removed_lines(text: str, extraction: Extraction) -> dict[int, str]:
    return {line_of(text, r.start): r.reason for r in extraction.removed}


def test_mirror_seed_is_extracted_exactly() -> None:
    text, ex = seed(SEED_MIRROR)  # 000_1de075c5d75d8acb.txt
    source = lines(text)
    assert ex.title == source[4] and line_of(text, ex.title_span.start) == 5
    assert [line_of(text, p.start) for p in ex.paragraphs] == [7, 9, 13, 15, 17, 19, 21, 23, 25, 27]
    assert [p.text for p in ex.paragraphs] == [
        source[n - 1] for n in (7, 9, 13, 15, 17, 19, 21)
    ] + [source[n - 1] for n in (23, 25, 27)]
    assert "“We believe it’s unacceptable" in ex.paragraphs[2].text  # curly quotes kept
    assert removed_lines(text, ex) == {
        1: "date_header",
        2: "ad",
        3: "breadcrumb",
        11: "ad",
        29: "copyright",
        31: "related",
        33: "related",
        35: "related",
        37: "comments",
        39: "comments",
    }
    assert ex.captions == [] and ex.byline is None
    assert ex.language == "en"


def test_render_date_never_becomes_published_at() -> None:
    text, ex = seed(SEED_MIRROR)
    assert lines(text)[0].startswith("Thursday , April 25 2024")
    assert ex.published_at is None  # the article is from 2022; 2024-04-25 is the render date


def test_original_seed_is_extracted_exactly() -> None:
    text, ex = seed(SEED_ORIGINAL)  # 002_5764e84423007ba7.txt
    source = lines(text)
    assert ex.title is None and ex.title_span is None
    assert [line_of(text, p.start) for p in ex.paragraphs] == list(range(3, 22, 2))
    assert [p.text for p in ex.paragraphs] == [source[n - 1] for n in range(3, 22, 2)]
    # Line 1 is the image's label, line 2 a photo credit glued to the caption: neither is body.
    assert [(line_of(text, c.start), c.text) for c in ex.captions] == [
        (1, "Chuck Hagel"),
        (2, "US Secretary of Defense Chuck Hagel at the Manas Air Force Base in Kyrgyzstan, 2013"),
    ]
    assert [(text[r.start : r.end], r.reason) for r in ex.removed] == [
        ("© Jason Reed-Pool/Getty Images", "credit")
    ]
    assert ex.published_at is None


@pytest.mark.parametrize("capture_id", [SEED_MIRROR, SEED_ORIGINAL])
def test_every_character_of_a_seed_lies_in_exactly_one_span(capture_id: str) -> None:
    text, ex = seed(capture_id)
    assert_full_provenance(text, ex)


def test_hand_made_dump_furniture_is_removed_with_its_reason() -> None:
    text = HARBOUR_DUMP.read_text(encoding="utf-8")
    ex = extract_text_dump(text, "harbour")
    assert_full_provenance(text, ex)
    assert [p.text[:40] for p in ex.paragraphs] == [
        "The harbour ferry will run every twenty ",
        "Officials said two additional boats had ",
        "Commuters who cross daily welcomed the c",
        "The authority will review the timetable ",
    ]
    assert ex.title == "Harbour ferry timetable to change in spring"
    assert ex.byline == "By Mara Linde"
    reasons = {text[r.start : r.end]: r.reason for r in ex.removed}
    assert reasons["Harbour ferry timetable to change in spring | Coastline Gazette"] == "title"
    assert reasons["Monday, March 3 2025"] == "date_header"
    assert reasons["Markets: FTSE 100 7,612 +0.4% | DAX 17,250 -0.2% | Brent $81.20 +1.1%"] == (
        "ticker"
    )
    assert reasons["Home / Local / Harbour ferry timetable to change in spring"] == "breadcrumb"
    assert reasons["Advertisement"] == "ad"
    assert reasons["Купите квартиру у моря со скидкой до 30 процентов сегодня"] == "ad"
    assert reasons["Share this article"] == "share" and reasons["Facebook"] == "share"
    assert reasons["© 2025 Coastline Gazette. All rights reserved."] == "copyright"
    assert reasons["Related Stories"] == "related"
    assert reasons["Fishing fleet returns early after storm warning …"] == "related"
    assert reasons["Leave a Reply"] == "comments"
    assert reasons["Subscribe"] == "subscribe"
    assert reasons["Home"] == "navigation"


def test_dateline_below_the_headline_is_the_publication_date() -> None:
    ex = extract_text_dump(HARBOUR_DUMP.read_text(encoding="utf-8"), "harbour")
    assert ex.published_at == "2025-03-01"  # "March 1, 2025" under the byline, not "March 3"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("By Louis Jacobson on Monday, November 18th, 2019 at 11:04 a.m.", None),
        ("By FEDERICA LUSIARDI - 2019-11-18", None),
        ("Submitted on Mon, 2019-11-18 13:49", "metadata"),
    ],
)
def test_a_dated_byline_or_dateline_below_the_headline_dates_the_article(
    line: str, reason: str | None
) -> None:
    paragraphs = [
        f"Paragraph {n} of the report says what the council decided about the old bridge."
        for n in range(1, 6)
    ]
    # the render date above the headline is not the article's
    lines = ["Thursday, April 25 2024", "Council budget approved after a long debate", line]
    lines += paragraphs
    text = "\n".join(lines) + "\n"
    ex = extract_text_dump(text, "dated")
    assert ex.published_at == "2019-11-18"
    assert [p.text for p in ex.paragraphs] == paragraphs
    if reason is not None:
        start = text.index(line)
        assert [r.reason for r in ex.removed if r.start == start] == [reason]


def _capture_of(text: str, fmt: str, url: str | None) -> tuple[Capture, bytes]:
    data = text.encode("utf-8")
    return capture_record(CaptureInput(data, "page", "example.org", None, url, fmt)), data


_UNDATED_DUMP = "\n".join(
    ["Council budget approved after a long debate"]
    + [
        f"Paragraph {n} of the report says what the council decided about the bridge."
        for n in range(5)
    ]
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example.org/2019/11/18/council-budget/", "2019-11-18"),
        ("https://news.example.org/local/2019-3-7-council-budget.html", "2019-03-07"),
        ("https://news.example.org/local/council-budget-2019", None),  # a year alone
        ("https://news.example.org/2019/13/45/council-budget/", None),  # no such day
        (None, None),
    ],
)
def test_a_page_that_states_no_date_is_dated_by_its_url(url: str | None, expected: str) -> None:
    capture, data = _capture_of(_UNDATED_DUMP, "text", url)
    assert extract_text_dump(_UNDATED_DUMP, capture.capture_id).published_at is None
    assert extract_capture(capture, data).published_at == expected
    page = "<html><head><title>Council budget</title></head><body><article>"
    page += "".join(f"<p>{line}</p>" for line in _UNDATED_DUMP.splitlines()[1:])
    page += "</article></body></html>"
    capture, data = _capture_of(page, "html", url)
    assert extract_capture(capture, data).published_at == expected


def test_a_date_the_page_states_wins_over_its_url() -> None:
    text = _UNDATED_DUMP.replace("debate\n", "debate\nSubmitted on Mon, 2019-11-18 13:49\n", 1)
    capture, data = _capture_of(text, "text", "https://news.example.org/2020/01/02/budget/")
    assert extract_capture(capture, data).published_at == "2019-11-18"
    page = (
        '<html><head><meta property="article:published_time" content="2018-05-06T10:00:00Z">'
        "</head><body><article>"
        + "".join(f"<p>{line}</p>" for line in _UNDATED_DUMP.splitlines()[1:])
        + "</article></body></html>"
    )
    capture, data = _capture_of(page, "html", "https://news.example.org/2020/01/02/budget/")
    assert extract_capture(capture, data).published_at == "2018-05-06"


def test_short_line_repeated_in_the_page_is_an_ad() -> None:
    body = [
        f"Paragraph {n} of the report explains what the council decided and why it matters now."
        for n in range(1, 7)
    ]
    promo = "Get fresh meal kits delivered weekly"
    text = "\n".join([body[0], body[1], promo, body[2], body[3], promo, body[4], body[5]])
    ex = extract_text_dump(text, "promo")
    assert [p.text for p in ex.paragraphs] == body
    assert [r.reason for r in ex.removed] == ["ad", "ad"]


def test_second_copy_of_a_paragraph_is_not_body_twice() -> None:
    body = [
        f"Sentence number {n} of this article is long enough to be a real paragraph."
        for n in "abcde"
    ]
    text = "\n".join([*body, "Photos", body[0], body[1]])
    ex = extract_text_dump(text, "dup")
    assert [p.text for p in ex.paragraphs] == body


def test_blocks_recurring_across_captures_of_a_source_are_site_template() -> None:
    footer = "Support independent journalism with a monthly gift to the newsroom today."
    pages = {
        f"c{n}": [
            f"Story {n} begins with a sentence about the town council and its budget.",
            footer,
        ]
        for n in range(3)
    }
    templates = site_templates(pages, {cid: "example.org" for cid in pages})
    assert len(templates["example.org"]) == 1
    lone = site_templates({"c0": pages["c0"]}, {"c0": "example.org"})
    assert lone["example.org"] == frozenset()  # one capture says nothing about a template
    text = "\n".join(
        [
            "The town council approved its budget on Monday after a long debate in the hall.",
            "Members argued over the library hours and the cost of repairing the old bridge.",
            footer,
        ]
    )
    context = PageContext(templates["example.org"])
    ex = extract_text_dump(text, "c9", context)
    assert len(ex.paragraphs) == 2
    assert [(text[r.start : r.end], r.reason) for r in ex.removed] == [(footer, "template")]
    assert len(extract_text_dump(text, "c9").paragraphs) == 3  # without the site's evidence


def test_split_blocks_offsets_index_the_stripped_lines() -> None:
    text = "  first line  \n\n\tsecond\r\nthird"
    blocks = split_blocks(text)
    assert [b.text for b in blocks] == ["first line", "second", "third"]
    assert all(text[b.start : b.end] == b.text for b in blocks)


def test_language_is_detected_deterministically() -> None:
    russian = "\n".join(
        [
            "Министр иностранных дел России заявил в четверг, что присутствие НАТО недопустимо.",
            "Он добавил, что это противоречит интересам безопасности стран региона и всего мира.",
        ]
    )
    first = extract_text_dump(russian, "ru")
    assert first.language == "ru"
    assert extract_text_dump(russian, "ru") == first
    assert extract_text_dump("Home\nMenu", "empty").language == "und"


def test_extract_command_prints_the_documented_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(HARBOUR_DUMP), "--source", "coastline"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    for key in ("title", "byline", "published_at", "language", "paragraphs", "captions", "removed"):
        assert key in printed
    text = HARBOUR_DUMP.read_text(encoding="utf-8")
    for paragraph in printed["paragraphs"]:
        assert set(paragraph) == {"text", "start", "end"}
        assert text[paragraph["start"] : paragraph["end"]] == paragraph["text"]
    for removed in printed["removed"]:
        assert set(removed) == {"start", "end", "reason"}
    assert printed["title"] == "Harbour ferry timetable to change in spring"


def test_an_article_captured_twice_by_its_source_is_not_its_own_template() -> None:
    # A re-capture (here with an edit) shares every paragraph with the first capture: counted
    # per capture, the whole article was "site template" and removed from both.
    footer = "Support independent journalism with a monthly gift to the newsroom today."
    article = [
        f"Paragraph {n} of the story about the harbour, long enough to be a real paragraph."
        + " More words." * n
        for n in range(5)
    ]
    edited = [*article[:-1], article[-1].replace("harbour", "port")]  # its longest paragraph
    other = [
        f"Another story, paragraph {n}, about the library and its new opening hours."
        for n in range(4)
    ]
    pages = {"c0": [*article, footer], "c1": [*edited, footer], "c2": [*other, footer]}
    sources = {cid: "example.org" for cid in pages}
    assert article_groups(list(pages.values())) == [0, 0, 2]
    assert site_templates(pages, sources)["example.org"] == {block_key(footer)}
    for cid in ("c0", "c1"):
        context = PageContext(site_templates(pages, sources)["example.org"])
        ex = extract_text_dump("\n".join(pages[cid]), cid, context)
        assert [p.text for p in ex.paragraphs] == pages[cid][:-1]


def test_captures_sharing_one_long_furniture_block_are_not_one_article() -> None:
    disclaimer = "The views expressed in this article are the author's own and not the site's."
    pages = [
        [f"Brief {n}: the council met on Monday and approved the budget for year {n}.", disclaimer]
        for n in range(4)
    ]
    assert article_groups(pages) == [0, 1, 2, 3]  # one shared block of three is not an article


def test_article_groups_give_the_same_groups_from_the_callers_page_keys() -> None:
    # site_templates hands over each capture's page_keys; the groups must be those that keying
    # the longest blocks one by one gives: ties in length (the first wins), case, NFKC forms and
    # runs of spaces that only the keys make equal.
    shared = "Ｔｈｅ  harbour reopened on Monday after a week of repairs, said the port authority."
    second = "Second paragraph of the harbour story, with the new opening times."
    tied = ["A" * 45, "B" * 45, "C" * 45, "D" * 45]
    pages = [
        [shared.upper(), second, *tied],
        [shared, second.upper()],
        [*tied, "short line"],
        ["B" * 45, "A" * 45, "C" * 45],
        ["Menu", "Home"],
    ]
    keyed = [page_keys(page) for page in pages]
    assert article_groups(pages, keyed) == article_groups(pages) == [0, 0, 2, 2, 4]


def test_extract_command_learns_site_templates_from_raw() -> None:
    mirror = next(c for c in load_captures(RAW) if c.capture_id == SEED_MIRROR)
    result = runner.invoke(
        app, ["extract", str(RAW / mirror.path), "--source", mirror.source, "--raw", str(RAW)]
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["paragraphs"]) == 10


def test_removal_reasons_are_the_schema_vocabulary() -> None:
    enum = load_schema("variant")["properties"]["removed"]["items"]["properties"]["reason"]["enum"]
    assert tuple(enum) == REMOVAL_REASONS


FERRY = [
    "The harbour ferry will run every twenty minutes from April, the port authority said Friday.",
    "Officials said two additional ferry boats had been leased for the season at the harbour.",
    "Commuters who cross the harbour daily welcomed the change to the ferry timetable this week.",
    "The port authority will review the ferry timetable again in September, a spokesperson said.",
    "Fares on the harbour ferry rise by ten pence in May, the port authority added on Friday.",
]


def gazette_page_top(headline: str, section: str) -> list[str]:
    """The test outlet's chrome above an article: title bar, menu, section, then the headline."""
    return [f"{headline} | Coastline Gazette", "Home", section, headline]


def teaser_card(n: int) -> list[str]:
    return [
        f"Council votes on school budget number {n}",
        "Jane Doe",
        "March 2, 2025",
        f"Teachers and parents gathered at the town hall to debate plan {n} for the new school "
        "budget, which cuts music lessons and raises the cost of lunches for pupils.",
    ]


def test_body_resumes_after_an_inline_box_but_not_after_teaser_cards() -> None:
    lines = [
        *gazette_page_top("Ferry timetable to change", "Local"),
        *FERRY[:3],
        "Related articles",
        "Lifeboat crew rescues two sailors off the point",
        "Storm closes coastal road for a second day",
        *FERRY[3:],
        "Share this article",
        "More Coastline Gazette",
        *(line for n in range(4) for line in teaser_card(n)),
        "© 2025 Coastline Gazette. All rights reserved.",
    ]
    text = "\n".join(lines)
    ex = extract_text_dump(text, "cards")
    assert [p.text for p in ex.paragraphs] == FERRY
    assert ex.title == "Ferry timetable to change"
    assert_full_provenance(text, ex)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t\n",
        "One line only.",
        "東京都は月曜日、新しい防災計画を発表した。計画では地震に備えて避難所を増やす。\n"
        "知事は記者会見で、住民の安全を最優先にすると述べた。",
        "Home\nNews\n© 2025 Example\nLeave a Reply",
    ],
)
def test_every_character_is_accounted_for_on_odd_pages(text: str) -> None:
    assert_full_provenance(text, extract_text_dump(text, "odd"))


def test_sentences_about_something_else_after_a_share_marker_are_not_body() -> None:
    elsewhere = [
        "Teachers and parents gathered at the town hall to debate the new school budget.",
        "The budget cuts music lessons and raises the cost of lunches for pupils next year.",
    ]
    text = "\n".join(["Ferry timetable to change", *FERRY, "Share this article", *elsewhere])
    ex = extract_text_dump(text, "tail")
    assert [p.text for p in ex.paragraphs] == FERRY
    resumed = "\n".join(["Ferry timetable to change", *FERRY[:3], "Share", *FERRY[3:]])
    assert [p.text for p in extract_text_dump(resumed, "resumed").paragraphs] == FERRY


def test_a_list_of_sources_after_the_article_is_not_body() -> None:
    """A fact-check's sources cite the article (on its topic, so no topic shift cuts them):
    below their heading nothing is body, whatever its shape; above it the article is whole."""
    sources = [
        'Port authority, "Ferry timetable 2025," accessed March 3, 2025',
        "Email interview with the port authority spokesperson about the harbour ferry, March 2025.",
        'Harbour Gazette, "Ferry boats leased for the summer season at the harbour," Feb. 2025.',
    ]
    page = ["Ferry timetable to change", *FERRY, "Sources:", *sources, "How to contact us"]
    text = "\n".join(page)
    ex = extract_text_dump(text, "sources")
    assert [p.text for p in ex.paragraphs] == FERRY
    reasons = {text[r.start : r.end]: r.reason for r in ex.removed}
    assert [reasons[line] for line in ["Sources:", *sources]] == ["metadata"] * 4
    # without the heading, the same lines read as the article's own: the heading is what cuts
    headless = "\n".join(page[:6] + page[7:])
    assert [p.text for p in extract_text_dump(headless, "s").paragraphs] == [*FERRY, *sources]


# --- the rules and the page-wide shape features: fast forms equal their definitions ----------

FURNITURE = FIXTURES / "furniture_lines.tsv"  # expected reason ("-": none) <TAB> block text


def furniture_lines() -> list[tuple[str | None, str]]:
    rows = []
    for line in FURNITURE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            reason, text = line.split("\t", 1)
            rows.append((None if reason == "-" else reason, text))
    return rows


def own_reasons(texts: list[str], *, gated: bool) -> list[str | None]:
    """Each block's own removal reason: for the whole page at once (gated by leads, marks and
    literals), or block by block with every rule looking for itself."""
    sizes = word_sizes(texts)
    sentences = [
        size >= 5 and is_sentence_like(t, size) for t, size in zip(texts, sizes, strict=True)
    ]
    if gated:
        return page_reasons(texts, page_keys(texts), sizes, sentences)
    return [pattern_reason(t, s, se) for t, s, se in zip(texts, sizes, sentences, strict=True)]


def test_every_example_of_page_furniture_gets_its_reason() -> None:
    rows = furniture_lines()
    texts = [text for _, text in rows]
    assert own_reasons(texts, gated=True) == [reason for reason, _ in rows]


def test_every_head_rule_has_an_example_it_decides() -> None:
    decided = {head_rule(text, block_size(text)) for _, text in furniture_lines()}
    rules = ("credit", "caption_label", "date_header", "ad", "related", "share", "metadata_lead")
    rules += ("byline",)
    rules += ("metadata_label", "sources", "comments")
    assert [rule[0] for rule in HEAD_RULES] == list(rules)
    assert decided >= set(rules)


def every_test_page_text() -> list[list[str]]:
    """The blocks of every page the tests know: fixtures, seeds, furniture examples."""
    pages = [[text for _, text in furniture_lines()]]
    for path in sorted(FIXTURES.glob("*.txt")) + sorted(RAW.rglob("*.txt")):
        pages.append([b.text for b in split_blocks(path.read_text(encoding="utf-8"))])
    return pages


def test_lead_gate_and_literal_gates_never_change_a_reason() -> None:
    """The head rules are only tried on blocks whose first letters are a rule's lead, and some
    rules only on blocks that hold their literals: neither gate may lose a reason. Each block is
    also matched against every head rule without the gate (in precedence order)."""
    every_rule = tuple(range(len(HEAD_RULES)))
    for texts in every_test_page_text():
        assert own_reasons(texts, gated=True) == own_reasons(texts, gated=False)
        for text in texts:
            size = block_size(text)
            assert head_rule(text, size) == head_rule(text, size, every_rule), text


def test_a_dump_line_has_its_text_evidence_wherever_the_text_repeats() -> None:
    """A dump's evidence is computed once per distinct line text: every line, first or repeated,
    must get what its text gets on its own (shape, key and own reason)."""
    for texts in every_test_page_text():
        page = texts + texts[::-1] + texts[::3]  # every line repeated, some three times
        blocks = [Block(i, text, 0, len(text)) for i, text in enumerate(page)]
        evidence = _block_evidence(blocks)
        sizes = word_sizes(page)
        assert [ev.key for ev in evidence] == page_keys(page)
        assert [ev.size for ev in evidence] == sizes
        assert [ev.sentence for ev in evidence] == [
            size >= 5 and is_sentence_like(t, size) for t, size in zip(page, sizes, strict=True)
        ]
        assert [ev.reason for ev in evidence] == own_reasons(page, gated=False)


TRICKY_CHARACTERS = (
    "abcXYZ019_-.,:;!?'\"()/|@#  \t\r\x0b\x0c\x85\u2028\xa0\u3000"
    "’“”—–…©«»éÉßøÆąłДжЁё한국語日本かな٣²½ﬁ\u0301\u200b😀"
)


def random_texts(seed: int, count: int = 400) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        text = "".join(rng.choice(TRICKY_CHARACTERS) for _ in range(rng.randint(1, 40))).strip()
        texts.append(text or "x")
    return texts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_page_wide_shape_features_equal_their_one_block_definitions(seed: int) -> None:
    texts = random_texts(seed)
    for texts_of_page in (texts, *every_test_page_text()):
        assert word_sizes(texts_of_page) == [block_size(t) for t in texts_of_page]
        assert page_keys(texts_of_page) == [block_key(t) for t in texts_of_page]
        assert page_scripts(texts_of_page) == [script_of(t) for t in texts_of_page]
    ascii_texts = [t.encode("ascii", "ignore").decode() or "x" for t in texts]
    for text in texts + ascii_texts:  # the ASCII fast path against the regex definition
        assert capitalised_share(text) == capitalised_share_by_regex(text), text


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_byte_table_row_and_word_features_equal_their_regex_definitions(seed: int) -> None:
    """The ASCII fast paths of a table row's skeleton and number count, of a block's long words,
    and the caption tail searched ending by ending, against the regex definitions."""
    texts = random_texts(seed)
    texts += [t.encode("ascii", "ignore").decode() or "x" for t in texts]
    texts += ["Photo: A. Smith/Getty Images", "Flood in Leeds (Image: GETTY)", "(NASA/JPL)"]
    texts += ["J. Smith / AP file", "Credit: ESA", "Shutterstock", "Getty İmages: x)"]
    for text in texts:
        assert _skeleton(text) == re.sub(r"[^\W_]+|\s+", "", text), text
        assert _number_count(text) == len(re.findall(r"\d+", text)), text
        long_words = [w.casefold() for w in re.findall(r"[^\W\d_]{5,}", text)]
        assert _long_words(text) == long_words, text
        tail = text[-100:].rstrip()
        gated = bool(tail) and (tail[-1] == ")" or ":" in tail or "/" in tail)
        gated = gated or _ends_with_agency(tail)
        assert _caption_tail(text) == (gated and _CAPTION_TAIL.search(tail) is not None), text


def test_plain_dates_are_read_as_dateutil_reads_them() -> None:
    """`parse_date` reads the plain forms itself: the same ISO date as dateutil gives them."""
    from dateutil import parser as date_parser

    from newsvariants.extract import _plain_date
    from newsvariants.extract_rules import DATE_ANY

    rng = random.Random(7)
    months = ["Nov", "nov.", "November", "SEPT", "Sep.", "may", "February", "dec"]
    texts = ["Nov. 20, 2019", "20th November 2019", "2019-11-20", "2019/2/30", "12TH Mar 2019"]
    for _ in range(1500):
        day = f"{rng.randint(0, 33)}{rng.choice(['', 'st', 'th', 'TH'])}"
        month, year = rng.choice(months), rng.choice(["2019", "1899", "2024", "0019"])
        gap = rng.choice([" ", ", ", ",", "  ", " , "])
        texts += [f"{day} {month}{gap}{year}", f"{month} {day}{gap}{year}"]
        texts.append(f"{year}{rng.choice('-/.')}{rng.randint(0, 14)}-{rng.randint(0, 32)}")
    for text in texts:
        found = DATE_ANY.search(text)
        plain = _plain_date(found.group(0)) if found else None
        if plain is not None and not re.search(r",\d", found.group(0)):  # see below
            cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", found.group(0))
            parsed = date_parser.parse(cleaned, dayfirst=False, fuzzy=True)
            assert plain == parsed.date().isoformat(), text


def test_a_date_without_a_space_before_its_year_does_not_depend_on_the_clock() -> None:
    # dateutil reads "Nov. 26,2024" as November 26 of the current year
    assert parse_date("Published Nov. 26,2024") == "2024-11-26"
    assert parse_date("26 Nov,2024") == "2024-11-26"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Publié le 25 avril 2024 à 10h30", "2024-04-25"),
        ("Mis à jour le 1er mars 2024", "2024-03-01"),
        ("Veröffentlicht am 25. April 2024, 10:30 Uhr", "2024-04-25"),
        ("Aktualisiert am 3. März 2022", "2022-03-03"),
        ("Publicado el 25 de abril de 2024", "2024-04-25"),
        ("Pubblicato il 1 dicembre 2023", "2023-12-01"),
        ("Publicado em 3 de março de 2022", "2022-03-03"),
        ("Gepubliceerd op 12 mei 2021", "2021-05-12"),
        ("Опубликовано 25 апреля 2024", "2024-04-25"),
        ("25 MAI 2024", "2024-05-25"),
        # with dots, day first (dateutil read 4 April); slashes stay dateutil's, month first
        ("Veröffentlicht am 04.05.2024 um 10:30 Uhr", "2024-05-04"),
        ("Опубликовано 31.12.2023, 18:05", "2023-12-31"),
        ("Posted 04/05/2024", "2024-04-05"),
    ],
)
def test_dates_in_other_languages_are_read(text: str, expected: str) -> None:
    assert parse_date(text) == expected


def capitalised_share_by_regex(text: str) -> float:
    words = [w for w in re.findall(r"[^\W\d_]+|\d+", text) if not w.isdigit()]
    return sum(w[0].isupper() for w in words) / len(words) if words else 1.0


def test_a_page_in_another_script_is_counted_by_code_point() -> None:
    """Past a few thousand characters of non-ASCII letters, sizes come from a table of the
    page's code points: the same sizes as the regex definition."""
    lines = ["Министр заявил в четверг, что присутствие НАТО недопустимо, 2024 год."] * 40
    lines += ["東京都は月曜日、新しい防災計画を発表した。", "Café crème 3½ à 10h30", "😀 ok"]
    assert sum(map(len, lines)) > 2000
    assert word_sizes(lines) == [block_size(t) for t in lines]


def test_word_size_counts_letter_and_digit_runs() -> None:
    assert word_sizes(["COVID-19 cases", "don’t stop", "7,612 +0.4%", "3rd G20", "東京都"]) == [
        3.0,
        3.0,
        4.0,
        4.0,
        1.5,
    ]


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        ("He said so.", True),
        ('He said "no."', True),
        ("Was it?)", True),
        ("She left »", True),
        ("Is it «this»", True),
        ("Headline without a stop", False),
        ("(see above)", False),
        ("", False),
    ],
)
def test_sentence_ending(text: str, ends: bool) -> None:
    assert ends_like_sentence(text) is ends


@pytest.mark.parametrize("seed", [4, 5])
def test_split_blocks_are_the_stripped_non_blank_lines(seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(TRICKY_CHARACTERS + "\n\n\n") for _ in range(3000))
    expected, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            start = pos + len(line) - len(line.lstrip())
            expected.append((line.strip(), start, start + len(line.strip())))
        pos += len(line) + 1
    assert [(b.text, b.start, b.end) for b in split_blocks(text)] == expected


# --- lists, tables and repeats inside the article ----------------------------------------------

STANDINGS = [
    f"{n} Driver Number{n} {5000 - 7 * n} {n % 4} {n % 3} {17 - n % 5} {27 - n}"
    for n in range(1, 9)
]


def test_a_table_of_numbers_between_paragraphs_is_part_of_the_article() -> None:
    lines = [
        "Harbour regatta results | Coastline Gazette",
        "Home",
        "Sport",
        *FERRY[:2],
        *STANDINGS,
        *FERRY[2:],
    ]
    ex = extract_text_dump("\n".join(lines), "table")
    assert [p.text for p in ex.paragraphs] == [*FERRY[:2], *STANDINGS, *FERRY[2:]]


def test_a_table_weighs_its_words_when_teasers_after_a_share_line_are_cut() -> None:
    # A standings article: two paragraphs and a table gain less than the three teaser blurbs after
    # its share line, yet it is the article and the teasers (another topic) are not.
    teasers = [
        "Lifeboat crew rescues two sailors after their yacht capsized off the northern point.",
        "Storm closes the coastal road for a second day as engineers inspect the sea wall.",
        "Village bakery wins a national prize for its sourdough, the third award in five years.",
    ]
    lines = [
        *gazette_page_top("Harbour regatta standings", "Sport"),
        *FERRY[:2],
        *STANDINGS,
        "Share this on WhatsApp",
        *teasers,
    ]
    text = "\n".join(lines)
    ex = extract_text_dump(text, "standings")
    assert [p.text for p in ex.paragraphs] == [*FERRY[:2], *STANDINGS]
    assert_full_provenance(text, ex)


def test_a_structured_list_right_after_the_last_paragraph_is_part_of_the_article() -> None:
    teams = [
        f"{name} (Group {group}): {n}th appearance"
        for n, (name, group) in enumerate(
            [("Spain", "F"), ("Sweden", "F"), ("Poland", "G"), ("France", "H"), ("Turkey", "H")],
            start=4,
        )
    ]
    menu = ["World", "Business", "Sport", "Culture", "Travel"]
    lines = [
        "Ferry timetable to change",
        *FERRY,
        "Qualified teams",
        *teams,
        "Share this article",
        *menu,
    ]
    ex = extract_text_dump("\n".join(lines), "list")
    assert [p.text for p in ex.paragraphs] == [*FERRY, "Qualified teams", *teams]


def test_a_menu_after_the_article_is_not_a_list_of_it() -> None:
    menu = ["World News", "Business News", "Sport Results", "Culture Pages", "Travel Guides"]
    ex = extract_text_dump("\n".join(["Ferry timetable to change", *FERRY, *menu]), "menu")
    assert [p.text for p in ex.paragraphs] == FERRY


def test_repeated_paragraphs_do_not_cut_the_article_short() -> None:
    last = "The new timetable starts on the first Monday of April."
    lines = [*FERRY[:3], *FERRY[:3], last]  # a recipe or a plan repeats its lines
    text = "\n".join(["Ferry timetable to change | Coastline Gazette", *lines])
    ex = extract_text_dump(text, "repeat")
    assert [p.text for p in ex.paragraphs] == [*FERRY[:3], last]  # the copies once
    assert_full_provenance(text, ex)


SENTENCES = [
    "The minister said on Tuesday that the council would approve the budget before winter.",
    "Der Minister sagte am Dienstag, der Rat werde den Haushalt vor dem Winter genehmigen.",
    "Le ministre a déclaré mardi que le conseil approuverait le budget avant l'hiver.",
    "El ministro dijo el martes que el consejo aprobaría el presupuesto antes del invierno.",
    "O ministro disse na terça-feira que o conselho aprovaria o orçamento antes do inverno.",
    "Il ministro ha detto martedì che il consiglio approverà il bilancio prima dell'inverno.",
    "De minister zei dinsdag dat de raad de begroting voor de winter zou goedkeuren.",
    "Minister powiedział we wtorek, że rada zatwierdzi budżet przed zimą.",
    "Bakan salı günü konseyin bütçeyi kıştan önce onaylayacağını söyledi.",
    "Министр заявил во вторник, что совет утвердит бюджет до зимы.",
    "Ο υπουργός δήλωσε την Τρίτη ότι το συμβούλιο θα εγκρίνει τον προϋπολογισμό.",
    "وقال الوزير يوم الثلاثاء إن المجلس سيوافق على الميزانية قبل الشتاء.",
    "मंत्री ने मंगलवार को कहा कि परिषद सर्दियों से पहले बजट को मंजूरी देगी।",
    "部长周二表示，理事会将在冬季之前批准预算。",
    "大臣は火曜日、評議会が冬の前に予算を承認すると述べた。",
    "장관은 화요일 위원회가 겨울 전에 예산을 승인할 것이라고 말했다.",
    "MINISTER SAYS COUNCIL WILL APPROVE BUDGET",
    "Ministr v úterý řekl, že rada schválí rozpočet před zimou.",
]


def test_the_language_identifier_scores_as_py3langid_does() -> None:
    """The identifier with compacted tables gives every language the same score as
    py3langid's own, bit for bit: on sentences of many languages and scripts, their mixtures,
    and 256-character windows (what detection reads) over both seed captures."""
    import py3langid

    from newsvariants.extract import language_identifier

    seeds = [seed(capture_id)[0] for capture_id in (SEED_ORIGINAL, SEED_MIRROR)]
    windows = [text[start : start + 256] for text in seeds for start in range(0, len(text), 97)]
    mixtures = [" ".join(SENTENCES[k::5]) for k in range(5)]
    identifier = language_identifier()
    assert identifier is language_identifier()  # loaded once a process
    for sample in [*SENTENCES, *mixtures, *windows, "", "12 34", "ok"]:
        assert identifier.rank(sample) == py3langid.rank(sample), sample
        assert identifier.classify(sample) == py3langid.classify(sample)
    found = {identifier.classify(s)[0] for s in SENTENCES}
    assert {"en", "de", "fr", "ru", "zh", "ja"} <= found  # real guesses, not one answer


@pytest.mark.parametrize(
    "text",
    [
        # a share bar padded with spaces: exponential backtracking in the SHARE pattern (108 s)
        "Headline\n"
        + (" " * 12).join(["Facebook", "Twitter", "WhatsApp", "Email", "Print", "LinkedIn"])
        + "\nThe city council voted on Tuesday to approve the new budget after a debate.\n",
        "facebook" + "     twitter" * 12 + " x\n",
        # a date before a long run of spaces: quadratic in `_DATE_CORE` (32 s at 64k spaces)
        "5 Mar" + " " * 64000 + "x\nThe council voted on Tuesday to approve the budget today.\n",
        # thousands of section markers: the tail cut was quadratic in them (91 s at 15k)
        "".join(
            f"The council voted on measure {i} after a long debate in the hall today.\n"
            f"The members of board {i} then went home after the vote on it.\nShare\n"
            for i in range(6000)
        ),
    ],
)
def test_adversarial_dumps_are_extracted_in_linear_time(text: str) -> None:
    extract_text_dump("warm up the language model", "w")
    started = time.process_time()
    ex = extract_text_dump(text, "x")
    # minutes before the fix; well under a second each after it (a bound with wide headroom)
    assert time.process_time() - started < 10
    assert all(text[p.start : p.end] == p.text for p in ex.paragraphs)


def test_a_date_is_never_read_from_a_two_digit_or_implausible_year() -> None:
    # dateutil puts "70" within 50 years of today: the same page got another date in another year
    for dateline in ("1/1/70", "1/1/0001", "5 Mar 0099", "1.2.345", "1/1/2200"):
        assert parse_date(dateline) is None, dateline
    assert parse_date("11/20/2019") == "2019-11-20"
    assert parse_date("2019年11月20日") == "2019-11-20"


BODY = [
    "The central bank raised its main rate by half a point on Tuesday, the third rise this year.",
    "Officials said inflation had stayed above the target for eleven months in a row.",
    "Economists had expected a smaller step, and markets fell after the announcement.",
]


def test_a_headline_the_page_does_not_repeat_is_the_title_right_above_the_body() -> None:
    # It was removed as `navigation` (a short line without a full stop) and the title was null.
    page = "\n".join(["Central bank raises rates to curb inflation", "By Jane Doe", *BODY]) + "\n"
    ex = extract_text_dump(page, "x", PageContext())
    assert ex.title == "Central bank raises rates to curb inflation"
    assert ex.byline == "By Jane Doe"
    assert [p.text for p in ex.paragraphs] == BODY
    assert_full_provenance(page, ex)


def test_a_headline_above_a_share_bar_is_the_title_and_the_bars_label_is_not() -> None:
    # Share lines between the headline and the body stopped the search: the title was null.
    headline = "Central bank raises rates to curb inflation"
    bar = ["Share on Facebook", "Share on Twitter"]
    page = "\n".join([headline, "By Jane Doe", "Published: May 2, 2025", *bar, *BODY]) + "\n"
    ex = extract_text_dump(page, "x", PageContext())
    assert ex.title == headline and ex.published_at == "2025-05-02"
    assert [p.text for p in ex.paragraphs] == BODY
    assert_full_provenance(page, ex)
    # a share bar's label that repeats the headline is the bar's; a short "By ..." line that is
    # not read as a byline ("By Staff Writer 2") is not the headline either
    label = f"Share All sharing options for: {headline}"
    page = "\n".join([headline, "By Staff Writer 2", *bar, label, *BODY]) + "\n"
    assert extract_text_dump(page, "x", PageContext()).title == headline
    # a menu above the share bar: no headline is found, rather than a wrong one
    page = "\n".join(["Home | World | Business | Sport", *bar, *BODY]) + "\n"
    assert extract_text_dump(page, "x", PageContext()).title is None


def test_a_heading_above_a_menu_or_a_dated_line_is_not_taken_for_the_headline() -> None:
    menu = "\n".join(["Central bank news", "Home | World | Business | Sport", *BODY]) + "\n"
    assert extract_text_dump(menu, "x", PageContext()).title is None
    dated = "\n".join(["By admin - 2018-09-16", *BODY]) + "\n"
    assert extract_text_dump(dated, "x", PageContext()).title is None


def test_a_line_a_page_puts_at_its_top_and_between_paragraphs_is_not_its_headline() -> None:
    # The first line of a dump is usually the page's <title>, and where it comes again is the
    # headline above the body. A promotion on the first line, repeated between two paragraphs,
    # was taken for it: the body started below the repeat and the headline and the paragraphs
    # above were removed as `navigation` (274 of 77,398 paragraphs of a generated 10k corpus).
    promo = "Compare the best travel insurance deals of the year today"
    more = [
        "Lawmakers are expected to vote on the budget bill in November, officials said.",
        "The finance ministry declined to comment on the figures on Wednesday evening.",
        "Banks are expected to pass the higher rate on to borrowers within a few weeks.",
    ]
    page = "\n".join([promo, "Central bank raises rates to curb inflation", *BODY, promo, *more])
    ex = extract_text_dump(page + "\n", "x", PageContext())
    assert ex.title == "Central bank raises rates to curb inflation"
    assert [p.text for p in ex.paragraphs] == [*BODY, *more]
    assert [page[r.start : r.end] for r in ex.removed] == [promo, promo]
    assert_full_provenance(page + "\n", ex)
    # A site's tagline (one sentence) may stand above the headline: it is still the anchor, below
    # which a line the article repeats (a subheading) is the article's own.
    tagline = "The latest local news, weather and investigative stories for your community."
    sub = "Rates rise again as inflation stays high"
    headline = "Central bank raises rates to curb inflation"
    site = [f"{headline} - Daily Example", "Home", tagline, headline]
    site += [BODY[0], sub, BODY[1], sub, BODY[2]]
    ex = extract_text_dump("\n".join(site) + "\n", "x", PageContext())
    assert ex.title == headline
    assert [p.text for p in ex.paragraphs] == [BODY[0], sub, BODY[1], sub, BODY[2]]


def test_a_headline_over_the_lead_image_credit_is_the_title_not_an_image_label() -> None:
    # A line right above a photo credit, above the body, was taken for the image's label (a
    # caption) whatever its length, so the title step passed it by and took the line above it
    # (an ad, a "Got a news tip?" prompt). A label names what the image shows, in a few words.
    headline = "New York attorney general investigating WeWork and its former chief"
    credit = "© Jane Roe/Getty Images"
    page = "\n".join(["Get 50% off your first month of premium access", headline, credit, *BODY])
    ex = extract_text_dump(page + "\n", "x", PageContext())
    assert ex.title == headline and ex.captions == []
    assert [p.text for p in ex.paragraphs] == BODY
    labelled = "\n".join(["Chuck Hagel", credit, *BODY])
    ex = extract_text_dump(labelled + "\n", "x", PageContext())
    assert [c.text for c in ex.captions] == ["Chuck Hagel"] and ex.title is None


def test_the_extract_command_dates_an_undated_page_by_the_url_it_is_given(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(_UNDATED_DUMP + "\n", encoding="utf-8")
    args = ["extract", str(page), "--format", "text"]
    dated = CliRunner().invoke(app, [*args, "--url", "https://x.example/2021/02/03/story/"])
    assert dated.exit_code == 0, dated.output
    assert json.loads(dated.stdout)["published_at"] == "2021-02-03"
    assert json.loads(CliRunner().invoke(app, args).stdout)["published_at"] is None


DATED_PAGES = {
    "fr": [
        "Mardi 3 décembre 2024",
        "Accueil",
        "Le conseil municipal vote le budget du port",
        "Publié le 2 décembre 2024 à 18h45",
        "Le conseil municipal a adopté lundi soir le budget du port pour l'année prochaine, "
        "après un long débat public.",
        "Les élus de l'opposition ont dénoncé une hausse des tarifs du ferry, qui passeront de "
        "deux à trois euros.",
        "© 2024 Le Journal du Port",
    ],
    "de": [
        "Dienstag, 3. Dezember 2024",
        "Startseite",
        "Stadtrat beschließt den Haushalt für den Hafen",
        "Veröffentlicht am 2. Dezember 2024, 18:45 Uhr",
        "Der Stadtrat hat am Montagabend den Haushalt des Hafens für das kommende Jahr "
        "beschlossen, nach einer langen öffentlichen Debatte.",
        "Die Opposition kritisierte, dass die Preise für die Fähre von zwei auf drei Euro "
        "steigen sollen.",
        "© 2024 Hafenzeitung",
    ],
}


@pytest.mark.parametrize("language", sorted(DATED_PAGES))
def test_a_dateline_in_another_language_is_the_articles_date_not_its_title(language: str) -> None:
    lines = DATED_PAGES[language]
    page = "\n".join(lines)
    ex = extract_text_dump(page, language)
    assert ex.title == lines[2]
    assert ex.published_at == "2024-12-02"  # the dateline's, not the page header's (3 December)
    assert ex.language == language
    removed = {page[r.start : r.end]: r.reason for r in ex.removed}
    assert removed[lines[0]] == "date_header" and removed[lines[3]] == "metadata"
    assert [p.text for p in ex.paragraphs] == lines[4:6]


_ENGLISH_DATED = [
    "Tuesday, December 3 2024",
    "Home",
    "Council approves the harbour budget after a long debate",
    "Posted {dateline}",
    "The city council approved the harbour budget for next year on Monday evening, after a "
    "long public debate.",
    "Opposition councillors criticised a rise in ferry fares from two to three pounds.",
    "{footer}",
]


@pytest.mark.parametrize(
    ("lines", "dateline", "footer", "expected"),
    [
        # an English page with no other evidence: month first, the US order (dateutil's)
        (_ENGLISH_DATED, "04/05/2024 10:30", "Contact us", "2024-04-05"),
        # the page's own unambiguous date says day first (a UK page): 4 May
        (_ENGLISH_DATED, "04/05/2024 10:30", "Page updated 25/11/2024", "2024-05-04"),
        # and month first when it says so
        (_ENGLISH_DATED, "04/05/2024 10:30", "Page updated 11/25/2024", "2024-04-05"),
        # two orders on one page tell nothing: the language decides
        (_ENGLISH_DATED, "04/05/2024", "Printed 25/11/2024, updated 11/25/2024", "2024-04-05"),
        # an unambiguous dateline is read as it can only be, whatever the page says
        (_ENGLISH_DATED, "04/25/2024", "Page updated 25/11/2024", "2024-04-25"),
        # a French (any non-English) page writes them day first
        (
            DATED_PAGES["fr"][:3]
            + ["Publié le {dateline}"]
            + DATED_PAGES["fr"][4:-1]
            + ["{footer}"],
            "04/05/2024 à 18h45",
            "© 2024 Le Journal du Port",
            "2024-05-04",
        ),
    ],
)
def test_a_slashed_dateline_is_read_in_the_pages_order(
    lines: list[str], dateline: str, footer: str, expected: str
) -> None:
    """04/05/2024 is 5 April in the US and 4 May in most of the world: the page's own
    unambiguous slashed dates tell which, else its language (month first only in English)."""
    page = "\n".join(lines).format(dateline=dateline, footer=footer) + "\n"
    assert extract_text_dump(page, "slashed").published_at == expected
    assert parse_date(f"Posted {dateline}", day_first=True) == (
        expected if dateline.startswith("04/25") else "2024-05-04"
    )


_DATED_TEASERS = [
    "08/01/2014 Ministers meet unions as the rail strike enters its second week",
    "08/01/2014 Court rules the port expansion can go ahead despite protests",
    "07/01/2014 Mayor promises new cycle lanes along the seafront by summer",
    "Jan 6, 2014 - Council approves the harbour budget after a long debate",
]


@pytest.mark.parametrize("where", ["above", "below"])
def test_a_list_of_dated_teasers_is_related_not_body(where: str) -> None:
    """Lines that begin with a date and go on with a headline, two or more in a row, are a list
    of related or archived stories, never the article; a dateline (a date and a time, or a date
    and a name) is not taken for one."""
    headline = "Central bank raises rates for the third time this year"
    dateline = "Jan 8, 2014 at 10:21 am"
    lines = [headline, dateline, *BODY, "Related"]
    lines = (_DATED_TEASERS + lines) if where == "above" else (lines + _DATED_TEASERS)
    page = "\n".join(lines) + "\n"
    ex = extract_text_dump(page, "teasers")
    assert [p.text for p in ex.paragraphs] == BODY
    removed = {page[r.start : r.end]: r.reason for r in ex.removed}
    assert {removed[t] for t in _DATED_TEASERS} == {"related"}
    assert ex.title == headline and ex.published_at == "2014-01-08"
    assert not is_dated_headline(dateline) and not is_dated_headline("May 2, 2024 Jane Doe")
