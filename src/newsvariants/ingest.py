"""Stage `ingest`: store captures in raw/, content-addressed, with validated metadata.

raw/ layout:
  captures.jsonl                   one capture record a line (schema/capture.schema.json), sorted
  captures/<sha[:2]>/<sha>.<ext>   the bytes, exactly as received (never rewritten)
  annotations/*.jsonl              human alignment annotations (schema/annotation.schema.json)
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import os
import re
import tempfile
import warnings
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio
from charset_normalizer.utils import iana_name

from newsvariants.errors import IngestError, RawStoreError, jsonl_lines, parse_json
from newsvariants.records import Capture
from newsvariants.schema import record_errors

CAPTURES_FILE = "captures.jsonl"
DEFAULT_RIGHTS = (
    "Text (c) the source outlet; redistributed for non-commercial research "
    "(text and data mining); removed on request."
)
FORMAT_EXTENSION = {"text": "txt", "html": "html"}
# No news page comes near it (the largest of the 61 extraction-dev pages: 1.5 MB of HTML, 57 KB
# as a dump); a file over it is something else (a whole site glued into one file, a data dump),
# and a build's memory grows ~80 times a one-line dump's size (6.8 MB: 0.9 GB peak; 60 MB: 5 GB).
MAX_CAPTURE_BYTES = 16 * 2**20


@dataclass(frozen=True)
class CaptureInput:
    """One capture to ingest: the bytes and what is known about them."""

    data: bytes
    origin: str  # file name (or file#record) for messages
    source: str
    captured_at: str | None
    url: str | None
    format: str
    encoding: str | None = None  # given by the user: overrides detection
    rights: str = DEFAULT_RIGHTS
    container: dict[str, str] | None = None
    note: str | None = None
    declared_charset: str | None = None  # the server's (HTTP Content-Type): a detection hint


@dataclass(frozen=True)
class IngestOutcome:
    capture: Capture
    origin: str
    added: bool  # False: the same bytes were already in raw/
    # (field, recorded value, value given) where the metadata given for bytes already in raw/
    # differs from their record: one capture has one record, so the given value is not applied
    differs: tuple[tuple[str, str | None, str | None], ...] = ()
    repaired: bool = False  # its stored file was missing or damaged and is written again
    recoded_from: str | None = None  # the encoding its record had before --encoding corrected it
    replaced: int = 0  # invalid UTF-8 sequences its text shows as U+FFFD (`decode_capture`)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
_LEADING_TAG = re.compile(rb"<(!--|[a-z][a-z0-9]*[\s>/])")


def sniff_format(data: bytes, suffix: str = "") -> str:
    """'warc', 'html' or 'text', from the leading bytes, and the file name's `suffix`: a page
    saved as .html that does not open with <html> (a fragment, a long comment first) is HTML
    too; stored as text, its markup was published as a paragraph."""
    head = data[:2]
    if head == b"\x1f\x8b":
        try:
            head_bytes = gzip.GzipFile(fileobj=io.BytesIO(data)).read(8)
        except (OSError, EOFError, zlib.error) as exc:  # zlib's and gzip's own, on bad data
            problem = f"gzip data that does not decompress (corrupt or cut short?): {exc}"
            raise IngestError(problem) from exc
        if head_bytes.startswith(b"WARC/"):
            return "warc"
        # a compressed page or dump: its bytes are not the capture's, and read as text they
        # only gave "cannot detect the character encoding"
        raise IngestError("gzip-compressed, and not a WARC file: decompress it first (gunzip)")
    if data.startswith(b"WARC/"):
        return "warc"
    sample = data[:4096]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: look at its characters
        sample = sample.decode("utf-16", errors="replace").encode("utf-8", errors="replace")
    sample = sample.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    markers = (b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml")
    if sample.startswith(markers) or b"<html" in sample[:1024]:
        return "html"
    if suffix.lower() in _HTML_SUFFIXES and (_LEADING_TAG.match(sample) or b"</" in sample):
        return "html"
    return "text"


def detect_encoding(data: bytes, declared: str | None = None) -> str:
    """The character encoding of a capture, in the order a browser settles it (WHATWG Encoding):
    a byte-order mark; UTF-8 when the bytes are valid UTF-8; the charset the server declared
    (`declared`: a WARC record's HTTP Content-Type) or, failing that, the page's <meta> tag;
    UTF-8 with a few invalid sequences (`_mostly_utf8`); else charset-normalizer's guess among
    the encodings a browser reads (`_web_encoding`). The ingest command prints it; `--encoding`
    overrides a wrong guess (on a short text in a legacy encoding, several decode cleanly and
    score alike)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf_8_sig"
    try:
        data.decode("utf-8")
        return "utf_8"
    except UnicodeDecodeError:
        pass
    found = _usable_charset(declared, data) if declared else None
    found = found or _declared_charset(data)
    if found:
        return found
    if _mostly_utf8(data, _VALID_PER_INVALID):
        return "utf_8"
    # only the encodings a browser reads are candidates: a short koi8-r text came out as
    # shift_jis_2004's half-width katakana ("桉ﾅﾛﾘ ﾖﾅ"), which no page on the web is in
    matches = from_bytes(data, cp_isolation=sorted(WEB_ENCODINGS))
    best = matches.best()
    if best is None:
        raise IngestError("cannot detect the character encoding (not text?)")
    return _web_encoding(matches) or best.encoding


def invalid_utf8_sequences(data: bytes) -> int:
    """How many invalid byte sequences UTF-8 decoding replaces by U+FFFD in `data` (the U+FFFD
    characters the bytes already encode are not counted)."""
    return _utf8_counts(data)[1]


def _utf8_counts(data: bytes) -> tuple[int, int]:
    """(valid non-ASCII characters, invalid sequences) of `data` read as UTF-8 with U+FFFD for
    each invalid sequence."""
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd") - data.count("\ufffd".encode())
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    return non_ascii - invalid, invalid


def _mostly_utf8(data: bytes, valid_per_invalid: int) -> bool:
    """True for UTF-8 with a few invalid sequences (at least `valid_per_invalid` valid non-ASCII
    characters for each): a page cut short inside a character, or one stray legacy byte pasted
    in. A legacy encoding's non-ASCII letters hardly ever form valid UTF-8 sequences (a lead
    byte must be followed by bytes of 0x80-0xBF, mostly punctuation there), so its invalid
    sequences outnumber the valid ones. Read with charset-normalizer's guess instead, a UTF-8
    page with one bad byte had all its quotes and accents garbled ("вАШ" for a curly quote)."""
    valid, invalid = _utf8_counts(data)
    return valid >= valid_per_invalid * invalid and valid > 0


# Valid non-ASCII characters per invalid sequence for bytes to be read as UTF-8 when nothing
# declares it: a cp1252 or cp1251 text has fewer valid sequences than invalid ones; 4 leaves a
# margin and still reads a page with one bad byte among four curly quotes. When the page, the
# server or the user says UTF-8, one is enough: the declaration is evidence too, and below that
# the page most likely lies about its charset (an ASCII page with a stray latin-1 "é").
_VALID_PER_INVALID = 4
_VALID_PER_INVALID_DECLARED = 1


# The legacy encodings a browser can read (WHATWG Encoding, https://encoding.spec.whatwg.org),
# spelt as charset-normalizer spells them. A page on the web is in one of them; DOS code pages
# (cp775, cp850, cp852) are not, though charset-normalizer may rank one first on a short text
# (German in windows-1252 came out as cp775's "erklõrte").
WEB_ENCODINGS = frozenset(
    [
        *("utf_8", "utf_16", "utf_16_be", "utf_16_le", "cp866", "koi8_r", "koi8_u"),
        *(f"iso8859_{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)),
        *(f"cp{n}" for n in (874, 1250, 1251, 1252, 1253, 1254, 1255, 1256, 1257, 1258)),
        *("mac_roman", "mac_cyrillic", "gbk", "gb18030", "big5", "euc_jp", "iso2022_jp"),
        *("shift_jis", "cp932", "euc_kr", "cp949"),
    ]
)


def _web_encoding(matches: Any) -> str | None:
    """The encoding of charset-normalizer's best guess that a browser could have read, or None
    (no candidate is one): among the candidates in web encodings that score as well as the first
    (the same chaos and coherence: Spanish "señor" read as cp1250's "seńor" ties with it), or
    that give the very same text (`could_be_from_charset`), windows-1252 (the legacy encoding
    browsers assume for most of the web); else the first one's. `--encoding` overrides."""
    web = [(m, _web_name(m)) for m in matches]
    web = [(m, name) for m, name in web if name is not None]
    if not web:
        return None
    first = web[0][0]
    tied = [name for m, name in web if (m.chaos, m.coherence) == (first.chaos, first.coherence)]
    return "cp1252" if "cp1252" in tied else tied[0]


def _web_name(match: Any) -> str | None:
    """windows-1252 if it gives this candidate's text, else the candidate's encoding or one that
    gives the same text, if a browser can read it; None when none can."""
    names = [match.encoding, *match.could_be_from_charset]
    if "cp1252" in names:
        return "cp1252"
    return next((name for name in names if name in WEB_ENCODINGS), None)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _declared_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in a <meta> tag, if usable (`_usable_charset`)."""
    match = _META_CHARSET.search(data[:4096])
    return _usable_charset(match.group(1).decode("ascii"), data) if match else None


def _usable_charset(label: str, data: bytes) -> str | None:
    """The encoding a declared charset `label` names, when a browser reads it and the bytes decode
    with it (the HTML standard puts a declaration before sniffing; a page that lies about it is
    sniffed). A declared UTF-8 is taken with a few invalid sequences (`_mostly_utf8`): a browser
    shows each as U+FFFD, and so does `decode_capture`."""
    try:
        codec = codecs.lookup(label)
    except LookupError:
        return None
    name = codec.name
    try:
        web_name = iana_name(name, strict=True)
    except ValueError:
        return None
    # a browser reads only the WHATWG encodings (and reads "latin-1"/"ascii" as windows-1252);
    # "hex", "rot13" or "unicode_escape" are Python codecs, not charsets a page can be in
    if web_name not in WEB_ENCODINGS and web_name not in ("latin_1", "ascii"):
        return None
    if web_name == "utf_8":
        return "utf_8" if _mostly_utf8(data, _VALID_PER_INVALID_DECLARED) else None
    # Browsers read a "latin-1" or "ascii" label as windows-1252 (WHATWG Encoding), and pages
    # so labelled use its curly quotes; plain latin-1 stays the fallback for its 5 unused bytes.
    for candidate in (_WHATWG_ALIAS.get(name), name):
        if candidate is None:
            continue
        try:
            text = data.decode(candidate)
        except (UnicodeError, LookupError):  # "undefined" raises UnicodeError, not ...DecodeError
            continue
        if implausible_reading(data, candidate, text):  # a page that lies (koi8-r for cp1251)
            continue
        return iana_name(candidate, strict=True)  # spelt as detected ones are: "koi8_r"
    return None


_WHATWG_ALIAS = {"iso8859-1": "cp1252", "ascii": "cp1252", "latin-1": "cp1252"}


def codec_name(encoding: str) -> str:
    """The name of a character encoding given by the user, spelt as detected ones are
    (charset-normalizer's: "windows-1252" -> "cp1252", "UTF-8" -> "utf_8")."""
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        codec = None
    if codec is None or not codec._is_text_encoding:  # "hex", "base64": not character encodings
        raise IngestError(f"unknown character encoding {encoding!r}")
    try:
        return iana_name(encoding, strict=True)
    except ValueError:  # a Python codec with no IANA name ("utf-8-sig": UTF-8 after a BOM)
        return codec.name.replace("-", "_")


# Characters no page shows: C0 and C1 controls other than tab and the line breaks, and U+FFFD (a
# byte sequence its encoding lacks). Real pages have next to none (the 61 extraction-dev pages,
# as HTML and as dumps, and the seeds: at most 1 in a page); binary data read as text is full of
# them (random bytes read as latin-1: a quarter of its characters; as UTF-8: over half).
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
NOT_TEXT_MOST = 16  # more than this many, and
NOT_TEXT_SHARE = 0.001  # more than this share of the characters: not text


def not_text(text: str) -> str | None:
    """Why decoded bytes are not text (binary data, or read in the wrong encoding), or None.
    Ingest refuses such bytes; a build quarantines a capture whose record lets them through (a
    declared charset that decodes any bytes, or a record written by hand)."""
    found = sum(1 for _ in _NOT_TEXT.finditer(text))
    if found > NOT_TEXT_MOST and found > NOT_TEXT_SHARE * len(text):
        return (
            f"not text: {found} control or replacement characters in {len(text)} "
            "(binary data, or another encoding?)"
        )
    return None


def reading_problem(data: bytes, encoding: str, text: str, fmt: str) -> str | None:
    """Why `text`, the bytes `data` of a capture in format `fmt` read as `encoding`, is not
    their text, or None: ingest refuses such a reading, a build quarantines a capture whose
    record gives one."""
    problem = not_text(text) or _nul_in_dump(text, fmt) or implausible_reading(data, encoding, text)
    return f"read as {encoding}, {problem}" if problem else None


def _nul_in_dump(text: str, fmt: str) -> str | None:
    """Why a text dump with a NUL character is not a page's text: a browser's copy of a page
    never holds one (an HTML page's NULs are rendered as U+FFFD, as a browser shows them), and
    in the corpus it would cut the text short for any reader of C strings."""
    at = text.find("\x00") if fmt == "text" else -1
    if at < 0:
        return None
    return f"NUL character at offset {at} of a text dump (binary data, or another encoding?)"


# charset-normalizer's "mess" of a reading (`mess_ratio`: accents and symbols out of place,
# scripts mixed inside words, unprintables), above which it rejects an encoding (its own
# default). Right readings of real pages stay far below it (the 61 extraction-dev pages, HTML
# and dumps: at most 0.027); wrong ones are far above (ASCII read as UTF-16: 0.9-2.2; Russian
# UTF-8 read as koi8-r: 2.7; as EBCDIC: 5.2).
MESS_MOST = 0.2


def implausible_reading(data: bytes, encoding: str, text: str) -> str | None:
    """Why `text`, the bytes `data` read as `encoding` (a legacy one given by the user or a
    record, or declared by the page), is not what the bytes say, or None.

    Two kinds of evidence that hold for any page: bytes with non-ASCII characters that are all
    valid UTF-8 are UTF-8 (a legacy text's accented letters next to never form UTF-8 sequences;
    read as cp1252 they are mojibake, "prÃ©sident"); and a reading charset-normalizer finds a
    mess (`MESS_MOST`). UTF-8 readings are checked by their invalid sequences instead."""
    if is_utf8(encoding):
        return None
    valid, invalid = _utf8_counts(data)
    if valid and not invalid:
        return (
            f"mojibake ({_first_non_ascii(text)!r}): the bytes "
            f"are valid UTF-8 with {valid} non-ASCII character(s) (read them as utf-8)"
        )
    ratio = mess_ratio(text, MESS_MOST)
    if ratio >= MESS_MOST:
        return (
            f"garbled text (charset-normalizer's mess ratio >= {MESS_MOST}: symbols and "
            "scripts out of place; another encoding?)"
        )
    return None


def _utf16_hint(data: bytes) -> str:
    """A hint to give --encoding when `data` looks like UTF-16 without a byte-order mark (ASCII
    letters in it have a NUL byte beside each: after it in little-endian, before it in
    big-endian), else ""."""
    even, odd = data[0::2].count(0), data[1::2].count(0)
    half = len(data) // 2
    if half and max(even, odd) > 0.3 * half and min(even, odd) < 0.01 * half:
        name = "utf-16-le" if odd > even else "utf-16-be"
        return f" (it looks like {name} without a byte-order mark: give --encoding {name})"
    return ""


def _first_non_ascii(text: str, around: int = 12) -> str:
    """The first non-ASCII character of `text` with up to `around` characters either side."""
    at = next((i for i, char in enumerate(text) if not char.isascii()), 0)
    return text[max(0, at - around) : at + around]


def decode_capture(data: bytes, encoding: str) -> str:
    """Decoded bytes, newlines unified: a text dump's offsets index this; an HTML capture's
    index its rendering of this (`extract.text_of_capture` gives either).

    UTF-8 is decoded as a browser decodes it (WHATWG Encoding): each invalid sequence (its
    maximal subpart, as Python's "replace" takes it) becomes one U+FFFD, so one bad byte costs
    one character, not the page. Other encodings decode strictly: ingest refuses bytes they do
    not decode."""
    errors = "replace" if is_utf8(encoding) else "strict"
    text = data.decode(encoding, errors=errors)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def is_utf8(encoding: str) -> bool:
    """True when `encoding` names UTF-8 (with or without a byte-order mark)."""
    try:
        return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    except LookupError:
        return False


def capture_record(item: CaptureInput) -> Capture:
    digest = sha256_bytes(item.data)
    try:
        encoding = (
            codec_name(item.encoding)
            if item.encoding
            else detect_encoding(item.data, item.declared_charset)
        )
    except IngestError as exc:
        raise IngestError(f"{item.origin}: {exc}") from exc
    try:
        text = decode_capture(item.data, encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise IngestError(f"{item.origin}: bytes do not decode as {encoding}: {exc}") from exc
    problem = reading_problem(item.data, encoding, text, item.format)
    if problem:
        hint = "" if item.encoding else _utf16_hint(item.data)
        raise IngestError(f"{item.origin}: {problem}{hint}")
    bad = invalid_utf8_sequences(item.data) if is_utf8(encoding) else 0
    if bad and not _mostly_utf8(item.data, _VALID_PER_INVALID_DECLARED):
        # decodable with U+FFFD, but more of it would be U+FFFD than text
        raise IngestError(
            f"{item.origin}: bytes do not decode as {encoding}: {bad} invalid byte "
            "sequence(s), more than its valid non-ASCII characters (another encoding?)"
        )
    return Capture(
        capture_id=digest[:16],
        sha256=digest,
        path=capture_path(digest, item.format),
        source=item.source,
        url=item.url,
        captured_at=item.captured_at,
        format=item.format,
        encoding=encoding,
        bytes=len(item.data),
        rights=item.rights,
        container=item.container,
        note=item.note,
    )


def capture_path(sha256: str, fmt: str) -> str:
    """Where raw/ stores the bytes of a capture: under their SHA-256, with the format's ending."""
    return f"captures/{sha256[:2]}/{sha256}.{FORMAT_EXTENSION.get(fmt, 'bin')}"


# The web went public in 1991: a page captured before is a typo ("0001-01-01", "1024-05-01").
FIRST_CAPTURE_YEAR = 1991


def captured_at_error(value: str | None) -> str | None:
    """Why a captured_at that matches the schema's pattern is still no capture date, or None:
    a date that does not exist ("2024-13-45": the pattern fixes the shape, only the calendar
    says whether the date exists) or one before the web. Dates after today are refused at
    ingest (`future_capture_error`), not here: a build's verdict must not depend on the day."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return f"captured_at {value!r} is not a date that exists"
    if when.year < FIRST_CAPTURE_YEAR:
        return f"captured_at {value!r} is before the web ({FIRST_CAPTURE_YEAR}): a typo?"
    return None


def future_capture_error(value: str | None, today: date) -> str | None:
    """Why a captured_at is after `today` (the day ingest runs; a day's grace for time zones
    ahead of UTC), or None: a page cannot be captured in the future ("2999-05-01")."""
    if value is None or captured_at_error(value):
        return None
    if datetime.fromisoformat(value).date() > today + timedelta(days=1):
        return f"captured_at {value!r} is in the future (today is {today.isoformat()}): a typo?"
    return None


def capture_errors(record: dict[str, Any]) -> list[str]:
    """What is wrong with one capture record: its schema, then what the schema cannot say (the
    identifier and path follow from the SHA-256, the date exists)."""
    problems = record_errors("capture", record)
    if problems:
        return problems
    sha = record["sha256"]
    if record["capture_id"] != sha[:16]:
        problems.append(f"capture_id {record['capture_id']} is not the first 16 digits of sha256")
    if record["path"] != capture_path(sha, record["format"]):
        problems.append(f"path {record['path']} is not {capture_path(sha, record['format'])}")
    date_problem = captured_at_error(record["captured_at"])
    if date_problem:
        problems.append(date_problem)
    return problems


def read_capture_records(raw: Path) -> list[Capture]:
    """Parse and check raw/captures.jsonl (without touching the bytes): each record against the
    schema and `capture_errors`, and each capture once (a second record of the same bytes would
    make one of the two disappear from the corpus, or settle conflicting metadata silently)."""
    path = raw / CAPTURES_FILE
    if not path.exists():
        return []
    captures = []
    line_of: dict[str, int] = {}
    for number, line in enumerate(jsonl_lines(path, RawStoreError), start=1):
        if not line.strip():
            continue
        try:
            record = parse_json(line)
        except ValueError as exc:
            raise RawStoreError(f"{path}:{number}: {exc}") from exc
        problems = capture_errors(record) if isinstance(record, dict) else ["not a JSON object"]
        if problems:
            raise RawStoreError(f"{path}:{number}: {'; '.join(problems)}")
        first = line_of.setdefault(record["capture_id"], number)
        if first != number:
            raise RawStoreError(
                f"{path}:{number}: capture {record['capture_id']} is already recorded on line "
                f"{first} (one record a capture)"
            )
        captures.append(Capture(**record))
    return captures


def verify_capture(raw: Path, capture: Capture) -> bytes:
    """The capture's bytes, after checking they still hash to its sha256.

    A build reads every capture four times (ingest, template scan, extraction, validation): the
    path is joined as a string and opened without a stat first, ~26 us a capture where pathlib's
    join, `is_file` and `read_bytes` took ~51 us (warm page cache, measured)."""
    path = os.path.join(raw, capture.path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise RawStoreError(f"{path}: missing (capture {capture.capture_id})") from None
    if sha256_bytes(data) != capture.sha256:
        raise RawStoreError(
            f"{path}: SHA-256 mismatch (capture {capture.capture_id}): raw files must never change"
        )
    if len(data) != capture.bytes:  # the record is wrong, not the bytes (they hash right)
        raise RawStoreError(
            f"{path}: {len(data)} bytes, but its record in {CAPTURES_FILE} says {capture.bytes} "
            f"(capture {capture.capture_id})"
        )
    return data


def load_captures(raw: Path) -> list[Capture]:
    """All capture records of raw/, each verified against its bytes, sorted by capture_id.

    A raw/ without its captures.jsonl is an error here (ingest starts one): a build from a
    mistyped --raw would otherwise retire every story and publish an empty corpus."""
    if not (raw / CAPTURES_FILE).is_file():
        where = "no such folder" if not raw.is_dir() else f"it holds no {CAPTURES_FILE}"
        raise RawStoreError(f"{raw}: not a raw/ folder ({where}); `newsvariants ingest` makes one")
    captures = read_capture_records(raw)
    for capture in captures:
        verify_capture(raw, capture)
    unrecorded = unrecorded_capture_files(raw, captures)
    if unrecorded:
        shown = ", ".join(unrecorded[:5]) + (
            f" and {len(unrecorded) - 5} more" if unrecorded[5:] else ""
        )
        raise RawStoreError(
            f"{raw}: {len(unrecorded)} file(s) under captures/ that no record of {CAPTURES_FILE} "
            f"names: {shown} (a copy made by hand, or an ingest that was killed: "
            "`newsvariants ingest` them, or remove them)"
        )
    return sorted(captures, key=lambda c: c.capture_id)


def records_sha256(raw: Path) -> str:
    """SHA-256 of raw/captures.jsonl (of nothing, when there is none): the corpus's MANIFEST
    records it as `inputs.raw_manifest_sha256`, and validate compares the two."""
    path = raw / CAPTURES_FILE
    return hashlib.sha256(path.read_bytes() if path.exists() else b"").hexdigest()


def unrecorded_capture_files(raw: Path, captures: Iterable[Capture]) -> list[str]:
    """Paths (relative to raw/) of the files under raw/captures that no capture record names,
    sorted: the build reads only recorded captures, so such a file would be left out of the
    corpus without a word. A `.tmp-` file is a write that was cut short, not a capture."""
    root = raw / "captures"
    recorded = {c.path for c in captures}
    found = []
    # Paths as strings: os.walk's folders all start with `root` as given, so the relative path
    # is a slice (pathlib's join and relative_to cost ~25 us a file, ~0.25 s at 10k captures).
    prefix = len(str(root))
    for folder, _, names in os.walk(root):
        inner = "captures" + folder[prefix:].replace(os.sep, "/") + "/"
        for name in names:
            path = inner + name
            if not name.startswith(".tmp-") and path not in recorded:
                found.append(path)
    return sorted(found)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_records(raw: Path, captures: Iterable[Capture]) -> None:
    ordered = sorted(captures, key=lambda c: c.capture_id)
    lines = "".join(
        json.dumps(c.to_dict(), ensure_ascii=False, sort_keys=False) + "\n" for c in ordered
    )
    _atomic_write(raw / CAPTURES_FILE, lines.encode("utf-8"))


_RECORDED_METADATA = ("source", "url", "captured_at")


def ingest(
    items: Iterable[CaptureInput], raw: Path, today: date | None = None
) -> list[IngestOutcome]:
    """Store captures in raw/. All records are built and validated before anything is written.

    Bytes already in raw/ keep their record (one capture, one record: the first source, URL and
    date stay; `IngestOutcome.differs` tells what was given otherwise), except for an encoding
    given explicitly: the encoding is a fact of the bytes, not of the capture, and `--encoding`
    is the way to correct a wrong guess, so it replaces the recorded one. A capture dated after
    `today` (default: the UTC day now) is refused."""
    today = today or datetime.now(UTC).date()
    records = {c.sha256: c for c in read_capture_records(raw)}
    outcomes: list[IngestOutcome] = []
    added: dict[str, bytes] = {}
    rewrite = False
    for item in items:
        if item.format not in FORMAT_EXTENSION:
            raise IngestError(f"{item.origin}: format must be text or html, got {item.format!r}")
        capture = capture_record(item)
        future = future_capture_error(capture.captured_at, today)
        problems = capture_errors(capture.to_dict()) + ([future] if future else [])
        if problems:
            raise IngestError(f"{item.origin}: invalid metadata: {'; '.join(problems)}")
        known = records.get(capture.sha256)
        if known is None:
            records[capture.sha256] = capture
            added[capture.sha256] = item.data
            replaced = _replaced(item, capture.encoding)
            outcomes.append(IngestOutcome(capture, item.origin, True, replaced=replaced))
            continue
        recoded_from = None
        if item.encoding is not None and capture.encoding != known.encoding:
            recoded_from = known.encoding
            known = records[capture.sha256] = replace(known, encoding=capture.encoding)
            rewrite = True
        outcome = IngestOutcome(
            known,
            item.origin,
            added=False,
            differs=_differs(known, capture),
            repaired=capture.sha256 not in added
            and _repair_stored(raw / known.path, known.sha256, item.data),
            recoded_from=recoded_from,
            replaced=_replaced(item, known.encoding),
        )
        outcomes.append(outcome)
    for sha256, data in added.items():
        _repair_stored(raw / records[sha256].path, sha256, data)
    if added or rewrite:
        _write_records(raw, records.values())
    return outcomes


def _differs(known: Capture, given: Capture) -> tuple[tuple[str, str | None, str | None], ...]:
    """(field, recorded value, value given) for the metadata given otherwise than recorded."""
    return tuple(
        (name, getattr(known, name), getattr(given, name))
        for name in _RECORDED_METADATA
        if getattr(given, name) is not None and getattr(given, name) != getattr(known, name)
    )


def _replaced(item: CaptureInput, encoding: str) -> int:
    """How many invalid sequences of the item's bytes its text shows as U+FFFD."""
    return invalid_utf8_sequences(item.data) if is_utf8(encoding) else 0


def _repair_stored(target: Path, sha256: str, data: bytes) -> bool:
    """Write `data` (whose SHA-256 is `sha256`) at `target` unless the right bytes are there; True
    if it wrote. A file already there was trusted by its name alone, so a truncated or foreign
    file under a capture's path stayed, and every build then failed on its hash."""
    if target.is_file() and sha256_bytes(target.read_bytes()) == sha256:
        return False
    _atomic_write(target, data)
    return True


@dataclass(frozen=True)
class WarcPage:
    """The HTML page of one WARC response record."""

    payload: bytes
    url: str | None  # WARC-Target-URI
    date: str | None  # WARC-Date
    record_id: str  # WARC-Record-ID
    charset: str | None  # from the HTTP Content-Type, if the server declared one


# Record types that never hold a page: the crawl's own bookkeeping and the requests sent.
_NOT_PAGES = frozenset({"warcinfo", "request", "metadata"})


def iter_warc_html(
    data: bytes,
    origin: str,
    skipped: Counter[str] | None = None,
    skip_bad_records: bool = False,
) -> Iterator[WarcPage]:
    """The HTML page of every response record of a WARC file that the server answered with a
        2xx status. The records passed over that could hold a page are counted in `skipped` by why
        (a 404 page or a redirect is no article; an image is no page; a revisit has no payload; a
        resource or conversion record is not what the server sent).

        A damaged file (a record cut short, bytes that do not read as a record, a page whose bytes
        fail their digest header) is refused, naming the record or the byte offset; with
        `skip_bad_records`, its damaged parts are counted in `skipped` instead, each with its byte
        range, and reading goes on at the next record that starts after them (a crawl's WARC files
        are large, and one bad record in one of them should
    not cost the thousands of good ones around it)."""
    skipped = Counter() if skipped is None else skipped
    records = 0
    start: int | None = 0
    while start is not None:
        reader = _WarcReader(data, start, origin, skipped, skip_bad_records)
        try:
            yield from reader.pages()
            start = None
        except IngestError:
            raise
        except Exception as exc:  # warcio raises several unrelated types on corrupt input
            where = reader.record_start
            if not skip_bad_records:
                raise IngestError(
                    f"{origin}: not a readable WARC file: at byte {where}: {_first_line(exc)} "
                    "(--skip-bad-records ingests the readable records and reports the rest)"
                ) from exc
            start = _next_record_start(data, where)
            end = len(data) if start is None else start
            skipped[f"unreadable bytes {where}-{end} ({_first_line(exc)})"] += 1
        records += reader.records
    if records == 0:  # warcio accepts some garbage that starts "WARC/" as one untyped record
        raise IngestError(f"{origin}: not a readable WARC file: no records in it")


class _WarcReader:
    """warcio's reading of a WARC file from byte `start` on, keeping the count of records read
    and, should reading fail, where the record being read begins."""

    def __init__(
        self, data: bytes, start: int, origin: str, skipped: Counter[str], skip_bad: bool
    ) -> None:
        from warcio.archiveiterator import ArchiveIterator

        self.data, self.start, self.origin = data, start, origin
        self.skipped, self.skip_bad = skipped, skip_bad
        self.records = 0
        # check_digests: a record's bytes against its WARC-Block/Payload-Digest headers (where it
        # has them), so a damaged record, or one that swallowed the next, is not stored as a page
        self.iterator = ArchiveIterator(io.BytesIO(memoryview(data)[start:]), check_digests=True)
        self.iterator.loader = _target_tolerant_loader()

    @property
    def record_start(self) -> int:
        # warcio's offset: where the record being read (or about to be) begins
        return self.start + self.iterator.offset

    def pages(self) -> Iterator[WarcPage]:
        for record in self.iterator:
            # what warcio makes of a header block cut short, or damaged: without its length,
            # where the record ends (and the next begins) is a guess, and the page would run on
            if record.rec_type is None or record.rec_headers.get_header("Content-Length") is None:
                raise ValueError(
                    "a record without its WARC-Type or Content-Length header (damaged or cut short)"
                )
            self.records += 1
            page = self._page_of(record)
            if page is not None:
                yield page
        # warcio ends quietly where a gzip member or a record header is cut short: the bytes
        # after the last record it read would be lost without a word
        if self.data[self.record_start :].strip():
            raise ValueError("the file ends inside a record (a truncated file?)")

    def _page_of(self, record: Any) -> WarcPage | None:
        why = self._not_a_page(record)
        payload = record.content_stream().read() if why is None else b""
        if why is not None:  # read to its end all the same, to see it is whole
            while record.raw_stream.read(1 << 16):
                pass
        damaged = _cut_short(record, self.origin, self.skip_bad)
        if damaged is None and why is None:
            # the digest only of a page to store: a record passed over may have been read
            # without its HTTP headers (no target URI), which its payload digest does not cover
            damaged = _digest_failed(record, self.origin, self.skip_bad)
        if len(payload) > MAX_CAPTURE_BYTES:
            why = f"larger than {MAX_CAPTURE_BYTES // 2**20} MiB (not one page)"
        why = damaged or why or (None if payload else "empty payload")
        if why is not None:
            if damaged or record.rec_type not in _NOT_PAGES:
                self.skipped[why] += 1
            return None
        return WarcPage(
            payload=payload,
            url=record.rec_headers.get_header("WARC-Target-URI"),
            date=record.rec_headers.get_header("WARC-Date"),
            record_id=record.rec_headers.get_header("WARC-Record-ID"),
            charset=_http_charset(record.http_headers.get_header("Content-Type")),
        )

    @staticmethod
    def _not_a_page(record: Any) -> str | None:
        if record.rec_type != "response":
            return _NOT_A_RESPONSE.get(record.rec_type, f"{record.rec_type} record")
        if not record.rec_headers.get_header("WARC-Target-URI"):
            return "no WARC-Target-URI (the page's URL)"
        return _not_a_page(record.http_headers)


def _next_record_start(data: bytes, damaged_at: int) -> int | None:
    """Where the next record may start after a damaged one at `damaged_at`: the next gzip member
    in a .warc.gz (the format compresses each record on its own), the next line beginning
    "WARC/1." in a plain WARC; None when there is none. A false start (those bytes inside a
    page) reads as damaged in turn, and the search goes on from there."""
    if data[:2] == b"\x1f\x8b":
        found = data.find(b"\x1f\x8b\x08", damaged_at + 1)
        return None if found < 0 else found
    found = data.find(b"\nWARC/1.", damaged_at + 1)
    return None if found < 0 else found + 1


def _first_line(exc: Exception) -> str:
    """An exception's message, its first line and at most 80 characters (warcio's messages quote
    the damaged bytes)."""
    line = (str(exc).splitlines() or [type(exc).__name__])[0]
    return line if len(line) <= 80 else line[:79] + "…"


def _target_tolerant_loader() -> Any:
    """warcio's record loader, except that a record without `WARC-Target-URI` is read (without
    HTTP headers) instead of failing the whole file.

    Why: warcio tests the target URI's scheme before parsing HTTP headers and fails on a missing
    one with an AttributeError, which ends the iteration: one malformed response record made the
    whole WARC unreadable, with "'NoneType' object has no attribute 'startswith'" for a reason.
    The record is counted as skipped instead (the WARC standard requires the header on every
    response, and a capture without its URL has no provenance to give)."""
    from warcio.recordloader import ArcWarcRecordLoader

    class TargetTolerantLoader(ArcWarcRecordLoader):
        def load_http_headers(self, rec_type: Any, uri: Any, stream: Any, length: Any) -> Any:
            if uri is None:
                return None
            return super().load_http_headers(rec_type, uri, stream, length)

    return TargetTolerantLoader()


_NOT_A_RESPONSE = {
    "revisit": "revisit (no payload)",
    "resource": "resource record (not an HTTP response)",
    "conversion": "conversion record (not an HTTP response)",
    "continuation": "continuation record (segmented records are not read)",
}
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)


def _http_charset(content_type: str | None) -> str | None:
    """The charset parameter of an HTTP Content-Type header, or None."""
    match = _HTTP_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def _not_a_page(http_headers: Any) -> str | None:
    """Why a response record holds no page to ingest (no HTTP headers, a status other than 2xx,
    a content type other than HTML), or None."""
    if http_headers is None:
        return "no HTTP headers"
    status = http_headers.get_statuscode() or ""
    if not status.startswith("2"):
        return f"HTTP status {status or 'missing'}"
    content_type = (http_headers.get_header("Content-Type") or "").lower()
    if "html" not in content_type:
        return f"not HTML ({content_type.split(';')[0].strip() or 'no content type'})"
    return None


def _cut_short(record: Any, origin: str, skip: bool) -> str | None:
    """A record whose bytes end before its Content-Length (a cut-short file: warcio then yields
    what there is) is refused: stored, its partial page would become a partial variant. With
    `skip`, why it is passed over, for the count of skipped records; None if it is whole."""
    missing = getattr(record.raw_stream, "limit", 0)  # warcio's LimitReader: bytes not read
    if not missing:
        return None
    if skip:
        return "record cut short (a truncated file?)"
    record_id = record.rec_headers.get_header("WARC-Record-ID")
    raise IngestError(
        f"{origin}#{record_id}: record cut short: {missing} of its {record.length} bytes "
        "are missing (a truncated WARC file? --skip-bad-records ingests the whole records)"
    )


def _digest_failed(record: Any, origin: str, skip: bool) -> str | None:
    """A record whose bytes do not hash to the digest its headers give (damaged in storage, or
    run into the next record when its length was wrong) is refused; with `skip`, why it is passed
    over. None when it has no digest to check or passes."""
    checker = getattr(record, "digest_checker", None)
    if checker is None or checker.passed is not False:
        return None
    if skip:
        return "digest mismatch (a damaged record)"
    record_id = record.rec_headers.get_header("WARC-Record-ID")
    raise IngestError(
        f"{origin}#{record_id}: its bytes do not match its digest header ({checker.problems[0]}): "
        "a damaged record (--skip-bad-records ingests the others)"
    )


def skipped_notice(origin: str, skipped: Counter[str]) -> str | None:
    """One line on the records of a WARC file that could hold a page and gave no capture, or
    None."""
    if not skipped:
        return None
    reasons = ", ".join(f"{count} {why}" for why, count in sorted(skipped.items()))
    return f"{origin}: {sum(skipped.values())} record(s) not ingested: {reasons}"


def source_from_url(url: str | None) -> str | None:
    if not url:
        return None
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.") or None


def warc_inputs(
    data: bytes,
    origin: str,
    source: str | None,
    rights: str,
    notice: Callable[[str], None] | None = None,
    skip_bad_records: bool = False,
) -> Iterator[CaptureInput]:
    """One CaptureInput per HTML response record of a WARC file; the records passed over (and,
    with `skip_bad_records`, the damaged parts) are told to `notice` in one line (by default a
    warning)."""
    warc_sha = sha256_bytes(data)
    skipped: Counter[str] = Counter()
    for page in iter_warc_html(data, origin, skipped, skip_bad_records):
        record_source = source or source_from_url(page.url)
        if not record_source:
            raise IngestError(
                f"{origin}#{page.record_id}: no --source and no host in the target URI"
            )
        yield CaptureInput(
            data=page.payload,
            origin=f"{origin}#{page.record_id}",
            source=record_source,
            captured_at=page.date,
            url=page.url,
            format="html",
            rights=rights,
            container={"warc_sha256": warc_sha, "record_id": page.record_id},
            note="HTML response record of a WARC file; url and captured_at from its WARC headers.",
            declared_charset=page.charset,
        )
    told = skipped_notice(origin, skipped)
    if told is not None:
        (notice or _warn)(told)


def _warn(message: str) -> None:
    warnings.warn(message, stacklevel=3)


def read_input_file(path: Path, fmt: str | None = None) -> tuple[bytes, str]:
    """The bytes of a file given to ingest (or extract) and its format, as given or sniffed;
    errors name the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path}: cannot read: {exc.strerror}") from exc
    if not data:
        raise IngestError(f"{path}: empty file")
    try:
        sniffed = sniff_format(data, path.suffix)
    except IngestError as exc:
        raise IngestError(f"{path}: {exc}") from exc
    if fmt == "warc" and sniffed != "warc":
        # warcio would read it as an ARC file, or as one untyped record of garbage
        raise IngestError(f"{path}: not a WARC file (it does not start with 'WARC/')")
    fmt = fmt or sniffed
    if fmt != "warc" and len(data) > MAX_CAPTURE_BYTES:
        raise IngestError(
            f"{path}: {len(data)} bytes, more than any news page "
            f"({MAX_CAPTURE_BYTES // 2**20} MiB): not one page's capture"
        )
    return data, fmt


def file_inputs(
    path: Path,
    *,
    source: str | None,
    captured_at: str | None,
    url: str | None,
    fmt: str | None,
    rights: str = DEFAULT_RIGHTS,
    note: str | None = None,
    source_given_as: str = "--source",
    notice: Callable[[str], None] | None = None,
    encoding: str | None = None,
    skip_bad_records: bool = False,
) -> list[CaptureInput]:
    """The captures in one file (a WARC file gives one per HTML response).

    `source_given_as` names where a missing source should have come from in the error (the CLI
    option, or a manifest's field); `notice` hears of a WARC file's records passed over.
    `encoding` overrides the detected one (charset-normalizer's guess between close legacy
    encodings, cp1250 or cp1252, can be wrong; the user may know); not for a WARC file, whose
    records declare their own. `skip_bad_records`: a damaged WARC file gives its readable
    records (see `iter_warc_html`)."""
    data, fmt = read_input_file(path, fmt)
    if fmt == "warc":
        # each record has its own URL, date and charset in its headers: one value given for the
        # whole file would be wrong for all records but one, and ignoring it would be silent
        given = {"encoding": encoding, "url": url, "captured_at": captured_at, "note": note}
        named = [name for name, value in given.items() if value is not None]
        if named:
            raise IngestError(
                f"{path}: {', '.join(named)} cannot be given for a WARC file (each record's "
                "headers give its own)"
            )
        return list(warc_inputs(data, str(path), source, rights, notice, skip_bad_records))
    if not source:
        raise IngestError(f"{path}: {source_given_as} is required for {fmt} captures")
    return [
        CaptureInput(
            data=data,
            origin=str(path),
            source=source,
            captured_at=captured_at,
            url=url,
            format=fmt,
            encoding=encoding,
            rights=rights,
            note=note,
        )
    ]


MANIFEST_FIELDS = {"path", "source", "captured_at", "url", "format", "encoding", "rights", "note"}


def manifest_inputs(
    manifest: Path,
    notice: Callable[[str], None] | None = None,
    skip_bad_records: bool = False,
) -> list[CaptureInput]:
    """Captures listed in a JSONL manifest (paths relative to it).

    Errors name the manifest line and the field; `notice` and `skip_bad_records` as for
    `file_inputs`."""
    try:
        lines = jsonl_lines(manifest, IngestError)
    except OSError as exc:
        raise IngestError(f"{manifest}: cannot read: {exc.strerror}") from exc
    items: list[CaptureInput] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{manifest}:{number}"
        try:
            entry: dict[str, Any] = parse_json(line)
        except ValueError as exc:
            raise IngestError(f"{where}: {exc}") from exc
        if not isinstance(entry, dict):
            raise IngestError(f"{where}: expected a JSON object")
        unknown = sorted(set(entry) - MANIFEST_FIELDS)
        if unknown:
            raise IngestError(f"{where}: unknown field(s) {', '.join(unknown)}")
        if not isinstance(entry.get("path"), str):
            raise IngestError(
                f"{where}: field 'path' is required (a path relative to the manifest)"
            )
        not_text = sorted(k for k, v in entry.items() if v is not None and not isinstance(v, str))
        if not_text:
            raise IngestError(f"{where}: field(s) {', '.join(not_text)} must be strings")
        try:
            found = file_inputs(
                manifest.parent / entry["path"],
                source=entry.get("source"),
                captured_at=entry.get("captured_at"),
                url=entry.get("url"),
                fmt=entry.get("format"),
                rights=entry.get("rights", DEFAULT_RIGHTS),
                note=entry.get("note"),
                source_given_as="field 'source'",
                notice=notice,
                encoding=entry.get("encoding"),
                skip_bad_records=skip_bad_records,
            )
            for item in found:
                problems = capture_errors(capture_record(item).to_dict())
                if problems:
                    raise IngestError("; ".join(problems))
        except IngestError as exc:
            raise IngestError(f"{where}: {exc}") from exc
        items.extend(found)
    return items


def capture_text(raw: Path, capture: Capture) -> str:
    """The decoded text of a capture (after verifying its bytes)."""
    return decode_capture(verify_capture(raw, capture), capture.encoding)
