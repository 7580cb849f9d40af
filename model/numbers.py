"""COUNT text -> integer: digits (Western, Arabic-Indic, Persian) and Arabic number words.

:func:`parse_count` turns the text of a COUNT span (SCHEMA.md: "the numeral alone (digits,
number words, or a vague quantifier such as عشرات)") into an ``int``, or ``None`` where the
text states no exact number.

Rules:
- digits in any of the three digit sets, with thousands separators (``1,200``, ``١٬٢٠٠``,
  ``1.200``, the press's ``225ر29`` = 29,225) and a decimal before a scale word
  (``1.5 مليون``, ``٢٫٥ ألف``, ``5ر1 مليون``);
- number words, masculine and feminine, with case endings and diacritics (ثلاثة/ثلاث/ثلاثاً،
  عشرين/عشرون، مئة/مائة، ألف/آلاف)، compounds (خمسة وعشرين، ثلاثمئة، ثلاث مئة، ألف ومئتان،
  أحد عشر)، digit + scale word (3 آلاف)، clitics و/ف/ب/ل/ك and the article ال (والعشرين،
  بثلاثة، الثلاثة)؛ duals of scale words (مئتين، ألفين، مليونين) are numbers, other duals
  (قتيلين، غارتين) are not;
- a leading approximator (نحو، حوالي، قرابة، أكثر من، ما لا يقل عن ...) is skipped and the
  stated number kept: ``أكثر من 20`` -> 20 (the record keeps the text for the nuance);
- vague quantifiers -> ``None``: عشرات، مئات، آلاف (alone)، ألوف، بضع/بضعة، عدة، العديد،
  ``عشرات الآلاف``، a range (``20-25``)، ``نيف``;
- parsing stops at the first word that is not part of the number (``49 عنصراً`` -> 49); text
  with no number before such a word gives ``None``.

The word list is pyarabic's (``pyarabic.number_const.NUMBER_WORDS``). Its own
``pyarabic.number.text2number`` is not used as is, because (checked with pyarabic 0.6.15):
it returns 0 (not None) for text without a number; it skips unknown words anywhere, so
``ثلاثة أطفال وأربعة`` -> 7; it reads no digits (``27`` -> 0); it does not strip the article
(``الثلاثة`` -> 0); ``ثلاث مئة`` -> 103; ``آلاف`` alone -> 1000 and ``مئات`` -> 0 (no vague
quantifiers); and it lacks مائتين، اثنتين، اثنتي عشرة. :func:`parse_count` fixes those.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["parse_count", "normalize_word"]

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # + tatweel
_SEPARATORS = ",\u066c"  # thousands: comma, Arabic thousands separator
_DECIMAL = ".\u066b"  # full stop, Arabic decimal separator
_PUNCT = "\"'«»“”‘’()[]{}:;؛!؟?…\u060c"  # \u060c: Arabic comma

# words added to pyarabic's table (surface forms; normalised below)
_EXTRA_WORDS = {
    "مائتان": 200, "مائتين": 200, "مئتا": 200, "مائتا": 200, "مئتي": 200, "مائتي": 200,
    "اثنتان": 2, "اثنتين": 2, "اثنتا": 2, "اثنتي": 2, "ثنتين": 2, "ثنتان": 2,
    "عشرات": None, "ثمانمائة": 800, "ثمانيمائة": 800, "ثمانيمئة": 800, "ثمانيا": 8,
    "ألفاً": 1000, "ألوف": None, "احدى": 1, "ثلاثمية": 300,
}
# vague quantifiers: a COUNT made of these (with or without a number) has no value
_VAGUE = {"عشرات", "مئات", "بضع", "بضعة", "عدة", "عديد", "العديد", "نيف", "نيفا", "كثير",
          "كثيرون", "كثيرين", "الكثير", "ألوف"}
# scale plurals that are vague when no number precedes them (آلاف alone, but ثلاثة آلاف)
_VAGUE_PLURAL_SCALES = {"آلاف", "ملايين", "مليارات", "ألوف"}
# leading approximators: skipped (the number stated is kept)
_APPROX = [
    "ما لا يقل عن", "ما يزيد عن", "ما يزيد على", "ما يقارب", "ما يقرب من", "لا يقل عن",
    "أكثر من", "اكثر من", "أقل من", "أزيد من", "أربى على", "قرابة", "نحو", "حوالي", "حوالى",
    "زهاء", "ما مجموعه", "مجموعه", "إجمالي", "فقط",
]
_HALF = {"نصف": 0.5, "ربع": 0.25}


def normalize_word(word: str) -> str:
    """NFC, no diacritics/tatweel, bare alef for أ إ آ ٱ, ي for ى, ه for ة (lookup key)."""
    word = unicodedata.normalize("NFC", word)
    word = _TASHKEEL.sub("", word)
    word = re.sub("[أإآٱ]", "ا", word)
    return word.replace("ى", "ي").replace("ة", "ه")


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, int | None], set[str], set[str], list[list[str]]]:
    try:
        from pyarabic.number_const import NUMBER_WORDS
    except ImportError:  # pragma: no cover - pyarabic is a dependency; keep a fallback
        NUMBER_WORDS = {}
    words: dict[str, int | None] = {}
    for surface, value in {**_BASE_WORDS, **NUMBER_WORDS, **_EXTRA_WORDS}.items():
        words[normalize_word(surface)] = value
    vague = {normalize_word(w) for w in _VAGUE}
    plural_scales = {normalize_word(w) for w in _VAGUE_PLURAL_SCALES}
    approx = sorted(
        ([normalize_word(t) for t in phrase.split()] for phrase in _APPROX), key=len, reverse=True
    )
    return words, vague, plural_scales, approx


# a minimal table used only if pyarabic cannot be imported
_BASE_WORDS = {
    "واحد": 1, "واحدة": 1, "اثنان": 2, "اثنين": 2, "ثلاثة": 3, "ثلاث": 3, "أربعة": 4, "أربع": 4,
    "خمسة": 5, "خمس": 5, "ستة": 6, "ست": 6, "سبعة": 7, "سبع": 7, "ثمانية": 8, "ثماني": 8,
    "تسعة": 9, "تسع": 9, "عشرة": 10, "عشر": 10, "عشرون": 20, "عشرين": 20, "ثلاثون": 30,
    "ثلاثين": 30, "أربعون": 40, "أربعين": 40, "خمسون": 50, "خمسين": 50, "ستون": 60, "ستين": 60,
    "سبعون": 70, "سبعين": 70, "ثمانون": 80, "ثمانين": 80, "تسعون": 90, "تسعين": 90, "مئة": 100,
    "مائة": 100, "مئتان": 200, "مئتين": 200, "ألف": 1000, "ألفا": 1000, "ألفان": 2000,
    "ألفين": 2000, "آلاف": 1000, "مليون": 10**6, "ملايين": 10**6, "أحد": 1, "إحدى": 1,
}

_CLITICS = ("و", "ف", "ب", "ل", "ك")


def _digit_value(token: str, before_scale: bool) -> float | None:
    """Value of a digit token (after digit-set translation), or None if malformed."""
    token = token.rstrip(_SEPARATORS + _DECIMAL)
    if re.fullmatch(r"\d+", token):
        return int(token)
    if re.fullmatch(r"\d{1,3}([,\u066c]\d{3})+", token):
        return int(re.sub(r"\D", "", token))
    if re.fullmatch(r"\d+[.\u066b]\d+", token):
        integer, fraction = re.split(r"[.\u066b]", token)
        if before_scale:
            return float(f"{integer}.{fraction}")
        if "." in token and re.fullmatch(r"\d{1,3}(\.\d{3})+", token):
            return int(integer + fraction)  # 1.200 written with a dot as thousands separator
        return None
    if re.fullmatch(r"\d{1,3}(\.\d{3})+", token):
        return int(token.replace(".", ""))
    return None


def _lookup(token: str, words: dict) -> tuple[bool, int | None]:
    """(found, value) for a normalised word, trying clitics and the article."""
    candidates = [token]
    for c in _CLITICS:
        if token.startswith(c) and len(token) > 2:
            candidates.append(token[1:])
    more = []
    for cand in candidates:
        if cand.startswith("ال") and len(cand) > 3:
            more.append(cand[2:])
        if cand.startswith("لل") and len(cand) > 3:  # لل = ل + ال
            more.append(cand[2:])
    for cand in candidates + more:
        if cand in words:
            return True, words[cand]
    return False, None


def _strip_clitics(token: str) -> str:
    for prefix in ("وبال", "وال", "بال", "فال", "لل", "وب", "ول", "و", "ب", "ل", "ال"):
        rest = token[len(prefix):]
        if token.startswith(prefix) and rest and rest[0].isdigit():
            return rest
    return token


_PUNCT_TO_SPACE = str.maketrans({ch: " " for ch in _PUNCT})
# "3آلاف" -> "3 آلاف" (a range "20-25" stays one token)
_DIGIT_THEN_WORD = re.compile(r"(?<=\d)(?=[^\d\s" + re.escape(_SEPARATORS + _DECIMAL + "-/") + r"])")
_EDGE = _SEPARATORS + _DECIMAL + "-"


# Egyptian/Gulf press writes 29,225 or 1.5 with ر between the digit groups, fraction first
# in logical order: "225ر29" is 29.225 (a count: 29225), "5ر1 مليون" is 1.5 million
_RA_SEPARATOR = re.compile(r"(\d+)ر(\d+)")


def _tokens(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text).translate(_DIGITS).translate(_PUNCT_TO_SPACE)
    text = _RA_SEPARATOR.sub(lambda m: f"{m.group(2)}.{m.group(1)}", text)
    text = _DIGIT_THEN_WORD.sub(" ", _TASHKEEL.sub("", text))
    return [t.strip(_EDGE) for t in text.split() if t.strip(_EDGE)]


def parse_count(text: str | None) -> int | None:
    """The integer a COUNT text states, or ``None`` (vague, no number, not a string)."""
    if not isinstance(text, str):
        return None
    return _parse_count(text)


@lru_cache(maxsize=8192)
def _parse_count(text: str) -> int | None:
    words, vague, plural_scales, approx = _tables()
    norm = [normalize_word(t) for t in _tokens(text)]
    if not norm:
        return None
    if any(t in vague or _bare(t) in vague for t in norm):
        return None  # عشرات، بضعة آلاف، عدة ...
    i = _skip_approximators(norm, approx)
    total = partial = 0.0
    last_scale = 0
    found = False
    while i < len(norm):
        tok = norm[i]
        digits = _strip_clitics(tok)
        if digits[:1].isdigit():
            if "-" in digits or "/" in digits:
                return None  # a range: 20-25
            if partial:
                break  # a second number right after a number: not part of this one
            nxt = norm[i + 1] if i + 1 < len(norm) else ""
            value = _digit_value(digits, before_scale=_is_scale(nxt, words))
            if value is None:
                return None
            partial += value
        elif tok == "و":  # a detached conjunction between number words
            pass
        elif last_scale and _bare(tok) in _HALF_N:  # مليون ونصف
            total += _HALF_N[_bare(tok)] * last_scale
        else:
            ok, value = _lookup(tok, words)
            if not ok:
                break  # the first word that is not part of the number ends it
            if value is None:
                return None
            if value >= 1000 and value % 1000 == 0:  # a scale word: ألف، آلاف، مليون، ألفين
                scale = _scale_of(value)
                if not partial:
                    if _bare(tok) in plural_scales:
                        return None  # آلاف / ملايين with no number before: vague
                    partial = value // scale
                total += partial * scale
                partial = 0
                last_scale = scale
            elif value == 100 and 0 < partial < 10:
                partial *= 100  # ثلاث مئة
            else:
                partial += value
        found = True
        i += 1
    if not found:
        return None
    result = total + partial
    return int(result) if result == int(result) else None


_HALF_N = {normalize_word(k): v for k, v in _HALF.items()}


def _skip_approximators(norm: list[str], approx: list[list[str]]) -> int:
    i = 0
    while True:
        for phrase in approx:
            if norm[i : i + len(phrase)] == phrase:
                i += len(phrase)
                break
        else:
            return i


def _scale_of(value: int) -> int:
    for scale in (10**9, 10**6, 1000):
        if value % scale == 0:
            return scale
    return 1  # pragma: no cover


def _bare(tok: str) -> str:
    """A word without its clitic/article (for set membership tests)."""
    for prefix in ("وبال", "وال", "بال", "فال", "لل", "ال", "وب", "و", "ب"):
        if tok.startswith(prefix) and len(tok) - len(prefix) >= 3:
            return tok[len(prefix):]
    return tok


def _is_scale(tok: str, words: dict) -> bool:
    if not tok:
        return False
    ok, value = _lookup(tok, words)
    return bool(ok and value and value >= 1000 and value % 1000 == 0)
