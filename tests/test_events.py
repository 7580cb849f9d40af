"""build_events: prediction (paragraph coordinates) -> StrikeEvent records (article offsets)."""

from __future__ import annotations

import json

import pytest

from annotation.documents import Relation, Span
from model.events import Count, EventSpan, StrikeEvent, build_events
from model.predictions import ParagraphPrediction



PARA = "شنت طائرات التحالف ثلاث غارات على حلب أمس وقتل عشرات المدنيين و١٤ جريحا"


def span(text: str, label: str, occurrence: int = 0) -> Span:
    start = -1
    for _ in range(occurrence + 1):
        start = PARA.index(text, start + 1)
    return Span(start, start + len(text), label, text)


def prediction() -> ParagraphPrediction:
    strike = span("غارات", "STRIKE")
    actor = span("طائرات التحالف", "ACTOR")
    count = span("ثلاث", "COUNT")
    place = span("حلب", "PLACE")
    date = span("أمس", "DATE")
    vague = span("عشرات", "COUNT")
    injured = span("١٤", "COUNT")
    spans = [actor, count, strike, place, date, vague, injured]
    relations = [
        Relation(strike, "place", place),
        Relation(strike, "actor", actor),
        Relation(strike, "strikes", count),
        Relation(strike, "date", date),
        Relation(strike, "killed", vague),
        Relation(strike, "injured", injured),
        Relation(strike, "killed", count),  # a second, weaker "killed": dropped
        Relation(actor, "place", place),  # head is not a STRIKE: ignored
        Relation(strike, "actor", place),  # role does not fit the tail label: ignored
    ]
    return ParagraphPrediction(
        spans, relations, [0.9] * len(spans), [0.8, 0.7, 0.95, 0.6, 0.9, 0.5, 0.3, 0.9, 0.9]
    )


def test_build_events_article_offsets_counts_and_scores():
    offset = 100
    article = "x" * offset + PARA
    events = build_events(prediction(), 2, offset, PARA)
    assert len(events) == 1
    e = events[0]
    assert (e.trigger.text, e.trigger.start) == ("غارات", offset + PARA.index("غارات"))
    for s in e.spans():
        assert article[s.start : s.end] == s.text
    assert [a.text for a in e.actors] == ["طائرات التحالف"]
    assert [a.text for a in e.places] == ["حلب"] and [a.text for a in e.dates] == ["أمس"]
    assert e.targets == []
    assert e.strikes == Count("ثلاث", offset + PARA.index("ثلاث"), offset + PARA.index("ثلاث") + 4,
                              0.95, 3)
    assert e.killed.text == "عشرات" and e.killed.value is None and e.killed.score == 0.9
    assert e.injured.value == 14
    assert e.paragraph.index == 2 and e.paragraph.start == offset
    assert e.paragraph.end == offset + len(PARA)


def test_to_dict_is_json_ready_and_round_trips():
    e = build_events(prediction(), 0, 0, PARA)[0]
    data = json.loads(json.dumps(e.to_dict(), ensure_ascii=False))
    assert set(data) == {"trigger", "actors", "targets", "places", "dates", "strikes",
                         "killed", "injured", "paragraph"}
    assert data["strikes"]["value"] == 3 and data["killed"]["value"] is None
    assert data["trigger"]["score"] == 0.9
    back = StrikeEvent.from_dict(data)
    assert back.to_dict() == data


def test_strike_without_arguments_and_empty_prediction():
    strike = span("غارات", "STRIKE")
    events = build_events(ParagraphPrediction([strike], [], [0.5], []), 0, 0, PARA)
    assert len(events) == 1 and events[0].actors == [] and events[0].killed is None
    assert build_events(ParagraphPrediction(), 0, 0, PARA) == []


def test_scores_missing_are_none():
    strike = span("غارات", "STRIKE")
    place = span("حلب", "PLACE")
    pred = ParagraphPrediction([strike, place], [Relation(strike, "place", place)])
    e = build_events(pred, 0, 0, PARA)[0]
    assert e.trigger.score is None and e.places[0].score is None
    assert e.to_dict()["places"][0]["score"] is None


def test_map_offsets():
    e = StrikeEvent(trigger=EventSpan("ab", 1, 3, 0.5), places=[EventSpan("c", 4, 5)])
    moved = e.map_offsets(lambda s, t: (s + 1, t + 1), "__ab_c")
    assert moved.trigger == EventSpan("ab", 2, 4, 0.5)
    assert moved.places[0].text == "c"


