"""Records: one per incident, built from an article's mention events (docs/RECORDS.md).

A news article mentions one strike many times (headline, lead, a restatement with the toll)
and also sums strikes up over weeks and provinces ("غارات التحالف منذ 2014"). A record per
mention overcounts about six-fold, so :func:`build_records` groups an article's normalised
mention events (:func:`model.events.normalize_events`) into records:

- each mention gets a date interval: the narrowest interval its DATE arguments resolve to
  (``date_source: "text"``); with no DATE, the publication window ``[anchor-2, anchor]``
  (``date_source: "published"``, precision ``days``); with DATE text that resolves to nothing
  (مؤخرا، منذ سنوات) no interval (``date_source: "unresolved"``);
- its kind: ``incident`` for an interval of at most 7 days (DATES.md precision day/days),
  ``aggregate`` for a longer one, an unresolved date or places in more than one province (a
  summary over weeks, months, provinces or a campaign: never merged into a day's
  incidents), ``planned`` for an interval that starts after the publication day (المقبل);
- in text order, a mention joins the most recent record of its kind that it is compatible
  with (date intervals overlap -- aggregates: the same interval --, places compatible,
  actors compatible, targets compatible; an empty side is compatible with anything), else
  it opens a record. Places are compatible when they share a gazetteer id (or a name when
  unresolved) or one contains the other (a country contains its towns, a province the
  towns of its admin1); only the most specific places of a record count, so "سوريا" does
  not make Aleppo's record accept Raqqa. Actors and targets are compatible when both are
  empty or they share a content word (without clitics, the article and generic heads such
  as طائرات/قوات/مواقع).

Every record lists its mentions as evidence (article offsets, paragraph) and carries its
source (article id, url, outlet, publication date) as one :class:`Report`; merging records
across articles (model/incidents.py) unions the reports and evidence and recomputes the rest
with :func:`merge_records`, so both levels share one type and one set of rules. A report's
place keys (what cross-article linking compares) are its most specific places below country
level.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .dates import DateRange, publication_anchor
from .events import COUNT_FIELDS, Count, DateArg, PlaceArg, StrikeEvent, normalize_events
from .numbers import normalize_word

__all__ = [
    "Source", "Figure", "Evidence", "Report", "Record", "build_records", "merge_records",
    "place_key", "actor_keys", "PUBLISHED_WINDOW_DAYS", "INCIDENT_MAX_DAYS", "KINDS",
]

#: a mention without DATE happened within this many days before publication (and that day)
PUBLISHED_WINDOW_DAYS = 2
#: an interval longer than this many days is a summary (DATES.md precision "days" is <= 7)
INCIDENT_MAX_DAYS = 7
KINDS = ("incident", "aggregate", "planned")

# generic heads that say nothing about who or what (طائرات التحالف ~ طيران التحالف)
_GENERIC = {normalize_word(w) for w in (
    "طائرات", "طائرة", "طيران", "مقاتلات", "مقاتلة", "قوات", "القوات", "الحربية", "حربية",
    "الجوية", "جوية", "سلاح", "الجو", "مروحيات", "مدفعية", "جيش", "الجيش", "الدولي", "التابعة",
    "تابعة", "مواقع", "موقع", "مقار", "مقر", "مراكز", "مركز", "عناصر", "تجمعات", "تجمع", "من",
    "في", "على", "عن", "الى", "إلى",
)}
_CLITIC = re.compile(r"^(?:وبال|وال|بال|فال|كال|لل|ال|و|ف|ب|ل)(?=..)")


def _text_keys(texts: Iterable[str]) -> frozenset[str]:
    """Content words of ``texts`` (normalised, clitics and generic heads dropped)."""
    keys = set()
    for text in texts:
        for word in re.findall(r"\w+", unicodedata.normalize("NFC", text)):
            word = normalize_word(word)
            if word in _GENERIC:
                continue
            bare = _CLITIC.sub("", word)
            if bare and bare not in _GENERIC and not bare.isdigit():
                keys.add(bare)
    return frozenset(keys)


def actor_keys(texts: Iterable[str]) -> frozenset[str]:
    """The keys two actor (or target) lists are compared by: they are compatible when
    either is empty or the keys meet."""
    return _text_keys(texts)


def _compatible_keys(a: frozenset[str], b: frozenset[str]) -> bool:
    return not a or not b or bool(a & b)


def place_key(place: Mapping[str, Any]) -> str:
    """``gn:<GeoNames id>`` for a resolved place, else ``name:<normalised query>``."""
    if place.get("geonames_id") is not None:
        return f"gn:{place['geonames_id']}"
    query = place.get("query") or place.get("text") or ""
    words = sorted(_text_keys([query]))
    return "name:" + (" ".join(words) if words else normalize_word(query.strip()))


def _contains(p: Mapping[str, Any], q: Mapping[str, Any]) -> bool:
    """Whether place ``p`` (a country or province) contains place ``q``."""
    if p.get("precision") == "country" and p.get("country"):
        return q.get("country") == p["country"] and place_key(q) != place_key(p)
    if p.get("precision") == "province" and p.get("admin1"):
        return (q.get("admin1") == p["admin1"] and q.get("country") == p.get("country")
                and q.get("precision") not in ("province", "country"))
    return False


def _specific(places: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The places that contain no other place of the list."""
    return [p for p in places if not any(_contains(p, q) for q in places if q is not p)]


