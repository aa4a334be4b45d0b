"""Users load the corpus with `datasets.load_dataset`, offline, with the declared features."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest
import yaml

from newsvariants.schema import hf_features
from newsvariants.write import CONFIGS

from .conftest import CORPUS


def _card_yaml(corpus: Path) -> dict:
    text = (corpus / "README.md").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1])


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_every_config_loads_with_its_features(config: str) -> None:
    dataset = datasets.load_dataset(str(CORPUS), config)
    assert "train" in dataset
    for split in dataset.values():
        assert len(split) > 0
        assert split.features == hf_features(CONFIGS[config])


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_every_config_streams(config: str) -> None:
    stream = datasets.load_dataset(str(CORPUS), config, split="train", streaming=True)
    first = next(iter(stream))
    assert set(first) == set(hf_features(CONFIGS[config]))


def test_class_label_names_survive_loading() -> None:
    alignments = datasets.load_dataset(str(CORPUS), "alignments", split="train")
    relation = alignments.features["relation"]
    names = {relation.int2str(r) for r in alignments["relation"]}
    assert names <= set(relation.names)
    assert "identical" in names
    pairs = datasets.load_dataset(str(CORPUS), "pairs", split="train")
    assert pairs.features["label"].names == ["unrelated", "same_source"]


def test_card_declares_only_non_empty_splits_with_their_sizes() -> None:
    meta = _card_yaml(CORPUS)
    for info in meta["dataset_info"]:
        for split in info["splits"]:
            assert split["num_examples"] > 0
    declared = {c["config_name"] for c in meta["configs"]}
    assert declared == set(CONFIGS)
    assert [c["config_name"] for c in meta["configs"] if c.get("default")] == ["variants"]


def test_default_config_is_variants() -> None:
    dataset = datasets.load_dataset(str(CORPUS), split="train")
    assert "paragraphs" in dataset.features
