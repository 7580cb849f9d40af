"""DATE span text + publication date -> an inclusive interval of calendar days.

A strike record needs the day an event happened, not the words "فجر الخميس". This module
implements ``../shared/DATES.md`` (convention v1): a DATE span is resolved from its own text
and the article's publication date alone to ``DateRange(start, end, precision)``, or to
``None`` where those two inputs do not determine an interval (row 17: vague, habitual,
durations, clock times, dates relative to another event).

How it works: the text is normalised (NFC, no diacritics/tatweel, bare alef, any Unicode
digit -> ASCII, punctuation and "/" "-" "()" -> spaces, digits split from letters) and each
word is rewritten to a canonical token (``@w3`` a weekday, ``@m7`` a month of either series,
``@h9`` a Hijri month, ``@y2017`` a year, ``#8`` a day/number from digits, number words or
ordinals); leading و/في/ف are dropped; then the rows of DATES.md are tried as patterns on that
token string, most specific first.

Libraries and where the convention overrides them:
- ``email.utils`` (RFC 2822) and ``datetime.fromisoformat`` read the publication timestamp;
  ``dateparser`` is the fallback for other timestamp formats (strict: day, month and year
  required). The anchor is the UTC+3 date part (DATES.md), not dateparser's local zone.
- ``dateparser``'s Arabic locale gives the Egyptian/Gulf month names; it lacks the Levantine
  series (كانون الثاني ... أيلول), added here. dateparser is *not* used to resolve the span
  itself: its relative dates prefer the current/future period (``PREFER_DATES_FROM`` applies
  to the whole text), it has no "latest weekday ≤ anchor" rule (row 5) versus "< anchor" for
  أمس + weekday (row 2) and الماضي (row 6), no nights spanning two dates (row 4), and it
  turns parts of day and durations into clock times/now instead of a day or ``null``.
- ``hijridate`` converts Hijri dates ("15 رمضان 1436") and gives the Hijri month names.
- ``model.numbers.parse_count`` reads number words (ثلاثة أيام، الأربع وعشرين).

Readings where DATES.md has no row (all "anything else -> null" unless it extends a row):
"حتى/بحلول X" (until X) -> null; "من X" alone -> null; seasons: "صيف 2014" is a part of a
year (row 12) but "الصيف الماضي" -> null; "خلال N أشهر/الأشهر N الماضية" extend row 13;
decades/centuries extend rows 14-15 (عقد = 10 years); N hours in a window = ceil(N/24) days;
"الـ 23 من الشهر" = the latest 23rd ≤ anchor; "عيد الفطر/الأضحى" = 1 Shawwal / 10 Dhu
al-Hijja (hijridate), latest ≤ anchor; "X و Y"/"من X إلى Y" resolve Y, then X as its latest
occurrence before Y (row 8's rule, so "مايو ويونيو 2017" is May-June 2017).
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import email.utils
import math
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from model.numbers import normalize_word, parse_count

__all__ = ["DateRange", "publication_anchor", "resolve_date", "PRECISIONS"]

PRECISIONS = ("day", "days", "month", "year", "coarse")
UTC3 = dt.timezone(dt.timedelta(hours=3))


@dataclass(frozen=True)
class DateRange:
    """Inclusive interval of calendar days; ``precision`` follows from its length (DATES.md)."""

    start: dt.date
    end: dt.date
    precision: str = field(default="")

    def __post_init__(self) -> None:
        if not isinstance(self.start, dt.date) or not isinstance(self.end, dt.date):
            raise TypeError(f"DateRange needs dates, got {self.start!r}, {self.end!r}")
        if self.end < self.start:
            raise ValueError(f"DateRange end {self.end} is before start {self.start}")
        derived = _precision(self.start, self.end)
        if not self.precision:
            object.__setattr__(self, "precision", derived)
        elif self.precision != derived:
            raise ValueError(
                f"DateRange {self.start}..{self.end}: precision {self.precision!r} "
                f"does not match the interval ({derived!r})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def to_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "precision": self.precision}

    @classmethod
    def from_dict(cls, d: dict) -> "DateRange":
        """Inverse of :meth:`to_dict`; a bad value raises ValueError naming it."""
        try:
            start = dt.date.fromisoformat(d["start"])
            end = dt.date.fromisoformat(d["end"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a DateRange dict: {d!r} ({exc})") from None
        return cls(start, end, d.get("precision") or "")

    def overlaps(self, other: "DateRange") -> bool:
        return self.start <= other.end and other.start <= self.end


def _precision(start: dt.date, end: dt.date) -> str:
    n = (end - start).days + 1
    if n == 1:
        return "day"
    if n <= 7:
        return "days"
    if n <= 31:
        return "month"
    if n <= 366:
        return "year"
    return "coarse"


# -- the anchor ---------------------------------------------------------------------------

def publication_anchor(
    published: str | dt.date | dt.datetime | None,
) -> dt.date | None:
    """The publication day in UTC+3 (DATES.md "Anchor"); zone-less timestamps are local."""
    if published is None:
        return None
    if isinstance(published, dt.datetime):
        if published.tzinfo is not None and published.utcoffset() is not None:
            return published.astimezone(UTC3).date()
        return published.date()
    if isinstance(published, dt.date):
        return published
    if not isinstance(published, str):
        raise ValueError(f"publication date {published!r}: not a string or date")
    value = published.strip()
    if not value:
        raise ValueError("publication date '': empty")
    parsed: dt.datetime | None = None
    if re.match(r"^[A-Za-z]{3},|^\d{1,2} [A-Za-z]{3} \d{4}", value):
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = _dateparser_timestamp(value)
    if parsed is None:
        raise ValueError(f"publication date {published!r}: not a timestamp that can be parsed")
    return publication_anchor(parsed)


def _dateparser_timestamp(value: str) -> dt.datetime | None:
    import dateparser  # slow import: only for unusual timestamp formats

    return dateparser.parse(
        value, languages=["en", "ar"],
        settings={"STRICT_PARSING": True, "PREFER_DATES_FROM": "past"},
    )


# -- normalisation and canonical tokens ---------------------------------------------------

_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_PUNCT = re.compile(r"[\"'«»“”‘’()\[\]{}:;؛!؟?…,\u060c/\\\-–—_.]")
_CLOCK = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?")
_YMD = re.compile(r"\b(\d{4})[./-](\d{1,2})[./-](\d{1,2})\b")

_WEEKDAYS = {"الاثنين": 0, "الاتنين": 0, "الثلاثاء": 1, "الاربعاء": 2, "الخميس": 3,
             "الجمعه": 4, "السبت": 5, "الاحد": 6}
_GULF_FALLBACK = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس",
                  "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"]
_GULF_EXTRA = {"إبريل": 4, "ابريل": 4, "يونيه": 6, "يوليه": 7, "اغسطس": 8, "أغسطس": 8,
               "اكتوبر": 10, "أكتوبر": 10, "فبرایر": 2, "مايس": 5}
_LEVANT_ONE = {"شباط": 2, "آذار": 3, "اذار": 3, "نيسان": 4, "أيار": 5, "حزيران": 6,
               "تموز": 7, "آب": 8, "أيلول": 9}
_LEVANT_TWO = {("كانون", "الثاني"): 1, ("كانون", "الأول"): 12, ("تشرين", "الأول"): 10,
               ("تشرين", "الثاني"): 11}
_ORDINALS = {"الاول": 1, "الحادي": 1, "الثاني": 2, "الثالث": 3, "الرابع": 4, "الخامس": 5,
             "السادس": 6, "السابع": 7, "الثامن": 8, "التاسع": 9, "العاشر": 10}
_ORD_TENS = {"عشر": 10, "العشرين": 20, "والعشرين": 20, "الثلاثين": 30, "والثلاثين": 30}
# dual forms: a number and a unit in one word
_DUALS = {"يومين": "يوم", "يومان": "يوم", "اسبوعين": "اسبوع", "اسبوعان": "اسبوع",
          "شهرين": "شهر", "شهران": "شهر", "عامين": "عام", "عامان": "عام", "سنتين": "سنه",
          "سنتان": "سنه", "ساعتين": "ساعه", "عقدين": "عقد", "قرنين": "قرن"}
_YEAR_MARKERS = {"عام", "العام", "سنه", "السنه", "عان", "عامي", "لعام", "للعام", "بعام"}
_CLITIC_KNOWN = {"منذ", "خلال", "حتي", "قبل", "بعد", "في", "ليل", "ليله", "الليله", "فجر",
                 "مساء", "صباح", "عصر", "ظهر", "اليوم", "امس", "الامس", "يوم", "بين", "الي",
                 "اثناء", "طوال", "الليل", "اول", "اواخر", "مطلع", "نهايه", "بدايه", "منتصف",
                 "العام", "عام", "الشهر", "الاسبوع", "الايام", "الاسابيع", "الاشهر", "السنوات",
                 "باكرا", "اوائل", "يومي", "عامي", "هذا", "هذه", "بحلول", "البارحه", "وقت"}


@lru_cache(maxsize=1)
def _month_table() -> dict[str, int]:
    """Normalised month word -> month number (both series; two-word names handled apart)."""
    try:  # the Egyptian/Gulf series from dateparser's Arabic locale
        from dateparser.data.date_translation_data.ar import info

        names = [info[m] for m in ("january", "february", "march", "april", "may", "june",
                                   "july", "august", "september", "october", "november",
                                   "december")]
    except (ImportError, KeyError):  # pragma: no cover - dateparser is a dependency
        names = [[n] for n in _GULF_FALLBACK]
    table = {normalize_word(w): i + 1 for i, ws in enumerate(names) for w in ws}
    for surface, month in {**_GULF_EXTRA, **_LEVANT_ONE}.items():
        table[normalize_word(surface)] = month
    return table


@lru_cache(maxsize=1)
def _hijri_months() -> dict[tuple[str, ...], int]:
    """Normalised Hijri month name (as word tuple) -> month, from hijridate's own names."""
    from hijridate import Hijri

    table = {tuple(normalize_word(w) for w in Hijri(1440, m, 1).month_name("ar").split()): m
             for m in range(1, 13)}
    table[("ربيع", "الاخر")] = 4
    table[("جمادي", "الاخره")] = 6
    table[("جمادي", "الثانيه")] = 6
    table[("ذي", "القعده")] = 11
    table[("ذي", "الحجه")] = 12
    return table


