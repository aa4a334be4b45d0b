"""The dataset card: complete YAML metadata, every schema field described, generated sections
that match the corpus, and example code that runs."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from newsvariants import card as card_module
from newsvariants.card import render_card
from newsvariants.schema import describe_fields, hf_features
from newsvariants.split import SPLITS
from newsvariants.write import CONFIGS

from .multistory import read_rows, shared_corpus

SECTIONS = [
    "## Dataset summary",
    "## Supported tasks and leaderboards",
    "## Languages",
    "## Splits",
    "## Statistics",
    "## Data fields",
    "## Dataset creation",
    "### Source data",
    "### Extraction",
    "### Stories",
    "### Alignment",
    "### Annotations",
    "## Personal and sensitive information",
    "### Biases and limitations",
    "## Licensing information",
    "## Benchmarks",
    "## Versioning",
    "## Citation",
]


@pytest.fixture()
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_corpus(tmp_path_factory)


def _split_card(corpus: Path) -> tuple[dict, str]:
    text = (corpus / "README.md").read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front), body


def test_yaml_metadata_has_every_hub_field(corpus: Path) -> None:
    meta, _ = _split_card(corpus)
    for key in ("license", "language", "task_categories", "task_ids", "size_categories"):
        assert meta[key], key
    for key in ("pretty_name", "tags", "configs", "dataset_info", "annotations_creators"):
        assert meta[key], key
    assert {c["config_name"] for c in meta["configs"]} == set(CONFIGS)
    assert [c["config_name"] for c in meta["configs"] if c.get("default")] == ["variants"]


def test_dataset_info_declares_the_features_and_exact_split_sizes(corpus: Path) -> None:
    meta, _ = _split_card(corpus)
    for info in meta["dataset_info"]:
        config = info["config_name"]
        assert info["features"] == hf_features(CONFIGS[config])._to_yaml_list()
        rows = read_rows(corpus, config)
        assert {s["name"]: s["num_examples"] for s in info["splits"]} == {
            split: len(rows[split]) for split in SPLITS if rows[split]
        }


def test_the_card_has_every_section_and_no_marker_left(corpus: Path) -> None:
    _, body = _split_card(corpus)
    headings = [line for line in body.splitlines() if line.startswith("#")]
    for section in SECTIONS:
        assert section in headings, section
    assert "<!-- nv:" not in body


def test_every_schema_field_is_described(corpus: Path) -> None:
    _, body = _split_card(corpus)
    for kind in CONFIGS.values():
        for name, _, description in describe_fields(kind):
            assert description.strip(), f"{kind}.{name} has no description in schema/"
            assert f"| `{name}` |" in body


def test_statistics_and_pair_composition_match_the_corpus(corpus: Path) -> None:
    _, body = _split_card(corpus)
    stories = [s for rows in read_rows(corpus, "stories").values() for s in rows]
    assert f"- stories: {len(stories)}" in body
    relations = Counter(a["relation"] for r in read_rows(corpus, "alignments").values() for a in r)
    for relation, n in relations.items():
        assert re.search(rf"\| `{relation}` \| {n} \| ", body), relation
    pairs = read_rows(corpus, "pairs")
    table = [line for line in body.splitlines() if re.match(r"\| (paragraph|document) \|", line)]
    totals = [sum(int(line.split("|")[4 + i]) for line in table) for i in range(len(SPLITS))]
    assert totals == [len(pairs[s]) for s in SPLITS]


def test_the_card_says_how_versions_work_and_that_this_build_has_none(corpus: Path) -> None:
    """The multi-story corpus is a build of other captures, never released: the versioning rules
    stand, but no example pins a release (a `revision="v0.0.0"` names one that does not exist)."""
    _, body = _split_card(corpus)
    assert "Unreleased build (no release yet" in body and "revision=" not in body
    for word in ("major", "minor", "patch", "split salt", "new captures"):
        assert word in body
    assert f'load_dataset("{card_module.LOCAL_CORPUS}", "pairs")' in body


def test_the_task_examples_in_the_card_run_on_the_corpus(corpus: Path) -> None:
    """The near-duplicate and paraphrase recipes, pointed at the local corpus, give the filters."""
    _, body = _split_card(corpus)
    blocks = re.findall(r"```python\n(.*?)```", body, re.S)
    recipe = next(b for b in blocks if "paraphrase" in b)
    recipe = recipe.replace(card_module.LOCAL_CORPUS, str(corpus))  # the build's own folder
    scope: dict = {}
    exec(compile(recipe, "card-recipe", "exec"), scope)  # noqa: S102 - the card's own example
    rows = read_rows(corpus, "pairs")["test"]
    near = sorted(r["near_duplicate"] for r in scope["near_dup"]["test"])
    expected = [int(r["relation"] in {"identical", "formatting", "minor_edit"}) for r in rows]
    assert near == sorted(expected) and 0 < sum(near) < len(near)
    para = scope["paraphrase"]["test"]
    assert len(para) > 0
    assert all(
        r["granularity"] == "paragraph"
        and (r["relation"] == "major_edit" or r["negative_kind"] in ("same_story", "nearest_other"))
        for r in para
    )


def test_the_benchmark_table_is_embedded_when_results_exist(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "corpus"
    import shutil

    shutil.copytree(corpus, copy)
    results = tmp_path / "repo" / "benchmarks" / "results"
    results.mkdir(parents=True)
    monkeypatch.setattr(card_module, "schema_dir", lambda: tmp_path / "repo" / "schema")
    monkeypatch.setattr(card_module, "card_source", lambda: card_module.Path(_card_path()))
    assert "_No baseline results recorded" in render_card(copy)
    (results / "baselines.md").write_text("| baseline | x |\n|---|---|\n| tfidf | 1 |\n")
    digest = json.loads((copy / "MANIFEST.json").read_text())["inputs"]["digest"]
    for measured_on, embedded in (("f" * 64, False), (digest, True)):
        report = {"corpus": {"version": "x", "inputs_digest": measured_on}}
        (results / "baselines.json").write_text(json.dumps(report))
        card = render_card(copy)
        # results measured on other inputs (other captures, an older raw/) are not this corpus's
        assert ("| tfidf | 1 |" in card) is embedded
        assert ("_No baseline results recorded" in card) is not embedded


def _card_path() -> str:
    return str(Path(__file__).resolve().parents[1] / "DATASET_CARD.md")


def test_an_unknown_marker_is_an_error(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    copy = tmp_path / "corpus"
    shutil.copytree(corpus, copy)
    source = tmp_path / "CARD.md"
    source.write_text("# x\n<!-- nv:nonsense -->\n", encoding="utf-8")
    monkeypatch.setattr(card_module, "card_source", lambda: source)
    with pytest.raises(ValueError, match="unknown marker"):
        render_card(copy)


def test_the_committed_card_embeds_the_baselines_of_the_committed_corpus(repo: Path) -> None:
    """The build embeds benchmarks/results/baselines.md in the card only when it was measured on
    the corpus's inputs: a change of the inputs (an extractor version, new captures) must come
    with `newsvariants bench` again, or the published card says no results were recorded."""
    manifest = json.loads((repo / "corpus" / "MANIFEST.json").read_text(encoding="utf-8"))
    results = repo / "benchmarks" / "results"
    measured = json.loads((results / "baselines.json").read_text(encoding="utf-8"))
    assert measured["corpus"]["inputs_digest"] == manifest["inputs"]["digest"]
    table = (results / "baselines.md").read_text(encoding="utf-8").strip()
    assert table in (repo / "corpus" / "README.md").read_text(encoding="utf-8")


def test_the_readme_states_the_size_of_the_committed_corpus(repo: Path) -> None:
    """The README tells a user how much data there is before they depend on it; a release that
    adds captures must update that sentence."""
    text = " ".join((repo / "README.md").read_text(encoding="utf-8").split())
    stated = re.search(
        r"The current release holds (\d+) stor(?:y|ies).*?(\d+) variants, (\d+) aligned units "
        r"and (\d+) pairs, every row in `train`",
        text,
    )
    assert stated, "README.md: the sentence giving the current release's size is missing"
    manifest = json.loads((repo / "corpus" / "MANIFEST.json").read_text(encoding="utf-8"))
    rows: Counter[str] = Counter()
    splits = set()
    for entry in manifest["files"]:
        parts = entry["path"].split("/")
        if len(parts) == 2 and parts[0] in CONFIGS and entry["rows"]:
            rows[parts[0]] += entry["rows"]
            splits.add(parts[1].split("-")[0])
    assert [int(n) for n in stated.groups()] == [
        rows["stories"],
        rows["variants"],
        rows["alignments"],
        rows["pairs"],
    ]
    assert splits == {"train"}


def test_the_committed_corpus_names_the_package_version_of_its_release(repo: Path) -> None:
    """The package is versioned with the data: the corpus of release X.Y.Z was built by
    version X.Y.Z, so MANIFEST's code_version tells a user which code (tag vX.Y.Z) made it."""
    from newsvariants import __version__
    from newsvariants.write import release_of

    manifest = json.loads((repo / "corpus" / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["code_version"] == __version__
    assert release_of(manifest["version"]) == __version__


def test_the_committed_release_is_rebuilt_from_the_registry_kept_in_released(repo: Path) -> None:
    """released/ holds the registry and manifest of the last release, which the next builds
    start from: for the committed corpus (a release), the registry it was built from, its own
    (a release is what its own registry builds), and the same version."""
    manifest = json.loads((repo / "corpus" / "MANIFEST.json").read_text(encoding="utf-8"))
    kept = repo / "released"
    text = (kept / "REGISTRY.json").read_text(encoding="utf-8")
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == manifest["inputs"]["registry_sha256"]
    assert (kept / "REGISTRY.json").read_bytes() == (repo / "corpus" / "REGISTRY.json").read_bytes()
    kept_manifest = json.loads((kept / "MANIFEST.json").read_text(encoding="utf-8"))
    assert kept_manifest["version"] == manifest["version"]
    assert kept_manifest["files"] == manifest["files"]
