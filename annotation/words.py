"""Word boundaries, the unit spans are annotated and tagged on.

SCHEMA.md says spans start and end on white space or punctuation and that a word keeps its
attached clitics (بدير، للتحالف). So a word is a maximal run of characters that are neither
white space nor punctuation/symbols, and every punctuation mark is a word of its own -- the
same cut BERT's basic tokenizer makes, so sub-words never straddle two words.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=4096)
def _is_punctuation(char: str) -> bool:
    category = unicodedata.category(char)
    # Arabic tatweel (Lm) and combining marks (Mn) belong to their word; P* and S* do not.
    return category[0] in "PS" or (char.isascii() and not char.isalnum() and not char.isspace())


#: character class codes: white space, a word character, punctuation (a word of its own)
SPACE, WORD, PUNCT = " ", "w", "p"
_CHAR_CLASS: dict[int, str] = {}


def char_classes(text: str) -> str:
    """``text`` with every character replaced by its class code (SPACE, WORD or PUNCT)."""
    table = _CHAR_CLASS
    for char in [c for c in set(text) if ord(c) not in table]:
        if char.isspace():
            table[ord(char)] = SPACE
        elif _is_punctuation(char):
            table[ord(char)] = PUNCT
        else:
            table[ord(char)] = WORD
    return text.translate(table)


def word_bounds(classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Word starts and ends from an array of class codes (``char_classes`` as bytes).

    Vectorised so that a whole batch of paragraphs, joined by spaces, is split at once.
    """
    is_word = classes == ord(WORD)
    is_punct = classes == ord(PUNCT)
    prev_word = np.zeros_like(is_word)
    prev_word[1:] = is_word[:-1]
    next_word = np.zeros_like(is_word)
    next_word[:-1] = is_word[1:]
    starts = np.flatnonzero((is_word & ~prev_word) | is_punct)
    ends = np.flatnonzero((is_word & ~next_word) | is_punct) + 1
    return starts, ends


def split_words(text: str) -> list[tuple[int, int]]:
    """Character ranges ``(start, end)`` of the words of ``text``, in order."""
    if not text:
        return []
    classes = np.frombuffer(char_classes(text).encode("ascii"), dtype=np.uint8)
    starts, ends = word_bounds(classes)
    return list(zip(starts.tolist(), ends.tolist()))


def word_boundaries(text: str) -> tuple[set[int], set[int]]:
    """The sets of offsets where a word may start and where one may end."""
    words = split_words(text)
    return {s for s, _ in words}, {e for _, e in words}