def _normalize(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text)
    text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
    text = _TASHKEEL.sub("", text)
    text = _YMD.sub(lambda m: f" {m.group(3)} {m.group(2)} {m.group(1)} ", text)  # Y.M.D
    text = _CLOCK.sub(" @clock ", text)
    text = _PUNCT.sub(" ", text)
    text = re.sub(r"(?<=\d)(?=[^\d\s])|(?<=[^\d\s@#])(?=\d)", " ", text)
    return [normalize_word(w) for w in text.split()]


def _strip_clitic(word: str) -> tuple[str, str] | None:
    """('و', rest) when a word is a conjunction/preposition glued to a known date word."""
    table = _month_table()
    for prefix in ("وفي", "وب", "و", "ف", "ب", "ل"):
        rest = word[len(prefix):]
        if word.startswith(prefix) and len(rest) >= 2 and (
                rest in _CLITIC_KNOWN or rest in _WEEKDAYS or rest in table
                or rest in _ORDINALS or rest in _ORD_TENS):
            return prefix[0] if prefix[0] == "و" else "", rest
    return None


def _canonical(text: str) -> list[str]:
    """Normalised words -> canonical tokens (see the module docstring)."""
    words = _normalize(text)
    out: list[str] = []
    months, hijri = _month_table(), _hijri_months()
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w not in months and w not in _WEEKDAYS and w not in _CLITIC_KNOWN:
            split = _strip_clitic(w)
            if split:
                if split[0]:
                    out.append(split[0])
                w = split[1]
        if (w, nxt) in _levant_two():
            out.append(f"@m{_levant_two()[(w, nxt)]}")
            i += 2
            continue
        h = next((k for k in hijri if tuple(words[i:i + len(k)]) == k), None)
        if h:
            out.append(f"@h{hijri[h]}")
            i += len(h)
            continue
        if w in _WEEKDAYS:
            out.append(f"@w{_WEEKDAYS[w]}")
        elif w in months:
            out.append(f"@m{months[w]}")
        elif w in ("امس", "الامس", "البارحه"):
            if nxt in ("الاول", "الاولي"):
                out.append("اول_امس")
                i += 1
            else:
                out.append("امس")
        elif w == "اول" and nxt in ("امس", "الامس"):
            out.append("اول_امس")
            i += 1
        elif w == "اول" and nxt == "من" and i + 2 < len(words) and words[i + 2] == "امس":
            out.append("اول_امس")
            i += 2
        elif w in ("عيد",) and nxt in ("الفطر", "الاضحي"):
            out += ["#1", "@h10"] if nxt == "الفطر" else ["#10", "@h12"]
            i += 1
        elif w in _ORDINALS and nxt in _ORD_TENS:
            out.append(f"#{_ORDINALS[w] + _ORD_TENS[nxt]}")
            i += 1
        elif w in _ORDINALS:
            out.append(f"#{_ORDINALS[w]}")
        elif w in ("العشرين", "الثلاثين") and out[-1:] != ["و"]:
            out.append(f"#{_ORD_TENS[w]}")
        elif w in _DUALS or (w.startswith("ال") and w[2:] in _DUALS):
            out += ["#2", _DUALS[w if w in _DUALS else w[2:]]]
        elif w.isdigit():
            n = int(w)
            if len(w) == 4 and 1000 <= n <= 2999:
                while out and out[-1] in _YEAR_MARKERS:
                    out.pop()
                out.append(f"@y{n}")
            else:
                out.append(f"#{n}")
        elif w == "م" and out and out[-1].startswith("@y"):
            pass  # 2018م: the Gregorian-era mark
        elif w == "ال":
            pass  # الـ 8 -> ال 8
        elif w == "@clock":
            out.append("@clock")
        elif _is_number_word(w):
            j = i + 1
            while j < len(words) and (_is_number_word(words[j]) or (
                    words[j] == "و" and j + 1 < len(words) and _is_number_word(words[j + 1]))):
                j += 1
            out.append(f"#{parse_count(' '.join(words[i:j]))}")
            i = j
            continue
        else:
            out.append(w)
        i += 1
    return out


