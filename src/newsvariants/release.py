"""`newsvariants release X.Y.Z`: version the built corpus, its CHANGELOG entry and CITATION.cff.

Semantic versioning of the corpus (stated in the card):
- major: the record schemas (schema_version) or the split salt changed: loaders or splits break;
- minor: new captures (new variants or stories); nothing existing moves;
- patch: fixes only (extraction, alignment or labels of existing captures; docs).
The bump is checked against the diff with the previous release: a release may bump more than the
diff needs, never less.

The CHANGELOG entry has the release kind, row counts, capture/story counts and changed build
parameters (from MANIFEST.json and REGISTRY.json), then the story and variant changes reported by
`newsvariants diff` (newsvariants.diff) against the previous release's corpus folder, which the
CLI recovers from the git tag vOLD when --previous is not given, with one summary line of the
pairs added, removed, changed and moved to another split (the IDs: `newsvariants diff --json`).

A release only edits metadata: MANIFEST.json's `version` (the listed files and their checksums do
not change, and are re-verified), the rendered card corpus/README.md, CHANGELOG.md and
CITATION.cff. The release date is an argument (defaulting to today in the CLI), never read from
the clock here, so the same command gives the same files. It also copies the release's
REGISTRY.json and MANIFEST.json into released/ (build.released_dir): the next builds start from
that registry and read the version back from that manifest (build.previous_manifest), so a
rebuild reproduces the release; a build whose files differ is `X.Y.Z+dev`
(write.unreleased_version), never taken for the release.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from newsvariants.card import HUB_REPO
from newsvariants.errors import NewsVariantsError
from newsvariants.registry import REGISTRY_FILE
from newsvariants.write import CONFIGS, release_of, sha256_file, write_json

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
BUMPS = ("patch", "minor", "major")
CHANGELOG_HEAD = (
    "# Changelog\n\n"
    "One entry per corpus release, newest first, written by `newsvariants release` from the diff "
    "against the previous release. Versions follow the rules in the dataset card: major = schema "
    "or split-salt change, minor = new captures, patch = fixes.\n"
)
NO_RELEASE_YET = "No release yet: the first entry is written by `newsvariants release 0.1.0`.\n"


class ReleaseError(NewsVariantsError):
    """The release cannot be made (bad version, bump too small, corpus inconsistent, ...)."""


def parse_version(version: str) -> tuple[int, int, int]:
    match = SEMVER.match(version)
    if not match:
        raise ReleaseError(f"version {version!r} is not X.Y.Z (semantic versioning)")
    return int(match[1]), int(match[2]), int(match[3])


def bump_kind(old: str, new: str) -> str | None:
    """patch, minor or major for a step up from old to new; None when new is not greater."""
    o, n = parse_version(old), parse_version(new)
    if n <= o:
        return None
    if n[0] > o[0]:
        return "major"
    return "minor" if n[1] > o[1] else "patch"


# --- the diff against the previous release -----------------------------------------------------


@dataclass
class CorpusState:
    """What a release diff compares: the manifest and the story registry of one corpus, and the
    captures in it (`present`: its variants' and its quarantined captures; the registry keeps
    every capture it has seen, taken-down ones too, so it cannot tell what left)."""

    manifest: dict[str, Any]
    registry: dict[str, Any]
    present: frozenset[str] = frozenset()

    @classmethod
    def read(cls, corpus: Path) -> CorpusState:
        manifest = json.loads((corpus / "MANIFEST.json").read_text(encoding="utf-8"))
        registry_path = corpus / "REGISTRY.json"
        registry = (
            json.loads(registry_path.read_text(encoding="utf-8")) if registry_path.exists() else {}
        )
        return cls(manifest, registry, _present_captures(corpus, manifest))

    def rows(self) -> dict[str, int]:
        counts = dict.fromkeys(CONFIGS, 0)
        for entry in self.manifest["files"]:
            config = entry["path"].split("/")[0]
            if config in counts and entry["rows"]:
                counts[config] += entry["rows"]
        return counts

    def stories(self, status: str = "active") -> dict[str, str]:
        return {
            sid: e["split"]
            for sid, e in self.registry.get("stories", {}).items()
            if e["status"] == status
        }

    def parameters(self) -> dict[str, Any]:
        return self.manifest["inputs"]["parameters"]


def _present_captures(corpus: Path, manifest: dict[str, Any]) -> frozenset[str]:
    """The capture IDs of the corpus's variants and of its quarantined captures."""
    import pyarrow.parquet as pq

    present = {q["capture_id"] for q in manifest.get("build_report", {}).get("quarantined", [])}
    for entry in manifest["files"]:
        if entry["path"].startswith("variants/"):
            column = pq.read_table(corpus / entry["path"], columns=["capture_id"])["capture_id"]
            present.update(column.to_pylist())
    return frozenset(present)


