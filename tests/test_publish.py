"""`newsvariants publish`: the dry run prints the exact operations; the upload runs exactly them."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from newsvariants.card import HUB_REPO
from newsvariants.cli import app
from newsvariants.errors import NewsVariantsError
from newsvariants.publish import PublishError, card_notes, plan_publish, publish
from newsvariants.release import release

runner = CliRunner()


@pytest.fixture()
def released(unreleased_seed_corpus: Path, tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    shutil.copytree(unreleased_seed_corpus, corpus)
    release(corpus, "0.1.0", "2026-01-15", tmp_path / "CHANGELOG.md", tmp_path / "CITATION.cff")
    return corpus


def _files(corpus: Path) -> dict[str, tuple[int, str]]:
    return {
        p.relative_to(corpus).as_posix(): (
            p.stat().st_size,
            hashlib.sha256(p.read_bytes()).hexdigest(),
        )
        for p in corpus.rglob("*")
        if p.is_file()
    }


def test_the_dry_run_lists_every_file_with_size_and_sha256_then_the_tag(
    released: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    def no_hub(*args: object, **kwargs: object) -> None:
        raise AssertionError("the dry run must not touch the hub")

    monkeypatch.setattr(huggingface_hub, "HfApi", no_hub)
    result = runner.invoke(
        app,
        ["publish", "--repo", "someorg/newsvariants", "--corpus", str(released), "--dry-run"]
        + ["--without-inputs"],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "create_repo someorg/newsvariants (repo_type=dataset, exist_ok=True)" in lines
    files = _files(released)
    for path, (size, sha) in files.items():
        assert f"  add {path}  {size} bytes  sha256 {sha}" in lines
    assert sum(line.startswith("  add ") for line in lines) == len(files)
    assert lines[-1] == "create_tag v0.1.0 on that commit"


def test_publishing_elsewhere_than_the_card_names_says_so(released: Path) -> None:
    # the release card's loading examples, download command and citation name the project's repo
    assert HUB_REPO in (released / "README.md").read_text(encoding="utf-8")
    assert plan_publish(released, HUB_REPO).notes == ()
    (note,) = plan_publish(released, "someorg/mirror").notes
    assert f"the project's repo {HUB_REPO}, not from someorg/mirror" in note
    assert 'load_dataset("someorg/mirror", revision="v0.1.0")' in note
    result = runner.invoke(
        app, ["publish", "--repo", "someorg/mirror", "--corpus", str(released), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "not from someorg/mirror" in result.stderr
    assert "not from" not in result.stdout  # the plan itself is unchanged
    # a user's own release: its card names the folder it was built into, whatever the repo
    (own,) = card_notes(False, HUB_REPO, "2.0.0")
    assert "the local folder it was built into" in own
    assert f'load_dataset("{HUB_REPO}", revision="v2.0.0")' in own


def test_an_unreleased_or_inconsistent_corpus_is_refused(
    unreleased_seed_corpus: Path, released: Path
) -> None:
    with pytest.raises(PublishError, match="not released"):
        plan_publish(unreleased_seed_corpus, "org/name")
    with pytest.raises(PublishError, match="ORG/NAME"):
        plan_publish(released, "just-a-name")
    (released / "notes.txt").write_text("stray", encoding="utf-8")
    with pytest.raises(PublishError, match=r"not listed: \['notes.txt'\]"):
        plan_publish(released, "org/name")
    (released / "notes.txt").unlink()
    parquet = next(released.rglob("*.parquet"))
    parquet.write_bytes(b"changed")
    with pytest.raises(NewsVariantsError, match="does not match its checksum"):
        plan_publish(released, "org/name")


class FakeApi:
    """Records the hub calls; the remote holds one stale shard and the hub's .gitattributes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def create_repo(self, repo: str, **kwargs: Any) -> None:
        self.calls.append(("create_repo", (repo, kwargs)))

    def list_repo_files(self, repo: str, **kwargs: Any) -> list[str]:
        return [".gitattributes", "pairs/old-00000-of-00001.parquet", "README.md"]

    def create_commit(self, repo: str, operations: list[Any], **kwargs: Any) -> Any:
        self.calls.append(("create_commit", (repo, operations, kwargs)))
        return SimpleNamespace(oid="abc123")

    def create_tag(self, repo: str, **kwargs: Any) -> None:
        self.calls.append(("create_tag", (repo, kwargs)))


