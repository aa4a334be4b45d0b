"""The pivot of a story: earliest known date, most complete on ties, unknown dates last."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from newsvariants.build import make_story, pivot_key
from newsvariants.records import Paragraph, Variant


def _variant(
    vid: str, published: str | None, captured: str | None, paragraphs: list[str]
) -> Variant:
    return Variant(
        variant_id=vid,
        story_id="s-x",
        capture_id=vid.removeprefix("v-"),
        capture_sha256="0" * 64,
        source="x.example",
        url=None,
        title=None,
        byline=None,
        published_at=published,
        captured_at=captured,
        language="en",
        format="text",
        paragraphs=[Paragraph(f"{vid}:p{i:03d}", t, 0, len(t)) for i, t in enumerate(paragraphs)],
        captions=[],
        title_span=None,
        byline_span=None,
        removed=[],
        extractor_version="test",
    )


def _pivot(*variants: Variant) -> str:
    return make_story("s-x", list(variants), []).pivot_variant_id


def test_the_earliest_known_date_wins_published_before_captured() -> None:
    early_publication = _variant("v-b", "2022-05-01", "2024-01-01", ["one"])
    early_capture = _variant("v-a", None, "2023-01-01", ["one", "two"])
    assert _pivot(early_publication, early_capture) == "v-b"


def test_variants_without_any_date_come_last() -> None:
    undated = _variant("v-a", None, None, ["one", "two", "three"])
    dated = _variant("v-b", None, "2024-04-25", ["one"])
    assert _pivot(undated, dated) == "v-b"


def test_ties_go_to_the_most_complete_then_the_smallest_id() -> None:
    fewer = _variant("v-a", None, "2024-01-01", ["one paragraph"])
    more = _variant("v-c", None, "2024-01-01", ["one", "two"])
    assert _pivot(fewer, more) == "v-c"
    shorter = _variant("v-d", None, "2024-01-01", ["one", "two"])
    longer = _variant("v-e", None, "2024-01-01", ["one", "two and more"])
    assert _pivot(shorter, longer) == "v-e"
    twin = _variant("v-f", None, "2024-01-01", ["one", "two and more"])
    assert _pivot(twin, longer) == "v-e"
    assert pivot_key(longer) < pivot_key(twin)


def test_the_seed_storys_pivot_is_the_mirror_the_only_dated_capture(seed_corpus: Path) -> None:
    [story] = pq.read_table(seed_corpus / "stories" / "train-00000-of-00001.parquet").to_pylist()
    variants = pq.read_table(seed_corpus / "variants" / "train-00000-of-00001.parquet").to_pylist()
    source_of = {v["variant_id"]: v["source"] for v in variants}
    assert source_of[story["pivot_variant_id"]] == "paradox"
    undated = [v for v in variants if v["source"] == "rt.com"]
    assert [(v["published_at"], v["captured_at"]) for v in undated] == [(None, None)]


def test_dates_are_compared_as_utc_days_not_as_strings() -> None:
    # As strings, "2024-05-01T23:30-05:00" (04:30 UTC on 2 May) came first, so the excerpt
    # was the pivot; by UTC day the two tie and the fuller variant wins.
    excerpt = _variant("v-a", None, "2024-05-01T23:30:00-05:00", ["one"])
    full = _variant("v-b", None, "2024-05-02T01:00:00Z", ["one", "two", "three"])
    assert _pivot(excerpt, full) == "v-b"
    # A date and a date-time of the same day tie too ("2022-04-13" sorted before every time of
    # the 13th): the fuller variant wins, whichever carries the time.
    dated_excerpt = _variant("v-c", "2022-04-13", None, ["one"])
    timed_full = _variant("v-d", None, "2022-04-13T00:58:00Z", ["one", "two", "three"])
    assert _pivot(dated_excerpt, timed_full) == "v-d"
    # A day earlier still wins, whatever the completeness.
    day_before = _variant("v-e", None, "2022-04-12T23:59:00+00:00", ["one"])
    assert _pivot(dated_excerpt, timed_full, day_before) == "v-e"


def test_first_seen_is_the_earliest_instant_as_written() -> None:
    later = _variant("v-a", None, "2024-05-01T23:30:00-05:00", ["one"])
    earlier = _variant("v-b", None, "2024-05-02T01:00:00Z", ["one"])
    story = make_story("s-x", [later, earlier], [])
    assert story.first_seen == "2024-05-02T01:00:00Z"
    dated = _variant("v-c", "2024-05-02", None, ["one"])
    assert make_story("s-x", [later, earlier, dated], []).first_seen == "2024-05-02"
