"""The demo: extract events from a few articles and print one readable table per article.

::

    python -m model.demo --model runs/tiny/best --input annotation/sample/articles.jsonl \\
        --heldout configs/tiny.yaml

Why: raw ``events.jsonl`` lines are unreadable to a newcomer; a table with one row per event
(trigger, actor, target, place, date, strikes / killed / injured) shows at a glance what the
model read. Under it, the article's incident records (docs/RECORDS.md: mentions of one
strike grouped, dates resolved against the publication date, places looked up in the
gazetteer, casualty ranges) show what the pipeline makes of those mentions: kind, date
interval and precision, place with its gazetteer name and coordinates, actor, target,
killed and injured (min–max / conservative) and the number of mentions. The gazetteer
(~9 s, ~400 MB) is loaded once, at the first place that needs resolving. ``--heldout CONFIG`` keeps only the articles of that config's dev split (the
articles the model did not train on), so the demo shows generalisation, not memory.

The table is built from plain dicts (``StrikeEvent.to_dict()``) and a list of
:class:`Column` s, so other records (e.g. incidents with calendar dates and resolved places)
can be printed by the same :func:`render_table` with their own columns. Cells are wrapped
at word boundaries, never cut: every word of every cell is printed.

Exit codes: 0 printed; 2 bad arguments or input (unreadable file, no article selected,
model directory missing). Input lines that cannot be used are counted and named on stderr.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .events import COUNT_FIELDS, LIST_FIELDS, StrikeEvent

EMPTY = "-"


def display_width(text: str) -> int:
    """Terminal columns of ``text``: Arabic diacritics and other combining marks take none."""
    return sum(0 if unicodedata.combining(ch) else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - display_width(text), 0)


def format_value(value: Any) -> str:
    """A cell's text: a span's words; a COUNT with its integer when it differs from the text
    (``ثلاث = 3``); several spans joined by ``؛``; nothing as ``-``."""
    if value is None or value == []:
        return EMPTY
    if isinstance(value, list):
        return " ؛ ".join(format_value(v) for v in value)
    if isinstance(value, dict):
        text = " ".join(str(value.get("text", "")).split())
        number = value.get("value")
        if number is not None and str(number) != text:
            return f"{text} = {number}"
        return text
    return str(value)


@dataclass(frozen=True)
class Column:
    """One table column: the record key it shows, its header and its width in characters."""

    key: str
    header: str
    width: int
    format: Callable[[Any], str] = format_value


#: one column per event field, in StrikeEvent.to_dict() order (derived from the schema roles)
EVENT_COLUMNS: tuple[Column, ...] = (
    Column("trigger", "trigger", 14),
    *(Column(name, name, 20 if name in ("actors", "targets", "places") else 14)
      for name in LIST_FIELDS.values()),
    *(Column(name, name, 11) for name in COUNT_FIELDS.values()),
)


def wrap_cell(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` columns, broken between words; a longer word keeps its
    own line whole (the table widens rather than cutting a word)."""
    return textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False) or [""]


def render_table(records: Sequence[dict[str, Any]], columns: Sequence[Column] = EVENT_COLUMNS,
                 number: bool = True) -> str:
    """A plain-text table, one row (possibly several lines tall) per record."""
    cols = list(columns)
    if number:
        cols = [Column("#", "#", len(str(len(records))) or 1, str), *cols]
    rows = []
    for i, record in enumerate(records, start=1):
        cells = [wrap_cell(str(i) if c.key == "#" else c.format(record.get(c.key)), c.width)
                 for c in cols]
        rows.append(cells)
    widths = [max([display_width(c.header), c.width]
                  + [display_width(line) for row in rows for line in row[j]])
              for j, c in enumerate(cols)]

    def line(parts: Sequence[str]) -> str:
        return ("| " + " | ".join(_pad(p, w) for p, w in zip(parts, widths)) + " |").rstrip()

    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [rule, line([c.header for c in cols]), rule]
    for cells in rows:
        for k in range(max(len(c) for c in cells)):
            out.append(line([c[k] if k < len(c) else "" for c in cells]))
        out.append(rule)
    return "\n".join(out)


