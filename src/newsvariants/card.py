"""Stage `card`: corpus/README.md = YAML metadata + DATASET_CARD.md with generated sections.

DATASET_CARD.md is hand-written; markers in it are replaced by text generated from the schema and
the corpus itself, so field lists, split sizes and statistics are never typed twice:
  <!-- nv:version -->, <!-- nv:repo -->, <!-- nv:splits -->, <!-- nv:statistics -->,
  <!-- nv:sources -->, <!-- nv:pairs -->, <!-- nv:fields KIND -->, <!-- nv:benchmarks -->,
  <!-- nv:citation -->
The card of the project's own release describes its captures and pins its Hub tag; a build of
other captures (a user's raw/) or an unreleased one must not say either (`is_project_release`).
The sections that differ are markers whose two texts live here, the release's word for word:
  <!-- nv:load [CONFIG] --> (a `load_dataset` call), <!-- nv:download -->,
  <!-- nv:about_captures -->, <!-- nv:coverage --> (biases and limitations), <!-- nv:pinning -->
"""

from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from newsvariants.schema import describe_fields, hf_features, schema_dir
from newsvariants.split import SPLITS
from newsvariants.write import CONFIGS, DEFAULT_CONFIG, release_of, shard_name

HUB_REPO = "newsvariants/newsvariants"  # the dataset repo the card's loading examples name
LOCAL_CORPUS = "path/to/corpus"  # what the loading examples name for a build that is not a release
# The captures of the project's first release, which the release card's Source data describes
SEED_CAPTURES = ("6a46f5a4e7026b00", "aef427151cea1b76")  # rt.com, paradox
# The BCP 47 labels of a variant's `language` that name no language (schema/variant.schema.json)
NO_LANGUAGE = frozenset({"und", "zxx"})
CARD_METADATA: dict[str, Any] = {
    "license": "other",
    "license_name": "per-source",
    # "other": the texts are the outlets'; the card's Licensing information section says what
    # holds (code and added annotations MIT, texts per outlet), and the Hub links to it
    "license_link": "README.md",
    # both from the variants' detected languages (`language_metadata`); placed here for the
    # order of the YAML keys
    "language": [],
    "multilinguality": "monolingual",
    "annotations_creators": ["machine-generated", "expert-generated"],
    "language_creators": ["found"],
    "source_datasets": ["original"],
    "task_categories": ["sentence-similarity", "text-classification"],
    "task_ids": ["semantic-similarity-classification", "semantic-similarity-scoring"],
    "pretty_name": "NewsVariants",
    "tags": [
        "near-duplicate-detection",
        "paraphrase",
        "text-reuse",
        "news",
        "alignment",
        "provenance",
    ],
}
_MARKER = re.compile(r"<!-- nv:(\w+)(?: (\w+))? -->")


