"""Dev scores after each epoch: what selects the best epoch and what ``metrics.jsonl`` logs.

There is one scorer, :func:`model.evaluation.score` (the numbers ``evaluate.py`` reports);
:func:`evaluate` runs the model over the dev paragraphs with the same
:func:`model.evaluation.predict_results` and reads its summary off that report
(:func:`summary`), so the best epoch is chosen on exactly what ``evaluate.py`` prints for
the same model and data. Entity F1 is seqeval strict IOB2 on word tags; relation F1 is end
to end (relations over *predicted* spans), plus relation F1 over gold spans as a diagnostic
of the relation head alone. Kept apart from the loop so that the Label Studio backend
compares an old and a new model with exactly the numbers training selected on.

Pass the dev *paragraphs* (``model.evaluation.paragraphs_of(dev_documents)``): their spans
keep the annotators' original offsets, as ``evaluate.py`` scores them. Training examples
(dicts from ``model.features``) are still accepted, but they only keep spans snapped to
word boundaries and drop spans covering no word, so on an annotation that is not
word-aligned their numbers can differ from ``evaluate.py``'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from annotation.documents import Paragraph, Relation, Span
from annotation.schema import Schema

#: the dev metrics summarised over seeds and, with EMA, logged for the raw weights too
SUMMARY_KEYS = (
    "entity_f1",
    "entity_precision",
    "entity_recall",
    "relation_f1",
    "relation_precision",
    "relation_recall",
    "relation_f1_gold_spans",
)


def gold_spans_of(example: dict, schema: Schema) -> list[Span]:
    """The gold spans of a training example, in paragraph character offsets (word-snapped)."""
    words, text = example["words"], example["text"]
    spans = []
    for ws, we, label in example["spans"]:
        start, end = words[ws][0], words[we - 1][1]
        spans.append(Span(start, end, schema.entity_labels[label], text[start:end]))
    return spans


def gold_relation_tuples(example: dict, schema: Schema) -> set[tuple]:
    """The gold relations of an example as the tuples ``model.metrics`` compares."""
    from .metrics import relation_tuples

    return relation_tuples(paragraph_of_example(example, schema).relations)


def paragraph_of_example(example: Mapping[str, Any], schema: Schema) -> Paragraph:
    """A training example back as a gold :class:`Paragraph` (word-snapped spans)."""
    spans = gold_spans_of(dict(example), schema)
    classes = schema.relation_classes
    relations = [Relation(spans[h], classes[c], spans[t]) for h, t, c in example["relations"]]
    return Paragraph(example["doc_id"], example["paragraph_index"], example["paragraph_start"],
                     example["text"], spans, relations)


def summary(report: Mapping[str, Any]) -> dict[str, Any]:
    """The dev metrics read off an ``evaluation.score`` report (keys: :data:`SUMMARY_KEYS`
    plus per-label entity and per-role relation F1)."""
    ent = report["entities"]
    rel = report["relations"]["end_to_end"]
    gold = report["relations"].get("gold_spans")
    return {
        "entity_f1": ent["micro"]["f1"],
        "entity_precision": ent["micro"]["precision"],
        "entity_recall": ent["micro"]["recall"],
        "relation_f1": rel["micro"]["f1"],
        "relation_precision": rel["micro"]["precision"],
        "relation_recall": rel["micro"]["recall"],
        "relation_f1_gold_spans": gold["micro"]["f1"] if gold is not None else None,
        "entity_f1_per_label": {k: v["f1"] for k, v in ent["per_label"].items()},
        "relation_f1_per_role": {k: v["f1"] for k, v in rel["per_label"].items()},
    }


def evaluate(
    model: Any, dev: Sequence[Paragraph] | Sequence[dict], batch_size: int = 32
) -> dict[str, Any]:
    """Dev metrics of ``model`` on ``dev`` (gold paragraphs, or training examples), scored by
    ``evaluation.score`` with the model's own schema."""
    from .evaluation import predict_results, score

    schema = model.schema
    paragraphs = [d if isinstance(d, Paragraph) else paragraph_of_example(d, schema) for d in dev]
    results, _ = predict_results(model, paragraphs, batch_size, gold_spans=True)
    return summary(score(results, schema))


def select_score(metrics: dict, name: str) -> float:
    """The number best-epoch selection maximises (``select_metric``)."""
    if name == "mean":
        return (metrics["entity_f1"] + metrics["relation_f1"]) / 2
    return metrics[name]
