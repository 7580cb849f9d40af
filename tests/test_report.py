"""model.report: RTL page with the evidence highlighted and the incident table, all escaped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_records import ARTICLE, TEXT, events

from model.records import build_records
from model.report import map_link, render_page

REPO = Path(__file__).resolve().parents[1]


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.html_attrs, self.scripts, self.marks, self.links = {}, 0, {}, []
        self._mark = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_attrs = attrs
        if tag == "script":
            self.scripts += 1
        if tag == "mark" and "id" in attrs:
            self._mark = attrs["id"]
            self.marks[self._mark] = ""
        if tag == "a":
            self.links.append(attrs.get("href"))

    def handle_endtag(self, tag):
        if tag == "mark":
            self._mark = None

    def handle_data(self, data):
        if self._mark:
            self.marks[self._mark] += data


def article():
    return {**ARTICLE, "text": TEXT, "title": "غارات <b>& قصف"}


def test_page_marks_evidence_links_table_and_map():
    records = [r.to_dict() for r in build_records(events(), ARTICLE)]
    page = render_page(records, [article()])
    parsed = _Page()
    parsed.feed(page)
    assert parsed.html_attrs == {"lang": "ar", "dir": "rtl"} and parsed.scripts == 0
    assert "غارات &lt;b&gt;&amp; قصف" in page
    # every trigger of every record is highlighted, its anchor linked from the table
    for rec in records:
        for ev in rec["evidence"]:
            t = ev["trigger"]
            anchor = f"m0-{t['start']}-{t['end']}"
            assert parsed.marks[anchor].startswith(t["text"])
            assert f"#{anchor}" in parsed.links
    assert any(p.get("latitude") is not None for p in records[0]["places"])  # الرقة
    assert any(link and link.startswith("https://www.openstreetmap.org/?mlat=")
               for link in parsed.links)
    assert page.count("<tr class=") == len(records)
    assert 'href="https://example.org/a?x=1&amp;y=2"' in page


def test_escaping_and_mismatched_spans():
    records = [r.to_dict() for r in build_records(events()[:1], ARTICLE)]
    evil = {**article(), "text": "<script>alert(1)</script>" + TEXT}  # offsets now off
    page = render_page(records, [evil])
    parsed = _Page()
    parsed.feed(page)
    assert parsed.scripts == 0 and "&lt;script&gt;" in page
    assert parsed.marks == {} and "spans do not match" in page


def test_map_link():
    assert map_link({"latitude": 36.2, "longitude": 37.16}) == (
        "https://www.openstreetmap.org/?mlat=36.2&mlon=37.16#map=11/36.2/37.16")
    assert map_link({"latitude": None, "longitude": 1.0}) is None


def test_cli(tmp_path):
    recs = tmp_path / "records.jsonl"
    recs.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n"
                            for r in build_records(events(), ARTICLE)), encoding="utf-8")
    arts = tmp_path / "articles.jsonl"
    arts.write_text(json.dumps({"id": "other", "text": "نص"}, ensure_ascii=False) + "\n"
                    + json.dumps(article(), ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "page.html"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (os.environ.get("PYTHONPATH"), str(REPO)) if p)}
    cmd = [sys.executable, "-m", "model.report", "--input", str(recs), "--articles", str(arts),
           "--output", str(out)]
    run = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "4 records, 1 articles" in run.stdout
    again = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert again.returncode == 2 and "--overwrite" in again.stderr


@pytest.mark.slow
def test_end_to_end_with_a_tiny_model(tmp_path):
    """Tiny model -> mention events -> records -> incidents -> exports -> page."""
    from fixtures_model import small_documents, tiny_extractor

    from model.exports import export
    from model.incidents import run as merge

    docs = small_documents()
    extractor = tiny_extractor()
    records, articles = [], []
    for n, doc in enumerate(docs):
        article = {"id": doc.id, "text": doc.text, "url": f"https://example.org/{n}",
                   "outlet": "مثال", "published": "2018-04-07 10:00:00"}
        events = extractor.extract(doc.text)
        assert events, "the tiny model fits these articles: it finds their strikes"
        built = build_records(events, article)
        # every mention is evidence of exactly one record; offsets index the article
        assert sorted(e.trigger[1] for r in built for e in r.evidence) == sorted(
            e.trigger.start for e in events)
        for r in built:
            for e in r.evidence:
                assert doc.text[e.trigger[1]:e.trigger[2]] == e.trigger[0]
        records += built
        articles.append(article)
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n"
                            for r in records), encoding="utf-8")
    summary = merge([path], tmp_path / "incidents.jsonl")
    assert summary.bad == 0 and summary.records_out <= len(records)
    exported = export([tmp_path / "incidents.jsonl"], tmp_path / "acled.csv", None)
    assert exported.bad == 0
    assert exported.rows + sum(exported.not_incidents.values()) == summary.records_out
    page = render_page([json.loads(x) for x in
                        (tmp_path / "incidents.jsonl").read_text(encoding="utf-8").splitlines()],
                       articles)
    parsed = _Page()
    parsed.feed(page)
    assert parsed.scripts == 0 and "spans do not match" not in page
    assert len(parsed.marks) >= sum(len(r.evidence) for r in records)