# -- incident records --------------------------------------------------------------------------
def format_date(record: dict[str, Any]) -> str:
    """``2023-05-14 (day)``, ``2023-05-12..2023-05-14 (days, published)`` for a publication
    window, ``unresolved`` for date words that name no interval, ``-`` without a date."""
    date = record.get("date")
    if date is None:
        return "unresolved" if record.get("date_source") == "unresolved" else EMPTY
    span = date["start"] if date["start"] == date["end"] else f"{date['start']}..{date['end']}"
    source = ", published" if record.get("date_source") == "published" else ""
    return f"{span} ({date['precision']}{source})"


def format_place(place: dict[str, Any]) -> str:
    """``span → gazetteer name (lat, lon)``, or ``span: unresolved``."""
    text = " ".join(str(place.get("text", "")).split())
    if place.get("status") in (None, "unresolved") or place.get("latitude") is None:
        return f"{text}: unresolved"
    return (f"{text} → {place.get('name')} ({place['latitude']:.2f}, "
            f"{place['longitude']:.2f})")


def format_figure(figure: dict[str, Any] | None) -> str:
    """``5``, or ``3–7 / 3`` (lowest–highest any mention allows / conservative figure)."""
    if not figure:
        return EMPTY
    low, high, cons = figure.get("min"), figure.get("max"), figure.get("conservative")
    if low is None and high is None:
        return " ؛ ".join(figure.get("texts") or []) or EMPTY
    if low == high == cons:
        return str(low)
    span = str(low) if low == high else f"{low if low is not None else '?'}–" \
                                         f"{high if high is not None else '?'}"
    return f"{span} / {cons if cons is not None else '?'}"


def record_row(record: dict[str, Any]) -> dict[str, str]:
    """One ``Record.to_dict()`` as the cells of :data:`RECORD_COLUMNS`."""
    return {
        "kind": record["kind"],
        "date": format_date(record),
        "places": " ؛ ".join(format_place(p) for p in record.get("places", [])) or EMPTY,
        "actors": " ؛ ".join(record.get("actors", [])) or EMPTY,
        "targets": " ؛ ".join(record.get("targets", [])) or EMPTY,
        "killed": format_figure(record.get("killed")),
        "injured": format_figure(record.get("injured")),
        "mentions": str(len(record.get("evidence", []))),
    }


RECORD_COLUMNS: tuple[Column, ...] = (
    Column("kind", "kind", 9), Column("date", "date", 16), Column("places", "place", 26),
    Column("actors", "actor", 16), Column("targets", "target", 16),
    Column("killed", "killed", 8), Column("injured", "injured", 8),
    Column("mentions", "mentions", 8),
)


def article_records(article: dict[str, Any], events: Sequence[StrikeEvent]
                    ) -> tuple[list[StrikeEvent], list[Any], str | None]:
    """``(normalised events, records, note)`` of one article: its events normalised
    against its publication date (``date``) and grouped into incident records. A date
    that does not parse gives a note and records without dates, never a crash."""
    from .dates import publication_anchor
    from .events import normalize_events
    from .records import build_records

    meta = {k: v for k, v in article.items() if k != "text"}
    published, note, anchor = meta.get("published", meta.get("date")), None, None
    if published is not None:
        try:
            anchor = publication_anchor(published)
        except ValueError as err:
            note = f"{err}: dates not resolved"
            meta = {k: v for k, v in meta.items() if k not in ("date", "published")}
    events = normalize_events(events, anchor)
    return events, build_records(events, meta, normalize=False), note


