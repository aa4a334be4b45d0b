"""The executor: per-capture work on a process pool gives exactly the sequential results."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from newsvariants import executor
from newsvariants.build import build
from newsvariants.errors import NewsVariantsError, StageError
from newsvariants.executor import (
    PoolMapper,
    chunked,
    extract_captures,
    resolve_workers,
    template_texts,
)
from newsvariants.extract import block_key, site_templates
from newsvariants.ingest import CAPTURES_FILE, file_inputs, ingest, load_captures
from newsvariants.records import Capture, Extraction

from .multistory import write_captures


@pytest.fixture(autouse=True)
def pool_for_small_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The executor runs small inputs in-process; these tests need the pool itself."""
    monkeypatch.setattr(executor, "POOL_MIN_TASKS", 0)


def worker_pids(chunk: list[int]) -> list[int]:
    return [os.getpid() for _ in chunk]


# Filled in the test's process only: a worker imports this module afresh, with the list empty.
DRIVER_WAITS_FOR: list[threading.Event] = []


def pids_once_a_worker_answered(chunk: list[int]) -> list[int]:
    """In the test's process, returns only once the pool has answered (so the driver runs
    exactly one chunk); in a worker, at once."""
    for event in DRIVER_WAITS_FOR:
        assert event.wait(120)
    return [os.getpid() for _ in chunk]


def tree_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def make_raw(root: Path, stories: tuple[int, ...] = (0, 1, 2, 3, 4, 8)) -> Path:
    """Multi-story text dumps, plus one capture without a body and one that cannot decode."""
    raw = root / "raw"
    items = []
    for path in write_captures(root / "pages", stories):
        story, copy = path.stem.removeprefix("story").split("-")
        source = "origin.example" if copy == "0" else f"mirror{copy}.example"
        items += file_inputs(path, source=source, captured_at="2024-01-02", url=None, fmt="text")
    junk = root / "junk.txt"
    junk.write_text("Home\nLogin\nMenu\n", encoding="utf-8")
    items += file_inputs(junk, source="junk.example", captured_at=None, url=None, fmt="text")
    cafe = root / "cafe.txt"
    cafe.write_text("Caf\u00e9 story\n\nA paragraph about the caf\u00e9.\n", encoding="utf-8")
    items += file_inputs(cafe, source="junk.example", captured_at=None, url=None, fmt="text")
    ingest(items, raw)
    # Metadata that names the wrong encoding: the build must quarantine the capture, not crash.
    manifest = raw / CAPTURES_FILE
    lines = manifest.read_text(encoding="utf-8").splitlines()
    patched = [
        json.dumps({**json.loads(line), "encoding": "ascii"})
        if '"source": "junk.example"' in line and json.loads(line)["bytes"] > 20
        else line
        for line in lines
    ]
    manifest.write_text("\n".join(patched) + "\n", encoding="utf-8")
    return raw


def explode_on_story_three(capture: Capture, data: bytes, context: object) -> Extraction:
    """An extractor that fails on some captures (module level: workers must unpickle it)."""
    if b"Dresden" in data:
        raise ValueError("bad block")
    from newsvariants.extract import extract_capture

    return extract_capture(capture, data, context)  # type: ignore[arg-type]


def test_two_workers_give_the_sequential_extractions_and_quarantine(tmp_path: Path) -> None:
    raw = make_raw(tmp_path)
    captures = load_captures(raw)
    one = extract_captures(raw, captures, workers=1)
    two = extract_captures(raw, captures, workers=2)
    assert two == one
    extractions, quarantined = one
    assert len(extractions) + len(quarantined) == len(captures)
    reasons = sorted(q.reason.split(":")[0] for q in quarantined)
    assert reasons == ["cannot decode", "no body paragraphs found"]


def test_a_build_with_two_workers_is_byte_identical(tmp_path: Path) -> None:
    raw = make_raw(tmp_path)
    build(raw, tmp_path / "one", workers=1)
    build(raw, tmp_path / "two", workers=2)
    assert tree_hashes(tmp_path / "two") == tree_hashes(tmp_path / "one")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_crash_names_the_stage_and_the_first_failing_capture(
    tmp_path: Path, workers: int
) -> None:
    raw = make_raw(tmp_path)
    captures = load_captures(raw)
    failing = [c for c in captures if b"Dresden" in (raw / c.path).read_bytes()]
    assert failing
    with pytest.raises(StageError) as info:
        extract_captures(raw, captures, workers=workers, extract=explode_on_story_three)
    assert "stage 'extract'" in str(info.value) and "ValueError: bad block" in str(info.value)
    assert info.value.capture == failing[0].path


