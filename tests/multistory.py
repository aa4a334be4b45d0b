"""A small multi-story corpus made from hand-made text dumps (for split, pair and bench tests).

Each story is an original page plus mirrors that reword it lightly (a word swapped, curly quotes,
a sentence added), so the build clusters them into one story and aligns them with several
relations. Stories use disjoint vocabularies so they never chain. Story IDs come from the capture
bytes, so which split each story lands in is fixed by the text below: STORIES was chosen so that
all three splits get two stories or more (tests assert it rather than assume it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

# story numbers whose salted-hash split is train (0-4), test (8, 15) or validation (31, 39)
STORIES = (0, 1, 2, 3, 4, 8, 15, 31, 39)
MIRRORS = 2
PARAGRAPHS = 5


def _words(text: str) -> list[str]:
    return text.split()


SUBJECTS = _words("""
    harbour railway vineyard observatory glacier orchestra pharmacy lighthouse brewery
    monastery stadium aquarium textile orchard quarry ferry bakery library airfield
    reservoir cathedral foundry sawmill museum dairy tramway canal greenhouse forge marina
    shipyard hospital theatre schoolyard tannery granary mint kiln abattoir cannery
""")
PLACES = _words("""
    Aberdeen Bruges Cordoba Dresden Esbjerg Faro Graz Haarlem Izmir Jena Kaunas Lille Malmo
    Nantes Oulu Porto Quimper Riga Split Tartu Uppsala Varna Wroclaw Xanthi York Zadar Arles
    Bergen Cadiz Delft Evora Ferrol Gdansk Hull Innsbruck Jerez Kiel Leeds Mainz Namur
    Olomouc Pisa Ronda Sligo
""")
VERBS = _words("""
    approved delayed inspected expanded renovated closed reopened funded audited relocated
    modernised surveyed insured leased
""")
NOUNS = _words("""
    council union ministry committee operator board trust agency inspectorate federation
    cooperative consortium tribunal registry
""")


def _pick(words: list[str], *key: object) -> str:
    digest = hashlib.sha256("/".join(map(str, key)).encode()).digest()
    return words[int.from_bytes(digest[:4], "big") % len(words)]


def paragraph(story: int, index: int) -> str:
    subject = SUBJECTS[story % len(SUBJECTS)]
    place = PLACES[story % len(PLACES)]
    sentences = []
    for s in range(3):
        verb, noun = _pick(VERBS, story, index, s, "v"), _pick(NOUNS, story, index, s, "n")
        number = int(hashlib.sha256(f"{story}/{index}/{s}".encode()).hexdigest()[:6], 16) % 9000
        sentences.append(
            f"The {noun} of {place} {verb} the {subject} plan number {number + 1000} "
            f"after a review of paragraph {index} item {s} of the {subject} file."
        )
    return " ".join(sentences)


def original(story: int) -> str:
    title = f"{PLACES[story % len(PLACES)]} {SUBJECTS[story % len(SUBJECTS)]} plan under review"
    body = [paragraph(story, i) for i in range(PARAGRAPHS)]
    return "\n\n".join([title, *body]) + "\n"


def mirror(story: int, copy: int) -> str:
    """Light rewording: a word swapped in one paragraph, curly quotes in another, one added."""
    paras = [paragraph(story, i) for i in range(PARAGRAPHS)]
    paras[1] = paras[1].replace("after a review", "following a review", 1)
    paras[2] = paras[2].replace("The ", "\u201cThe ", 1).replace(" file.", " file.\u201d", 1)
    if copy % 2:
        paras.append(f"Officials in {PLACES[story % len(PLACES)]} gave no further comment today.")
    title = f"{PLACES[story % len(PLACES)]} {SUBJECTS[story % len(SUBJECTS)]} plan reviewed"
    return "\n\n".join([title, *paras]) + "\n"


def write_captures(
    folder: Path, stories: tuple[int, ...] = STORIES, mirrors: int = MIRRORS
) -> list[Path]:
    """Write the text dumps; returns their paths (one original + `mirrors` copies per story)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for story in stories:
        pages = [original(story)] + [mirror(story, c) for c in range(mirrors)]
        for n, text in enumerate(pages):
            path = folder / f"story{story:02d}-{n}.txt"
            path.write_text(text, encoding="utf-8")
            paths.append(path)
    return paths


def build_corpus(root: Path, stories: tuple[int, ...] = STORIES, mirrors: int = MIRRORS) -> Path:
    """Ingest the dumps into root/raw and build root/corpus; returns the corpus folder."""
    from newsvariants.build import build
    from newsvariants.ingest import file_inputs, ingest

    items = []
    for path in write_captures(root / "pages", stories, mirrors):
        story, copy = path.stem.removeprefix("story").split("-")
        items += file_inputs(
            path,
            source="origin.example" if copy == "0" else f"mirror{copy}.example",
            captured_at=f"2024-01-{int(story) % 28 + 1:02d}",
            url=None,
            fmt="text",
        )
    ingest(items, root / "raw")
    build(root / "raw", root / "corpus")
    return root / "corpus"


_BUILT: dict[tuple[tuple[int, ...], int], Path] = {}


def shared_corpus(
    factory: pytest.TempPathFactory, stories: tuple[int, ...] = STORIES, mirrors: int = MIRRORS
) -> Path:
    """The multi-story corpus, built once per test session (read-only: copy it to change it)."""
    key = (stories, mirrors)
    if key not in _BUILT:
        _BUILT[key] = build_corpus(factory.mktemp("multistory"), stories, mirrors)
    return _BUILT[key]


def read_rows(corpus: Path, config: str) -> dict[str, list[dict]]:
    """{split: rows} of one config, ClassLabel ints decoded to names (absent splits: [])."""
    import pyarrow.parquet as pq

    from newsvariants.schema import decode_class_labels
    from newsvariants.split import SPLITS
    from newsvariants.write import CONFIGS, shard_name

    found: dict[str, list[dict]] = {}
    for split in SPLITS:
        path = corpus / config / shard_name(split)
        rows = pq.read_table(path).to_pylist() if path.exists() else []
        found[split] = [decode_class_labels(CONFIGS[config], r) for r in rows]
    return found


def with_a_train_text_in(corpus: Path, tmp_path: Path, split: str = "test", row: int = 0) -> Path:
    """A copy of the corpus whose `split` pair at `row` has as text_a a train pair's text with
    its spacing changed (the same text in comparison form, not byte for byte)."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    from newsvariants.write import shard_name

    copy = tmp_path / "corpus"
    shutil.copytree(corpus, copy)
    train_text = pq.read_table(copy / "pairs" / shard_name("train")).column("text_b")[0].as_py()
    path = copy / "pairs" / shard_name(split)
    table = pq.read_table(path)
    texts = table.column("text_a").to_pylist()
    assert " " in train_text and texts[row] != train_text
    texts[row] = train_text.replace(" ", "  ", 1)
    column = table.schema.get_field_index("text_a")
    pq.write_table(table.set_column(column, "text_a", pa.array(texts, pa.string())), path)
    return copy


def take_down(raw: Path, capture_id: str) -> None:
    """Remove a capture from raw/ (a takedown): its file and its record."""
    import json

    records = raw / "captures.jsonl"
    kept = []
    for line in records.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if record["capture_id"] == capture_id:
            (raw / record["path"]).unlink()
        else:
            kept.append(line)
    records.write_text("\n".join(kept) + "\n", encoding="utf-8")
