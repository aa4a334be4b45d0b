"""Per-capture work at scale: a process pool (or another engine) and an incremental cache.

`extract_all` of the build runs here. Its work has two per-capture phases around one global step:

1. *scan*: verify and decode every capture; a text dump also yields the keys of its blocks;
2. *templates* (global): blocks that recur across captures of one source (`site_templates`);
3. *extract*: `extract_capture` with the site templates of the capture's source (the build has
   the workers go on to make each extraction's variant row there: `Finish`).

Phases 1 and 3 are pure functions of one capture's bytes (plus, for phase 3, its source's
templates), so they run in chunks on any `Mapper` (in-process, a process pool, Ray Data) and their
results are cached under a key made of the capture's SHA-256, the code that computes them and, for
phase 3, a digest of the templates it saw. Results are consumed in capture order whatever the
engine, so the build's outputs are byte-identical with any number of workers, cache or no cache.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import importlib
import importlib.metadata
import multiprocessing
import multiprocessing.forkserver
import os
import pickle
import signal
import sqlite3
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache, cached_property, partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import pyarrow as pa

from newsvariants.errors import CacheError, NewsVariantsError, StageError, unusable_folder
from newsvariants.extract import (
    EXTRACTOR_VERSION,
    PageContext,
    extract_capture,
    site_templates,
    split_blocks,
)
from newsvariants.extract_shape import page_keys
from newsvariants.ingest import decode_capture, reading_problem, verify_capture
from newsvariants.records import Capture, Extraction, Quarantined
from newsvariants.render import UnrenderablePage, parse_html

DEFAULT_CACHE_DIR = Path(".cache/newsvariants")
CACHE_FILE = "captures.sqlite"
# Bump when the layout of cached values changes (the code digest below covers everything else).
# 2: values that share a larger one keep a `SharedPart` of it (the rows of a chunk).
CACHE_FORMAT = "2"
# Modules whose code decides what phases 1 and 3 return: any edit to them invalidates the cache,
# even when nobody bumped EXTRACTOR_VERSION.
_STAGE_MODULES = (
    "newsvariants.executor",
    "newsvariants.extract",
    "newsvariants.render",
    "newsvariants.ingest",
    "newsvariants.normalize",
    "newsvariants.records",
)
_STAGE_LIBRARIES = ("trafilatura", "lxml", "py3langid", "ftfy", "charset-normalizer")
# Chunks small enough to balance two workers, large enough that pickling costs little.
MIN_CHUNK, MAX_CHUNK, CHUNKS_PER_WORKER = 16, 256, 8
# Starting the pool (a forkserver importing the extractor and trafilatura, then the workers) costs
# seconds, ~10 ms of extraction per capture: fewer tasks than this run faster in-process (an
# incremental rebuild that adds a few hundred captures).
POOL_MIN_TASKS = 400
# Chunks in flight per pool worker: enough that a worker never waits for the driver, few enough
# that pending inputs and finished results stay a few chunks' worth.
WINDOW_PER_WORKER = 3
# From this many captures up, a pool's workers are stopped while the driver works alone (they
# hold ~0.5 GB at 100k captures) and restarted for the next phase; below it they wait (a restart
# re-imports the stage's libraries: a 1k-capture build at 2 workers took 7.3-8.9 s keeping
# them, 8.8-11.0 s stopping them).
STOP_IDLE_FROM_CAPTURES = 20_000
# What a pool's fork server imports before forking workers (`boot_forkserver`): this module
# (the extractor, trafilatura), the language model and pandas (`pool_preload`); callers add the
# modules of their own stage functions.
WORKER_MODULES: tuple[str, ...] = ("newsvariants.executor", "newsvariants.pool_preload")

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


# --- engines --------------------------------------------------------------------------------


class Mapper(Protocol):
    """Runs stage functions: `map` on every chunk, `map_groups` on every group of keyed items
    (a story's variants, an LSH band's keys); results come back in the order given."""

    def map(
        self, func: Callable[[list[T]], list[R]], chunks: Iterable[list[T]]
    ) -> Iterator[list[R]]: ...

    def map_groups(
        self, func: Callable[[list[T]], R], groups: Sequence[tuple[Any, list[T]]]
    ) -> list[R]: ...

    def group_arrays(
        self,
        func: Callable[[dict[str, np.ndarray]], np.ndarray],
        columns: dict[str, np.ndarray],
        key: str,
    ) -> dict[Any, np.ndarray]: ...

    def release(self) -> None:
        """What follows runs in the driver alone: let idle workers go, if the engine keeps any
        (the next map starts them again)."""

    @property
    def running(self) -> bool:
        """Whether a map now starts no workers (they are up, or the engine needs none)."""


def group_arrays(
    func: Callable[[dict[str, np.ndarray]], np.ndarray],
    columns: dict[str, np.ndarray],
    key: str,
    threads: int = 1,
) -> dict[Any, np.ndarray]:
    """func on the rows of each distinct value of columns[key] (numpy columns), by key value.

    In-process on both local engines: the groups are numpy arrays (an LSH band is one sort), so
    shipping them to other processes would cost more than it saves. With `threads` > 1 the groups
    run on that many threads of this process instead: numpy lets go of the GIL in the sorts that
    are most of a band's work (16 bands of 700k paragraph keys: 3.5 s on one thread, 1.6 s on
    two, measured), and each result is stored under its group's key, so the order the groups
    finish in changes nothing."""
    values = columns[key]
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(ordered)]

    def one(bounds: tuple[int, int]) -> tuple[Any, np.ndarray]:
        rows = order[bounds[0] : bounds[1]]
        return ordered[bounds[0]].item(), func({name: col[rows] for name, col in columns.items()})

    groups = list(zip(starts.tolist(), ends.tolist(), strict=True))
    if threads <= 1 or len(groups) <= 1:
        return dict(map(one, groups))
    with ThreadPoolExecutor(min(threads, len(groups))) as pool:
        return dict(pool.map(one, groups))


def in_background(func: Callable[[], R]) -> Callable[[], R]:
    """Start `func` on a thread of this process now; the returned call waits for it and returns
    its result (or raises its error). For a driver that hands work to a pool's workers and has
    other work of its own meanwhile: the thread mostly waits on the workers' results."""
    runner = ThreadPoolExecutor(1, thread_name_prefix="background")
    future = runner.submit(func)
    runner.shutdown(wait=False)  # the thread ends with `func`
    return future.result


