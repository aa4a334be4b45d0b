"""WARC ingest (one capture per HTML response record) and character encodings: legacy encodings
decoded and recorded, mojibake repaired only in the comparison form."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsvariants.cli import app
from newsvariants.errors import IngestError
from newsvariants.extract import extract_capture, extract_text_dump, text_of_capture
from newsvariants.ingest import (
    capture_record,
    capture_text,
    decode_capture,
    detect_encoding,
    file_inputs,
    ingest,
    invalid_utf8_sequences,
    iter_warc_html,
    sniff_format,
    warc_inputs,
)
from newsvariants.normalize import comparison_form, fold
from newsvariants.records import Capture

ARTICLE_HTML = (
    "<html><head><title>{title}</title></head><body><h1>{title}</h1>"
    "<p>{title} was announced on Monday by the regional council after a long public debate.</p>"
    "<p>Residents said the decision would change how they travel to work every single day.</p>"
    "</body></html>"
)
RUSSIAN = (
    "Министр иностранных дел России Сергей Лавров заявил в четверг, что любое военное "
    "присутствие НАТО в Центральной Азии подорвёт безопасность региона.\n\n"
    "Он добавил, что существование западных военных объектов противоречило бы интересам "
    "Организации Договора о коллективной безопасности.\n"
)


def _response(writer: WARCWriter, url: str, date: str, body: bytes, content_type: str) -> None:
    http = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
    record = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(body),
        http_headers=http,
        warc_headers_dict={"WARC-Date": date},
    )
    writer.write_record(record)


def build_warc(gzip: bool = True) -> bytes:
    """A WARC with two HTML responses, an image response and a request record."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gzip)
    _response(
        writer,
        "https://www.example.org/news/bridge",
        "2025-02-01T10:00:00Z",
        ARTICLE_HTML.format(title="The new bridge").encode("utf-8"),
        "text/html; charset=utf-8",
    )
    _response(
        writer, "https://www.example.org/logo.png", "2025-02-01T10:00:01Z", b"\x89PNG", "image/png"
    )
    request = writer.create_warc_record(
        "https://www.example.org/news/bridge",
        "request",
        payload=io.BytesIO(b"GET /news/bridge HTTP/1.1\r\nHost: www.example.org\r\n\r\n"),
        warc_headers_dict={"WARC-Date": "2025-02-01T10:00:00Z"},
    )
    writer.write_record(request)
    _response(
        writer,
        "https://news.example.com/2025/ferry",
        "2025-02-02T08:30:00Z",
        ARTICLE_HTML.format(title="The ferry timetable").encode("utf-8"),
        "text/html",
    )
    return buffer.getvalue()


@pytest.mark.parametrize("gzip", [True, False])
def test_warc_gives_one_capture_per_html_response(gzip: bool) -> None:
    data = build_warc(gzip)
    assert sniff_format(data) == "warc"
    records = list(iter_warc_html(data, "test.warc"))
    assert [(page.url, page.date) for page in records] == [
        ("https://www.example.org/news/bridge", "2025-02-01T10:00:00Z"),
        ("https://news.example.com/2025/ferry", "2025-02-02T08:30:00Z"),
    ]
    assert records[0].payload.startswith(b"<html>")  # the HTTP payload, without its headers
    with pytest.warns(UserWarning, match=r"test\.warc: 1 record\(s\) not ingested"):
        inputs = list(warc_inputs(data, "test.warc", None, "rights"))  # the image: said so
    assert [(i.url, i.captured_at, i.source, i.format) for i in inputs] == [
        ("https://www.example.org/news/bridge", "2025-02-01T10:00:00Z", "example.org", "html"),
        ("https://news.example.com/2025/ferry", "2025-02-02T08:30:00Z", "news.example.com", "html"),
    ]
    assert all(i.container and i.container["record_id"] for i in inputs)