def test_chunks_cover_every_item_once_in_order() -> None:
    items = list(range(1001))
    for workers in (1, 2, 7):
        chunks = chunked(items, workers)
        assert [i for chunk in chunks for i in chunk] == items
        assert all(chunk for chunk in chunks)


def test_template_texts_count_exactly_what_site_templates_counts() -> None:
    # "ﬁ" (a ligature) and double spaces change under block_key; the chosen texts must give the
    # same keys, so the templates learnt from them equal those learnt from the full pages.
    pages = {
        "a": ["Menu  Home", "Ｓｈａｒｅ this", "\ufb01rst news", "Story A body."],
        "b": ["menu home", "Share this", "first news", "Story B body."],
        "c": ["MENU HOME", "Story C body."],
    }
    sources = dict.fromkeys(pages, "site.example")
    chosen = {cid: template_texts(texts) for cid, texts in pages.items()}
    assert site_templates(chosen, sources) == site_templates(pages, sources)
    assert {block_key(t) for t in chosen["a"]} == {block_key(t) for t in pages["a"]}


def test_workers_must_be_zero_or_positive() -> None:
    assert resolve_workers(0) >= 1
    assert resolve_workers(3) == 3
    with pytest.raises(NewsVariantsError):
        resolve_workers(-1)


def test_the_workers_modules_leave_datasets_unimported() -> None:
    """The fork server imports the modules of the build's worker functions before any worker
    starts; `datasets` (~1 s to import) is for the driver's files and card, not for them."""
    import subprocess
    import sys

    from newsvariants.build import WORKER_MODULES

    probe = "import importlib, sys\n"
    probe += "".join(f"importlib.import_module({name!r})\n" for name in WORKER_MODULES)
    probe += "print('datasets' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "False"


def test_an_unknown_engine_is_refused(tmp_path: Path) -> None:
    raw = make_raw(tmp_path, stories=(0,))
    with pytest.raises(NewsVariantsError, match="unknown engine"):
        extract_captures(raw, load_captures(raw), engine="spark")


def test_two_workers_run_in_other_processes_and_keep_the_order() -> None:
    mapper = PoolMapper(2)
    try:
        chunks = [[i] * 3 for i in range(12)]
        pids = [pid for chunk in mapper.map(worker_pids, chunks) for pid in chunk]
        echoed = [item for chunk in mapper.map(sorted, chunks) for item in chunk]
    finally:
        mapper.close()
    assert os.getpid() not in pids and len(pids) == 36
    assert echoed == [i for i in range(12) for _ in range(3)]


def test_a_small_build_keeps_its_idle_workers_and_a_large_one_stops_them() -> None:
    small = executor.make_mapper(2, captures=executor.STOP_IDLE_FROM_CAPTURES - 1)
    large = executor.make_mapper(2, captures=executor.STOP_IDLE_FROM_CAPTURES)
    unknown = executor.make_mapper(2)
    assert isinstance(small, PoolMapper) and isinstance(large, PoolMapper)
    assert not small.stop_when_idle and large.stop_when_idle and unknown.stop_when_idle
    chunks = [[i] * 3 for i in range(12)]
    try:
        # until its first worker answers, a small build's driver runs the chunks itself
        assert small._first_answer().wait(120)
        for mapper in (small, large):
            before = {pid for chunk in mapper.map(worker_pids, chunks) for pid in chunk}
            mapper.release()
            after = {pid for chunk in mapper.map(worker_pids, chunks) for pid in chunk}
            if mapper is small:
                assert len(before | after) <= 2  # the pool's two processes: none started anew
            else:
                assert not before & after  # stopped, then new ones
    finally:
        small.close()
        large.close()


def test_a_pool_is_running_from_its_first_map_until_it_lets_its_workers_go() -> None:
    chunks = [[i] * 3 for i in range(12)]
    assert executor.InProcessMapper().running
    for stop_when_idle in (True, False):
        mapper = PoolMapper(2, stop_when_idle)
        try:
            assert not mapper.running  # a map would start the workers first
            list(mapper.map(worker_pids, chunks))
            assert mapper.running
            mapper.release()
            assert mapper.running is not stop_when_idle
        finally:
            mapper.close()