def render_article(article: dict[str, Any], events: Sequence[dict[str, Any]],
                   width: int = 100, records: Sequence[dict[str, Any]] | None = None,
                   note: str | None = None) -> str:
    """Header (id, date, source, title or first line), the events table of one article
    and, when given, its incident records (``Record.to_dict()``) and a note."""
    head = " · ".join(str(article[k]) for k in ("id", "date", "source") if article.get(k))
    title = article.get("title") or str(article.get("text", "")).strip().split("\n")[0]
    lines = [f"== {head} " + "=" * max(width - display_width(head) - 4, 3)]
    lines += wrap_cell(" ".join(str(title).split()), width)
    if events:
        lines.append(f"{len(events)} event(s):")
        lines.append(render_table(events))
    else:
        lines.append("no strike events found")
    if note:
        lines.append(f"note: {note}")
    if records:
        lines.append(f"{len(records)} incident record(s):")
        lines.append(render_table([record_row(r) for r in records], RECORD_COLUMNS))
    return "\n".join(lines)


# -- command line ----------------------------------------------------------------------------
def heldout_ids(config: str | Path) -> set[str]:
    """Article ids (``article_id``, else the task id) of a training config's dev split."""
    from .training import load_config, split_documents

    cfg = load_config(config)
    _, dev = split_documents(cfg, log=lambda *a, **k: None)
    return {str(d.meta.get("article_id") or d.id) for d in dev}


def read_articles(path: Path, keep: Callable[[dict[str, Any]], bool] = lambda a: True,
                  limit: int = 0) -> tuple[list[dict[str, Any]], list[str]]:
    """Usable articles of a JSON-lines file (every field kept, e.g. title and date) that
    ``keep`` accepts, at most ``limit`` (0 = all; reading stops there), and one message per
    line that cannot be used. The lines are read by :mod:`annotation.articles` (the rules
    every command shares); the demo reads a handful of articles, corpora go through
    ``python -m model.batch``."""
    from annotation.articles import read_lines

    articles: list[dict[str, Any]] = []
    problems: list[str] = []
    for item in read_lines(path):
        if not item.ok:
            problems.append(f"{item.where}: {item.problem}")
            continue
        article = {**item.fields, "id": item.id, "text": item.text}
        if keep(article):
            articles.append(article)
            if limit and len(articles) >= limit:
                break
    return articles, problems


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m model.demo",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model directory (e.g. runs/tiny/best)")
    parser.add_argument("--input", required=True, type=Path, help="articles .jsonl (id, text, ...)")
    parser.add_argument("--heldout", metavar="CONFIG",
                        help="only the dev-split articles of this training config")
    parser.add_argument("--limit", type=int, default=6,
                        help="articles to show (default 6; 0 = all)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--width", type=int, default=100, help="width of the header lines")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.input.is_file():
        print(f"error: input not found: {args.input}", file=sys.stderr)
        return 2
    if not Path(args.model).is_dir():
        print(f"error: model directory not found: {args.model} (train first: "
              f"python train.py --config configs/tiny.yaml)", file=sys.stderr)
        return 2
    keep = None
    if args.heldout:
        ids = heldout_ids(args.heldout)
        keep = lambda article: article["id"] in ids  # noqa: E731
    articles, problems = read_articles(args.input, keep or (lambda a: True), max(args.limit, 0))
    for message in problems:
        print(f"skipped {message}", file=sys.stderr)
    if not articles:
        print("error: no article to show" + (" in the held-out split" if args.heldout else ""),
              file=sys.stderr)
        return 2
    from .extractor import StrikeExtractor

    extractor = StrikeExtractor.from_pretrained(args.model, device=args.device)
    events = extractor.extract_batch([a["text"] for a in articles], normalize=False)  # per article below
    total = n_records = 0
    for article, found in zip(articles, events):
        found, records, note = article_records(article, found)
        total += len(found)
        n_records += len(records)
        print(render_article(article, [e.to_dict() for e in found], args.width,
                             [r.to_dict() for r in records], note))
        print()
    note = " (held out from training)" if args.heldout else ""
    print(f"{len(articles)} article(s){note}, {total} event(s), {n_records} incident "
          f"record(s); skipped input lines: {len(problems)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