@dataclass
class ReleaseDiff:
    previous_version: str | None
    required: str
    reasons: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def release_diff(old: CorpusState | None, new: CorpusState) -> ReleaseDiff:
    """The smallest bump the changes need, and the changelog lines describing them.

    Reads only MANIFEST.json and REGISTRY.json (counts, captures, stories, parameters), so it also
    works on a previous release recovered from a git tag.
    """
    if old is None:
        rows = new.rows()
        return ReleaseDiff(
            None,
            "major",
            ["first release"],
            [f"- `{c}`: {n} row{'' if n == 1 else 's'}" for c, n in rows.items()]
            + [f"- captures: {len(new.present)}"],
        )
    diff = ReleaseDiff(old.manifest["version"], "patch")

    def need(kind: str, reason: str) -> None:
        diff.reasons.append(reason)
        if BUMPS.index(kind) > BUMPS.index(diff.required):
            diff.required = kind

    if old.manifest["schema_version"] != new.manifest["schema_version"]:
        need("major", "schema version changed")
        diff.lines.append(
            f"- schema version {old.manifest['schema_version']} -> "
            f"{new.manifest['schema_version']} (breaking)"
        )
    if old.parameters().get("split_salt") != new.parameters().get("split_salt"):
        need("major", "split salt changed")
        diff.lines.append("- split salt changed: stories may have moved between splits (breaking)")
    old_captures, new_captures = set(old.present), set(new.present)
    if new_captures - old_captures:
        need("minor", "new captures")
    _describe_captures_and_stories(old, new, old_captures, new_captures, diff.lines)
    old_rows, new_rows = old.rows(), new.rows()
    for config in CONFIGS:
        if old_rows[config] != new_rows[config]:
            delta = new_rows[config] - old_rows[config]
            diff.lines.append(
                f"- `{config}`: {old_rows[config]} -> {new_rows[config]} rows ({delta:+d})"
            )
    changed = sorted(
        k
        for k in set(old.parameters()) | set(new.parameters())
        if old.parameters().get(k) != new.parameters().get(k) and k != "split_salt"
    )
    if changed:
        diff.lines.append(
            "- build parameters changed: "
            + ", ".join(
                f"`{k}` {old.parameters().get(k)!r} -> {new.parameters().get(k)!r}" for k in changed
            )
        )
    if not diff.lines:
        diff.lines.append("- no change to the data (metadata or documentation only)")
    return diff


def _describe_captures_and_stories(
    old: CorpusState,
    new: CorpusState,
    old_captures: set[str],
    new_captures: set[str],
    lines: list[str],
) -> None:
    added, removed = sorted(new_captures - old_captures), sorted(old_captures - new_captures)
    if added:
        lines.append(f"- captures added: {len(added)}")
    if removed:
        lines.append(f"- captures removed: {len(removed)} ({', '.join(removed[:10])})")
    old_active, new_active = old.stories(), new.stories()
    new_stories = sorted(set(new_active) - set(old.registry.get("stories", {})))
    if new_stories:
        lines.append(f"- stories added: {len(new_stories)} ({', '.join(new_stories[:10])})")
    merged = sorted(set(new.stories("merged")) - set(old.stories("merged")))
    for sid in merged:
        into = new.registry["stories"][sid]["merged_into"]
        lines.append(f"- story {sid} merged into {into} (kept as an alias)")
    retired = sorted(set(new.stories("retired")) - set(old.stories("retired")))
    if retired:
        lines.append(f"- stories retired (no captures left): {', '.join(retired)}")
    for sid in sorted(set(new_active) & set(old.stories("merged"))):
        into = old.registry["stories"][sid]["merged_into"]
        lines.append(f"- story {sid} restored: its merge into {into} came apart")
    returned = sorted(set(new_active) & set(old.stories("retired")))
    if returned:
        lines.append(f"- stories returned (their captures are back): {', '.join(returned)}")
    moved = sorted(s for s in old_active if s in new_active and old_active[s] != new_active[s])
    if moved:
        lines.append(f"- WARNING: stories changed split: {', '.join(moved)}")


# --- files written by a release -----------------------------------------------------------------


