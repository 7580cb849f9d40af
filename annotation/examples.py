"""Paragraphs -> model examples: word-level BIO through a fast tokenizer's offsets.

Sub-words are tied to words by their character offsets (never by re-tokenising words), so
the example keeps exact offsets into the paragraph and nothing is truncated: windowing
long sequences is the encoder's job (model/encoding.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import datasets

from .bio import span_word_range, spans_to_tags
from .documents import Document, Paragraph
from .paragraphs import split_paragraphs
from .schema import SCHEMA, Schema
from .words import split_words

IGNORE_INDEX = -100


def subword_word_ids(
    offsets: Sequence[tuple[int, int]], words: Sequence[tuple[int, int]], text_length: int
) -> list[int]:
    """The word each sub-word belongs to (-1 for none), found from character offsets."""
    char_to_word = [-1] * text_length
    for index, (start, end) in enumerate(words):
        for c in range(start, end):
            char_to_word[c] = index
    word_ids = []
    for start, end in offsets:
        word = next((char_to_word[c] for c in range(start, end) if char_to_word[c] >= 0), -1)
        word_ids.append(word)
    return word_ids


def encode_paragraph(
    paragraph: Paragraph, tokenizer: Any, schema: Schema = SCHEMA
) -> dict[str, Any]:
    """One training/inference example for one paragraph (see docs/CONTRACTS.md)."""
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError("ghara needs a fast tokenizer (offset mapping); got a slow one")
    text = paragraph.text
    words = split_words(text)
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    offsets = [tuple(o) for o in encoding["offset_mapping"]]
    word_ids = subword_word_ids(offsets, words, len(text))

    tag2id = schema.tag2id
    word_tags = [tag2id[t] for t in spans_to_tags(paragraph.spans, words, schema)]
    labels, seen = [], set()
    for word in word_ids:
        if word < 0 or word in seen:
            labels.append(IGNORE_INDEX)
        else:
            seen.add(word)
            labels.append(word_tags[word])

    label_index = {label: i for i, label in enumerate(schema.entity_labels)}
    span_rows, span_position = [], {}
    for span in sorted(paragraph.spans):
        rng = span_word_range(span, words)
        if rng is None:
            continue
        span_position[span] = len(span_rows)
        span_rows.append([rng[0], rng[1], label_index[span.label]])
    class_index = {name: i for i, name in enumerate(schema.relation_classes)}
    relation_rows = [
        [span_position[r.head], span_position[r.tail], class_index[r.role]]
        for r in paragraph.relations
        if r.head in span_position and r.tail in span_position
    ]
    return {
        "id": paragraph.id,
        "doc_id": paragraph.doc_id,
        "paragraph_index": paragraph.index,
        "paragraph_start": paragraph.start,
        "text": text,
        "input_ids": list(encoding["input_ids"]),
        "offsets": [list(o) for o in offsets],
        "word_ids": word_ids,
        "words": [list(w) for w in words],
        "word_tags": word_tags,
        "labels": labels,
        "spans": span_rows,
        "relations": relation_rows,
    }


def build_examples(
    documents: Iterable[Document], tokenizer: Any, schema: Schema = SCHEMA
) -> list[dict[str, Any]]:
    return [
        encode_paragraph(paragraph, tokenizer, schema)
        for doc in documents
        for paragraph in split_paragraphs(doc)
    ]


def to_dataset(examples: list[dict[str, Any]]) -> datasets.Dataset:
    return datasets.Dataset.from_list(examples)
