"""evaluate.py / model.evaluation: numbers against a hand-computed example; report; HTML."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from annotation.documents import Paragraph, Relation, Span
from model.evaluation import ParagraphResult, errors_html, markdown_report, score
from model.predictions import ParagraphPrediction

REPO = Path(__file__).resolve().parents[1]
TEXT = "قصفت الطائرات حلب أمس"



def sp(text: str, label: str) -> Span:
    start = TEXT.index(text)
    return Span(start, start + len(text), label, text)


STRIKE, ACTOR, PLACE, DATE = sp("قصفت", "STRIKE"), sp("الطائرات", "ACTOR"), sp("حلب", "PLACE"), sp(
    "أمس", "DATE")
WIDE_ACTOR = sp("الطائرات حلب", "ACTOR")


def hand_example() -> list[ParagraphResult]:
    gold = Paragraph("doc", 0, 0, TEXT, [STRIKE, ACTOR, PLACE, DATE], [
        Relation(STRIKE, "actor", ACTOR), Relation(STRIKE, "place", PLACE),
        Relation(STRIKE, "date", DATE)])
    # end to end: the ACTOR swallows the PLACE (one wrong boundary), so its relation is wrong
    # and the place relation is missing
    predicted = ParagraphPrediction([STRIKE, WIDE_ACTOR, DATE],
                     [Relation(STRIKE, "actor", WIDE_ACTOR), Relation(STRIKE, "date", DATE)])
    # over gold spans: actor and place right, date missed
    on_gold = ParagraphPrediction([STRIKE, ACTOR, PLACE, DATE],
                   [Relation(STRIKE, "actor", ACTOR), Relation(STRIKE, "place", PLACE)])
    perfect = Paragraph("doc", 1, 22, TEXT, [STRIKE], [])
    return [ParagraphResult(gold, predicted, on_gold),
            ParagraphResult(perfect, ParagraphPrediction([STRIKE]), ParagraphPrediction([STRIKE]))]


def close(a, b):
    return math.isclose(a, b, abs_tol=1e-12)


def test_scores_match_hand_computation():
    report = score(hand_example())
    ent = report["entities"]
    # gold 5 entities (4 + 1), predicted 4 (3 + 1), right 3 (STRIKE x2, DATE)
    assert (ent["micro"]["tp"], ent["micro"]["predicted"], ent["micro"]["support"]) == (3, 4, 5)
    assert close(ent["micro"]["precision"], 3 / 4) and close(ent["micro"]["recall"], 3 / 5)
    assert close(ent["micro"]["f1"], 2 * (3 / 4) * (3 / 5) / (3 / 4 + 3 / 5))
    assert ent["per_label"]["ACTOR"]["f1"] == 0.0 and ent["per_label"]["PLACE"]["recall"] == 0.0
    # macro over STRIKE 1, ACTOR 0, PLACE 0, DATE 1
    assert close(ent["macro"]["f1"], 0.5)

    e2e = report["relations"]["end_to_end"]
    assert close(e2e["micro"]["precision"], 1 / 2) and close(e2e["micro"]["recall"], 1 / 3)
    assert close(e2e["micro"]["f1"], 0.4)
    assert e2e["per_label"]["date"]["f1"] == 1.0 and e2e["per_label"]["actor"]["f1"] == 0.0
    gold_spans = report["relations"]["gold_spans"]
    assert close(gold_spans["micro"]["precision"], 1.0)
    assert close(gold_spans["micro"]["recall"], 2 / 3) and close(gold_spans["micro"]["f1"], 0.8)

    events = report["events"]
    assert events["trigger"]["f1"] == 1.0 and events["trigger"]["support"] == 2
    args = events["arguments"]["micro"]
    assert (args["tp"], args["predicted"], args["support"]) == (1, 2, 3)
    assert events["exact"] == {"matched": 1, "support": 2, "rate": 0.5}

    table = markdown_report(report)
    assert "| ACTOR | 0.0 | 0.0 | 0.0 | 1 | 1 |" in table
    assert "| **micro** | 75.0 | 60.0 | 66.7 | 5 | 4 |" in table


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self.html_attrs = [], 0, {}

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "script":
            self.scripts += 1
        if tag == "html":
            self.html_attrs = dict(attrs)


def test_errors_page_is_rtl_escaped_and_highlights_differences():
    results = hand_example()
    evil = "<script>alert('x')</script> & غارة"
    results.append(ParagraphResult(Paragraph("d<2>", 0, 0, evil, [], []),
                                   ParagraphPrediction([Span(0, 8, "STRIKE", evil[:8])]), None))
    page = errors_html(results, title="t <b>")
    parser = _Collector()
    parser.feed(page)
    assert parser.html_attrs == {"lang": "ar", "dir": "rtl"}
    assert parser.scripts == 0 and "<title>t &lt;b&gt;</title>" in page
    assert "&lt;script&gt;" in page and "&amp; غارة" in page
    assert 'class="ent missed" style' in page and 'class="ent spurious" style' in page
    assert '<tr class="missed">' in page and '<tr class="spurious">' in page
    assert "2 of 3 paragraphs shown" in page  # the perfect paragraph is left out
    assert "3 of 3 paragraphs shown" in errors_html(results, only_errors=False)


@pytest.mark.slow
def test_cli_on_the_training_articles(tmp_path):
    from fixtures_model import small_export, tiny_model_dir

    out, errors = tmp_path / "report.json", tmp_path / "errors.html"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, "evaluate.py", "--model", str(tiny_model_dir()), "--data",
         str(small_export()), "--out", str(out), "--errors", str(errors), "--all-paragraphs",
         "--device", "cpu"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("conversion of ")  # the data's conversion summary first
    assert "## Entities" in run.stdout and "| **micro** | 100.0 | 100.0 | 100.0 |" in run.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["entities"]["micro"]["f1"] == 1.0  # the model was trained on these
    assert report["relations"]["end_to_end"]["micro"]["f1"] == 1.0
    assert report["relations"]["gold_spans"]["micro"]["f1"] == 1.0
    assert report["events"]["exact"]["rate"] == 1.0
    # records built from the predictions equal those built from gold (end to end)
    records = report["records"]
    assert records["records"]["f1"] == 1.0 and records["records"]["support"] > 0
    assert all(row["rate"] == 1.0 for row in records["matched"].values())
    assert records["dates"]["spans"] > 0 and "## Records" in run.stdout
    assert report["conversion"][0]["documents"] == 2 and report["paragraphs"] == 6
    page = errors.read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl">' in page and "6 of 6 paragraphs shown" in page
    assert 'class="ent missed" style' not in page and 'class="ent spurious" style' not in page
    assert page.count('class="ent ok" style') > 45  # 45 gold spans, all right (+ legend)


def test_cli_bad_export(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("not json", encoding="utf-8")
    run = subprocess.run([sys.executable, "evaluate.py", "--model", "x", "--data", str(bad)],
                         cwd=REPO, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == 2 and "error:" in run.stderr


@pytest.mark.parametrize(
    "kind,needle",
    [
        ("missing", "error: model directory not found: "),
        ("file", "is a file; give the model directory"),
        ("broken", "error: cannot load model "),
        ("unreadable", "config.json: cannot be read"),
    ],
)
def test_cli_model_that_cannot_load_is_one_line_and_exit_1(tmp_path, kind, needle):
    from fixtures_model import small_export

    model = tmp_path / "model"
    if kind == "file":
        model.write_text("not a model", encoding="utf-8")
    elif kind == "broken":  # a directory with config.json but no weights
        model.mkdir()
        (model / "config.json").write_text('{"heads": {}}', encoding="utf-8")
    elif kind == "unreadable":
        model.mkdir()
        (model / "config.json").write_text("{not json", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "evaluate.py", "--model", str(model), "--data", str(small_export())],
        cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
    )
    assert run.returncode == 1, run.stderr
    assert needle in run.stderr and "Traceback" not in run.stderr
    assert run.stderr.startswith("error: ") and len(run.stderr.strip().splitlines()) == 1


def test_record_section_against_hand_count():
    from annotation.documents import Document
    from model.evaluation import record_scores

    gold_p = Paragraph("doc", 0, 0, TEXT, [STRIKE, ACTOR, PLACE, DATE], [
        Relation(STRIKE, "actor", ACTOR), Relation(STRIKE, "place", PLACE),
        Relation(STRIKE, "date", DATE)])
    # the prediction finds the strike and its date but not its place
    predicted = ParagraphPrediction([STRIKE, DATE], [Relation(STRIKE, "date", DATE)])
    other_text = "قصف مؤخرا"
    strike2 = Span(0, 3, "STRIKE", "قصف")
    date2 = Span(4, 9, "DATE", "مؤخرا")
    other_p = Paragraph("undated", 0, 0, other_text, [strike2, date2],
                        [Relation(strike2, "date", date2)])
    documents = [Document("doc", TEXT, meta={"date": "2018-04-07 09:00:00", "source": "x"}),
                 Document("undated", other_text, meta={})]
    results = [ParagraphResult(gold_p, predicted), ParagraphResult(other_p, ParagraphPrediction())]
    rec = record_scores(documents, results)
    # gold: one record per document; predicted: one (the second document has no prediction)
    assert (rec["records"]["tp"], rec["records"]["predicted"], rec["records"]["support"]) == (1, 1, 2)
    assert rec["matched"]["date"] == {"agree": 1, "of": 1, "rate": 1.0}  # أمس = 6 April
    assert rec["matched"]["place"]["agree"] == 0  # Aleppo vs no place
    assert rec["matched"]["killed"]["agree"] == 1  # neither has a toll
    assert rec["dates"] == {"spans": 2, "resolved": 1, "null": 0, "no_publication_date": 1,
                            "null_share": 0.0}
    report = score(results)
    report["records"] = rec
    table = markdown_report(report)
    assert "## Records" in table and "| place | 0 | 1 | 0.0 |" in table


def test_dev_summary_is_read_off_the_report():
    from model.dev_scores import SUMMARY_KEYS, summary

    report = score(hand_example())
    dev = summary(report)
    assert set(SUMMARY_KEYS) <= set(dev)
    assert close(dev["entity_f1"], 2 * (3 / 4) * (3 / 5) / (3 / 4 + 3 / 5))
    assert dev["relation_f1"] == report["relations"]["end_to_end"]["micro"]["f1"]
    assert close(dev["relation_f1_gold_spans"], 2 * 1 * (2 / 3) / (1 + 2 / 3))
    assert dev["entity_f1_per_label"]["ACTOR"] == 0.0 and dev["relation_f1_per_role"]["date"] == 1.0


def test_score_and_errors_page_use_the_models_schema():
    from annotation.schema import SCHEMA, Schema

    schema = Schema(version="1.1+weapon", entity_labels=SCHEMA.entity_labels + ("WEAPON",),
                    roles={**SCHEMA.roles, "weapon": "WEAPON"})
    text = "قصفت الطائرات بصاروخ"
    strike, weapon = Span(0, 4, "STRIKE", "قصفت"), Span(14, 20, "WEAPON", "بصاروخ")
    gold = Paragraph("w", 0, 0, text, [strike, weapon], [Relation(strike, "weapon", weapon)])
    pred = ParagraphPrediction([strike, weapon], [Relation(strike, "weapon", weapon)])
    report = score([ParagraphResult(gold, pred, pred)], schema)
    assert report["entities"]["per_label"]["WEAPON"]["tp"] == 1
    assert report["relations"]["end_to_end"]["per_label"]["weapon"]["f1"] == 1.0
    assert report["events"]["arguments"]["per_label"]["weapon"]["tp"] == 1
    assert report["events"]["exact"]["rate"] == 1.0
    assert "| weapon |" in markdown_report(report)
    page = errors_html([ParagraphResult(gold, pred)], only_errors=False, schema=schema)
    assert 'style="--c:#868e96">WEAPON</span>' in page  # the 7th label has its own colour


@pytest.mark.slow
def test_dev_scores_are_exactly_the_numbers_evaluate_reports():
    """Best-epoch selection (dev_scores.evaluate) and evaluate.py score with one scorer."""
    from annotation import read_export
    from annotation.documents import Document
    from fixtures_model import SAMPLE, tiny_model_dir
    from model.dev_scores import evaluate, paragraph_of_example
    from model.evaluation import evaluate_model, paragraphs_of
    from model.metrics import relation_tuples
    from model.network import JointModel

    held_out = list(read_export(json.loads(SAMPLE.read_text(encoding="utf-8"))[2:5]).documents)
    # an annotation that is not word-aligned: the PLACE leaves out the clitic ب of بحلب
    text = "قصفت الطائرات بحلب مواقع للمسلحين"
    strike = Span(0, 4, "STRIKE", "قصفت")
    place = Span(text.index("حلب"), text.index("حلب") + 3, "PLACE", "حلب")
    odd = Document("odd", text, [strike, place], [Relation(strike, "place", place)])
    documents = held_out + [odd]
    model = JointModel.from_pretrained(tiny_model_dir(), device="cpu")

    report, _ = evaluate_model(model, documents, batch_size=4, records=False)
    dev = evaluate(model, paragraphs_of(documents), batch_size=4)
    assert dev["entity_f1"] == report["entities"]["micro"]["f1"]
    assert dev["entity_precision"] == report["entities"]["micro"]["precision"]
    assert dev["entity_recall"] == report["entities"]["micro"]["recall"]
    assert dev["relation_f1"] == report["relations"]["end_to_end"]["micro"]["f1"]
    assert dev["relation_recall"] == report["relations"]["end_to_end"]["micro"]["recall"]
    assert dev["relation_f1_gold_spans"] == report["relations"]["gold_spans"]["micro"]["f1"]
    assert 0.0 < dev["entity_f1"] < 1.0  # held-out articles: a real, imperfect score

    # why dev scoring takes the gold paragraphs: a training example snaps the odd PLACE to
    # its word, so gold built from examples is not the gold evaluate.py scores against
    (odd_paragraph,) = paragraphs_of([odd])
    (odd_example,) = model.examples([odd])
    snapped = paragraph_of_example(odd_example, model.schema)
    assert relation_tuples(snapped.relations) != relation_tuples(odd_paragraph.relations)
