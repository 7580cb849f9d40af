"""The demo printer (model/demo.py) and the sample it runs on (annotation/sample/)."""

from __future__ import annotations

import json
import re

import pytest

from annotation import read_export
from annotation.sample import build
from annotation.sample.markup import MarkupError, parse
from model.demo import (EVENT_COLUMNS, RECORD_COLUMNS, article_records, main, record_row,
                        render_article, render_table)


# -- the sample ------------------------------------------------------------------------------
def test_sample_files_are_built_from_the_markup_source(tmp_path):
    export, articles = tmp_path / "e.json", tmp_path / "a.jsonl"
    assert build.main(["--export", str(export), "--articles", str(articles)]) == 0
    assert export.read_bytes() == build.EXPORT.read_bytes()
    assert articles.read_bytes() == build.ARTICLES.read_bytes()


def test_sample_is_large_varied_and_clean():
    conversion = read_export(build.EXPORT)
    assert conversion.report.problems == []
    docs = conversion.documents
    assert len(docs) >= 40
    with_strikes = [d for d in docs if any(s.label == "STRIKE" for s in d.spans)]
    assert len(docs) - len(with_strikes) >= 4  # sports, economy, politics, ground battles
    dates = [d.meta.get("date", "") for d in docs]
    assert any(re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", x) for x in dates)
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", x) for x in dates)
    counts = [s.text for d in docs for s in d.spans if s.label == "COUNT"]
    assert any(c.isdigit() and c.isascii() for c in counts)
    assert any(re.fullmatch(r"[٠-٩]+", c) for c in counts)
    lines = [json.loads(x) for x in build.ARTICLES.read_text("utf-8").splitlines()]
    gold_ids = {d.meta["article_id"] for d in docs}
    assert gold_ids <= {x["id"] for x in lines}


def test_markup_errors_name_the_article_and_span():
    block = "=== a-1\ntitle: t\n---\n[قصفت]{STRIKE s1} [الطائرات]{ACTOR >s9:actor} المدينة\n"
    with pytest.raises(MarkupError, match=r"a-1 ¶1: \[الطائرات\]: no span 's9'"):
        parse(block)
    with pytest.raises(MarkupError, match="not in the schema"):
        parse(block.replace(">s9:actor", ">s1:killed"))
    with pytest.raises(MarkupError, match="unknown label"):
        parse(block.replace("ACTOR", "WHO"))
    article = parse(block.replace("s9", "s1"))[0]
    assert article.text == "قصفت الطائرات المدينة"
    assert [(s.text, s.label) for s in article.spans] == [("قصفت", "STRIKE"), ("الطائرات", "ACTOR")]
    assert [(r.head, r.tail, r.role) for r in article.relations] == [("p0-s1", "p0-x1", "actor")]


# -- the printer -----------------------------------------------------------------------------
def _span(text, start=0, value=None, count=False):
    d = {"text": text, "start": start, "end": start + len(text), "score": 0.9}
    return {**d, "value": value} if count else d


def test_table_has_every_column_and_one_row_per_event():
    long_target = "مستودعات كبيرة للذخيرة والأسلحة الثقيلة التابعة لتنظيم الدولة قرب الحدود"
    events = [
        {"trigger": _span("غارات"), "actors": [_span("طائرات التحالف")],
         "targets": [_span(long_target)],
         "places": [_span("بلدة الصور"), _span("بريف دير الزور")], "dates": [_span("فجر اليوم")],
         "strikes": _span("ثلاث", value=3, count=True), "killed": _span("9", value=9, count=True),
         "injured": None, "paragraph": None},
        {"trigger": _span("قصف مدفعي"), "actors": [], "targets": [], "places": [], "dates": [],
         "strikes": None, "killed": _span("عشرات", count=True), "injured": None, "paragraph": None},
    ]
    table = render_table(events)
    lines = table.split("\n")
    header = lines[1]
    for column in EVENT_COLUMNS:
        assert column.header in header
    rules = [i for i, x in enumerate(lines) if x.startswith("+")]
    assert len(rules) == 2 + len(events)  # top, under the header, after each row
    # every word of every cell is printed whole (wrapped, never cut)
    printed = " ".join(lines).split()
    for word in long_target.split() + ["بريف", "ثلاث", "عشرات"]:
        assert word in printed
    assert "ثلاث = 3" in table and "9 = " not in table
    assert all(len(x) <= len(lines[0]) for x in lines)  # no row sticks out of the table
    article = render_article({"id": "x-1", "date": "2020-01-01", "title": "عنوان"}, events)
    assert article.startswith("== x-1 · 2020-01-01") and "2 event(s)" in article
    assert "no strike events" in render_article({"id": "x-2", "text": "نص"}, [])


def test_records_table_shows_kind_date_place_and_figures():
    from model.events import Count, EventSpan, StrikeEvent

    text = "قصفت طائرات التحالف أمس القرية وقتل خمسة إلى سبعة مدنيين"
    def at(word, cls=EventSpan, **kw):
        start = text.index(word)
        return cls(word, start, start + len(word), **kw)

    events = [StrikeEvent(trigger=at("قصفت"), actors=[at("طائرات التحالف")],
                          targets=[at("القرية")], dates=[at("أمس")],
                          killed=at("خمسة إلى سبعة", Count))]
    found, records, note = article_records({"id": "x", "date": "2023-05-14", "text": text},
                                           events)
    assert note is None and len(records) == 1
    assert found[0].dates[0].interval.to_dict()["start"] == "2023-05-13"
    row = record_row(records[0].to_dict())
    assert row["kind"] == "incident" and row["date"] == "2023-05-13 (day)"
    assert row["places"] == "-" and row["actors"] == "طائرات التحالف" and row["mentions"] == "1"
    assert row["killed"] == "5–7 / 5", row
    page = render_article({"id": "x", "text": text}, [e.to_dict() for e in found],
                          records=[records[0].to_dict()])
    assert "1 incident record(s):" in page and "2023-05-13 (day)" in page
    for column in RECORD_COLUMNS:
        assert column.header in page
    # a place: resolved with name and coordinates, or said to be unresolved
    place = {"text": "بلدة الصور", "status": "exact", "name": "Al-Sour", "latitude": 35.1,
             "longitude": 40.6}
    assert record_row({**records[0].to_dict(), "places": [place]})["places"] == (
        "بلدة الصور → Al-Sour (35.10, 40.60)")
    assert record_row({**records[0].to_dict(), "places": [{"text": "هناك", "status":
                       "unresolved"}]})["places"] == "هناك: unresolved"
    # a date that does not parse: a note, records without dates, no crash
    _, records, note = article_records({"id": "y", "date": "someday", "text": text}, events)
    assert note.startswith("publication date 'someday'") and records[0].date is None
    assert record_row(records[0].to_dict())["date"] == "-"


@pytest.mark.slow
def test_demo_prints_a_table_per_held_out_article(tmp_path, capsys):
    from fixtures_model import tiny_model_dir

    articles = tmp_path / "articles.jsonl"
    lines = build.ARTICLES.read_text("utf-8").splitlines()[:3]
    articles.write_text("\n".join(lines) + "\n{broken\n", encoding="utf-8")
    code = main(["--model", str(tiny_model_dir()), "--input", str(articles), "--limit", "0"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "skipped line 4: bad JSON" in err
    assert out.count("\n== ") + out.startswith("== ") == 3
    last = re.fullmatch(r"3 article\(s\), (\d+) event\(s\), (\d+) incident record\(s\); "
                        r"skipped input lines: 1", out.rstrip().split("\n")[-1])
    assert last, out[-200:]
    n_events, n_records = int(last.group(1)), int(last.group(2))
    assert n_events > 0  # the tiny model was fitted on the first two sample articles
    rows = sum(int(m) for m in re.findall(r"^(\d+) event\(s\):$", out, flags=re.M))
    assert rows == n_events
    # mentions of one strike are grouped: at least one record, never more than the events
    assert 0 < n_records <= n_events
    assert n_records == sum(int(m) for m in re.findall(r"^(\d+) incident record\(s\):$", out,
                                                       flags=re.M))
    # the first sample article is dated: its records have calendar dates and a place
    assert re.search(r"\| incident +\| \d{4}-\d\d-\d\d", out)
    assert "→" in out or ": unresolved" in out
    assert main(["--model", str(tmp_path / "none"), "--input", str(articles)]) == 2
