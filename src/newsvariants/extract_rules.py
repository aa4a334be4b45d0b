"""Patterns of page furniture: the removal reason a block's own text gives it.

No pattern here names a site: the rules are about the shape of page furniture (dates, bylines,
photo credits and captions, share/subscribe/navigation lines, tickers, related-story and comment
headings, copyright and legal notices), so they carry to pages this project has never seen.

Speed: this runs on every block of every page. The patterns anchored at the start of a block are
compiled into one alternation per size tier (`_HEAD_TIERS`: a named group per reason, tried in
precedence order), so a block costs one `match` instead of eight; the patterns anchored at its end
sit behind substring gates that are exact (a caption tail needs a ")" at the end, a ":" or a "/").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache

from newsvariants.extract_shape import ends_like_sentence

# Month names (and their usual abbreviations) in English, French, German, Spanish, Italian,
# Portuguese, Dutch and Russian (the genitive, as dates write it), each with its number: the
# patterns below and `parse_date` read dates with the same table. Names shared between languages
# ("april", "mai") have the same number in each.
_NAMES_OF_MONTHS = (
    "january jan janvier janv januar jänner enero gennaio janeiro januari января",
    "february feb février févr fév februar febrero febbraio fevereiro februari февраля",
    "march mar mars märz mär marzo março maart марта",
    "april apr avril avr abril aprile апреля",
    "may mai mayo maggio maio mei мая",
    "june jun juin juni junio giugno junho июня",
    "july jul juillet juil juli julio luglio julho июля",
    "august aug août agosto augustus августа",
    "september sep sept septembre septiembre setiembre settembre setembro сентября",
    "october oct octobre oktober okt octubre ottobre outubro октября",
    "november nov novembre noviembre novembro ноября",
    "december dec décembre déc dezember dez diciembre dicembre dezembro декабря",
)
MONTH_NUMBERS = {
    name: number for number, names in enumerate(_NAMES_OF_MONTHS, start=1) for name in names.split()
}


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation of `words`, longest first: the regex tries them in order, and
    "marzo" should not stop at "mar" (nor "last updated" at "last")."""
    return "|".join(re.escape(word) for word in sorted(words, key=lambda w: (-len(w), w)))


_MONTHS = _alternation(MONTH_NUMBERS)
# Weekday names as a page's header date writes them.
_WEEKDAYS_BY_LANGUAGE = {
    "en": "mon monday tue tues tuesday wed wednesday thu thur thurs thursday fri friday sat"
    " saturday sun sunday",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "de": "montag dienstag mittwoch donnerstag freitag samstag sonntag",
    "es": "lunes martes miércoles jueves viernes sábado domingo",
    "it": "lunedì martedì mercoledì giovedì venerdì sabato domenica",
    "pt": "segunda-feira terça-feira quarta-feira quinta-feira sexta-feira sábado domingo",
    "nl": "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag",
    "ru": "понедельник вторник среда четверг пятница суббота воскресенье",
}
WEEKDAY_NAMES = tuple(
    dict.fromkeys(name for names in _WEEKDAYS_BY_LANGUAGE.values() for name in names.split())
)
_WEEKDAYS = _alternation(WEEKDAY_NAMES)
_DAY = r"\d{1,2}(st|nd|rd|th|er|º)?"  # "1er mars", "1º de março"
# Whitespace around an optional separator is matched possessively (`\s*+`): with two plain
# `\s*` a run of k spaces splits k+1 ways at every separator, and a block that fails at the end
# ("facebook" + 12 spaces + "twitter" ... + "x") took minutes (exponential in the names).
_DATE_CORE = (
    # "25 April 2024", "25. April 2024", "25 de abril de 2024", "April 25, 2024"
    rf"({_DAY}\.?\s+(de\s+)?({_MONTHS})\.?|({_MONTHS})\.?\s+{_DAY})\s*+,?\s*+(de\s+)?\d{{4}}"
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}"
    r"|\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
)
# "10:30", "10.30 am (GMT)", "10h30" (French), "10:30 Uhr"
_TIME = r"\d{1,2}[:.h]\d{2}(\s*[ap]\.?m\.?|\s*uhr)?(\s*\(?[a-z]{2,4}\)?)?"
DATE_ANY = re.compile(rf"({_DATE_CORE})", re.IGNORECASE)

