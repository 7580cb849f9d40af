"""Word boundaries, the unit spans are annotated and tagged on.

SCHEMA.md says spans start and end on white space or punctuation and that a word keeps its
attached clitics (بدير، للتحالف). So a word is a maximal run of characters that are neither
white space nor punctuation/symbols, and every punctuation mark is a word of its own -- the
same cut BERT's basic tokenizer makes, so sub-words never straddle two words.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def _is_punctuation(char: str) -> bool:
    category = unicodedata.category(char)
    # Arabic tatweel (Lm) and combining marks (Mn) belong to their word; P* and S* do not.
    return category[0] in "PS" or (char.isascii() and not char.isalnum() and not char.isspace())


def split_words(text: str) -> list[tuple[int, int]]:
    """Character ranges ``(start, end)`` of the words of ``text``, in order."""
    words: list[tuple[int, int]] = []
    start = None
    for i, char in enumerate(text):
        if char.isspace():
            if start is not None:
                words.append((start, i))
                start = None
        elif _is_punctuation(char):
            if start is not None:
                words.append((start, i))
                start = None
            words.append((i, i + 1))
        elif start is None:
            start = i
    if start is not None:
        words.append((start, len(text)))
    return words


def word_boundaries(text: str) -> tuple[set[int], set[int]]:
    """The sets of offsets where a word may start and where one may end."""
    words = split_words(text)
    return {s for s, _ in words}, {e for _, e in words}
