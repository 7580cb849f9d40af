"""Spans and relations -> Label Studio ``result`` items (pre-annotations, round trips).

The inverse of :mod:`annotation.export`: reading what this writes gives back the same
spans and relations. Ids are derived from the span's position so a re-import of the same
prediction is stable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .documents import Relation, Span
from .schema import SCHEMA, Schema


def span_result_id(index: int) -> str:
    return f"ghara-{index}"


def to_label_studio_results(
    spans: Sequence[Span],
    relations: Sequence[Relation] = (),
    scores: Sequence[float] | None = None,
    schema: Schema = SCHEMA,
) -> list[dict[str, Any]]:
    """Label Studio result items for ``spans`` (article offsets) and their ``relations``.

    ``scores``, one per span, become each region's ``score`` so Label Studio can sort
    pre-annotations by confidence. A relation whose ends are not among ``spans`` is an
    error, not something to drop quietly.
    """
    if scores is not None and len(scores) != len(spans):
        raise ValueError(f"{len(scores)} scores for {len(spans)} spans")
    ordered = sorted(range(len(spans)), key=lambda i: spans[i])
    ids: dict[Span, str] = {}
    results: list[dict[str, Any]] = []
    for position, i in enumerate(ordered):
        span = spans[i]
        if span.label not in schema.entity_labels:
            raise ValueError(f"span {span.text!r}: label {span.label!r} not in the schema")
        ids[span] = span_result_id(position)
        item: dict[str, Any] = {
            "id": ids[span],
            "from_name": schema.labels_name,
            "to_name": schema.text_name,
            "type": "labels",
            "value": {
                "start": span.start,
                "end": span.end,
                "text": span.text,
                "labels": [span.label],
            },
        }
        if scores is not None:
            item["score"] = float(scores[i])
        results.append(item)
    for relation in relations:
        missing = [s.text for s in (relation.head, relation.tail) if s not in ids]
        if missing:
            raise ValueError(f"relation {relation.role}: ends {missing} are not among the spans")
        results.append(
            {
                "type": "relation",
                "from_id": ids[relation.head],
                "to_id": ids[relation.tail],
                "direction": "right",
                "labels": [relation.role],
            }
        )
    return results