# --- patterns anchored at the start of a block (the sources of `_HEAD_TIERS`) ---------------------

# A block that is nothing but a date (and maybe a weekday and a time; spaces before commas too:
# "Thursday , April 25 2024").
DATE_ONLY = (
    rf"(({_WEEKDAYS})\.?\s*+,?\s*+)?({_DATE_CORE})"
    rf"(\s*+[,|-]?\s*+((at|à|um|a las|alle|às|om|в)\s+)?{_TIME})?\.?$"
)
AD = (
    r"(advertisement|advertising|sponsored( content)?|ad|promoted|story continues below"
    r"( advertisement)?|continue reading below|scroll to continue.*)$"
)
RELATED_HEAD = (
    r"(check also|related( (stories|articles?|posts?|news|content|coverage|topics|links))?"
    r"|read (more|also|next)|see also|more (from|stories|news|on this|like this)"
    r"|you (may|might) (also )?(like|be interested|enjoy)|recommended( for you| reading)?"
    r"|most (read|popular|viewed|shared)|trending( now| stories)?|popular (posts|stories)"
    r"|latest (news|stories|posts|videos)|also read|further reading|more in|don'?t miss"
    r"|editor'?s picks|top stories|what to read next|up next|explore further)\b[^.!?]{0,40}$"
    # a labelled teaser: "READ MORE: China plague outbreak confirmed", "Related: ..."
    r"|(related|read (more|also|next)|also read|see also|more)\s*:.{0,160}$"
    r"|more\s+[\w'’-]+(\s+[\w'’-]+)?$"  # "More Washington Examiner", "More from ..."
    r"|more(\s+[\w'’-]+){0,3}\s+(stories|news|articles|reads|videos)$"  # "More Great WIRED Stories"
)
_SOCIAL = (
    r"facebook|twitter|whatsapp|linkedin|reddit|pinterest|telegram|flipboard|pocket|instagram"
    r"|youtube|tumblr|e-?mail|sms|print|copy link|messenger|vk|rss( feed)?"
)
SHARE = (
    rf"((share|tweet|follow( us)?|connect with us|find us|like us)\b[^.!?]{{0,40}}[.!]?"
    rf"|({_SOCIAL})(\s*+[,|/·•]?\s*+({_SOCIAL}))*)$"
)
# "Published ... <date>": a lead word, and a date anywhere in the block (the lead word is looked
# for first: most blocks fail there, before the date is looked for).
# The words that introduce an article's date ("Published: ...", "Publié le ...").
META_LEAD_WORDS = (
    ("published", "updated", "posted", "submitted", "last updated", "last modified", "modified")
    + ("first published", "date")
    # French, German, Spanish, Italian, Portuguese, Dutch, Russian
    + ("publié", "mis à jour", "modifié", "veröffentlicht", "aktualisiert", "publicado")
    + ("actualizado", "atualizado", "pubblicato", "aggiornato", "gepubliceerd", "bijgewerkt")
    + ("опубликовано", "обновлено", "дата")
)
_META_LEAD_WORDS = _alternation(META_LEAD_WORDS)
META_LEAD = rf"(?=({_META_LEAD_WORDS})\b).*?({_DATE_CORE})"
BYLINE = (  # case matters after the lead word: names are capitalised
    r"(?i:by|von|par|por|di|door|av|от|автор)\s*:?\s+[A-ZÀ-ÝА-Я][\w.'’-]+"
    r"(\s+(and\s+)?[A-ZÀ-ÝА-Я][\w.'’-]+|,){0,8}(\s*[,|/–-].{0,60}"
    # "By Louis Jacobson on Monday, November 18th, 2019 at 11:04 a.m."
    rf"|(?i:\s+on\s+(({_WEEKDAYS})\.?\s*+,?\s*+)?({_DATE_CORE})).{{0,30}})?$"
)
META_LABEL = (
    r"((researched|edited|reported|written|compiled|produced|additional reporting|graphics?)"
    r"\s+by|tags|topics|subjects|filed under|categories|posted in)\s*:"
)
# The heading of the comments, in English and (its plural word alone) in seven more languages;
# plurals only, since a singular "Kommentar" or "Comentario" labels an opinion piece.
COMMENTS_HEAD = (
    r"[\[(]?\s*(\d+\s+)?((top|best|most|latest|newest|reader|all|show|view|load|see)\s+)*"
    r"(rated\s+)?(comments?|commentaires|comentarios|comentar|coment\u00e1rios|kommentare"
    r"|commenti|komentarze|reacties)\s*(\(\d+\))?\s*[\])]?$|"
    r"\d+\s+(thoughts?|responses?|replies|reactions?)\s+(on|to)\s.{0,200}$|"  # WordPress
    r"(leave a (reply|comment)|post a comment|add (a )?comment"
    r"|join the (conversation|discussion)|your email address will not be published"
    r"|reader comments|show comments|view comments|comment on this|no comments( yet)?)"
    r"\b[^.!?]{0,60}[.!?*]?$"
)
# A caption's label printed before it ("Image caption Assange gestures...", "Media caption Who is
# ...": a caption kept in `captions`, not body).
CAPTION_LABEL = r"(image|media|video|photo|picture)\s+caption\b"
# The heading of the article's list of sources or references (fact-checks, explainers): what
# follows cites the article and is not its text. Plural only: "Source" alone labels a chart.
SOURCES_HEAD = r"(our\s+)?(sources|references|bibliography|works\s+cited|footnotes)\s*:?$"
CREDIT = (
    r"(©|photo(graph)?s?\s*(:|by\b|credit)|image\s*(:|by\b|credit)|credit\s*:|picture\s*:"
    r"|source\s*:\s*getty)"
)

