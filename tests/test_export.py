"""Export -> documents: every problem kind is reported with the task that has it."""

from __future__ import annotations

import copy
import inspect
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


def test_cancelled_annotation_makes_no_document():
    other = task(good_result(), task_id=8)
    conversion = read_export([task(good_result(), was_cancelled=True), other])
    assert [d.id for d in conversion.documents] == ["8"]
    assert [(p.kind, p.task_id) for p in conversion.report.problems] == [
        ("cancelled_annotation", "7"), ("no_annotation", "7")]
    assert conversion.report.tasks == 2 and conversion.report.documents == 1


@pytest.mark.parametrize("shape", ["predictions only", "drafts only", "none", "empty list",
                                   "cancelled only"])
def test_task_without_submitted_annotation_is_reported_not_kept(shape):
    bare = {"id": 9, "data": {"text": TEXT}}
    if shape == "predictions only":
        bare.update(annotations=[], predictions=[{"id": 5, "result": good_result()}])
    elif shape == "drafts only":
        bare.update(annotations=[], drafts=[{"id": 5, "result": good_result()}])
    elif shape == "empty list":
        bare["annotations"] = []
    elif shape == "cancelled only":
        bare["annotations"] = [{"id": 2, "was_cancelled": True, "result": []}]
    conversion = read_export([task(good_result()), bare])
    assert [d.id for d in conversion.documents] == ["7"]
    problem = [p for p in conversion.report.problems if p.kind == "no_annotation"]
    assert [p.task_id for p in problem] == ["9"]
    if shape != "cancelled only" and shape != "none" and shape != "empty list":
        assert shape.split()[0][:-1] in problem[0].message  # "1 prediction(s)" / "1 draft(s)"


def test_submitted_empty_annotation_is_a_negative_document():
    conversion = read_export([task([])])
    doc, = conversion.documents
    assert doc.spans == [] and doc.relations == [] and conversion.report.problems == []


def test_nothing_usable_left_is_an_export_error(tmp_path):
    tasks = [task(good_result(), was_cancelled=True),
             {"id": 8, "data": {"text": TEXT}, "predictions": [{"result": good_result()}]},
             {"id": 9, "data": {"body": TEXT}}]
    with pytest.raises(ExportError) as info:
        read_export(tasks)
    message = str(info.value)
    assert "\n" not in message
    assert "of 3 tasks, 1 unreadable, 2 without a submitted annotation" in message
    assert info.value.report.documents == 0 and len(info.value.report.problems) == 4


def test_pre_1_0_completions_are_read_as_annotations():
    old = task(good_result())
    old["completions"] = old.pop("annotations")
    conversion = read_export([old])
    assert "completions read as annotations" in only_problem(conversion, "completions_key").message
    assert len(conversion.documents[0].spans) == 7


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


# -- shapes of real exports ----------------------------------------------------------------


def test_bi_relation_drawn_from_the_argument_is_read_from_its_strike():
    result = good_result()[:-5] + [rel("a", "s", "actor", direction="bi"),
                                   rel("s", "t", "target", direction="bi")]
    conversion = read_export([task(result)])
    assert conversion.report.problems == []
    got = {(r.head.text, r.role, r.tail.text) for r in conversion.documents[0].relations}
    assert got == {("غارة", "actor", "طائرات التحالف"), ("غارة", "target", "مواقع")}


def test_url_text_is_reported_not_a_document():
    link = {"id": 9, "data": {"text": "https://example.org/news/1.txt"},
            "annotations": [{"id": 1, "result": []}]}
    upload = {"id": 10, "data": {"text": "/data/upload/3/article.txt"},
              "annotations": [{"id": 2, "result": []}]}
    conversion = read_export([task(good_result()), link, upload])
    assert [d.id for d in conversion.documents] == ["7"]
    problems = [p for p in conversion.report.problems if p.kind == "url_text"]
    assert [p.task_id for p in problems] == ["9", "10"]
    assert "https://example.org/news/1.txt" in problems[0].message


def test_text_under_another_key_names_the_keys_and_the_option():
    moved = task(good_result())
    moved["data"] = {"body": TEXT, "article_id": "a7"}
    with pytest.raises(ExportError):
        read_export([moved])
    conversion = read_export([moved, task(good_result(), task_id=8)])
    problem = [p for p in conversion.report.problems if p.task_id == "7"][0]
    assert problem.kind == "invalid_task"
    assert "keys present: 'body', 'article_id'" in problem.message and "--text-key" in problem.message
    conversion = read_export([moved], text_key="body")
    assert conversion.report.problems == [] and len(conversion.documents[0].spans) == 7
    assert "body" not in conversion.documents[0].meta