@lru_cache(maxsize=1)
def _levant_two() -> dict[tuple[str, str], int]:
    return {tuple(normalize_word(x) for x in k): v for k, v in _LEVANT_TWO.items()}


_NOT_NUMBERS = {"احد", "الاحد", "عام", "اول", "ثاني"}


@lru_cache(maxsize=4096)
def _is_number_word(word: str) -> bool:
    return (len(word) > 1 and not word[:1].isdigit() and word not in _NOT_NUMBERS
            and word not in _WEEKDAYS and parse_count(word) is not None)


# -- calendar arithmetic -------------------------------------------------------------------

def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _month_range(year: int, month: int) -> DateRange:
    return DateRange(dt.date(year, month, 1), _month_end(year, month))


def _year_range(year: int) -> DateRange:
    return DateRange(dt.date(year, 1, 1), dt.date(year, 12, 31))


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _back(anchor: dt.date, n: int, unit: str) -> dt.date | None:
    """anchor - n units (DATES.md rows 14-15: months and years by the calendar)."""
    try:
        if unit == "day":
            return anchor - dt.timedelta(days=n)
        if unit == "week":
            return anchor - dt.timedelta(days=7 * n)
        if unit == "month":
            return _add_months(anchor, -n)
        years = n * {"year": 1, "decade": 10, "century": 100}[unit]
        return _add_months(anchor, -12 * years)
    except (ValueError, OverflowError, KeyError):
        return None