# The head rules, in order of precedence (the first that matches decides): (name, reason, largest
# block size in words it applies to, pattern, ignore case, the words a matching block can begin
# with). `credit` is resolved further below (a copyright notice starts with "©" too).
#
# Speed: CPython's `re` tries an alternation branch by branch, so one combined pattern costs as
# much as the rules tried one by one (measured: more, from saving its many groups' marks). Most
# blocks ("Home", "World", a sentence) fail on their first word, so a block is matched only against
# the rules one of whose leads begins with its first three characters (casefolded; or its first
# two, or first one, for leads that short): one cached lookup instead of nine regex calls. A
# rule's `leads` must therefore name every way it can begin (only their first three characters
# count); tests/test_extract.py checks the rules against the same rules without the gate on every
# example of furniture it knows.
_DIGITS = tuple("0123456789")
_DATE_LEADS = WEEKDAY_NAMES + tuple(MONTH_NUMBERS) + _DIGITS
_CREDIT_LEADS = ("©", "photo", "image", "credit", "picture", "source")
_AD_LEADS = ("advertisement", "advertising", "sponsored", "ad", "promoted", "story", "continue")
_AD_LEADS += ("scroll",)
_RELATED_LEADS = ("check", "related", "read", "see", "more", "you", "recommended", "most")
_RELATED_LEADS += ("trending", "popular", "latest", "also", "further", "don", "editor", "top")
_RELATED_LEADS += ("what", "up", "explore")
_SHARE_LEADS = ("share", "tweet", "follow", "connect", "find", "like", "facebook", "twitter")
_SHARE_LEADS += ("whatsapp", "linkedin", "reddit", "pinterest", "telegram", "flipboard")
_SHARE_LEADS += ("pocket", "instagram", "youtube", "tumblr", "e-mail", "email", "sms", "print")
_SHARE_LEADS += ("copy", "messenger", "vk", "rss")
_META_LEAD_LEADS = META_LEAD_WORDS
_BYLINE_LEADS = ("by", "von", "par", "por", "di", "door", "av", "от", "автор")
_META_LABEL_LEADS = ("researched", "edited", "reported", "written", "compiled", "produced")
_META_LABEL_LEADS += ("additional", "graphic", "tags", "topics", "subjects", "filed")
_META_LABEL_LEADS += ("categories", "posted")
_CAPTION_LABEL_LEADS = ("image", "media", "video", "photo", "picture")
_SOURCES_LEADS = ("our", "sources", "references", "bibliography", "works", "footnotes")
_COMMENTS_LEADS = ("[", "(", "top", "best", "most", "latest", "newest", "reader", "all", "show")
_COMMENTS_LEADS += ("view", "load", "see", "rated", "comment", "leave", "post", "add", "join")
_COMMENTS_LEADS += ("your", "no", "commentaires", "comentar", "kommentare", "komentarze")
_COMMENTS_LEADS += ("reacties",) + _DIGITS

