"""`newsvariants explore`: a static HTML view of the corpus, one page per story, variants side by
side with their aligned paragraphs, relations and token diffs. No server, no JavaScript."""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from newsvariants.schema import decode_class_labels
from newsvariants.split import SPLITS
from newsvariants.write import CONFIGS, shard_name

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}
table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:.4em;vertical-align:top}
.identical{background:#eef9ee}.formatting{background:#f3fbe9}.minor_edit{background:#fff8e1}
.major_edit{background:#ffe9d6}.split,.merge{background:#e8f0ff}.added,.removed{background:#f6e6f6}
ins{background:#c8f0c8;text-decoration:none}del{background:#f6c8c8}
"""


def _read(corpus: Path, config: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for split in SPLITS:
        path = corpus / config / shard_name(split)
        if path.exists():
            kind = CONFIGS[config]
            rows += [
                dict(decode_class_labels(kind, r), split=split)
                for r in pq.read_table(path).to_pylist()
            ]
    return rows


def _diff_html(diff: list[dict[str, str]]) -> str:
    tags = {"equal": "{}", "insert": "<ins>{}</ins>", "delete": "<del>{}</del>"}
    return " ".join(tags[op["op"]].format(html.escape(op["text"])) for op in diff)


def story_page(
    story: dict[str, Any], variants: dict[str, dict[str, Any]], units: list[dict[str, Any]]
) -> str:
    pivot = variants[story["pivot_variant_id"]]
    parts = [
        f"<h1>{html.escape(story['title'] or story['story_id'])}</h1>",
        f"<p>{story['story_id']} · split {story['split']} · {story['n_variants']} variants · "
        f"pivot {pivot['variant_id']} ({html.escape(pivot['source'])})</p>",
        '<p><a href="index.html">all stories</a></p>',
    ]
    by_variant: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for unit in units:
        by_variant[unit["variant_b"]].append(unit)
    for vid, rows in sorted(by_variant.items()):
        other = variants[vid]
        parts.append(
            f"<h2>{html.escape(pivot['source'])} ↔ {html.escape(other['source'])} ({vid})</h2>"
        )
        parts.append("<table><tr><th>pivot</th><th>variant</th><th>relation</th><th>diff</th></tr>")
        for u in rows:
            parts.append(
                f'<tr class="{u["relation"]}"><td>{html.escape(u["text_a"])}</td>'
                f"<td>{html.escape(u['text_b'])}</td><td>{u['relation']}<br><small>"
                f"{u['label_source']} · ratio {u['scores']['char_ratio']:.2f}</small></td>"
                f"<td>{_diff_html(u['diff'])}</td></tr>"
            )
        parts.append("</table>")
    return _page(story["story_id"], "\n".join(parts))


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def write_explorer(corpus: Path, out: Path) -> Path:
    """Write out/index.html and one page per story; returns the index path."""
    stories = sorted(_read(corpus, "stories"), key=lambda s: s["story_id"])
    variants = {v["variant_id"]: v for v in _read(corpus, "variants")}
    units: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for unit in _read(corpus, "alignments"):
        units[unit["story_id"]].append(unit)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for story in stories:
        (out / f"{story['story_id']}.html").write_text(
            story_page(story, variants, units[story["story_id"]]), encoding="utf-8"
        )
        rows.append(
            f"<tr><td><a href='{story['story_id']}.html'>{story['story_id']}</a></td>"
            f"<td>{html.escape(story['title'] or '')}</td><td>{story['split']}</td>"
            f"<td>{story['n_variants']}</td>"
            f"<td>{html.escape(', '.join(story['sources']))}</td></tr>"
        )
    index = out / "index.html"
    index.write_text(
        _page(
            "NewsVariants",
            "<h1>NewsVariants stories</h1><table><tr><th>story</th><th>title</th><th>split</th>"
            "<th>variants</th><th>sources</th></tr>" + "".join(rows) + "</table>",
        ),
        encoding="utf-8",
    )
    return index
