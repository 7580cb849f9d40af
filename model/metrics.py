"""Evaluation metrics: entities (seqeval strict IOB2), relations and events (strict sets).

All three scorers return the same JSON-ready shape::

    {"micro": {"precision", "recall", "f1", "tp", "predicted", "support"},
     "macro": {"precision", "recall", "f1"},
     "per_label": {NAME: {"precision", "recall", "f1", "tp", "predicted", "support"}}}

``support`` is the number of gold items, ``predicted`` the number of predicted ones, ``tp``
the exact matches. Division by zero gives 0.0 (seqeval's ``zero_division=0``); a label that
occurs neither in gold nor in predictions is listed with zeros but left out of ``macro``.

Entities: ``entity_scores`` counts entities with :mod:`seqeval` in strict mode with the IOB2
scheme, i.e. an entity is only an exact (start, end, type) match of a well-formed B-I* chunk
(an ``I-X`` without a preceding ``B-X``/``I-X`` is not an entity at all). The numbers are the
ones ``seqeval.metrics.classification_report(..., mode="strict", scheme=IOB2)`` gives; the
counts come from the same :class:`seqeval.scheme.Entities` that it uses.

Relations: tuples ``(head_start, head_end, head_label, role, tail_start, tail_end,
tail_label)``; a predicted relation is right only when all seven fields match a gold one in
the same paragraph (strict: both boundaries and both labels).

Events: each STRIKE with its outgoing relations is one event. A gold event is found when a
predicted STRIKE has the same boundaries (``trigger`` scores); its arguments are then scored
as ``(role, start, end, label)`` sets against the matched predicted event. Arguments of an
unmatched gold event are all missed; arguments of an unmatched predicted event are all false
positives. ``exact`` counts events whose trigger and full argument set are right.

Every scorer takes the ``schema`` the model was trained with (``model.schema``; the global
``SCHEMA`` by default): it names the labels and roles ``per_label`` lists and the trigger
label that makes an event, so a model trained with an extra label is scored on it too.

Nothing here imports torch or a model: ``import model.metrics`` stays light.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from annotation.schema import SCHEMA, Schema

RelationTuple = tuple[int, int, str, str, int, int, str]
#: One paragraph's events: trigger (start, end) -> set of (role, start, end, label).
ParagraphEvents = Mapping[tuple[int, int], "set[tuple[int | str, ...]]"]


# -- helpers -----------------------------------------------------------------------------
def prf(tp: int, predicted: int, support: int) -> dict:
    """Precision, recall, F1 from counts (0.0 where a denominator is 0)."""
    precision = tp / predicted if predicted else 0.0
    recall = tp / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": tp,
        "predicted": predicted,
        "support": support,
    }


def _aggregate(tp: Counter, pred: Counter, gold: Counter, names: Iterable[str]) -> dict:
    """``micro``/``macro``/``per_label`` from per-name counts.

    ``per_label`` lists every name in ``names`` (the schema's), plus any unexpected name seen
    in the data. Macro averages over the names that occur in gold or predictions.
    """
    names = list(dict.fromkeys(list(names) + sorted(set(gold) | set(pred))))
    per_label = {name: prf(tp[name], pred[name], gold[name]) for name in names}
    seen = [name for name in names if gold[name] or pred[name]]
    micro = prf(sum(tp.values()), sum(pred.values()), sum(gold.values()))
    if seen:
        macro = {
            key: sum(per_label[name][key] for name in seen) / len(seen)
            for key in ("precision", "recall", "f1")
        }
    else:
        macro = {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    return {"micro": micro, "macro": macro, "per_label": per_label}


# -- entities ----------------------------------------------------------------------------
def entity_scores(
    gold_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]], schema: Schema = SCHEMA
) -> dict:
    """Strict IOB2 entity scores (seqeval): micro, macro and per-label P/R/F1/support.

    ``gold_tags``/``pred_tags``: one list of BIO tags per sequence (word-level), of equal
    lengths. Raises ``ValueError`` on mismatched lengths.
    """
    from seqeval.scheme import IOB2, Entities

    if len(gold_tags) != len(pred_tags):
        raise ValueError(f"{len(gold_tags)} gold sequences but {len(pred_tags)} predicted")
    for i, (g, p) in enumerate(zip(gold_tags, pred_tags)):
        if len(g) != len(p):
            raise ValueError(f"sequence {i}: {len(g)} gold tags but {len(p)} predicted")
    gold_seqs = [list(seq) for seq in gold_tags]
    pred_seqs = [list(seq) for seq in pred_tags]
    gold_entities = Entities(gold_seqs, IOB2).entities if gold_seqs else []
    pred_entities = Entities(pred_seqs, IOB2).entities if pred_seqs else []
    gold_set = {e.to_tuple() for sent in gold_entities for e in sent}  # (sent, tag, start, end)
    pred_set = {e.to_tuple() for sent in pred_entities for e in sent}
    gold = Counter(t[1] for t in gold_set)
    pred = Counter(t[1] for t in pred_set)
    tp = Counter(t[1] for t in gold_set & pred_set)
    return _aggregate(tp, pred, gold, schema.entity_labels)


# -- relations ---------------------------------------------------------------------------
def relation_scores(
    gold: Sequence[Iterable[RelationTuple]],
    pred: Sequence[Iterable[RelationTuple]],
    schema: Schema = SCHEMA,
) -> dict:
    """Strict relation P/R/F1 per role (``per_label`` keyed by role) and micro/macro.

    ``gold``/``pred``: one set of tuples ``(head_start, head_end, head_label, role,
    tail_start, tail_end, tail_label)`` per paragraph, aligned by position.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold paragraphs but {len(pred)} predicted")
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    for g, p in zip(gold, pred):
        g, p = set(map(tuple, g)), set(map(tuple, p))
        n_gold.update(t[3] for t in g)
        n_pred.update(t[3] for t in p)
        tp.update(t[3] for t in g & p)
    return _aggregate(tp, n_pred, n_gold, schema.role_names)


def relation_tuples(relations: Iterable) -> set[RelationTuple]:
    """``annotation.documents.Relation`` objects -> the strict tuples scored above."""
    return {
        (r.head.start, r.head.end, r.head.label, r.role, r.tail.start, r.tail.end, r.tail.label)
        for r in relations
    }


# -- events ------------------------------------------------------------------------------
def paragraph_events(
    spans: Iterable, relations: Iterable, schema: Schema = SCHEMA
) -> dict[tuple[int, int], set]:
    """One paragraph's events from its spans and relations: trigger -> argument set.

    Every STRIKE span is an event, also one without arguments. Arguments are
    ``(role, start, end, label)``.
    """
    events: dict[tuple[int, int], set] = {
        (s.start, s.end): set() for s in spans if s.label == schema.trigger_label
    }
    for r in relations:
        key = (r.head.start, r.head.end)
        events.setdefault(key, set()).add((r.role, r.tail.start, r.tail.end, r.tail.label))
    return events


def event_scores(
    gold: Sequence[ParagraphEvents], pred: Sequence[ParagraphEvents], schema: Schema = SCHEMA
) -> dict:
    """Event scores: trigger match by boundaries, then argument-role F1 over the events.

    ``gold``/``pred``: per paragraph, a mapping trigger ``(start, end)`` -> set of arguments
    ``(role, start, end, label)`` (see :func:`paragraph_events`).

    Returns ``{"trigger": prf, "arguments": {micro, macro, per_label (by role)},
    "exact": {"matched": n, "support": n_gold_events, "rate": ...}}``.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold paragraphs but {len(pred)} predicted")
    trig_tp = trig_pred = trig_gold = exact = 0
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    for g, p in zip(gold, pred):
        trig_gold += len(g)
        trig_pred += len(p)
        for trigger, args in g.items():
            n_gold.update(a[0] for a in args)
            if trigger in p:
                trig_tp += 1
                matched = set(args) & set(p[trigger])
                tp.update(a[0] for a in matched)
                if set(args) == set(p[trigger]):
                    exact += 1
        for trigger, args in p.items():
            n_pred.update(a[0] for a in args)
    return {
        "trigger": prf(trig_tp, trig_pred, trig_gold),
        "arguments": _aggregate(tp, n_pred, n_gold, schema.role_names),
        "exact": {
            "matched": exact,
            "support": trig_gold,
            "rate": exact / trig_gold if trig_gold else 0.0,
        },
    }