def _weekday_on_or_before(anchor: dt.date, weekday: int) -> dt.date:
    return anchor - dt.timedelta(days=(anchor.weekday() - weekday) % 7)


def _day(d: dt.date) -> DateRange:
    return DateRange(d, d)


# -- patterns over canonical tokens ---------------------------------------------------------

_UNITS = {
    "day": "يوم|يوما|ايام|الايام|اياما|اليوم",
    "week": "اسبوع|اسبوعا|اسابيع|الاسبوع|الاسابيع",
    "month": "شهر|شهرا|اشهر|شهور|الشهر|الاشهر|الشهور",
    "year": "عام|عاما|اعوام|سنه|سنوات|سنين|العام|الاعوام|السنوات|السنه|السنين",
    "hour": "ساعه|ساعات|الساعات|الساعه",
    "decade": "عقد|عقدا|عقود|العقود|العقد",
    "century": "قرن|قرنا|قرون|القرون|القرن",
}
_SINGULAR = {"يوم", "اسبوع", "شهر", "عام", "سنه", "عقد", "قرن", "ساعه"}
_UNIT_OF = {w: u for u, ws in _UNITS.items() for w in ws.split("|")}
_ALL_UNITS = "|".join(_UNIT_OF)
_PAST = "الماضي|الماضيه|الفائت|الفائته|المنصرم|المنصرمه|السابق|السابقه|الاخير|الاخيره|" \
        "الماضيين|الاخيرين|الفائتين|الفائتتين"
_APPROX = r"(?:(?:نحو|حوالي|قرابه|زهاء|تقريبا|اقل من|اقل قليلا من|ما يقارب|ما يقرب من|" \
          r"ما يزيد عن|ما يزيد علي) )?"
# parts of day and fillers before a day reference: they do not change the day (rows 1-5)
_DAYPART = re.compile(
    r"(?:(?:بعد|قبل|قبيل) "
    r"(?=(?:ظهر|عصر|منتصف|الفجر|الظهر|العصر|مساء|المساء|فجر|صباح|الصباح|ليل|صلاه)\b)"
    r"|(?:وقت|ساعه|في وقت|في ساعه) (?:متاخر|مبكر|متاخره|مبكره|سابق|لاحق)(?: من)? "
    r"|(?:فجر|الفجر|صباح|الصباح|ظهر|الظهر|عصر|العصر|مساء|ليل|ليله|الليله|منتصف|باكرا|يوم"
    r"|طوال|اثناء|خلال|في|صلاه|الساعات الاولي من|ساعات الصباح الاولي من) )")
_HOUR_OF = re.compile(
    r"(?:الساعه )?(?:#\d+|الواحده|الثانيه|الثالثه|الرابعه|الخامسه|السادسه|السابعه|الثامنه"
    r"|التاسعه|العاشره|الحاديه عشره|الثانيه عشره)(?: (?:و )?(?:النصف|الربع|والنصف|والربع))?"
    r" من ")
