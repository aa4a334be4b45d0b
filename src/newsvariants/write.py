"""Stage `write`: deterministic Parquet in the Hugging Face layout, and MANIFEST.json.

Files: <out>/<config>/<split>-00000-of-00001.parquet, features embedded in the Arrow schema
metadata exactly as `Dataset.to_parquet` embeds them, fixed row order and writer options, so the
same records always give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datasets import ClassLabel, List

from newsvariants.schema import hf_features

CONFIGS = {"stories": "story", "variants": "variant", "alignments": "alignment", "pairs": "pair"}
DEFAULT_CONFIG = "variants"
ROW_GROUP_SIZE = 10_000
WRITER_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 9,
    "use_dictionary": True,
    "write_statistics": True,
    "data_page_size": 1 << 20,
    "row_group_size": ROW_GROUP_SIZE,
}


def shard_name(split: str) -> str:
    return f"{split}-00000-of-00001.parquet"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _get(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, dict) else getattr(item, name)


def _column(values: list[Any], feature: Any, arrow_type: pa.DataType) -> pa.Array:
    """One column (or nested child) built from Python values, recursing through the features.

    Column-wise construction: one C++ conversion per leaf column instead of one
    `encode_example` per row; values may be dataclass instances or dicts (same field names)."""
    if isinstance(feature, ClassLabel):
        index = {name: i for i, name in enumerate(feature.names)}
        return pa.array([index[v] if isinstance(v, str) else v for v in values], arrow_type)
    if isinstance(feature, dict):
        mask = np.fromiter((v is None for v in values), bool, len(values))
        present = [v if v is not None else _NULL_STRUCT for v in values]
        children = [
            _column(
                [None if v is _NULL_STRUCT else _get(v, name) for v in present],
                sub,
                arrow_type.field(name).type,
            )
            for name, sub in feature.items()
        ]
        return pa.StructArray.from_arrays(
            children, fields=list(arrow_type), mask=pa.array(mask) if mask.any() else None
        )
    if isinstance(feature, List):
        if any(v is None for v in values):  # no list column of the schemas is nullable
            return pa.array(values, arrow_type)
        lengths = np.fromiter((len(v) for v in values), np.int64, len(values))
        offsets = np.zeros(len(values) + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        flat = [item for v in values for item in v]
        child = _column(flat, feature.feature, arrow_type.value_type)
        return pa.ListArray.from_arrays(pa.array(offsets), child, type=arrow_type)
    return pa.array(values, arrow_type)


_NULL_STRUCT = object()


def encode_rows(kind: str, rows: Sequence[Any]) -> pa.Table:
    """Records (dataclasses or dicts) -> Arrow table with the kind's features (ClassLabel names
    -> ints), built column by column."""
    features = hf_features(kind)
    schema = features.arrow_schema
    columns = [
        _column([_get(row, name) for row in rows], feature, schema.field(name).type)
        for name, feature in features.items()
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def write_parquet(path: Path, kind: str, rows: Sequence[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(encode_rows(kind, rows), path, **WRITER_OPTIONS)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def file_entry(root: Path, path: Path, rows: int | None) -> dict[str, Any]:
    return {
        "path": path.relative_to(root).as_posix(),
        "sha256": sha256_file(path),
        "rows": rows,
        "bytes": path.stat().st_size,
    }


def write_corpus(
    out: Path,
    records: Any,
    registry: Any,
    inputs: dict[str, Any],
    report: dict[str, Any],
    version: str,
    schema_version: str,
) -> dict[str, Any]:
    """Write every non-empty config/split, the registry and the manifest; returns the manifest."""
    from newsvariants.registry import REGISTRY_FILE
    from newsvariants.schema import record_errors

    files = []
    for config, kind in CONFIGS.items():
        for split, rows in records.records(config).items():
            if not rows:
                continue  # datasets refuses to load an empty split; the card says which exist
            path = out / config / shard_name(split)
            write_parquet(path, kind, rows)
            files.append(file_entry(out, path, len(rows)))
    registry_path = out / REGISTRY_FILE
    registry_path.write_text(registry.dumps(), encoding="utf-8")
    files.append(file_entry(out, registry_path, None))
    manifest = {
        "name": "newsvariants",
        "version": version,
        "schema_version": schema_version,
        "inputs": inputs,
        "files": sorted(files, key=lambda f: f["path"]),
        "build_report": report,
    }
    problems = record_errors("manifest", manifest)
    if problems:
        raise ValueError(f"MANIFEST.json: {'; '.join(problems)}")
    write_json(out / "MANIFEST.json", manifest)
    return manifest
