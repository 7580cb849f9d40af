"""DATE span -> interval (model/dates.py) against every row of ../shared/DATES.md.

All examples are our own invented phrases. The anchor in most tests is Wednesday
2018-03-14 (a zone-less timestamp, taken as local time).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from model.dates import DateRange, _main, publication_anchor, resolve_date

PUB = "2018-03-14 12:00:00"  # Wednesday
D = dt.date


def r(text: str, published=PUB) -> tuple[str, str] | None:
    got = resolve_date(text, published)
    return None if got is None else (got.start.isoformat(), got.end.isoformat())


def day(iso: str) -> tuple[str, str]:
    return iso, iso


# -- DateRange ------------------------------------------------------------------------------

def test_precision_follows_the_interval():
    assert DateRange(D(2018, 3, 1), D(2018, 3, 1)).precision == "day"
    assert DateRange(D(2018, 3, 1), D(2018, 3, 7)).precision == "days"
    assert DateRange(D(2018, 3, 1), D(2018, 3, 8)).precision == "month"
    assert DateRange(D(2018, 3, 1), D(2018, 3, 31)).precision == "month"
    assert DateRange(D(2016, 1, 1), D(2016, 12, 31)).precision == "year"  # 366 days
    assert DateRange(D(2016, 1, 1), D(2017, 1, 1)).precision == "coarse"


def test_daterange_round_trip_and_validation():
    rng = DateRange(D(2018, 3, 10), D(2018, 3, 12))
    d = rng.to_dict()
    assert d == {"start": "2018-03-10", "end": "2018-03-12", "precision": "days"}
    assert DateRange.from_dict(d) == rng
    assert json.loads(json.dumps(d)) == d
    with pytest.raises(ValueError, match="before start"):
        DateRange(D(2018, 3, 12), D(2018, 3, 10))
    with pytest.raises(ValueError, match="precision"):
        DateRange(D(2018, 3, 10), D(2018, 3, 12), "day")
    with pytest.raises(ValueError, match="not a DateRange"):
        DateRange.from_dict({"start": "2018-13-01", "end": "2018-03-01"})


def test_overlaps():
    a = DateRange(D(2018, 3, 10), D(2018, 3, 12))
    assert a.overlaps(DateRange(D(2018, 3, 12), D(2018, 3, 20)))
    assert not a.overlaps(DateRange(D(2018, 3, 13), D(2018, 3, 20)))
    assert DateRange(D(2018, 1, 1), D(2018, 12, 31)).overlaps(a)


# -- the anchor -----------------------------------------------------------------------------

@pytest.mark.parametrize("published, expected", [
    ("Sat, 07 Apr 2018 09:44:45 GMT", D(2018, 4, 7)),
    ("Sat, 07 Apr 2018 20:59:59 GMT", D(2018, 4, 7)),   # 23:59:59 in UTC+3
    ("Sat, 07 Apr 2018 21:00:00 GMT", D(2018, 4, 8)),   # midnight in UTC+3: the next day
    ("Sun, 09 Sep 2018 22:53:47 +0000", D(2018, 9, 10)),
    ("Sun, 09 Sep 2018 22:53:47 +0300", D(2018, 9, 9)),
    ("2015-08-03 21:08:36", D(2015, 8, 3)),             # zone-less: local already
    ("2015-08-03T23:30:00", D(2015, 8, 3)),
    ("2015-08-03T22:30:00+00:00", D(2015, 8, 4)),
    ("2015-08-03", D(2015, 8, 3)),
    ("3 August 2015 10:00", D(2015, 8, 3)),             # dateparser fallback
    (D(2015, 8, 3), D(2015, 8, 3)),
    (dt.datetime(2015, 8, 3, 22, 0), D(2015, 8, 3)),    # naive: as is
    (dt.datetime(2015, 8, 3, 22, 0, tzinfo=dt.timezone.utc), D(2015, 8, 4)),
    (None, None),
])
def test_publication_anchor(published, expected):
    assert publication_anchor(published) == expected


@pytest.mark.parametrize("bad", ["not a date", "", "Sat, 99 Foo 2018", 12])
def test_unparseable_publication_date_is_one_clear_error(bad):
    with pytest.raises(ValueError, match="publication date") as info:
        publication_anchor(bad)
    assert "\n" not in str(info.value)


def test_anchor_conversion_changes_the_resolved_day():
    late = "Tue, 13 Mar 2018 21:30:00 GMT"  # already Wednesday in Damascus/Baghdad
    assert r("اليوم", late) == day("2018-03-14")
    assert r("أمس", late) == day("2018-03-13")


# -- rows 1-4: today, yesterday, the day before, nights -------------------------------------

@pytest.mark.parametrize("text", ["اليوم", "هذا اليوم", "فجر اليوم", "مساء اليوم", "الليلة",
                                  "هذا الصباح", "منذ الصباح", "فجرا", "صباحا", "خلال الليل",
                                  "ليل اليوم"])
def test_row1_today(text):
    assert r(text) == day("2018-03-14")


def test_row1_today_with_weekday_is_latest_on_or_before():
    assert r("اليوم الأربعاء") == day("2018-03-14")
    assert r("اليوم (الثلاثاء)") == day("2018-03-13")  # a timestamp a day late


@pytest.mark.parametrize("text", ["أمس", "البارحة", "فجر أمس", "مساء امس", "ليل أمس",
                                  "الرابعة من صباح أمس", "يوم أمس"])
def test_row2_yesterday(text):
    assert r(text) == day("2018-03-13")


def test_row2_yesterday_with_weekday_the_named_day_wins():
    assert r("أمس الثلاثاء") == day("2018-03-13")
    assert r("أمس الاثنين") == day("2018-03-12")       # timestamp a day late
    assert r("صباح أمس الأربعاء") == day("2018-03-07")  # < anchor, never the anchor


@pytest.mark.parametrize("text", ["أمس الأول", "أول أمس", "أول من أمس", "فجر أول من أمس",
                                  "ليل أول من أمس"])
def test_row3_day_before_yesterday(text):
    assert r(text) == day("2018-03-12")


def test_row4_nights():
    assert r("الليلة الماضية") == ("2018-03-13", "2018-03-14")
    assert r("ليلة أمس") == ("2018-03-13", "2018-03-14")
    assert r("الليلة قبل الماضية") == ("2018-03-12", "2018-03-13")


# -- rows 5-8: weekdays --------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("الأربعاء", "2018-03-14"),        # the anchor's own weekday: ≤ anchor
    ("السبت", "2018-03-10"), ("فجر الخميس", "2018-03-08"), ("صباح الاثنين", "2018-03-12"),
    ("يوم الجمعة", "2018-03-09"), ("وفجر الأحد", "2018-03-11"), ("الإثنين", "2018-03-12"),
    ("مساء الثلاثاء", "2018-03-13"), ("وقت متأخر من ليل الأحد", "2018-03-11"),
])
def test_row5_weekday_latest_on_or_before(text, expected):
    assert r(text) == day(expected)


def test_row6_weekday_past_is_strictly_before():
    assert r("الأربعاء الماضي") == day("2018-03-07")
    assert r("الثلاثاء الفائت") == day("2018-03-13")
    assert r("يوم السبت المنصرم") == day("2018-03-10")


def test_row7_weekday_next_is_strictly_after():
    assert r("الأربعاء المقبل") == day("2018-03-21")
    assert r("الخميس القادم") == day("2018-03-15")


@pytest.mark.parametrize("text, expected", [
    ("الجمعة والسبت", ("2018-03-09", "2018-03-10")),
    ("ليل الجمعة - السبت", ("2018-03-09", "2018-03-10")),
    ("ليل الثلاثاء الأربعاء", ("2018-03-13", "2018-03-14")),
    ("يومي الأحد والاثنين", ("2018-03-11", "2018-03-12")),
])
def test_row8_two_weekdays(text, expected):
    assert r(text) == expected


# -- rows 9-12: calendar dates -------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("15 مارس", "2017-03-15"),                  # latest ≤ anchor: last year's
    ("14 مارس", "2018-03-14"),
    ("7 إبريل/نيسان", "2017-04-07"),
    ("2 آذار", "2018-03-02"),
    ("24 يوليو تموز", "2017-07-24"),
    ("13 يناير عام 2017", "2017-01-13"),
    ("13 كانون الثاني/يناير 2017", "2017-01-13"),
    ("٥ شباط ٢٠١٨", "2018-02-05"),              # Arabic-Indic digits
    ("۵ فبراير ۲۰۱۸", "2018-02-05"),            # Persian digits
    ("التاسع من أيار/مايو", "2017-05-09"),
    ("الحادي والعشرين من شباط", "2018-02-21"),
    ("الـ8 من الشهر الجاري", "2018-03-08"),
    ("10 آذار الماضي", "2018-03-10"),
    ("14 آذار الماضي", "2017-03-14"),          # + الماضي: strictly before the anchor
    ("2 مارس الجاري", "2018-03-02"),
    ("فجر السبت 10 آذار", "2018-03-10"),
    ("السبت 10/مارس/2018", "2018-03-10"),
    ("يوم 3 تشرين الأول/أكتوبر", "2017-10-03"),
    ("15 رمضان 1436", "2015-07-02"),            # Hijri, via hijridate
])
def test_row9_day_and_month(text, expected):
    assert r(text) == day(expected)


def test_row9_several_days_of_one_month():
    assert r("3 و5 أيار 2016") == ("2016-05-03", "2016-05-05")
    assert r("الخامس والسادس من كانون الأول") == ("2017-12-05", "2017-12-06")


@pytest.mark.parametrize("text, expected", [
    ("سبتمبر", ("2017-09-01", "2017-09-30")),
    ("آذار", ("2018-03-01", "2018-03-31")),                 # ≤ the anchor's month
    ("آذار الماضي", ("2017-03-01", "2017-03-31")),          # strictly before it
    ("يونيو 2017", ("2017-06-01", "2017-06-30")),
    ("شهر حزيران/يونيو 2016", ("2016-06-01", "2016-06-30")),
    ("الشهر الماضي", ("2018-02-01", "2018-02-28")),
    ("الشهر الجاري", ("2018-03-01", "2018-03-31")),
    ("تشرين الثاني/نوفمبر", ("2017-11-01", "2017-11-30")),
    ("فبراير/ شباط", ("2018-02-01", "2018-02-28")),
])
def test_row10_month(text, expected):
    assert r(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("مطلع آب", ("2017-08-01", "2017-08-10")),
    ("أوائل الشهر الماضي", ("2018-02-01", "2018-02-10")),
    ("منتصف كانون الثاني 2016", ("2016-01-11", "2016-01-20")),
    ("أواخر شباط", ("2018-02-21", "2018-02-28")),
    ("نهاية أيلول الماضي", ("2017-09-21", "2017-09-30")),
    ("الأسبوع الثاني من نيسان 2017", ("2017-04-08", "2017-04-14")),
])
def test_row11_part_of_month(text, expected):
    assert r(text) == expected


@pytest.mark.parametrize("text, year", [
    ("عام 2012", 2012), ("2014", 2014), ("العام 2009", 2009), ("العام الماضي", 2017),
    ("نهاية العام الماضي", 2017), ("أواخر عام 1957", 1957), ("مطلع 2014", 2014),
    ("هذا العام", 2018), ("عام ٢٠١٦", 2016),
])
def test_row12_year(text, year):
    assert r(text) == (f"{year}-01-01", f"{year}-12-31")


# -- rows 13-16: windows, ago, since, between ----------------------------------------------

@pytest.mark.parametrize("text, start", [
    ("خلال 24 ساعة", "2018-03-13"), ("في الـ24 ساعة الماضية", "2018-03-13"),
    ("خلال الساعات الأربع والعشرين الماضية", "2018-03-13"),
    ("خلال 48 ساعة", "2018-03-12"), ("خلال ثلاثة أيام", "2018-03-11"),
    ("الأيام الـ5 الماضية", "2018-03-09"), ("اليومين الماضيين", "2018-03-12"),
    ("خلال أسبوع", "2018-03-07"), ("الأسبوع الماضي", "2018-03-07"),
    ("نهاية الأسبوع الماضي", "2018-03-07"), ("هذا الأسبوع", "2018-03-07"),
    ("الأسبوعين الأخيرين", "2018-02-28"), ("خلال الأشهر الثلاثة الماضية", "2017-12-14"),
])
def test_row13_window_back_from_anchor(text, start):
    assert r(text) == (start, "2018-03-14")


@pytest.mark.parametrize("text, expected", [
    ("قبل ثلاثة أيام", "2018-03-11"), ("قبل 10 أيام", "2018-03-04"),
    ("قبل نحو أسبوعين", "2018-02-28"), ("قبل حوالي أسبوع", "2018-03-07"),
    ("قبل أقل من شهر", "2018-02-14"), ("قبل أقل قليلا من عامين", "2016-03-14"),
    ("قبل شهرين", "2018-01-14"), ("قبل ٣ سنوات", "2015-03-14"), ("قبل عام", "2017-03-14"),
])
def test_row14_units_ago(text, expected):
    assert r(text) == day(expected)


@pytest.mark.parametrize("text, start", [
    ("منذ مساء الأحد", "2018-03-11"), ("منذ سبتمبر 2015", "2015-09-01"),
    ("منذ 2013", "2013-01-01"), ("منذ بدء الأزمة عام 2011", "2011-01-01"),
    ("منذ عامين", "2016-03-14"), ("منذ شهر", "2018-02-14"),
    ("منذ ثلاثة أعوام", "2015-03-14"), ("منذ أمس", "2018-03-13"),
    ("منذ منتصف شباط", "2018-02-11"), ("ومنذ 20 كانون الثاني", "2018-01-20"),
])
def test_row15_since(text, start):
    assert r(text) == (start, "2018-03-14")


def test_row16_between():
    assert r("بين سبتمبر 2015 ونهاية مارس 2018") == ("2015-09-01", "2018-03-31")
    assert r("بين عامي 2012 و2014") == ("2012-01-01", "2014-12-31")
    assert r("من حزيران إلى تشرين الأول من العام الماضي") == ("2017-06-01", "2017-10-31")


# -- row 17 and anything else: null --------------------------------------------------------

@pytest.mark.parametrize("text", [
    "مؤخرا", "منذ أيام", "منذ سنوات", "الأيام الماضية", "السنوات الأخيرة", "حتى الآن", "الآن",
    "منذ أكثر من 6 أسابيع", "يوميا", "ثلاثة أعوام", "خمس سنوات", "أقل من ثلاث ساعات",
    "لأكثر من أسبوع", "59 يوما", "الساعة السابعة صباحا", "غداة الهجوم", "بعد أربعة أيام",
    "قبل التدخل الروسي", "اليوم الذي ماتت فيه", "قبل أيام", "بعد عام", "خلال الحرب",
    "الساعة 22:30", "وقت سابق", "اليوم التالي", "", "   ", "9/11", "31 شباط 2018",
    "منذ بدء المفاوضات",
])
def test_row17_null(text):
    assert resolve_date(text, PUB) is None


# -- leading particles, normalisation, no anchor -------------------------------------------

@pytest.mark.parametrize("particle", ["و", "في ", "ف", "و في ", "وفي "])
@pytest.mark.parametrize("text, expected", [
    ("الخميس", day("2018-03-08")), ("أمس", day("2018-03-13")),
    ("15 آذار 2016", day("2016-03-15")), ("عام 2012", ("2012-01-01", "2012-12-31")),
    ("خلال أسبوع", ("2018-03-07", "2018-03-14")),
])
def test_leading_particles_do_not_change_the_result(particle, text, expected):
    assert r(particle + text) == expected


def test_diacritics_tatweel_and_nfd_input():
    assert r("أَمْسِ") == day("2018-03-13")
    assert r("الخمـــيس") == day("2018-03-08")
    import unicodedata
    assert r(unicodedata.normalize("NFD", "آذار الماضي")) == ("2017-03-01", "2017-03-31")


def test_without_publication_date_only_absolute_dates_resolve():
    assert r("13 يناير عام 2017", None) == day("2017-01-13")
    assert r("عام 2011", None) == ("2011-01-01", "2011-12-31")
    assert r("أمس", None) is None
    assert r("الخميس", None) is None


def test_bad_publication_date_raises_naming_it():
    with pytest.raises(ValueError, match="yesterday-ish"):
        resolve_date("أمس", "yesterday-ish")


# -- command line --------------------------------------------------------------------------

def _task(task_id: int, text: str, date_texts: list[str], published) -> dict:
    result = []
    for i, t in enumerate(date_texts):
        start = text.index(t)
        result.append({"id": f"d{i}", "from_name": "label", "to_name": "text", "type": "labels",
                       "value": {"start": start, "end": start + len(t), "text": t,
                                 "labels": ["DATE"]}})
    data = {"text": text}
    if published is not None:
        data["date"] = published
    return {"id": task_id, "data": data,
            "annotations": [{"id": task_id, "completed_by": 1, "was_cancelled": False,
                             "result": result}]}


def test_cli_counts_resolved_and_null(tmp_path, capsys):
    tasks = [
        _task(1, "قصفت طائرات القرية أمس ثم عادت مؤخرا .", ["أمس", "مؤخرا"], PUB),
        _task(2, "وقعت الغارة في 5 آذار 2016 .", ["5 آذار 2016"], None),
        _task(3, "قصف الحي يوم الخميس .", ["الخميس"], "no date here"),
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    assert _main(["--export", str(path)]) == 0
    out, err = capsys.readouterr()
    lines = dict(line.split(": ") for line in out.strip().splitlines())
    assert lines["spans"] == "4"
    assert lines["resolved"] == "2" and lines["null"] == "2"
    assert lines["no_publication_date"] == "2" and lines["bad_publication_date"] == "1"
    assert lines["precision day"] == "2"
    assert "document 3" in err and "no date here" in err


def test_cli_bad_export_exits_2(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    assert _main(["--export", str(path)]) == 2
    assert "error:" in capsys.readouterr().err
