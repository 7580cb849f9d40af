"""Word boundaries, the unit spans are annotated and tagged on.

SCHEMA.md says spans start and end on white space or punctuation and that a word keeps its
attached clitics (بدير، للتحالف). So a word is a maximal run of characters that are neither
white space nor punctuation/symbols, and every punctuation mark is a word of its own -- the
same cut BERT's basic tokenizer makes, so sub-words never straddle two words.

One exception: a decimal or thousands separator between two digits (10.684، 1,200، ٣٫٥)
belongs to its number, so a number is one word. Split there, "10.684 هدفا" became three words
that the tagger cut into two COUNTs (10 and 684), and 684 is what the record then counted. No
gold span starts or ends at such a separator. The word's sub-words (10 . 684) still lie
inside it.
"""

from __future__ import annotations

import re
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


#: a decimal or thousands separator between two digits (any script): part of the number
_NUMBER_SEPARATOR = re.compile(r"(?<=\d)[.,\u066b\u066c](?=\d)")


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
    classes = text.translate(table)
    separators = [m.start() for m in _NUMBER_SEPARATOR.finditer(text)]
    if not separators:
        return classes
    chars = list(classes)
    for i in separators:
        chars[i] = WORD
    return "".join(chars)


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
