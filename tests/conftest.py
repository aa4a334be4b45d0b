"""Shared fixtures. Every test runs offline: no hub, no network."""

from __future__ import annotations

import os

os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

import hashlib  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "raw"
CORPUS = REPO / "corpus"
SEED_ORIGINAL = "6a46f5a4e7026b00"  # rt.com, the original outlet's page
SEED_MIRROR = "aef427151cea1b76"  # the rewording mirror


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def seed_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed corpus built from the repository's raw/ and the last release's registry
    (released/, as `scripts/build_corpus.sh` builds it) into a temporary folder (built once)."""
    from newsvariants.build import build

    out = tmp_path_factory.mktemp("seed") / "corpus"
    build(RAW, out, registry_path=REPO / "released" / "REGISTRY.json")
    return out


@pytest.fixture(scope="session")
def unreleased_seed_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed corpus as it stands before its first release (version 0.0.0), whatever the
    repository's committed corpus has been released as since: what the release tests start from."""
    from newsvariants.build import build

    out = tmp_path_factory.mktemp("unreleased") / "corpus"
    build(RAW, out, registry_path=CORPUS / "REGISTRY.json", version="0.0.0")
    return out


@pytest.fixture()
def raw_copy(tmp_path: Path) -> Path:
    """A writable copy of the repository's raw/."""
    target = tmp_path / "raw"
    shutil.copytree(RAW, target)
    return target


def corpus_copy(corpus: Path, tmp_path: Path) -> Path:
    """A writable copy of a built corpus, as tmp_path/corpus (the session's corpora are shared
    and read-only)."""
    target = tmp_path / "corpus"
    shutil.copytree(corpus, target)
    return target


def append_hand_written_record(raw: Path, data: bytes, encoding: str, source: str) -> str:
    """Store `data` in `raw` as a text capture with a record written as by hand (no ingest, so
    none of its checks): what a build must still refuse to publish. Returns the capture ID."""
    digest = hashlib.sha256(data).hexdigest()
    path = f"captures/{digest[:2]}/{digest}.txt"
    (raw / path).parent.mkdir(parents=True, exist_ok=True)
    (raw / path).write_bytes(data)
    record = {
        "capture_id": digest[:16],
        "sha256": digest,
        "path": path,
        "source": source,
        "url": None,
        "captured_at": None,
        "format": "text",
        "encoding": encoding,
        "bytes": len(data),
        "rights": "test",
        "container": None,
        "note": None,
    }
    with (raw / "captures.jsonl").open("a", encoding="utf-8") as records:
        records.write(json.dumps(record) + "\n")
    return digest[:16]
