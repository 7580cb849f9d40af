"""Strike-event records: one STRIKE span with its outgoing relations is one event.

``build_events`` turns one paragraph's :class:`~model.inference.ParagraphPrediction`
(paragraph coordinates) into :class:`StrikeEvent` records whose offsets index the article.
A COUNT argument also gets its integer value (:func:`model.numbers.parse_count`; ``None`` for
vague quantifiers such as عشرات, the text is kept).

Where the model links several COUNTs with the same role to one trigger (two "killed"
numbers), the event keeps the one with the highest relation score: a record has one
``strikes``, one ``killed`` and one ``injured`` number (SCHEMA.md, "An event").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from annotation.schema import SCHEMA

from .numbers import parse_count

#: event field for each COUNT role (single-valued, named as the role) and for every other
#: role (list-valued, the role's plural), derived from the schema
COUNT_FIELDS = {role: role for role in SCHEMA.roles_for("COUNT")}
LIST_FIELDS = {role: f"{role}s" for role in SCHEMA.role_names if role not in COUNT_FIELDS}


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
    """A COUNT argument with its integer value (``None`` when the text is vague)."""

    value: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "value": self.value}


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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``json.dumps(event.to_dict(), ensure_ascii=False)``)."""
        out: dict[str, Any] = {"trigger": self.trigger.to_dict()}
        for name in LIST_FIELDS.values():
            out[name] = [a.to_dict() for a in getattr(self, name)]
        for name in COUNT_FIELDS.values():
            value = getattr(self, name)
            out[name] = None if value is None else value.to_dict()
        out["paragraph"] = None if self.paragraph is None else self.paragraph.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StrikeEvent":
        def span(d):
            return EventSpan(d["text"], d["start"], d["end"], d.get("score"))

        def count(d):
            if d is None:
                return None
            return Count(d["text"], d["start"], d["end"], d.get("score"), d.get("value"))

        return cls(
            trigger=span(data["trigger"]),
            **{name: [span(a) for a in data.get(name, [])] for name in LIST_FIELDS.values()},
            **{name: count(data.get(name)) for name in COUNT_FIELDS.values()},
            paragraph=ParagraphRef(**data["paragraph"]) if data.get("paragraph") else None,
        )

    def spans(self) -> list[EventSpan]:
        """Trigger and every argument (for offset checks)."""
        out = [self.trigger]
        for name in LIST_FIELDS.values():
            out.extend(getattr(self, name))
        out.extend(c for name in COUNT_FIELDS.values() if (c := getattr(self, name)))
        return out

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
        )



_missing = set(LIST_FIELDS.values()) | set(COUNT_FIELDS.values())
_missing -= {f.name for f in fields(StrikeEvent)}
assert not _missing, f"StrikeEvent lacks fields for schema roles: {_missing}"

def build_events(
    paragraph_prediction: Any,
    paragraph_index: int,
    paragraph_start: int,
    paragraph_text: str,
) -> list[StrikeEvent]:
    """Events of one paragraph, in trigger order, with article offsets.

    ``paragraph_prediction`` has ``spans``, ``relations``, ``span_scores`` and
    ``relation_scores`` in paragraph coordinates (model/inference.py). Every predicted
    STRIKE is an event, also one without arguments; a relation whose head is not a
    predicted STRIKE span (or whose role does not fit its tail's label) is ignored.
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
        {(s.start, s.end): s for s in spans if s.label == SCHEMA.trigger_label}.values(),
        key=lambda s: (s.start, s.end),
    )
    by_trigger: dict[tuple[int, int], list[tuple[Any, float | None]]] = {
        (t.start, t.end): [] for t in triggers
    }
    for i, rel in enumerate(relations):
        key = (rel.head.start, rel.head.end)
        if key not in by_trigger or not SCHEMA.allows(rel.head.label, rel.role, rel.tail.label):
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
        for role, (rel, score) in best_count.items():
            setattr(event, COUNT_FIELDS[role], event_span(rel.tail, score, Count))
        events.append(event)
    return events