def test_warc_file_is_ingested_and_extracted(tmp_path: Path) -> None:
    warc = tmp_path / "crawl.warc.gz"
    warc.write_bytes(build_warc())
    with pytest.warns(UserWarning, match=r"1 not HTML \(image/png\)"):
        items = file_inputs(warc, source=None, captured_at=None, url=None, fmt=None)
    outcomes = ingest(items, tmp_path / "raw")
    assert len(outcomes) == 2 and all(o.added for o in outcomes)
    capture = outcomes[0].capture
    assert capture.format == "html" and capture.url == "https://www.example.org/news/bridge"
    data = (tmp_path / "raw" / capture.path).read_bytes()
    ex = extract_capture(capture, data)
    assert ex.title == "The new bridge"
    assert [p.text[:30] for p in ex.paragraphs] == [
        "The new bridge was announced o",
        "Residents said the decision wo",
    ]
    text = text_of_capture(capture, data)
    assert all(text[p.start : p.end] == p.text for p in ex.paragraphs)


def test_unreadable_warc_is_an_ingest_error() -> None:
    with pytest.raises(IngestError, match="not a readable WARC"):
        list(iter_warc_html(b"WARC/1.0\r\nthis is not a record", "broken.warc"))


def test_cp1251_dump_is_decoded_and_its_encoding_recorded(tmp_path: Path) -> None:
    data = RUSSIAN.encode("cp1251")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert detect_encoding(data) == "cp1251"
    page = tmp_path / "lavrov.txt"
    page.write_bytes(data)
    (outcome,) = ingest(
        file_inputs(page, source="ria", captured_at=None, url=None, fmt=None), tmp_path / "raw"
    )
    assert outcome.capture.encoding == "cp1251"
    assert capture_text(tmp_path / "raw", outcome.capture) == RUSSIAN
    assert (tmp_path / "raw" / outcome.capture.path).read_bytes() == data  # bytes kept as is
    ex = extract_capture(outcome.capture, data)
    assert [p.text for p in ex.paragraphs] == [line for line in RUSSIAN.splitlines() if line]
    assert ex.language == "ru"


def test_cp1251_html_is_decoded_with_its_declared_charset() -> None:
    html = (
        '<html><head><meta charset="windows-1251"></head><body>'
        + "".join(f"<p>{line}</p>" for line in RUSSIAN.splitlines() if line)
        + "</body></html>"
    )
    data = html.encode("cp1251")
    encoding = detect_encoding(data)
    assert decode_capture(data, encoding) == html


def test_utf8_with_bom_and_crlf_are_decoded_consistently() -> None:
    data = "\ufeffFirst line\r\nSecond line\r\n".encode()
    assert detect_encoding(data) == "utf_8_sig"
    assert decode_capture(data, "utf_8_sig") == "First line\nSecond line\n"


def test_mojibake_is_repaired_only_in_the_comparison_form() -> None:
    mojibake = "The minister said â€œwe will not accept itâ€\x9d and left the summit early today."
    text = "\n".join([mojibake, "He added that talks would continue next week in the capital."])
    ex = extract_text_dump(text, "moji")
    stored = ex.paragraphs[0]
    assert stored.text == mojibake  # the stored text keeps the bytes' meaning, mojibake and all
    assert text[stored.start : stored.end] == mojibake  # so offsets stay exact
    assert fold(stored.text) == (
        'The minister said "we will not accept it" and left the summit early today.'
    )
    assert "â€" not in comparison_form(stored.text)


def test_latin1_label_is_read_as_windows_1252_like_browsers_do() -> None:
    html = '<html><head><meta charset="iso-8859-1"></head><body><p>“Café crème”</p></body></html>'
    data = html.encode("cp1252")
    assert detect_encoding(data) == "cp1252"
    assert decode_capture(data, detect_encoding(data)) == html


