"""`newsvariants release`: semver rules, MANIFEST/card/CHANGELOG/CITATION, reproducible rebuilds."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from newsvariants.build import build
from newsvariants.cli import app
from newsvariants.publish import PublishError, plan_publish
from newsvariants.release import (
    CorpusState,
    ReleaseError,
    bump_kind,
    release,
    release_diff,
)
from newsvariants.validate import validate_corpus

from .conftest import RAW
from .multistory import take_down, write_captures

runner = CliRunner()
DATE = "2026-01-15"


@pytest.fixture()
def released(unreleased_seed_corpus: Path, tmp_path: Path) -> Path:
    """A copy of the seed corpus released as 0.1.0 (CHANGELOG, CITATION and released/, the
    next builds' registry, beside it)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(unreleased_seed_corpus, corpus)
    release(
        corpus,
        "0.1.0",
        DATE,
        tmp_path / "CHANGELOG.md",
        tmp_path / "CITATION.cff",
        released=tmp_path / "released",
    )
    return corpus


def _kept_registry(corpus: Path) -> Path:
    """The registry `release` kept for the next builds (released/ beside the corpus)."""
    return corpus.parent / "released" / "REGISTRY.json"


def _manifest(corpus: Path) -> dict:
    return json.loads((corpus / "MANIFEST.json").read_text(encoding="utf-8"))


def test_bump_kinds_follow_semver() -> None:
    assert bump_kind("0.1.0", "0.1.1") == "patch"
    assert bump_kind("0.1.3", "0.2.0") == "minor"
    assert bump_kind("0.9.9", "1.0.0") == "major"
    assert bump_kind("0.1.0", "0.1.0") is None
    assert bump_kind("0.2.0", "0.1.9") is None


def test_first_release_sets_the_version_and_keeps_every_checksum(
    unreleased_seed_corpus: Path, released: Path
) -> None:
    before, after = _manifest(unreleased_seed_corpus), _manifest(released)
    assert after["version"] == "0.1.0"
    assert after["files"] == before["files"]  # a release edits metadata only
    assert {k: v for k, v in after.items() if k != "version"} == {
        k: v for k, v in before.items() if k != "version"
    }
    validate_corpus(released, RAW)


def test_the_card_shows_the_version_and_how_to_pin_it(released: Path) -> None:
    card = (released / "README.md").read_text(encoding="utf-8")
    assert "Release 0.1.0." in card
    assert 'revision="v0.1.0"' in card
    assert "Version 0.1.0" in card  # the BibTeX note


def test_changelog_and_citation_are_written(released: Path) -> None:
    changelog = (released.parent / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# Changelog")
    assert f"## [0.1.0] - {DATE}" in changelog and "first release" in changelog
    assert "- `variants`: 2 rows" in changelog
    cff = yaml.safe_load((released.parent / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "dataset"
    assert cff["version"] == "0.1.0" and str(cff["date-released"]) == DATE
    assert cff["title"] and cff["authors"] and cff["message"]


def release_first_with_changelog(unreleased: Path, tmp_path: Path, changelog_text: str) -> str:
    """Release a copy of the unreleased seed corpus as 0.1.0 beside a CHANGELOG.md holding
    `changelog_text`; the CHANGELOG's text afterwards."""
    corpus = tmp_path / "corpus"
    shutil.copytree(unreleased, corpus)
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(changelog_text, encoding="utf-8")
    release(corpus, "0.1.0", DATE, changelog, tmp_path / "CITATION.cff")
    return changelog.read_text(encoding="utf-8")


def test_the_repositorys_changelog_placeholder_gives_way_to_the_first_entry(
    unreleased_seed_corpus: Path, tmp_path: Path
) -> None:
    from newsvariants.release import CHANGELOG_HEAD, NO_RELEASE_YET

    text = release_first_with_changelog(
        unreleased_seed_corpus, tmp_path, CHANGELOG_HEAD + "\n" + NO_RELEASE_YET
    )
    assert NO_RELEASE_YET not in text and text.startswith(CHANGELOG_HEAD)
    assert text.count("## [0.1.0]") == 1


def test_the_release_takes_the_unreleased_notes_into_its_entry(
    unreleased_seed_corpus: Path, tmp_path: Path
) -> None:
    from newsvariants.release import CHANGELOG_HEAD

    notes = "- Extractor 0.9: tables kept.\n- A note on two lines\n  of text."
    older = "## [0.0.9] - 2026-01-01\n\nRelease kind: first release.\n"
    text = release_first_with_changelog(
        unreleased_seed_corpus, tmp_path, f"{CHANGELOG_HEAD}\n## Unreleased\n\n{notes}\n\n{older}"
    )
    assert "Unreleased" not in text and text.count(notes) == 1
    entry = text.index(f"## [0.1.0] - {DATE}")
    # the notes stand in the new entry, after its release kind, before its counts and the older one
    assert entry < text.index("Release kind: first release.") < text.index(notes)
    assert text.index(notes) < text.index("- `variants`") < text.index("## [0.0.9]")


def test_a_rebuild_after_the_release_reproduces_it_byte_for_byte(
    released: Path, tmp_path: Path
) -> None:
    snapshot = tmp_path / "snapshot"
    shutil.copytree(released, snapshot)
    # the release's registry and manifest (released/): the version is read back from it
    build(RAW, released, registry_path=_kept_registry(released))
    for path in sorted(snapshot.rglob("*")):
        if path.is_file():
            rel = path.relative_to(snapshot)
            assert (released / rel).read_bytes() == path.read_bytes(), rel


def test_new_captures_need_a_minor_release(released: Path, tmp_path: Path) -> None:
    from newsvariants.ingest import file_inputs, ingest

    previous = tmp_path / "previous"
    shutil.copytree(released, previous)
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    items = [
        item
        for path in write_captures(tmp_path / "pages", stories=(2,), mirrors=1)
        for item in file_inputs(path, source="x.example", captured_at=None, url=None, fmt="text")
    ]
    added = sorted(o.capture.capture_id for o in ingest(items, raw))
    build(raw, released, registry_path=_kept_registry(released))
    # Its files are no longer 0.1.0's: the build must not call itself 0.1.0 (a card reading
    # "Release 0.1.0" and a publish tagged v0.1.0, over other data).
    assert _manifest(released)["version"] == "0.1.0+dev"
    card = (released / "README.md").read_text(encoding="utf-8")
    assert "Unreleased build (0.1.0+dev): its files differ from release 0.1.0" in card
    assert "Release 0.1.0." not in card
    with pytest.raises(PublishError, match=r"not released \(version 0.1.0\+dev\)"):
        plan_publish(released, "org/name")
    build(raw, released, registry_path=_kept_registry(released))  # still unreleased
    assert _manifest(released)["version"] == "0.1.0+dev"
    changelog, cff = tmp_path / "CHANGELOG.md", tmp_path / "CITATION.cff"
    with pytest.raises(ReleaseError, match="patch release, but the changes need a minor"):
        release(released, "0.1.1", DATE, changelog, cff, previous)
    kept = tmp_path / "released"
    result = release(released, "0.2.0", "2026-02-01", changelog, cff, previous, kept)
    assert result.diff.required == "minor"
    assert (kept / "REGISTRY.json").read_bytes() == (released / "REGISTRY.json").read_bytes()
    build(raw, released, registry_path=_kept_registry(released))  # a release keeps its version
    assert _manifest(released)["version"] == "0.2.0"
    text = changelog.read_text(encoding="utf-8")
    assert text.index("## [0.2.0] - 2026-02-01") < text.index("## [0.1.0]")  # newest first
    assert "- captures added: 2" in text and "- stories added: 1" in text
    assert "- `variants`: 2 -> 4 rows (+2)" in text
    assert "Stories and variants (`newsvariants diff`)" in text
    assert "new: this release (version 0.2.0): 2 stories, 4 variants" in text
    assert "stories: 1 added" in text and str(tmp_path) not in text
    # a takedown: the registry keeps the capture (so it can come back), the changelog says it left
    shutil.copytree(released, tmp_path / "v0.2.0")
    take_down(raw, added[0])
    build(raw, released, registry_path=_kept_registry(released))
    release(released, "0.2.1", "2026-02-02", changelog, cff, tmp_path / "v0.2.0", kept)
    text = changelog.read_text(encoding="utf-8")
    assert f"- captures removed: 1 ({added[0]})" in text.split("## [0.2.0]")[0]


def test_schema_or_split_salt_changes_need_a_major_release(released: Path) -> None:
    old = CorpusState.read(released)
    assert release_diff(old, old).required == "patch"
    schema = copy.deepcopy(old)
    schema.manifest["schema_version"] = "2.0.0"
    assert release_diff(old, schema).required == "major"
    salt = copy.deepcopy(old)
    salt.manifest["inputs"]["parameters"]["split_salt"] = "another-salt"
    diff = release_diff(old, salt)
    assert diff.required == "major" and "split salt changed" in diff.reasons


def test_the_notes_name_restored_and_returned_stories(released: Path) -> None:
    old = CorpusState.read(released)
    (survivor,) = old.stories()
    old.registry["stories"]["s-folded"] = {
        "split": "test",
        "generation": 1,
        "aliases": [],
        "status": "merged",
        "merged_into": survivor,
    }
    old.registry["stories"]["s-gone"] = {
        "split": "train",
        "generation": 1,
        "aliases": [],
        "status": "retired",
        "merged_into": None,
    }
    new = copy.deepcopy(old)
    for sid in ("s-folded", "s-gone"):
        new.registry["stories"][sid].update(status="active", merged_into=None)
    lines = release_diff(old, new).lines
    assert f"- story s-folded restored: its merge into {survivor} came apart" in lines
    assert "- stories returned (their captures are back): s-gone" in lines
    assert not any("stories added" in line for line in lines)


def test_bad_versions_dates_and_stale_checksums_are_refused(released: Path, tmp_path: Path) -> None:
    changelog, cff = tmp_path / "CHANGELOG.md", tmp_path / "CITATION.cff"
    with pytest.raises(ReleaseError, match="not X.Y.Z"):
        release(released, "1.0", DATE, changelog, cff, released)
    with pytest.raises(ReleaseError, match="not YYYY-MM-DD"):
        release(released, "0.1.1", "15/01/2026", changelog, cff, released)
    with pytest.raises(ReleaseError, match="not greater than the previous release 0.1.0"):
        release(released, "0.1.0", DATE, changelog, cff, released)
    with pytest.raises(ReleaseError, match="give the previous release"):
        release(released, "0.1.1", DATE, changelog, cff)
    parquet = next(released.rglob("*.parquet"))
    parquet.write_bytes(parquet.read_bytes() + b"tampered")
    with pytest.raises(ReleaseError, match="does not match its checksum"):
        release(released, "0.1.1", DATE, changelog, cff, released)


def test_the_cli_releases_a_copy_with_a_given_date(
    unreleased_seed_corpus: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(unreleased_seed_corpus, corpus)
    args = ["release", "0.1.0", "--corpus", str(corpus), "--date", DATE]
    args += ["--changelog", str(tmp_path / "CHANGELOG.md"), "--citation", str(tmp_path / "c.cff")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "released" in result.stdout and _manifest(corpus)["version"] == "0.1.0"
    again = runner.invoke(app, args)
    assert again.exit_code == 1


def test_the_cli_finds_the_previous_release_through_its_git_tag(
    released: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A throwaway git repository in tmp_path: corpus/ committed and tagged v0.1.0."""
    import subprocess

    repo = tmp_path / "repo"
    shutil.copytree(released, repo / "corpus")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", "corpus")
    git("commit", "-q", "-m", "release 0.1.0")
    git("tag", "v0.1.0")
    monkeypatch.chdir(repo)
    manifest = _manifest(repo / "corpus")  # a build changed since 0.1.0: its base is v0.1.0
    (repo / "corpus" / "MANIFEST.json").write_text(
        json.dumps({**manifest, "version": "0.1.0+dev"}, indent=1), encoding="utf-8"
    )
    result = runner.invoke(app, ["release", "0.1.1", "--date", "2026-03-01"])
    assert result.exit_code == 0, result.output
    changelog = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [0.1.1] - 2026-03-01" in changelog and "patch (since 0.1.0" in changelog
    missing = runner.invoke(app, ["release", "0.1.2"])  # no tag v0.1.1 yet
    assert missing.exit_code == 1 and "no git tag v0.1.1" in missing.output


def test_the_committed_release_agrees_across_manifest_card_changelog_and_citation(
    repo: Path,
) -> None:
    """Whatever version the repository's corpus is at, its four records of it must agree."""
    version = _manifest(repo / "corpus")["version"]
    card = (repo / "corpus" / "README.md").read_text(encoding="utf-8")
    assert f"Release {version}." in card and f'revision="v{version}"' in card
    cff = yaml.safe_load((repo / "CITATION.cff").read_text(encoding="utf-8"))
    changelog = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    if version == "0.0.0":  # never released: no version claimed anywhere
        assert "version" not in cff and "## [" not in changelog
        return
    assert cff["version"] == version
    newest = changelog.split("\n## [", 1)[1].split("]", 1)[0]
    assert newest == version, "CHANGELOG's newest entry is not the corpus's version"
    assert f"## [{version}] - {cff['date-released']}" in changelog
