"""`--engine ray`: the same per-capture stage functions on Ray Data (the optional `ray` extra).

Chunks of work become rows of a Ray Dataset (pickled, so any record type travels) and run through
`map_batches`; rows carry their chunk index and come back sorted by it, so the build consumes
results in the same order as the local engine and writes the same bytes.

Local mode by default (`ray.init()` starts a private instance on this machine); set RAY_ADDRESS
(for example `ray://head-node:10001`, or `auto` on a cluster node) to run on a cluster. Workers
read captures from the raw/ path they are given, so on a cluster raw/ must be on storage every
node mounts at the same path.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterator, Sequence
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


class RayMapper:
    """Mapper (see newsvariants.executor) running each chunk as one row of a Ray Dataset."""

    def map(
        self, func: Callable[[list[T]], list[R]], chunks: Sequence[list[T]]
    ) -> Iterator[list[R]]:
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
