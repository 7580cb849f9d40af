"""Evaluation of a joint model on annotated documents (the engine behind ``evaluate.py``).

Three views, all strict:

- entities: word-level IOB2 tags (the tags the training examples use: ``annotation.bio``
  over ``annotation.words.split_words``), scored with seqeval strict mode per label, micro
  and macro (:func:`model.metrics.entity_scores`);
- relations: exact ``(head, role, tail)`` tuples per paragraph, per role, twice: end to end
  (over the model's own spans) and with the gold spans given to the relation head
  (``predict_paragraphs(..., gold_spans=...)``), which isolates the relation head;
- events: each gold STRIKE is matched by a predicted STRIKE with the same boundaries; then
  argument-role P/R/F1 over the events and the rate of exactly right events
  (:func:`model.metrics.event_scores`).

:func:`score` is pure (gold paragraphs + predictions -> report); :func:`evaluate_model` runs
the model; :func:`markdown_report` and :func:`errors_html` render a report.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from annotation.bio import spans_to_tags
from annotation.documents import Document, Paragraph
from annotation.paragraphs import split_paragraphs
from annotation.schema import SCHEMA
from annotation.words import split_words

from .metrics import entity_scores, event_scores, paragraph_events, relation_scores, relation_tuples


@dataclass
class ParagraphResult:
    """One gold paragraph with the model's predictions for it."""

    paragraph: Paragraph
    predicted: Any  # ParagraphPrediction (spans, relations, span_scores, relation_scores)
    with_gold_spans: Any | None = None  # ParagraphPrediction of the relation head on gold spans


def paragraphs_of(documents: Sequence[Document]) -> list[Paragraph]:
    return [p for doc in documents for p in split_paragraphs(doc)]


def score(results: Sequence[ParagraphResult]) -> dict[str, Any]:
    """The report's scores from gold paragraphs and predictions (no model involved)."""
    gold_tags, pred_tags = [], []
    gold_rel, pred_rel, gold_span_rel = [], [], []
    gold_events, pred_events = [], []
    for r in results:
        p = r.paragraph
        words = split_words(p.text)
        gold_tags.append(spans_to_tags(p.spans, words))
        pred_tags.append(spans_to_tags(r.predicted.spans, words))
        gold_rel.append(relation_tuples(p.relations))
        pred_rel.append(relation_tuples(r.predicted.relations))
        if r.with_gold_spans is not None:
            gold_span_rel.append(relation_tuples(r.with_gold_spans.relations))
        gold_events.append(paragraph_events(p.spans, p.relations))
        pred_events.append(paragraph_events(r.predicted.spans, r.predicted.relations))
    relations = {"end_to_end": relation_scores(gold_rel, pred_rel)}
    if results and all(r.with_gold_spans is not None for r in results):
        relations["gold_spans"] = relation_scores(gold_rel, gold_span_rel)
    return {
        "paragraphs": len(results),
        "entities": entity_scores(gold_tags, pred_tags),
        "relations": relations,
        "events": event_scores(gold_events, pred_events),
    }


def evaluate_model(
    model: Any, documents: Sequence[Document], batch_size: int = 32, gold_spans: bool = True
) -> tuple[dict[str, Any], list[ParagraphResult]]:
    """Run ``model`` over the paragraphs of ``documents`` and score it."""
    from .inference import predict_paragraphs

    paragraphs = paragraphs_of(documents)
    texts = [p.text for p in paragraphs]
    start = time.perf_counter()
    predicted = predict_paragraphs(model, texts, batch_size=batch_size)
    seconds = time.perf_counter() - start
    with_gold = [None] * len(paragraphs)
    if gold_spans:
        with_gold = predict_paragraphs(
            model, texts, batch_size=batch_size, gold_spans=[p.spans for p in paragraphs]
        )
    results = [ParagraphResult(p, a, b) for p, a, b in zip(paragraphs, predicted, with_gold)]
    report = score(results)
    report["documents"] = len(documents)
    report["predict_seconds"] = round(seconds, 3)
    return report, results