def test_normalize_events_adds_intervals_ranges_and_places():
    from model.events import DateArg, PlaceArg, normalize_events

    e = build_events(prediction(), 0, 0, PARA)[0]
    (n,) = normalize_events([e], "Sat, 07 Apr 2018 22:30:00 GMT")  # 8 April in UTC+3
    assert isinstance(n.dates[0], DateArg) and isinstance(n.places[0], PlaceArg)
    assert n.dates[0].interval.to_dict() == {"start": "2018-04-07", "end": "2018-04-07",
                                             "precision": "day"}  # أمس of 8 April
    assert n.places[0].geo.geonames_id == 170063 and n.places[0].geo.country == "SY"
    assert n.killed.value is None and 10 <= n.killed.min < n.killed.max  # عشرات: a range
    assert n.killed.conservative is not None
    assert (n.injured.min, n.injured.max, n.injured.conservative) == (14, 14, 14)
    data = json.loads(json.dumps(n.to_dict(), ensure_ascii=False))
    assert data["dates"][0]["interval"]["precision"] == "day"
    assert data["places"][0]["geo"]["name"] == "Aleppo"
    assert StrikeEvent.from_dict(data).to_dict() == data  # normalised values round-trip
    assert [s.text for s in n.spans()] == [s.text for s in e.spans()]  # offsets untouched


def test_normalize_without_publication_date_leaves_dates_unresolved():
    from model.events import normalize_events

    e = build_events(prediction(), 0, 0, PARA)[0]
    (n,) = normalize_events([e], None)
    assert "interval" not in n.to_dict()["dates"][0]  # no anchor: no interval at all
    assert n.places[0].geo is not None and n.strikes.min == 3
    with pytest.raises(ValueError, match="yesterday-ish"):
        normalize_events([e], "yesterday-ish")


def weapon_schema():
    """The standard schema plus a team's WEAPON label and ``weapon`` role."""
    from annotation.schema import SCHEMA, Schema

    return Schema(version="1.1+weapon", entity_labels=SCHEMA.entity_labels + ("WEAPON",),
                  roles={**SCHEMA.roles, "weapon": "WEAPON"})


WPARA = "قصفت طائرات مسيرة بصاروخين موجهين موقعا في حلب"


def wspan(text: str, label: str) -> Span:
    start = WPARA.index(text)
    return Span(start, start + len(text), label, text)


def test_an_extra_role_of_the_models_schema_is_kept_not_dropped():
    from model.events import normalize_events

    strike, weapon = wspan("قصفت", "STRIKE"), wspan("بصاروخين موجهين", "WEAPON")
    place = wspan("حلب", "PLACE")
    pred = ParagraphPrediction(
        [strike, weapon, place],
        [Relation(strike, "weapon", weapon), Relation(strike, "place", place)],
        [0.9, 0.8, 0.7], [0.6, 0.5],
    )
    offset = 100
    # the standard schema does not allow "weapon": the relation is ignored, as documented
    (plain,) = build_events(pred, 1, offset, WPARA)
    assert plain.extra == {} and "extra" not in plain.to_dict()
    (event,) = build_events(pred, 1, offset, WPARA, schema=weapon_schema())
    (arg,) = event.extra["weapon"]
    assert arg == EventSpan("بصاروخين موجهين", offset + weapon.start, offset + weapon.end, 0.6)
    article = " " * offset + WPARA
    assert article[arg.start:arg.end] == arg.text
    assert [a.text for a in event.places] == ["حلب"]  # the standard roles keep their fields
    assert ("weapon", arg) in event.arguments() and arg in event.spans()

    data = json.loads(json.dumps(event.to_dict(), ensure_ascii=False))
    assert data["extra"] == {"weapon": [{"text": "بصاروخين موجهين", "start": arg.start,
                                         "end": arg.end, "score": 0.6}]}
    assert StrikeEvent.from_dict(data) == event and StrikeEvent.from_dict(data).to_dict() == data
    moved = event.map_offsets(lambda s, e: (s - offset, e - offset), WPARA)
    assert moved.extra["weapon"][0].text == "بصاروخين موجهين"
    assert moved.extra["weapon"][0].start == weapon.start
    (normalised,) = normalize_events([event])
    assert normalised.extra == event.extra


def test_an_extra_count_role_gets_its_number():
    from annotation.schema import SCHEMA, Schema

    schema = Schema(version="1.1+missing", entity_labels=SCHEMA.entity_labels,
                    roles={**SCHEMA.roles, "missing": "COUNT"})
    text = "غارة على حلب وفقدان ثلاثة أشخاص"
    strike = Span(0, 4, "STRIKE", "غارة")
    start = text.index("ثلاثة")
    count = Span(start, start + 5, "COUNT", "ثلاثة")
    pred = ParagraphPrediction([strike, count], [Relation(strike, "missing", count)])
    (event,) = build_events(pred, 0, 0, text, schema=schema)
    assert event.extra["missing"] == [Count("ثلاثة", start, start + 5, None, 3)]
    assert event.killed is None  # never mixed into a standard field
    data = event.to_dict()
    assert data["extra"]["missing"][0]["value"] == 3
    assert StrikeEvent.from_dict(data) == event
