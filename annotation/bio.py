"""Word-level BIO tags <-> spans, the one encoding used for training, decoding and scoring.

Decoding is lenient in the way that keeps output valid: an ``I-X`` that does not continue
an ``X`` (after ``O`` or another type) opens a new span, as seqeval's strict IOB2 mode
would not accept it as a continuation either.
"""

from __future__ import annotations

from collections.abc import Sequence

from .documents import Span
from .schema import SCHEMA, Schema


def span_word_range(span: Span, words: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """``[first, last + 1)`` of the words overlapping ``span``; None if it covers no word."""
    inside = [i for i, (s, e) in enumerate(words) if s < span.end and span.start < e]
    return (inside[0], inside[-1] + 1) if inside else None


def spans_to_tags(
    spans: Sequence[Span], words: Sequence[tuple[int, int]], schema: Schema = SCHEMA
) -> list[str]:
    """Word-level IOB2 tags; spans are flat, so a span touching a tagged word is skipped."""
    tags = ["O"] * len(words)
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        rng = span_word_range(span, words)
        if rng is None or any(tag != "O" for tag in tags[rng[0]:rng[1]]):
            continue
        first, stop = rng
        tags[first] = f"B-{span.label}"
        for i in range(first + 1, stop):
            tags[i] = f"I-{span.label}"
    return tags


def tags_to_word_ranges(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """``(first_word, stop_word, label)`` for every span in a tag sequence."""
    ranges: list[tuple[int, int, str]] = []
    current: list = []  # [first, stop, label]
    for i, tag in enumerate(tags):
        prefix, _, label = tag.partition("-")
        if prefix == "I" and current and current[2] == label and current[1] == i:
            current[1] = i + 1
            continue
        if current:
            ranges.append(tuple(current))
            current = []
        if prefix in ("B", "I"):
            current = [i, i + 1, label]
    if current:
        ranges.append(tuple(current))
    return ranges


def tags_to_spans(
    tags: Sequence[str], words: Sequence[tuple[int, int]], text: str
) -> list[Span]:
    spans = []
    for first, stop, label in tags_to_word_ranges(tags):
        start, end = words[first][0], words[stop - 1][1]
        spans.append(Span(start, end, label, text[start:end]))
    return spans
