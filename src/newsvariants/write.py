"""Stage `write`: deterministic Parquet in the Hugging Face layout, and MANIFEST.json.

Files: <out>/<config>/<split>-00000-of-00001.parquet, features embedded in the Arrow schema
metadata exactly as `Dataset.to_parquet` embeds them, fixed row order and writer options, so the
same records always give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from newsvariants.schema import CLASS_LABEL_KEY, arrow_types, hf_features, label_names, load_schema

CONFIGS = {"stories": "story", "variants": "variant", "alignments": "alignment", "pairs": "pair"}
DEFAULT_CONFIG = "variants"
ROW_GROUP_SIZE = 10_000
MAX_QUEUED = 4  # writes waiting for the writer's thread (each at most a row group or one file)
WRITER_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    # zstd's own default. Level 9 made files ~15% smaller (the pairs config, two texts a row)
    # but took 4x longer to write, 3 s of a 36 s 10k-capture build on the critical path (measured).
    "compression_level": 3,
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


def _values(items: Sequence[Any], name: str) -> list[Any]:
    """Field `name` of every item (dataclass instances or dicts, not mixed); None stays None."""
    sample = next((item for item in items if item is not None), None)
    if isinstance(sample, dict):
        return [None if item is None else item[name] for item in items]
    get = attrgetter(name)
    if any(item is None for item in items):
        return [None if item is None else get(item) for item in items]
    return list(map(get, items))


def _column(values: list[Any], prop: dict[str, Any], arrow_type: pa.DataType) -> pa.Array:
    """One column (or nested child) built from Python values, recursing through the field's JSON
    Schema (`prop`) and Arrow type alongside (no `datasets` objects: pool workers encode rows
    without importing it).

    Column-wise construction: one C++ conversion per leaf column instead of one
    `encode_example` per row; values may be dataclass instances or dicts (same field names)."""
    if prop.get(CLASS_LABEL_KEY):
        index = {name: i for i, name in enumerate(label_names(prop))}
        return pa.array([index[v] if isinstance(v, str) else v for v in values], arrow_type)
    if pa.types.is_struct(arrow_type):
        mask = [v is None for v in values]
        children = [
            _column(_values(values, name), sub, arrow_type.field(name).type)
            for name, sub in prop["properties"].items()
        ]
        return pa.StructArray.from_arrays(
            children, fields=list(arrow_type), mask=pa.array(mask) if any(mask) else None
        )
    if pa.types.is_list(arrow_type):
        if any(v is None for v in values):  # no list column of the schemas is nullable
            return pa.array(values, arrow_type)
        offsets = np.zeros(len(values) + 1, dtype=np.int32)
        np.cumsum(np.fromiter(map(len, values), np.int64, len(values)), out=offsets[1:])
        flat = list(chain.from_iterable(values))
        child = _column(flat, prop["items"], arrow_type.value_type)
        return pa.ListArray.from_arrays(pa.array(offsets), child, type=arrow_type)
    return pa.array(values, arrow_type)


@cache
def features(kind: str) -> Any:
    """The kind's Hugging Face features (made once per process)."""
    return hf_features(kind)


@cache
def arrow_schema(kind: str) -> pa.Schema:
    """The kind's Arrow schema, with the features embedded as `Dataset.to_parquet` does: what
    every file is written with. Made once per process: `Features.arrow_schema` is a property
    that serialises the features anew at every call (~1 ms; a warm rebuild asked for it once
    per cached alignment: 9 of its 44 s at 10k)."""
    return features(kind).arrow_schema


def with_features(kind: str, table: pa.Table) -> pa.Table:
    """`table` (rows of `kind`) under the kind's full schema: the features metadata added, no
    data copied."""
    return table.replace_schema_metadata(arrow_schema(kind).metadata)


