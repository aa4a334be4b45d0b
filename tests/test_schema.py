"""schema/ is the single source of field truth: dataclasses, features and card follow it."""

from __future__ import annotations

import dataclasses
import json

import datasets
import pytest
from jsonschema import Draft202012Validator

from newsvariants import records
from newsvariants.schema import (
    RECORD_KINDS,
    arrow_types,
    field_names,
    hf_features,
    load_schema,
    record_errors,
    schema_dir,
)

DATACLASS_OF = {
    "capture": records.Capture,
    "variant": records.Variant,
    "story": records.Story,
    "alignment": records.Alignment,
    "pair": records.Pair,
}


@pytest.mark.parametrize("kind", RECORD_KINDS)
def test_every_schema_is_valid_draft_2020_12(kind: str) -> None:
    schema = json.loads((schema_dir() / f"{kind}.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("kind", sorted(DATACLASS_OF))
def test_dataclass_fields_follow_the_schema(kind: str) -> None:
    names = [f.name for f in dataclasses.fields(DATACLASS_OF[kind])]
    assert names == field_names(kind)


@pytest.mark.parametrize("kind", ["variant", "story", "alignment", "pair"])
def test_features_are_generated_from_the_schema(kind: str) -> None:
    features = hf_features(kind)
    assert list(features) == field_names(kind)


@pytest.mark.parametrize("kind", ["variant", "story", "alignment", "pair"])
def test_arrow_types_are_the_features_arrow_schema(kind: str) -> None:
    """What rows are encoded with (no `datasets` import) is the features' own Arrow schema; the
    features metadata is the only difference."""
    full = hf_features(kind).arrow_schema
    assert arrow_types(kind).equals(full.remove_metadata(), check_metadata=True)
    assert not arrow_types(kind).metadata and full.metadata


def test_class_labels_come_from_the_schema_enums() -> None:
    relation = hf_features("alignment")["relation"]
    assert isinstance(relation, datasets.ClassLabel)
    assert relation.names == load_schema("alignment")["properties"]["relation"]["enum"]
    label = hf_features("pair")["label"]
    assert isinstance(label, datasets.ClassLabel)
    assert label.names == ["unrelated", "same_source"]


def test_record_errors_name_the_field() -> None:
    errors = record_errors("story", {"story_id": "nope"})
    assert any(e.startswith("story_id:") for e in errors)
    assert any("required" in e for e in errors)