HEAD_RULES: tuple[tuple[str, str, float, str, bool, tuple[str, ...]], ...] = (
    ("credit", "credit", float("inf"), CREDIT, True, _CREDIT_LEADS),
    ("caption_label", "caption", 60, CAPTION_LABEL, True, _CAPTION_LABEL_LEADS),
    ("date_header", "date_header", 14, DATE_ONLY, True, _DATE_LEADS),
    ("ad", "ad", 6, AD, True, _AD_LEADS),
    ("related", "related", 30, RELATED_HEAD, True, _RELATED_LEADS),
    ("share", "share", 14, SHARE, True, _SHARE_LEADS),
    ("metadata_lead", "metadata", 25, META_LEAD, True, _META_LEAD_LEADS),
    ("byline", "byline", 25, BYLINE, False, _BYLINE_LEADS),
    ("metadata_label", "metadata", 40, META_LABEL, True, _META_LABEL_LEADS),
    ("sources", "metadata", 4, SOURCES_HEAD, True, _SOURCES_LEADS),
    ("comments", "comments", 40, COMMENTS_HEAD, True, _COMMENTS_LEADS),
)
HEAD_REASONS = {rule[0]: rule[1] for rule in HEAD_RULES}
_HEAD_PATTERNS = tuple(
    (name, largest, re.compile(source, re.IGNORECASE if ignore_case else 0))
    for name, _, largest, source, ignore_case, _ in HEAD_RULES
)


def _lead_table() -> dict[str, tuple[int, ...]]:
    """Lead (at most its first three characters) -> indexes of the head rules it can begin."""
    table: dict[str, list[int]] = {}
    for index, rule in enumerate(HEAD_RULES):
        for lead in rule[5]:
            table.setdefault(lead[:3], []).append(index)
    return {lead: tuple(sorted(set(indexes))) for lead, indexes in table.items()}


_LEAD_TABLE = _lead_table()


def head_rule_candidates(text: str) -> tuple[int, ...]:
    """Indexes of the head rules a block can match, judged by how it begins (in precedence
    order). Blocks are stripped, so their first character is their first word's."""
    return _candidates_for_head(text[:3])


@lru_cache(maxsize=1 << 14)
def _candidates_for_head(head: str) -> tuple[int, ...]:
    head = head.casefold()[:3]
    table = _LEAD_TABLE
    found = table.get(head, ()) + table.get(head[:2], ()) + table.get(head[:1], ())
    return tuple(sorted(set(found)))


def head_rule(text: str, size: float, candidates: tuple[int, ...] | None = None) -> str | None:
    """Name of the first head rule (in precedence order) that matches the block, or None.
    `candidates`: its `head_rule_candidates`, when known."""
    for index in head_rule_candidates(text) if candidates is None else candidates:
        name, largest, pattern = _HEAD_PATTERNS[index]
        if size <= largest and pattern.match(text):
            return name
    return None


# --- other patterns --------------------------------------------------------------------------

# A date and then a headline: "08/01/2014 Urkullu se declara a favor de la República", "Nov 12,
# 2019 - Council approves budget" (at least three words after it, none of them a time: a
# dateline's rest is a time, "at 9:24 pm ET", or a name). One item of a list of dated teasers.
_DATED_HEADLINE = re.compile(
    rf"(?:{_DATE_CORE})\s*+[-–—|:·•]?\s*+(?!{_TIME})(?=(?:[^\W\d_][\w'’-]*\W+){{2}}[^\W\d_])"
    rf"(?!.*{_TIME})[^\W\d_].*$",
    re.IGNORECASE,
)
_DATE_HEADER_RULE = next(i for i, rule in enumerate(HEAD_RULES) if rule[0] == "date_header")


def is_dated_headline(text: str) -> bool:
    """Whether a block is a date followed by a headline (`_DATED_HEADLINE`); only blocks that
    begin as a date can (`_DATE_LEADS`), so most are passed on their first characters."""
    return _DATE_HEADER_RULE in _candidates_for_head(text[:3]) and bool(_DATED_HEADLINE.match(text))