def encode_rows(kind: str, rows: Sequence[Any]) -> pa.Table:
    """Records (dataclasses or dicts) -> Arrow table of the kind's `arrow_types` (ClassLabel
    names -> ints), built column by column. The table carries no features metadata (pool workers
    make such tables without importing `datasets`); files get it from the writer."""
    schema = arrow_types(kind)
    columns = [
        _column(_values(rows, name), prop, schema.field(name).type)
        for name, prop in load_schema(kind)["properties"].items()
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def write_parquet(path: Path, kind: str, rows: Sequence[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(with_features(kind, encode_rows(kind, rows)), path, **WRITER_OPTIONS)


def _write_whole(table: pa.Table, path: Path) -> None:
    # one contiguous chunk per column: how a table is chunked changes where pages end
    pq.write_table(table.combine_chunks(), path, **WRITER_OPTIONS)


_STREAM_OPTIONS = {k: v for k, v in WRITER_OPTIONS.items() if k != "row_group_size"}


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def file_entry(root: Path, path: Path, rows: int | None) -> dict[str, Any]:
    return {
        "path": path.relative_to(root).as_posix(),
        "sha256": sha256_file(path),
        "rows": rows,
        "bytes": path.stat().st_size,
    }


class SplitWriter:
    """Writes each config/split file as soon as its records exist, so the build can free them
    (bounded memory: one split's records at a time, not the whole corpus).

    Records are encoded in the calling thread; the Parquet encoding and zstd compression (C++,
    outside the GIL) run on a background thread, overlapping the next split's work. The bytes are
    those of `write_parquet`: same table, same writer options. A file may also be given as Arrow
    tables (`write_table`) or streamed a row group at a time (`blocks`): same bytes again, since
    `pq.write_table` too writes each row group from a contiguous slice of ROW_GROUP_SIZE rows."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.rows: dict[str, dict[str, int]] = {config: {} for config in CONFIGS}
        self._pending: list[tuple[Path, int, Future[None]]] = []
        self._threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet")
        self._queued: deque[Future[None]] = deque()

    def submit(self, func: Callable[..., None], *args: Any) -> Future[None]:
        """Run a write on the writer's thread. At most MAX_QUEUED writes wait for it: when the
        caller makes blocks faster than they are compressed (a split's pairs), it waits here
        instead of holding every block in memory (a 100k build queued ~1 GB of pair rows)."""
        while len(self._queued) >= MAX_QUEUED:
            self._queued.popleft().result()  # re-raises a failed write early
        done = self._threads.submit(func, *args)
        self._queued.append(done)
        return done

    def _path(self, config: str, split: str) -> Path:
        path = self.out / config / shard_name(split)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def write(self, config: str, split: str, rows: Sequence[Any]) -> None:
        self.write_table(config, split, encode_rows(CONFIGS[config], rows))

    def write_table(self, config: str, split: str, table: pa.Table) -> None:
        self.rows[config][split] = table.num_rows
        if not table.num_rows:
            return  # datasets refuses to load an empty split; the card says which exist
        path = self._path(config, split)
        done = self.submit(_write_whole, with_features(CONFIGS[config], table), path)
        self._pending.append((path, table.num_rows, done))

    def blocks(self, config: str, split: str) -> BlockWriter:
        """A file written one row group at a time (blocks of exactly ROW_GROUP_SIZE rows but
        the last): the caller never holds the whole file's rows."""
        return BlockWriter(self, config, split)

    @property
    def files(self) -> list[dict[str, Any]]:
        """Manifest entries of every file written (waits for the background writes)."""
        entries = []
        for path, rows, done in self._pending:
            done.result()  # re-raises a failed write
            entries.append(file_entry(self.out, path, rows))
        return entries

    def close(self) -> None:
        self._threads.shutdown(wait=True)


class BlockWriter:
    """One config/split file of SplitWriter, written a row group at a time on its thread."""

    def __init__(self, owner: SplitWriter, config: str, split: str) -> None:
        self.owner, self.config, self.split = owner, config, split
        self.path = owner.out / config / shard_name(split)
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def add(self, block: pa.Table) -> None:
        if block.num_rows == 0:
            return
        self.rows += block.num_rows
        self.owner.submit(self._append, block)

    def _append(self, block: pa.Table) -> None:  # on the writer's thread
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # the kind's full schema: blocks come as bare `arrow_types` tables (made by workers
            # or read back from the cache), without the features metadata
            schema = arrow_schema(CONFIGS[self.config])
            self._writer = pq.ParquetWriter(self.path, schema, **_STREAM_OPTIONS)
        self._writer.write_table(block.combine_chunks(), row_group_size=ROW_GROUP_SIZE)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    def close(self) -> None:
        self.owner.rows[self.config][self.split] = self.rows
        done = self.owner.submit(self._close)
        if self.rows:  # datasets refuses to load an empty split; the card says which exist
            self.owner._pending.append((self.path, self.rows, done))


UNRELEASED = "+dev"


def release_of(version: str) -> str:
    """The release a version is or was built from: `0.1.2` for `0.1.2` and `0.1.2+dev`."""
    return version.split("+", 1)[0]


def unreleased_version(version: str) -> str:
    """The version of a build whose data differs from release `version`: `0.1.2+dev` (semver
    build metadata: 0.1.2 and changes since), so that it is never taken for 0.1.2 itself; a
    corpus never released stays 0.0.0."""
    base = release_of(version)
    return version if base == "0.0.0" else base + UNRELEASED


def write_corpus(
    out: Path,
    records: Any,
    registry: Any,
    inputs: dict[str, Any],
    report: dict[str, Any],
    version: str,
    schema_version: str,
    previous_files: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Write every non-empty config/split (unless `records` is the SplitWriter that already did),
    the registry and the manifest; returns the manifest.

    `previous_files` (path -> SHA-256 of the build `version` comes from): when the files differ,
    the data is no longer that release's and the version says so (`unreleased_version`)."""
    from newsvariants.registry import REGISTRY_FILE
    from newsvariants.schema import record_errors

    files = list(records.files) if isinstance(records, SplitWriter) else []
    for config, kind in CONFIGS.items():
        if isinstance(records, SplitWriter):
            break  # already written, split by split
        for split, rows in records.records(config).items():
            if not rows:
                continue  # datasets refuses to load an empty split; the card says which exist
            path = out / config / shard_name(split)
            write_parquet(path, kind, rows)
            files.append(file_entry(out, path, len(rows)))
    registry_path = out / REGISTRY_FILE
    registry_path.write_text(registry.dumps(), encoding="utf-8")
    files.append(file_entry(out, registry_path, None))
    if previous_files is not None and previous_files != {f["path"]: f["sha256"] for f in files}:
        version = unreleased_version(version)
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
