"""What `newsvariants build` prints: every quarantined capture and story event when they are few,
a summary by kind when they are many (a 100k-capture build makes ~20k stories), every one with
--verbose."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsvariants import cli
from newsvariants.cli import app, listed_lines, story_event_lines
from newsvariants.registry import StoryEvent

from .multistory import STORIES, shared_corpus

runner = CliRunner()


def _events(new: int, merged: int = 0, split: int = 0) -> list[StoryEvent]:
    events = [StoryEvent("new", f"s-new{i:04d}", "1 capture(s)") for i in range(new)]
    # identity changes come after the new stories, as the registry emits merges last
    events += [StoryEvent("merged", f"s-mrg{i:04d}", f"absorbed s-old{i}") for i in range(merged)]
    events += [StoryEvent("split", f"s-spl{i:04d}", "split off s-old") for i in range(split)]
    return events


def test_few_story_events_are_each_printed_as_they_are() -> None:
    events = _events(new=3, merged=1)
    assert story_event_lines(events, limit=20) == [
        "new: s-new0000 1 capture(s)",
        "new: s-new0001 1 capture(s)",
        "new: s-new0002 1 capture(s)",
        "merged: s-mrg0000 absorbed s-old0",
    ]
    assert story_event_lines(events, limit=None) == story_event_lines(events, limit=4)


def test_many_story_events_are_counted_and_identity_changes_listed_first() -> None:
    events = _events(new=25, merged=2, split=1)
    lines = story_event_lines(events, limit=5)
    assert lines[0] == "story events: 25 new, 1 split, 2 merged"
    # the merges and the split, though emitted last, come before any new story
    assert lines[1:4] == [
        "merged: s-mrg0000 absorbed s-old0",
        "merged: s-mrg0001 absorbed s-old1",
        "split: s-spl0000 split off s-old",
    ]
    assert lines[4:6] == ["new: s-new0000 1 capture(s)", "new: s-new0001 1 capture(s)"]
    assert lines[6:] == ["... and 23 more (--verbose lists every one)"]
    every = story_event_lines(events, limit=None)
    assert len(every) == len(events) and not any(line.startswith("story events") for line in every)


def test_listed_lines_says_how_many_are_left_out_and_where_they_are() -> None:
    lines = [f"quarantined c{i}" for i in range(7)]
    assert listed_lines(lines, 7, "elsewhere") == lines
    assert listed_lines(lines, 3, "elsewhere") == [*lines[:3], "... and 4 more (elsewhere)"]


def test_build_summarises_many_story_events_unless_verbose(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = shared_corpus(tmp_path_factory).parent / "raw"
    monkeypatch.setattr(cli, "LISTED_LINES", 4)  # the multi-story corpus has 9 stories
    args = ["build", "--raw", str(raw), "--out", str(tmp_path / "corpus")]

    summarised = runner.invoke(app, args)
    assert summarised.exit_code == 0, summarised.output
    lines = [line.strip() for line in summarised.output.splitlines()]
    # its summary is one line, however long the path (stdout is not wrapped at 80 columns)
    built = [line for line in lines if line.startswith(f"built {tmp_path / 'corpus'}: ")]
    assert len(built) == 1 and built[0].endswith("; 0 quarantined") and len(built[0]) > 80
    assert f"story events: {len(STORIES)} new" in lines
    assert sum(line.startswith("new: s-") for line in lines) == 4
    assert f"... and {len(STORIES) - 4} more (--verbose lists every one)" in lines

    verbose = runner.invoke(app, [*args, "--verbose"])
    assert verbose.exit_code == 0, verbose.output
    listed = [line.strip() for line in verbose.output.splitlines() if "new: s-" in line]
    assert len(listed) == len(STORIES)
    assert not any("story events" in line for line in verbose.output.splitlines())
