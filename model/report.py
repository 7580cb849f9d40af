"""An RTL HTML page of records: each article's text with the evidence highlighted, and under
it the table of its incidents (date, place with a map link, actor, target, counts, links to
the highlighted mentions).

::

    python -m model.report --input records.jsonl --articles articles.jsonl --output report.html

Why a page: a record is only as good as the words it came from, and a reader checks it
fastest by seeing those words in place. Everything from the data is escaped
(``html.escape``); the page has no script. Offsets index each article's original text; a
span whose text does not match the article (a different version of the article) is not
highlighted and is counted on the page and in the summary line. Records are read first
(only the article ids they name are kept), then the articles file is streamed and only those
articles are read into memory. Existing output is never replaced without ``--overwrite``.

Exit codes: 0 page written; 1 page written but some lines or spans were unusable (named on
stderr / counted on the page); 2 unusable options, input or output (nothing written).
"""

from __future__ import annotations

import argparse
import html
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

__all__ = ["render_page", "map_link", "main"]

_ROLE_CLASS = {"actors": "ACTOR", "targets": "TARGET", "places": "PLACE", "dates": "DATE",
               "strikes": "COUNT", "killed": "COUNT", "injured": "COUNT"}
_COLORS = {"STRIKE": "#e4572e", "ACTOR": "#4c6ef5", "TARGET": "#a05195", "PLACE": "#2f9e44",
           "DATE": "#f08c00", "COUNT": "#1098ad"}
_CSS = """
body { font-family: "Noto Naskh Arabic", "Amiri", "Segoe UI", sans-serif; margin: 2em;
       line-height: 2.1; max-width: 72em; }
article { border: 1px solid #ccc; border-radius: 6px; padding: 0.5em 1em; margin: 1.5em 0; }
.text { white-space: pre-wrap; }
mark { background: none; border-bottom: 3px solid var(--c); padding: 0 2px; }
mark:target { background: #fff3bf; }
mark sub { font-size: 0.6em; color: var(--c); direction: ltr; unicode-bidi: isolate; }
table { border-collapse: collapse; margin: 0.6em 0; } td, th { border: 1px solid #ddd;
       padding: 0 0.5em; vertical-align: top; }
.meta, .ltr { direction: ltr; unicode-bidi: isolate; } .warn { color: #c92a2a; }
tr.aggregate td, tr.planned td { color: #666; }
"""


def map_link(place: Mapping[str, Any]) -> str | None:
    """An openstreetmap.org URL at the place's coordinates, or None without coordinates."""
    lat, lon = place.get("latitude"), place.get("longitude")
    if lat is None or lon is None:
        return None
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=11/{lat}/{lon}"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _anchor(article_index: int, start: int, end: int) -> str:
    return f"m{article_index}-{start}-{end}"


@dataclass
class PageSummary:
    records: int = 0
    articles: int = 0
    missing_articles: int = 0
    bad_lines: int = 0
    mismatched_spans: int = 0
    problems: list[str] = field(default_factory=list)


def _highlighted(text: str, spans: Sequence[tuple[int, int, str]], index: int,
                 summary: PageSummary) -> tuple[str, set[tuple[int, int]]]:
    """The escaped text with ``spans`` marked; returns the page and the spans shown."""
    out, pos, shown = [], 0, set()
    for start, end, label in sorted(set(spans)):
        if start < pos:  # overlaps one already marked (flat spans: should not happen)
            continue
        out.append(_e(text[pos:start]))
        out.append(f'<mark id="{_anchor(index, start, end)}" style="--c:{_COLORS.get(label, "#888")}"'
                   f' title="{_e(label)}">{_e(text[start:end])}<sub>{_e(label)}</sub></mark>')
        shown.add((start, end))
        pos = end
    out.append(_e(text[pos:]))
    return "".join(out), shown


def _figure(fig: Mapping[str, Any] | None) -> str:
    if not fig or (fig.get("min") is None and fig.get("max") is None):
        return ""
    low, high, cons = fig.get("min"), fig.get("max"), fig.get("conservative")
    text = str(low) if low == high else f"{'' if low is None else low}–{'' if high is None else high}"
    return text if cons in (None, low) or low == high else f"{text} ({cons})"