def map_while_a_small_pool_starts() -> tuple[list[int], list[int]]:
    """A new small build's pool maps 20 chunks (the driver's first chunk waits for the pool's
    answer), then echoes them: the pid of each item, and the echoed items."""
    mapper = PoolMapper(2, stop_when_idle=False)
    DRIVER_WAITS_FOR.append(mapper._first_answer())
    chunks = [[i] * 2 for i in range(20)]
    try:
        pids = [pid for chunk in mapper.map(pids_once_a_worker_answered, chunks) for pid in chunk]
        echoed = [item for chunk in mapper.map(sorted, chunks) for item in chunk]
    finally:
        DRIVER_WAITS_FOR.clear()
        mapper.close()
    return pids, echoed


def test_a_small_builds_driver_runs_chunks_in_order_until_a_worker_answers() -> None:
    """A pool's first start waits seconds for the fork server's imports: meanwhile the driver of
    a small build runs the chunks, then the workers run the rest. A large build's driver never
    runs them (see test_two_workers_run_in_other_processes_and_keep_the_order)."""
    pids, echoed = map_while_a_small_pool_starts()
    assert pids[:2] == [os.getpid()] * 2  # the first chunk, here, while the pool started
    assert len(pids) == 40 and os.getpid() not in pids[2:]  # the rest on the workers
    assert echoed == [i for i in range(20) for _ in range(2)]


def a_failed_answer() -> None:
    raise RuntimeError("this worker cannot answer")