def card_source() -> Path:
    """DATASET_CARD.md: in the checkout next to schema/, else the copy shipped in the package."""
    base = schema_dir().parent
    for candidate in (base / "DATASET_CARD.md", base / "_card" / "DATASET_CARD.md"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("DATASET_CARD.md not found")


def benchmarks_table(inputs_digest: str) -> str:
    """The checkout's baseline results (benchmarks/results/baselines.md), when they were measured
    on a corpus built from these inputs; otherwise a note saying so (a corpus built from other
    captures, or results older than the captures, must not carry them)."""
    # the checkout's results, else the copy shipped in the package (pyproject's force-include)
    base = schema_dir().parent
    results = next(
        (d for d in (base / "benchmarks" / "results", base / "_card") if d.is_dir()), base
    )
    table, report = results / "baselines.md", results / "baselines.json"
    measured = None
    if table.is_file() and report.is_file():
        measured = json.loads(report.read_text(encoding="utf-8"))["corpus"]["inputs_digest"]
    if measured == inputs_digest:
        return table.read_text(encoding="utf-8").strip()
    return (
        f"_No baseline results recorded for this corpus (inputs digest `{inputs_digest[:12]}`); "
        "`newsvariants bench` measures them._"
    )


def _size_category(n: int) -> str:
    for bound, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < bound:
            return name
    return "100K<n<1M" if n < 1_000_000 else "n>1M"


def split_sizes(manifest: dict[str, Any]) -> dict[str, dict[str, int]]:
    sizes: dict[str, dict[str, int]] = {c: {} for c in CONFIGS}
    for entry in manifest["files"]:
        parts = entry["path"].split("/")
        if len(parts) == 2 and parts[0] in CONFIGS and entry["rows"]:
            sizes[parts[0]][parts[1].split("-")[0]] = entry["rows"]
    return sizes


def language_counts(corpus: Path) -> Counter[str]:
    """Variants per detected `language` label."""
    return _counts(_whole(corpus, "variants", ["language"])["language"])


def source_counts(corpus: Path) -> Counter[str]:
    """Variants per `source` outlet."""
    return _counts(_whole(corpus, "variants", ["source"])["source"])


def named_languages(counts: Counter[str]) -> Counter[str]:
    """The counts of the labels that name a language: not `und` (too little text to tell) nor
    `zxx` (no linguistic content), which the Hub's `language` field has no use for."""
    return Counter({k: n for k, n in counts.items() if k and k not in NO_LANGUAGE})


def language_metadata(languages: Iterable[str]) -> dict[str, Any]:
    """The card's `language` and `multilinguality` YAML fields, from the corpus's languages."""
    found = sorted(languages)
    return {
        "language": found,
        "multilinguality": "multilingual" if len(found) > 1 else "monolingual",
    }


def yaml_metadata(manifest: dict[str, Any], languages: Iterable[str] = ()) -> dict[str, Any]:
    """The card's YAML header: the Hub fields, with `languages` (the corpus's, see
    `named_languages`), and the configs and split sizes `datasets` reads."""
    sizes = split_sizes(manifest)
    sizes_by_file = {e["path"]: e["bytes"] for e in manifest["files"]}
    configs, infos = [], []
    for config, kind in CONFIGS.items():
        splits = [s for s in SPLITS if sizes[config].get(s)]
        if not splits:
            continue
        entry: dict[str, Any] = {"config_name": config}
        if config == DEFAULT_CONFIG:
            entry["default"] = True
        entry["data_files"] = [{"split": s, "path": f"{config}/{s}-*.parquet"} for s in splits]
        configs.append(entry)
        info = {"config_name": config, **{"features": hf_features(kind)._to_yaml_list()}}
        info["splits"] = [
            {
                "name": s,
                "num_bytes": sizes_by_file[f"{config}/{shard_name(s)}"],
                "num_examples": sizes[config][s],
            }
            for s in splits
        ]
        infos.append(info)
    n_variants = sum(sizes["variants"].values())
    return {
        **CARD_METADATA,
        **language_metadata(languages),
        "size_categories": [_size_category(n_variants)],
        "configs": configs,
        "dataset_info": infos,
    }


def fields_table(kind: str) -> str:
    lines = ["| field | type | description |", "|---|---|---|"]
    for name, typ, desc in describe_fields(kind):
        lines.append(f"| `{name}` | {typ} | {desc.replace('|', '/')} |")
    return "\n".join(lines)


def splits_table(manifest: dict[str, Any]) -> str:
    sizes = split_sizes(manifest)
    lines = ["| config | " + " | ".join(SPLITS) + " |", "|---|" + "---|" * len(SPLITS)]
    for config in CONFIGS:
        lines.append(
            f"| `{config}` | " + " | ".join(str(sizes[config].get(s, 0)) for s in SPLITS) + " |"
        )
    empty = [s for s in SPLITS if not any(sizes[c].get(s) for c in CONFIGS)]
    if empty:
        lines.append("")
        lines.append(
            "Splits with no rows in this release (" + ", ".join(f"`{s}`" for s in empty) + ") are "
            "left out of `configs` and `dataset_info`: `datasets` refuses to load an empty split. "
            "They appear as soon as a story is assigned to them."
        )
    return "\n".join(lines)


def read_table(corpus: Path, config: str, columns: list[str]) -> dict[str, pa.Table]:
    """{split: table} of the given columns (absent splits: no entry). The statistics below are
    Arrow aggregations over these, never Python rows: at 100k captures the pairs alone are
    millions of rows."""
    import pyarrow.parquet as pq

    found: dict[str, pa.Table] = {}
    for split in SPLITS:
        path = corpus / config / shard_name(split)
        if path.exists():
            found[split] = pq.read_table(path, columns=columns)
    return found


def _whole(corpus: Path, config: str, columns: list[str]) -> pa.Table:
    """The given columns of every split, in one table."""
    parts = list(read_table(corpus, config, columns).values())
    if not parts:
        schema = hf_features(CONFIGS[config]).arrow_schema
        return pa.schema([schema.field(c) for c in columns]).empty_table()
    return pa.concat_tables(parts)


def _counts(column: pa.ChunkedArray | pa.Array) -> Counter[Any]:
    """How often each value occurs (nulls included, as None)."""
    found = pc.value_counts(column)
    values = found.field("values").to_pylist()
    return Counter(dict(zip(values, found.field("counts").to_pylist(), strict=True)))


def _class_counts(column: pa.ChunkedArray | pa.Array, feature: Any) -> Counter[str]:
    """How often each value of a column occurs, by name when the feature is a ClassLabel."""
    names = getattr(feature, "names", None)
    found = _counts(column)
    return Counter({(names[k] if names else k): n for k, n in found.items() if k is not None})


def statistics(corpus: Path) -> str:
    stories = _whole(corpus, "stories", ["n_variants"])
    variants = _whole(corpus, "variants", ["paragraphs", "source"])
    aligns = _whole(corpus, "alignments", ["relation", "label_source"])
    features = hf_features("alignment")
    relation_names = features["relation"].names
    label_sources = _class_counts(aligns["label_source"], features["label_source"])
    relations = _class_counts(aligns["relation"], features["relation"])
    sizes = _counts(stories["n_variants"])
    n_par = pc.sum(pc.list_value_length(variants["paragraphs"])).as_py() or 0
    n_sources = pc.count_distinct(variants["source"]).as_py()
    lines = [
        f"- stories: {stories.num_rows}",
        f"- variants: {variants.num_rows} from {n_sources} sources",
        "- variants per story: "
        + ", ".join(f"{k} variant(s): {sizes[k]} stories" for k in sorted(sizes)),
        f"- body paragraphs: {n_par}",
        f"- aligned units: {aligns.num_rows} (relation labelled by a human: "
        f"{label_sources.get('human', 0)}, by the rule: {label_sources.get('rule', 0)})",
        "",
        "| relation | units | share |",
        "|---|---|---|",
    ]
    total = max(aligns.num_rows, 1)
    lines += [
        f"| `{r}` | {relations.get(r, 0)} | {relations.get(r, 0) / total:.1%} |"
        for r in relation_names
    ]
    return "\n".join(lines)


def sources_table(corpus: Path) -> str:
    """Variants and stories per source outlet (the licensing section refers to it)."""
    variants = _whole(corpus, "variants", ["source", "story_id"])
    counts = _counts(variants["source"])
    pairs = variants.group_by(["source", "story_id"]).aggregate([])
    stories = _counts(pairs["source"])
    lines = ["| source | variants | stories |", "|---|---|---|"]
    lines += [f"| `{s}` | {counts[s]} | {stories[s]} |" for s in sorted(counts)]
    return "\n".join(lines)


def pairs_table(corpus: Path) -> str:
    """The composition of the pairs config per split: positives by relation, negatives by kind."""
    columns = ["granularity", "label", "relation", "negative_kind"]
    tables = read_table(corpus, "pairs", columns)
    label_names = hf_features("pair")["label"].names
    kinds: list[tuple[str, str]] = [
        ("same_source", r) for r in load_pair_enum("relation") if r is not None
    ] + [("unrelated", k) for k in load_pair_enum("negative_kind") if k is not None]
    lines = ["| granularity | label | relation / negative_kind | " + " | ".join(SPLITS) + " |"]
    lines.append("|---|---|---|" + "---|" * len(SPLITS))
    counts: dict[str, Counter[tuple[str, str, str]]] = {}
    for split in SPLITS:
        counts[split] = Counter()
        if split not in tables:
            continue
        table = tables[split]
        kind = pc.coalesce(table["relation"], table["negative_kind"])
        grouped = (
            pa.table({"g": table["granularity"], "l": table["label"], "k": kind})
            .group_by(["g", "l", "k"])
            .aggregate([([], "count_all")])
        )
        for g, label, k, n in zip(
            *(grouped[c].to_pylist() for c in ("g", "l", "k", "count_all")), strict=True
        ):
            counts[split][(g, label_names[label], k)] = n
    for granularity in ("paragraph", "document"):
        for label, kind in kinds:
            cells = [str(counts[s].get((granularity, label, kind), 0)) for s in SPLITS]
            if any(c != "0" for c in cells):
                lines.append(f"| {granularity} | {label} | `{kind}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def load_pair_enum(field: str) -> list[str | None]:
    from newsvariants.schema import load_schema

    return list(load_schema("pair")["properties"][field]["enum"])


def citation_bibtex(version: str, project: bool = True) -> str:
    """BibTeX of the release; a build that is not a project release has no tag for `url` to name."""
    note = f"Version {version}" if project else f"Build {version}, not a NewsVariants release"
    url = f"  url    = {{https://huggingface.co/datasets/{HUB_REPO}/tree/v{version}}},\n"
    return (
        "```bibtex\n"
        "@misc{newsvariants,\n"
        "  title  = {{NewsVariants}: News Stories as Republished Across Outlets, with Story IDs "
        "and Typed Paragraph Alignments},\n"
        "  author = {{NewsVariants maintainers}},\n"
        f"  version = {{{version}}},\n"
        f"  note   = {{{note}}},\n"
        "  year   = {2026},\n"
        f"{url if project else ''}"
        "  howpublished = {Hugging Face dataset}\n"
        "}\n```"
    )


def release_line(version: str) -> str:
    """The card's first line: which release this is, or that it is none."""
    if version == "0.0.0":
        return "Unreleased build (no release yet: `newsvariants release` gives it a version)."
    base = release_of(version)
    if base != version:
        return (
            f"Unreleased build ({version}): its files differ from release {base}, so no tag "
            "pins them and the loading examples name its folder; `newsvariants release` gives it "
            "a version."
        )
    return f"Release {version}."


def is_project_release(corpus: Path, manifest: dict[str, Any]) -> bool:
    """Whether the corpus is a release of the project (or a rebuild of one), which the release
    card's own sections (its captures, its Hub tag) are true of. Told from the data: the version
    is a release's (a build keeps the version of released/MANIFEST.json only when every file comes
    out with that release's SHA-256, else it is `X.Y.Z+dev`; a corpus never released is 0.0.0)
    and the corpus holds the seed captures (a user's release of their own captures does not)."""
    version = manifest["version"]
    if version == "0.0.0" or release_of(version) != version:
        return False
    ids = _whole(corpus, "variants", ["capture_id"])["capture_id"]
    return set(SEED_CAPTURES) <= set(pc.unique(ids).to_pylist())


def load_call(version: str, config: str | None, project: bool) -> str:
    """The `load_dataset` call of the loading examples: the Hub's tag of a project release, else
    the build's folder (a `revision` would name a release that does not exist)."""
    args = [f'"{HUB_REPO}"' if project else f'"{LOCAL_CORPUS}"']
    if config:
        args.append(f'"{config}"')
    if project:
        args.append(f'revision="v{version}"')
    return f"load_dataset({', '.join(args)})"


def download_text(version: str, project: bool) -> str:
    """How to check the corpus against its inputs: a release's download, or the build's folder."""
    if project:
        return f"""\
The dataset repository also holds what the corpus was built from: `raw/` (every capture's bytes
and its record, and the human annotations) and `released/` (the registry of story IDs the build
started from). So a download is checked as a checkout is, with the `newsvariants` code of the
same version: `huggingface-cli download {HUB_REPO} --repo-type dataset --revision
v{version} --local-dir nv`, then `newsvariants validate nv --raw nv/raw --rebuild`
(every offset against the bytes of its capture, every file rebuilt byte for byte)."""
    return _wrap(
        f"This build is not a release of `{HUB_REPO}` (its `MANIFEST.json` says version "
        f"{version}), so it has no tag there to download and no `revision` to give: load the "
        f"folder it was built into, as above. `newsvariants validate {LOCAL_CORPUS} --raw raw "
        "--rebuild` checks it against the captures it was built from (every offset against the "
        "bytes of its capture, every file rebuilt byte for byte)."
    )


def _n(count: int, noun: str, plural: str) -> str:
    return f"{count} {noun if count == 1 else plural}"


def _wrap(text: str, indent: str = "") -> str:
    """A generated paragraph (or list item), wrapped at the template's 100 columns."""
    return textwrap.fill(
        text, 100, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    )


def about_captures(manifest: dict[str, Any], sources: Counter[str], project: bool) -> str:
    """Source data: the release's captures, described by hand; else the build's, counted
    (`sources`: its `source_counts`)."""
    if project:
        return """\
The first release holds two real captures of one RT article (Lavrov on NATO bases in Central Asia,
2022), both plain-text page dumps:

- `rt.com` (capture `6a46f5a4e7026b00`): the original outlet's page. Its URL and the time it was
  captured were not recorded, so `url` and `captured_at` are null. It opens with an image label
  and a photo credit glued to the caption.
- `paradox` (capture `aef427151cea1b76`): a mirror that republished the article with light
  rewording, curly quotes and site chrome. The outlet is known only by its footer
  ("© 2022, paradox."); its URL was not recorded. The page prints "Thursday , April 25 2024" in
  its header: that is the date the page was rendered for this capture, so it is recorded as
  `captured_at` = `2024-04-25` (date precision) and never as the publication date."""
    report = manifest["build_report"]
    captures = _n(report["captures"], "capture", "captures")
    return _wrap(
        "This corpus was built from the captures in `raw/` and is not a release of the project. "
        f"Of its {captures}, {report['variants']} are variants here, from "
        f"{_n(len(sources), 'source', 'sources')} (see "
        f"*Sources* above), and {len(report['quarantined'])} quarantined (each with its reason in "
        "`build_report`, in `MANIFEST.json`). `raw/captures.jsonl` records each capture's outlet, "
        "URL and capture time when known, and its `rights` note. Where the sections below cite "
        "the *seed* story or pair, they mean the two captures of the project's first release, on "
        "which its rules were checked."
    )


def coverage(
    manifest: dict[str, Any], sources: Counter[str], languages: Counter[str], project: bool
) -> str:
    """Biases and limitations of what the corpus holds: the release's; else the build's counts
    (`sources` and `languages`: its `source_counts` and `language_counts`)."""
    if project:
        return """\
- **State media and their mirrors are in it.** The seed story is an RT article (Russian state
  media) and a mirror site that republished it. Republication networks of state and partisan media
  are exactly what the corpus documents; their inclusion is not an endorsement, and models trained
  on it learn their framing as much as any other outlet's.
- **Small and skewed.** The first releases hold very few stories, all in English and in one
  domain (international politics); the `validation` and `test` splits can be empty, in which case
  the benchmark says so rather than reporting numbers. Statistics above are per release."""
    sizes = split_sizes(manifest)
    stories = _n(sum(sizes["stories"].values()), "story", "stories")
    outlets = _n(len(sources), "source", "sources")
    counted = _n(sum(sources.values()), "variant", "variants")
    spoken = _variants_by_language(languages)
    empty = [s for s in SPLITS if not any(sizes[c].get(s) for c in CONFIGS)]
    splits = "Every split has rows."
    if empty:
        splits = (
            "Empty here: " + ", ".join(f"`{s}`" for s in empty) + "; the benchmark says so rather "
            "than reporting numbers for them."
        )
    return _wrap(
        f"- **Only what `raw/` holds.** This build has {stories} and {counted} from {outlets}, in "
        f"{spoken or 'no detected language'}. Its outlets, languages and topics, and so its "
        f"biases, are those of the captures ingested. {splits}",
        indent="  ",
    )


def _variants_by_language(counts: Counter[Any]) -> str:
    """ "`en` (3 variants), `fr` (1 variant)": the labels in code order, with their counts."""
    return ", ".join(
        f"`{k}` ({_n(counts[k], 'variant', 'variants')})" for k in sorted(k for k in counts if k)
    )


def languages_section(counts: Counter[str], project: bool) -> str:
    """Languages: the release's, described by hand; else the build's detected languages, counted
    (`counts`: its `language_counts`; the card's YAML `language` lists the same)."""
    if project:
        return """\
English (`en`) news text, as published by the outlets (and their mirrors) in the captures. The
`language` field of each variant is detected at extraction; a capture in another language would be
labelled as such, not dropped."""
    named = _variants_by_language(named_languages(counts))
    unnamed = Counter({k: n for k, n in counts.items() if k in NO_LANGUAGE})
    text = (
        f"News text in {named or 'no detected language'}, as published "
        "by the outlets (and their mirrors) in the captures. The `language` field of each variant "
        "is detected at extraction from its body (py3langid), as a BCP 47 primary language "
        "subtag; a capture in another language is labelled as such, not dropped."
    )
    if unnamed:
        text += (
            f" Labelled with no language: {_variants_by_language(unnamed)} (`und`: "
            "too little text to tell; `zxx`: no linguistic content)."
        )
    return _wrap(text)


def pinning(version: str, project: bool) -> str:
    """Versioning: how to pin this release; or why no tag pins this build."""
    if project:
        return f"""\
The Hugging Face loader does not carry a dataset
version, so pin one with the tag:

```python
{load_call(version, "pairs", project)}
```

This card describes release {version}."""
    # the marker stands after a sentence of the template: the release's line break, then wrapped
    return "The Hugging Face loader does not carry a dataset\n" + _wrap(
        "version, and this build is not a "
        f"release of `{HUB_REPO}` (`version` {version} in `MANIFEST.json`), so no tag pins it: "
        "`datasets` reads a local folder as it is, whatever `revision` says. Keep the folder (or "
        "the commit that holds it) to come back to these files; `newsvariants validate` checks "
        "them against `MANIFEST.json`."
    )


def render_card(corpus: Path) -> str:
    manifest = json.loads((corpus / "MANIFEST.json").read_text(encoding="utf-8"))
    version = manifest["version"]
    body = card_source().read_text(encoding="utf-8")
    project = is_project_release(corpus, manifest)
    languages = language_counts(corpus)  # for the YAML, the Languages section and the coverage
    sources = source_counts(corpus)  # for the Source data and the coverage

    def replace(match: re.Match[str]) -> str:
        name, arg = match.group(1), match.group(2)
        if name == "version":
            return version
        if name == "release":
            return release_line(version)
        if name == "load":
            return load_call(version, arg, project)
        if name == "download":
            return download_text(version, project)
        if name == "about_captures":
            return about_captures(manifest, sources, project)
        if name == "coverage":
            return coverage(manifest, sources, languages, project)
        if name == "languages":
            return languages_section(languages, project)
        if name == "pinning":
            return pinning(version, project)
        if name == "repo":
            return HUB_REPO
        if name == "sources":
            return sources_table(corpus)
        if name == "pairs":
            return pairs_table(corpus)
        if name == "splits":
            return splits_table(manifest)
        if name == "statistics":
            return statistics(corpus)
        if name == "fields" and arg:
            return fields_table(arg)
        if name == "benchmarks":
            return benchmarks_table(manifest["inputs"]["digest"])
        if name == "citation":
            return citation_bibtex(version, project)
        raise ValueError(f"DATASET_CARD.md: unknown marker {match.group(0)}")

    text = _MARKER.sub(replace, body)
    metadata = yaml_metadata(manifest, named_languages(languages))
    front = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True, width=1000)
    card = f"---\n{front}---\n\n{text.strip()}\n"
    (corpus / "README.md").write_text(card, encoding="utf-8")
    return card


def card_problems(corpus: Path, manifest: dict[str, Any]) -> list[str]:
    """What is wrong with corpus/README.md's YAML header, which `datasets` reads the configs,
    their files and every split's size from: it must be what MANIFEST.json and the schemas give.
    The manifest has no checksum of the card (the card is written from the manifest), so a hand
    edit of `num_examples` passed `validate` and then failed `load_dataset`."""
    path = corpus / "README.md"
    if not path.is_file():
        return [f"{path}: missing (the card: `datasets` reads the configs and splits from it)"]
    text = path.read_text(encoding="utf-8")
    parts = text.split("---\n", 2)
    if not text.startswith("---\n") or len(parts) < 3:
        return [f"{path}: no YAML header (--- ... ---) with the configs and splits"]
    try:
        header = yaml.safe_load(parts[1]) or {}
    except yaml.YAMLError as exc:
        return [f"{path}: YAML header does not parse: {exc}"]
    expected = yaml_metadata(manifest)
    return [
        f"{path}: YAML `{key}` differs from what MANIFEST.json and the schemas give (edited by "
        "hand? rebuild to regenerate the card)"
        for key in ("configs", "dataset_info")
        if not isinstance(header, dict) or header.get(key) != expected[key]
    ]