def _apply_each(func: Callable[[list[T]], R], groups: list[list[T]]) -> list[R]:
    return [func(items) for items in groups]


def pack_groups(groups: Sequence[tuple[Any, list[T]]], workers: int) -> list[list[list[T]]]:
    """Whole groups packed into about CHUNKS_PER_WORKER chunks per worker (a group is never cut:
    a story's variants stay in one process, where the pivot's paragraph features are cached)."""
    total = sum(len(items) for _, items in groups)
    target = max(MIN_CHUNK, min(MAX_CHUNK, -(-total // max(1, workers * CHUNKS_PER_WORKER))))
    chunks: list[list[list[T]]] = [[]]
    size = 0
    for _, items in groups:
        if size >= target:
            chunks.append([])
            size = 0
        chunks[-1].append(items)
        size += len(items)
    return [chunk for chunk in chunks if chunk]


class _GroupArraysInProcess:
    """`group_arrays` of both local engines: in this process (see `group_arrays` for why), on as
    many threads as the engine has workers (its pool's workers wait meanwhile)."""

    workers = 1

    def group_arrays(
        self,
        func: Callable[[dict[str, np.ndarray]], np.ndarray],
        columns: dict[str, np.ndarray],
        key: str,
    ) -> dict[Any, np.ndarray]:
        return group_arrays(func, columns, key, threads=self.workers)


class InProcessMapper(_GroupArraysInProcess):
    """No parallelism: today's behaviour, and the reference the other engines must equal."""

    def map(
        self, func: Callable[[list[T]], list[R]], chunks: Iterable[list[T]]
    ) -> Iterator[list[R]]:
        return (func(chunk) for chunk in chunks)

    def map_groups(
        self, func: Callable[[list[T]], R], groups: Sequence[tuple[Any, list[T]]]
    ) -> list[R]:
        return [func(items) for _, items in groups]

    def release(self) -> None:
        """No workers to let go."""

    @property
    def running(self) -> bool:
        return True


def _forkserver(preload: Sequence[str]) -> Any:
    """The multiprocessing context of the pools. forkserver, not fork: the build may run inside a
    process with threads (pyarrow, rich) and forking those can deadlock. The server imports
    `preload` once and every worker is forked from it with those modules in place, so no worker
    imports them again (a worker that unpickles its first task of a module not preloaded spends
    ~0.5 s importing it: the build's stage functions pull in scipy and rapidfuzz). The server and
    its preload are one per process: the first pool's list is the one that counts."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    return context


def boot_forkserver(preload: Sequence[str] = WORKER_MODULES) -> Any:
    """Start the pools' fork server now, in the background: its preload (~2.3 s with the build's
    modules: imports, the language model) then overlaps the driver's own work (reading raw/)
    instead of delaying the first pool. Returns its context at once; a pool started later forks
    its workers from this server."""
    context = _forkserver(preload)
    with _sigint_ignored():
        multiprocessing.forkserver.ensure_running()
    return context


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while the fork server is started, so that Ctrl-C is the driver's alone.
    The server inherits the ignored signal across exec (Python leaves an ignored SIGINT ignored),
    so a Ctrl-C during its preload no longer kills it with a traceback of the import it was in;
    and the workers it forks get its handlers from before it ran, so they ignore it too, instead
    of each printing a KeyboardInterrupt traceback: the driver stops them (and, killed, its
    lifeline does). Signal handlers can only be set from the main thread: elsewhere, a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# --- workers die with their driver ---------------------------------------------------------
#
# A driver killed outright (SIGKILL, the OOM killer) runs no cleanup, and its pool's workers used
# to live on (~750 MB with two workers): each blocks on its task queue, whose pipe it holds both
# ends of itself, so it never sees end-of-file; and the fork server waits for every holder of its
# "alive" pipe to close it, which the workers are (multiprocessing hands them its write end).
# PR_SET_PDEATHSIG in the workers would not help: their parent is the fork server, not the
# driver, and it outlives them as just said. In the fork server it would fire on the death of the
# driver's *thread* that started it (a pool started from a helper thread would lose its server
# when that thread ends), and it is Linux only. So: a pipe whose only write end the driver holds
# (never closed, never sent to another process); every worker gets its read end and a thread that
# reads it. Only the kernel closes the write end, when the driver dies however it dies; the read
# then returns and the worker exits, and once the workers are gone the fork server sees its own
# pipe close and exits as well. Portable (any POSIX), no polling, no PID reuse to get wrong.

_LIFELINE: dict[int, tuple[Connection, Connection]] = {}  # driver PID -> (read end, write end)


def _driver_lifeline() -> Connection:
    """The read end of this process's lifeline (made once per process: a forked child makes its
    own). The write end stays referenced here so it is closed only when the process dies."""
    pid = os.getpid()
    if pid not in _LIFELINE:
        _LIFELINE.clear()  # inherited from the parent by fork: the parent's, not ours
        _LIFELINE[pid] = multiprocessing.Pipe(duplex=False)
    return _LIFELINE[pid][0]


def exit_with_driver(lifeline: Connection) -> None:
    """A pool worker's initializer: a daemon thread that ends the worker as soon as its driver
    is gone (see above). os._exit: nobody is left to take the worker's results."""

    def watch() -> None:
        with suppress(EOFError, OSError):
            lifeline.recv_bytes()  # nothing is ever sent: returns only at end-of-file
        os._exit(1)

    threading.Thread(target=watch, name="driver-lifeline", daemon=True).start()


class PoolMapper(_GroupArraysInProcess):
    """A process pool (concurrent.futures); `Executor.map` yields results in submission order."""

    def __init__(
        self, workers: int, stop_when_idle: bool = True, preload: Sequence[str] = WORKER_MODULES
    ) -> None:
        self.workers = workers
        self.stop_when_idle = stop_when_idle
        self.preload = tuple(preload)
        # Set once a worker of the first pool has answered: until then the driver runs chunks
        # itself (`_Windowed`), if the pool keeps its idle workers (a small build). A later pool
        # (after `release`) forks from the fork server already up.
        self._answered: threading.Event | None = None

    @cached_property
    def pool(self) -> ProcessPoolExecutor:
        context = boot_forkserver(self.preload)
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=exit_with_driver,
            initargs=(_driver_lifeline(),),
        )

    def map(
        self, func: Callable[[list[T]], list[R]], chunks: Iterable[list[T]]
    ) -> Iterator[list[R]]:
        """Results in chunk order. Chunks are pulled from `chunks` (which may be a generator that
        builds them) only a few per worker ahead of the consumer, so neither the inputs nor the
        results of the whole stage are ever in memory at once (Executor.map submits them all).
        A sequence of fewer than POOL_MIN_TASKS items runs in-process."""
        if isinstance(chunks, Sequence) and sum(map(len, chunks)) < POOL_MIN_TASKS:
            return (func(chunk) for chunk in chunks)
        size = self.workers * WINDOW_PER_WORKER
        # A pool that stops its idle workers is a large build's: its driver does not take on
        # stage work, whose imports and caches would stay in it through its memory peaks.
        answered = None if self.stop_when_idle else self._first_answer()
        return _Windowed(self.pool, func, iter(chunks), size, answered)

    def _first_answer(self) -> threading.Event:
        """Set once a worker has answered. The first call starts the workers from another
        thread, since submitting blocks until the fork server's imports are done (seconds)."""
        if self._answered is None:
            answered = self._answered = threading.Event()
            pool = self.pool

            def start() -> None:
                try:  # a result or an error: either way the pool has answered
                    wait_for_futures([pool.submit(_answer)])
                finally:  # a pool that cannot start fails the next submit, as without this
                    answered.set()

            threading.Thread(target=start, name="pool-start", daemon=True).start()
        return self._answered

    def map_groups(
        self, func: Callable[[list[T]], R], groups: Sequence[tuple[Any, list[T]]]
    ) -> list[R]:
        chunks = pack_groups(groups, self.workers)
        done = self.map(partial(_apply_each, func), chunks)  # type: ignore[arg-type]
        return [result for chunk in done for result in chunk]

    @property
    def running(self) -> bool:
        return "pool" in self.__dict__  # made by the first map; dropped by `release`

    def close(self) -> None:
        if "pool" in self.__dict__:
            self.pool.shutdown()

    def release(self) -> None:
        """Stop the workers (their memory goes back to the system) unless the pool keeps them
        through idle spells (`stop_when_idle`); the next map starts new ones."""
        if not self.stop_when_idle:
            return
        self.close()
        self.__dict__.pop("pool", None)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        return None


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the system (after each stage in the driver, after
    each chunk in a worker). glibc keeps the memory that temporaries freed (numpy buffers,
    millions of small Python objects) for reuse, and the process's RSS does not fall: measured
    at 100k captures, ~350 MB stayed in the driver after clustering, into every later stage.
    Arrow's allocator (mimalloc) keeps its own: ~220 MB in the driver when the alignment of that
    build ended. Output never depends on it."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
    pa.default_memory_pool().release_unused()


