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