def test_duplicate_task_ids_keep_the_first():
    first, second = task(good_result()), task(good_result()[:1])
    conversion = read_export([first, second])
    assert len(conversion.documents) == 1 and len(conversion.documents[0].spans) == 7
    assert "repeats task id 7" in only_problem(conversion, "duplicate_task").message


@pytest.mark.parametrize("breakage, kind, words", [
    (lambda t: t.update(annotations=5), "invalid_task", "annotations is int"),
    (lambda t: t["annotations"][0].update(result=7), "malformed", "result is int"),
    (lambda t: t["annotations"].insert(0, "oops"), "malformed", "annotation is str"),
    (lambda t: t.update(data="text"), "invalid_task", "data is str"),
])
def test_malformed_task_is_a_problem_of_that_task(breakage, kind, words):
    broken = task(good_result())
    breakage(broken)
    conversion = read_export([broken, task(good_result(), task_id=8)])
    assert "8" in [d.id for d in conversion.documents]
    mine = [p for p in conversion.report.problems if p.task_id == "7"]
    assert mine and mine[0].kind == kind and words in mine[0].message, [str(p) for p in mine]


@pytest.mark.parametrize("breakage, words", [
    (lambda r: r.__setitem__(2, 3), "result item is int"),
    (lambda r: r[2].update(value=[1, 2]), "value is list"),
    (lambda r: r[2]["value"].update(labels={"STRIKE": 1}), "labels is dict"),
    (lambda r: r[7].update(labels="actor"), "labels is str"),
])
def test_malformed_result_item_is_skipped_with_a_problem(breakage, words):
    result = good_result()
    breakage(result)
    conversion = read_export([task(result)])
    problems = conversion.report.problems
    assert problems[0].kind == "malformed" and words in problems[0].message, [str(p) for p in problems]
    assert all(p.kind in ("malformed", "relation_missing_end") for p in problems)


def test_two_labels_and_two_roles_say_so():
    result = good_result()
    result[3]["value"]["labels"] = ["TARGET", "PLACE"]
    result[-1]["labels"] = ["date", "place"]
    kinds_seen = [p for p in read_export([task(result)]).report.problems]
    by_kind = {p.kind: p.message for p in kinds_seen}
    assert "2 labels ['TARGET', 'PLACE']; a span takes exactly one" in by_kind["not_one_label"]
    assert "2 roles ['date', 'place']; a relation takes exactly one" in by_kind["not_one_role"]
    assert "not one of" not in " ".join(by_kind.values())


def test_other_result_types_are_counted():
    result = good_result() + [{"id": "x", "type": "choices", "value": {"choices": ["yes"]}}]
    assert "'choices'" in only_problem(read_export([task(result)]), "ignored_result").message


@pytest.mark.parametrize("start, end, words", [
    (-3, 4, "negative"), (10, 5, "reversed"), (10, 10, "empty"),
    (len(TEXT) + 2, len(TEXT) + 6, "beyond the text"),
    ("4", "8", "start is str '4' and end is str '8', not an integer"),
    (True, 4, "start is bool"),
    (3, 4, "covers only white space"),
])
def test_impossible_offsets_are_rejected(start, end, words):
    result = good_result()[:6]
    result[5] = span("bad", 0, 4, "DATE")
    result[5]["value"].update(start=start, end=end, text="اليوم" if start != 3 else TEXT[3:4])
    conversion = read_export([task(result)])
    problem = only_problem(conversion, "bad_offsets")
    assert words in problem.message and "span bad" in problem.message
    assert len(conversion.documents[0].spans) == 5
    assert sum(conversion.report.spans.values()) == 5  # counted == kept == scored


def test_utf16_repair_is_decided_per_task():
    # Browser offsets (UTF-16) for the whole task. One span was drawn on the second
    # "غارة": in UTF-16 units its offsets are right; read as code points they would hit
    # the first one. A per-span repair would keep both readings; per task, one.
    text = "😀 غارة غارة على مواقع"
    first, second, target = text.index("غارة"), text.rindex("غارة"), text.index("مواقع")
    items = [span("s", second + 1, second + 5, "STRIKE", text),
             span("t", target + 1, target + 6, "TARGET", text)]
    items[0]["value"]["text"], items[1]["value"]["text"] = "غارة", "مواقع"
    stray = span("x", first, first + 4, "STRIKE", text)  # right only as code points
    conversion = read_export([{"id": 7, "data": {"text": text},
                               "annotations": [{"id": 1, "result": items + [stray]}]}])
    problems = conversion.report.problems
    assert [p.kind for p in problems] == ["offset_mismatch", "utf16_offsets"], [str(p) for p in problems]
    assert "span x" in problems[0].message and "all 3 spans read as utf16" in problems[1].message
    assert [(s.start, s.text) for s in conversion.documents[0].spans] == [
        (second, "غارة"), (target, "مواقع")]