_TODAY = {"اليوم", "هذا اليوم", "الليله", "هذا الصباح", "الصباح", "هذا المساء", "المساء",
          "فجرا", "صباحا", "مساء", "مساءا", "ليلا", "الليل", "النهار", "ظهرا", "عصرا",
          "الفجر", "هذه الليله", "اليوم نهارا"}
_MONTH_Q = "الماضي|الفائت|المنصرم|السابق|الجاري|الحالي|المقبل|القادم"
_M_EXPR = (r"(?:(?:شهر|الشهر) )?(?:@m(?P<m>\d+)(?: @m\d+)*|(?P<rel>هذا الشهر|الشهر))"
           r"(?: (?:من |في )?(?:@y(?P<y>\d+)|(?P<ry>العام|السنه) ?(?P<ryq>" + _MONTH_Q +
           r")?|(?P<ry2>هذا العام)))?(?: (?P<q>" + _MONTH_Q + r"))?")
_DAYS = r"(?P<days>#\d+(?: (?:و |الي |حتي )?#\d+)*)"
_MONTH_PART = {"مطلع": (1, 10), "اوائل": (1, 10), "بدايه": (1, 10), "بدء": (1, 10),
               "مستهل": (1, 10), "اول": (1, 10), "منتصف": (11, 20), "اواسط": (11, 20),
               "وسط": (11, 20), "اواخر": (21, 31), "نهايه": (21, 31), "اخر": (21, 31),
               "ختام": (21, 31)}
_YEAR_PART = set(_MONTH_PART) | {"صيف", "شتاء", "ربيع", "خريف"}
_PAST_Q = {"الماضي", "الفائت", "المنصرم", "السابق", "الماضيه", "الفائته"}


def _full(pattern: str, s: str) -> re.Match | None:
    return re.fullmatch(pattern, s)


def _month_of(m: re.Match, anchor: dt.date | None, strictly_before: bool = False
              ) -> tuple[int, int] | None:
    """(year, month) of an _M_EXPR match (DATES.md row 10)."""
    q = m.group("q") or m.group("ryq") or ""
    if m.group("rel"):
        if anchor is None:
            return None
        shift = -1 if q in _PAST_Q else (1 if q in ("المقبل", "القادم") else 0)
        d = _add_months(anchor.replace(day=1), shift)
        return d.year, d.month
    month = int(m.group("m"))
    if not 1 <= month <= 12:
        return None
    if m.group("y"):
        return int(m.group("y")), month
    if m.group("ry") or m.group("ry2"):
        if anchor is None:
            return None
        ryq = m.group("ryq") or ""
        return anchor.year + (-1 if ryq in _PAST_Q else (1 if ryq in ("المقبل", "القادم")
                                                          else 0)), month
    if anchor is None:
        return None
    if q in ("الجاري", "الحالي"):
        return anchor.year, month
    if q in ("المقبل", "القادم"):
        return (anchor.year if month > anchor.month else anchor.year + 1), month
    before = strictly_before or q in _PAST_Q
    year = anchor.year if (month < anchor.month or (month == anchor.month and not before)) \
        else anchor.year - 1
    return year, month


def _resolve_days(m: re.Match, anchor: dt.date | None) -> DateRange | None:
    """Row 9: day(s) + month (+ year); without a year the latest such date ≤ anchor."""
    days = [int(x) for x in re.findall(r"#(\d+)", m.group("days"))]
    if not days or any(not 1 <= d <= 31 for d in days):
        return None
    lo, hi = min(days), max(days)
    explicit = m.group("y") or m.group("ry") or m.group("ry2") or m.group("rel") or \
        (m.group("q") in ("الجاري", "الحالي", "المقبل", "القادم"))
    if m.group("rel") == "الشهر" and not m.group("q") and anchor is not None:
        # "الـ 23 من الشهر": this month, or the last one if that day is still to come
        month_start = anchor.replace(day=1) if lo <= anchor.day else \
            _add_months(anchor.replace(day=1), -1)
        return _days_in(month_start.year, month_start.month, lo, hi)
    if explicit:
        ym = _month_of(m, anchor)
        if ym is None:
            return None
        return _days_in(ym[0], ym[1], lo, hi)
    if anchor is None:
        return None
    month = int(m.group("m"))
    strict = (m.group("q") or "") in _PAST_Q
    for year in (anchor.year, anchor.year - 1):
        r = _days_in(year, month, lo, hi)
        if r and (r.start < anchor if strict else r.start <= anchor):
            return r
    return None


def _days_in(year: int, month: int, lo: int, hi: int) -> DateRange | None:
    try:
        return DateRange(dt.date(year, month, lo), dt.date(year, month, hi))
    except ValueError:
        return None


def _point(s: str, anchor: dt.date | None) -> DateRange | None:
    """A date that places the event itself (rows 1-12, Hijri dates); '' -> None."""
    if not s:
        return None
    for rule in (_deictic, _weekday, _calendar_date, _month_or_part, _year, _hijri):
        r = rule(s, anchor)
        if r is not None:
            return r
    stripped = _strip_daypart(s)
    if stripped != s:
        return _point(stripped, anchor)
    return None