def _warc_of(responses: list[tuple[str, str, str, bytes]]) -> bytes:
    """An uncompressed WARC of (url, HTTP status line, content type, body) responses."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=False)
    for url, status, content_type, body in responses:
        http = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
        record = writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http
        )
        writer.write_record(record)
    return buffer.getvalue()


def test_error_pages_and_non_html_records_are_counted_not_ingested(tmp_path: Path) -> None:
    page = ARTICLE_HTML.format(title="The harbour").encode("utf-8")
    data = _warc_of(
        [
            ("https://example.org/harbour", "200 OK", "text/html", page),
            ("https://example.org/gone", "404 Not Found", "text/html", page),
            ("https://example.org/moved", "301 Moved Permanently", "text/html", page),
            ("https://example.org/feed", "200 OK", "application/json", b"{}"),
        ]
    )
    skipped: Counter[str] = Counter()
    assert [page.url for page in iter_warc_html(data, "c.warc", skipped)] == [
        "https://example.org/harbour"
    ]
    assert skipped == {
        "HTTP status 404": 1,
        "HTTP status 301": 1,
        "not HTML (application/json)": 1,
    }
    told: list[str] = []
    inputs = list(warc_inputs(data, "c.warc", None, "rights", told.append))
    assert len(inputs) == 1
    assert told == [
        "c.warc: 3 record(s) not ingested: 1 HTTP status 301, 1 HTTP status 404, "
        "1 not HTML (application/json)"
    ]
    warc = tmp_path / "c.warc"
    warc.write_bytes(data)
    result = CliRunner().invoke(app, ["ingest", str(warc), "--raw", str(tmp_path / "raw")])
    assert result.exit_code == 0, result.output
    assert "3 record(s) not ingested" in result.output  # said, not dropped silently


@pytest.mark.parametrize("gzip", [True, False])
def test_a_truncated_warc_is_refused_not_stored_as_a_partial_page(
    tmp_path: Path, gzip: bool
) -> None:
    whole = build_warc(gzip)
    last_id = list(iter_warc_html(whole, "w"))[-1].record_id
    # Cut the file inside the last HTML record's payload (its body's last paragraph; compressed,
    # a little before the end).
    cut = len(whole) - 120 if gzip else whole.rindex(b"every single day")
    warc = tmp_path / "cut.warc.gz"
    warc.write_bytes(whole[:cut])
    # warcio yields the part of the record there is (compressed or not): its length tells
    with pytest.raises(IngestError, match=re.escape(f"cut.warc.gz#{last_id}: record cut short")):
        file_inputs(warc, source=None, captured_at=None, url=None, fmt=None)


def _five_page_warc(gzip: bool) -> tuple[bytes, list[int]]:
    """A WARC of five HTML responses, and the byte offset where each record starts."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gzip)
    starts = []
    for i in range(5):
        starts.append(buffer.tell())
        page = ARTICLE_HTML.format(title=f"The bridge, part {i}").encode("utf-8")
        _response(writer, f"https://example.org/{i}", "2025-02-01T10:00:00Z", page, "text/html")
    return buffer.getvalue(), starts


def _damage_third_record(gzip: bool) -> tuple[bytes, list[int]]:
    whole, starts = _five_page_warc(gzip)
    data = bytearray(whole)
    if gzip:  # garbage inside its compressed bytes
        middle = (starts[2] + starts[3]) // 2
        data[middle : middle + 40] = b"\x00" * 40
    else:  # a header line that is no WARC version
        data[starts[2] : starts[2] + 5] = b"XXXX/"
    return bytes(data), starts