COMMENTS_HEAD_RE = re.compile(COMMENTS_HEAD, re.IGNORECASE)
SOURCES_HEAD_RE = re.compile(SOURCES_HEAD, re.IGNORECASE)
_COPYRIGHT = re.compile(r"^(©|\(c\)|copyright\b)|all rights reserved", re.IGNORECASE)
_RIGHTS = re.compile(r"rights reserved|^(©|\(c\)|copyright)\s*(19|20)\d\d\b", re.IGNORECASE)
CREDIT_RE = re.compile(CREDIT, re.IGNORECASE)
# A caption ends with its credit: "(Image: GETTY)", "(NASA/JPL)", "J. Smith / AP file".
_CAPTION_TAIL = re.compile(
    r"(\((image|photo|picture|credit|video|pic)s?\s*:[^)]*\)|\b(credit|photo|image)s?:\s*[^.!?]{2,80}"
    r"|\([^()]*/[^()]*\)"
    r"|\s/\s*(AP|AFP|Reuters|Getty Images|EPA|PA)[\w ]{0,12}|(Getty Images|Shutterstock))\s*$",
    re.IGNORECASE,
)
# Its endings one by one, each searched only when the character it needs is there: a search
# with the whole alternation tries all five endings at every position of the tail.
_BRACKETED_TAIL = re.compile(
    r"(\((image|photo|picture|credit|video|pic)s?\s*:[^)]*\)|\([^()]*/[^()]*\))\s*$", re.IGNORECASE
)
_LABELLED_TAIL = re.compile(r"\b(credit|photo|image)s?:\s*[^.!?]{2,80}\s*$", re.IGNORECASE)
_AGENCY_AFTER_SLASH_TAIL = re.compile(
    r"\s/\s*(AP|AFP|Reuters|Getty Images|EPA|PA)[\w ]{0,12}\s*$", re.IGNORECASE
)
_AGENCY_TAIL = re.compile(r"(Getty Images|Shutterstock)\s*$", re.IGNORECASE)
_EXPLICIT_CREDIT_TAIL = re.compile(
    r"[.)]\s+(credit|photo|image|picture)s?\s*:\s*[^.!?:]{2,60}$", re.IGNORECASE
)
_SUBSCRIBE = re.compile(
    r"\b((un)?subscribe|subscription|sign ?up|newsletter|inbox|log ?in|sign in|register|"
    r"create (a free )?account|download (our|the) app)\b",
    re.IGNORECASE,
)
_LEGAL = re.compile(
    r"\b(registered trademarks?|(is|are) (a )?trademarks? of"
    r"|terms (of|and conditions of) (use|service)|privacy (policy|notice)|cookie policy"
    r"|(we|this (web)?site) uses? cookies"
    r"|may not be (re)?published,? broadcast|not intended to diagnose|subject to copyright)\b",
    re.IGNORECASE,
)
# Market or score tickers: several signed numbers, percentages or prices on one line.
_TICKER_ITEM = re.compile(r"(?<!\w)[+\-−▲▼]\s?\d+([.,]\d+)?%?")
_BREADCRUMB_SEP = re.compile(r"\s(/|>|»|›|\|)\s|\s?(>|»|›)\s?$")

# Literals a block must contain for some rules to apply (in its casefolded key; an agency's name
# in its text). Each is a necessary condition of its rule's patterns, looked for in all of a
# page's short blocks at once with `str.find` (memory speed) instead of a regex per block (an
# alternation of literals costs ~13 ns a character in CPython's `re`). Literals that are common
# inside other words ("app" in "happen") are avoided: each hit costs a lookup.
LEGAL_LITERALS = ("©", "(c)", "copyright", "rights reserved", "trademark", "terms of")
LEGAL_LITERALS += ("terms and", "privacy", "cookie", "broadcast", "diagnose")
SUBSCRIBE_LITERALS = ("subscri", "sign up", "signup", "sign in", "newsletter", "inbox", "log in")
SUBSCRIBE_LITERALS += ("login", "register", "create", "download")
AGENCY_LITERALS = ("Getty Images", "Reuters", "AFP", "AP Photo", "Associated Press", "EPA")
AGENCY_LITERALS += ("Sputnik", "TASS", "Shutterstock", "Bloomberg", "Xinhua", "Anadolu", "Alamy")
AGENCY_LITERALS += ("iStock", "PA Images", "PA Wire")
AGENCY = re.compile("|".join(AGENCY_LITERALS))
_LEGAL_BYTES, _SUBSCRIBE_BYTES, _AGENCY_BYTES = (
    tuple(literal.encode() for literal in literals)
    for literals in (LEGAL_LITERALS, SUBSCRIBE_LITERALS, AGENCY_LITERALS)
)
# The largest blocks (in words) that each rule applies to.
_LEGAL_LARGEST, _SUBSCRIBE_LARGEST, _AGENCY_LARGEST = 80.0, 30.0, 10.0
_SHORT_LARGEST, _CAPTION_LARGEST = 40.0, 60.0
_TICKER_GATE = re.compile(r"[+\-−▲▼]\s?\d")
_CAPTION_TAIL_ENDS = ("images", "shutterstock")
_CAPTION_TAIL_LAST = "sSkK\u017f\u212a"  # their last letters, as IGNORECASE reads them (ſ, K)


