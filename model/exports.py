"""Exports of incident records: an ACLED-style CSV and an Airwars-style incident table.

::

    python -m model.exports --input incidents.jsonl --acled acled.csv --airwars airwars.csv

The JSON Lines records (model/records.py, docs/RECORDS.md) stay the source of truth; these
tables are views for people used to those datasets. Only records of kind ``incident`` are
rows (aggregates and planned strikes are counted and reported, not exported: a summary of
a campaign is not an event, and ACLED codes events). Column meanings:

ACLED (codebook column names): ``event_id_cnty`` our record id; ``event_date`` ISO date, the
middle of the interval when it is longer than a day; ``time_precision`` 1 the day is known,
2 within a week, 3 within a month or longer; ``event_type`` "Explosions/Remote violence";
``sub_event_type`` "Air/drone strike"; ``actor1`` the actors as reported (Arabic, ``; ``);
``country``, ``admin1``, ``location``, ``latitude``, ``longitude``, ``geo_precision`` (1 town,
2 area near a town, 3 province or larger) of the record's most precise resolved place, or the
place text with empty coordinates when none resolved; ``source`` the outlets; ``notes`` the
places, targets and the evidence count; ``fatalities`` the conservative figure (ACLED: the
lowest where reports conflict), empty when no source gave one.

Airwars-style: ``incident`` id, ``date`` (start, or ``start/end`` for an interval),
``date_precision``, ``location``, ``latitude``, ``longitude``, ``belligerents``, ``killed``
(``min–max``, one number when they agree), ``killed_conservative``, ``injured``, ``strikes``,
``sources`` (URLs, or article ids without a URL), ``outlets``, ``first_reported``,
``last_reported``, ``mentions``.

A cell that starts with ``= + - @`` gets a leading apostrophe so a spreadsheet does not run
it as a formula (text from the news goes into these cells). Existing files are never
replaced without ``--overwrite``. Exit codes: 0 every line exported or counted as not an
incident; 1 some lines were unusable (named on stderr, counted, skipped); 2 unusable options,
input or output (nothing written).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

__all__ = ["ACLED_COLUMNS", "AIRWARS_COLUMNS", "acled_row", "airwars_row", "export", "main"]

ACLED_COLUMNS = (
    "event_id_cnty", "event_date", "year", "time_precision", "event_type", "sub_event_type",
    "actor1", "country", "admin1", "location", "latitude", "longitude", "geo_precision",
    "source", "notes", "fatalities",
)
AIRWARS_COLUMNS = (
    "incident", "date", "date_precision", "location", "latitude", "longitude", "belligerents",
    "killed", "killed_conservative", "injured", "strikes", "sources", "outlets",
    "first_reported", "last_reported", "mentions",
)
_TIME_PRECISION = {"day": 1, "days": 2}  # anything longer: 3
_FORMULA = ("=", "+", "-", "@")


def _cell(value: Any) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula gets a leading apostrophe
    (numbers never: a negative longitude must stay a number)."""
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return text
    return "'" + text if text.startswith(_FORMULA) else text


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def best_place(record: Mapping[str, Any]) -> dict[str, Any]:
    """The most precise resolved place (lowest geo_precision; first on ties), else the first
    place as text only, else an empty dict."""
    places = list(record.get("places") or [])
    resolved = [p for p in places if p.get("latitude") is not None]
    if resolved:
        return min(resolved, key=lambda p: p.get("geo_precision") or 9)
    return {"text": places[0].get("text")} if places else {}


def _middle(date: Mapping[str, str]) -> str:
    start, end = dt.date.fromisoformat(date["start"]), dt.date.fromisoformat(date["end"])
    return (start + (end - start) / 2).isoformat()


def _range(fig: Mapping[str, Any] | None) -> str:
    if not fig or fig.get("min") is None and fig.get("max") is None:
        return ""
    low, high = fig.get("min"), fig.get("max")
    if low == high:
        return str(low)
    return f"{'' if low is None else low}–{'' if high is None else high}"


def acled_row(record: Mapping[str, Any]) -> dict[str, str]:
    """One ACLED-style row of an incident record dict."""
    date = record.get("date")
    place = best_place(record)
    sources = record.get("sources") or []
    killed = record.get("killed") or {}
    notes = "؛ ".join(part for part in (
        "، ".join(p.get("text", "") for p in record.get("places") or []),
        "، ".join(record.get("targets") or []),
        f"{len(record.get('evidence') or [])} mentions in {len(sources)} sources",
    ) if part)
    row = {
        "event_id_cnty": record["id"],
        "event_date": _middle(date) if date else "",
        "year": _middle(date)[:4] if date else "",
        "time_precision": (_TIME_PRECISION.get(date.get("precision"), 3) if date else ""),
        "event_type": "Explosions/Remote violence", "sub_event_type": "Air/drone strike",
        "actor1": "; ".join(record.get("actors") or []),
        "country": place.get("country"), "admin1": place.get("admin1"),
        "location": place.get("name") or place.get("text"),
        "latitude": place.get("latitude"), "longitude": place.get("longitude"),
        "geo_precision": place.get("geo_precision"),
        "source": "; ".join(dict.fromkeys(s.get("outlet") or s.get("article_id") for s in sources)),
        "notes": notes, "fatalities": killed.get("conservative"),
    }
    return {k: _cell(row[k]) for k in ACLED_COLUMNS}