def verify_checksums(corpus: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest lists exists with its recorded SHA-256 and size."""
    bad = []
    for entry in manifest["files"]:
        path = corpus / entry["path"]
        if not path.is_file():
            bad.append(f"{entry['path']} missing")
        elif path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            bad.append(f"{entry['path']} does not match its checksum")
    if bad:
        raise ReleaseError(f"{corpus}: MANIFEST.json is out of date: {'; '.join(bad)}")


def changelog_entry(
    version: str, date: str, diff: ReleaseDiff, story_diff: str | None = None
) -> str:
    """The entry: release kind, counts and parameters, then the `diff` of stories and variants
    (and its one line of pair counts)."""
    if diff.previous_version is None:
        kind = "first release"
    else:
        reasons = "; ".join(diff.reasons) if diff.reasons else "fixes only"
        kind = f"{diff.required} (since {diff.previous_version}: {reasons})"
    entry = f"## [{version}] - {date}\n\nRelease kind: {kind}.\n\n" + "\n".join(diff.lines) + "\n"
    if story_diff:
        entry += f"\nStories and variants (`newsvariants diff`):\n\n```text\n{story_diff}```\n"
    return entry


# Notes written by hand between releases (code changes that alter the corpus, say), under a
# "## Unreleased" heading at the top: the next release takes them into its entry.
UNRELEASED = re.compile(
    r"^## \[?Unreleased\]?[ \t]*\n(?P<notes>.*?)(?=^## |\Z)", re.M | re.S | re.I
)


def _take_unreleased(text: str, entry: str) -> tuple[str, str]:
    """The changelog without its Unreleased section, and the entry with that section's notes
    after its release kind."""
    section = UNRELEASED.search(text)
    if section is None:
        return text, entry
    text = text[: section.start()] + text[section.end() :]
    notes = section["notes"].strip()
    if notes:
        head, blank, rest = entry.partition("\n\n")  # the heading, then the release kind
        kind, blank, rest = rest.partition("\n\n")
        entry = f"{head}\n\n{kind}\n\n{notes}\n\n{rest}"
    return text, entry


def update_changelog(path: Path, entry: str, version: str) -> None:
    """Insert the entry after the header (newest first), with the notes of an Unreleased section
    (which it replaces); refuse a version already listed."""
    text = path.read_text(encoding="utf-8") if path.exists() else CHANGELOG_HEAD
    text = text.replace(NO_RELEASE_YET, "")
    if re.search(rf"^## \[{re.escape(version)}\]", text, re.M):
        raise ReleaseError(f"{path}: already has an entry for {version}")
    text, entry = _take_unreleased(text, entry)
    first = re.search(r"^## \[", text, re.M)
    at = first.start() if first else len(text)
    head = text[:at].rstrip("\n") + "\n\n"
    rest = text[at:]
    path.write_text(head + entry + ("\n" + rest if rest else ""), encoding="utf-8")


def citation(version: str | None, date: str | None) -> dict[str, Any]:
    """CITATION.cff (CFF 1.2.0) for a dataset release (version and date left out before one)."""
    fields = {
        "cff-version": "1.2.0",
        "message": "If you use NewsVariants, please cite this version of the dataset.",
        "type": "dataset",
        "title": (
            "NewsVariants: News Stories as Republished Across Outlets, with Story IDs and Typed "
            "Paragraph Alignments"
        ),
        "authors": [{"name": "NewsVariants maintainers"}],
        "version": version,
        "date-released": date,
        # No `license`: CFF takes an SPDX identifier, and none says what holds for the texts
        # (the outlets' property, redistributed for research; the card's `license: other`).
        # "MIT" here told users the texts were MIT-licensed. The abstract says what holds.
        "url": f"https://huggingface.co/datasets/{HUB_REPO}"
        + (f"/tree/v{version}" if version else ""),
        "abstract": (
            "A versioned corpus of news articles as republished across outlets: every capture is a "
            "variant, variants of one article form a story with a stable ID, and paragraphs are "
            "aligned to the story's pivot with typed relations. The code that builds it is MIT; "
            "the texts remain the property of their outlets (terms: the dataset card's "
            "Licensing information)."
        ),
        "keywords": [
            "near-duplicate detection",
            "paraphrase",
            "text reuse",
            "news",
            "dataset",
        ],
    }
    return {k: v for k, v in fields.items() if v is not None}


def write_citation(path: Path, version: str | None, date: str | None) -> None:
    text = yaml.safe_dump(citation(version, date), sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text, encoding="utf-8")


def check_date(date: str) -> str:
    import datetime

    try:
        datetime.date.fromisoformat(date)
    except ValueError as exc:
        raise ReleaseError(f"release date {date!r} is not YYYY-MM-DD") from exc
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise ReleaseError(f"release date {date!r} is not YYYY-MM-DD")
    return date


# --- the previous release -----------------------------------------------------------------------


@contextmanager
def previous_from_git(repo: Path, tag: str, corpus_rel: str = "corpus") -> Iterator[Path | None]:
    """The previous release's corpus folder, read from a git tag (read-only: `git show`).

    Yields a temporary folder holding the tag's copy of every corpus file, or None when the tag
    (or the corpus under it) does not exist.
    """
    listed = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "--name-only", tag, "--", corpus_rel],
        capture_output=True,
        text=True,
        check=False,
    )
    names = [n for n in listed.stdout.splitlines() if n] if listed.returncode == 0 else []
    prefix = corpus_rel.rstrip("/") + "/"
    if f"{prefix}MANIFEST.json" not in names:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="nv-previous-") as tmp:
        for name in names:
            shown = subprocess.run(
                ["git", "-C", str(repo), "show", f"{tag}:{name}"], capture_output=True, check=True
            )
            target = Path(tmp) / name.removeprefix(prefix)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(shown.stdout)
        yield Path(tmp)


def story_diff_text(previous: Path, corpus: Path, version: str, limit: int = 20) -> str:
    """`newsvariants diff` of the previous release and this one, for the changelog entry: stories
    and variants listed, pairs as one summary line (their IDs would swamp the entry)."""
    from newsvariants.diff import diff_corpora, render_text

    report = diff_corpora(previous, corpus)
    report["old"]["path"] = "previous release"  # not the (temporary) folders: entries must
    report["new"]["path"] = "this release"  # not depend on where the release was made
    report["new"]["version"] = version
    return render_text(report, limit=limit, pair_ids=False)


@dataclass
class ReleaseResult:
    version: str
    diff: ReleaseDiff
    written: list[Path]


def release(
    corpus: Path,
    version: str,
    date: str,
    changelog: Path,
    citation_path: Path,
    previous: Path | None = None,
    released: Path | None = None,
) -> ReleaseResult:
    """Release the built corpus as `version`; `previous` is the last release's corpus folder.

    Without `previous`, a corpus never released (version 0.0.0) is a first release; otherwise the
    previous release must be given (the CLI recovers it from the git tag vOLD). `released`
    (`build.released_dir`) gets the release's REGISTRY.json and MANIFEST.json: the registry the
    next builds start from.
    """
    from newsvariants.card import render_card
    from newsvariants.validate import validate_corpus

    parse_version(version)
    check_date(date)
    state = CorpusState.read(corpus)
    current = state.manifest["version"]
    verify_checksums(corpus, state.manifest)
    old_state = CorpusState.read(previous) if previous is not None else None
    if old_state is None and parse_version(release_of(current)) != (0, 0, 0):
        raise ReleaseError(
            f"{corpus} was released as {current}: give the previous release (--previous) so the "
            "changelog can be written from the diff"
        )
    base = old_state.manifest["version"] if old_state else "0.0.0"
    kind = bump_kind(base, version)
    if kind is None:
        raise ReleaseError(f"version {version} is not greater than the previous release {base}")
    diff = release_diff(old_state, state)
    if old_state is not None and BUMPS.index(kind) < BUMPS.index(diff.required):
        raise ReleaseError(
            f"{base} -> {version} is a {kind} release, but the changes need a {diff.required} "
            f"release ({'; '.join(diff.reasons)})"
        )
    story_diff = story_diff_text(previous, corpus, version) if previous is not None else None
    entry = changelog_entry(version, date, diff, story_diff)
    if changelog.exists() and f"## [{version}]" in changelog.read_text(encoding="utf-8"):
        raise ReleaseError(f"{changelog}: already has an entry for {version}")
    state.manifest["version"] = version
    write_json(corpus / "MANIFEST.json", state.manifest)
    render_card(corpus)
    validate_corpus(corpus)
    verify_checksums(corpus, state.manifest)
    update_changelog(changelog, entry, version)
    write_citation(citation_path, version, date)
    written = [corpus / "MANIFEST.json", corpus / "README.md", changelog, citation_path]
    if released is not None:
        written += keep_release_inputs(corpus, released)
    return ReleaseResult(version, diff, written)


def keep_release_inputs(corpus: Path, released: Path) -> list[Path]:
    """Copy the release's REGISTRY.json and MANIFEST.json into `released`: the next build's
    registry (story IDs, splits) and the version it keeps while its files stay the same."""
    released.mkdir(parents=True, exist_ok=True)
    copies = []
    for name in (REGISTRY_FILE, "MANIFEST.json"):
        source = corpus / name
        if not source.is_file():
            raise ReleaseError(f"{source}: missing (a built corpus has it)")
        copies.append(released / name)
        copies[-1].write_bytes(source.read_bytes())
    return copies
