"""`newsvariants explore` renders every story with its aligned units."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from newsvariants.cli import app

runner = CliRunner()


def test_explore_writes_one_page_per_story_with_every_unit(
    seed_corpus: Path, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["explore", str(seed_corpus), "--output", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    [story] = pq.read_table(seed_corpus / "stories" / "train-00000-of-00001.parquet").to_pylist()
    page = (tmp_path / "x" / f"{story['story_id']}.html").read_text(encoding="utf-8")
    units = pq.read_table(seed_corpus / "alignments" / "train-00000-of-00001.parquet").num_rows
    assert page.count("<tr class=") == units
    assert story["story_id"] in (tmp_path / "x" / "index.html").read_text(encoding="utf-8")