@dataclass(frozen=True)
class PageLiterals:
    """Which blocks of a page contain the literals that some rules need (block indexes; only
    blocks short enough for the rule are looked at)."""

    legal: frozenset[int]  # copyright and legal notices
    subscribe: frozenset[int]  # subscribe, sign-up, log-in prompts
    agency: frozenset[int]  # a news or photo agency's name


def _containing(
    indexes: Sequence[int], texts: Sequence[str], literals: Sequence[bytes]
) -> set[int]:
    """The indexes of the texts that contain any of the (UTF-8) literals: one `bytes.find` scan of
    the joined texts per literal (bytes: the fastest search CPython has). Texts hold no line
    break (blocks never do), so a hit's text is the number of line breaks before it."""
    joined = "\n".join(texts).encode("utf-8", "surrogatepass")
    found: set[int] = set()
    for literal in literals:
        at = joined.find(literal)
        line, counted_to = 0, 0  # hits come in order: count the line breaks up to each once
        while at >= 0:
            line += joined.count(b"\n", counted_to, at)
            counted_to = at
            found.add(indexes[line])
            line_end = joined.find(b"\n", at)
            at = joined.find(literal, line_end + 1) if line_end >= 0 else -1
    return found


def page_literals(
    texts: Sequence[str], keys: Sequence[str], sizes: Sequence[float]
) -> PageLiterals:
    """`PageLiterals` of a page's blocks (their texts, `block_key`s and sizes in words)."""
    legal = [i for i, size in enumerate(sizes) if size < _LEGAL_LARGEST]
    subscribe = [i for i in legal if sizes[i] < _SUBSCRIBE_LARGEST]
    agency = [i for i in subscribe if sizes[i] <= _AGENCY_LARGEST]
    return PageLiterals(
        legal=frozenset(_containing(legal, [keys[i] for i in legal], _LEGAL_BYTES)),
        subscribe=frozenset(_containing(subscribe, [keys[i] for i in subscribe], _SUBSCRIBE_BYTES)),
        agency=frozenset(_containing(agency, [texts[i] for i in agency], _AGENCY_BYTES)),
    )


# What the patterns of short blocks need: a colon (credit and caption tails), a breadcrumb or
# path separator, a signed number (tickers), a closing bracket at the end (caption tails). The
# pattern begins with a class of a few characters, so `re` skips the rest of the text at C speed
# (written as an alternation, it is three times slower: measured). Longer blocks can only have a
# credit or caption tail, looked for in their last 100 characters.
_SHORT_MARK = re.compile(r"[:/|>»›)+\-−▲▼](?:(?<=[:/|>»›])|(?<=[+\-−▲▼])(?=\s?\d)|(?<=\))$)")


def _has_marks(text: str, size: float) -> bool:
    """Whether the block holds a character that a tail, ticker or breadcrumb pattern needs (if
    not, none of them can match). Block by block: on a page's joined text the same scan costs
    more (measured), above all the case-blind agency ending."""
    if size <= _SHORT_LARGEST:
        return _SHORT_MARK.search(text) is not None or _ends_with_agency(text)
    if size >= _CAPTION_LARGEST:
        return ":" in text[-80:]  # only an explicit credit tail: "... Credit: ESA"
    tail = text[-100:].rstrip()
    return ":" in tail or "/" in tail or tail[-1:] == ")" or _ends_with_agency(tail)


