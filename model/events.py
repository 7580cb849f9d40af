"""Strike-event records: one STRIKE span with its outgoing relations is one event.

``build_events`` turns one paragraph's :class:`~model.predictions.ParagraphPrediction`
(paragraph coordinates) into :class:`StrikeEvent` records whose offsets index the article.
A COUNT argument also gets its integer value (:func:`model.numbers.parse_count`; ``None`` for
vague quantifiers such as عشرات, the text is kept).

:func:`normalize_events` adds the normalised values that records are built from (issue 8,
docs/RECORDS.md): each COUNT its range (``min``/``max``/``conservative``, model/numbers.py),
each DATE its calendar interval (``interval``, model/dates.py; only when the article's
publication date is known, since every relative date needs that anchor) and each PLACE its
gazetteer entry (``geo``, model/places.py). Mention events stay what the network read; the
normalised values ride along so one event dict carries both the words and what they mean.

The roles come from the schema the model was trained with (``build_events(...,
schema=model.schema)``). The standard roles (SCHEMA.md) keep their named fields; a role the
standard schema does not have (a team's extra ``weapon`` role, say) goes to
``StrikeEvent.extra`` -- role -> list of arguments -- so it is never silently dropped.

Where the model links several COUNTs with the same role to one trigger (two "killed"
numbers), the event keeps the one with the highest relation score: a record has one
``strikes``, one ``killed`` and one ``injured`` number (SCHEMA.md, "An event").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from annotation.schema import SCHEMA, Schema

from .numbers import parse_count
from .predictions import ParagraphPrediction

#: event field for each standard COUNT role (single-valued, named as the role) and for every
#: other standard role (list-valued, the role's plural), derived from the standard schema;
#: any other role of a model's schema lands in ``StrikeEvent.extra``
COUNT_FIELDS = {role: role for role in SCHEMA.roles_for("COUNT")}
LIST_FIELDS = {role: f"{role}s" for role in SCHEMA.role_names if role not in COUNT_FIELDS}
#: the label of the COUNT roles: an extra role with this tail label gets a parsed Count too
_COUNT_LABELS = frozenset(SCHEMA.roles[role] for role in COUNT_FIELDS)


def _round(score: float | None) -> float | None:
    return None if score is None else round(float(score), 4)


@dataclass(frozen=True)
class EventSpan:
    """An argument or trigger: its text and character offsets into the input article."""

    text: str
    start: int
    end: int
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "score": _round(self.score)}


#: an argument of an event (same fields as a trigger)
Argument = EventSpan


@dataclass(frozen=True)
class Count(EventSpan):
    """A COUNT argument with its integer value (``None`` when the text is vague) and, once
    normalised, the range the text allows and ACLED's conservative figure."""

    value: int | None = None
    min: int | None = None
    max: int | None = None
    conservative: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "value": self.value, "min": self.min, "max": self.max,
                "conservative": self.conservative}


@dataclass(frozen=True)
class DateArg(EventSpan):
    """A DATE argument resolved to calendar days (``interval``: a model.dates.DateRange, or
    ``None`` when DATES.md gives no interval for the text)."""

    interval: Any = None

    def to_dict(self) -> dict[str, Any]:
        interval = None if self.interval is None else self.interval.to_dict()
        return {**super().to_dict(), "interval": interval}


@dataclass(frozen=True)
class PlaceArg(EventSpan):
    """A PLACE argument with its gazetteer entry (``geo``: a model.places.Place; an
    unresolved place is a Place with status "unresolved", never a guess)."""

    geo: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "geo": None if self.geo is None else self.geo.to_dict()}


@dataclass(frozen=True)
class ParagraphRef:
    """Which paragraph (non-blank line) of the article the event was read from."""

    index: int
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "start": self.start, "end": self.end}


