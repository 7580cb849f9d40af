"""model.records: an article's mention events grouped into one record per incident.

Invented Arabic sentences; hand-built StrikeEvents (no model).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.events import Count, EventSpan, ParagraphRef, StrikeEvent
from model.records import Record, build_records, merge_records

PARAS = [
    "شنت طائرات التحالف فجر اليوم غارات على مدينة الرقة أسفرت عن مقتل خمسة مدنيين.",
    "وقالت مصادر محلية إن الغارات استهدفت مقرا للتنظيم في الرقة وأوقعت سبعة قتلى.",
    "وفي حلب قصفت طائرات روسية أمس حيا سكنيا وقتل ثلاثة أشخاص.",
    "وشن التحالف أكثر من ألف غارة على سوريا منذ 2014.",
    "وقال المتحدث إن القصف أوقع عشرات الجرحى.",
    "ويعتزم التحالف تنفيذ ضربات جديدة يوم الأحد المقبل.",
]
TEXT = "\n".join(PARAS)
ARTICLE = {"id": "art-1", "url": "https://example.org/a?x=1&y=2", "source": "وكالة مثال",
           "date": "2018-04-07 10:00:00"}


def starts() -> list[int]:
    out, pos = [], 0
    for p in PARAS:
        out.append(pos)
        pos += len(p) + 1
    return out


def at(par: int, text: str, cls=EventSpan, **kw):
    start = TEXT.index(text, starts()[par])
    assert start < starts()[par] + len(PARAS[par])
    return cls(text, start, start + len(text), **kw)


def ev(par: int, trigger: str, *, actors=(), places=(), dates=(), targets=(), killed=None,
       injured=None) -> StrikeEvent:
    s = starts()[par]
    return StrikeEvent(
        trigger=at(par, trigger), actors=[at(par, a) for a in actors],
        targets=[at(par, t) for t in targets], places=[at(par, p) for p in places],
        dates=[at(par, d) for d in dates],
        killed=None if killed is None else at(par, killed, Count),
        injured=None if injured is None else at(par, injured, Count),
        paragraph=ParagraphRef(par, s, s + len(PARAS[par])),
    )


def events() -> list[StrikeEvent]:
    return [
        ev(0, "غارات", actors=["طائرات التحالف"], places=["مدينة الرقة"], dates=["فجر اليوم"],
           killed="خمسة"),
        ev(1, "الغارات", targets=["مقرا للتنظيم"], places=["الرقة"], killed="سبعة"),
        ev(2, "قصفت", actors=["طائرات روسية"], places=["حلب"], dates=["أمس"],
           targets=["حيا سكنيا"], killed="ثلاثة"),
        ev(3, "غارة", actors=["التحالف"], places=["سوريا"], dates=["منذ 2014"]),
        ev(4, "القصف", injured="عشرات"),
        ev(5, "ضربات", actors=["التحالف"], dates=["يوم الأحد المقبل"]),
    ]


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return build_records(events(), ARTICLE)


def test_mentions_of_one_strike_become_one_record(records):
    kinds = [r.kind for r in records]
    assert kinds.count("incident") == 2 and kinds.count("aggregate") == 1
    assert kinds.count("planned") == 1 and len(records) == 4
    raqqa = records[0]
    assert [e.trigger[0] for e in raqqa.evidence] == ["غارات", "الغارات"]
    assert [e.paragraph for e in raqqa.evidence] == [0, 1]
    assert raqqa.date.to_dict() == {"start": "2018-04-07", "end": "2018-04-07", "precision": "day"}
    assert raqqa.date_source == "text"
    # restated tolls: the range spans both, the conservative figure is the lower one
    assert (raqqa.killed.min, raqqa.killed.max, raqqa.killed.conservative) == (5, 7, 5)
    assert raqqa.actors == ("طائرات التحالف",) and raqqa.targets == ("مقرا للتنظيم",)


def test_the_dateless_follow_up_joins_the_most_recent_compatible_incident(records):
    aleppo = records[1]
    assert aleppo.kind == "incident"
    assert [e.trigger[0] for e in aleppo.evidence] == ["قصفت", "القصف"]
    assert aleppo.date.start == dt.date(2018, 4, 6) == aleppo.date.end
    assert aleppo.injured.min is not None and aleppo.injured.min >= 10  # عشرات: a range
    assert aleppo.injured.max > aleppo.injured.min


def test_a_summary_over_years_is_an_aggregate_and_swallows_nothing(records):
    (agg,) = [r for r in records if r.kind == "aggregate"]
    assert [e.trigger[0] for e in agg.evidence] == ["غارة"]
    assert agg.date.precision == "coarse" and agg.date.start == dt.date(2014, 1, 1)
    (planned,) = [r for r in records if r.kind == "planned"]
    assert planned.date.start > dt.date(2018, 4, 7)


def test_every_record_carries_its_source_and_offsets_index_the_article(records):
    for r in records:
        assert [s.to_dict() for s in r.sources] == [{
            "article_id": "art-1", "url": ARTICLE["url"], "outlet": "وكالة مثال",
            "published": "2018-04-07 10:00:00"}]
        assert r.first_reported == r.last_reported == "2018-04-07"
        for e in r.evidence:
            text, start, end = e.trigger
            assert TEXT[start:end] == text
            for _role, t, s, en in e.arguments:
                assert TEXT[s:en] == t


def test_to_dict_is_json_and_round_trips(records):
    for r in records:
        data = json.loads(json.dumps(r.to_dict(), ensure_ascii=False))
        assert Record.from_dict(data).to_dict() == data
        assert all("key" in p for p in data["places"])


def test_without_a_date_the_publication_window_is_used():
    lone = [ev(4, "القصف", injured="عشرات")]
    (rec,) = build_records(lone, ARTICLE)
    assert rec.date_source == "published" and rec.kind == "incident"
    assert (rec.date.start, rec.date.end) == (dt.date(2018, 4, 5), dt.date(2018, 4, 7))
    assert rec.date.precision == "days"
    (undated,) = build_records(lone, {"id": "x"})  # no publication date: no interval at all
    assert undated.date is None and undated.date_source is None


def test_different_places_or_actors_stay_apart():
    a = ev(0, "غارات", actors=["طائرات التحالف"], places=["مدينة الرقة"], dates=["فجر اليوم"])
    b = ev(2, "قصفت", actors=["طائرات روسية"], places=["حلب"], dates=["أمس"])
    c = ev(4, "القصف")
    recs = build_records([a, b, c], ARTICLE)
    assert len(recs) == 2  # the bare follow-up joins the Aleppo record (the most recent)
    assert {len(r.evidence) for r in recs} == {1, 2}


def test_bad_publication_date_is_a_clear_error():
    with pytest.raises(ValueError, match="not a date"):
        build_records(events(), {"id": "x", "date": "not a date"})


def test_merge_records_of_two_articles():
    one = build_records([events()[0]], ARTICLE)[0]
    other_article = {**ARTICLE, "id": "art-2", "date": "2018-04-08T06:00:00"}
    two = build_records([events()[1]], other_article)[0]  # no DATE: window 6-8 April
    merged = merge_records([one, two])
    assert merged == merge_records([two, one])
    assert merge_records([merged, one]) == merged  # merging again changes nothing
    assert {s.article_id for s in merged.sources} == {"art-1", "art-2"}
    assert merged.date.start == merged.date.end == dt.date(2018, 4, 7)
    assert (merged.killed.min, merged.killed.max, merged.killed.conservative) == (5, 7, 5)
    assert (merged.first_reported, merged.last_reported) == ("2018-04-07", "2018-04-08")
    assert len(merged.evidence) == 2


@settings(max_examples=30, deadline=None)
@given(st.permutations(range(6)).flatmap(
    lambda order: st.integers(1, 6).map(lambda k: order[:k])))
def test_every_mention_is_evidence_of_exactly_one_record_whatever_the_order(picked):
    chosen = [events()[i] for i in picked]
    recs = build_records(chosen, ARTICLE)
    triggers = sorted(e.trigger[1] for r in recs for e in r.evidence)
    assert triggers == sorted(e.trigger.start for e in chosen)
    assert [r.to_dict() for r in recs] == [
        r.to_dict() for r in build_records(list(reversed(chosen)), ARTICLE)]


def test_strikes_over_several_provinces_are_a_summary():
    text = "غارات على حلب والرقة"
    a = StrikeEvent(trigger=EventSpan("غارات", 0, 5),
                    places=[EventSpan("حلب", 10, 13), EventSpan("والرقة", 14, 20)])
    assert [text[s.start:s.end] for s in a.spans()] == ["غارات", "حلب", "والرقة"]
    (rec,) = build_records([a], ARTICLE)
    assert rec.kind == "aggregate"  # Aleppo and Raqqa governorates: not one incident
    one = StrikeEvent(trigger=EventSpan("غارات", 0, 5), places=[EventSpan("حلب", 10, 13)])
    assert build_records([one], ARTICLE)[0].kind == "incident"


def test_a_country_is_no_linking_key():
    syria = StrikeEvent(trigger=EventSpan("غارات", 0, 5), places=[EventSpan("سوريا", 10, 15)])
    (rec,) = build_records([syria], ARTICLE)
    assert rec.places[0]["precision"] == "country" and rec.reports[0].place_keys == ()