@pytest.mark.parametrize("gzip", [True, False])
def test_a_damaged_record_is_refused_or_with_skip_bad_records_reported_and_read_past(
    tmp_path: Path, gzip: bool
) -> None:
    data, starts = _damage_third_record(gzip)
    warc = tmp_path / "crawl.warc.gz"
    warc.write_bytes(data)
    with pytest.raises(
        IngestError, match=rf"crawl\.warc\.gz: .* at byte {starts[2]}: .*--skip-bad"
    ):
        file_inputs(warc, source=None, captured_at=None, url=None, fmt=None)

    told: list[str] = []
    items = file_inputs(
        warc,
        source=None,
        captured_at=None,
        url=None,
        fmt=None,
        notice=told.append,
        skip_bad_records=True,
    )
    # the records after the damaged one are read too, each once
    assert [item.url for item in items] == [f"https://example.org/{i}" for i in (0, 1, 3, 4)]
    assert len(told) == 1
    assert f"unreadable bytes {starts[2]}-{starts[3]} (" in told[0]
    assert told[0].startswith(f"{warc}: 1 record(s) not ingested")


def test_skip_bad_records_on_the_command_line_ingests_the_rest_and_says_what_it_skipped(
    tmp_path: Path,
) -> None:
    data, starts = _damage_third_record(gzip=True)
    warc = tmp_path / "crawl.warc.gz"
    warc.write_bytes(data)
    raw = tmp_path / "raw"
    refused = CliRunner().invoke(app, ["ingest", str(warc), "--raw", str(raw)])
    assert refused.exit_code == 1 and "not a readable WARC file" in refused.output
    assert not raw.exists() or not any(raw.rglob("*.json"))  # nothing stored from it
    result = CliRunner().invoke(app, ["ingest", str(warc), "--raw", str(raw), "--skip-bad-records"])
    assert result.exit_code == 0, result.output
    assert result.output.count("  added  ") == 4
    assert f"unreadable bytes {starts[2]}-{starts[3]}" in " ".join(result.output.split())


@pytest.mark.parametrize("gzip", [True, False])
@pytest.mark.parametrize("cut_in", ["header", "payload"])
def test_a_warc_cut_short_is_refused_wherever_the_cut_and_skip_bad_records_keeps_the_rest(
    gzip: bool, cut_in: str
) -> None:
    whole, starts = _five_page_warc(gzip)
    # inside the last record's WARC header block, or inside its page (compressed: a little
    # before the end of the gzip member)
    cut = whole[: starts[4] + 20] if cut_in == "header" else whole[: len(whole) - 40]
    # warcio ends quietly at a gzip member or a header block cut short: not a silent loss here
    with pytest.raises(IngestError, match=r"cut\.warc(: not a readable|#.*: record cut short)"):
        list(iter_warc_html(cut, "cut.warc"))
    skipped: Counter[str] = Counter()
    pages = list(iter_warc_html(cut, "cut.warc", skipped, skip_bad_records=True))
    assert [page.url for page in pages] == [f"https://example.org/{i}" for i in range(4)]
    if cut_in == "header":
        (why,) = skipped
        assert why.startswith(f"unreadable bytes {starts[4]}-{len(cut)} (") and skipped[why] == 1
    else:
        assert skipped == {"record cut short (a truncated file?)": 1}


def test_a_record_whose_bytes_fail_its_digest_is_refused_or_skipped_not_stored() -> None:
    whole, starts = _five_page_warc(gzip=False)
    third = whole.index(b"part 2", starts[2])
    damaged = whole[:third] + b"part X" + whole[third + 6 :]  # same length: only the digest tells
    with pytest.raises(IngestError, match=r"w\.warc#<urn:uuid:.*>: its bytes do not match its dig"):
        list(iter_warc_html(damaged, "w.warc"))
    skipped: Counter[str] = Counter()
    pages = list(iter_warc_html(damaged, "w.warc", skipped, skip_bad_records=True))
    assert [page.url for page in pages] == [f"https://example.org/{i}" for i in (0, 1, 3, 4)]
    assert skipped == {"digest mismatch (a damaged record)": 1}


