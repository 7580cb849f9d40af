"""COUNT text -> int: a table of cases, and agreement with pyarabic where pyarabic is right."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.numbers import parse_count

TABLE = [
    # digits: Western, Arabic-Indic, Persian, thousands separators, clitics
    ("27", 27),
    ("٢٧", 27),
    ("۲۷", 27),
    ("1,200", 1200),
    ("١٬٢٠٠", 1200),
    ("1.200", 1200),
    ("و20", 20),
    ("بـ20", 20),
    ("(15)", 15),
    ("15،", 15),
    ("2.5", None),
    ("225ر29", 29225),
    ("5ر1 مليون", 1_500_000),
    ("88ر0", None),
    ("1.5 مليون", 1_500_000),
    ("٢٫٥ ألف", 2500),
    ("3 آلاف", 3000),
    ("3آلاف", 3000),
    # units, tens, hundreds, thousands; masculine / feminine / case endings / diacritics
    ("ثلاثة", 3),
    ("ثلاث", 3),
    ("ثلاثاً", 3),
    ("ثَلَاثَة", 3),
    ("خمس", 5),
    ("سبعة", 7),
    ("ثماني", 8),
    ("عشرة", 10),
    ("عشرين", 20),
    ("عشرون", 20),
    ("ستين", 60),
    ("مئة", 100),
    ("مائة", 100),
    ("ألف", 1000),
    ("الف", 1000),
    ("مليون", 1_000_000),
    ("واحد", 1),
    ("اثنين", 2),
    ("صفر", 0),
    # compounds
    ("أحد عشر", 11),
    ("إحدى عشرة", 11),
    ("اثنا عشر", 12),
    ("اثنتي عشرة", 12),
    ("خمسة عشر", 15),
    ("خمسة وعشرين", 25),
    ("تسعة وتسعين", 99),
    ("ثلاثمئة", 300),
    ("ثلاثمائة", 300),
    ("ثلاث مئة", 300),
    ("خمسمئة وثلاث وعشرون", 523),
    ("ثلاثة آلاف", 3000),
    ("ثلاثون ألفا", 30_000),
    ("مئة ألف", 100_000),
    ("ألف ومئتان", 1200),
    ("مليون ونصف", 1_500_000),
    ("مليون و200 ألف", 1_200_000),
    # duals: scale words are numbers, nouns are not
    ("مئتين", 200),
    ("مائتين", 200),
    ("ألفين", 2000),
    ("قتيلين", None),
    ("غارتين", None),
    # clitics and the article
    ("والعشرين", 20),
    ("بثلاثة", 3),
    ("الثلاثة", 3),
    ("وخمسة", 5),
    ("لل20", 20),
    # approximators are skipped; trailing nouns end the number
    ("أكثر من 20", 20),
    ("نحو ثلاثين", 30),
    ("ما لا يقل عن 12", 12),
    ("49 عنصراً", 49),
    ("ثلاثة أطفال وأربعة", 3),
    # vague quantifiers and ranges -> None
    ("عشرات", None),
    ("العشرات", None),
    ("بالعشرات", None),
    ("مئات", None),
    ("آلاف", None),
    ("الآلاف", None),
    ("عشرات الآلاف", None),
    ("بضع", None),
    ("بضعة آلاف", None),
    ("بضع عشرات", None),
    ("عدة", None),
    ("عشرين ونيف", None),
    ("20-25", None),
    # no number at all
    ("", None),
    ("   ", None),
    ("غارة", None),
]


@pytest.mark.parametrize("text,value", TABLE)
def test_table(text, value):
    assert parse_count(text) == value


def test_not_a_string():
    assert parse_count(None) is None
    assert parse_count(12) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [0, 1, 7, 10, 19, 42, 99, 100, 345, 1000, 2018, 12345, 999999])
def test_digits_in_three_scripts(n):
    western = str(n)
    indic = western.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    persian = western.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert parse_count(western) == parse_count(indic) == parse_count(persian) == n


@pytest.mark.parametrize(
    "text", ["ثلاثة", "خمسة وعشرين", "ثلاثمئة", "ثلاثة آلاف", "أحد عشر", "تسعين", "مئتين"]
)
def test_agrees_with_pyarabic_where_it_works(text):
    from pyarabic.number import text2number

    assert parse_count(text) == text2number(text)


@given(st.text(max_size=40))
def test_never_raises(text):
    value = parse_count(text)
    assert value is None or (isinstance(value, int) and value >= 0)


@given(st.integers(min_value=0, max_value=10**9))
def test_pyarabic_number2text_roundtrip(n):
    from pyarabic.number import number2text

    assert parse_count(number2text(n)) == n


# ---------------------------------------------------------------------------------------------
# count_range: (value, min, max, conservative, kind)

from model.numbers import CountRange, count_range  # noqa: E402

RANGES = [
    # exact figures agree with parse_count
    ("27", (27, 27, 27, 27, "exact")),
    ("٢٧", (27, 27, 27, 27, "exact")),
    ("ثلاثة آلاف", (3000, 3000, 3000, 3000, "exact")),
    ("وخمسة", (5, 5, 5, 5, "exact")),
    ("ألفي", (2000, 2000, 2000, 2000, "exact")),
    ("ما مجموعه 40", (40, 40, 40, 40, "exact")),
    # vague quantifiers: ACLED's conservative figures (tens 10, hundreds 100)
    ("عشرات", (None, 10, 99, 10, "vague")),
    ("بالعشرات", (None, 10, 99, 10, "vague")),
    ("مئات", (None, 100, 999, 100, "vague")),
    ("المئات", (None, 100, 999, 100, "vague")),
    ("آلاف", (None, 1000, 9999, 1000, "vague")),
    ("عشرات الآلاف", (None, 10_000, 99_999, 10_000, "vague")),
    ("بضعة آلاف", (None, 3000, 9999, 3000, "vague")),
    ("بضع عشرات", (None, 30, 99, 30, "vague")),
    ("بضع", (None, 3, 9, 3, "vague")),
    ("بضعة", (None, 3, 9, 3, "vague")),
    ("عدة", (None, 3, 9, 3, "vague")),
    ("عدّة", (None, 3, 9, 3, "vague")),
    ("العديد", (None, 3, None, 3, "vague")),
    ("عدد كبير", (None, 3, None, 3, "vague")),
    ("عشرين ونيف", (None, 21, 29, 21, "vague")),
    ("بضع وعشرون", (None, 23, 29, 23, "vague")),
    # qualifiers
    ("نحو 30", (None, 27, 33, 30, "approximate")),
    ("حوالي ثلاثين", (None, 27, 33, 30, "approximate")),
    ("حوالى400", (None, 360, 440, 400, "approximate")),
    ("قرابة ٣", (None, 2, 4, 3, "approximate")),
    ("20 تقريباً", (None, 18, 22, 20, "approximate")),
    ("أكثر من 20", (None, 21, None, 21, "more_than")),
    ("اكثر من عشرين", (None, 21, None, 21, "more_than")),
    ("ما يزيد على مئة", (None, 101, None, 101, "more_than")),
    ("ما لا يقل عن 12", (None, 12, None, 12, "at_least")),
    ("12 على الأقل", (None, 12, None, 12, "at_least")),
    ("أقل من 10", (None, None, 9, None, "less_than")),
    ("أكثر من عشرات", (None, 10, None, 10, "vague")),
    # explicit ranges
    ("20-25", (None, 20, 25, 20, "range")),
    ("٢٠-٢٥", (None, 20, 25, 20, "range")),
    ("20 إلى 30", (None, 20, 30, 20, "range")),
    ("من عشرين الى ثلاثين", (None, 20, 30, 20, "range")),
    ("بين 20 و30", (None, 20, 30, 20, "range")),
    ("بين خمسة وعشرين وثلاثين", (None, 25, 30, 25, "range")),
    # duals state two; a plural that could be a dual does not
    ("قتيلين", (2, 2, 2, 2, "dual")),
    ("جريحان", (2, 2, 2, 2, "dual")),
    ("غارتين", (2, 2, 2, 2, "dual")),
    ("بغارتين", (2, 2, 2, 2, "dual")),
    ("مدنيان", (2, 2, 2, 2, "dual")),
    ("مدنيين", (None, None, None, None, "none")),
    # no figure
    ("", (None, None, None, None, "none")),
    ("غارة", (None, None, None, None, "none")),
]


@pytest.mark.parametrize("text,expected", RANGES)
def test_count_range_table(text, expected):
    got = count_range(text)
    assert (got.value, got.min, got.max, got.conservative, got.kind) == expected


def test_count_range_not_a_string_and_to_dict():
    assert count_range(None).kind == "none"  # type: ignore[arg-type]
    assert count_range("عشرات").to_dict() == {
        "value": None, "min": 10, "max": 99, "conservative": 10, "kind": "vague"
    }


def test_parse_count_unchanged_for_duals_and_vague():
    # a dual gets no COUNT of its own (SCHEMA.md); count_range reads it, parse_count does not
    assert parse_count("قتيلين") is None and count_range("قتيلين").value == 2
    assert parse_count("عشرات") is None


@pytest.mark.parametrize("text", [t for t, _ in TABLE])
def test_count_range_exact_agrees_with_parse_count(text):
    got, stated = count_range(text), parse_count(text)
    if stated is None:
        assert got.kind != "exact"
    elif got.kind == "exact":
        assert got.value == stated
    else:  # a qualified figure: the stated number is kept, the value is not exact
        assert got.value is None and got.kind in {"approximate", "more_than", "at_least"}


@given(st.text(max_size=40))
def test_count_range_is_consistent(text):
    got = count_range(text)
    assert isinstance(got, CountRange)
    if got.min is not None and got.max is not None:
        assert got.min <= got.max
    if got.conservative is not None:
        assert got.min is None or got.min <= got.conservative
        assert got.max is None or got.conservative <= got.max
    if got.value is not None:
        assert got.value == got.min == got.max == got.conservative