def airwars_row(record: Mapping[str, Any]) -> dict[str, str]:
    """One Airwars-style row of an incident record dict."""
    date = record.get("date")
    place = best_place(record)
    sources = record.get("sources") or []
    when = ""
    if date:
        when = date["start"] if date["start"] == date["end"] else f"{date['start']}/{date['end']}"
    row = {
        "incident": record["id"], "date": when,
        "date_precision": date.get("precision") if date else "",
        "location": place.get("name") or place.get("text"),
        "latitude": place.get("latitude"), "longitude": place.get("longitude"),
        "belligerents": "; ".join(record.get("actors") or []),
        "killed": _range(record.get("killed")),
        "killed_conservative": (record.get("killed") or {}).get("conservative"),
        "injured": _range(record.get("injured")), "strikes": _range(record.get("strikes")),
        "sources": " ".join(s.get("url") or s.get("article_id") for s in sources),
        "outlets": "; ".join(dict.fromkeys(s.get("outlet") or "" for s in sources if s.get("outlet"))),
        "first_reported": record.get("first_reported"), "last_reported": record.get("last_reported"),
        "mentions": len(record.get("evidence") or []),
    }
    return {k: _cell(row[k]) for k in AIRWARS_COLUMNS}


@dataclass
class ExportSummary:
    lines: int = 0
    rows: int = 0
    not_incidents: dict[str, int] = field(default_factory=dict)
    bad: int = 0

    def line(self) -> str:
        skipped = ", ".join(f"{n} {k}" for k, n in sorted(self.not_incidents.items())) or "none"
        return (f"{self.lines} records -> {self.rows} rows; not exported (not incidents): "
                f"{skipped}; {self.bad} unusable lines")


def read_records(paths: Iterable[Path], summary: ExportSummary, err: TextIO) -> Iterator[dict]:
    """Record dicts from JSON Lines files; a bad line is named on ``err`` and counted."""
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for number, raw in enumerate(handle, 1):
                if not raw.strip():
                    continue
                summary.lines += 1
                try:
                    record = json.loads(raw)
                    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                        raise ValueError("not a record object with a string 'id'")
                    if record.get("kind") not in ("incident", "aggregate", "planned"):
                        raise ValueError(f"unknown kind {record.get('kind')!r}")
                except ValueError as e:
                    summary.bad += 1
                    print(f"{path}:{number}: skipped: {e}"[:300], file=err)
                    continue
                yield record


def export(paths: Iterable[Path], acled: Path | None, airwars: Path | None,
           err: TextIO = sys.stderr) -> ExportSummary:
    """Write the tables (each to a temporary file renamed at the end), streaming."""
    summary = ExportSummary()
    outputs = [(p, cols, fn) for p, cols, fn in ((acled, ACLED_COLUMNS, acled_row),
                                                 (airwars, AIRWARS_COLUMNS, airwars_row)) if p]
    handles, writers, temps = [], [], []
    try:
        for path, cols, _fn in outputs:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            temps.append(tmp)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a table is for sharing
            handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
            handles.append(handle)
            writer = csv.DictWriter(handle, fieldnames=cols)
            writer.writeheader()
            writers.append(writer)
        for record in read_records(paths, summary, err):
            if record["kind"] != "incident":
                summary.not_incidents[record["kind"]] = summary.not_incidents.get(record["kind"], 0) + 1
                continue
            try:
                rows = [fn(record) for _p, _c, fn in outputs]
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                summary.bad += 1
                print(f"record {record.get('id')}: skipped: {type(e).__name__}: {e}"[:300], file=err)
                continue
            for writer, row in zip(writers, rows):
                writer.writerow(row)
            summary.rows += 1
        for handle in handles:
            handle.close()
        for (path, _c, _f), tmp in zip(outputs, temps):
            os.replace(tmp, path)
        temps = []
    finally:
        for handle in handles:
            handle.close()
        for tmp in temps:
            Path(tmp).unlink(missing_ok=True)
    return summary


EPILOG = """exit codes:
  0  every record exported (or counted as an aggregate/planned strike, which are not rows)
  1  some lines were unusable (named on stderr, counted, skipped; the rest exported)
  2  unusable options, input or output (e.g. an output exists and no --overwrite)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m model.exports", epilog=EPILOG,
        description="ACLED-style CSV and Airwars-style table from incident records.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--input", required=True, nargs="+", help="records JSON Lines file(s)")
    parser.add_argument("--acled", help="write the ACLED-style CSV here")
    parser.add_argument("--airwars", help="write the Airwars-style CSV here")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (see ``EPILOG``)."""
    args = build_parser().parse_args(argv)
    if not args.acled and not args.airwars:
        print("error: give --acled and/or --airwars", file=sys.stderr)
        return 2
    inputs = [Path(p) for p in args.input]
    for path in inputs:
        if not path.is_file():
            print(f"error: --input {path}: no such file", file=sys.stderr)
            return 2
    for out in (args.acled, args.airwars):
        if out and Path(out).exists() and not args.overwrite:
            print(f"error: {out} exists; pass --overwrite to replace it", file=sys.stderr)
            return 2
    summary = export(inputs, Path(args.acled) if args.acled else None,
                     Path(args.airwars) if args.airwars else None)
    print(summary.line())
    return 1 if summary.bad else 0


if __name__ == "__main__":
    sys.exit(main())