def test_a_record_without_its_length_does_not_swallow_the_next_one() -> None:
    whole, starts = _five_page_warc(gzip=False)
    length_at = whole.index(b"Content-Length:", starts[2])
    damaged = whole[:length_at] + b"Content-Lxngth:" + whole[length_at + 15 :]
    with pytest.raises(IngestError, match=rf"at byte {starts[2]}: .*Content-Length header"):
        list(iter_warc_html(damaged, "w.warc"))
    skipped: Counter[str] = Counter()
    pages = list(iter_warc_html(damaged, "w.warc", skipped, skip_bad_records=True))
    assert [page.url for page in pages] == [f"https://example.org/{i}" for i in (0, 1, 3, 4)]
    assert all(b"WARC/1" not in page.payload for page in pages)  # no page ran into the next
    (why,) = skipped
    assert why.startswith(f"unreadable bytes {starts[2]}-{starts[3]} (")


LEGACY_PAGES = {
    "cp1250": [
        "Zażółć gęślą jaźń. Właściciel sklepu powiedział, że ceny wzrosną w przyszłym miesiącu.",
        "Příliš žluťoučký kůň úpěl ďábelské ódy. Vláda řekla, že ceny porostou příští měsíc.",
        "Árvíztűrő tükörfúrógép. A kormány szerint az árak jövőre emelkednek, és ezen senki sem.",
    ],
    "cp1252": [
        "El señor dijo que el año fue muy difícil para la economía del país, según el informe.",
        "O governo disse que os preços vão subir no próximo ano, e a população não está feliz.",
        "Die Bundesregierung erklärte, dass die Preise im nächsten Jahr steigen würden; Bürger.",
        "Le ministre a déclaré que les prix augmenteront l’année prochaine, à cause de la crise.",
    ],
    "cp1251": ["Министр иностранных дел России Сергей Лавров заявил в четверг, что это так."],
    "cp1253": ["Ο υπουργός δήλωσε ότι οι τιμές θα αυξηθούν τον επόμενο χρόνο λόγω της κρίσης."],
}


@pytest.mark.parametrize(
    ("encoding", "text"),
    [(encoding, text) for encoding, texts in LEGACY_PAGES.items() for text in texts],
)
def test_legacy_encodings_are_detected_so_the_text_reads_right(encoding: str, text: str) -> None:
    # Spanish and Portuguese in windows-1252 tie with cp1250 in charset-normalizer's scores and
    # came out as "seńor", "prećos"; German decoded right but was labelled cp1250.
    data = (text + "\n").encode(encoding)
    assert detect_encoding(data) == encoding
    assert decode_capture(data, detect_encoding(data)) == text + "\n"


def test_a_given_encoding_overrides_the_detected_one(tmp_path: Path) -> None:
    page = tmp_path / "p.txt"
    page.write_bytes("Ceny wzrosły o 5% w ciągu roku, a rząd nic nie zrobi.\n".encode("cp1250"))
    raw = tmp_path / "raw"
    args = ["ingest", str(page), "--raw", str(raw), "--source", "x.org"]
    result = CliRunner().invoke(app, [*args, "--encoding", "windows-1250"])
    assert (
        result.exit_code == 0 and "(text, cp1250)" in result.output
    )  # shown, in the stored spelling
    (record,) = [json.loads(line) for line in (raw / "captures.jsonl").read_text().splitlines()]
    assert record["encoding"] == "cp1250"
    for name in ("klingon", "hex"):  # "hex" is a Python codec, not a character encoding
        refused = CliRunner().invoke(app, [*args, "--encoding", name])
        assert refused.exit_code == 1
        assert f"p.txt: unknown character encoding '{name}'" in refused.output
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"path": "p.txt", "source": "y.org", "encoding": "utf-8"}))
    wrong = CliRunner().invoke(app, ["ingest", "--manifest", str(manifest), "--raw", str(raw)])
    assert wrong.exit_code == 1 and "m.jsonl:1" in wrong.output
    assert "do not decode as utf_8" in wrong.output


