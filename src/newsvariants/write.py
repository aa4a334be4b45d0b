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

import pyarrow as pa
import pyarrow.parquet as pq

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


def encode_rows(kind: str, rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Rows -> Arrow table with the kind's features (ClassLabel names -> ints)."""
    features = hf_features(kind)
    encoded = [features.encode_example(row) for row in rows]
    columns = {name: [row[name] for row in encoded] for name in features}
    return pa.Table.from_pydict(columns, schema=features.arrow_schema)


def write_parquet(path: Path, kind: str, rows: Sequence[dict[str, Any]]) -> None:
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
        for split, rows in records.rows(config).items():
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
