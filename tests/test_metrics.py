"""Metrics checked against hand-computed examples (and against seqeval's own report)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from annotation.documents import Relation, Span
from model.metrics import (
    entity_scores,
    event_scores,
    paragraph_events,
    prf,
    relation_scores,
    relation_tuples,
)

GOLD = [
    ["B-STRIKE", "I-STRIKE", "B-ACTOR", "I-ACTOR", "O", "B-PLACE"],
    ["B-COUNT", "B-STRIKE", "O", "B-TARGET", "I-TARGET"],
]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, abs_tol=1e-12)


def test_entities_perfect():
    scores = entity_scores(GOLD, GOLD)
    assert scores["micro"]["f1"] == 1.0
    assert scores["macro"]["f1"] == 1.0
    assert scores["per_label"]["STRIKE"] == prf(2, 2, 2)
    assert scores["micro"]["support"] == 6
    # labels of the schema with no data are listed with zero support
    assert scores["per_label"]["DATE"]["support"] == 0


def test_entities_one_wrong_boundary():
    # ACTOR predicted one word too short: 6 gold, 6 predicted, 5 right.
    pred = [
        ["B-STRIKE", "I-STRIKE", "B-ACTOR", "O", "O", "B-PLACE"],
        ["B-COUNT", "B-STRIKE", "O", "B-TARGET", "I-TARGET"],
    ]
    scores = entity_scores(GOLD, pred)
    assert close(scores["micro"]["precision"], 5 / 6)
    assert close(scores["micro"]["recall"], 5 / 6)
    assert close(scores["micro"]["f1"], 5 / 6)
    assert scores["per_label"]["ACTOR"]["precision"] == 0.0
    assert scores["per_label"]["ACTOR"]["recall"] == 0.0
    # macro over the five labels present: four at 1.0, ACTOR at 0.0
    assert close(scores["macro"]["f1"], 4 / 5)


def test_entities_strict_rejects_i_without_b():
    # strict IOB2: "I-STRIKE" alone is not an entity -> 1 predicted missing, nothing extra
    pred = [["I-STRIKE", "I-STRIKE", "B-ACTOR", "I-ACTOR", "O", "B-PLACE"], GOLD[1]]
    scores = entity_scores(GOLD, pred)
    assert scores["micro"]["predicted"] == 5
    assert close(scores["micro"]["precision"], 1.0)
    assert close(scores["micro"]["recall"], 5 / 6)


def test_entities_extra_prediction_and_type_error():
    pred = [
        ["B-STRIKE", "I-STRIKE", "B-TARGET", "I-TARGET", "B-DATE", "B-PLACE"],
        ["B-COUNT", "B-STRIKE", "O", "B-TARGET", "I-TARGET"],
    ]
    # ACTOR -> TARGET with same boundaries is wrong; DATE is extra: tp 5, pred 7, gold 6
    scores = entity_scores(GOLD, pred)
    assert close(scores["micro"]["precision"], 5 / 7)
    assert close(scores["micro"]["recall"], 5 / 6)
    assert scores["per_label"]["DATE"] == prf(0, 1, 0)
    assert scores["per_label"]["TARGET"] == prf(1, 2, 1)


@pytest.mark.parametrize(
    "pred",
    [
        [["B-STRIKE", "I-STRIKE", "B-ACTOR", "O", "O", "B-PLACE"], GOLD[1]],
        [["O"] * 6, ["B-COUNT", "I-COUNT", "O", "B-TARGET", "O"]],
        [["B-STRIKE", "B-STRIKE", "B-ACTOR", "I-ACTOR", "I-PLACE", "B-PLACE"], GOLD[1]],
    ],
)
def test_entities_agree_with_seqeval_report(pred):
    ours = entity_scores(GOLD, pred)
    report = classification_report(
        GOLD, pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0
    )
    for key in ("precision", "recall"):
        assert close(ours["micro"][key], float(report["micro avg"][key]))
        assert close(ours["macro"][key], float(report["macro avg"][key]))
    assert close(ours["micro"]["f1"], float(report["micro avg"]["f1-score"]))
    for label, row in report.items():
        if label.endswith("avg"):
            continue
        assert close(ours["per_label"][label]["f1"], float(row["f1-score"]))
        assert ours["per_label"][label]["support"] == int(row["support"])


def test_entities_empty_and_mismatch():
    scores = entity_scores([["O", "O"]], [["O", "O"]])
    assert scores["micro"]["f1"] == 0.0 and scores["micro"]["support"] == 0
    assert entity_scores([], [])["micro"]["support"] == 0
    with pytest.raises(ValueError):
        entity_scores([["O"]], [["O", "O"]])
    with pytest.raises(ValueError):
        entity_scores([["O"]], [])


def rel(hs, he, role, ts, te, tl):
    return (hs, he, "STRIKE", role, ts, te, tl)


def test_relations_perfect_and_wrong_boundary():
    gold = [
        {rel(0, 5, "actor", 6, 12, "ACTOR"), rel(0, 5, "place", 20, 30, "PLACE")},
        {rel(3, 7, "strikes", 0, 2, "COUNT"), rel(3, 7, "target", 10, 20, "TARGET")},
    ]
    perfect = relation_scores(gold, gold)
    assert perfect["micro"]["f1"] == 1.0
    assert perfect["per_label"]["actor"] == prf(1, 1, 1)
    assert perfect["per_label"]["killed"]["support"] == 0

    # the place tail ends one character early: 3 of 4 right, 4 predicted
    pred = [
        {rel(0, 5, "actor", 6, 12, "ACTOR"), rel(0, 5, "place", 20, 29, "PLACE")},
        gold[1],
    ]
    scores = relation_scores(gold, pred)
    assert close(scores["micro"]["precision"], 3 / 4)
    assert close(scores["micro"]["recall"], 3 / 4)
    assert scores["per_label"]["place"] == prf(0, 1, 1)
    assert close(scores["macro"]["f1"], 3 / 4)  # actor 1, place 0, strikes 1, target 1


def test_relations_wrong_role_missing_and_extra():
    gold = [{rel(0, 5, "killed", 6, 8, "COUNT")}, set()]
    pred = [{rel(0, 5, "injured", 6, 8, "COUNT")}, {rel(1, 2, "date", 3, 4, "DATE")}]
    scores = relation_scores(gold, pred)
    assert scores["micro"] == prf(0, 2, 1)
    assert scores["per_label"]["killed"] == prf(0, 0, 1)
    assert scores["per_label"]["injured"] == prf(0, 1, 0)
    with pytest.raises(ValueError):
        relation_scores(gold, pred[:1])


def test_relation_tuples_from_objects():
    head = Span(0, 4, "STRIKE", "غارة")
    tail = Span(5, 10, "PLACE", "حلب")
    assert relation_tuples([Relation(head, "place", tail)]) == {
        (0, 4, "STRIKE", "place", 5, 10, "PLACE")
    }


def test_events():
    s1, s2 = Span(0, 4, "STRIKE", "a"), Span(20, 24, "STRIKE", "b")
    actor = Span(5, 10, "ACTOR", "c")
    place = Span(11, 15, "PLACE", "d")
    count = Span(16, 18, "COUNT", "e")
    gold_rel = [
        Relation(s1, "actor", actor),
        Relation(s1, "place", place),
        Relation(s2, "killed", count),
    ]
    gold = [paragraph_events([s1, s2, actor, place, count], gold_rel)]
    assert gold[0] == {
        (0, 4): {("actor", 5, 10, "ACTOR"), ("place", 11, 15, "PLACE")},
        (20, 24): {("killed", 16, 18, "COUNT")},
    }
    perfect = event_scores(gold, gold)
    assert perfect["trigger"]["f1"] == 1.0
    assert perfect["arguments"]["micro"]["f1"] == 1.0
    assert perfect["exact"] == {"matched": 2, "support": 2, "rate": 1.0}

    # second trigger one char too long: its killed arg is missed and counted as extra;
    # first event loses its place and gains a wrong date.
    pred = [
        {
            (0, 4): {("actor", 5, 10, "ACTOR"), ("date", 30, 35, "DATE")},
            (20, 25): {("killed", 16, 18, "COUNT")},
        }
    ]
    scores = event_scores(gold, pred)
    assert scores["trigger"] == prf(1, 2, 2)
    assert scores["arguments"]["micro"] == prf(1, 3, 3)
    assert scores["arguments"]["per_label"]["killed"] == prf(0, 1, 1)
    assert scores["exact"]["matched"] == 0


def weapon_schema(trigger: str = "STRIKE"):
    """The standard schema plus a team's WEAPON label and ``weapon`` role."""
    from annotation.schema import SCHEMA, Schema

    labels = SCHEMA.entity_labels + ("WEAPON",) + (() if trigger == "STRIKE" else (trigger,))
    return Schema(version="1.1+weapon", entity_labels=labels,
                  roles={**SCHEMA.roles, "weapon": "WEAPON"}, trigger_label=trigger)


