"""`--engine ray`: the same stage functions on Ray Data (the optional `ray` extra).

- per-capture stages (scan, extract): chunks of work become rows of a Ray Dataset (pickled, so any
  record type travels) and run through `map_batches`; rows carry their chunk index and come back
  sorted by it, so the build consumes results in the same order as the local engine;
- per-story alignment: one row per variant to align, `groupby(story)` + `map_groups`, each group
  aligned to its pivot by the same function as the local pool;
- LSH bands: one row per (band, paragraph key, variant), `groupby(band)` + `map_groups` running
  the local engine's bucket function on each band (cluster.py counts the bands' pairs).
Results are put back in the local engine's order, so the corpus is byte-identical.

Local mode by default (`ray.init()` starts a private instance on this machine); set RAY_ADDRESS
(for example `ray://head-node:10001`, or `auto` on a cluster node) to run on a cluster. Workers
read captures from the raw/ path they are given, so on a cluster raw/ must be on storage every
node mounts at the same path.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

from newsvariants.errors import NewsVariantsError

T = TypeVar("T")
R = TypeVar("R")


def ensure_ray() -> Any:
    """Import Ray and connect (RAY_ADDRESS) or start a local instance, once per process."""
    try:
        import ray
    except ImportError as exc:
        raise NewsVariantsError(
            'the ray engine needs the optional extra: pip install "newsvariants[ray]"'
        ) from exc
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        ray.init(
            address=address or None,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    return ray


def apply_chunks(
    func: Callable[[list[Any]], list[Any]],
) -> Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]:
    """The batch function: unpickle each chunk, run the stage function, pickle the results."""

    def run(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = [
            pickle.dumps(func(pickle.loads(chunk)), protocol=pickle.HIGHEST_PROTOCOL)
            for chunk in batch["chunk"]
        ]
        return {"index": batch["index"], "result": np.array(results, dtype=object)}

    return run


def apply_group(
    func: Callable[[list[Any]], Any],
) -> Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]:
    """The group function: one group's pickled items -> its pickled result, tagged by its key."""

    def run(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        items = [pickle.loads(item) for item in batch["item"]]
        result = pickle.dumps(func(items), protocol=pickle.HIGHEST_PROTOCOL)
        return {"key": batch["key"][:1], "result": np.array([result], dtype=object)}

    return run


def group_apply_arrays(
    func: Callable[[dict[str, np.ndarray]], np.ndarray],
    columns: dict[str, np.ndarray],
    key: str,
) -> dict[Any, np.ndarray]:
    """`groupby(key).map_groups`: func on each group's columns (numpy), result per key value.

    For the LSH bands: rows (band, key, owner) as an Arrow-backed dataset, one group per band."""
    import pyarrow as pa

    ray = ensure_ray()
    table = pa.table({name: pa.array(values) for name, values in columns.items()})
    dataset = ray.data.from_arrow(table)

    def run(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        found = func(batch)
        return {key: np.full(len(found), batch[key][0]), "value": found}

    mapped = dataset.groupby(key).map_groups(run, batch_format="numpy")
    found: dict[Any, list[np.ndarray]] = {}
    for batch in mapped.iter_batches(batch_format="numpy", batch_size=None):
        for value in np.unique(batch[key]):
            found.setdefault(value.item(), []).append(batch["value"][batch[key] == value])
    return {k: np.concatenate(v) for k, v in found.items()}


class RayMapper:
    """Mapper (see newsvariants.executor) running each chunk as one row of a Ray Dataset."""

    def release(self) -> None:
        """Ray manages its own workers: nothing to let go."""

    @property
    def running(self) -> bool:
        return True  # a cluster's workers are up; local mode starts once, with `ensure_ray`

    def map(
        self, func: Callable[[list[T]], list[R]], chunks: Iterable[list[T]]
    ) -> Iterator[list[R]]:
        chunks = list(chunks)
        if not chunks:
            return iter(())
        ray = ensure_ray()
        rows = [
            {"index": i, "chunk": pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)}
            for i, chunk in enumerate(chunks)
        ]
        dataset = ray.data.from_items(rows, override_num_blocks=min(len(rows), 64))
        mapped = dataset.map_batches(apply_chunks(func), batch_size=1, batch_format="numpy")
        done = sorted(mapped.take_all(), key=lambda row: int(row["index"]))
        if [int(row["index"]) for row in done] != list(range(len(chunks))):
            raise NewsVariantsError("ray engine: some chunks came back missing or twice")
        return (pickle.loads(row["result"]) for row in done)

    def map_groups(
        self, func: Callable[[list[T]], R], groups: Sequence[tuple[Any, list[T]]]
    ) -> list[R]:
        """`groupby(key).map_groups(func)`: one result per group, in the order of `groups`
        (their keys must be distinct)."""
        if not groups:
            return []
        ray = ensure_ray()
        keys = [str(key) for key, _ in groups]
        if len(set(keys)) != len(keys):
            raise NewsVariantsError("ray engine: group keys must be distinct")
        rows = [
            {"key": key, "item": pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)}
            for key, (_, items) in zip(keys, groups, strict=True)
            for item in items
        ]
        dataset = ray.data.from_items(rows, override_num_blocks=min(len(rows), 64))
        mapped = dataset.groupby("key").map_groups(apply_group(func), batch_format="numpy")
        done = {str(row["key"]): row["result"] for row in mapped.take_all()}
        if set(done) != set(keys):
            raise NewsVariantsError("ray engine: some groups came back missing")
        return [pickle.loads(done[key]) for key in keys]

    def group_arrays(
        self,
        func: Callable[[dict[str, np.ndarray]], np.ndarray],
        columns: dict[str, np.ndarray],
        key: str,
    ) -> dict[Any, np.ndarray]:
        return group_apply_arrays(func, columns, key)