def _ends_with_agency(text: str) -> bool:
    """Ends with "Images" or "Shutterstock" (any case); most blocks fail on the last letter."""
    return text[-1:] in _CAPTION_TAIL_LAST and text[-12:].casefold().endswith(_CAPTION_TAIL_ENDS)


def page_reasons(
    texts: Sequence[str],
    keys: Sequence[str],
    sizes: Sequence[float],
    sentences: Sequence[bool],
    link_densities: Sequence[float] | None = None,
    tags: Sequence[str] | None = None,
) -> list[str | None]:
    """`pattern_reason` of every block of a page (texts, `block_key`s, sizes in words, sentence
    shape; for HTML link densities and elements). Only the blocks that begin with a rule's lead,
    hold one of the literals or marks some rule needs, or (HTML) are link-dense are looked at:
    for the others (most blocks) no pattern can match."""
    literals = page_literals(texts, keys, sizes)
    flagged = literals.legal | literals.subscribe | literals.agency
    if link_densities is not None:
        flagged |= {i for i, density in enumerate(link_densities) if density > 0.6}
    reasons: list[str | None] = [None] * len(texts)
    full, heads_only = _worth_a_look(texts, sizes, flagged)
    for i in heads_only:  # nothing but a head rule can apply: no mark, no literal
        rule = head_rule(texts[i], sizes[i])
        if rule is not None and rule != "credit":
            reasons[i] = HEAD_REASONS[rule]
        elif rule is not None:
            full.append(i)
    for i in full:
        reasons[i] = pattern_reason(
            texts[i],
            sizes[i],
            sentences[i],
            legal=i in literals.legal,
            subscribe=i in literals.subscribe,
            agency=i in literals.agency,
            link_density=link_densities[i] if link_densities is not None else 0.0,
            tag=tags[i] if tags is not None else "p",
        )
    return reasons


def _worth_a_look(
    texts: Sequence[str], sizes: Sequence[float], flagged: AbstractSet[int]
) -> tuple[list[int], list[int]]:
    """The blocks some rule may apply to: those flagged or with a mark (`_has_marks`, inlined for
    short blocks: one loop, no call per block), and those that only begin with a rule's lead."""
    mark = _SHORT_MARK.search
    candidates = _candidates_for_head
    full, heads_only = [], []
    for i, text in enumerate(texts):
        size = sizes[i]
        if (
            i in flagged
            or mark(text) is not None
            or (text[-1:] in _CAPTION_TAIL_LAST and _ends_with_agency(text))
            if size <= _SHORT_LARGEST
            else i in flagged or _has_marks(text, size)
        ):
            full.append(i)
        elif candidates(text[:3]):
            heads_only.append(i)
    return full, heads_only


def _caption_tail(text: str) -> bool:
    """`_CAPTION_TAIL` behind an exact gate: each of its endings needs a ")" at the very end, a
    ":" or a "/" in the tail, or the tail to end with an agency name."""
    tail = text[-100:].rstrip()
    if not tail:
        return False
    gated = tail[-1] == ")" or ":" in tail or "/" in tail or _ends_with_agency(tail)
    if not gated:
        return False
    # `_CAPTION_TAIL` matches if and only if one of its endings does.
    if tail[-1] == ")" and _BRACKETED_TAIL.search(tail):
        return True
    if ":" in tail and _LABELLED_TAIL.search(tail):
        return True
    if "/" in tail and _AGENCY_AFTER_SLASH_TAIL.search(tail):
        return True
    return tail[-1] in _CAPTION_TAIL_LAST and _AGENCY_TAIL.search(tail) is not None


