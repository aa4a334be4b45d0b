"""WARC at volume: ingest of a generated WARC.gz with 10k HTML response records.

    python benchmarks/bench_warc.py [--records 10000] [--data benchmarks/data]

Writes a WARC.gz with warcio (one request-less `response` record per page of synth.py's HTML
output, plus a `warcinfo` record and some non-HTML responses that ingest must skip), then times:
- `iterate`: warcio reading every record (newsvariants.ingest.iter_warc_html), no storage;
- `ingest`: `newsvariants.ingest` of the WARC file into an empty raw/ (hash, encoding detection,
  content-addressed writes, metadata), as `newsvariants ingest FILE.warc.gz` does;
- `re-ingest`: the same file again (every record must be a no-op).
Reports records/s and peak RSS; writes benchmarks/results/build-warc.json. Not a test.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def write_warc(pages: list[tuple[str, bytes, str]], path: Path, extra_images: int) -> None:
    """A gzipped WARC: warcinfo, one HTML response per page, `extra_images` image responses."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        writer.write_record(
            writer.create_warcinfo_record(path.name, {"software": "newsvariants bench_warc"})
        )
        for n, (url, body, date) in enumerate(pages):
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(record)
            if n < extra_images:
                image = StatusAndHeaders(
                    "200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1"
                )
                writer.write_record(
                    writer.create_warc_record(
                        url + ".png",
                        "response",
                        payload=io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(64)),
                        http_headers=image,
                        warc_headers_dict={"WARC-Date": date},
                    )
                )


def synth_pages(data: Path, records: int, seed: int) -> list[tuple[str, bytes, str]]:
    """(url, HTML bytes, WARC-Date) of `records` synthetic HTML pages (synth.py)."""
    sys.path.insert(0, str(HERE))
    from synth import generate

    folder = data / f"warc-html-{records}-seed{seed}"
    if not (folder / "manifest.jsonl").exists():
        generate(folder, n_stories=round(records / 4.0), seed=seed, forms=("html",))
    rows = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    if len(rows) < records:
        raise RuntimeError(f"{folder}: only {len(rows)} pages, fewer than {records}")
    pages = []
    for row in rows[:records]:
        date = (row.get("captured_at") or "2024-01-01T00:00:00Z").replace("+00:00", "Z")
        pages.append((row["url"], (folder / row["path"]).read_bytes(), date))
    return pages


def timed(func: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = func(*args)
    return time.perf_counter() - start, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "build-warc.json")
    args = parser.parse_args(argv)

    from newsvariants.ingest import file_inputs, ingest, iter_warc_html

    pages = synth_pages(args.data, args.records, args.seed)
    warc = args.data / f"bench-{args.records}.warc.gz"
    write_s, _ = timed(write_warc, pages, warc, args.records // 10)
    data = warc.read_bytes()
    iterate_s, found = timed(lambda: sum(1 for _ in iter_warc_html(data, warc.name)))
    raw = args.data / f"warc-raw-{args.records}"
    shutil.rmtree(raw, ignore_errors=True)

    def ingest_file() -> list[Any]:
        items = file_inputs(warc, source=None, captured_at=None, url=None, fmt=None)
        return ingest(items, raw)

    ingest_s, outcomes = timed(ingest_file)
    again_s, again = timed(ingest_file)
    added = sum(o.added for o in outcomes)
    result = {
        "records": args.records,
        "warc_bytes": len(data),
        "non_html_records_skipped": args.records // 10,
        "write_seconds": write_s,
        "html_records_found": found,
        "iterate_seconds": iterate_s,
        "iterate_records_per_s": found / iterate_s,
        "ingest_seconds": ingest_s,
        "ingest_records_per_s": len(outcomes) / ingest_s,
        "captures_added": added,
        "reingest_seconds": again_s,
        "reingest_records_per_s": len(again) / again_s,
        "reingest_all_noops": not any(o.added for o in again),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_average": os.getloadavg(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("step | seconds | records/s")
    print(f"iterate (warcio) | {iterate_s:.1f} | {found / iterate_s:.0f}")
    print(f"ingest | {ingest_s:.1f} | {len(outcomes) / ingest_s:.0f}  ({added} captures added)")
    noop = result["reingest_all_noops"]
    print(f"re-ingest | {again_s:.1f} | {len(again) / again_s:.0f}  (all no-ops: {noop})")
    print(f"WARC {len(data) / 1e6:.1f} MB, peak RSS {result['peak_rss_mib']:.0f} MiB")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
