"""Dev scores after each epoch: what selects the best epoch and what ``metrics.jsonl`` logs.

Entity F1 is seqeval strict IOB2 on word tags; relation F1 is end to end (relations over
*predicted* spans), plus relation F1 over gold spans as a diagnostic of the relation head
alone. Kept apart from the loop so that the Label Studio backend compares an old and a new
model with exactly the numbers training selected on. The full, corpus-level evaluation is
``model.evaluation``.
"""

from __future__ import annotations

from typing import Any

from annotation.documents import Span
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
    """The gold spans of a training example, in paragraph character offsets."""
    words, text = example["words"], example["text"]
    spans = []
    for ws, we, label in example["spans"]:
        start, end = words[ws][0], words[we - 1][1]
        spans.append(Span(start, end, schema.entity_labels[label], text[start:end]))
    return spans


def gold_relation_tuples(example: dict, schema: Schema) -> set[tuple]:
    """The gold relations of an example as the tuples ``model.metrics`` compares."""
    spans = gold_spans_of(example, schema)
    classes = schema.relation_classes
    return {
        (spans[h].start, spans[h].end, spans[h].label, classes[c], spans[t].start,
         spans[t].end, spans[t].label)
        for h, t, c in example["relations"]
    }


def evaluate(model: Any, examples: list[dict], batch_size: int = 32) -> dict[str, Any]:
    """Dev metrics: entity (strict IOB2) and end-to-end relation F1, + gold-span relations."""
    from annotation.bio import spans_to_tags

    from .inference import predict_paragraphs
    from .metrics import entity_scores, relation_scores, relation_tuples

    schema = model.schema
    texts = [ex["text"] for ex in examples]
    preds = predict_paragraphs(model, texts, batch_size=batch_size)
    gold_tags = [[schema.id2tag[t] for t in ex["word_tags"]] for ex in examples]
    pred_tags = [spans_to_tags(p.spans, ex["words"]) for ex, p in zip(examples, preds)]
    ent = entity_scores(gold_tags, pred_tags)
    gold_rel = [gold_relation_tuples(ex, schema) for ex in examples]
    rel = relation_scores(gold_rel, [relation_tuples(p.relations) for p in preds])
    gold_spans = [gold_spans_of(ex, schema) for ex in examples]
    with_gold = predict_paragraphs(model, texts, batch_size=batch_size, gold_spans=gold_spans)
    rel_gold = relation_scores(gold_rel, [relation_tuples(p.relations) for p in with_gold])
    return {
        "entity_f1": ent["micro"]["f1"],
        "entity_precision": ent["micro"]["precision"],
        "entity_recall": ent["micro"]["recall"],
        "relation_f1": rel["micro"]["f1"],
        "relation_precision": rel["micro"]["precision"],
        "relation_recall": rel["micro"]["recall"],
        "relation_f1_gold_spans": rel_gold["micro"]["f1"],
        "entity_f1_per_label": {k: v["f1"] for k, v in ent["per_label"].items()},
        "relation_f1_per_role": {k: v["f1"] for k, v in rel["per_label"].items()},
    }


def select_score(metrics: dict, name: str) -> float:
    """The number best-epoch selection maximises (``select_metric``)."""
    if name == "mean":
        return (metrics["entity_f1"] + metrics["relation_f1"]) / 2
    return metrics[name]