def _strip_daypart(s: str) -> str:
    """Drop one leading part-of-day / filler word (فجر، مساء، وقت متأخر من، يوم ...)."""
    m = _DAYPART.match(s)
    if m and m.end() < len(s):
        return s[m.end():]
    m = _HOUR_OF.match(s)
    if m and m.end() < len(s):
        return s[m.end():]  # الرابعة (والنصف) من صباح أمس: an hour of a named day
    toks = s.split()
    if len(toks) > 1 and toks[-1] in ("تقريبا", "بالذات", "ايضا"):
        return " ".join(toks[:-1])
    return s


def _deictic(s: str, anchor: dt.date | None) -> DateRange | None:
    """Rows 1-4: today, yesterday, the day before, last night."""
    if anchor is None:
        return None
    one = dt.timedelta(days=1)
    if s in _TODAY:
        return _day(anchor)
    if s == "امس":
        return _day(anchor - one)
    if s == "اول_امس":
        return _day(anchor - 2 * one)
    if s in ("الليله الماضيه", "ليله امس", "ليله البارحه", "الليله الفائته"):
        return DateRange(anchor - one, anchor)
    if s in ("الليله قبل الماضيه", "ليله اول_امس"):
        return DateRange(anchor - 2 * one, anchor - one)
    m = _full(r"(اليوم|امس|اول_امس) (?:[^@ ]+ )*@w(\d)", s)
    if m:
        wd = int(m.group(2))
        if m.group(1) == "اليوم":
            return _day(_weekday_on_or_before(anchor, wd))
        return _day(_weekday_on_or_before(anchor - one, wd))
    return None


def _weekday(s: str, anchor: dt.date | None) -> DateRange | None:
    """Rows 5-7 (one weekday) and row 8 (two weekdays)."""
    if anchor is None:
        return None
    m = _full(r"@w(\d)(?: (الماضي|الفائت|المنصرم|السابق|المقبل|القادم))?", s)
    if m:
        wd, q = int(m.group(1)), m.group(2)
        if q in ("المقبل", "القادم"):
            return _day(anchor + dt.timedelta(days=(wd - anchor.weekday() - 1) % 7 + 1))
        if q:
            return _day(_weekday_on_or_before(anchor - dt.timedelta(days=1), wd))
        return _day(_weekday_on_or_before(anchor, wd))
    m = _full(r"(?:يومي |ليل |ليله |مساء )?@w(\d) (?:و |الي )?(?:ليل |يوم )?@w(\d)", s)
    if m:
        second = _weekday_on_or_before(anchor, int(m.group(2)))
        first = _weekday_on_or_before(second - dt.timedelta(days=1), int(m.group(1)))
        return DateRange(first, second)
    m = _full(r"@w\d (#\d+ .*)", s)  # فجر السبت 14 نيسان: the date itself decides
    if m:
        return _calendar_date(m.group(1), anchor)
    return None


def _calendar_date(s: str, anchor: dt.date | None) -> DateRange | None:
    """Row 9: day + month (+ year), also ``03/04/2018``-style numbers with a year."""
    s = re.sub(r"^(?:يوم|@w\d) ", "", s)
    m = _full(_DAYS + r" (?:من )?" + _M_EXPR, s)
    if m:
        return _resolve_days(m, anchor)
    m = _full(r"#(\d+) #(\d+) @y(\d+)", s)
    if m:
        try:
            return _day(dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))))
        except ValueError:
            return None
    return None


def _month_or_part(s: str, anchor: dt.date | None) -> DateRange | None:
    """Rows 10-11: a month, a part of a month, a week of a month."""
    m = _full(_M_EXPR, s)
    if m:
        ym = _month_of(m, anchor)
        return _month_range(*ym) if ym else None
    m = _full(r"(?P<part>" + "|".join(_MONTH_PART) + r") (?:ال)?" + _M_EXPR, s)
    if m:
        ym = _month_of(m, anchor)
        if not ym:
            return None
        lo, hi = _MONTH_PART[m.group("part")]
        end = _month_end(*ym)
        return DateRange(dt.date(*ym, lo), min(end, dt.date(*ym, min(hi, end.day))))
    m = _full(r"الاسبوع #([1-4]) (?:من )?" + _M_EXPR, s)
    if m:
        ym = _month_of(m, anchor)
        n = int(m.group(1))
        return DateRange(dt.date(*ym, 7 * n - 6), dt.date(*ym, 7 * n)) if ym else None
    return None


