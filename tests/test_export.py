"""Export -> documents: every problem kind is reported with the task that has it."""

from __future__ import annotations

import copy
import json

import pytest

from annotation import SCHEMA, ExportError, read_export
from annotation.export import PROBLEM_KINDS

TEXT = "شنت طائرات التحالف 12 غارة على مواقع في دير الزور اليوم.\nوقال ناشطون إن القصف توقف."


def span(rid, start, end, label, text=TEXT):
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}


def rel(a, b, role, direction="right"):
    return {"type": "relation", "from_id": a, "to_id": b, "direction": direction,
            "labels": [role]}


def at(word, label, rid, text=TEXT, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(word, start + 1)
    return span(rid, start, start + len(word), label, text)


def good_result():
    return [
        at("طائرات التحالف", "ACTOR", "a"),
        at("12", "COUNT", "c"),
        at("غارة", "STRIKE", "s"),
        at("مواقع", "TARGET", "t"),
        at("دير الزور", "PLACE", "p"),
        at("اليوم", "DATE", "d"),
        at("القصف", "STRIKE", "s2"),
        rel("s", "a", "actor"), rel("s", "c", "strikes"), rel("s", "t", "target"),
        rel("s", "p", "place"), rel("s", "d", "date"),
    ]


def task(result, task_id=7, **extra):
    ann = {"id": 1, "completed_by": 3, "was_cancelled": False, "result": result}
    ann.update(extra)
    return {"id": task_id, "data": {"text": TEXT, "article_id": "a7"}, "annotations": [ann]}


def kinds(conversion):
    return {p.kind for p in conversion.report.problems}


def only_problem(conversion, kind):
    problems = conversion.report.problems
    assert [p.kind for p in problems] == [kind], [str(p) for p in problems]
    assert problems[0].task_id == "7"
    assert "task 7" in str(problems[0])
    return problems[0]


def test_clean_task_converts_without_problems():
    conversion = read_export([task(good_result())])
    doc, = conversion.documents
    assert conversion.report.problems == []
    assert len(doc.spans) == 7 and len(doc.relations) == 5
    assert all(TEXT[s.start:s.end] == s.text for s in doc.spans)
    assert doc.meta["article_id"] == "a7" and doc.meta["annotator"] == 3
    assert conversion.report.spans["STRIKE"] == 2 and conversion.report.relations["place"] == 1
    assert conversion.report.paragraphs == 2


def test_offset_mismatch_is_reported_and_dropped():
    result = good_result()
    result[2]["value"]["start"] += 1  # غارة shifted by one
    conversion = read_export([task(result)])
    problems = conversion.report.problems
    assert problems[0].kind == "offset_mismatch" and problems[0].task_id == "7"
    assert problems[0].message.startswith("span s 'غارة'")
    # the span is dropped, and each relation hanging from it is reported, not lost
    assert [p.kind for p in problems[1:]] == ["relation_missing_end"] * 5
    assert len(conversion.documents[0].spans) == 6


def test_utf16_offsets_are_repaired():
    text = "😀 غارة على مواقع"  # the emoji is two UTF-16 code units
    start = text.index("غارة")
    item = span("s", start + 1, start + 5, "STRIKE", text)
    item["value"]["text"] = "غارة"
    tasks = [{"id": 7, "data": {"text": text}, "annotations": [
        {"id": 1, "result": [item]}]}]
    conversion = read_export(tasks)
    only_problem(conversion, "utf16_offsets")
    assert conversion.documents[0].spans[0].start == start


def test_overlapping_spans_keep_the_longer():
    result = good_result() + [at("التحالف", "ACTOR", "x")]
    conversion = read_export([task(result)])
    assert "overlaps ACTOR 'طائرات التحالف'" in only_problem(conversion, "overlapping_spans").message
    assert [s.text for s in conversion.documents[0].spans].count("طائرات التحالف") == 1


def test_unknown_label():
    result = good_result() + [at("ناشطون", "SOURCE", "x")]
    assert "SOURCE" in only_problem(read_export([task(result)]), "unknown_label").message


def test_relation_missing_end():
    result = good_result() + [rel("s", "nope", "target")]
    assert "nope" in only_problem(read_export([task(result)]), "relation_missing_end").message


def test_unknown_role():
    result = good_result() + [rel("s", "t", "victim")]
    only_problem(read_export([task(result)]), "unknown_role")


def test_wrong_argument_label():
    result = good_result() + [rel("s", "p", "actor")]
    message = only_problem(read_export([task(result)]), "wrong_argument_label").message
    assert "actor needs STRIKE -> ACTOR" in message


def test_relation_from_argument_to_strike_is_wrong():
    result = good_result() + [rel("t", "s", "target")]
    only_problem(read_export([task(result)]), "wrong_argument_label")


def test_left_direction_is_read_as_reversed():
    result = good_result()[:-5] + [rel("a", "s", "actor", direction="left")]
    conversion = read_export([task(result)])
    assert conversion.report.problems == []
    assert conversion.documents[0].relations[0].head.label == "STRIKE"


def test_relation_crossing_paragraphs():
    result = good_result() + [rel("s2", "t", "target")]
    only_problem(read_export([task(result)]), "relation_crosses_paragraph")


def test_span_crossing_paragraphs():
    start = TEXT.index("اليوم")
    result = good_result()[:5] + [span("x", start, start + 12, "DATE")]
    only_problem(read_export([task(result)]), "span_crosses_paragraph")


def test_duplicate_relation():
    result = good_result() + [rel("s", "t", "target")]
    only_problem(read_export([task(result)]), "duplicate_relation")


def test_not_word_boundary_is_kept_and_reported():
    start = TEXT.index("مواقع")
    result = good_result()[:3] + [span("x", start, start + 3, "TARGET")]
    conversion = read_export([task(result)])
    only_problem(conversion, "not_word_boundary")
    assert len(conversion.documents[0].spans) == 4


def test_cancelled_annotation_leaves_task_unannotated():
    conversion = read_export([task(good_result(), was_cancelled=True)])
    assert kinds(conversion) == {"cancelled_annotation", "no_annotation"}
    assert all(p.task_id == "7" for p in conversion.report.problems)
    assert conversion.documents[0].spans == []


def test_several_annotations_prefer_ground_truth_then_newest():
    two = task(good_result())
    newer = copy.deepcopy(two["annotations"][0])
    newer.update(id=2, updated_at="2026-01-02T00:00:00Z", result=good_result()[:1])
    two["annotations"][0]["updated_at"] = "2026-01-01T00:00:00Z"
    two["annotations"].append(newer)
    conversion = read_export([copy.deepcopy(two)])
    assert "chose 2 (newest)" in only_problem(conversion, "several_annotations").message
    assert len(conversion.documents[0].spans) == 1

    two["annotations"][0]["ground_truth"] = True
    conversion = read_export([two])
    assert "chose 1 (ground_truth)" in only_problem(conversion, "several_annotations").message
    assert len(conversion.documents[0].spans) == 7


def test_invalid_task_is_counted():
    conversion = read_export([task(good_result()), {"id": 9, "data": {}}])
    assert [p.task_id for p in conversion.report.problems] == ["9"]
    assert conversion.report.tasks == 2 and conversion.report.documents == 1


def test_non_nfc_text_is_normalised_with_offsets_moved():
    decomposed = "ا\u0653"  # alef + madda above composes to آ under NFC
    text = f"{decomposed}لة غارة"
    start = text.index("غارة")
    tasks = [{"id": 7, "data": {"text": text}, "annotations": [
        {"id": 1, "result": [span("s", start, start + 4, "STRIKE", text)]}]}]
    conversion = read_export(tasks)
    only_problem(conversion, "not_nfc")
    doc = conversion.documents[0]
    assert doc.text.startswith("آلة") and doc.spans[0].text == "غارة"
    assert doc.text[doc.spans[0].start:doc.spans[0].end] == "غارة"


def test_every_problem_kind_has_a_test():
    tested = {"offset_mismatch", "utf16_offsets", "overlapping_spans", "unknown_label",
              "relation_missing_end", "unknown_role", "wrong_argument_label",
              "relation_crosses_paragraph", "span_crosses_paragraph", "duplicate_relation",
              "not_word_boundary", "cancelled_annotation", "no_annotation",
              "several_annotations", "invalid_task", "not_nfc"}
    assert tested == set(PROBLEM_KINDS)


def test_unreadable_exports_fail_clearly(tmp_path):
    with pytest.raises(ExportError, match="not found"):
        read_export(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope", encoding="utf-8")
    with pytest.raises(ExportError, match="not valid JSON"):
        read_export(bad)
    empty = tmp_path / "empty.json"
    empty.write_text("[]", encoding="utf-8")
    with pytest.raises(ExportError, match="no tasks"):
        read_export(empty)


def test_summary_names_every_label_and_role(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps([task(good_result())], ensure_ascii=False), encoding="utf-8")
    summary = read_export(path).report.summary()
    for name in SCHEMA.entity_labels + SCHEMA.role_names:
        assert name in summary
    assert "problems: none" in summary