def pattern_reason(
    text: str,
    size: float,
    sentence: bool,
    *,
    legal: bool | None = None,
    subscribe: bool | None = None,
    agency: bool | None = None,
    link_density: float = 0.0,
    tag: str = "p",
    candidates: tuple[int, ...] | None = None,
) -> str | None:
    """The removal reason a block's own text (for HTML also its link density and element) gives
    it, or None. `size` is its length in words, `sentence` whether it is sentence-shaped; `legal`,
    `subscribe` and `agency` whether it contains the literals those rules need (`PageLiterals`;
    None: not known, the rules look themselves); `candidates` its `head_rule_candidates`, when
    known."""
    if link_density > 0.6 and (
        (link_density > 0.8 and size < 30) or tag not in ("p", "h1", "h2", "h3", "blockquote", "li")
    ):
        return "navigation"
    rules = head_rule_candidates(text) if candidates is None else candidates
    plain = not rules and legal is False and subscribe is False and agency is False
    if plain and not _has_marks(text, size):
        return None  # most blocks: nothing that any rule below needs is there
    if agency is None:
        agency = AGENCY.search(text) is not None
    rule = head_rule(text, size, rules)
    if rule == "credit":
        if AGENCY.search(text[:80]) and not _RIGHTS.search(text):
            return "credit"  # "© Jason Reed-Pool/Getty Images": a photo credit, not a notice
        return "copyright" if _COPYRIGHT.search(text) and size < 80 else "credit"
    tail = text[-80:]
    if ":" in tail and _EXPLICIT_CREDIT_TAIL.search(tail):
        return "caption"  # "... compared to its equivalent. Credit: ESA"
    if agency and size <= _AGENCY_LARGEST and not ends_like_sentence(text):
        return "credit"  # "Natalie Naccache | Bloomberg | Getty Images", under a caption
    if size >= _LEGAL_LARGEST:
        return None
    if legal is not False:
        if _COPYRIGHT.search(text) and (size < 25 or _RIGHTS.search(text)):
            return "copyright"
        if _LEGAL.search(text):
            return "copyright"
    if rule is not None:
        return HEAD_REASONS[rule]
    if size <= _SHORT_LARGEST:
        reason = _short_block_reason(text, size, sentence, subscribe)
        if reason:
            return reason
    if size < _CAPTION_LARGEST and _caption_tail(text):
        return "caption"
    return None


def _short_block_reason(
    text: str, size: float, sentence: bool, subscribe: bool | None
) -> str | None:
    """Reasons that only a short block (at most 40 words) can have, besides the head rules."""
    prompt = subscribe is not False and size < _SUBSCRIBE_LARGEST and _SUBSCRIBE.search(text)
    if prompt and (not sentence or ends_like_sentence(text)):
        return "subscribe"
    if not sentence and _TICKER_GATE.search(text) and len(_TICKER_ITEM.findall(text)) >= 3:
        return "ticker"
    marked = "/" in text or ">" in text or "»" in text or "›" in text or "|" in text
    if marked and not ends_like_sentence(text) and len(_BREADCRUMB_SEP.findall(text)) >= 2:
        return "breadcrumb"
    return None


# --- HTML: class and id words of the block's containers ----------------------------------------


def _class_words(pattern: str) -> re.Pattern[str]:
    """A class/id word matched between any non-letters: class names join words with hyphens,
    underscores and digits ("sf_comment_text", "menu_item", "share2"), so `\\b` misses them."""
    return re.compile(rf"(?<![a-z])({pattern})(?![a-z])")


# HTML class/id words of the block or its ancestors that name page furniture. Only the last
# ancestors' words count (the nearest container decides: an article inside a "page-wrapper").
_HINTS = (
    ("comments", _class_words(r"comment(s|list|-list|_list|area|-area)?|disqus")),
    ("share", _class_words(r"(share|sharing|social)[\w-]*")),
    ("related", _class_words(r"(related|recommend(ed|ations)?|more-stories|read-more)[\w-]*")),
    ("ad", _class_words(r"advert\w*|ad-slot|ad-container|dfp|sponsor\w*|promo\w*")),
    ("subscribe", _class_words(r"(newsletter|subscri\w*|signup|sign-up)[\w-]*")),
    ("breadcrumb", _class_words(r"breadcrumbs?")),
    ("navigation", _class_words(r"nav|navbar|navigation|menu|site-header|masthead")),
    ("copyright", _class_words(r"site-footer|copyright")),
)


@lru_cache(maxsize=4096)
def hint_reason(hints: str) -> str | None:
    """The furniture an HTML block's class/id words name, or None."""
    words = hints.casefold()[-80:]
    for reason, pattern in _HINTS:
        if pattern.search(words):
            return reason
    return None


def clear_caches() -> None:
    """Forget memoised lookups (for honest speed measurements)."""
    _candidates_for_head.cache_clear()
    hint_reason.cache_clear()
