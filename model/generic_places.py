"""Generic place nouns, which the schema does not mark as PLACE.

Schema decision 5: "Generic place nouns standing alone (المنطقة، المدينة، البلدة، هذه
المناطق) are not PLACE." The tagger still marks some (the area, the town: they sit where
place names sit), and such a PLACE cannot be put on a map. :func:`is_generic_place` tells
them apart so that inference drops them before linking arguments. None of the 2,145 gold
PLACE spans of train.json and seeds.json is generic by this test. Torch-free.
"""

from __future__ import annotations

#: the label the rule is for
PLACE_LABEL = "PLACE"
#: nouns of places in general (singular, plural and dual, with and without the article)
GENERIC_PLACE_NOUNS = frozenset(
    """
    المنطقة المناطق منطقة مناطق المنطقتين منطقتين
    المدينة المدن مدينة مدن المدينتين
    البلدة البلدات بلدة بلدات البلدتين بلدتين
    القرية القرى قرية قرى القريتين قريتين
    الحي الأحياء حي أحياء الشارع الشوارع المكان الأماكن
    المحافظة المحافظات محافظة الريف البلد البلاد
    """.split()
)
#: demonstratives that may stand before a generic noun (هذه المناطق)
DEMONSTRATIVES = frozenset("هذه هذا تلك ذلك هذين هاتين هؤلاء".split())
#: one-letter clitics that may be attached to the noun (بالمنطقة، والمدينة)
CLITICS = ("و", "ف", "ب", "ل")


def is_generic_place(text: str) -> bool:
    """Whether a span's text is only generic place nouns (and demonstratives)."""
    words = [w for w in text.split() if w not in DEMONSTRATIVES]
    return bool(words) and all(_noun(w) in GENERIC_PLACE_NOUNS for w in words)


def _noun(word: str) -> str:
    if word.startswith("لل") and "ال" + word[2:] in GENERIC_PLACE_NOUNS:  # ل + ال: للمنطقة
        return "ال" + word[2:]
    for clitic in CLITICS:
        if word.startswith(clitic) and word[len(clitic):] in GENERIC_PLACE_NOUNS:
            return word[len(clitic):]
    return word
