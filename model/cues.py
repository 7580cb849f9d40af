"""Casualty cue words: which words of a text say "killed" or "injured".

Why: a COUNT is killed or injured by the noun or verb next to it (٥ قتلى، ٣ جرحى، أصيب
٤). Skip-gram vectors, like the mini backbone's, learn words from their contexts, and
قتلى and جرحى share theirs (both follow a number after a strike), so a model on them
confuses the two roles (over gold spans, injured scored P 0.15 / R 0.55 before any fix).
The class of each word from a small lexicon is given to the model as one more input
(``HeadConfig.cue_dim``): a cue no amount of training data has to teach. Torch-free; the
per-sub-word array comes from ``model.features.featurize``.

The lexicon matches the start of a word in the form ``model.numbers.normalize_word`` gives
it (no diacritics or tatweel, bare alef, ي for ى, ه for ة) and, failing a match of the whole
word, after the clitics a word can start with (و ف, then ب ل ك and the article: ال بال كال
لل).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from .numbers import normalize_word
from .place_cues import PLACE_CUE_CLASSES, word_place_cues

__all__ = ["CUE_CLASSES", "cue_class_count", "subword_cues", "word_cue"]

#: the cue classes a word can have; index 0 is "no cue"
CUE_CLASSES = ("none", "killed", "injured")

_KILLED = ("قتيل", "قتلى", "قتل", "مقتل", "مقتول", "يقتل", "تقتل", "شهيد", "شهدا", "استشهد", "استشهاد",
           "مصرع", "حتف", "وفاة", "وفيات", "توفي", "جثث", "جثة", "جثمان")
_INJURED = ("جريح", "جرحى", "جرح", "جراح", "جروح", "مجروح", "اصاب", "اصيب", "مصاب", "يصاب",
            "تصاب")
_PATTERNS = tuple(
    (cue, re.compile("^(?:" + "|".join(normalize_word(stem) for stem in stems) + ")"))
    for cue, stems in ((1, _KILLED), (2, _INJURED))
)
_CLITICS = re.compile("^[وف]?(?:[بك]?ال|لل|[بلك])?")


def _match(form: str) -> int:
    for cue, pattern in _PATTERNS:
        if pattern.match(form):
            return cue
    return 0


@lru_cache(maxsize=1 << 16)
def word_cue(word: str) -> int:
    """The cue class of one word: an index into :data:`CUE_CLASSES` (0: none)."""
    form = normalize_word(word)
    cue = _match(form)
    if cue:
        return cue
    stripped = _CLITICS.sub("", form, count=1)
    return _match(stripped) if stripped and stripped != form else 0


def cue_class_count(place_cues: bool = False) -> int:
    """How many cue ids :func:`subword_cues` gives (the rows of a model's cue embedding)."""
    return len(CUE_CLASSES) * (len(PLACE_CUE_CLASSES) if place_cues else 1)


def subword_cues(
    text: str, words: list[tuple[int, int]], word_ids: np.ndarray, place_cues: bool = False
) -> np.ndarray:
    """The cue id of every sub-word: its word's (0 for a sub-word of no word).

    The id is the casualty class; with ``place_cues`` it is ``casualty + len(CUE_CLASSES) x
    place`` (``model.place_cues``: none / in a gazetteer name / country adjective), one
    embedding row for each pair."""
    per_word = np.fromiter((word_cue(text[s:e]) for s, e in words), dtype=np.int64,
                           count=len(words))
    if place_cues and len(words):
        per_word += len(CUE_CLASSES) * word_place_cues(text, words)
    word_ids = np.asarray(word_ids, dtype=np.int64)
    return np.where(word_ids >= 0, per_word[np.maximum(word_ids, 0)], 0) if len(words) else \
        np.zeros(len(word_ids), dtype=np.int64)