def _answer() -> None:
    """A worker's first task while the driver helps (`_Windowed`): its answer: the pool is up."""


def _trimmed(func: Callable[[list[T]], R], chunk: list[T]) -> R:
    """A worker's task: `func` on the chunk, then its freed memory back to the system."""
    try:
        return func(chunk)
    finally:
        release_free_memory()


class _Windowed(Iterator[R]):
    """Ordered results of `func` over chunks on a pool, at most `size` chunks in flight. The
    first window is submitted at once, so the workers start before the consumer asks.

    `answered`: set once a worker of the pool has answered. The pool's first start waits for its
    fork server's imports (~1.5 s of a build with two workers, the driver idle meanwhile: a
    1k-capture build was slower with two workers than with one). Until then the driver runs the
    chunks itself, in order; the pool takes the rest. Who runs a chunk never changes its
    result."""

    def __init__(
        self,
        pool: ProcessPoolExecutor,
        func: Callable[[list[T]], R],
        chunks: Iterator[list[T]],
        size: int,
        answered: threading.Event | None = None,
    ) -> None:
        self.pool, self.func, self.chunks = pool, func, chunks
        self.window: deque[Future[R]] = deque()
        self.done_here: deque[R] = deque()  # results of the chunks the driver ran, in order
        while answered is not None and not answered.is_set():
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.done_here.append(self.func(chunk))
        for _ in range(size):
            if not self._submit():
                break

    def _submit(self) -> bool:
        chunk = next(self.chunks, None)
        if chunk is None:
            return False
        self.window.append(self.pool.submit(_trimmed, self.func, chunk))
        return True

    def __next__(self) -> R:
        if self.done_here:
            return self.done_here.popleft()
        if not self.window:
            raise StopIteration
        result = self.window.popleft().result()
        self._submit()
        return result


def make_mapper(
    workers: int = 1,
    engine: str = "local",
    captures: int | None = None,
    preload: Sequence[str] = WORKER_MODULES,
) -> Mapper:
    """The engine that runs per-capture work: `local` (workers processes) or `ray`. `captures`:
    the build's size, if known (a small build's pool keeps its idle workers); `preload`: the
    modules a pool's workers start with."""
    if engine == "ray":
        from newsvariants.engines.ray_engine import RayMapper

        return RayMapper()
    if engine != "local":
        raise NewsVariantsError(f"unknown engine {engine!r} (choose local or ray)")
    if not runs_a_pool(workers, engine):
        return InProcessMapper()
    stop_when_idle = captures is None or captures >= STOP_IDLE_FROM_CAPTURES
    return PoolMapper(resolve_workers(workers), stop_when_idle, preload)


