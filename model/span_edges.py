"""The schema's edge rules for decoded spans: punctuation, quotation marks and brackets.

Punctuation marks are words of their own (``annotation.words``), so the tagger tags each
one, and a strict scorer counts a span wrong for one mark too many or too few:

- a span never starts or ends with plain punctuation (``وجيش الفتح -``);
- the schema puts quotation marks inside a name's span "when the name is inside them on
  both sides" (``"دوما"``, ``“جبهة النصرة”``) and outside otherwise (``جيش الإسلام"``,
  where the quote closes a sentence). A quoted number or strike (``"بضع عشرات"``) keeps its
  quotes outside in the gold data, so the quote rule is for names only;
- a bracket opened in a span closes in it: ``اليوم (الأحد)`` is one DATE.

:func:`fit_edges` applies these rules to decoded word ranges. Of the 7,914 gold spans of
train.json and seeds.json it changes one (``+داعش+``, which it trims). On the article split
of train.json it adds 0.003-0.006 entity F1 to each of three mini models (README).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from annotation.words import PUNCT, char_classes

#: opening quotation mark -> its closing mark (ASCII quotes close themselves)
QUOTES = {'"': '"', "'": "'", "«": "»", "“": "”", "„": "”", "‹": "›"}
#: opening bracket -> closing bracket
BRACKETS = {"(": ")", "[": "]", "{": "}"}
_CLOSING_QUOTES = frozenset(QUOTES.values())
_CLOSING_BRACKETS = {close: open_ for open_, close in BRACKETS.items()}

#: the labels of names, whose quotes belong inside the span when they surround the name
NAME_LABELS = frozenset({"ACTOR", "PLACE", "TARGET"})

WordRange = tuple[int, int, str]  # (first word, stop word, label)


def fit_edges(
    ranges: Sequence[WordRange],
    words: Sequence[tuple[int, int]],
    text: str,
    name_labels: Collection[str] = NAME_LABELS,
) -> list[WordRange]:
    """``ranges`` (flat, sorted; ``words``: the character ranges of ``text``'s words) with
    their edges set by the module's rules. An edge moves only over punctuation: inwards
    over plain punctuation and unpaired quotes or brackets, outwards by one word to take the
    closing quote or bracket of a pair, never onto a word of another span. A span of one
    punctuation mark is left as it is."""

    def word(i: int) -> str:
        start, end = words[i]
        return text[start:end]

    owner = {i: k for k, (first, stop, _) in enumerate(ranges) for i in range(first, stop)}
    fitted: list[WordRange] = []
    for k, (first, stop, label) in enumerate(ranges):

        def free(i: int, k: int = k) -> bool:
            return 0 <= i < len(words) and owner.get(i, k) == k

        lo, hi = _trim(first, stop, word, _is_plain_punctuation)
        if label in name_labels:
            lo, hi = _fit_quotes(lo, hi, word, free)
        lo, hi = _fit_brackets(lo, hi, word, free)
        if hi - lo == 1 and _is_punctuation(word(lo)):
            lo, hi = first, stop
        for i in range(lo, hi):
            owner[i] = k
        fitted.append((lo, hi, label))
    return fitted


def _is_punctuation(w: str) -> bool:
    return char_classes(w) == PUNCT * len(w)


def _is_quote(w: str) -> bool:
    return w in QUOTES or w in _CLOSING_QUOTES


def _is_bracket(w: str) -> bool:
    return w in BRACKETS or w in _CLOSING_BRACKETS


def _is_plain_punctuation(w: str) -> bool:
    """A punctuation mark other than a quote or a bracket (``-``, ``،``, ``.``, ``:``)."""
    return _is_punctuation(w) and not _is_quote(w) and not _is_bracket(w)


def _trim(lo: int, hi: int, word: Callable[[int], str], drop: Callable[[str], bool]):
    """``[lo, hi)`` without the edge words ``drop`` accepts, one word at least."""
    while hi - lo > 1 and drop(word(lo)):
        lo += 1
    while hi - lo > 1 and drop(word(hi - 1)):
        hi -= 1
    return lo, hi


def _fit_quotes(lo: int, hi: int, word: Callable[[int], str], free: Callable[[int], bool]):
    """Drop edge quotes whose partner is not in the span; then take both quotes of a pair
    around what is left when they are the words just outside it."""
    inside = [word(i) for i in range(lo, hi)]
    while hi - lo > 1 and _is_quote(word(lo)) and QUOTES.get(word(lo)) not in inside[1:]:
        lo += 1
        inside = inside[1:]
    while hi - lo > 1 and _is_quote(word(hi - 1)) and not any(
        QUOTES.get(w) == word(hi - 1) or w == word(hi - 1) for w in inside[:-1]
    ):  # ``و”جبهة النصرة”``: a closing mark used to open is a partner too
        hi -= 1
        inside = inside[:-1]
    if free(lo - 1) and free(hi) and word(lo - 1) in QUOTES and word(hi) == QUOTES[word(lo - 1)]:
        lo, hi = lo - 1, hi + 1
    return lo, hi


def _fit_brackets(lo: int, hi: int, word: Callable[[int], str], free: Callable[[int], bool]):
    """Take the closing bracket just after a span that left one open; drop a bracket at an
    edge whose partner is not in the span."""
    unclosed: list[str] = []
    for i in range(lo, hi):
        if word(i) in BRACKETS:
            unclosed.append(word(i))
        elif unclosed and word(i) == BRACKETS[unclosed[-1]]:
            unclosed.pop()
    if len(unclosed) == 1 and free(hi) and word(hi) == BRACKETS[unclosed[0]]:
        hi += 1
    if hi - lo > 1 and word(hi - 1) in _CLOSING_BRACKETS:
        if _CLOSING_BRACKETS[word(hi - 1)] not in (word(i) for i in range(lo, hi - 1)):
            hi -= 1
    if hi - lo > 1 and word(lo) in BRACKETS:
        if BRACKETS[word(lo)] not in (word(i) for i in range(lo + 1, hi)):
            lo += 1
    return lo, hi
