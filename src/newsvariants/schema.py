"""JSON Schemas in schema/: the single source of field names and types.

Code, Parquet features and the card all derive their field lists from these files, so a field is
declared once. The schemas ship inside the wheel (``newsvariants/_schema``) and are read from the
repository's ``schema/`` folder in a source checkout.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs
import pyarrow as pa
from jsonschema import Draft202012Validator

if TYPE_CHECKING:
    import datasets

RECORD_KINDS = (
    "capture",
    "variant",
    "story",
    "alignment",
    "pair",
    "manifest",
    "annotation",
    "registry",
)
SCHEMA_VERSION = "1.0.0"
CLASS_LABEL_KEY = "x-hf-class-label"


def schema_dir() -> Path:
    """Folder holding the *.schema.json files (source checkout first, then the installed copy)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parents[1] / "schema", here / "_schema"):
        if (candidate / "capture.schema.json").is_file():
            return candidate
    raise FileNotFoundError("schema/ not found next to the package nor inside it")


@cache
def load_schema(kind: str) -> dict[str, Any]:
    if kind not in RECORD_KINDS:
        raise KeyError(f"unknown record kind {kind!r}; known: {', '.join(RECORD_KINDS)}")
    path = schema_dir() / f"{kind}.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return schema


@cache
def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(kind))


def field_names(kind: str) -> list[str]:
    """Top-level field names of a record kind, in schema order (= column order)."""
    return list(load_schema(kind)["properties"])


@cache
def fast_validator(kind: str) -> Any:
    """The kind's schema compiled by jsonschema-rs (Rust): ~100x faster than jsonschema on valid
    records, which are nearly all of them (100k capture records are read by every build)."""
    return jsonschema_rs.Draft202012Validator(load_schema(kind))


def record_errors(kind: str, record: dict[str, Any]) -> list[str]:
    """Every schema violation of one record, as `field: message` strings (empty when valid).

    jsonschema-rs decides; only an invalid record goes through jsonschema, for its messages."""
    if fast_validator(kind).is_valid(record):
        return []
    errors = sorted(validator(kind).iter_errors(record), key=lambda e: list(e.absolute_path))
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '<record>'}: {e.message}{_meaning(e)}"
        for e in errors
    ]


def _meaning(error: Any) -> str:
    """For a value that misses its field's pattern, what the field wants, in the schema's own
    words (a regular expression alone says little to whoever typed "2024-05-01T10:00:00")."""
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    return f" (expected: {description})" if error.validator == "pattern" and description else ""


def _types(prop: dict[str, Any]) -> list[str]:
    declared = prop.get("type", "string")
    types = [declared] if isinstance(declared, str) else list(declared)
    return [t for t in types if t != "null"]


# JSON Schema scalar types as `datasets.Value` dtypes, which are also Arrow type aliases.
_SCALAR_DTYPES = {"string": "string", "integer": "int64", "number": "float64", "boolean": "bool"}


def _one_type(prop: dict[str, Any]) -> str:
    types = _types(prop)
    if len(types) != 1:
        raise ValueError(f"cannot map JSON Schema type {prop.get('type')} to one feature")
    if types[0] not in (*_SCALAR_DTYPES, "array", "object"):
        raise ValueError(f"unsupported JSON Schema type {types[0]!r}")
    return types[0]


def label_names(prop: dict[str, Any]) -> list[str]:
    """The names of a ClassLabel field (its JSON Schema `prop`), in index order."""
    return [v for v in prop["enum"] if v is not None]


def _feature(prop: dict[str, Any]) -> Any:
    import datasets

    kind = _one_type(prop)
    if prop.get(CLASS_LABEL_KEY):
        return datasets.ClassLabel(names=label_names(prop))
    if kind == "array":
        return datasets.List(_feature(prop["items"]))
    if kind == "object":
        return {name: _feature(sub) for name, sub in prop["properties"].items()}
    return datasets.Value(_SCALAR_DTYPES[kind])


def hf_features(kind: str) -> datasets.Features:
    """Hugging Face features of a corpus config, generated from its JSON Schema. (`datasets` is
    imported here, not with the module: pool workers encode rows with `arrow_types` alone and
    start ~1 s sooner without it.)"""
    import datasets

    props = load_schema(kind)["properties"]
    return datasets.Features({name: _feature(prop) for name, prop in props.items()})


def _arrow_type(prop: dict[str, Any]) -> pa.DataType:
    kind = _one_type(prop)
    if prop.get(CLASS_LABEL_KEY):
        return pa.int64()  # a ClassLabel is stored as its index
    if kind == "array":
        return pa.list_(_arrow_type(prop["items"]))
    if kind == "object":
        return pa.struct([(name, _arrow_type(sub)) for name, sub in prop["properties"].items()])
    return pa.type_for_alias(_SCALAR_DTYPES[kind])


@cache
def arrow_types(kind: str) -> pa.Schema:
    """The Arrow schema of `hf_features(kind)` without its features metadata, from the JSON
    Schema alone (no `datasets` import): what rows are encoded with; the writer adds the
    metadata (tests check it equals `hf_features(kind).arrow_schema` but for the metadata)."""
    props = load_schema(kind)["properties"]
    return pa.schema([(name, _arrow_type(prop)) for name, prop in props.items()])


def class_label_names(kind: str, field: str) -> list[str]:
    return label_names(load_schema(kind)["properties"][field])


def describe_fields(kind: str) -> list[tuple[str, str, str]]:
    """(name, type, description) rows for the card, nested fields dotted."""
    rows: list[tuple[str, str, str]] = []

    def walk(prefix: str, props: dict[str, Any]) -> None:
        for name, prop in props.items():
            types = "|".join(
                [prop["type"]] if isinstance(prop.get("type"), str) else prop.get("type", [])
            )
            if prop.get(CLASS_LABEL_KEY):
                types = "ClassLabel(" + ", ".join(class_label_names(kind, name)) + ")"
            rows.append((prefix + name, types, prop.get("description", "")))
            if "properties" in prop:
                walk(prefix + name + ".", prop["properties"])
            items = prop.get("items", {})
            if "properties" in items:
                walk(prefix + name + "[].", items["properties"])

    walk("", load_schema(kind)["properties"])
    return rows


def class_label_fields(kind: str) -> list[str]:
    return [n for n, p in load_schema(kind)["properties"].items() if p.get(CLASS_LABEL_KEY)]


def decode_class_labels(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    """A Parquet row with ClassLabel ints turned back into the schema's names."""
    fields = class_label_fields(kind)
    if not fields:
        return row
    decoded = dict(row)
    for name in fields:
        value = row[name]
        if isinstance(value, int):
            names = class_label_names(kind, name)
            decoded[name] = names[value] if 0 <= value < len(names) else value
    return decoded