def runs_a_pool(workers: int, engine: str) -> bool:
    """Whether `make_mapper(workers, engine)` runs work on a local process pool."""
    return engine == "local" and resolve_workers(workers) > 1


def resolve_workers(workers: int) -> int:
    """`0` means one per core; anything else must be positive."""
    if workers == 0:
        return os.cpu_count() or 1
    if workers < 0:
        raise NewsVariantsError(f"--workers must be 0 (all cores) or positive, not {workers}")
    return workers


def chunked(items: Sequence[T], workers: int) -> list[list[T]]:
    size = max(MIN_CHUNK, min(MAX_CHUNK, -(-len(items) // max(1, workers * CHUNKS_PER_WORKER))))
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


# --- the cache ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int


class CaptureCache:
    """Key -> value store in one SQLite file (one writer: the driver); values are pickled and
    LZ4-compressed (`encode_value`). A cache never changes results: a key names everything its
    value depends on.

    SQLite rather than a file per key: 100k captures would be 200k small files, and SQLite gives
    atomic batched writes and safe concurrent readers for free (standard library).
    """

    keeps = True  # values put are kept (NoCache: forgotten, so not worth making)

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / CACHE_FILE
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(
                f"{folder}: cannot use as the cache folder ({unusable_folder(folder, exc)})"
            ) from exc
        with self.database():
            self.db = sqlite3.connect(self.path, timeout=60)
            self.db.execute("CREATE TABLE IF NOT EXISTS entry (key TEXT PRIMARY KEY, value BLOB)")
        self.hits = 0
        self.misses = 0
        # Keys whose stored value could not be read: their callers recompute them (`_ordered`)
        # and the build says how many there were (`notes`).
        self.unreadable: set[str] = set()

    @contextmanager
    def database(self) -> Iterator[None]:
        """SQLite errors as a CacheError naming the file. A damaged database is not rebuilt
        behind the user's back: other builds may be using the folder at the same time (SQLite
        lets them), and a file that is not a database at all may not be ours to delete; the
        user deletes the folder (nothing in it is more than work a build can redo)."""
        try:
            yield
        except sqlite3.Error as exc:
            raise CacheError(
                f"{self.path}: cannot use the cache database ({exc}); if it is damaged, delete "
                f"{self.folder} (it only holds work a build redoes) or build without --cache"
            ) from exc

    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        """The values of `keys` that are stored and readable; an unreadable one (a damaged
        entry) is left out and noted in `unreadable`, so that its caller computes it again."""
        found: dict[str, Any] = {}
        with self.database():
            for start in range(0, len(keys), 500):  # SQLite's host-parameter limit
                batch = keys[start : start + 500]
                marks = ",".join("?" * len(batch))
                query = f"SELECT key, value FROM entry WHERE key IN ({marks})"
                for key, value in self.db.execute(query, batch):
                    try:
                        found[key] = decode_value(value)
                    except Exception:  # any damage: a cache must not fail the build it serves
                        self.lost(key)
        return found

    def lost(self, key: str) -> None:
        """`key`'s stored value could not be read: a miss, to be computed and put again."""
        if key not in self.unreadable:
            self.unreadable.add(key)
            self.hits -= 1
            self.misses += 1

    def present(self, keys: Sequence[str]) -> set[str]:
        """The keys that have a value (values are read later, a batch at a time: bounded
        memory even when every capture is cached)."""
        found: set[str] = set()
        with self.database():
            for start in range(0, len(keys), 500):
                batch = keys[start : start + 500]
                marks = ",".join("?" * len(batch))
                rows = self.db.execute(f"SELECT key FROM entry WHERE key IN ({marks})", batch)
                found.update(key for (key,) in rows)
        self.hits += len(found)
        self.misses += len(set(keys)) - len(found)
        return found

    def put_many(self, items: Iterable[tuple[str, Any]]) -> None:
        rows = [(key, encode_value(value)) for key, value in items]
        with self.database(), self.db:
            self.db.executemany("INSERT OR REPLACE INTO entry (key, value) VALUES (?, ?)", rows)

    def stats(self) -> CacheStats:
        return CacheStats(self.hits, self.misses)

    def notes(self) -> list[str]:
        """What the build should tell its user about the cache: damaged entries it recomputed."""
        if not self.unreadable:
            return []
        count = len(self.unreadable)
        return [
            f"{self.path}: {count} cached value{'s' if count > 1 else ''} could not be read "
            "(damaged); computed again and stored again"
        ]

    def close(self) -> None:
        self.db.close()


# A cached value: this byte, the pickle's length (8 bytes, little-endian), the pickle as an LZ4
# frame (pyarrow's codec). Values written by earlier releases are zlib streams (first byte 0x78)
# and are still read. Why LZ4: zlib spends ~50 us setting up its state for every value (it was
# 60-140 us a value of 2-10 KB, ~8 s of the driver's time in a cold 10k-capture build), LZ4
# 4-18 us; the cache grows ~1.3x.
_LZ4_VALUE = b"\x01"


@cache
def _lz4() -> Any:
    import pyarrow as pa

    return pa.Codec("lz4")


def encode_value(value: Any) -> bytes:
    """What the cache stores of a value."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _LZ4_VALUE + len(data).to_bytes(8, "little") + _lz4().compress(data, asbytes=True)


def decode_value(blob: bytes) -> Any:
    """The value `encode_value` stored (or an earlier release's zlib-compressed pickle)."""
    if blob[:1] != _LZ4_VALUE:
        return pickle.loads(zlib.decompress(blob))
    size = int.from_bytes(blob[1:9], "little")
    data = _lz4().decompress(memoryview(blob)[9:], decompressed_size=size, asbytes=True)
    return pickle.loads(data)


class NoCache:
    """Stands in for CaptureCache when caching is off."""

    hits = misses = 0
    keeps = False

    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        return {}

    def present(self, keys: Sequence[str]) -> set[str]:
        return set()

    def put_many(self, items: Iterable[tuple[str, Any]]) -> None:
        for _ in items:
            pass

    def lost(self, key: str) -> None:
        return None

    def notes(self) -> list[str]:
        return []

    def close(self) -> None:
        return None


def code_fingerprint(
    modules: Sequence[str], libraries: Sequence[str], salt: str = CACHE_FORMAT
) -> str:
    """Digest of the source of `modules` and the versions of `libraries` (and `salt`)."""
    digest = hashlib.sha256(salt.encode())
    for name in modules:
        module = importlib.import_module(name)
        digest.update(Path(module.__file__ or "").read_bytes())
    for library in libraries:
        try:
            version = importlib.metadata.version(library)
        except importlib.metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"|{library}={version}".encode())
    return digest.hexdigest()[:24]


def stage_fingerprint() -> str:
    """Digest of the code and library versions that phases 1 and 3 depend on."""
    return code_fingerprint(_STAGE_MODULES, _STAGE_LIBRARIES, f"{CACHE_FORMAT}|{EXTRACTOR_VERSION}")


def templates_digest(templates: frozenset[str]) -> str:
    digest = hashlib.sha256()
    for key in sorted(templates):
        digest.update(key.encode("utf-8") + b"\0")
    return digest.hexdigest()[:24]


def _capture_key(phase: str, capture: Capture, fingerprint: str, extra: str = "") -> str:
    """What the phases' results for one capture depend on: its bytes, how they are read, and
    (for extraction) its URL, which dates a page that states no date (`extract_capture`)."""
    return (
        f"{phase}|{fingerprint}|{capture.sha256}|{capture.format}|{capture.encoding}|"
        f"{capture.url or ''}|{extra}"
    )


# --- phase workers (module level: they are pickled to other processes) ---------------------


@dataclass(frozen=True)
class Scan:
    """Phase 1 of one capture: why it cannot be read (the quarantine reason), or (text dumps)
    its blocks' template keys."""

    unreadable: str | None
    template_texts: tuple[str, ...] = ()


def scan_capture(raw: Path, capture: Capture) -> Scan:
    data = verify_capture(raw, capture)
    try:
        text = decode_capture(data, capture.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        return Scan(f"cannot decode: {exc}")
    problem = reading_problem(data, capture.encoding, text, capture.format)
    if problem:
        return Scan(problem)
    if capture.format != "text":
        # parsed here (~2 ms a page, cached) so that a page libxml2 cannot read whole is
        # quarantined with its reason, as an undecodable one is, instead of failing the build
        try:
            parse_html(text)
        except UnrenderablePage as exc:
            return Scan(f"cannot render: {exc}")
        return Scan(None)
    return Scan(None, template_texts(b.text for b in split_blocks(text)))


def template_texts(texts: Iterable[str]) -> tuple[str, ...]:
    """One text per distinct block key: the key itself where `block_key` gives it back (so the
    cache holds short normalised keys), else an original text with that key; `site_templates`
    keys them again and so counts exactly what it would count on the full texts."""
    texts = list(texts)
    first: dict[str, str] = {}  # each key's first text
    for key, text in zip(page_keys(texts), texts, strict=True):  # `block_key`, a page at once
        first.setdefault(key, text)
    keys = list(first)
    again = page_keys(keys)
    chosen = [key if back == key else first[key] for key, back in zip(keys, again, strict=True)]
    return tuple(sorted(chosen))


def scan_chunk(raw: Path, chunk: list[Capture]) -> list[tuple[str, Any]]:
    return [_attempt(scan_capture, raw, capture) for capture in chunk]


ExtractFunction = Callable[[Capture, bytes, PageContext], Extraction]


def extract_one(
    raw: Path, capture: Capture, templates: frozenset[str], extract: ExtractFunction
) -> Extraction:
    return extract(capture, verify_capture(raw, capture), PageContext(templates))


@dataclass(frozen=True)
class Finish:
    """What the workers make of a chunk's extractions before they send them back, and so what
    the driver receives and the cache keeps: `make` turns (capture, extraction) pairs of
    captures with a body into one value each (module-level functions: they are pickled to the
    workers); `store` and `load` turn a value into what the cache keeps and back; `name` tells
    its cached values apart from plain extractions; `load_whole`: what `store`'s `Shared`
    wholes are loaded with."""

    name: str
    make: Callable[[list[tuple[Capture, Extraction]]], list[Any]]
    store: Callable[[Any], Any]
    load: Callable[[Any], Any]
    load_whole: Callable[[Any], Any] | None = None  # see PhaseRunner.stream


def extract_chunk(
    raw: Path,
    extract: ExtractFunction,
    chunk: list[tuple[Capture, frozenset[str]]],
    finish: Finish | None = None,
) -> list[tuple[str, Any]]:
    """Per capture of the chunk: its extraction (with `finish`, what `finish.make` makes of it),
    or None when it has no body paragraph."""
    results = [
        ("ok", None) if status == "ok" and not value.paragraphs else (status, value)
        for status, value in (
            _attempt(extract_one, raw, c, templates, extract) for c, templates in chunk
        )
    ]
    if finish is None:
        return results
    bodies = [
        k for k, (status, value) in enumerate(results) if status == "ok" and value is not None
    ]
    pairs = [(chunk[k][0], results[k][1]) for k in bodies]
    status, made = _attempt(finish.make, pairs)
    if status == "error":  # one capture at a time, so the failure names its own capture
        made = [_attempt(_make_one, finish, pair) for pair in pairs]
    else:
        made = [("ok", value) for value in made]
    for k, outcome in zip(bodies, made, strict=True):
        results[k] = outcome
    return results


def _make_one(finish: Finish, pair: tuple[Capture, Extraction]) -> Any:
    return finish.make([pair])[0]


@dataclass(frozen=True)
class Failure:
    """An exception of a worker, sent back to the driver (exception objects may not pickle)."""

    kind: str
    message: str
    ours: bool  # a NewsVariantsError (its message already names the file)

    def describe(self) -> str:
        return f"{self.kind}: {self.message}"


def _attempt(func: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """("ok", value) or ("error", Failure): the driver raises failures in task order."""
    try:
        return "ok", func(*args)
    except Exception as exc:
        return "error", Failure(type(exc).__name__, str(exc), isinstance(exc, NewsVariantsError))


attempt = _attempt  # for the phase workers of other stages (build.align_chunk)


# --- the driver -----------------------------------------------------------------------------


@dataclass
class PhaseRunner:
    """Runs one phase over captures: cache lookups, the misses on the mapper, cache writes."""

    mapper: Mapper
    cache: CaptureCache | NoCache
    workers: int

    def idle(self) -> None:
        """What follows runs in this process alone (a split's pairs): stop the pool's idle
        workers rather than keep their memory (~0.5 GB at 100k captures) through it."""
        self.mapper.release()

    def run(
        self,
        keys: Sequence[str],
        tasks: Sequence[T],
        worker: Callable[[list[T]], list[tuple[str, Any]]],
        on_error: Callable[[int, Failure], Exception],
        progress: Callable[[int], None] = lambda n: None,
        group_of: Callable[[T], Any] | None = None,
    ) -> list[Any]:
        """Results of every task in task order (`stream`, collected)."""
        groups = None if group_of is None else [group_of(task) for task in tasks]
        return list(self.stream(keys, tasks.__getitem__, worker, on_error, progress, groups))

    def stream(
        self,
        keys: Sequence[str],
        task_at: Callable[[int], T],
        worker: Callable[[list[T]], list[tuple[str, Any]]],
        on_error: Callable[[int, Failure], Exception],
        progress: Callable[[int], None] = lambda n: None,
        groups: Sequence[Any] | None = None,
        store: Callable[[Any], Any] | None = None,
        load: Callable[[Any], Any] | None = None,
        load_whole: Callable[[Any], Any] | None = None,
    ) -> Iterator[Any]:
        """The result of every task, in task order, as the consumer asks for them; raises
        on_error(index, failure) at the first task (in order) that failed, as the sequential
        loop would.

        Bounded memory: tasks are made (`task_at(index)`) only when their chunk is sent to a
        worker, a few chunks ahead of the consumer; cached values are read a batch at a time.
        With `groups` (a label per task; tasks of one group consecutive), the tasks that miss the
        cache go to the workers as whole groups (a groupby on Ray). `store` turns a value into
        what the cache keeps and `load` turns that back (e.g. an Arrow batch to IPC bytes). A
        `store` that returns `Shared` values keeps what several tasks share once; `load_whole`
        turns that back, and `load` then gets (the whole, the task's part)."""
        present = self.cache.present(keys)
        missing = [i for i, key in enumerate(keys) if key not in present]
        mapper = self.mapper
        if isinstance(mapper, PoolMapper) and len(missing) < POOL_MIN_TASKS:
            mapper = InProcessMapper()  # not worth starting processes
        results: Iterator[list[tuple[str, Any]]]
        if groups is None:
            chunks = chunked(missing, self.workers)
            results = mapper.map(worker, (list(map(task_at, chunk)) for chunk in chunks))
        elif isinstance(mapper, (InProcessMapper, PoolMapper)):
            runs = _groups(missing, [groups[i] for i in missing])
            chunks = [
                [i for run in packed for i in run]
                for packed in pack_groups([(None, run) for run in runs], self.workers)
            ]
            results = mapper.map(worker, (list(map(task_at, chunk)) for chunk in chunks))
        else:  # a distributed engine: one group per key
            chunks = _groups(missing, [groups[i] for i in missing])
            results = iter(
                mapper.map_groups(
                    worker, [(groups[run[0]], list(map(task_at, run))) for run in chunks]
                )
            )
        reader = _Reader(self.cache, load, load_whole)
        return self._ordered(
            keys, present, chunks, results, on_error, progress, _Keeper(store), reader,
            _redo(worker, task_at),
        )  # fmt: skip

    def _ordered(
        self,
        keys: Sequence[str],
        present: set[str],
        chunks: list[list[int]],
        results: Iterator[list[tuple[str, Any]]],
        on_error: Callable[[int, Failure], Exception],
        progress: Callable[[int], None],
        keeper: _Keeper,
        reader: _Reader,
        redo: Callable[[int], tuple[str, Any]],
    ) -> Iterator[Any]:
        computed: dict[int, Any] = {}
        cached: dict[str, Any] = {}
        batch: set[str] = set()  # the keys asked for in the last batch (`cached`: those read)
        pending: list[tuple[str, Any]] = []
        done = len(keys) - sum(map(len, chunks))
        progress(done)
        next_chunk = iter(chunks)
        for index, key in enumerate(keys):
            if key in present:
                if key not in batch:  # the next batch of cached values, in task order
                    wanted = [k for k in keys[index : index + CACHE_BATCH] if k in present]
                    batch, cached = set(wanted), self.cache.get_many(wanted)
                value = reader.loaded(key, cached)
                if value is _LOST:  # a damaged entry: computed here (rare), stored again
                    status, value = redo(index)
                    if status == "error":
                        raise on_error(index, value)
                    pending += keeper.entries(key, value)
                yield value
                continue
            while index not in computed:
                chunk, outcomes = next(next_chunk), next(results)
                for task, (status, value) in zip(chunk, outcomes, strict=True):
                    if status == "error":  # chunks arrive in task order: the first failure
                        raise on_error(task, value)
                    computed[task] = value
                    if self.cache.keeps:  # (`store` is not free: an Arrow row's IPC ~100 us)
                        pending += keeper.entries(keys[task], value)
                done += len(chunk)
                progress(done)
                if len(pending) >= 2048:
                    self.cache.put_many(pending)
                    pending = []
            yield computed.pop(index)
        self.cache.put_many(pending)


@dataclass(frozen=True)
class Shared:
    """What a phase's `store` returns for a value that is one part of a larger value several
    tasks share (the rows of a worker's chunk are one Arrow table): the cache keeps `whole`
    once, under `key` (which must name its contents, as every key does), and under each task's
    key only a `SharedPart`: its place in the whole. Each of 10k variant rows kept as its own
    IPC message cost ~40 us to read back and put together again; a chunk's table is read once
    and its rows are slices of it."""

    key: str
    whole: Any
    part: Any


@dataclass(frozen=True)
class SharedPart:
    """What the cache keeps under a task's key for a `Shared` value."""

    key: str
    part: Any


class _Keeper:
    """The cache entries of computed values: `store` applied, each shared whole put once."""

    def __init__(self, store: Callable[[Any], Any] | None) -> None:
        self.store = store
        self.kept: set[str] = set()  # the shared wholes already put by this phase

    def entries(self, key: str, value: Any) -> list[tuple[str, Any]]:
        stored = value if self.store is None else self.store(value)
        if not isinstance(stored, Shared):
            return [(key, stored)]
        found = [(key, SharedPart(stored.key, stored.part))]
        if stored.key not in self.kept:
            self.kept.add(stored.key)
            found.insert(0, (stored.key, stored.whole))  # before its parts: put no later
        return found


class _Reader:
    """Cached values loaded (`load`); the shared wholes that `SharedPart` values name are read
    and loaded once each: the KEEP used last are kept. A phase reads its tasks in order, so a
    chunk's parts come together, interleaved only with those of the chunks that later builds
    made of the captures they added (a few rows each, over the whole order: one more chunk to
    keep per incremental build, while the first build's chunks pass one after the other)."""

    KEEP = 16

    def __init__(
        self,
        cache: CaptureCache | NoCache,
        load: Callable[[Any], Any] | None,
        load_whole: Callable[[Any], Any] | None,
    ) -> None:
        self.cache, self.load, self.load_whole = cache, load, load_whole
        self.wholes: dict[str, Any] = {}  # key -> loaded whole, or _LOST; least recently used first

    def loaded(self, key: str, cached: dict[str, Any]) -> Any:
        """`key`'s cached value, loaded; _LOST if it could not be read (see CaptureCache.lost)."""
        if key not in cached:
            return _LOST
        value = cached[key]
        if self.load is None:
            return value
        try:
            if isinstance(value, SharedPart):
                whole = self._whole(value.key)
                if whole is _LOST:
                    return _LOST  # the whole is the damaged value (`lost`): the part is fine
                return self.load((whole, value.part))
            return self.load(value)
        except Exception:  # unpickled but damaged inside (e.g. an Arrow IPC message)
            self.cache.lost(key)
            return _LOST

    def _whole(self, key: str) -> Any:
        whole = self.wholes.pop(key, _UNREAD)
        if whole is _UNREAD:
            if len(self.wholes) >= self.KEEP:
                del self.wholes[next(iter(self.wholes))]  # the least recently used
            whole = self._read_whole(key)
        self.wholes[key] = whole  # the most recently used last
        return whole

    def _read_whole(self, key: str) -> Any:
        found = self.cache.get_many([key])
        if key not in found:  # unreadable (or absent): its parts are computed again
            self.cache.lost(key)
            return _LOST
        try:
            return found[key] if self.load_whole is None else self.load_whole(found[key])
        except Exception:
            self.cache.lost(key)
            return _LOST


_LOST = object()  # a cached value that could not be read
_UNREAD = object()  # a shared whole not among those kept


def _redo(
    worker: Callable[[list[T]], list[tuple[str, Any]]], task_at: Callable[[int], T]
) -> Callable[[int], tuple[str, Any]]:
    """Computes one task in this process: for the rare cached value found damaged."""
    return lambda index: worker([task_at(index)])[0]


# Cached values read per query while streaming: enough to amortise the query, few enough to keep
# memory flat.
CACHE_BATCH = 256


def _groups(indexes: list[int], labels: list[Any]) -> list[list[int]]:
    """Runs of consecutive equal labels."""
    runs: list[list[int]] = []
    for n, (index, label) in enumerate(zip(indexes, labels, strict=True)):
        if n == 0 or label != labels[n - 1]:
            runs.append([])
        runs[-1].append(index)
    return runs


@contextmanager
def stage_runner(
    workers: int = 1,
    engine: str = "local",
    cache_dir: Path | None = None,
    captures: int | None = None,
    preload: Sequence[str] = WORKER_MODULES,
) -> Iterator[PhaseRunner]:
    """One mapper (process pool or Ray) and one cache for every phase of a build: the pool starts
    once, not once per stage (`captures`, `preload`: see `make_mapper`)."""
    mapper = make_mapper(workers, engine, captures, preload)
    cache: CaptureCache | NoCache = CaptureCache(cache_dir) if cache_dir else NoCache()
    try:
        yield PhaseRunner(mapper, cache, resolve_workers(workers) if engine == "local" else 2)
    finally:
        cache.close()
        close = getattr(mapper, "close", None)
        if close:
            close()


def extract_captures(
    raw: Path,
    captures: Sequence[Capture],
    progress: Progress = _no_progress,
    *,
    workers: int = 1,
    cache_dir: Path | None = None,
    engine: str = "local",
    extract: ExtractFunction = extract_capture,
    runner: PhaseRunner | None = None,
) -> tuple[dict[str, Extraction], list[Quarantined]]:
    """Extract every capture; a capture that cannot be decoded or has no body is quarantined.

    Same results as running `extract` (a module-level function, so workers can unpickle it) on
    each capture in turn, whatever `workers`, `cache_dir` and `engine` are (or the `runner` that
    carries them, when the build shares one between stages).
    """
    quarantined: list[Quarantined] = []
    if runner is not None:
        found = iter_extractions(runner, raw, list(captures), progress, extract, quarantined)
        return {c.capture_id: e for c, e in found}, quarantined
    with stage_runner(workers, engine, cache_dir) as own:
        found = iter_extractions(own, raw, list(captures), progress, extract, quarantined)
        return {c.capture_id: e for c, e in found}, quarantined


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`convert`, passing None (a capture with no body) through."""
    return lambda value: None if value is None else convert(value)


# What the cache keeps of a source (`scan_sources`): per capture of the source, in capture order,
# why it cannot be read (None: it can); and the source's site templates (sorted), or None for a
# source without a readable text dump (it has no entry in `site_templates`).
SourceScan = tuple[tuple[str | None, ...], tuple[str, ...] | None]


def scan_sources(
    runner: PhaseRunner,
    raw: Path,
    captures: list[Capture],
    fingerprint: str,
    progress: Progress,
) -> tuple[list[str | None], dict[str, frozenset[str]]]:
    """Phases 1 and 2: per capture, why it cannot be read (None: it can), and the site
    templates of every source that has a readable text dump.

    Both are functions of a source's captures alone (`site_templates` counts each source on its
    own), so besides each capture's scan the cache keeps one value per source, keyed by the
    scan keys of its captures in order: a rebuild reads that one value for a source none of
    whose captures changed, where it read every capture's scan and counted the templates of
    every source again (~0.9 s of a 10k-capture rebuild after adding 100 captures)."""
    members: dict[str, list[int]] = {}
    for index, capture in enumerate(captures):
        members.setdefault(capture.source, []).append(index)
    scan_keys = [_capture_key("scan", c, fingerprint) for c in captures]
    source_keys = {
        source: _source_key(source, [scan_keys[i] for i in rows], fingerprint)
        for source, rows in members.items()
    }
    known = _cached_sources(runner.cache, source_keys, members)
    unreadable: list[str | None] = [None] * len(captures)
    templates: dict[str, frozenset[str]] = {}
    for source, (reasons, keys) in known.items():
        for index, reason in zip(members[source], reasons, strict=True):
            unreadable[index] = reason
        if keys is not None:
            templates[source] = frozenset(keys)
    todo = sorted(i for source, rows in members.items() if source not in known for i in rows)
    done = len(captures) - len(todo)
    scans: list[Scan] = runner.run(
        [scan_keys[i] for i in todo],
        [captures[i] for i in todo],
        partial(scan_chunk, raw),
        # as run_stage reports a verification failure of the sequential loop
        lambda i, failure: StageError(
            "extract", failure.message if failure.ours else failure.describe()
        ),
        lambda n: progress("scan", done + n, len(captures)),
    )
    dumps: dict[str, tuple[str, ...]] = {}
    for index, scan in zip(todo, scans, strict=True):
        unreadable[index] = scan.unreadable
        if scan.unreadable is None and captures[index].format == "text":
            dumps[captures[index].capture_id] = scan.template_texts
    del scans
    fresh = site_templates(dumps, {c.capture_id: c.source for c in captures})
    templates.update(fresh)
    runner.cache.put_many(
        (
            source_keys[source],
            (
                tuple(unreadable[i] for i in members[source]),
                tuple(sorted(fresh[source])) if source in fresh else None,
            ),
        )
        for source in members
        if source not in known
    )
    return unreadable, templates


def _source_key(source: str, scan_keys: list[str], fingerprint: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8", "surrogatepass"))
    for key in scan_keys:
        digest.update(b"\0" + key.encode("utf-8"))
    return f"source-scan|{fingerprint}|{digest.hexdigest()[:32]}"


def _cached_sources(
    cache: CaptureCache | NoCache, keys: dict[str, str], members: dict[str, list[int]]
) -> dict[str, SourceScan]:
    """The sources whose value (`SourceScan`) is cached and readable. A value that unpickles
    but does not fit its source (damaged) is a miss, computed and stored again."""
    present = cache.present(list(keys.values()))
    values = cache.get_many([key for key in keys.values() if key in present])
    found: dict[str, SourceScan] = {}
    for source, key in keys.items():
        if key not in values:
            continue
        value = values[key]
        if _fits(value, len(members[source])):
            found[source] = value
        else:
            cache.lost(key)
    return found


def _fits(value: Any, count: int) -> bool:
    """Whether a cached value is a `SourceScan` of a source of `count` captures."""
    if not (isinstance(value, tuple) and len(value) == 2):
        return False
    reasons, keys = value
    return (
        isinstance(reasons, tuple)
        and len(reasons) == count
        and all(r is None or isinstance(r, str) for r in reasons)
        and (keys is None or (isinstance(keys, tuple) and all(isinstance(k, str) for k in keys)))
    )


def iter_extractions(
    runner: PhaseRunner,
    raw: Path,
    captures: list[Capture],
    progress: Progress,
    extract: ExtractFunction,
    quarantined: list[Quarantined],
    finish: Finish | None = None,
) -> Iterator[tuple[Capture, Any]]:
    """(capture, extraction) of every capture with a body, in capture order, as they are made
    (the caller keeps what it needs of each); the others are appended to `quarantined`. With
    `finish`, (capture, what the workers made of its extraction) instead."""
    fingerprint = stage_fingerprint()
    unreadable, templates = scan_sources(runner, raw, captures, fingerprint, progress)
    quarantined += [
        Quarantined(c.capture_id, c.path, "extract", reason)
        for c, reason in zip(captures, unreadable, strict=True)
        if reason is not None
    ]
    todo = [c for c, reason in zip(captures, unreadable, strict=True) if reason is None]
    digests = {source: templates_digest(keys) for source, keys in templates.items()}
    phase = "extract" if finish is None else f"extract-{finish.name}"
    extracted = runner.stream(
        [_capture_key(phase, c, fingerprint, digests.get(c.source, "")) for c in todo],
        lambda i: (todo[i], templates.get(todo[i].source, frozenset())),
        partial(extract_chunk, raw, extract, finish=finish),
        lambda i, failure: StageError("extract", failure.describe(), todo[i].path),
        lambda n: progress("extract", n, len(todo)),
        store=None if finish is None else _optional(finish.store),
        load=None if finish is None else _optional(finish.load),
        load_whole=None if finish is None else finish.load_whole,
    )
    for capture, extraction in zip(todo, extracted, strict=True):
        if extraction is None:
            quarantined.append(
                Quarantined(capture.capture_id, capture.path, "extract", "no body paragraphs found")
            )
            continue
        yield capture, extraction