@pytest.mark.parametrize("label", ["hex", "undefined", "unicode_escape", "rot13"])
def test_a_declared_charset_that_no_browser_reads_is_ignored_not_a_crash(label: str) -> None:
    page = f'<html><head><meta charset="{label}"></head><body><p>Café na Praça, são bons.</p>'
    data = page.encode("cp1252")  # not UTF-8: the declaration is looked at, then sniffing
    assert detect_encoding(data) == "cp1252"


QUOTED = "“We won’t stop,” she said. “It’s unacceptable,” the café owner added."


def _with_one_bad_byte(text: str) -> bytes:
    """`text` in UTF-8, its "é" written as the single latin-1 byte: invalid UTF-8."""
    return text.encode("utf-8").replace("é".encode(), b"\xe9", 1)


def test_utf8_with_one_invalid_byte_keeps_its_text_and_shows_the_byte_as_u_fffd() -> None:
    # charset-normalizer, asked because strict UTF-8 fails, read it as cp866 ("тАЬWe won...")
    data = _with_one_bad_byte(QUOTED)
    assert detect_encoding(data) == "utf_8"
    assert decode_capture(data, "utf_8") == QUOTED.replace("é", "\ufffd")
    assert invalid_utf8_sequences(data) == 1
    assert invalid_utf8_sequences("a \ufffd already there".encode()) == 0  # text, not an error


def test_a_declared_utf8_is_read_as_utf8_only_if_the_bytes_mostly_are() -> None:
    meta = '<html><head><meta charset="utf-8"></head><body><p>{}</p></body></html>'
    one_quote = _with_one_bad_byte(meta.format("It’s the café of the year, a small town says."))
    assert detect_encoding(one_quote) == "utf_8"  # one valid character for one invalid: declared
    latin = meta.format("Le café de la gare, un dimanche matin à Lyon.").encode("cp1252")
    assert detect_encoding(latin) == "cp1252"  # it says UTF-8 but holds no UTF-8 at all


def test_utf8_given_for_bytes_that_are_not_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "p.txt"
    page.write_bytes("Le café de la gare, à Lyon, ouvre à l’aube.\n".encode("cp1252"))
    args = ["ingest", str(page), "--raw", str(tmp_path / "raw"), "--source", "x.org"]
    result = CliRunner().invoke(app, [*args, "--encoding", "utf-8"])
    assert result.exit_code == 1
    assert "p.txt: bytes do not decode as utf_8: 4 invalid byte sequence(s)" in result.output


def test_ingest_says_how_many_bytes_a_capture_shows_as_u_fffd(tmp_path: Path) -> None:
    page = tmp_path / "p.txt"
    page.write_bytes(_with_one_bad_byte(QUOTED + "\n"))
    raw = tmp_path / "raw"
    args = ["ingest", str(page), "--raw", str(raw), "--source", "x.org"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "(text, utf_8, 1 invalid byte sequence(s) read as U+FFFD)" in result.output
    (capture,) = [Capture(**json.loads(line)) for line in (raw / "captures.jsonl").open()]
    assert capture_text(raw, capture) == QUOTED.replace("é", "\ufffd") + "\n"


def test_a_warc_records_http_charset_decides_its_encoding() -> None:
    # Without a <meta> charset, charset-normalizer read this short koi8-r page as cp932.
    body = "<html><body><p>Министр иностранных дел России заявил в четверг.</p></body></html>"
    data = _warc_of(
        [("https://example.ru/a", "200 OK", "text/html; charset=KOI8-R", body.encode("koi8_r"))]
    )
    (item,) = warc_inputs(data, "r.warc", None, "rights")
    capture = capture_record(item)
    assert capture.encoding == "koi8_r"
    assert decode_capture(item.data, capture.encoding) == body


def test_warc_records_that_could_hold_a_page_are_counted_when_not_ingested() -> None:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=False)
    page = ARTICLE_HTML.format(title="The harbour").encode("utf-8")
    for kind in ("resource", "conversion"):
        writer.write_record(
            writer.create_warc_record(
                f"https://example.org/{kind}",
                kind,
                payload=io.BytesIO(page),
                warc_content_type="text/html",
            )
        )
    told: list[str] = []
    assert list(warc_inputs(buffer.getvalue(), "k.warc", None, "rights", told.append)) == []
    assert told == [
        "k.warc: 2 record(s) not ingested: 1 conversion record (not an HTTP response), "
        "1 resource record (not an HTTP response)"
    ]


