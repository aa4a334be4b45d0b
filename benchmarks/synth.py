"""Synthetic capture generator: realistic variant families with gold stories and paragraph links.

    python benchmarks/synth.py --out DIR --stories N --seed S [--forms text,html]
                               [--base-from ../shared/extraction-dev]

    from synth import generate          # with benchmarks/ on sys.path
    summary = generate(Path(DIR), n_stories=N, seed=S, forms=("text", "html"))

Everything is drawn from one `random.Random(seed)`: the same arguments give byte-identical output.

What it writes in DIR:
- `captures/<name>.txt|.html`: one page per capture, the article body wrapped in its source's site
  chrome. Every synthetic source has one fixed template (header date line in its own format,
  navigation, ad lines - sometimes repeated inside the body like the seed mirror -, breadcrumb,
  title, byline, photo credit, share line, "related" teaser, comment form, copyright footer), shared
  by all its pages, so site-template evidence matters; a source is captured either as a plain-text
  dump (blank-line or one-block-a-line layout) or as HTML (`forms` cycles over the sources).
- `manifest.jsonl`: the `newsvariants ingest --manifest` format (path, source, captured_at, url,
  format), one line per capture.
- `gold.jsonl`: one line per capture: {"path", "story" (gold story key), "role", "paragraphs":
  [{"text", "base", "op"}]}: the body paragraphs exactly as written in the page, each with the
  indexes of the original's paragraphs it derives from and how (op: identical | formatting |
  minor_edit | major_edit | split | merge | added; a split part lists its one base paragraph, a
  merged paragraph lists all of its base paragraphs; base paragraphs nobody lists were removed).

Families (one gold story each): an `original` (always the earliest captured_at of its family, so it
is the pivot) plus variants:
- `syndicated`: the body verbatim under another site's chrome;
- `excerpt`: the first third of the paragraphs (at least one), verbatim;
- `mirror`: reworded like the seed mirror - word substitutions (would/will, methods/recipes, ...),
  dropped and added clauses, curly instead of straight quotes (a `formatting` change only), an
  occasional heavy rewrite (`major_edit`), a dropped paragraph, an added one;
- `edited`: structural edits - paragraph drops, insertions, merges of two neighbours, splits of a
  paragraph at a sentence boundary, a paragraph moved elsewhere, a few minor edits.
Gold ops say what was done to the text, and the text always bears it out (fixed in this version):
- a `major_edit` keeps at least one of its base paragraph's sentences (edited) next to new ones;
  before, a paragraph of one or two sentences lost every original sentence (one dropped, the other
  replaced) and was still called a rewrite of its base;
- a dropped clause is a trailing clause: four or more words of its sentence stay before the comma
  and quotations are not cut; before, "However, the minister urged ... ." could shrink to
  "However." (so a "minor" edit removed a whole sentence and a rewrite kept nothing);
- a `minor_edit` always changes the text; before, a paragraph ending in a quoted sentence (`.'`
  or `."`) could come out byte-identical and still be called a minor edit.
These fixes change which random draws are made: outputs differ from earlier versions for a seed.
About a fifth of the stories are near-miss negatives: a distinct article on the same event as the
previous story (same people, places, organisation and topic vocabulary, often the same quote), which
is its own story. Sizes are skewed like real syndication: many single captures, a few big families.

Base text is generated from templated sentences over word lists (20,000 stories, about 100k captures
in both forms, took 87 s on a shared 2-core machine, mostly writing files; `gold_bodies()` gives the
same families in memory, without pages, for clustering costs). `--base-from` uses the human gold
bodies of an extraction-dev folder for the first stories instead (benchmarks only, never tests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import html
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


# ----------------------------------------------------------------------------------------------
def _words(text: str, sep: str | None = None) -> list[str]:
    return text.split(sep)


# Word lists (small, hand-written; combinations give each story its own cast and vocabulary)

FIRST = _words(
    "Sergey Amir Maria Anna John Li Wei Fatima Omar Elena Pedro Kenji Aisha Lars Ingrid Tomas "
    "Priya Rahul Chen Olga Ivan Hannah David Sofia Mateo Yusuf Leila Noah Emma Lucas Zara Arjun "
    "Nadia Pavel Irina Kofi Ama Diego Lucia Hiroshi Yuki Ahmed Mona Jonas Greta Marek Ewa Dmitri "
    "Tatiana Samuel Grace Victor Rosa Andrei Nina Felix Clara Hassan Salma Erik Astrid"
)
LAST = _words(
    "Lavrov Muttaqi Petrov Novak Garcia Tanaka Okafor Haddad Schmidt Kowalski Rossi Dubois Silva "
    "Nakamura Mensah Ivanova Larsen Fischer Moreau Costa Yilmaz Kaya Hussain Sharma Patel Kim Park "
    "Nguyen Tran Alvarez Romero Weber Novikov Sokolov Kuznetsov Popescu Horvat Nieminen Jensen "
    "Andersen Bauer Keller Ortiz Mendes Barros Quispe Mwangi Otieno Abubakar Rahman Karimov Aliyev "
    "Nazarov Bekov Sadykov Omarov Tursunov Yusupov Zhang Liu Wang Chow Tan Lim Singh Reddy Das"
)
PLACES = _words(
    "Almaty Tashkent Bishkek Dushanbe Kabul Tunxi Warsaw Prague Vienna Oslo Lagos Accra Nairobi "
    "Lima Quito Bogota Hanoi Manila Jakarta Dhaka Karachi Tbilisi Yerevan Baku Riga Vilnius "
    "Tallinn Helsinki Lisbon Porto Seville Naples Geneva Lyon Hamburg Leipzig Gdansk Krakow "
    "Odesa Minsk "
    "Ankara Izmir Cairo Tunis Rabat Dakar Kampala Lusaka Harare Osaka Busan Taipei Chengdu Wuhan"
)
ORG_HEAD = _words(
    "National Regional Federal Central United Eastern Western Northern Southern Joint Independent "
    "Continental Global Municipal Coastal"
)
ORG_BODY = _words(
    "Grain Energy Water Transport Health Trade Security Mining Fisheries Housing Aviation Rail "
    "Labour Climate Textile Dairy Steel Shipping Pharmaceutical Tourism"
)
ORG_TAIL = _words("Council Agency Association Authority Commission Union Board Institute Alliance")
ROLES = _words(
    "foreign minister|finance minister|spokesperson|chief executive|mayor|governor|senior analyst|"
    "economist|deputy director|board chairman|union leader|trade envoy",
    "|",
)
DAYS = _words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
MONTHS = _words(
    "January February March April May June July August September October November December"
)

TOPICS: dict[str, dict[str, list[str]]] = {
    "energy": {
        "noun": _words(
            "pipeline grid tariff reactor refinery subsidy shortage outage turbine reserve "
            "contract export quota supplier blackout"
        ),
        "adj": _words("fuel nuclear offshore seasonal strategic winter regional long-term"),
        "verb": _words("expand suspend renegotiate cap review fund"),
    },
    "security": {
        "noun": _words(
            "base deployment patrol treaty alliance drill border checkpoint convoy airfield "
            "garrison ceasefire mission corridor"
        ),
        "adj": _words("military joint foreign naval cross-border defensive"),
        "verb": _words("deploy withdraw station monitor reinforce dismantle"),
    },
    "health": {
        "noun": _words(
            "vaccine clinic outbreak hospital ward shortage trial screening pharmacy budget "
            "campaign treatment nurse ambulance"
        ),
        "adj": _words("rural public emergency pediatric mobile free"),
        "verb": _words("open close fund expand test vaccinate"),
    },
    "economy": {
        "noun": _words(
            "inflation budget deficit loan bond currency wage pension tax investment "
            "merger factory harvest market"
        ),
        "adj": _words("annual fiscal foreign domestic record quarterly"),
        "verb": _words("raise cut freeze approve delay restructure"),
    },
    "transport": {
        "noun": _words(
            "railway bridge tunnel airport port highway ferry tram fleet terminal timetable "
            "ticket runway freight"
        ),
        "adj": _words("high-speed urban cargo international night electric"),
        "verb": _words("build reopen upgrade privatise extend electrify"),
    },
    "climate": {
        "noun": _words(
            "flood drought wildfire heatwave glacier emissions dam reservoir harvest storm "
            "coastline forest levee aquifer"
        ),
        "adj": _words("extreme seasonal coastal record early severe"),
        "verb": _words("evacuate protect restore monitor rebuild insure"),
    },
}

# Mirror rewording: each key is written by the generator and may be swapped for a value.
SYNONYMS = {
    "would": "will",
    "methods": "recipes",
    "said": "stated",
    "around": "about",
    "nearly": "almost",
    "However": "But",
    "also": "further",
    "officials": "authorities",
    "announced": "unveiled",
    "urged": "called on",
    "plan": "scheme",
    "warned": "cautioned",
    "large": "major",
    "help": "assist",
    "begin": "start",
    "said on": "stated on",
    "their": "its",
    "country": "nation",
}
ADDED_CLAUSES = (
    "according to local media",
    "a move critics called overdue",
    "in a statement published later that day",
    "as part of a wider regional plan",
    "after weeks of talks",
    "officials confirmed",
)

TEMPLATES = (
    "{P} said on {DAY} that {ORG} would {VERB} the {ADJ} {NOUN} in {PLACE}, {TAIL}.",
    "The {ROLE} made the comments at a {ADJ} meeting on the {NOUN} in {PLACE2}.",
    '"We believe it is {JUDGE} to {VERB} any {NOUN} near {PLACE}," {PL} said, adding that '
    '"such methods go against the interests of our {NOUN2} sector."',
    "Around {NUM} {NOUN}s were affected last {PERIOD}, according to {ORG}.",
    "{ORG}, which has {NUM2} members, {also} {warned} that the {NOUN2} would {VERB} by {MONTH}.",
    "However, the {ROLE2} {P2} {urged} {ORG} to {VERB} the {NOUN} plan before {MONTH}.",
    "The {NOUN} in {PLACE} was first {VERBED} in {YEAR}, when {NUM} {NOUN2}s were {VERBED2}.",
    "{PL} {also} called for {JUDGE2} caution on the {ADJ} {NOUN}, {TAIL}.",
    "Officials in {PLACE2} {announced} a {large} {ADJ} {NOUN} plan worth {NUM} million dollars.",
    "Critics say the {NOUN2} has failed to {help} {PLACE} residents, {TAIL}.",
    "{P2} told reporters the {ADJ} {NOUN} would {begin} in {MONTH} and last {NUM2} weeks.",
    "The last {NOUN2}s left {PLACE} in {MONTH} {YEAR}, nearly {NUM2} years after the {NOUN} "
    "was {VERBED}.",
    "Residents of {PLACE} have waited {NUM2} months for the {NOUN}, {TAIL}.",
    "{ORG} said their {ADJ} methods would be {VERBED} across the country by {YEAR}.",
    "A {ADJ} {NOUN} near {PLACE2} drew {NUM2} protesters on {DAY}.",
    "Lawmakers in {PLACE} are expected to vote on the {NOUN2} bill in {MONTH}.",
    "{PL} declined to say whether {ORG} had been consulted.",
    "Data from {ORG} show {NOUN2} costs rose {NUM2} percent in {YEAR}.",
    "The {ROLE2} {P2} described the {NOUN} as {JUDGE} and {JUDGE2}ly overdue.",
    "Talks between {ORG} and officials in {PLACE2} broke down in {MONTH}, {TAIL}.",
    "Since {YEAR}, {PLACE} has spent {NUM} dollars on its {ADJ} {NOUN}.",
    "Asked about the {NOUN2}, {PL} replied: 'We are not there yet.'",
    "Several {NOUN}s in {PLACE2} were {VERBED} after the {ADJ} {NOUN2} of {YEAR}.",
    "Neither {ORG} nor the office of {P2} responded to requests for comment.",
    "Opposition groups accused {PL} of ignoring the {ADJ} {NOUN} in {PLACE2}.",
    "The decision affects {NUM} people across {PLACE} and {PLACE2}, {TAIL}.",
)
TAILS = (
    "the ministry said",
    "a spokesperson for {ORG} said",
    "in the region",
    "and would not be tolerated by {PLACE2}",
    "as {NUM2} {NOUN2}s remain idle",
    "citing the {ADJ} {NOUN2}",
    "{PL} added",
)
JUDGE = _words("unacceptable|essential|premature|reckless|urgent|unrealistic", "|")
JUDGE2 = _words("extreme|great|particular|maximum", "|")
PERIOD = _words("year|month|week|winter|summer|quarter", "|")
QUOTE_LINES = (
    '"This is a {JUDGE} step for {PLACE} and for the whole {NOUN2} sector," {PL} said.',
    '"We will not {VERB} the {NOUN} until {ORG} answers our questions," {PL} told reporters.',
)
_SLOT = re.compile(r"\{(\w+)\}")


def _past(verb: str) -> str:
    if verb in ("cap", "cut"):
        return {"cap": "capped", "cut": "cut"}[verb]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y"):
        return verb[:-1] + "ied"
    return verb + "ed"


@dataclass
class Cast:
    """The people, places and vocabulary of one event (shared by a story and its near misses)."""

    topic: str
    persons: list[tuple[str, str]]  # (full name, role)
    places: list[str]
    orgs: list[str]
    quote: str = ""


def _make_cast(rng: random.Random) -> Cast:
    persons = [(f"{rng.choice(FIRST)} {rng.choice(LAST)}", rng.choice(ROLES)) for _ in range(3)]
    orgs = [
        f"the {rng.choice(ORG_HEAD)} {rng.choice(ORG_BODY)} {rng.choice(ORG_TAIL)}"
        for _ in range(2)
    ]
    cast = Cast(rng.choice(sorted(TOPICS)), persons, rng.sample(PLACES, 3), orgs)
    cast.quote = _fill(rng.choice(QUOTE_LINES), cast, rng)
    return cast


_SLOTS = {
    "P": lambda cast, rng: cast.persons[0][0],
    "PL": lambda cast, rng: cast.persons[0][0].split()[-1],
    "P2": lambda cast, rng: rng.choice(cast.persons[1:])[0],
    "ROLE": lambda cast, rng: cast.persons[0][1],
    "ROLE2": lambda cast, rng: rng.choice(cast.persons[1:])[1],
    "ORG": lambda cast, rng: rng.choice(cast.orgs),
    "PLACE": lambda cast, rng: cast.places[0],
    "PLACE2": lambda cast, rng: rng.choice(cast.places[1:]),
    "NOUN": lambda cast, rng: rng.choice(TOPICS[cast.topic]["noun"]),
    "NOUN2": lambda cast, rng: rng.choice(TOPICS[cast.topic]["noun"]),
    "ADJ": lambda cast, rng: rng.choice(TOPICS[cast.topic]["adj"]),
    "VERB": lambda cast, rng: rng.choice(TOPICS[cast.topic]["verb"]),
    "VERBED": lambda cast, rng: _past(rng.choice(TOPICS[cast.topic]["verb"])),
    "VERBED2": lambda cast, rng: _past(rng.choice(TOPICS[cast.topic]["verb"])),
    "DAY": lambda cast, rng: rng.choice(DAYS),
    "MONTH": lambda cast, rng: rng.choice(MONTHS),
    "YEAR": lambda cast, rng: str(rng.randrange(1995, 2022)),
    "NUM": lambda cast, rng: f"{rng.randrange(2, 99)},{rng.randrange(100, 999)}",
    "NUM2": lambda cast, rng: str(rng.randrange(3, 60)),
    "PERIOD": lambda cast, rng: rng.choice(PERIOD),
    "JUDGE": lambda cast, rng: rng.choice(JUDGE),
    "JUDGE2": lambda cast, rng: rng.choice(JUDGE2),
    "TAIL": lambda cast, rng: _fill(rng.choice(TAILS), cast, rng, capital=False),
}


def _slot(name: str, cast: Cast, rng: random.Random) -> str:
    filler = _SLOTS.get(name)
    return filler(cast, rng) if filler else name  # lower-case slots ({also}...) are the word


def _fill(template: str, cast: Cast, rng: random.Random, capital: bool = True) -> str:
    text = _SLOT.sub(lambda m: _slot(m.group(1), cast, rng), template)
    return text[0].upper() + text[1:] if capital else text


def _sentence(cast: Cast, rng: random.Random) -> str:
    return _fill(rng.choice(TEMPLATES), cast, rng)


def _article(cast: Cast, rng: random.Random, quote: bool) -> list[list[str]]:
    """Paragraphs as lists of sentences (kept apart so splits can cut at a sentence boundary)."""
    paragraphs = [
        [_sentence(cast, rng) for _ in range(rng.choice((1, 1, 2, 2, 3, 4)))]
        for _ in range(rng.randrange(4, 13))
    ]
    if quote:
        paragraphs.insert(rng.randrange(1, len(paragraphs)), [cast.quote])
    return paragraphs


def _title(cast: Cast, rng: random.Random) -> str:
    vocab = TOPICS[cast.topic]
    noun, verb = rng.choice(vocab["noun"]), rng.choice(vocab["verb"])
    place, org = cast.places[0], cast.orgs[0].removeprefix("the ")
    return rng.choice(
        (
            f"{org} to {verb} {noun} in {place}",
            f"{place} {noun} plan 'unacceptable', {cast.persons[0][0].split()[-1]} says",
            f"{cast.persons[0][0]} warns over {rng.choice(vocab['adj'])} {noun}",
            f"What the {noun} deal means for {place}",
        )
    )


# ----------------------------------------------------------------------------------------------
# Edits


def curl_quotes(text: str) -> str:
    """Straight quotes to typographic ones: a formatting-only change (normalisation folds it)."""
    text = re.sub(r'"([^"]*)"', "\u201c\\1\u201d", text)
    return text.replace("'", "\u2019")


_SYNONYM_PATTERNS = {word: re.compile(rf"\b{re.escape(word)}\b") for word in SYNONYMS}


def _substitute(text: str, rng: random.Random, count: int) -> str:
    present = [w for w, pattern in _SYNONYM_PATTERNS.items() if pattern.search(text)]
    for word in rng.sample(present, min(count, len(present))):
        text = _SYNONYM_PATTERNS[word].sub(SYNONYMS[word], text, count=1)
    return text


_CLAUSE = re.compile(r", [^,.\"'\u201c\u201d\u2018\u2019]{8,}(?=\.)")
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019]? ")


def _drop_clause(text: str, rng: random.Random) -> str:
    """Remove one ', clause' ending a sentence (the seed mirror drops 'and would not be ...').

    Only a trailing clause goes: at least four words of the sentence stay before its comma, and no
    quotation is cut (else "However, the minister urged ..." would shrink to "However.").
    """
    spots = [
        m
        for m in _CLAUSE.finditer(text)
        if len(_SENTENCE_END.split(text[: m.start()])[-1].split()) >= 4
    ]
    if not spots:
        return text
    spot = rng.choice(spots)
    return text[: spot.start()] + text[spot.end() :]


def _add_clause(text: str, rng: random.Random) -> str:
    """Insert ', clause' before a sentence's full stop (inside a closing quote if there is one).

    A text with no full stop at all (a headline-like line, a question) gets the clause at its end,
    so the text always changes: `minor_edit` relies on it.
    """
    ends = [m.start() for m in re.finditer(r"\.(?=[\"'\u201d\u2019]?(?: |$))", text)]
    clause = rng.choice(ADDED_CLAUSES)
    if not ends:
        return f"{text.rstrip()}, {clause}"
    at = rng.choice(ends)
    return f"{text[:at]}, {clause}{text[at:]}"


def minor_edit(text: str, rng: random.Random) -> str:
    """One to three small edits; falls back to an added clause so the text always changes."""
    edited = text
    for _ in range(rng.randrange(1, 4)):
        kind = rng.random()
        if kind < 0.5:
            edited = _substitute(edited, rng, 1)
        elif kind < 0.75:
            edited = _drop_clause(edited, rng)
        else:
            edited = _add_clause(edited, rng)
    return edited if edited != text else _add_clause(text, rng)


def major_edit(sentences: list[str], cast: Cast, rng: random.Random) -> str:
    """A heavy rewrite: many substitutions, a sentence dropped or replaced, a new one added.

    At least one original sentence (edited) always survives: a rewrite of a paragraph keeps some
    of it, otherwise the result is a new paragraph, not a version of the old one. A sentence is
    dropped only when two or more are left, and replaced only when another original stays.
    """
    kept = [_substitute(s, rng, 3) for s in sentences]
    if len(kept) > 1:
        kept.pop(rng.randrange(len(kept)))
    if len(kept) > 1:
        kept[rng.randrange(len(kept))] = _sentence(cast, rng)
    kept.insert(rng.randrange(len(kept) + 1), _sentence(cast, rng))
    return " ".join(_drop_clause(s, rng) for s in kept)


@dataclass
class Para:
    text: str
    base: list[int]
    op: str

    def to_json(self) -> dict:
        return {"text": self.text, "base": self.base, "op": self.op}


def _identical(article: list[list[str]]) -> list[Para]:
    return [Para(" ".join(p), [i], "identical") for i, p in enumerate(article)]


def excerpt_body(article: list[list[str]]) -> list[Para]:
    keep = max(1, round(len(article) / 3))
    return _identical(article)[:keep]


def mirror_body(article: list[list[str]], cast: Cast, rng: random.Random) -> list[Para]:
    curly = rng.random() < 0.6
    body: list[Para] = []
    for index, sentences in enumerate(article):
        text = " ".join(sentences)
        if len(article) > 3 and rng.random() < 0.08:
            continue  # dropped paragraph
        roll = rng.random()
        if roll < 0.4:
            para = Para(text, [index], "identical")
        elif roll < 0.88:
            para = Para(minor_edit(text, rng), [index], "minor_edit")
        else:
            para = Para(major_edit(sentences, cast, rng), [index], "major_edit")
        if curly and para.op == "identical" and curl_quotes(text) != text:
            para.op = "formatting"
        para.text = curl_quotes(para.text) if curly else para.text
        body.append(para)
    if rng.random() < 0.3:
        added = _sentence(cast, rng)
        body.insert(rng.randrange(1, len(body) + 1), Para(added, [], "added"))
    return body


def edited_body(article: list[list[str]], cast: Cast, rng: random.Random) -> list[Para]:
    body = _identical(article)
    if len(body) > 4:
        body.pop(rng.randrange(1, len(body)))
    if len(body) > 3 and rng.random() < 0.6:
        at = rng.randrange(len(body) - 1)
        first, second = body[at], body[at + 1]
        body[at : at + 2] = [Para(f"{first.text} {second.text}", first.base + second.base, "merge")]
    splittable = [
        i for i, p in enumerate(body) if p.op == "identical" and len(article[p.base[0]]) > 1
    ]
    if splittable and rng.random() < 0.6:
        at = rng.choice(splittable)
        sentences = article[body[at].base[0]]
        cut = rng.randrange(1, len(sentences))
        parts = [" ".join(sentences[:cut]), " ".join(sentences[cut:])]
        body[at : at + 1] = [Para(part, list(body[at].base), "split") for part in parts]
    if len(body) > 3 and rng.random() < 0.5:
        moved = body.pop(rng.randrange(len(body)))
        body.insert(rng.randrange(len(body) + 1), moved)
    for _ in range(rng.choice((0, 1, 1, 2))):
        body.insert(rng.randrange(1, len(body) + 1), Para(_sentence(cast, rng), [], "added"))
    for para in body:
        if para.op == "identical" and rng.random() < 0.15:
            para.text, para.op = minor_edit(para.text, rng), "minor_edit"
    return body


# ----------------------------------------------------------------------------------------------
# Sources and their chrome

SITE_WORDS = _words(
    "daily herald voice post wire courier news times tribune observer ledger gazette chronicle "
    "sentinel report digest today insider monitor bulletin review echo beacon dispatch"
)
SITE_PREFIX = _words("the north east west south global metro world capital free open river valley")
SECTIONS = _words("World Politics Business Economy Society Regions Opinion Health Tech Sport")
ADS = (
    "Kwork.ru - \u0443\u0441\u043b\u0443\u0433\u0438 \u0444\u0440\u0438\u043b\u0430\u043d\u0441"
    "\u0435\u0440\u043e\u0432 \u043e\u0442 500 \u0440\u0443\u0431.",
    "ADVERTISEMENT",
    "Sponsored: Compare the best travel insurance deals of the year",
    "Subscribe to our newsletter and never miss a story",
    "Advertisement - scroll to continue",
    "Get 50% off your first month of premium access",
)
DATE_FORMATS = ("{wd} , {mo} {d} {y}", "{wd}, {d} {mo} {y}", "{y}-{m:02d}-{d:02d}", "{mo} {d}, {y}")


@dataclass
class Source:
    name: str
    domain: str
    form: str
    one_block_per_line: bool
    date_format: str | None
    nav: str | None
    ad: str | None
    inline_ad: bool
    breadcrumb: bool
    byline: bool
    credit: bool
    share: str | None
    related: str | None
    comments: str | None
    footer: str
    sections: list[str] = field(default_factory=list)


def _make_source(index: int, form: str, rng: random.Random) -> Source:
    stem = f"{rng.choice(SITE_PREFIX)}{rng.choice(SITE_WORDS)}{index}"
    name = stem.capitalize()
    sections = rng.sample(SECTIONS, 6)
    return Source(
        name=name,
        domain=f"{stem}.example",
        form=form,
        one_block_per_line=rng.random() < 0.3,
        date_format=rng.choice(DATE_FORMATS) if rng.random() < 0.7 else None,
        nav=" | ".join(["Home", *sections]) if rng.random() < 0.7 else None,
        ad=rng.choice(ADS) if rng.random() < 0.6 else None,
        inline_ad=rng.random() < 0.5,
        breadcrumb=rng.random() < 0.5,
        byline=rng.random() < 0.4,
        credit=rng.random() < 0.3,
        share="Share this: Facebook Twitter WhatsApp Telegram Email"
        if rng.random() < 0.5
        else None,
        related=rng.choice(("Check Also", "Related Stories", "Read more", None)),
        comments=(
            "Leave a Reply\nYour email address will not be published. Required fields are marked *"
            if rng.random() < 0.5
            else None
        ),
        footer=f"\u00a9 {rng.randrange(2015, 2024)}, {stem}. All rights reserved.",
        sections=sections,
    )


def _render_date(fmt: str, when: dt.datetime) -> str:
    return fmt.format(
        wd=DAYS[when.weekday()], mo=MONTHS[when.month - 1], d=when.day, y=when.year, m=when.month
    )


@dataclass
class Page:
    """Everything on one page besides the body (chosen per capture, rendered per source)."""

    title: str
    byline: str
    credit: str
    teaser: tuple[str, str]
    captured: dt.datetime
    section: str


def render_text(source: Source, page: Page, body: Sequence[Para]) -> str:
    top: list[str] = []
    if source.date_format:
        top.append(_render_date(source.date_format, page.captured))
    if source.nav:
        top.append(source.nav)
    if source.ad:
        top.append(source.ad)
    if source.breadcrumb:
        top.append(f"Home / {page.section.upper()} / {page.title}")
    blocks = ["\n".join(top)] if top else []
    blocks.append(page.title)
    if source.byline:
        blocks.append(page.byline)
    if source.credit:
        blocks.append(page.credit)
    for index, para in enumerate(body):
        blocks.append(para.text)
        if source.ad and source.inline_ad and index == 1 and len(body) > 3:
            blocks.append(source.ad)
    if source.share:
        blocks.append(source.share)
    blocks.append(source.footer)
    if source.related:
        blocks.extend([source.related, page.teaser[0], page.teaser[1]])
    if source.comments:
        blocks.append(source.comments)
    return ("\n" if source.one_block_per_line else "\n\n").join(blocks) + "\n"


def render_html(source: Source, page: Page, body: Sequence[Para]) -> str:
    e = html.escape
    head = [f"<title>{e(page.title)} - {e(source.name)}</title>", '<meta charset="utf-8">']
    out = ["<!DOCTYPE html>", '<html lang="en"><head>', *head, "</head><body>", "<header>"]
    if source.date_format:
        out.append(f'<div class="date">{e(_render_date(source.date_format, page.captured))}</div>')
    if source.nav:
        links = "".join(f'<li><a href="/{s.lower()}">{s}</a></li>' for s in source.nav.split(" | "))
        out.append(f"<nav><ul>{links}</ul></nav>")
    if source.ad:
        out.append(f'<div class="ad-banner">{e(source.ad)}</div>')
    out.append("</header><main>")
    if source.breadcrumb:
        out.append(f'<div class="breadcrumb">Home / {e(page.section)} / {e(page.title)}</div>')
    out.append(f"<article><h1>{e(page.title)}</h1>")
    if source.byline:
        out.append(f'<p class="byline">{e(page.byline)}</p>')
    if source.credit:
        out.append(f"<figure><figcaption>{e(page.credit)}</figcaption></figure>")
    for index, para in enumerate(body):
        out.append(f"<p>{e(para.text)}</p>")
        if source.ad and source.inline_ad and index == 1 and len(body) > 3:
            out.append(f'<div class="ad-inline">{e(source.ad)}</div>')
    if source.share:
        out.append(f'<div class="share">{e(source.share)}</div>')
    out.append("</article>")
    if source.related:
        teaser = f'<a href="/related">{e(page.teaser[0])}</a><p>{e(page.teaser[1])}</p>'
        out.append(f'<aside class="related"><h3>{e(source.related)}</h3>{teaser}</aside>')
    if source.comments:
        out.append(f'<section class="comments">{e(source.comments)}<textarea></textarea></section>')
    out.append(f"</main><footer>{e(source.footer)}</footer></body></html>")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------------------------
# Families

ROLE_WEIGHTS = {"syndicated": 0.35, "excerpt": 0.15, "mirror": 0.3, "edited": 0.2}
FAMILY_SIZES = (1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 8, 12, 20)  # captures per story, skewed
NEAR_MISS_RATE = 0.2
EPOCH = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)


@dataclass
class Capture:
    name: str
    story: str
    role: str
    source: Source
    page: Page
    body: list[Para]


def _body_for(role: str, article: list[list[str]], cast: Cast, rng: random.Random) -> list[Para]:
    if role == "original" or role == "syndicated":
        return _identical(article)
    if role == "excerpt":
        return excerpt_body(article)
    if role == "mirror":
        return mirror_body(article, cast, rng)
    return edited_body(article, cast, rng)


def _teasers(rng: random.Random, count: int = 500) -> list[tuple[str, str]]:
    """A pool of "related story" teasers (headline, truncated first sentence) to draw from."""
    pool = []
    for _ in range(count):
        cast = _make_cast(rng)
        pool.append((_title(cast, rng), _sentence(cast, rng)[:90].rstrip() + " \u2026"))
    return pool


def _family(
    key: str,
    article: list[list[str]],
    cast: Cast,
    sources: list[Source],
    teasers: list[tuple[str, str]],
    rng: random.Random,
) -> list[Capture]:
    title = _title(cast, rng)
    start = EPOCH + dt.timedelta(days=rng.randrange(1200), minutes=rng.randrange(1440))
    size = rng.choice(FAMILY_SIZES)
    roles = ["original"] + rng.choices(list(ROLE_WEIGHTS), list(ROLE_WEIGHTS.values()), k=size - 1)
    outlets = rng.sample(sources, min(size, len(sources)))
    outlets += rng.choices(sources, k=size - len(outlets))
    captures = []
    for index, (role, source) in enumerate(zip(roles, outlets, strict=True)):
        delay = dt.timedelta(minutes=0 if index == 0 else rng.randrange(30, 40 * 1440))
        author = f"By {rng.choice(FIRST)} {rng.choice(LAST)}"
        credit = f"\u00a9 {rng.choice(LAST)}/Getty Images {cast.persons[0][0]} in {cast.places[0]}"
        page = Page(
            title=title if role != "mirror" else curl_quotes(title),
            byline=author,
            credit=credit,
            teaser=rng.choice(teasers),
            captured=start + delay,
            section=rng.choice(source.sections),
        )
        body = _body_for(role, article, cast, rng)
        captures.append(
            Capture(f"{key}_{index:02d}_{source.domain}", key, role, source, page, body)
        )
    return captures


def _base_articles(path: Path | None) -> list[list[list[str]]]:
    """Gold bodies of an extraction-dev folder as paragraphs of sentences (benchmarks only)."""
    if path is None:
        return []
    articles = []
    for line in (path / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        body = json.loads(line)["article_body"]
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n|\n", body) if p.strip()]
        if len(paragraphs) >= 3:
            articles.append(
                [re.split(r"(?<=[.!?\u201d\"]) (?=[A-Z\u201c\"])", p) for p in paragraphs]
            )
    return articles


def _stories(n_stories: int, sources: list[Source], rng: random.Random, base: list) -> list:
    captures: list[Capture] = []
    teasers = _teasers(rng)
    cast = _make_cast(rng)
    for index in range(n_stories):
        near_miss = index > 0 and rng.random() < NEAR_MISS_RATE
        if not near_miss:
            cast = _make_cast(rng)
        if index < len(base):
            article = base[index]
        else:
            article = _article(cast, rng, quote=rng.random() < 0.5)
        captures.extend(_family(f"g{index:06d}", article, cast, sources, teasers, rng))
    return captures


def gold_bodies(n_stories: int, seed: int) -> list[tuple[str, str, list[str]]]:
    """(capture name, gold story, body paragraphs) without writing pages: for clustering costs.

    The same families as `generate(..., seed)` with the default sources (forms do not matter)."""
    rng = random.Random(seed)
    sources = [_make_source(i, "text", rng) for i in range(_n_sources(n_stories))]
    captures = _stories(n_stories, sources, rng, [])
    return [(c.name, c.story, [p.text for p in c.body]) for c in captures]


def _n_sources(n_stories: int) -> int:
    return max(6, min(400, n_stories // 6))


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(
    out_dir: Path,
    n_stories: int,
    seed: int,
    forms: Sequence[str] = ("text",),
    base_from: Path | None = None,
) -> dict:
    """Write captures/, manifest.jsonl and gold.jsonl into out_dir; return a summary."""
    unknown = sorted(set(forms) - {"text", "html"})
    if unknown or not forms:
        raise ValueError(f"forms must be text and/or html, got {list(forms)}")
    captures_dir = out_dir / "captures"
    if captures_dir.exists() and any(captures_dir.iterdir()):
        raise FileExistsError(f"{captures_dir} is not empty; choose a new --out folder")
    captures_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    sources = [_make_source(i, forms[i % len(forms)], rng) for i in range(_n_sources(n_stories))]
    captures = _stories(n_stories, sources, rng, _base_articles(base_from))
    captures.sort(key=lambda c: c.name)
    manifest, gold = [], []
    for cap in captures:
        ext = "html" if cap.source.form == "html" else "txt"
        path = f"captures/{cap.name}.{ext}"
        render = render_html if ext == "html" else render_text
        (out_dir / path).write_text(render(cap.source, cap.page, cap.body), encoding="utf-8")
        slug = re.sub(r"[^a-z0-9]+", "-", cap.page.title.lower()).strip("-")[:60]
        page_key = hashlib.sha1(cap.name.encode()).hexdigest()[:8]  # no gold key in the URL
        url = f"https://{cap.source.domain}/{cap.page.section.lower()}/{slug}-{page_key}"
        manifest.append(
            {
                "path": path,
                "source": cap.source.domain,
                "captured_at": _iso(cap.page.captured),
                "url": url,
                "format": ext if ext == "html" else "text",
            }
        )
        paragraphs = [p.to_json() for p in cap.body]
        gold.append({"path": path, "story": cap.story, "role": cap.role, "paragraphs": paragraphs})
    _write_jsonl(out_dir / "manifest.jsonl", manifest)
    _write_jsonl(out_dir / "gold.jsonl", gold)
    return _summary(captures, n_stories, len(sources), seed)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")


def _summary(captures: list[Capture], n_stories: int, n_sources: int, seed: int) -> dict:
    ops = Counter(p.op for c in captures for p in c.body)
    return {
        "seed": seed,
        "stories": n_stories,
        "captures": len(captures),
        "sources": n_sources,
        "roles": dict(sorted(Counter(c.role for c in captures).items())),
        "forms": dict(sorted(Counter(c.source.form for c in captures).items())),
        "paragraph_ops": dict(sorted(ops.items())),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--stories", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--forms", default="text", help="comma-separated: text,html")
    parser.add_argument("--base-from", type=Path, default=None, help="an extraction-dev folder")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    summary = generate(
        args.out, args.stories, args.seed, tuple(args.forms.split(",")), base_from=args.base_from
    )
    print(json.dumps(summary, indent=1))
    print(f"generated in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