def _year(s: str, anchor: dt.date | None) -> DateRange | None:
    """Row 12: a year, alone or as a part of a year (the whole year)."""
    toks = s.split()
    if len(toks) > 1 and toks[0] in _YEAR_PART:
        s = " ".join(toks[1:])
    m = _full(r"@y(\d+)", s)
    if m:
        return _year_range(int(m.group(1)))
    m = _full(r"(?:العام|السنه)(?: (" + _MONTH_Q + r"))?|هذا العام|هذه السنه", s)
    if m and anchor is not None:
        q = m.group(1) or ""
        shift = -1 if q in _PAST_Q else (1 if q in ("المقبل", "القادم") else 0)
        return _year_range(anchor.year + shift)
    return None


def _hijri(s: str, anchor: dt.date | None) -> DateRange | None:
    """A Hijri day or month (hijridate); without a year the latest one ≤ anchor."""
    from hijridate import Gregorian, Hijri

    m = _full(r"(?:#(?P<d>\d+) (?:من )?)?@h(?P<m>\d+)(?: @y(?P<y>\d+))?(?: ه)?", s)
    if not m:
        return None
    day, month = int(m.group("d") or 0), int(m.group("m"))

    def rng(year: int) -> DateRange | None:
        try:
            first = Hijri(year, month, day or 1)
            start = first.to_gregorian()
            if day:
                return _day(dt.date(start.year, start.month, start.day))
            last = Hijri(year, month, first.month_length()).to_gregorian()
            return DateRange(dt.date(start.year, start.month, start.day),
                             dt.date(last.year, last.month, last.day))
        except (ValueError, OverflowError):
            return None

    if m.group("y"):
        return rng(int(m.group("y")))
    if anchor is None:
        return None
    try:
        hy = Gregorian(anchor.year, anchor.month, anchor.day).to_hijri().year
    except (ValueError, OverflowError):
        return None
    for year in (hy, hy - 1):
        r = rng(year)
        if r and r.start <= anchor:
            return r
    return None


def _window(s: str, anchor: dt.date | None) -> DateRange | None:
    """Row 13: a window back from the anchor (خلال 24 ساعة، الأيام الـ3 الماضية ...)."""
    if anchor is None:
        return None
    s = re.sub(r"^(?:نهايه |على مدار |علي مدار |طوال |خلال |في )+", "", s)
    if s in ("هذا الاسبوع", "الاسبوع الجاري", "الاسبوع الحالي") or _full(
            r"(?:ال)?اسبوع(?: (?:" + _PAST + r"))?", s):
        return DateRange(anchor - dt.timedelta(days=7), anchor)
    if s in ("الاسبوعين الاخيرين", "الاسبوعين الماضيين"):
        return DateRange(anchor - dt.timedelta(days=14), anchor)
    m = (_full(r"#(?P<n>\d+) (?P<u>" + _ALL_UNITS + r")(?: (?P<q>" + _PAST + r"))?", s)
         or _full(r"(?P<u>" + _ALL_UNITS + r") #(?P<n>\d+) (?P<q>" + _PAST + r")", s)
         or _full(r"(?P<u>الشهر|اليوم|يوم) (?P<q>الاخير|الاخيره)", s))
    if not m:
        return None
    n = int(m.groupdict().get("n") or 1)
    unit = _UNIT_OF[m.group("u")]
    if n <= 0:
        return None
    if unit == "hour":
        start: dt.date | None = anchor - dt.timedelta(days=math.ceil(n / 24))
    else:
        start = _back(anchor, n, unit)
    return DateRange(start, anchor) if start else None


def _prefixed_window(s: str, anchor: dt.date | None) -> DateRange | None:
    """Row 13 needs خلال/في or الماضية/الأخيرة: a bare "ثلاثة أيام" is a duration (row 17)."""
    has_prefix = re.match(r"(?:نهايه |على مدار |علي مدار |خلال |في )", s) is not None
    has_suffix = re.search(r" (?:" + _PAST + r")$", s) is not None
    if has_prefix or has_suffix or s in ("هذا الاسبوع", "الاسبوع الجاري", "الاسبوع الحالي"):
        return _window(s, anchor)
    return None


def _ago(s: str, anchor: dt.date | None) -> DateRange | None:
    """Row 14: قبل N أيام/أسابيع/أشهر/سنوات -> that single day."""
    m = _full(r"قبل " + _APPROX + r"(?:#(?P<n>\d+) )?(?P<u>" + _ALL_UNITS +
              r")(?: (?:تقريبا|من الان|مضي|مضت|فقط|واحد|واحده))?", s)
    if not m or anchor is None:
        return None
    unit = _UNIT_OF[m.group("u")]
    if unit == "hour" or (m.group("n") is None and m.group("u") not in _SINGULAR):
        return None
    d = _back(anchor, int(m.group("n") or 1), unit)
    return _day(d) if d else None


