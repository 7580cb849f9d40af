"""Mention replacement: a training-time augmentation that swaps entity mentions for others.

Why: with 105-130 training articles the tagger learns the *names* it has seen (these
places, these armed groups) more than the *contexts* that make a PLACE or an ACTOR; the
held-out articles name other places and groups. Replacing a mention by another mention of
the same label from the training set (Dai & Adel 2020, "mention replacement") keeps each
sentence's context and relations and varies the names, every epoch anew.

A pure function of the documents and the RNG it is given (``(seed, epoch)`` in
``model.training``), so ``--resume`` reaches the same weights. Torch-free: works on
:class:`annotation.documents.Document`, before sub-word encoding, so offsets, span texts and
relations stay exact (``doc.text[start:end] == span.text`` holds for the new documents).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from annotation.documents import Document, Relation, Span


def mention_pool(documents: Iterable[Document], labels: Iterable[str]) -> dict[str, list[str]]:
    """The distinct mention texts of each of ``labels`` in ``documents``, sorted (so the
    pool, and therefore every draw from it, does not depend on set iteration order).
    Mentions that hold a line break are left out: a replacement never adds a paragraph."""
    wanted = set(labels)
    pool: dict[str, set[str]] = {label: set() for label in wanted}
    for doc in documents:
        for span in doc.spans:
            if span.label in wanted and "\n" not in span.text and span.text.strip():
                pool[span.label].add(span.text)
    return {label: sorted(texts) for label, texts in pool.items()}


def replace_mentions(
    doc: Document, pool: dict[str, Sequence[str]], p: float, rng: random.Random
) -> Document:
    """``doc`` with each mention whose label is in ``pool`` replaced, with probability
    ``p``, by a mention of that label drawn from the pool (possibly the same text). Spans after a replacement move, their
    relations follow them. A document with overlapping spans is returned as it is. The input
    is never modified."""
    spans = sorted(doc.spans)
    if any(b.start < a.end for a, b in zip(spans, spans[1:])):
        return doc  # overlapping spans: no clean place to cut the text, kept as it is
    pieces: list[str] = []
    moved: dict[Span, Span] = {}
    cursor = shift = 0
    for span in spans:
        text = span.text
        choices = pool.get(span.label)
        if choices and rng.random() < p:
            text = choices[rng.randrange(len(choices))]
        pieces.append(doc.text[cursor : span.start])
        pieces.append(text)
        cursor = span.end
        start = span.start + shift
        moved[span] = Span(start, start + len(text), span.label, text)
        shift += len(text) - len(span.text)
    pieces.append(doc.text[cursor:])
    relations = [Relation(moved[r.head], r.role, moved[r.tail]) for r in doc.relations]
    return Document(doc.id, "".join(pieces), [moved[s] for s in doc.spans], relations,
                    dict(doc.meta))


def augmented_documents(
    documents: Sequence[Document],
    pool: dict[str, Sequence[str]],
    p: float,
    seed: int,
    epoch: int,
) -> list[Document]:
    """The training documents of one epoch: each with its mentions replaced (``p``), drawn
    from ``(seed, epoch)`` and the document's position alone."""
    return [
        replace_mentions(doc, pool, p, random.Random(f"mentions {seed} {epoch} {i}"))
        for i, doc in enumerate(documents)
    ]
