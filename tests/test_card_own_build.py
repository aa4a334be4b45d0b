"""The card of a corpus that is not the project's release (a user's own captures, a build not
released) says what that corpus is: not the seed captures' prose, not a release to pin; the
project's own release card keeps both, byte for byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from newsvariants.build import build
from newsvariants.card import HUB_REPO, LOCAL_CORPUS, render_card
from newsvariants.ingest import file_inputs, ingest
from newsvariants.release import release

from .conftest import REPO, SEED_MIRROR, SEED_ORIGINAL
from .multistory import read_rows, shared_corpus, write_captures

SEED_PROSE = ("Lavrov", "RT article", SEED_ORIGINAL, SEED_MIRROR, "The first releases hold")
DATE = "2026-01-15"


@pytest.fixture()
def own_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's own captures (two stories, an original and a mirror each) ingested into a fresh
    raw/ and built: never released, version 0.0.0."""
    return shared_corpus(tmp_path_factory, stories=(0, 1), mirrors=1)


def _card(corpus: Path) -> str:
    return (corpus / "README.md").read_text(encoding="utf-8")


def _manifest(corpus: Path) -> dict:
    return json.loads((corpus / "MANIFEST.json").read_text(encoding="utf-8"))


def _assert_not_the_release_card(card: str) -> None:
    for words in SEED_PROSE:
        assert words not in card, words
    assert "revision=" not in card and "--revision" not in card
    assert f"{HUB_REPO}/tree/v" not in card  # the BibTeX url names a tag too
    assert f'load_dataset("{LOCAL_CORPUS}", "pairs")' in card


def test_a_users_own_build_states_its_own_captures_and_no_release(own_build: Path) -> None:
    card, manifest = _card(own_build), _manifest(own_build)
    assert manifest["version"] == "0.0.0"
    _assert_not_the_release_card(card)
    assert 'revision="v0.0.0"' not in card
    text = " ".join(card.split())  # the generated paragraphs are wrapped
    report = manifest["build_report"]
    variants = [v for rows in read_rows(own_build, "variants").values() for v in rows]
    stories = [s for rows in read_rows(own_build, "stories").values() for s in rows]
    sources = len({v["source"] for v in variants})
    assert (
        f"Of its {report['captures']} captures, {len(variants)} are variants here, "
        f"from {sources} sources" in text
    )
    assert (
        f"This build has {len(stories)} stories and {len(variants)} variants from {sources} "
        f"sources, in `en` ({len(variants)} variants)" in text
    )
    assert "Empty here: `validation`, `test`" in text  # stories 0 and 1 are both train
    assert "version 0.0.0" in text


def test_a_users_release_of_their_own_captures_has_no_seed_prose(
    own_build: Path, tmp_path: Path
) -> None:
    """Released, but not the project's release: the version is a release's, the captures are not
    the seed's, so the card must not describe them (nor pin it on the project's Hub repo)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(own_build, corpus)
    release(corpus, "0.1.0", DATE, tmp_path / "CHANGELOG.md", tmp_path / "CITATION.cff")
    card = _card(corpus)
    assert "Release 0.1.0." in card
    _assert_not_the_release_card(card)


def test_the_releases_captures_plus_a_users_are_an_unreleased_build(
    raw_copy: Path, tmp_path: Path
) -> None:
    """A user's capture added to the project's raw/: the seed captures are in it, but its files
    are not the release's (`X.Y.Z+dev`), so nothing release-only is said."""
    items = [
        item
        for path in write_captures(tmp_path / "pages", stories=(2,), mirrors=0)
        for item in file_inputs(path, source="x.example", captured_at=None, url=None, fmt="text")
    ]
    ingest(items, raw_copy)
    out = tmp_path / "corpus"
    build(raw_copy, out, registry_path=REPO / "released" / "REGISTRY.json")
    released = _manifest(REPO / "released")["version"]
    assert _manifest(out)["version"] == f"{released}+dev"
    card = _card(out)
    _assert_not_the_release_card(card)
    assert "Of its 3 captures, 3 are variants here, from 3 sources" in " ".join(card.split())


def test_the_projects_release_card_keeps_its_release_sections(tmp_path: Path) -> None:
    """The committed corpus is the project's release: rendering its card again gives the
    committed card byte for byte, with the seed captures' prose and the tag to pin."""
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    version = _manifest(corpus)["version"]
    card = render_card(corpus)
    assert card == _card(REPO / "corpus")
    for words in SEED_PROSE:
        assert words in card, words
    assert card.count(f'revision="v{version}"') == 4
    assert f"--revision\nv{version} --local-dir nv" in card
    assert f"This card describes release {version}." in card
    assert LOCAL_CORPUS not in card


RUSSIAN_ARTICLE = (
    "Министр иностранных дел России заявил в четверг, что переговоры о новом договоре "
    "продолжатся в Женеве на следующей неделе.\n\n"
    "Он добавил, что стороны готовы обсуждать любые предложения партнёров, если они будут "
    "сделаны публично и без предварительных условий.\n\n"
    "По словам министра, первые результаты могут появиться уже к концу месяца, однако "
    "окончательное соглашение потребует одобрения парламентов всех участников.\n"
)


def _front_matter(card: str) -> dict:
    return yaml.safe_load(card.split("---\n", 2)[1])


def test_the_cards_languages_are_the_corpus_detected_languages(
    own_build: Path, tmp_path: Path
) -> None:
    """The YAML `language` and `multilinguality` and the Languages section come from the
    variants' detected languages: English only gives `[en]`; a Russian capture added gives
    `[en, ru]`, multilingual, and the section counts it."""
    card = _card(own_build)
    variants = [v for rows in read_rows(own_build, "variants").values() for v in rows]
    meta = _front_matter(card)
    assert {v["language"] for v in variants} == {"en"}
    assert (meta["language"], meta["multilinguality"]) == (["en"], "monolingual")
    assert f"News text in `en` ({len(variants)} variants)" in " ".join(card.split())

    raw = tmp_path / "raw"
    shutil.copytree(own_build.parent / "raw", raw)
    page = tmp_path / "ru.txt"
    page.write_text(RUSSIAN_ARTICLE, encoding="utf-8")
    ingest(file_inputs(page, source="ru.example", captured_at=None, url=None, fmt="text"), raw)
    out = tmp_path / "corpus"
    build(raw, out)
    card = _card(out)
    meta = _front_matter(card)
    assert (meta["language"], meta["multilinguality"]) == (["en", "ru"], "multilingual")
    text = " ".join(card.split())
    assert f"News text in `en` ({len(variants)} variants), `ru` (1 variant)" in text
    assert "English (`en`) news text" not in text  # the release's sentence
