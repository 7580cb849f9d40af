"""Gazetteer cues: which words of a text are part of a known place name or a country adjective.

Why: held-out articles name towns and villages that the training articles never did, and
the mini backbone's skip-gram vectors know a rare name only as a rare word. The offline
gazetteer of :mod:`model.places` (GeoNames' Arabic town names, our provinces, countries and
their adjectives) knows them. Each word's class from it is one more input to the model
(``HeadConfig.place_cues``), next to its casualty cue (:mod:`model.cues`). It is a hint,
not a label: in train.json 39 % of PLACE words are in a gazetteer name, and so are 19 % of
ACTOR words (قوات سوريا الديمقراطية) and 2 % of the words outside every span; the
adjective class (السوري، الروسية) marks ACTOR words more often than PLACE words. The model
learns from context how much to trust it.

Classes (:data:`PLACE_CUE_CLASSES`): 0 none, 1 a word of a gazetteer name (names of up to
:data:`MAX_NAME_WORDS` words, longest first, a name's first word possibly with a clitic:
بحلب، والرقة), 2 a country adjective. Names that are a generic word alone (مدينة، المنطقة)
and names under 3 letters are left out. Matching uses the gazetteer's own lookup key
(``model.places``: normalised letters). Torch-free.

Tried on configs/mini.yaml (3 seeds on an article split of train.json): no gain, not even
for PLACE, so off there; the numbers are in that file.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .places import Gazetteer, name_forms

__all__ = ["MAX_NAME_WORDS", "PLACE_CUE_CLASSES", "word_place_cues"]

#: the place cue classes a word can have; index 0 is "no cue"
PLACE_CUE_CLASSES = ("none", "place", "adjective")
#: longest gazetteer name matched, in words
MAX_NAME_WORDS = 3
_MIN_NAME_CHARS = 3


@lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """The default gazetteer's names by first word (first word -> the rest of each name
    starting with it, "" for the word alone), and its adjectives; built once per process."""
    gazetteer = Gazetteer.default()
    by_first: dict[str, set[str]] = {}
    for key in gazetteer.name_keys():
        words = key.split(" ")
        if len(words) <= MAX_NAME_WORDS and len(key.replace(" ", "")) >= _MIN_NAME_CHARS:
            by_first.setdefault(words[0], set()).add(" ".join(words[1:]))
    names = {first: frozenset(rests) for first, rests in by_first.items()}
    return names, frozenset(gazetteer.adjective_keys())


@lru_cache(maxsize=1 << 16)
def _forms(word: str) -> tuple[str, tuple[str, ...]]:
    """The word's lookup key, and its forms as a name's first word (the key, then without a
    leading clitic)."""
    forms = name_forms(word)  # the word's own key first
    return forms[0], tuple(f for f in forms if f) if forms[0] else ()


def word_place_cues(text: str, words: list[tuple[int, int]]) -> np.ndarray:
    """The place cue class of every word of ``text`` (``words``: its ``(start, end)``
    offsets): an index into :data:`PLACE_CUE_CLASSES`."""
    names, adjectives = _lexicon()
    forms = [_forms(text[s:e]) for s, e in words]
    classes = np.zeros(len(words), dtype=np.int64)
    i = 0
    while i < len(words):
        matched = 0
        for first in forms[i][1]:
            rests = names.get(first)
            if not rests:
                continue
            for n in range(min(MAX_NAME_WORDS, len(words) - i), matched, -1):
                if " ".join(forms[j][0] for j in range(i + 1, i + n)) in rests:
                    matched = n
                    break
        if matched:
            classes[i : i + matched] = 1
            i += matched
            continue
        if any(form in adjectives for form in forms[i][1]):
            classes[i] = 2
        i += 1
    return classes