def _places_compatible(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> bool:
    if not a or not b:
        return True
    sa, sb = _specific(a), _specific(b)
    return any(place_key(p) == place_key(q) or _contains(p, q) or _contains(q, p)
               for p in sa for q in sb)


# -- plain data types ----------------------------------------------------------------------
def _date_range(start: dt.date, end: dt.date) -> DateRange:
    return DateRange(start, end)  # precision follows from the interval (model/dates.py)


def _dr_from(d: Mapping[str, Any] | None) -> DateRange | None:
    return None if d is None else DateRange.from_dict(d)


@dataclass(frozen=True)
class Source:
    """Where a record was read: the article's id, url, outlet and publication date."""

    article_id: str
    url: str | None = None
    outlet: str | None = None
    published: str | None = None

    @classmethod
    def from_article(cls, article: Mapping[str, Any]) -> "Source":
        """From an article object of the corpus or batch input: ``id`` (or ``article_id``),
        ``url``, ``outlet`` (or ``source``), ``published`` (or ``date``)."""
        aid = article.get("id", article.get("article_id"))
        if aid is None:
            raise ValueError("article has no id")
        published = article.get("published", article.get("date"))
        return cls(str(aid), article.get("url"), article.get("outlet", article.get("source")),
                   None if published is None else str(published))

    def to_dict(self) -> dict[str, Any]:
        return {"article_id": self.article_id, "url": self.url, "outlet": self.outlet,
                "published": self.published}


@dataclass(frozen=True)
class Figure:
    """A count across mentions/sources: the lowest and highest figure any of them allows,
    ACLED's conservative figure (the lowest conservative one) and the texts it came from."""

    min: int | None
    max: int | None
    conservative: int | None
    texts: tuple[str, ...] = ()

    @classmethod
    def from_count(cls, count: Count) -> "Figure":
        low = count.min if count.min is not None else count.value
        high = count.max if count.max is not None else count.value
        cons = count.conservative if count.conservative is not None else count.value
        return cls(low, high, cons, (count.text,))

    @classmethod
    def combine(cls, figures: Iterable["Figure | None"]) -> "Figure | None":
        figures = [f for f in figures if f is not None]
        if not figures:
            return None

        def pick(values, fn):
            values = [v for v in values if v is not None]
            return fn(values) if values else None

        return cls(pick((f.min for f in figures), min), pick((f.max for f in figures), max),
                   pick((f.conservative for f in figures), min),
                   tuple(sorted({t for f in figures for t in f.texts})))

    def to_dict(self) -> dict[str, Any]:
        return {"min": self.min, "max": self.max, "conservative": self.conservative,
                "texts": list(self.texts)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "Figure | None":
        if d is None:
            return None
        return cls(d.get("min"), d.get("max"), d.get("conservative"), tuple(d.get("texts", ())))


@dataclass(frozen=True)
class Evidence:
    """One mention: its trigger and arguments with offsets into its article's text."""

    article_id: str
    paragraph: int | None
    trigger: tuple[str, int, int]
    arguments: tuple[tuple[str, str, int, int], ...] = ()  # (role field, text, start, end)

    @classmethod
    def from_event(cls, article_id: str, event: StrikeEvent) -> "Evidence":
        args = [(name, a.text, a.start, a.end) for name, a in event.arguments()]
        t = event.trigger
        return cls(article_id, event.paragraph.index if event.paragraph else None,
                   (t.text, t.start, t.end), tuple(sorted(args, key=lambda a: (a[2], a[3], a[0]))))

    def to_dict(self) -> dict[str, Any]:
        text, start, end = self.trigger
        return {
            "article_id": self.article_id, "paragraph": self.paragraph,
            "trigger": {"text": text, "start": start, "end": end},
            "arguments": [{"role": r, "text": t, "start": s, "end": e}
                          for r, t, s, e in self.arguments],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Evidence":
        t = d["trigger"]
        return cls(str(d["article_id"]), d.get("paragraph"), (t["text"], t["start"], t["end"]),
                   tuple((a["role"], a["text"], a["start"], a["end"])
                         for a in d.get("arguments", ())))

    def sort_key(self) -> tuple:
        return (self.article_id, self.trigger[1], self.trigger[2])


@dataclass(frozen=True)
class Report:
    """What one article says about one incident: the unit records are linked by across
    articles (its own interval, place keys and actor keys, so that merging merged records
    links exactly what merging their articles' records links)."""

    record_id: str
    source: Source
    kind: str
    date: DateRange | None
    date_source: str | None
    place_keys: tuple[str, ...]
    actor_keys: tuple[str, ...]
    strikes: Figure | None = None
    killed: Figure | None = None
    injured: Figure | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id, **self.source.to_dict(), "kind": self.kind,
            "date": None if self.date is None else self.date.to_dict(),
            "date_source": self.date_source, "place_keys": list(self.place_keys),
            "actor_keys": list(self.actor_keys),
            **{n: (None if (f := getattr(self, n)) is None else f.to_dict())
               for n in COUNT_FIELDS.values()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Report":
        return cls(
            d["record_id"], Source(d["article_id"], d.get("url"), d.get("outlet"),
                                   d.get("published")),
            d.get("kind", "incident"), _dr_from(d.get("date")), d.get("date_source"),
            tuple(d.get("place_keys", ())), tuple(d.get("actor_keys", ())),
            **{n: Figure.from_dict(d.get(n)) for n in COUNT_FIELDS.values()},
        )


@dataclass(frozen=True)
class Record:
    """One incident (or aggregate, or planned strike) with its evidence and sources.

    JSON Lines of ``Record.to_dict()`` are the source of truth; every field is documented in
    docs/RECORDS.md.
    """

    id: str
    kind: str
    date: DateRange | None
    date_source: str | None
    places: tuple[dict[str, Any], ...]
    actors: tuple[str, ...]
    targets: tuple[str, ...]
    strikes: Figure | None
    killed: Figure | None
    injured: Figure | None
    evidence: tuple[Evidence, ...]
    reports: tuple[Report, ...]
    first_reported: str | None = None
    last_reported: str | None = None

    @property
    def sources(self) -> list[Source]:
        return [r.source for r in self.reports]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind,
            "date": None if self.date is None else self.date.to_dict(),
            "date_source": self.date_source,
            "places": [dict(p) for p in self.places],
            "actors": list(self.actors), "targets": list(self.targets),
            **{n: (None if (f := getattr(self, n)) is None else f.to_dict())
               for n in COUNT_FIELDS.values()},
            "sources": [s.to_dict() for s in self.sources],
            "first_reported": self.first_reported, "last_reported": self.last_reported,
            "evidence": [e.to_dict() for e in self.evidence],
            "reports": [r.to_dict() for r in self.reports],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Record":
        """Inverse of :meth:`to_dict`; a missing required field raises ``KeyError``/
        ``ValueError`` that the caller reports with the line it came from."""
        if d.get("kind") not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {d.get('kind')!r}")
        return cls(
            str(d["id"]), d["kind"], _dr_from(d.get("date")), d.get("date_source"),
            tuple(dict(p) for p in d.get("places", ())), tuple(d.get("actors", ())),
            tuple(d.get("targets", ())),
            *(Figure.from_dict(d.get(n)) for n in COUNT_FIELDS.values()),
            tuple(Evidence.from_dict(e) for e in d.get("evidence", ())),
            tuple(Report.from_dict(r) for r in d["reports"]),
            d.get("first_reported"), d.get("last_reported"),
        )


# -- one article ----------------------------------------------------------------------------
@dataclass
class _Group:
    kind: str
    date: Any  # DateRange | None: the intersection of the members' text dates, or the window
    date_source: str | None
    date_key: str | None  # aggregates with an unresolved date: the date text
    events: list[StrikeEvent]
    places: list[dict[str, Any]]
    actors: frozenset[str]
    targets: frozenset[str]


def _place_dict(a: Any) -> dict[str, Any]:
    geo = a.geo.to_dict() if isinstance(a, PlaceArg) and a.geo is not None else {}
    place = {**geo, "text": a.text}
    if "status" not in place:
        place["status"] = "unresolved"
    place["key"] = place_key(place)
    return place


def _provinces(places: Sequence[Mapping[str, Any]]) -> set[tuple[Any, Any]]:
    """(country, admin1) of the resolved places below country level."""
    return {(p.get("country"), p.get("admin1")) for p in _specific(places)
            if p.get("geonames_id") is not None and p.get("precision") != "country"}


def _mention_date(event: StrikeEvent, anchor: dt.date | None,
                  places: Sequence[Mapping[str, Any]] = ()) -> tuple[Any, str | None, str]:
    """(interval, date_source, kind) of one mention."""
    intervals = [a.interval for a in event.dates if isinstance(a, DateArg) and a.interval]
    spread = len(_provinces(places)) > 1  # strikes over several provinces: a summary
    if intervals:
        best = min(intervals, key=lambda r: ((r.end - r.start).days, r.start))
        if (best.end - best.start).days + 1 > INCIDENT_MAX_DAYS or spread:
            return best, "text", "aggregate"
        if anchor is not None and best.start > anchor:
            return best, "text", "planned"
        return best, "text", "incident"
    if event.dates and anchor is not None:
        return None, "unresolved", "aggregate"
    kind = "aggregate" if spread else "incident"
    if anchor is None:
        return None, None, kind
    start = anchor - dt.timedelta(days=PUBLISHED_WINDOW_DAYS)
    return _date_range(start, anchor), "published", kind


def _overlap(a: Any, b: Any) -> Any:
    """The intersection of two DateRanges, or None when they do not meet."""
    start, end = max(a.start, b.start), min(a.end, b.end)
    return _date_range(start, end) if start <= end else None


def _joins(group: _Group, kind: str, date: Any, source: str | None, date_key: str | None,
           places: list[dict[str, Any]], actors: frozenset[str], targets: frozenset[str]) -> bool:
    if group.kind != kind:
        return False
    if kind == "aggregate":
        if (group.date, group.date_key) != (date, date_key):
            return False
    elif group.date is not None and date is not None and _overlap(group.date, date) is None:
        return False
    return (_places_compatible(group.places, places) and _compatible_keys(group.actors, actors)
            and _compatible_keys(group.targets, targets))


def build_records(
    events: Sequence[StrikeEvent], article: Mapping[str, Any], *, normalize: bool = True,
    gazetteer: Any = None,
) -> list[Record]:
    """The records of one article from its mention events (article offsets).

    ``article`` carries ``id`` and optionally ``url``, ``outlet``/``source`` and
    ``published``/``date`` (:meth:`Source.from_article`). With ``normalize`` (default) the
    events are first passed through :func:`model.events.normalize_events`; pass
    ``normalize=False`` for events that already are. An unparseable publication date raises
    ``ValueError`` naming it.
    """
    source = Source.from_article(article)
    anchor = publication_anchor(source.published) if source.published is not None else None
    if normalize:
        events = normalize_events(events, anchor, gazetteer)
    groups: list[_Group] = []
    for event in sorted(events, key=lambda e: (e.trigger.start, e.trigger.end)):
        places = [_place_dict(a) for a in event.places]
        date, date_source, kind = _mention_date(event, anchor, places)
        date_key = (" ".join(sorted(_text_keys(a.text for a in event.dates)))
                    if date_source == "unresolved" else None)
        actors = actor_keys(a.text for a in event.actors)
        targets = _text_keys(a.text for a in event.targets)
        for group in reversed(groups):  # the most recent compatible record
            if _joins(group, kind, date, date_source, date_key, places, actors, targets):
                if kind != "aggregate" and date is not None:
                    if group.date is None or (group.date_source == "published"
                                              and date_source == "text"):
                        group.date, group.date_source = date, date_source
                    elif date_source == group.date_source or date_source == "text":
                        group.date = _overlap(group.date, date)
                group.events.append(event)
                seen = {p["key"] for p in group.places}
                group.places.extend(p for p in places if p["key"] not in seen)
                group.actors |= actors
                group.targets |= targets
                break
        else:
            groups.append(_Group(kind, date, date_source, date_key, [event], places, actors,
                                 targets))
    return [_group_record(g, source, anchor) for g in groups]


def _unique(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(texts))


def _record_id(parts: Iterable[str]) -> str:
    return hashlib.sha1("\n".join(sorted(parts)).encode("utf-8")).hexdigest()[:16]


def _group_record(group: _Group, source: Source, anchor: dt.date | None) -> Record:
    evidence = tuple(sorted((Evidence.from_event(source.article_id, e) for e in group.events),
                            key=Evidence.sort_key))
    rid = _record_id([f"{source.article_id}:{e.trigger[1]}:{e.trigger[2]}" for e in evidence])
    figures = {n: Figure.combine(Figure.from_count(c) for e in group.events
                                 if (c := getattr(e, n)) is not None)
               for n in COUNT_FIELDS.values()}
    actors = _unique(a.text for e in group.events for a in e.actors)
    # linking keys: the most specific places, never a whole country (two reports of strikes
    # "in Syria" on one day are not thereby one incident)
    keys = {p["key"] for p in _specific(group.places) if p.get("precision") != "country"}
    report = Report(rid, source, group.kind, group.date, group.date_source, tuple(sorted(keys)),
                    tuple(sorted(actor_keys(actors))), **figures)
    day = None if anchor is None else anchor.isoformat()
    return Record(
        rid, group.kind, group.date, group.date_source, tuple(group.places), actors,
        _unique(a.text for e in group.events for a in e.targets), **figures,
        evidence=evidence, reports=(report,), first_reported=day, last_reported=day,
    )


# -- several articles -------------------------------------------------------------------------
def merge_records(records: Sequence[Record]) -> Record:
    """One record from records of the same incident (model/incidents.py decides which).

    A pure function of the set of reports and evidence: the input order does not matter and
    merging a merged record again changes nothing. The date is the intersection of the
    reports' intervals (their hull where a chain of overlaps leaves none), casualty figures
    span all sources with the lowest conservative figure (ACLED's rule for conflicting
    reports), and the places, actors and targets are the union in a stable order.
    """
    if len(records) == 1:
        return records[0]
    reports = {r.record_id: r for rec in records for r in rec.reports}
    ordered = tuple(reports[k] for k in sorted(reports))
    evidence = tuple(sorted({e for rec in records for e in rec.evidence}, key=Evidence.sort_key))
    recs = sorted(records, key=lambda r: r.id)
    dated = [r.date for r in ordered if r.date is not None]
    date = None
    if dated:
        start, end = max(d.start for d in dated), min(d.end for d in dated)
        if start > end:
            start, end = min(d.start for d in dated), max(d.end for d in dated)
        date = _date_range(start, end)
    sources = {r.date_source for r in ordered}
    date_source = "text" if "text" in sources else ("published" if "published" in sources
                                                     else None)
    kinds = {r.kind for r in ordered}
    kind = "incident" if "incident" in kinds else sorted(kinds)[0]
    places: dict[str, dict[str, Any]] = {}
    for rec in recs:
        for p in rec.places:
            places.setdefault(p.get("key") or place_key(p), dict(p))
    figures = {n: Figure.combine(getattr(r, n) for r in ordered) for n in COUNT_FIELDS.values()}
    days = [d for rec in recs for d in (rec.first_reported, rec.last_reported) if d]
    return Record(
        _record_id(reports), kind, date, date_source,
        tuple(places[k] for k in sorted(places)),
        tuple(sorted({a for rec in recs for a in rec.actors})),
        tuple(sorted({t for rec in recs for t in rec.targets})), **figures,
        evidence=evidence, reports=ordered,
        first_reported=min(days) if days else None, last_reported=max(days) if days else None,
    )