def test_scores_use_the_models_schema():
    schema = weapon_schema()
    gold = [["B-STRIKE", "B-WEAPON", "I-WEAPON", "O"]]
    pred = [["B-STRIKE", "B-WEAPON", "O", "O"]]
    ent = entity_scores(gold, pred, schema)
    assert ent["per_label"]["WEAPON"] == prf(0, 1, 1)
    assert ent["per_label"]["STRIKE"] == prf(1, 1, 1)
    # every label of the model's schema is listed, also one absent from the data
    assert list(ent["per_label"]) == list(schema.entity_labels)
    assert "WEAPON" not in entity_scores([["O"]], [["O"]])["per_label"]
    assert "WEAPON" in entity_scores([["O"]], [["O"]], schema)["per_label"]

    rel = (0, 4, "STRIKE", "weapon", 5, 9, "WEAPON")
    scores = relation_scores([{rel}], [{rel}], schema)
    assert scores["per_label"]["weapon"] == prf(1, 1, 1)
    assert list(scores["per_label"]) == list(schema.role_names)
    assert "weapon" in relation_scores([set()], [set()], schema)["per_label"]
    assert "weapon" not in relation_scores([set()], [set()])["per_label"]

    events = event_scores([{(0, 4): {("weapon", 5, 9, "WEAPON")}}],
                          [{(0, 4): {("weapon", 5, 9, "WEAPON")}}], schema)
    assert events["arguments"]["per_label"]["weapon"] == prf(1, 1, 1)
    assert events["exact"]["matched"] == 1


def test_paragraph_events_take_the_trigger_label_of_the_schema():
    schema = weapon_schema(trigger="ATTACK")
    attack, weapon = Span(0, 4, "ATTACK", "هجوم"), Span(5, 10, "WEAPON", "صاروخ")
    assert paragraph_events([attack, weapon], [], schema) == {(0, 4): set()}
    assert paragraph_events([attack, weapon], []) == {}  # the standard schema has no ATTACK
    events = paragraph_events([attack, weapon], [Relation(attack, "weapon", weapon)], schema)
    assert events == {(0, 4): {("weapon", 5, 10, "WEAPON")}}


def test_import_is_light():
    code = ("import sys, model.metrics, model.predictions, model.events, model.evaluation, "
            "model.dev_scores; assert 'torch' not in sys.modules, 'torch loaded'")
    subprocess.run([sys.executable, "-c", code], check=True)
