"""model.incidents: records of different articles merged into one per incident.

Records are built with model.records.build_records from invented one-sentence articles.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.events import Count, EventSpan, StrikeEvent
from model.incidents import run
from model.records import build_records

REPO = Path(__file__).resolve().parents[1]
ACTORS = ["طائرات التحالف", "طائرات روسية", ""]
PLACES = ["حلب", "الرقة", "الموصل"]
DATES = ["اليوم", "أمس", ""]


def article_record(aid: str, day: int, actor: str, place: str, date: str, killed: str = ""):
    """The record of an invented article: '<actor> شنت <date> غارات على <place> ...'."""
    parts, spans = [], {}

    def add(text: str, key: str | None = None):
        start = sum(len(p) + 1 for p in parts)
        parts.append(text)
        if key:
            spans[key] = EventSpan(text, start, start + len(text))

    add("شنت")
    if actor:
        add(actor, "actor")
    if date:
        add(date, "date")
    add("غارات", "trigger")
    add("على")
    add(place, "place")
    if killed:
        add("وقتل")
        add(killed, "killed")
    text = " ".join(parts)
    event = StrikeEvent(
        trigger=spans["trigger"], actors=[spans["actor"]] if actor else [],
        places=[spans["place"]], dates=[spans["date"]] if date else [],
        killed=Count(killed, spans["killed"].start, spans["killed"].end) if killed else None,
    )
    (rec,) = build_records([event], {"id": aid, "url": f"https://example.org/{aid}",
                                     "outlet": "مثال", "published": f"2018-04-{day:02d} 12:00:00"})
    for e in rec.evidence:
        assert text[e.trigger[1]:e.trigger[2]] == e.trigger[0]
    return rec


def write(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def merged(path: Path, out: Path, chunk: int = 3):
    summary = run([path], out, chunk=chunk, err=io.StringIO())
    lines = out.read_text(encoding="utf-8").splitlines()
    return summary, [json.loads(line) for line in lines]


def test_same_incident_in_three_outlets_is_one_record(tmp_path):
    recs = [
        article_record("a", 7, "طائرات التحالف", "حلب", "اليوم", "خمسة"),
        article_record("b", 8, "", "حلب", "أمس", "سبعة"),  # 7 April too
        article_record("c", 7, "طائرات التحالف", "بحلب", "", "ستة"),  # window 5-7 April
        article_record("d", 7, "طائرات روسية", "حلب", "اليوم"),  # another actor
        article_record("e", 7, "طائرات التحالف", "الرقة", "اليوم"),  # another place
        article_record("f", 3, "طائرات التحالف", "حلب", "اليوم"),  # another day
    ]
    summary, out = merged(write(tmp_path / "r.jsonl", recs), tmp_path / "i.jsonl")
    assert summary.lines == 6 and summary.bad == 0 and len(out) == 4
    (big,) = [r for r in out if len(r["sources"]) > 1]
    assert sorted(s["article_id"] for s in big["sources"]) == ["a", "b", "c"]
    assert big["killed"]["min"] == 5 and big["killed"]["max"] == 7
    assert big["killed"]["conservative"] == 5
    assert (big["first_reported"], big["last_reported"]) == ("2018-04-07", "2018-04-08")
    assert big["date"] == {"start": "2018-04-07", "end": "2018-04-07", "precision": "day"}
    assert summary.merged_records == 1


record_spec = st.tuples(st.integers(5, 9), st.sampled_from(ACTORS), st.sampled_from(PLACES),
                        st.sampled_from(DATES))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(record_spec, min_size=1, max_size=12), data=st.data())
def test_order_does_not_matter_and_merging_again_changes_nothing(tmp_path_factory, specs, data):
    tmp = tmp_path_factory.mktemp("prop")
    recs = [article_record(f"art{i}", *spec) for i, spec in enumerate(specs)]
    shuffled = data.draw(st.permutations(recs))
    chunk = data.draw(st.integers(1, 5))
    _, first = merged(write(tmp / "a.jsonl", recs), tmp / "a.out", chunk)
    _, second = merged(write(tmp / "b.jsonl", shuffled), tmp / "b.out", chunk)
    assert first == second  # same lines in the same order
    _, again = merged(tmp / "a.out", tmp / "c.out", chunk)
    key = lambda r: r["id"]  # noqa: E731
    assert sorted(again, key=key) == sorted(first, key=key)
    both = tmp / "d.jsonl"  # the input and the output given together: nothing new
    both.write_text((tmp / "a.out").read_text(encoding="utf-8") * 2, encoding="utf-8")
    summary, twice = merged(both, tmp / "d.out", chunk)
    assert sorted(twice, key=key) == sorted(first, key=key)
    assert summary.duplicates == len(first)
    # nothing lost: every input record's evidence is in exactly one output record
    ids = [r["record_id"] for o in first for r in o["reports"]]
    assert sorted(ids) == sorted(r.id for r in recs)


def test_cli_refuses_to_overwrite_and_reports_bad_lines(tmp_path):
    good = write(tmp_path / "r.jsonl", [article_record("a", 7, "", "حلب", "اليوم")])
    with open(good, "a", encoding="utf-8") as f:
        f.write("not json\n[1, 2]\n{\"id\": \"x\"}\n")
    out = tmp_path / "i.jsonl"
    out.write_text("keep me\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (os.environ.get("PYTHONPATH"), str(REPO)) if p)}
    cmd = [sys.executable, "-m", "model.incidents", "--input", str(good), "--output", str(out)]
    refused = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "--overwrite" in refused.stderr
    assert out.read_text(encoding="utf-8") == "keep me\n"
    done = subprocess.run(cmd + ["--overwrite"], cwd=REPO, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("skipped") == 3 and "r.jsonl:2:" in done.stderr
    assert "3 unusable lines" in done.stdout
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1
    missing = subprocess.run(cmd[:4] + [str(tmp_path / "nope.jsonl"), "--output",
                                        str(tmp_path / "o.jsonl")],
                             cwd=REPO, env=env, capture_output=True, text=True)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_a_malformed_record_that_links_is_written_unmerged_and_counted(tmp_path):
    good = article_record("a", 7, "", "حلب", "اليوم").to_dict()
    bad = article_record("b", 7, "", "حلب", "اليوم").to_dict()
    bad["kind"] = "rumour"  # links through its report, but is no Record
    bad["reports"][0]["kind"] = "incident"
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (good, bad)),
                    encoding="utf-8")
    err = io.StringIO()
    summary = run([path], tmp_path / "o.jsonl", err=err)
    assert summary.bad == 1 and "not merged" in err.getvalue()
    out = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(r["id"] for r in out) == sorted([good["id"], bad["id"]])
    assert summary.records_out == 2
