"""The incremental cache: a rebuild redoes only new (or invalidated) captures, byte-identically."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsvariants import executor
from newsvariants.build import build
from newsvariants.executor import extract_captures
from newsvariants.extract import extract_capture
from newsvariants.ingest import file_inputs, ingest, load_captures
from newsvariants.records import Capture, Extraction

from .multistory import write_captures
from .test_executor import tree_hashes

EXTRACTED: list[str] = []


def counting_extract(capture: Capture, data: bytes, context: object) -> Extraction:
    EXTRACTED.append(capture.capture_id)
    return extract_capture(capture, data, context)  # type: ignore[arg-type]


def add_stories(root: Path, stories: tuple[int, ...], source: str | None = None) -> set[str]:
    """Ingest the stories' dumps into root/raw; returns the new capture IDs."""
    items = []
    for path in write_captures(root / "pages", stories):
        copy = path.stem.split("-")[1]
        page_source = source or ("origin.example" if copy == "0" else f"mirror{copy}.example")
        items += file_inputs(
            path, source=page_source, captured_at="2024-01-02", url=None, fmt="text"
        )
    return {o.capture.capture_id for o in ingest(items, root / "raw") if o.added}


def test_a_rebuild_after_new_captures_extracts_only_them(tmp_path: Path) -> None:
    raw, cache = tmp_path / "raw", tmp_path / "cache"
    add_stories(tmp_path, (0, 1, 2, 3, 4, 8, 15))
    EXTRACTED.clear()
    first = extract_captures(raw, load_captures(raw), cache_dir=cache, extract=counting_extract)
    assert len(EXTRACTED) == len(load_captures(raw))
    new = add_stories(tmp_path, (31,))
    EXTRACTED.clear()
    again = extract_captures(raw, load_captures(raw), cache_dir=cache, extract=counting_extract)
    assert sorted(EXTRACTED) == sorted(new)
    assert set(again[0]) == set(first[0]) | new
    assert again == extract_captures(raw, load_captures(raw))  # no cache: the same results


def bergen_page(path: Path, captured_at: str) -> list:
    return list(
        file_inputs(path, source="bergen.example", captured_at=captured_at, url=None, fmt="text")
    )


def test_a_source_whose_templates_change_is_redone_for_that_source_only(tmp_path: Path) -> None:
    # Four pages of one outlet share a footer line; until a second page exists it is no template.
    raw, cache = tmp_path / "raw", tmp_path / "cache"
    add_stories(tmp_path, (0, 1, 2))
    footer = tmp_path / "footer"
    footer.mkdir()
    pages = []
    for n in range(2):
        page = footer / f"page{n}.txt"
        page.write_text(
            f"Bergen council news {n}\n\nThe council of Bergen met about item {n} today and "
            f"approved the harbour plan number {n} after a long debate.\n\n"
            "Copyright Bergen Daily, all rights reserved\n",
            encoding="utf-8",
        )
        pages.append(page)
    ingest(bergen_page(pages[0], "2024-01-03"), raw)
    extract_captures(raw, load_captures(raw), cache_dir=cache)
    ingest(bergen_page(pages[1], "2024-01-04"), raw)
    EXTRACTED.clear()
    cached = extract_captures(raw, load_captures(raw), cache_dir=cache, extract=counting_extract)
    bergen = {c.capture_id for c in load_captures(raw) if c.source == "bergen.example"}
    assert set(EXTRACTED) == bergen  # both Bergen pages, no page of the other sources
    assert cached == extract_captures(raw, load_captures(raw))


def test_a_code_change_invalidates_every_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, cache = tmp_path / "raw", tmp_path / "cache"
    add_stories(tmp_path, (0, 1))
    extract_captures(raw, load_captures(raw), cache_dir=cache)
    monkeypatch.setattr(executor, "stage_fingerprint", lambda: "another-extractor-version")
    EXTRACTED.clear()
    extract_captures(raw, load_captures(raw), cache_dir=cache, extract=counting_extract)
    assert len(EXTRACTED) == len(load_captures(raw))


def test_an_incremental_build_is_byte_identical_to_an_uncached_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executor, "POOL_MIN_TASKS", 0)  # the pool even for these few captures
    raw, cache = tmp_path / "raw", tmp_path / "cache"
    add_stories(tmp_path, (0, 1, 2, 3, 4, 8))
    build(raw, tmp_path / "v1", cache_dir=cache, workers=2)
    add_stories(tmp_path, (15,))
    registry = tmp_path / "v1" / "REGISTRY.json"
    build(raw, tmp_path / "cached", registry_path=registry, cache_dir=cache, workers=2)
    build(raw, tmp_path / "scratch", registry_path=registry)
    assert tree_hashes(tmp_path / "cached") == tree_hashes(tmp_path / "scratch")
    assert tree_hashes(tmp_path / "cached") != tree_hashes(tmp_path / "v1")


def test_a_rebuild_reads_no_scan_of_a_source_whose_captures_are_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, cache = tmp_path / "raw", tmp_path / "cache"
    add_stories(tmp_path, (0, 1, 2, 3))
    first = extract_captures(raw, load_captures(raw), cache_dir=cache)
    new = add_stories(tmp_path, (4,), source="newcomer.example")
    read: list[str] = []
    get_many = executor.CaptureCache.get_many

    def recording(self: executor.CaptureCache, keys: list[str]) -> dict[str, object]:
        read.extend(keys)
        return get_many(self, keys)

    monkeypatch.setattr(executor.CaptureCache, "get_many", recording)
    again = extract_captures(raw, load_captures(raw), cache_dir=cache)
    scans = [key for key in read if key.startswith("scan|")]
    assert scans == []  # the old sources' values stood for their scans; the new one's were made
    assert sum(key.startswith("source-scan|") for key in read) == 3  # origin and two mirrors
    assert set(again[0]) == set(first[0]) | new
    assert again == extract_captures(raw, load_captures(raw))  # no cache: the same results


def test_a_capture_whose_url_is_corrected_is_extracted_again(tmp_path: Path) -> None:
    """An extraction depends on the capture's URL (an undated page is dated by it): a record
    whose URL changes is not served from the cache."""
    import json

    raw, cache = tmp_path / "raw", tmp_path / "cache"
    add_stories(tmp_path, (0, 1))
    first = extract_captures(raw, load_captures(raw), cache_dir=cache, extract=counting_extract)
    records = raw / "captures.jsonl"
    lines = records.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["url"] = "https://origin.example/2019/11/18/story/"
    records.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n", encoding="utf-8")
    EXTRACTED.clear()
    again = extract_captures(raw, load_captures(raw), cache_dir=cache, extract=counting_extract)
    assert len(EXTRACTED) == 1 and EXTRACTED[0] == record["capture_id"]
    assert first[0][record["capture_id"]].published_at is None
    assert again[0][record["capture_id"]].published_at == "2019-11-18"