@dataclass
class StrikeEvent:
    """One strike event (SCHEMA.md "An event"); offsets index the input article."""

    trigger: EventSpan
    actors: list[EventSpan] = field(default_factory=list)
    targets: list[EventSpan] = field(default_factory=list)
    places: list[EventSpan] = field(default_factory=list)
    dates: list[EventSpan] = field(default_factory=list)
    strikes: Count | None = None
    killed: Count | None = None
    injured: Count | None = None
    paragraph: ParagraphRef | None = None
    #: arguments of roles outside the standard schema (a model trained with extra roles):
    #: role -> arguments in offset order
    extra: dict[str, list[EventSpan]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``json.dumps(event.to_dict(), ensure_ascii=False)``).

        ``extra`` (role -> list of argument dicts) is present only when the event has
        arguments of non-standard roles, so standard-schema output keeps its shape.
        """
        out: dict[str, Any] = {"trigger": self.trigger.to_dict()}
        for name in LIST_FIELDS.values():
            out[name] = [a.to_dict() for a in getattr(self, name)]
        for name in COUNT_FIELDS.values():
            value = getattr(self, name)
            out[name] = None if value is None else value.to_dict()
        out["paragraph"] = None if self.paragraph is None else self.paragraph.to_dict()
        if self.extra:
            out["extra"] = {role: [a.to_dict() for a in args] for role, args in self.extra.items()}
        return out

    def arguments(self) -> list[tuple[str, EventSpan]]:
        """Every argument as ``(field or extra role, span)``: the named fields, then extra."""
        out: list[tuple[str, EventSpan]] = []
        for name in LIST_FIELDS.values():
            out.extend((name, a) for a in getattr(self, name))
        out.extend((name, c) for name in COUNT_FIELDS.values() if (c := getattr(self, name)))
        out.extend((role, a) for role, args in self.extra.items() for a in args)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StrikeEvent":
        def span(d):
            base = (d["text"], d["start"], d["end"], d.get("score"))
            if "interval" in d:
                return DateArg(*base, interval=_date_range(d["interval"]))
            if "geo" in d:
                return PlaceArg(*base, geo=_place(d["geo"]))
            return EventSpan(*base)

        def count(d):
            if d is None:
                return None
            return Count(d["text"], d["start"], d["end"], d.get("score"), d.get("value"),
                         d.get("min"), d.get("max"), d.get("conservative"))

        def extra_arg(d):
            return count(d) if "value" in d else span(d)

        return cls(
            trigger=span(data["trigger"]),
            **{name: [span(a) for a in data.get(name, [])] for name in LIST_FIELDS.values()},
            **{name: count(data.get(name)) for name in COUNT_FIELDS.values()},
            paragraph=ParagraphRef(**data["paragraph"]) if data.get("paragraph") else None,
            extra={role: [extra_arg(a) for a in args]
                   for role, args in (data.get("extra") or {}).items()},
        )

    def spans(self) -> list[EventSpan]:
        """Trigger and every argument (for offset checks)."""
        return [self.trigger] + [a for _, a in self.arguments()]

    def map_offsets(self, fn: Callable[[int, int], tuple[int, int]], text: str) -> "StrikeEvent":
        """A copy with every ``(start, end)`` mapped by ``fn`` and ``text`` re-read from
        ``text`` (used to go from NFC offsets back to the caller's original text)."""

        def move(s):
            start, end = fn(s.start, s.end)
            return replace(s, start=start, end=end, text=text[start:end])

        paragraph = None
        if self.paragraph is not None:
            start, end = fn(self.paragraph.start, self.paragraph.end)
            paragraph = ParagraphRef(self.paragraph.index, start, end)
        return StrikeEvent(
            trigger=move(self.trigger),
            **{name: [move(a) for a in getattr(self, name)] for name in LIST_FIELDS.values()},
            **{
                name: (move(c) if (c := getattr(self, name)) else None)
                for name in COUNT_FIELDS.values()
            },
            paragraph=paragraph,
            extra={role: [move(a) for a in args] for role, args in self.extra.items()},
        )



def _date_range(d: dict[str, Any] | None) -> Any:
    if d is None:
        return None
    from .dates import DateRange

    return DateRange.from_dict(d)


def _place(d: dict[str, Any] | None) -> Any:
    if d is None:
        return None
    from dataclasses import fields as dc_fields

    from .places import Place

    if hasattr(Place, "from_dict"):
        return Place.from_dict(d)
    return Place(**{f.name: d.get(f.name) for f in dc_fields(Place)})


def normalize_events(
    events: Sequence[StrikeEvent], published: Any = None, gazetteer: Any = None
) -> list[StrikeEvent]:
    """Copies of ``events`` with normalised values: COUNT ranges, DATE intervals (only when
    ``published`` -- the article's publication date, any form model.dates accepts -- is
    known) and PLACE gazetteer entries.

    The extractor and batch call this once per article. An unparseable ``published`` raises
    ``ValueError`` naming the value (the caller counts and reports the article); a text the
    normalisers cannot read gets ``None``/"unresolved", it never stops the article.
    """
    from .dates import publication_anchor, resolve_date
    from .numbers import count_range
    from .places import Gazetteer, resolve_place

    anchor = publication_anchor(published) if published is not None else None
    places: dict[str, Any] = {}
    dates: dict[str, Any] = {}

    def place(a: EventSpan) -> PlaceArg:
        nonlocal gazetteer
        if a.text not in places:
            if gazetteer is None:  # loaded (and cached) only when a place needs it
                gazetteer = Gazetteer.default()
            places[a.text] = resolve_place(a.text, gazetteer)
        return PlaceArg(a.text, a.start, a.end, a.score, geo=places[a.text])

    def date(a: EventSpan) -> EventSpan:
        if anchor is None:
            return EventSpan(a.text, a.start, a.end, a.score)
        if a.text not in dates:
            dates[a.text] = resolve_date(a.text, anchor)
        return DateArg(a.text, a.start, a.end, a.score, interval=dates[a.text])

    def count(c: Count | None) -> Count | None:
        if c is None:
            return None
        r = count_range(c.text)
        return replace(c, min=r.min, max=r.max, conservative=r.conservative)

    return [
        replace(
            e,
            places=[place(a) for a in e.places],
            dates=[date(a) for a in e.dates],
            **{name: count(getattr(e, name)) for name in COUNT_FIELDS.values()},
            extra={role: [count(a) if isinstance(a, Count) else a for a in args]
                   for role, args in e.extra.items()},
        )
        for e in events
    ]


_missing = set(LIST_FIELDS.values()) | set(COUNT_FIELDS.values())
_missing -= {f.name for f in fields(StrikeEvent)}
assert not _missing, f"StrikeEvent lacks fields for schema roles: {_missing}"

def build_events(
    paragraph_prediction: ParagraphPrediction,
    paragraph_index: int,
    paragraph_start: int,
    paragraph_text: str,
    schema: Schema = SCHEMA,
) -> list[StrikeEvent]:
    """Events of one paragraph, in trigger order, with article offsets.

    ``paragraph_prediction`` has ``spans``, ``relations``, ``span_scores`` and
    ``relation_scores`` in paragraph coordinates (model/predictions.py). ``schema`` is the
    one the model was trained with (``model.schema``): its trigger label makes an event and
    its roles decide which relations count. Every predicted trigger is an event, also one
    without arguments; a relation whose head is not a predicted trigger span (or whose role
    does not fit its tail's label in ``schema``) is ignored. A role outside the standard
    fields goes to ``StrikeEvent.extra``.
    """
    spans = list(paragraph_prediction.spans)
    span_scores: Sequence[float] = list(getattr(paragraph_prediction, "span_scores", None) or [])
    relations = list(paragraph_prediction.relations)
    relation_scores: Sequence[float] = list(
        getattr(paragraph_prediction, "relation_scores", None) or []
    )
    score_of = {
        (s.start, s.end, s.label): (span_scores[i] if i < len(span_scores) else None)
        for i, s in enumerate(spans)
    }
    ref = ParagraphRef(paragraph_index, paragraph_start, paragraph_start + len(paragraph_text))

    def event_span(span, score, cls=EventSpan):
        start, end = span.start + paragraph_start, span.end + paragraph_start
        text = paragraph_text[span.start : span.end]
        if cls is Count:
            return Count(text, start, end, score, parse_count(text))
        return EventSpan(text, start, end, score)

    triggers = sorted(
        {(s.start, s.end): s for s in spans if s.label == schema.trigger_label}.values(),
        key=lambda s: (s.start, s.end),
    )
    by_trigger: dict[tuple[int, int], list[tuple[Any, float | None]]] = {
        (t.start, t.end): [] for t in triggers
    }
    for i, rel in enumerate(relations):
        key = (rel.head.start, rel.head.end)
        if key not in by_trigger or not schema.allows(rel.head.label, rel.role, rel.tail.label):
            continue
        by_trigger[key].append((rel, relation_scores[i] if i < len(relation_scores) else None))

    events = []
    for trig in triggers:
        event = StrikeEvent(
            trigger=event_span(trig, score_of.get((trig.start, trig.end, trig.label))),
            paragraph=ref,
        )
        seen: set[tuple[str, int, int]] = set()
        best_count: dict[str, tuple[Any, float | None]] = {}
        for rel, score in sorted(by_trigger[(trig.start, trig.end)], key=lambda rs: rs[0].tail):
            key = (rel.role, rel.tail.start, rel.tail.end)
            if key in seen:
                continue
            seen.add(key)
            if rel.role in LIST_FIELDS:
                getattr(event, LIST_FIELDS[rel.role]).append(event_span(rel.tail, score))
            elif rel.role in COUNT_FIELDS:
                old = best_count.get(rel.role)
                if old is None or (score or 0.0) > (old[1] or 0.0):
                    best_count[rel.role] = (rel, score)
            else:  # a role of the model's own schema without a named field
                cls = Count if rel.tail.label in _COUNT_LABELS else EventSpan
                event.extra.setdefault(rel.role, []).append(event_span(rel.tail, score, cls))
        for role, (rel, score) in best_count.items():
            setattr(event, COUNT_FIELDS[role], event_span(rel.tail, score, Count))
        events.append(event)
    return events
