"""A paragraph's word-level training targets: BIO tags per word, span rows, relation rows.

Only the parts that need no tokenizer live here (annotation/ holds no model code): the
sub-words, their labels and the training example dicts are built in ``model.features``,
which calls :func:`paragraph_targets` with the words it split.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from .bio import span_word_range, spans_to_tags
from .documents import Paragraph
from .schema import SCHEMA, Schema


class WordTargets(NamedTuple):
    """Targets of one paragraph over its words (indices into ``words``)."""

    #: BIO tag id per word (``schema.tag2id``)
    word_tags: list[int]
    #: ``[word_start, word_end, label_index]`` per span that covers whole words, in span order
    spans: list[list[int]]
    #: ``[head_row, tail_row, class_index]`` per relation whose two spans are in ``spans``
    relations: list[list[int]]


def paragraph_targets(
    paragraph: Paragraph, words: Sequence[tuple[int, int]], schema: Schema = SCHEMA
) -> WordTargets:
    """The word-level targets of ``paragraph``, whose words are ``words``
    (``annotation.words.split_words`` of its text). A span that covers no word is left out,
    and so are the relations that use it."""
    tag2id = schema.tag2id
    word_tags = [tag2id[t] for t in spans_to_tags(paragraph.spans, words, schema)]
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
    return WordTargets(word_tags, span_rows, relation_rows)