def test_a_response_without_a_target_uri_is_counted_and_the_rest_of_the_warc_read() -> None:
    # warcio fails on such a record with "'NoneType' object has no attribute 'startswith'",
    # which made the whole file unreadable
    page = ARTICLE_HTML.format(title="The harbour").encode("utf-8")
    data = _warc_of(
        [
            ("https://example.org/no-uri", "200 OK", "text/html; charset=utf-8", page),
            ("https://example.org/kept", "200 OK", "text/html; charset=utf-8", page),
        ]
    )
    data = data.replace(b"WARC-Target-URI: https://example.org/no-uri\r\n", b"", 1)
    assert data.count(b"WARC-Target-URI") == 1
    told: list[str] = []
    items = list(warc_inputs(data, "u.warc", None, "rights", told.append))
    assert [item.url for item in items] == ["https://example.org/kept"]
    assert told == ["u.warc: 1 record(s) not ingested: 1 no WARC-Target-URI (the page's URL)"]


def test_options_that_a_warc_gives_per_record_are_refused_for_a_warc_file(
    tmp_path: Path,
) -> None:
    warc = tmp_path / "w.warc.gz"
    warc.write_bytes(build_warc())
    raw = str(tmp_path / "raw")
    for option, value in [("--url", "https://x.org/a"), ("--captured-at", "2025-01-01")]:
        result = CliRunner().invoke(app, ["ingest", str(warc), "--raw", raw, option, value])
        assert result.exit_code == 1
        name = option.removeprefix("--").replace("-", "_")
        assert f"w.warc.gz: {name} cannot be given for a WARC file" in result.output
    assert not (tmp_path / "raw" / "captures.jsonl").exists()


def test_format_warc_for_a_file_that_is_not_one_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text(ARTICLE_HTML.format(title="The harbour"))
    args = ["ingest", str(page), "--raw", str(tmp_path / "raw"), "--format", "warc"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "p.html: not a WARC file (it does not start with 'WARC/')" in result.output


def test_a_manifest_field_that_is_not_a_string_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text(QUOTED + "\n")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"path": "p.txt", "source": "x.org", "encoding": 5}) + "\n")
    result = CliRunner().invoke(
        app, ["ingest", "--manifest", str(manifest), "--raw", str(tmp_path / "raw")]
    )
    assert result.exit_code == 1
    assert "m.jsonl:1: field(s) encoding must be strings" in result.output


def test_re_ingesting_with_an_encoding_corrects_the_recorded_one(tmp_path: Path) -> None:
    page = tmp_path / "p.txt"
    page.write_bytes("Ceny wzrosły o 5% w ciągu roku, a rząd nic nie zrobi.\n".encode("cp1250"))
    raw = tmp_path / "raw"
    args = ["ingest", str(page), "--raw", str(raw), "--source", "x.org"]
    first = CliRunner().invoke(app, [*args, "--encoding", "cp1252"])  # a wrong guess, say
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(app, [*args, "--encoding", "cp1250"])
    assert again.exit_code == 0, again.output
    assert "already present (encoding corrected from cp1252)" in again.output
    (capture,) = [Capture(**json.loads(line)) for line in (raw / "captures.jsonl").open()]
    assert capture.encoding == "cp1250"
    assert "rząd" in capture_text(raw, capture)
    same = CliRunner().invoke(app, args)  # no encoding given: the record stays
    assert "already present (no-op)" in same.output
    assert json.loads((raw / "captures.jsonl").read_text())["encoding"] == "cp1250"