def test_publish_runs_exactly_the_planned_operations(released: Path) -> None:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    plan = plan_publish(released, "org/name")
    api = FakeApi()
    assert publish(plan, api) == "abc123"
    assert [c[0] for c in api.calls] == ["create_repo", "create_commit", "create_tag"]
    _, operations, kwargs = api.calls[1][1]
    adds = {op.path_in_repo for op in operations if isinstance(op, CommitOperationAdd)}
    deletes = [op.path_in_repo for op in operations if isinstance(op, CommitOperationDelete)]
    assert adds == set(_files(released)) and deletes == ["pairs/old-00000-of-00001.parquet"]
    assert kwargs["repo_type"] == "dataset" and "0.1.0" in kwargs["commit_message"]
    assert api.calls[2][1] == (
        "org/name",
        {"tag": "v0.1.0", "revision": "abc123", "repo_type": "dataset"},
    )


@pytest.fixture()
def released_project(unreleased_seed_corpus: Path, raw_copy: Path, tmp_path: Path) -> Path:
    """A checkout's layout after a release: raw/, corpus/ (released 0.1.0) and released/."""
    corpus = tmp_path / "corpus"
    shutil.copytree(unreleased_seed_corpus, corpus)
    release(
        corpus,
        "0.1.0",
        "2026-01-15",
        tmp_path / "CHANGELOG.md",
        tmp_path / "CITATION.cff",
        released=tmp_path / "released",
    )
    return tmp_path


def test_a_release_is_published_with_its_inputs_and_the_download_rebuilds_byte_for_byte(
    released_project: Path, tmp_path: Path
) -> None:
    corpus, raw = released_project / "corpus", released_project / "raw"
    plan = plan_publish(corpus, "org/name", raw)
    inputs = {f"raw/{path}" for path in _files(raw)}
    inputs |= {"released/REGISTRY.json", "released/MANIFEST.json"}
    assert {u.path_in_repo for u in plan.uploads} == set(_files(corpus)) | inputs
    # What a user gets from `hf download`: the uploads laid out as in the dataset repo.
    hub = tmp_path / "download"
    for upload in plan.uploads:
        (hub / upload.path_in_repo).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(upload.local, hub / upload.path_in_repo)
    result = runner.invoke(app, ["validate", str(hub), "--raw", str(hub / "raw"), "--rebuild"])
    assert result.exit_code == 0, result.output
    assert "reproduces it byte for byte" in " ".join(result.output.split())
    # the corpus alone, when the inputs are not to be uploaded
    alone = plan_publish(corpus, "org/name")
    assert {u.path_in_repo for u in alone.uploads} == set(_files(corpus))


def test_inputs_other_than_the_corpus_was_built_from_are_not_published(
    released_project: Path,
) -> None:
    corpus, raw = released_project / "corpus", released_project / "raw"
    annotations = next((raw / "annotations").glob("*.jsonl"))
    kept = annotations.read_bytes()
    annotations.write_bytes(kept + b"\n")
    with pytest.raises(PublishError, match=r"annotations/\*\.jsonl is not what the corpus was"):
        plan_publish(corpus, "org/name", raw)
    annotations.write_bytes(kept)
    registry = released_project / "released" / "REGISTRY.json"
    registry.write_text(registry.read_text(encoding="utf-8") + " ", encoding="utf-8")
    with pytest.raises(PublishError, match=r"REGISTRY\.json is not what the corpus was built"):
        plan_publish(corpus, "org/name", raw)
    registry.write_text(registry.read_text(encoding="utf-8")[:-1], encoding="utf-8")
    capture = next((raw / "captures").rglob("*.txt"))
    capture.write_bytes(capture.read_bytes() + b"x")
    with pytest.raises(
        PublishError, match="cannot publish the corpus's inputs: .*SHA-256 mismatch"
    ):
        plan_publish(corpus, "org/name", raw)