def test_a_pool_that_fails_its_first_answer_still_takes_the_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If the first answer fails, the driver stops running chunks and the pool gets them (and
    its own errors reach the caller, as without the driver's help): it never silently runs a
    whole stage alone."""
    monkeypatch.setattr(executor, "_answer", a_failed_answer)
    pids, _ = map_while_a_small_pool_starts()
    assert len(pids) == 40 and os.getpid() not in pids[2:]


def test_few_tasks_run_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor, "POOL_MIN_TASKS", 100)
    mapper = PoolMapper(2)
    pids = [pid for chunk in mapper.map(worker_pids, [[1, 2], [3]]) for pid in chunk]
    assert pids == [os.getpid()] * 3 and "pool" not in mapper.__dict__


def group_sizes(items: list[int]) -> tuple[int, int]:
    """One result per group: its size and the worker's pid (module level: pickled)."""
    return (len(items), os.getpid())


def test_map_groups_keeps_each_group_whole_and_in_order() -> None:
    from newsvariants.executor import InProcessMapper

    groups = [(f"s{n}", list(range(n % 7 + 1))) for n in range(60)]
    local = InProcessMapper().map_groups(group_sizes, groups)
    mapper = PoolMapper(2)
    try:
        pooled = mapper.map_groups(group_sizes, groups)
    finally:
        mapper.close()
    assert (
        [size for size, _ in pooled]
        == [size for size, _ in local]
        == [n % 7 + 1 for n in range(60)]
    )
    assert os.getpid() not in {pid for _, pid in pooled}


def band_sums(columns: dict) -> object:  # type: ignore[type-arg]
    return columns["value"].cumsum()


def test_group_arrays_applies_the_function_to_each_key_in_row_order() -> None:
    import numpy as np

    from newsvariants.executor import group_arrays

    keys = np.array([2, 0, 2, 1, 0, 2])
    values = np.array([1, 2, 3, 4, 5, 6])
    found = group_arrays(band_sums, {"band": keys, "value": values}, "band")
    assert {k: v.tolist() for k, v in found.items()} == {0: [2, 7], 1: [4], 2: [1, 4, 10]}


def band_threads(columns: dict) -> object:  # type: ignore[type-arg]
    import threading
    import time

    time.sleep(0.01)  # long enough for the other thread to take the next group meanwhile
    return columns["value"] * 0 + threading.get_ident()


def test_group_arrays_on_threads_gives_each_key_its_own_rows() -> None:
    import numpy as np

    from newsvariants.executor import PoolMapper, group_arrays

    rng = np.random.default_rng(3)
    keys = rng.integers(0, 16, size=5000).astype(np.int16)
    columns = {"band": keys, "value": rng.integers(0, 1000, size=5000)}
    alone = group_arrays(band_sums, columns, "band")
    threaded = group_arrays(band_sums, columns, "band", threads=2)
    assert sorted(threaded) == sorted(alone) == list(range(16))
    assert all(np.array_equal(threaded[k], alone[k]) for k in alone)
    # the groups did run on two threads, and a pool's mapper uses as many as it has workers
    assert len({int(v[0]) for v in group_arrays(band_threads, columns, "band", 2).values()}) == 2
    found = PoolMapper(2).group_arrays(band_threads, columns, "band")
    assert len({int(v[0]) for v in found.values()}) == 2


def test_a_fully_cached_build_is_byte_identical_and_quarantines_the_same(tmp_path: Path) -> None:
    raw = make_raw(tmp_path)
    cache = tmp_path / "cache"
    build(raw, tmp_path / "cold", workers=2, cache_dir=cache)
    build(raw, tmp_path / "warm", workers=2, cache_dir=cache)
    build(raw, tmp_path / "none", workers=2)
    assert tree_hashes(tmp_path / "warm") == tree_hashes(tmp_path / "none")
    assert tree_hashes(tmp_path / "cold") == tree_hashes(tmp_path / "none")
    report = json.loads((tmp_path / "warm" / "MANIFEST.json").read_text())["build_report"]
    reasons = sorted(q["reason"].split(":")[0] for q in report["quarantined"])
    assert reasons == ["cannot decode", "no body paragraphs found"]
    # the warm build read every extraction (a body's row, or "no body") from the cache
    cached = executor.CaptureCache(cache)
    keys = [k for (k,) in cached.db.execute("SELECT key FROM entry WHERE key LIKE 'extract-%'")]
    assert len(keys) == len(load_captures(raw)) - 1  # all but the capture that cannot decode
    assert sum(cached.get_many(keys)[k] is None for k in keys) == 1
    cached.close()


def rows_unless_dresden(found: list[tuple[Capture, Extraction]]) -> list[str]:
    """A Finish.make that fails on one capture (module level: workers unpickle it)."""
    if any("Dresden" in p.text for _, e in found for p in e.paragraphs):
        raise ValueError("cannot encode")
    return [c.capture_id for c, _ in found]


def test_a_finish_that_fails_names_its_own_capture(tmp_path: Path) -> None:
    raw = make_raw(tmp_path)
    captures = [c for c in load_captures(raw) if c.source != "junk.example"]
    finish = executor.Finish("ids", rows_unless_dresden, str, str)
    outcomes = executor.extract_chunk(
        raw, extract_capture_of, [(c, frozenset()) for c in captures], finish
    )
    failed = [c for c, (status, _) in zip(captures, outcomes, strict=True) if status == "error"]
    dresden = [c for c in captures if b"Dresden" in (raw / c.path).read_bytes()]
    assert failed == dresden and dresden
    assert all("cannot encode" in value.message for status, value in outcomes if status == "error")
    assert [value for status, value in outcomes if status == "ok"] == [
        c.capture_id for c in captures if c not in dresden
    ]


def extract_capture_of(capture: Capture, data: bytes, context: object) -> Extraction:
    from newsvariants.extract import extract_capture

    return extract_capture(capture, data, context)  # type: ignore[arg-type]


def refuse_to_store(value: object) -> object:
    raise AssertionError("stored without a cache")


def test_without_a_cache_nothing_is_made_for_it() -> None:
    runner = executor.PhaseRunner(executor.InProcessMapper(), executor.NoCache(), 1)
    found = runner.stream(
        ["a", "b", "c"],
        lambda i: i,
        lambda chunk: [("ok", task * 10) for task in chunk],
        lambda i, failure: AssertionError(failure),
        store=refuse_to_store,
        load=refuse_to_store,
    )
    assert list(found) == [0, 10, 20]


def test_cached_values_come_back_as_put_and_zlib_values_of_earlier_releases_still_read(
    tmp_path: Path,
) -> None:
    import pickle
    import zlib

    import numpy as np

    values = {
        "text": "Москва " * 500,
        "bytes": bytes(range(256)) * 20,
        "nested": ("v-1", [1, 2, None], {"a": 1.5}),
        "array": np.arange(1000, dtype=np.uint64),
        "none": None,
    }
    cache = executor.CaptureCache(tmp_path)
    cache.put_many(values.items())
    found = cache.get_many(list(values))
    assert found.keys() == values.keys()
    assert np.array_equal(found.pop("array"), values["array"])
    assert found == {k: v for k, v in values.items() if k != "array"}
    stored = dict(cache.db.execute("SELECT key, value FROM entry"))
    assert all(blob[:1] == b"\x01" for blob in stored.values())  # the LZ4 layout
    assert len(stored["text"]) < len(pickle.dumps(values["text"])) / 2  # compressed
    with cache.db:  # as a release before LZ4 wrote it
        old = zlib.compress(pickle.dumps(values["nested"], protocol=pickle.HIGHEST_PROTOCOL), 1)
        cache.db.execute("INSERT INTO entry (key, value) VALUES (?, ?)", ("old", old))
    assert cache.get_many(["old"]) == {"old": values["nested"]}
    cache.close()


def park_in_worker(chunk: list[str]) -> list[str]:
    """A task that says where it runs (a file named by its PID, in the folder the chunk names)
    and then waits, as a worker busy with a long extraction would."""
    (Path(chunk[0]) / str(os.getpid())).touch()
    time.sleep(120)
    return chunk


# A driver that starts a pool of two workers, both busy with `park_in_worker`, then waits.
PARKED_POOL = """
import sys
from newsvariants import executor
from tests.test_executor import park_in_worker

mapper = executor.PoolMapper(2, stop_when_idle=True)
next(mapper.map(park_in_worker, ([sys.argv[1]] for _ in range(4))))
"""


def _process_stats() -> dict[int, tuple[int, str, int]]:
    """PID -> (parent PID, state, start time) of every process, from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        found[int(entry.name)] = (int(fields[1]), fields[0], int(fields[19]))
    return found


def _descendants(root: int) -> dict[int, int]:
    """PID -> start time of every process under `root` (the start time tells a reused PID)."""
    stats = _process_stats()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    found, todo = {}, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found[pid] = stats[pid][2]
        todo += children.get(pid, [])
    return found


def _still_running(processes: dict[int, int]) -> list[int]:
    stats = _process_stats()
    return [
        pid
        for pid, started in processes.items()
        if pid in stats and stats[pid][2] == started and stats[pid][1] != "Z"  # Z: exited
    ]


def test_a_killed_driver_leaves_no_worker_or_fork_server_behind(tmp_path: Path) -> None:
    # kill -9 of a build with two workers left its fork server and workers running (~750 MB):
    # they have to notice on their own that their driver is gone.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    driver = subprocess.Popen(
        [sys.executable, "-c", PARKED_POOL, str(tmp_path)], cwd=Path(__file__).parents[1], env=env
    )
    processes: dict[int, int] = {}
    try:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.iterdir())) < 2:  # both workers busy
            assert driver.poll() is None and time.monotonic() < deadline, "no pool started"
            time.sleep(0.1)
        processes = _descendants(driver.pid)
        assert len(processes) >= 3  # the fork server and its two workers (and a tracker)
        driver.kill()
        driver.wait()
        deadline = time.monotonic() + 20
        while _still_running(processes) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _still_running(processes) == []
    finally:
        driver.kill()
        for pid in _still_running(processes):  # this test's leftovers only
            os.kill(pid, signal.SIGKILL)


def shared_chunk(chunk: list[int]) -> list[tuple[str, object]]:
    """A chunk's values share one list (as a worker's rows share one table)."""
    whole = [task * 10 for task in chunk]
    return [("ok", (whole, k)) for k in range(len(chunk))]


def store_shared(value: tuple[list[int], int]) -> executor.Shared:
    whole, k = value
    return executor.Shared(f"whole|{whole}", tuple(whole), k)


def load_shared(value: tuple[tuple[int, ...], int]) -> tuple[list[int], int]:
    whole, k = value
    return list(whole), k


def test_values_that_share_a_whole_keep_it_once_and_come_back_from_it(tmp_path: Path) -> None:
    keys = [f"task|{i}" for i in range(40)]
    cache = executor.CaptureCache(tmp_path)
    runner = executor.PhaseRunner(executor.InProcessMapper(), cache, 1)

    def run() -> list[int]:
        found = runner.stream(
            keys, lambda i: i, shared_chunk, lambda i, failure: AssertionError(failure),
            store=store_shared, load=load_shared, load_whole=tuple,
        )  # fmt: skip
        return [whole[k] for whole, k in found]

    assert run() == [i * 10 for i in range(40)]
    stored = dict(cache.db.execute("SELECT key, value FROM entry"))
    wholes = [key for key in stored if key.startswith("whole|")]
    assert len(wholes) == len(chunked(keys, 1)) < len(keys)  # one whole per chunk
    parts = cache.get_many(keys)
    assert all(isinstance(part, executor.SharedPart) for part in parts.values())
    assert run() == [i * 10 for i in range(40)]  # all cached: read from the wholes
    with cache.db:  # a whole damaged: its parts are made again, and the build says so
        cache.db.execute("UPDATE entry SET value = ? WHERE key = ?", (b"\x01bad", wholes[0]))
    assert run() == [i * 10 for i in range(40)]
    assert cache.unreadable == {wholes[0]}
    cache.close()


def test_the_shared_wholes_used_last_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executor._Reader, "KEEP", 2)
    cache = executor.CaptureCache(tmp_path)
    order = "ABACAB"  # the whole of each task's part, as an older build's chunks interleave
    keys = [f"task|{n}" for n in range(len(order))]
    cache.put_many([(f"whole|{name}", (name * 3,)) for name in "ABC"])
    cache.put_many(
        (key, executor.SharedPart(f"whole|{name}", n % 3))
        for n, (key, name) in enumerate(zip(keys, order, strict=True))
    )
    read: list[str] = []
    get_many = executor.CaptureCache.get_many

    def recording(self: executor.CaptureCache, wanted: list[str]) -> dict[str, object]:
        read.extend(key for key in wanted if key.startswith("whole|"))
        return get_many(self, wanted)

    monkeypatch.setattr(executor.CaptureCache, "get_many", recording)
    runner = executor.PhaseRunner(executor.InProcessMapper(), cache, 1)
    found = runner.stream(
        keys, lambda i: i, refuse_to_store, lambda i, failure: AssertionError(failure),
        load=lambda value: value[0][value[1]], load_whole=lambda whole: whole[0],
    )  # fmt: skip
    assert "".join(found) == order
    # A, B, A (kept), C (B goes: A was used since), A (kept), B (read again)
    assert read == ["whole|A", "whole|B", "whole|C", "whole|B"]
    cache.close()


def test_ctrl_c_is_the_drivers_alone_the_fork_server_and_workers_ignore_it() -> None:
    """A terminal's Ctrl-C goes to the whole process group: the fork server, busy with its
    preload imports, and each worker printed a KeyboardInterrupt traceback beside the driver's
    one-line "interrupted" message. They ignore SIGINT now; the driver stops them. Run in a
    fresh process: the fork server is one per process, and this one's may be up already."""
    probe = (
        "import signal\n"
        "import multiprocessing.forkserver as fs\n"
        "from newsvariants.executor import PoolMapper\n"
        "from tests.test_executor import sigint_ignored_in\n"
        "mapper = PoolMapper(2)\n"
        "print(mapper.pool.submit(sigint_ignored_in, [0]).result(), end=' ')\n"
        "mapper.close()\n"
        "status = open(f'/proc/{fs._forkserver._forkserver_pid}/status').read()\n"
        "ignored = int(status.split('SigIgn:')[1].split()[0], 16)\n"
        "print(bool(ignored >> (signal.SIGINT - 1) & 1), end=' ')\n"
        "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=Path(__file__).parent.parent,
    )
    # workers ignore it, the server ignores it, and the driver's own handler is back
    assert done.stdout.split() == ["[True]", "True", "True"], done.stderr


def sigint_ignored_in(chunk: list[int]) -> list[bool]:
    """Whether SIGINT is ignored in the process that runs the chunk (a pool worker's)."""
    return [signal.getsignal(signal.SIGINT) == signal.SIG_IGN for _ in chunk]


def test_in_background_runs_now_and_returns_or_raises_when_asked() -> None:
    from newsvariants.executor import in_background

    started = threading.Event()
    release = threading.Event()

    def work() -> str:
        started.set()
        assert release.wait(10)
        return threading.current_thread().name

    result = in_background(work)
    assert started.wait(10)  # running before anyone asks for the result
    release.set()
    assert result() != threading.current_thread().name  # another thread ran it

    def fails() -> None:
        raise ValueError("from the thread")

    with pytest.raises(ValueError, match="from the thread"):
        in_background(fails)()