# -- rendering ------------------------------------------------------------------------------
def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def markdown_report(report: dict[str, Any]) -> str:
    """The report as Markdown tables (percentages)."""
    lines: list[str] = []
    ent = report["entities"]
    lines += [
        f"## Entities (strict IOB2, word level; {report.get('paragraphs', '?')} paragraphs)",
        "",
        "| label | P | R | F1 | support | predicted |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, row in ent["per_label"].items():
        lines.append(
            f"| {label} | {_pct(row['precision'])} | {_pct(row['recall'])} | {_pct(row['f1'])} "
            f"| {row['support']} | {row['predicted']} |"
        )
    m = ent["micro"]
    lines.append(
        f"| **micro** | {_pct(m['precision'])} | {_pct(m['recall'])} | {_pct(m['f1'])} "
        f"| {m['support']} | {m['predicted']} |"
    )
    a = ent["macro"]
    lines.append(f"| **macro** | {_pct(a['precision'])} | {_pct(a['recall'])} | {_pct(a['f1'])} | | |")

    rel = report["relations"]
    modes = [k for k in ("end_to_end", "gold_spans") if k in rel]
    header = "| role | " + " | ".join(f"{m} P | {m} R | {m} F1" for m in modes) + " | support |"
    lines += ["", "## Relations (strict: head, role, tail)", "", header,
              "|---|" + "---:|---:|---:|" * len(modes) + "---:|"]
    for role in list(rel["end_to_end"]["per_label"]) + ["micro", "macro"]:
        cells = []
        for mode in modes:
            row = rel[mode][role] if role in ("micro", "macro") else rel[mode]["per_label"][role]
            cells.append(f"{_pct(row['precision'])} | {_pct(row['recall'])} | {_pct(row['f1'])}")
        base = rel["end_to_end"]
        support = (base["per_label"][role]["support"] if role not in ("micro", "macro")
                   else base["micro"]["support"] if role == "micro" else "")
        name = f"**{role}**" if role in ("micro", "macro") else role
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {support} |")

    ev = report["events"]
    t = ev["trigger"]
    lines += [
        "",
        "## Events (gold STRIKE matched by trigger boundaries)",
        "",
        f"trigger P {_pct(t['precision'])} R {_pct(t['recall'])} F1 {_pct(t['f1'])} "
        f"({t['tp']} of {t['support']} gold, {t['predicted']} predicted); exactly right events "
        f"{ev['exact']['matched']}/{ev['exact']['support']} ({_pct(ev['exact']['rate'])}%)",
        "",
        "| argument role | P | R | F1 | support |",
        "|---|---:|---:|---:|---:|",
    ]
    args = ev["arguments"]
    for role, row in list(args["per_label"].items()) + [("**micro**", args["micro"])]:
        lines.append(
            f"| {role} | {_pct(row['precision'])} | {_pct(row['recall'])} | {_pct(row['f1'])} "
            f"| {row['support']} |"
        )
    am = args["macro"]
    lines.append(f"| **macro** | {_pct(am['precision'])} | {_pct(am['recall'])} | {_pct(am['f1'])} | |")
    return "\n".join(lines)


_PALETTE = ("#e4572e", "#4c6ef5", "#a05195", "#2f9e44", "#f08c00", "#1098ad", "#868e96")
_COLORS = dict(zip(SCHEMA.entity_labels, _PALETTE))

_CSS = """
body { font-family: "Noto Naskh Arabic", "Amiri", "Segoe UI", sans-serif; margin: 2em;
       line-height: 2.1; max-width: 70em; }
.para { border: 1px solid #ccc; border-radius: 6px; padding: 0.5em 1em; margin: 1.2em 0; }
.para h2 { font-size: 1em; margin: 0; direction: ltr; text-align: left; color: #555; }
.row { margin: 0.3em 0; } .row b { display: inline-block; min-width: 5em; }
.ent { border-bottom: 3px solid var(--c); padding: 0 2px; border-radius: 3px; }
.ent sub { font-size: 0.6em; color: var(--c); direction: ltr; unicode-bidi: isolate; }
.ok { background: #ebfbee; } .missed { background: #ffe3e3; outline: 2px dashed #c92a2a; }
.spurious { background: #fff3bf; outline: 2px dashed #e67700; }
table { border-collapse: collapse; margin: 0.4em 0; } td, th { border: 1px solid #ddd; padding: 0 0.5em; }
tr.missed td { background: #ffe3e3; } tr.spurious td { background: #fff3bf; }
tr.ok td { background: #ebfbee; } .legend span { margin-left: 1em; }
"""


def _render_text(text: str, spans: Sequence[Any], other: set, bad: str) -> str:
    """``text`` with ``spans`` marked: ``ok`` if also in ``other``, else ``bad``."""
    out, pos = [], 0
    for s in sorted(spans, key=lambda s: (s.start, s.end)):
        if s.start < pos:  # overlapping (should not happen with flat spans): skip
            continue
        out.append(html.escape(text[pos : s.start]))
        key = (s.start, s.end, s.label)
        status = "ok" if key in other else bad
        color = _COLORS.get(s.label, "#868e96")
        out.append(
            f'<span class="ent {status}" style="--c:{color}" title="{html.escape(s.label)}">'
            f"{html.escape(text[s.start:s.end])}<sub>{html.escape(s.label)}</sub></span>"
        )
        pos = s.end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _relation_rows(gold: set, pred: set, text: str) -> list[str]:
    rows = []
    for status, items in (("missed", gold - pred), ("spurious", pred - gold), ("ok", gold & pred)):
        for hs, he, _hl, role, ts, te, tl in sorted(items):
            rows.append(
                f'<tr class="{status}"><td>{status}</td><td>{html.escape(text[hs:he])}</td>'
                f"<td>{html.escape(role)}</td><td>{html.escape(text[ts:te])}</td>"
                f"<td>{html.escape(tl)}</td></tr>"
            )
    return rows


def errors_html(
    results: Sequence[ParagraphResult], title: str = "ghara: errors", only_errors: bool = True
) -> str:
    """An RTL HTML page: per paragraph, gold vs predicted spans and relations, differences
    highlighted (missed in red, spurious in yellow, right in green). All text is escaped."""
    parts = []
    shown = 0
    for r in results:
        p = r.paragraph
        gold_keys = {(s.start, s.end, s.label) for s in p.spans}
        pred_keys = {(s.start, s.end, s.label) for s in r.predicted.spans}
        gold_rel = relation_tuples(p.relations)
        pred_rel = relation_tuples(r.predicted.relations)
        if only_errors and gold_keys == pred_keys and gold_rel == pred_rel:
            continue
        shown += 1
        gold_line = _render_text(p.text, p.spans, pred_keys, "missed")
        pred_line = _render_text(p.text, r.predicted.spans, gold_keys, "spurious")
        rows = _relation_rows(gold_rel, pred_rel, p.text)
        table = ""
        if rows:
            table = (
                "<table><tr><th>status</th><th>STRIKE</th><th>role</th><th>argument</th>"
                "<th>label</th></tr>" + "".join(rows) + "</table>"
            )
        n_missed = len(gold_keys - pred_keys) + len(gold_rel - pred_rel)
        n_spurious = len(pred_keys - gold_keys) + len(pred_rel - gold_rel)
        parts.append(
            f'<div class="para" id="{html.escape(p.id, quote=True)}">'
            f"<h2>{html.escape(p.id)}: {n_missed} missed, {n_spurious} spurious</h2>"
            f'<div class="row"><b>gold</b> {gold_line}</div>'
            f'<div class="row"><b>predicted</b> {pred_line}</div>{table}</div>'
        )
    legend = "".join(
        f'<span class="ent ok" style="--c:{c}">{lab}</span>' for lab, c in _COLORS.items()
        if lab in SCHEMA.entity_labels
    )
    return (
        '<!DOCTYPE html>\n<html lang="ar" dir="rtl">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>"
        f'<p class="legend">{legend} — <span class="ent missed">missed (gold only)</span>'
        f'<span class="ent spurious">spurious (predicted only)</span>'
        f'<span class="ent ok">right</span></p>'
        f"<p>{shown} of {len(results)} paragraphs shown"
        + (" (only those with a difference)" if only_errors else "") + "</p>\n"
        + "\n".join(parts) + "\n</body>\n</html>\n"
    )
