"""`newsvariants publish --repo ORG/NAME [--dry-run]`: corpus/ to a Hugging Face dataset repo.

The plan is computed first and is exactly what the upload does: create the dataset repo if
needed, one commit that adds every file of the corpus (the files MANIFEST.json lists, plus
MANIFEST.json and README.md) and, under `raw/` and `released/`, the inputs it was built from
(the captures, their records and the annotations; the registry the build started from, with
its release's MANIFEST.json), and deletes remote files the release no longer has, then the tag
vX.Y.Z on that commit, which `load_dataset(..., revision="vX.Y.Z")` pins.

With the inputs beside it, a downloaded release is checked as the repository's is:
`newsvariants validate DIR --raw DIR/raw --rebuild` (every paragraph's offsets back into the
bytes of its capture, and every file rebuilt byte for byte); without them, the card's
provenance could not be checked by anyone who has only the Hub copy. The dry run prints the plan
and touches nothing (it is what the tests run; no hub is reachable from them). Only a released,
consistent corpus is published: version above 0.0.0, checksums verified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsvariants.card import HUB_REPO, is_project_release
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
    notes: tuple[str, ...] = ()  # what the user should know before uploading (`card_notes`)

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


def plan_publish(corpus: Path, repo: str, raw: Path | None = None) -> PublishPlan:
    """The exact operations of a publish, after checking the corpus is a consistent release and
    `raw` (None: the corpus alone) holds the inputs it was built from."""
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
    files = {path: corpus / path for path in listed}
    if raw is not None:
        files.update(build_inputs(raw, manifest))
    uploads = tuple(
        Upload(path, local, local.stat().st_size, sha256_file(local))
        for path, local in sorted(files.items())
    )
    return PublishPlan(
        repo=repo,
        version=version,
        tag=f"v{version}",
        uploads=uploads,
        commit_message=f"NewsVariants {version} (inputs {manifest['inputs']['digest'][:12]})",
        notes=card_notes(is_project_release(corpus, manifest), repo, version),
    )


def card_notes(project: bool, repo: str, version: str) -> tuple[str, ...]:
    """What the card says about where to load the corpus from, when that is not `repo`: a
    project release's card names the project's Hub repo (`HUB_REPO`: its loading examples,
    download command and citation URL), another build's card the folder it was built into. The
    card is uploaded as released, not rewritten: `validate --rebuild` of the copy compares it
    with the card a build renders."""
    if project and repo == HUB_REPO:
        return ()
    named = f"the project's repo {HUB_REPO}" if project else "the local folder it was built into"
    return (
        f"the card (README.md) tells users to load this corpus from {named}, not from {repo}; "
        f"it is uploaded as released (a rebuild renders that card). Users of this copy load it "
        f'with load_dataset("{repo}", revision="v{version}").',
    )


def build_inputs(raw: Path, manifest: dict[str, Any]) -> dict[str, Path]:
    """The files the corpus was built from, by their path in the dataset repo (`raw/...`,
    `released/REGISTRY.json` and the MANIFEST.json beside it): every capture verified against
    its record, and the records, annotations and registry against the hashes MANIFEST.json
    gives them, so the inputs published are the ones that build the corpus published."""
    from newsvariants.build import inputs_digest, released_dir
    from newsvariants.ingest import CAPTURES_FILE, load_captures
    from newsvariants.registry import REGISTRY_FILE

    try:
        captures = load_captures(raw)
    except NewsVariantsError as exc:
        raise PublishError(f"{raw}: cannot publish the corpus's inputs: {exc}") from exc
    registry = released_dir(raw) / REGISTRY_FILE
    registry_text = registry.read_text(encoding="utf-8") if registry.is_file() else None
    found = inputs_digest(raw, registry_text)
    for field, what in (
        ("raw_manifest_sha256", f"{raw / CAPTURES_FILE}"),
        ("annotations_sha256", f"{raw / 'annotations'}/*.jsonl"),
        ("registry_sha256", f"{registry}"),
    ):
        if found[field] != manifest["inputs"][field]:
            raise PublishError(
                f"{what} is not what the corpus was built from (its SHA-256 differs from "
                f"MANIFEST.json's inputs.{field}): build again, or release, before publishing"
            )
    files = {f"raw/{CAPTURES_FILE}": raw / CAPTURES_FILE}
    files.update({f"raw/{c.path}": raw / c.path for c in captures})
    annotations = raw / "annotations"
    if annotations.is_dir():
        files.update({f"raw/annotations/{p.name}": p for p in annotations.glob("*.jsonl")})
    if registry_text is not None:
        # with the manifest beside it, which a build from that registry reads (the release's
        # version, for the card)
        files[f"released/{REGISTRY_FILE}"] = registry
        released_manifest = registry.parent / "MANIFEST.json"
        if released_manifest.is_file():
            files["released/MANIFEST.json"] = released_manifest
    return files


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
