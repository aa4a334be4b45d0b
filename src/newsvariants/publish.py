"""`newsvariants publish --repo ORG/NAME [--dry-run]`: corpus/ to a Hugging Face dataset repo.

The plan is computed first and is exactly what the upload does: create the dataset repo if
needed, one commit that adds every file of the corpus (the files MANIFEST.json lists, plus
MANIFEST.json and README.md) and deletes remote files the release no longer has, then the tag
vX.Y.Z on that commit, which `load_dataset(..., revision="vX.Y.Z")` pins. The dry run prints the
plan and touches nothing (it is what the tests run; no hub is reachable from them).
Only a released, consistent corpus is published: version above 0.0.0, checksums verified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsvariants.errors import NewsVariantsError
from newsvariants.release import parse_version, verify_checksums
from newsvariants.write import release_of, sha256_file

REPO_TYPE = "dataset"
EXTRA_FILES = ("MANIFEST.json", "README.md")


class PublishError(NewsVariantsError):
    """The corpus cannot be published (not released, inconsistent, bad repo name, ...)."""


@dataclass(frozen=True)
class Upload:
    path_in_repo: str
    local: Path
    bytes: int
    sha256: str


@dataclass(frozen=True)
class PublishPlan:
    repo: str
    version: str
    tag: str
    uploads: tuple[Upload, ...]
    commit_message: str

    def describe(self) -> list[str]:
        """The operations, one per line, in the order they run."""
        lines = [f"create_repo {self.repo} (repo_type={REPO_TYPE}, exist_ok=True)"]
        lines.append(f"create_commit {self.repo}: {self.commit_message!r}")
        lines += [
            f"  add {u.path_in_repo}  {u.bytes} bytes  sha256 {u.sha256}" for u in self.uploads
        ]
        total = sum(u.bytes for u in self.uploads)
        lines.append(f"  ({len(self.uploads)} files, {total} bytes)")
        lines.append("  delete every remote file not listed above (listed at upload time)")
        lines.append(f"create_tag {self.tag} on that commit")
        return lines


def check_repo_id(repo: str) -> str:
    parts = repo.split("/")
    if len(parts) != 2 or not all(parts) or any(" " in p for p in parts):
        raise PublishError(f"--repo must be ORG/NAME, got {repo!r}")
    return repo


def plan_publish(corpus: Path, repo: str) -> PublishPlan:
    """The exact operations of a publish, after checking the corpus is a consistent release."""
    check_repo_id(repo)
    manifest_path = corpus / "MANIFEST.json"
    if not manifest_path.is_file():
        raise PublishError(f"{corpus}: no MANIFEST.json: build the corpus first")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    version = manifest["version"]
    if release_of(version) != version or parse_version(version) == (0, 0, 0):
        raise PublishError(
            f"{corpus} is not released (version {version}): run newsvariants release"
        )
    verify_checksums(corpus, manifest)
    listed = [e["path"] for e in manifest["files"]] + list(EXTRA_FILES)
    present = sorted(
        p.relative_to(corpus).as_posix()
        for p in corpus.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(corpus).parts)
    )
    stray = sorted(set(present) - set(listed))
    missing = sorted(set(listed) - set(present))
    if stray or missing:
        raise PublishError(
            f"{corpus}: files do not match MANIFEST.json (not listed: {stray}; missing: {missing})"
        )
    uploads = tuple(
        Upload(path, corpus / path, (corpus / path).stat().st_size, sha256_file(corpus / path))
        for path in sorted(listed)
    )
    return PublishPlan(
        repo=repo,
        version=version,
        tag=f"v{version}",
        uploads=uploads,
        commit_message=f"NewsVariants {version} (inputs {manifest['inputs']['digest'][:12]})",
    )


def publish(plan: PublishPlan, api: Any = None) -> str:
    """Run the plan with huggingface_hub; returns the commit the tag points to."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi

    api = api or HfApi()
    api.create_repo(plan.repo, repo_type=REPO_TYPE, exist_ok=True)
    keep = {u.path_in_repo for u in plan.uploads}
    remote = api.list_repo_files(plan.repo, repo_type=REPO_TYPE)
    operations: list[Any] = [
        CommitOperationAdd(path_in_repo=u.path_in_repo, path_or_fileobj=str(u.local))
        for u in plan.uploads
    ]
    operations += [
        CommitOperationDelete(path_in_repo=path)
        for path in sorted(remote)
        if path not in keep and path != ".gitattributes"  # the hub's own LFS settings
    ]
    commit = api.create_commit(
        plan.repo, operations, commit_message=plan.commit_message, repo_type=REPO_TYPE
    )
    api.create_tag(plan.repo, tag=plan.tag, revision=commit.oid, repo_type=REPO_TYPE)
    return str(commit.oid)