def _article_section(index: int, article: Mapping[str, Any], records: Sequence[Mapping[str, Any]],
                     summary: PageSummary) -> str:
    aid = str(article.get("id"))
    text = article.get("text") or ""
    spans = []
    for rec in records:
        for ev in rec.get("evidence") or []:
            if str(ev.get("article_id")) != aid:
                continue
            items = [("STRIKE", ev["trigger"])] + [(_ROLE_CLASS.get(a["role"], a["role"]), a)
                                                  for a in ev.get("arguments") or []]
            for label, s in items:
                if text[s["start"]:s["end"]] == s["text"]:
                    spans.append((s["start"], s["end"], label))
                else:
                    summary.mismatched_spans += 1
    body, shown = _highlighted(text, spans, index, summary)
    rows = []
    for rec in records:
        places = []
        for p in rec.get("places") or []:
            link = map_link(p)
            name = _e(p.get("text")) + (f" <span class=ltr>({_e(p['name'])})</span>"
                                        if p.get("name") else "")
            places.append(f'<a href="{_e(link)}" rel="noopener">{name}</a>' if link else name)
        evidence = []
        for n, ev in enumerate(rec.get("evidence") or [], 1):
            t = ev["trigger"]
            if str(ev.get("article_id")) == aid and (t["start"], t["end"]) in shown:
                evidence.append(f'<a href="#{_anchor(index, t["start"], t["end"])}">'
                                f'{_e(t["text"])}</a>')
            else:
                evidence.append(f'<span title="{_e(ev.get("article_id"))}">{_e(t["text"])}</span>')
        date = rec.get("date")
        when = "" if not date else (date["start"] if date["start"] == date["end"]
                                    else f"{date['start']} – {date['end']}")
        sources = len(rec.get("sources") or [])
        rows.append(
            f'<tr class="{_e(rec.get("kind"))}"><td>{_e(rec.get("kind"))}</td>'
            f'<td class=ltr>{_e(when)} <small>{_e(date and date.get("precision"))} '
            f'{_e(rec.get("date_source"))}</small></td><td>{"، ".join(places)}</td>'
            f'<td>{_e("، ".join(rec.get("actors") or []))}</td>'
            f'<td>{_e("، ".join(rec.get("targets") or []))}</td>'
            f'<td class=ltr>{_e(_figure(rec.get("strikes")))}</td>'
            f'<td class=ltr>{_e(_figure(rec.get("killed")))}</td>'
            f'<td class=ltr>{_e(_figure(rec.get("injured")))}</td>'
            f'<td>{" · ".join(evidence)}</td><td class=ltr>{sources}</td></tr>')
    url = article.get("url")
    head = _e(article.get("title") or aid)
    if url:
        head = f'<a href="{_e(url)}" rel="noopener">{head}</a>'
    return (
        f'<article id="a{index}"><h2>{head}</h2>'
        f'<p class=meta>{_e(aid)} · {_e(article.get("outlet") or article.get("source"))} · '
        f'{_e(article.get("published") or article.get("date"))}</p>'
        f'<div class=text>{body}</div>'
        '<table><tr><th>النوع</th><th>التاريخ</th><th>المكان</th><th>الفاعل</th><th>الهدف</th>'
        '<th>الغارات</th><th>القتلى</th><th>الجرحى</th><th>الشواهد</th><th>المصادر</th></tr>'
        + "".join(rows) + "</table></article>"
    )