def _since(s: str, anchor: dt.date | None) -> DateRange | None:
    """Row 15: منذ + a date -> [its start, anchor]; منذ + N units -> [anchor - N, anchor]."""
    if not s.startswith("منذ ") or anchor is None:
        return None
    rest = s[4:]
    if re.match(r"(?:اكثر|اقل|اطول) ", rest):
        return None  # منذ أكثر من 6 أسابيع: vague (row 17)
    m = _full(_APPROX + r"(?:#(?P<n>\d+) )?(?P<u>" + _ALL_UNITS + r")", rest)
    if m:
        unit = _UNIT_OF[m.group("u")]
        if unit == "hour" or (m.group("n") is None and m.group("u") not in _SINGULAR):
            return None
        start = _back(anchor, int(m.group("n") or 1), unit)
        return DateRange(start, anchor) if start else None
    toks = rest.split()
    for i in range(len(toks)):  # the longest resolvable tail: منذ بدء الأزمة عام 2011
        tail = " ".join(toks[i:])
        if i and not re.search(r"@[ymh]|#\d", tail):
            break
        r = _point(tail, anchor) or _pair(tail, anchor)
        if r is not None:
            return DateRange(r.start, anchor) if r.start <= anchor else None
    return None


def _pair(s: str, anchor: dt.date | None) -> DateRange | None:
    """Row 16 (بين X و Y، من X إلى Y) and pairs such as "مايو ويونيو 2017"/"عامي 2013 و2014"."""
    original = s
    s = re.sub(r"^(?:بين|من|عامي|يومي|الليله بين|ليله بين|ليل) ", "", s)
    whole = _point(s, anchor) if s != original and not original.startswith("من ") else None
    if whole is not None:
        return whole  # الليلة بين الخامس والسادس من سبتمبر: one date expression
    toks = s.split()
    for i, tok in enumerate(toks):
        if tok not in ("و", "الي", "حتي", "-") or i == 0:
            continue
        second = _point(" ".join(toks[i + 1:]), anchor)
        if second is None:
            continue
        first = _point(" ".join(toks[:i]), second.start - dt.timedelta(days=1))
        if first is None or first.start > second.end:
            continue
        return DateRange(first.start, second.end)
    return None


_LEADING = {"و", "ف", "في", "وفي", "ففي", "ب"}


def _strip_leading(toks: list[str]) -> list[str]:
    while toks and toks[0] in _LEADING:
        toks = toks[1:]
    return toks


def resolve_date(text: str, published: str | dt.date | dt.datetime | None
                 ) -> DateRange | None:
    """The interval a DATE span places its event in (DATES.md), or ``None`` (row 17).

    ``published`` goes through :func:`publication_anchor` (a bad timestamp raises
    ValueError naming it); with no publication date only absolute dates resolve.
    """
    anchor = publication_anchor(published)
    if not isinstance(text, str):
        return None
    toks = _strip_leading(_canonical(text))
    if not toks or "@clock" in toks:
        return None  # a clock time alone (row 17); nothing else of the day is given
    s = " ".join(toks)
    if s.startswith("منذ "):
        return _since(s, anchor)
    for rule in (_ago, _prefixed_window, _point, _pair):
        r = rule(s, anchor)
        if r is not None:
            return r
    return None


# -- command line ------------------------------------------------------------------------

def _main(argv: list[str] | None = None) -> int:
    """Count how many DATE spans of a Label Studio export resolve (exit 0; 2 = bad export)."""
    from annotation.export import ExportError, read_export

    parser = argparse.ArgumentParser(
        prog="python -m model.dates",
        description="Resolve the DATE spans of a Label Studio export (DATES.md); print counts.")
    parser.add_argument("--export", required=True, help="Label Studio JSON export")
    args = parser.parse_args(argv)
    try:
        conversion = read_export(args.export)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    counts = {"spans": 0, "resolved": 0, "null": 0, "no_publication_date": 0,
              "bad_publication_date": 0}
    precisions: dict[str, int] = {}
    for doc in conversion.documents:
        published = doc.meta.get("date")
        try:
            publication_anchor(published)
        except ValueError as exc:
            print(f"warning: document {doc.id}: {exc}", file=sys.stderr)
            counts["bad_publication_date"] += sum(sp.label == "DATE" for sp in doc.spans)
            published = None
        for span in doc.spans:
            if span.label != "DATE":
                continue
            counts["spans"] += 1
            counts["no_publication_date"] += published is None
            r = resolve_date(span.text, published)
            if r is None:
                counts["null"] += 1
            else:
                counts["resolved"] += 1
                precisions[r.precision] = precisions.get(r.precision, 0) + 1
    for key, value in counts.items():
        print(f"{key}: {value}")
    for key in PRECISIONS:
        print(f"precision {key}: {precisions.get(key, 0)}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