def test_crlf_counted_offsets_are_repaired():
    crlf_text = TEXT.replace("\n", "\r\n")
    lf_result = good_result()  # offsets counted on the "\n" text
    conversion = read_export([{"id": 7, "data": {"text": crlf_text},
                               "annotations": [{"id": 1, "result": lf_result}]}])
    assert "read as crlf" in only_problem(conversion, "crlf_offsets").message
    doc = conversion.documents[0]
    assert doc.text == crlf_text and len(doc.spans) == 7 and len(doc.relations) == 5
    assert all(doc.text[s.start:s.end] == s.text for s in doc.spans)
    strike2 = [s for s in doc.spans if s.text == "القصف"][0]
    assert strike2.start == crlf_text.index("القصف")

    # Offsets counted on the CRLF text itself need no repair.
    same = [at(w, lab, rid, text=crlf_text) for w, lab, rid in
            (("غارة", "STRIKE", "s"), ("القصف", "STRIKE", "s2"))]
    assert read_export([{"id": 7, "data": {"text": crlf_text},
                         "annotations": [{"id": 1, "result": same}]}]).report.problems == []


def test_word_granularity_selection_is_accepted_when_only_the_edges_differ():
    result = good_result()
    result[3]["value"]["text"] = "واقع"       # selection inside مواقع, offsets snapped
    result[4]["value"]["text"] = "ير الز"     # inside دير الزور
    conversion = read_export([task(result)])
    problems = conversion.report.problems
    assert [p.kind for p in problems] == ["word_snapped"] * 2
    assert "'واقع' snapped to words 'مواقع'" in problems[0].message
    assert {s.text for s in conversion.documents[0].spans} >= {"مواقع", "دير الزور"}

    # A selection that spills over a word edge is a real mismatch, not snapping.
    result = good_result()
    result[3]["value"]["text"] = "مواقع في"
    problems = read_export([task(result)]).report.problems
    assert [p.kind for p in problems] == ["offset_mismatch", "relation_missing_end"]


def test_annotator_objects_keep_only_the_id():
    user = {"id": 42, "email": "ann@example.org", "first_name": "Ann", "last_name": "Lee"}
    two = task(good_result(), completed_by=user)
    second = copy.deepcopy(two["annotations"][0])
    second.update(id=2, completed_by="bob@example.org", updated_at="2027-01-01")
    two["annotations"].append(second)
    conversion = read_export([two])
    meta = conversion.documents[0].meta
    assert meta["annotator"].startswith("user-")
    dumped = json.dumps([d.to_dict() for d in conversion.documents]) + conversion.report.summary()
    assert "example.org" not in dumped and "Ann" not in dumped
    conversion = read_export([task(good_result(), completed_by=user)])
    assert conversion.documents[0].meta["annotator"] == 42


def test_json_min_and_tasks_wrapper_are_named(tmp_path):
    json_min = [{"id": 7, "text": TEXT, "label": [{"start": 0, "end": 3, "text": "شنت",
                                                    "labels": ["STRIKE"]}],
                 "annotator": 1, "annotation_id": 1, "lead_time": 3.2}]
    with pytest.raises(ExportError, match="JSON_MIN export"):
        read_export(json_min)
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"tasks": [task(good_result())]}), encoding="utf-8")
    with pytest.raises(ExportError, match="'tasks' list, not a Label Studio JSON export"):
        read_export(wrapped)


def test_every_problem_kind_has_a_test():
    here = inspect.getsource(test_every_problem_kind_has_a_test)
    source = open(__file__, encoding="utf-8").read().replace(here, "")
    assert [k for k in PROBLEM_KINDS if f'"{k}"' not in source] == []


def test_all_cancelled_export_stops_convert_train_and_evaluate_with_one_line(tmp_path):
    """Each command line gives the same one-line reason and a non-zero exit; no traceback,
    no model trained on all-"O" negatives."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    export = tmp_path / "cancelled.json"
    tasks = [task(good_result(), task_id=i, was_cancelled=True) for i in (1, 2, 3)]
    export.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    out_dir = tmp_path / "run"
    commands = [
        ["-m", "annotation", "convert", "--input", str(export)],
        ["evaluate.py", "--model", str(tmp_path / "no-model"), "--data", str(export)],
        ["train.py", "--config", "configs/tiny.yaml", "--set", f"train_files=[{export}]",
         f"dev_file={export}", f"out_dir={out_dir}"],
    ]
    for args in commands:
        done = subprocess.run([sys.executable, *args], cwd=root, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode != 0, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
        assert "no usable task: of 3 tasks, 3 without a submitted annotation" in done.stderr
    assert not out_dir.exists()