def render_page(records: Iterable[Mapping[str, Any]], articles: Iterable[Mapping[str, Any]],
                title: str = "ghara: records", summary: PageSummary | None = None) -> str:
    """The page: for each article that a record cites (in the order of ``articles``), its
    text with the evidence marked and the table of the records citing it."""
    summary = summary if summary is not None else PageSummary()
    by_article: dict[str, list[Mapping[str, Any]]] = {}
    for rec in records:
        summary.records += 1
        for aid in dict.fromkeys(str(e.get("article_id")) for e in rec.get("evidence") or []):
            by_article.setdefault(aid, []).append(rec)
    sections, seen = [], set()
    for article in articles:
        aid = str(article.get("id"))
        if aid not in by_article or aid in seen:
            continue
        seen.add(aid)
        sections.append(_article_section(len(sections), article, by_article[aid], summary))
    summary.articles = len(sections)
    summary.missing_articles = len(set(by_article) - seen)
    notes = []
    if summary.missing_articles:
        notes.append(f"{summary.missing_articles} cited articles are not in the articles input")
    if summary.mismatched_spans:
        notes.append(f"{summary.mismatched_spans} spans do not match their article's text "
                     "and are not highlighted")
    legend = "".join(f'<mark style="--c:{c}">{_e(k)}</mark> ' for k, c in _COLORS.items())
    return (
        '<!DOCTYPE html>\n<html lang="ar" dir="rtl">\n<head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        f"<h1>{_e(title)}</h1><p class=meta>{summary.records} records, {summary.articles} "
        f"articles</p><p>{legend}</p>"
        + "".join(f"<p class=warn>{_e(n)}</p>" for n in notes)
        + "\n".join(sections) + "\n</body>\n</html>\n"
    )


def _skip(summary: PageSummary, err: TextIO, path: Path, item: Any, what: str) -> None:
    summary.bad_lines += 1
    print(f"{path}:{item.number}: skipped {what}: {item.problem}"[:300], file=err)


def _read_records(path: Path, summary: PageSummary, err: TextIO) -> Iterator[dict[str, Any]]:
    """The record objects of a JSON-lines file (decoded by the shared reader's rules)."""
    from annotation.articles import read_objects

    for item, obj in read_objects(path):
        if obj is None:
            _skip(summary, err, path, item, "record")
        else:
            yield obj


def _read_articles(path: Path, summary: PageSummary, err: TextIO) -> Iterator[dict[str, Any]]:
    """Usable articles (``annotation.articles`` rules: ``id``/``article_id``, ``text``...)
    as ``{**fields, "id", "text"}``; each unusable line is counted and named on ``err``."""
    from annotation.articles import read_lines

    for item in read_lines(path):
        if item.ok:
            yield {**item.fields, "id": item.id, "text": item.text}
        else:
            _skip(summary, err, path, item, "article")


EPILOG = """exit codes:
  0  page written
  1  page written; some lines were unusable or spans did not match their article
  2  unusable options, input or output (nothing written)
"""


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (see ``EPILOG``)."""
    parser = argparse.ArgumentParser(prog="python -m model.report", epilog=EPILOG,
                                     description="RTL HTML page of records and their evidence.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True, help="records JSON Lines")
    parser.add_argument("--articles", required=True, help="articles JSON Lines (id, text, ...)")
    parser.add_argument("--output", required=True, help="HTML page to write")
    parser.add_argument("--title", default="ghara: records")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --output")
    args = parser.parse_args(argv)
    output = Path(args.output)
    for path in (args.input, args.articles):
        if not Path(path).is_file():
            print(f"error: {path}: no such file", file=sys.stderr)
            return 2
    if output.exists() and not args.overwrite:
        print(f"error: --output {output} exists; pass --overwrite to replace it", file=sys.stderr)
        return 2
    summary = PageSummary()
    records = list(_read_records(Path(args.input), summary, sys.stderr))
    wanted = {str(e.get("article_id")) for r in records for e in r.get("evidence") or []}
    articles = (a for a in _read_articles(Path(args.articles), summary, sys.stderr)
                if a["id"] in wanted)
    page = render_page(records, articles, args.title, summary)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(output)
    print(f"{summary.records} records, {summary.articles} articles -> {output}; "
          f"{summary.missing_articles} cited articles missing, {summary.mismatched_spans} "
          f"mismatched spans, {summary.bad_lines} unusable lines")
    return 1 if (summary.bad_lines or summary.mismatched_spans) else 0


if __name__ == "__main__":
    sys.exit(main())
