"""Mention replacement (model.augment): new texts, exact offsets, relations that follow."""

from __future__ import annotations

import random

from annotation.documents import Document, Relation, Span
from model.augment import augmented_documents, mention_pool, replace_mentions


def _doc(doc_id: str, text: str, marks: list[tuple[str, str]], roles: list[tuple[int, str, int]]):
    """A document with ``marks`` (label, text) found left to right in ``text``."""
    spans, cursor = [], 0
    for label, mention in marks:
        start = text.index(mention, cursor)
        spans.append(Span(start, start + len(mention), label, mention))
        cursor = start + len(mention)
    relations = [Relation(spans[h], role, spans[t]) for h, role, t in roles]
    return Document(doc_id, text, spans, relations, {"source": "test"})


A = _doc(
    "a",
    "شنت طائرات التحالف غارة على مستودع في حلب.\nوقتل 5 مدنيين.",
    [("ACTOR", "طائرات التحالف"), ("STRIKE", "غارة"), ("TARGET", "مستودع"), ("PLACE", "حلب"),
     ("COUNT", "5")],
    [(1, "actor", 0), (1, "target", 2), (1, "place", 3), (1, "killed", 4)],
)
B = _doc(
    "b",
    "قصفت القوات الروسية مستشفى ميدانيا في ريف إدلب الجنوبي.",
    [("STRIKE", "قصفت"), ("ACTOR", "القوات الروسية"), ("TARGET", "مستشفى ميدانيا"),
     ("PLACE", "ريف إدلب الجنوبي")],
    [(0, "actor", 1), (0, "target", 2), (0, "place", 3)],
)
LABELS = ["ACTOR", "PLACE", "TARGET"]


def _check(doc: Document, original: Document) -> None:
    doc.check_offsets()
    assert doc.text.count("\n") == original.text.count("\n")
    assert [s.label for s in doc.spans] == [s.label for s in original.spans]
    assert len(doc.relations) == len(original.relations)
    for new, old in zip(doc.relations, original.relations):
        assert new.role == old.role
        assert new.head in doc.spans and new.tail in doc.spans
        assert doc.spans.index(new.head) == original.spans.index(old.head)
        assert doc.spans.index(new.tail) == original.spans.index(old.tail)


def test_pool_holds_each_labels_distinct_mentions_sorted():
    pool = mention_pool([A, B, A], LABELS)
    assert pool["PLACE"] == sorted(["حلب", "ريف إدلب الجنوبي"])
    assert set(pool) == set(LABELS)  # STRIKE and COUNT are never replaced


def test_replacing_every_mention_keeps_offsets_relations_and_the_rest_of_the_text():
    pool = mention_pool([A, B], LABELS)
    for seed in range(20):
        new = replace_mentions(A, pool, 1.0, random.Random(seed))
        _check(new, A)
        for old, span in zip(A.spans, new.spans):
            if old.label in LABELS:
                assert span.text in pool[old.label]
            else:
                assert span.text == old.text
        # the words between the mentions are untouched
        assert new.text.startswith("شنت ") and new.text.endswith("مدنيين.")
        assert "وقتل 5" in new.text
    assert A.spans[3].text == "حلب"  # the input is not modified


def test_probability_zero_changes_nothing_and_draws_are_reproducible():
    pool = mention_pool([A, B], LABELS)
    same = replace_mentions(A, pool, 0.0, random.Random(1))
    assert same.text == A.text and same.spans == A.spans and same.relations == A.relations
    one = augmented_documents([A, B], pool, 0.5, seed=3, epoch=2)
    two = augmented_documents([A, B], pool, 0.5, seed=3, epoch=2)
    assert [d.to_dict() for d in one] == [d.to_dict() for d in two]
    epochs = {tuple(d.text for d in augmented_documents([A, B], pool, 0.5, 3, e)) for e in range(8)}
    assert len(epochs) > 1  # a new draw every epoch
    for new, old in zip(one, [A, B]):
        _check(new, old)


def test_a_document_with_overlapping_spans_is_left_as_it_is():
    overlapping = Document("o", "غارة على حلب", [Span(9, 12, "PLACE", "حلب"),
                                               Span(5, 12, "TARGET", "على حلب")])
    pool = {"PLACE": ["دمشق"], "TARGET": ["مدرسة"]}
    assert replace_mentions(overlapping, pool, 1.0, random.Random(0)) is overlapping
