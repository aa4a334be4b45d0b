"""`--engine ray`: Ray Data in local mode gives the local engine's corpus, byte for byte.

Ray is an optional extra (pip install -e ".[ray]"); without it the engine must refuse with a
message that names the extra, and this test checks that instead.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsvariants.build import build
from newsvariants.errors import NewsVariantsError

from .conftest import RAW
from .test_executor import make_raw, tree_hashes

HAVE_RAY = importlib.util.find_spec("ray") is not None


@pytest.fixture(scope="module")
def ray_local() -> Iterator[None]:
    """One small local Ray instance for the module, shut down afterwards."""
    if HAVE_RAY:
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    if HAVE_RAY:
        import ray

        ray.shutdown()


def seeds_and_generated(root: Path) -> Path:
    """The repository's seed captures plus a small generated multi-story set, in one raw/."""
    raw = make_raw(root)
    seeds = RAW / "captures.jsonl"
    lines = seeds.read_text(encoding="utf-8").splitlines()
    with (raw / "captures.jsonl").open("a", encoding="utf-8") as out:
        for line in lines:
            out.write(line + "\n")
    for path in (RAW / "captures").rglob("*"):
        if path.is_file():
            target = raw / path.relative_to(RAW)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return raw


def test_the_ray_engine_builds_the_local_engines_corpus(tmp_path: Path, ray_local: None) -> None:
    raw = seeds_and_generated(tmp_path)
    build(raw, tmp_path / "local")
    if not HAVE_RAY:
        with pytest.raises(NewsVariantsError, match=r"newsvariants\[ray\]"):
            build(raw, tmp_path / "ray", engine="ray")
        return
    build(raw, tmp_path / "ray", engine="ray")
    local, distributed = tree_hashes(tmp_path / "local"), tree_hashes(tmp_path / "ray")
    assert distributed == local
    assert any(path.startswith("variants/") for path in local)


def test_ray_groupbys_give_the_local_engines_groups(ray_local: None) -> None:
    """map_groups (per-story alignment) and group_arrays (LSH bands) on Ray Data's groupby."""
    import numpy as np

    from newsvariants.cluster import band_pairs
    from newsvariants.engines.ray_engine import RayMapper
    from newsvariants.executor import InProcessMapper

    from .test_executor import group_sizes

    groups = [(f"s-{n:012x}", list(range(n % 5 + 1))) for n in range(30)]
    if not HAVE_RAY:
        with pytest.raises(NewsVariantsError, match=r"newsvariants\[ray\]"):
            RayMapper().map_groups(group_sizes, groups)
        return
    ray_sizes = [size for size, _ in RayMapper().map_groups(group_sizes, groups)]
    assert ray_sizes == [size for size, _ in InProcessMapper().map_groups(group_sizes, groups)]

    rng = np.random.default_rng(3)
    columns = {
        "band": np.repeat(np.arange(4), 50),
        "key": rng.integers(0, 6, 200).astype(np.uint64),
        "owner": np.tile(np.arange(50, dtype=np.int32), 4),
    }
    from functools import partial

    func = partial(band_pairs, 50)
    local = InProcessMapper().group_arrays(func, columns, "band")
    distributed = RayMapper().group_arrays(func, columns, "band")
    assert sorted(local) == sorted(distributed) == [0, 1, 2, 3]
    for band in local:
        assert np.array_equal(np.sort(local[band]), np.sort(distributed[band]))
        assert len(local[band]) > 0


def test_the_nearest_other_search_on_ray_gives_the_in_process_result(
    ray_local: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pairs' candidate search (query ranges as chunks) on Ray Data, merged in query order."""
    import numpy as np

    from newsvariants import pairs
    from newsvariants.engines.ray_engine import RayMapper

    from .multistory import paragraph

    texts = [paragraph(s, i) for s in range(40) for i in range(10)]
    story = np.repeat(np.arange(40), 10)
    monkeypatch.setattr(pairs, "PARALLEL_QUERIES", 16)
    if not HAVE_RAY:  # as above: without the extra the engine refuses and names it
        with pytest.raises(NewsVariantsError, match=r"newsvariants\[ray\]"):
            pairs.nearest(texts[::2], story[::2], texts, story, RayMapper(), 2)
        return
    serial = pairs.nearest(texts[::2], story[::2], texts, story)
    distributed = pairs.nearest(texts[::2], story[::2], texts, story, RayMapper(), 2)
    assert (serial >= 0).all() and distributed.tolist() == serial.tolist()
