"""Random paragraphs for the pair-building property tests: sub-word ranges per word (some
words without sub-words) and non-overlapping word spans, in ``network.build_pairs``' form."""

from __future__ import annotations

import random


def random_paragraph(
    rng: random.Random, *, max_words: int, missing: float, keep_going: float, max_gap: int,
    max_width: int, n_labels: int,
) -> tuple[list[list[int]], list[tuple[int, int]]]:
    """``(spans, word_ranges)`` of one paragraph of up to ``max_words`` words: a word has no
    sub-words with probability ``missing`` (e.g. at a paragraph edge), else 1-3; spans
    ``[word_start, word_end, label]`` start up to ``max_gap - 1`` words after the previous one
    and are up to ``max_width - 1`` words wide; after each, another follows with probability
    ``keep_going``."""
    n_words = rng.randrange(0, max_words)
    ranges, pos = [], 0
    for _ in range(n_words):
        if rng.random() < missing:
            ranges.append((-1, -1))
        else:
            size = rng.randrange(1, 4)
            ranges.append((pos, pos + size))
            pos += size
    spans, w = [], 0
    while n_words and w < n_words - 1 and rng.random() < keep_going:
        w += rng.randrange(0, max_gap)
        if w >= n_words:
            break
        we = min(n_words, w + rng.randrange(1, max_width))
        spans.append([w, we, rng.randrange(n_labels)])
        w = we
    return spans, ranges
