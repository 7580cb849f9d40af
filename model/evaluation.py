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
  (:func:`model.metrics.event_scores`);
- records (:func:`record_scores`): records built from the model's predictions vs records
  built the same way (model/records.py) from the gold spans and relations, matched one to
  one within an article by the STRIKE mentions they share; matched pairs are compared on
  the date interval (exact), the place (a gazetteer id or normalised name in common), the
  actor (a content word in common) and the killed/injured figures (same min and max); plus
  how the gold DATE spans resolve (model/dates.py) with the article's publication date.

:func:`score` is pure (gold paragraphs + predictions -> report) and is the one scorer:
training's dev scores (``model.dev_scores.evaluate``, which picks the best epoch) are read
off the same report, so the best epoch is chosen on exactly the numbers ``evaluate.py``
prints. :func:`predict_results` runs the model over gold paragraphs (shared by both);
:func:`evaluate_model` runs and scores it; :func:`markdown_report` and :func:`errors_html`
render a report. Labels and roles come from the model's own schema (``model.schema``).
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotation.bio import spans_to_tags
from annotation.documents import Document, Paragraph
from annotation.paragraphs import split_paragraphs
from annotation.schema import SCHEMA, Schema
from annotation.words import split_words

from .report_format import pct as _pct
from .metrics import entity_scores, event_scores, paragraph_events, relation_scores, relation_tuples
from .model_source import ModelSourceError, load_failure, model_source
from .predictions import ParagraphPrediction


@dataclass
class ParagraphResult:
    """One gold paragraph with the model's predictions for it."""

    paragraph: Paragraph
    predicted: ParagraphPrediction
    #: the relation head's predictions given the gold spans (None: not run)
    with_gold_spans: ParagraphPrediction | None = None


def paragraphs_of(documents: Sequence[Document]) -> list[Paragraph]:
    """The gold paragraphs of ``documents``, original offsets: what every score is against."""
    return [p for doc in documents for p in split_paragraphs(doc)]


def predict_results(
    model: Any, paragraphs: Sequence[Paragraph], batch_size: int = 32, gold_spans: bool = True
) -> tuple[list[ParagraphResult], float]:
    """The model's predictions for each gold paragraph (and, with ``gold_spans``, its relation
    head's on the gold spans), plus the seconds the end-to-end prediction took."""
    from .inference import predict_paragraphs

    texts = [p.text for p in paragraphs]
    start = time.perf_counter()
    predicted = predict_paragraphs(model, texts, batch_size=batch_size)
    seconds = time.perf_counter() - start
    with_gold: list[Any] = [None] * len(paragraphs)
    if gold_spans:
        with_gold = predict_paragraphs(
            model, texts, batch_size=batch_size, gold_spans=[p.spans for p in paragraphs]
        )
    results = [ParagraphResult(p, a, b) for p, a, b in zip(paragraphs, predicted, with_gold)]
    return results, seconds


def score(results: Sequence[ParagraphResult], schema: Schema = SCHEMA) -> dict[str, Any]:
    """The report's scores from gold paragraphs and predictions (no model involved).

    ``schema``: the one the model was trained with (``model.schema``); it names the labels
    and roles scored and the trigger label of events.
    """
    gold_tags, pred_tags = [], []
    gold_rel, pred_rel, gold_span_rel = [], [], []
    gold_events, pred_events = [], []
    for r in results:
        p = r.paragraph
        words = split_words(p.text)
        gold_tags.append(spans_to_tags(p.spans, words, schema))
        pred_tags.append(spans_to_tags(r.predicted.spans, words, schema))
        gold_rel.append(relation_tuples(p.relations))
        pred_rel.append(relation_tuples(r.predicted.relations))
        if r.with_gold_spans is not None:
            gold_span_rel.append(relation_tuples(r.with_gold_spans.relations))
        gold_events.append(paragraph_events(p.spans, p.relations, schema))
        pred_events.append(paragraph_events(r.predicted.spans, r.predicted.relations, schema))
    relations = {"end_to_end": relation_scores(gold_rel, pred_rel, schema)}
    if results and all(r.with_gold_spans is not None for r in results):
        relations["gold_spans"] = relation_scores(gold_rel, gold_span_rel, schema)
    return {
        "paragraphs": len(results),
        "entities": entity_scores(gold_tags, pred_tags, schema),
        "relations": relations,
        "events": event_scores(gold_events, pred_events, schema),
    }


def _article(doc: Document) -> dict[str, Any]:
    meta = doc.meta or {}
    return {"id": doc.id, "url": meta.get("url"), "outlet": meta.get("outlet", meta.get("source")),
            "published": meta.get("published", meta.get("date"))}


def _f1(tp: int, predicted: int, support: int) -> dict[str, Any]:
    p = tp / predicted if predicted else 0.0
    r = tp / support if support else 0.0
    return {"tp": tp, "predicted": predicted, "support": support, "precision": p, "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0}


def _match(gold: Sequence[Any], pred: Sequence[Any]) -> list[tuple[Any, Any]]:
    """One-to-one pairs of records sharing most STRIKE mentions (greedy, ties by order)."""
    def triggers(rec):
        return {e.trigger[1:] for e in rec.evidence}

    pairs = sorted(((len(triggers(g) & triggers(p)), i, j) for i, g in enumerate(gold)
                    for j, p in enumerate(pred)), key=lambda x: (-x[0], x[1], x[2]))
    used_g, used_p, out = set(), set(), []
    for shared, i, j in pairs:
        if shared and i not in used_g and j not in used_p:
            used_g.add(i)
            used_p.add(j)
            out.append((gold[i], pred[j]))
    return out


def record_scores(documents: Sequence[Document], results: Sequence[ParagraphResult],
                  gazetteer: Any = None, schema: Schema = SCHEMA) -> dict[str, Any]:
    """Record-level scores (see the module docstring) and the gold DATE resolution.

    A document whose publication date does not parse is counted (``bad_published``) and
    scored without one (no date intervals), it does not stop the evaluation.
    """
    from types import SimpleNamespace

    from .dates import publication_anchor, resolve_date
    from .events import build_events, normalize_events
    from .places import Gazetteer
    from .records import actor_keys, build_records

    gazetteer = gazetteer if gazetteer is not None else Gazetteer.default()
    by_doc: dict[str, list[ParagraphResult]] = {}
    for r in results:
        by_doc.setdefault(r.paragraph.doc_id, []).append(r)
    gold_n = pred_n = 0
    matched: list[tuple[Any, Any]] = []
    kinds: dict[str, dict[str, int]] = {"gold": {}, "predicted": {}}
    dates = {"spans": 0, "resolved": 0, "null": 0, "no_publication_date": 0}
    bad_published = 0
    for doc in documents:
        article = _article(doc)
        try:
            anchor = publication_anchor(article["published"]) if article["published"] else None
        except ValueError:
            bad_published += 1
            article["published"], anchor = None, None
        gold_events, pred_events = [], []
        for r in by_doc.get(doc.id, []):
            p = r.paragraph
            gold = SimpleNamespace(spans=p.spans, relations=p.relations)
            gold_events += build_events(gold, p.index, p.start, p.text, schema)
            pred_events += build_events(r.predicted, p.index, p.start, p.text, schema)
            for span in p.spans:
                if span.label != "DATE":
                    continue
                dates["spans"] += 1
                if anchor is None:
                    dates["no_publication_date"] += 1
                elif resolve_date(span.text, anchor) is None:
                    dates["null"] += 1
                else:
                    dates["resolved"] += 1
        gold_records = build_records(normalize_events(gold_events, anchor, gazetteer), article,
                                     normalize=False)
        pred_records = build_records(normalize_events(pred_events, anchor, gazetteer), article,
                                     normalize=False)
        for side, recs in (("gold", gold_records), ("predicted", pred_records)):
            for rec in recs:
                kinds[side][rec.kind] = kinds[side].get(rec.kind, 0) + 1
        gold_n += len(gold_records)
        pred_n += len(pred_records)
        matched += _match(gold_records, pred_records)

    def agree(same):
        n = sum(1 for g, p in matched if same(g, p))
        return {"agree": n, "of": len(matched), "rate": n / len(matched) if matched else 0.0}

    def places(rec):
        return {p.get("key") for p in rec.places}

    def figure(fig):
        return None if fig is None else (fig.min, fig.max)

    judged = dates["resolved"] + dates["null"]
    return {
        "records": _f1(len(matched), pred_n, gold_n),
        "kinds": kinds,
        "matched": {
            "date": agree(lambda g, p: g.date == p.date),
            "place": agree(lambda g, p: places(g) == places(p) == set()
                           or bool(places(g) & places(p))),
            "actor": agree(lambda g, p: actor_keys(g.actors) == actor_keys(p.actors)
                           or bool(actor_keys(g.actors) & actor_keys(p.actors))),
            "killed": agree(lambda g, p: figure(g.killed) == figure(p.killed)),
            "injured": agree(lambda g, p: figure(g.injured) == figure(p.injured)),
        },
        "dates": {**dates, "null_share": dates["null"] / judged if judged else 0.0},
        "bad_published": bad_published,
    }


def evaluate_model(
    model: Any, documents: Sequence[Document], batch_size: int = 32, gold_spans: bool = True,
    records: bool = True,
) -> tuple[dict[str, Any], list[ParagraphResult]]:
    """Run ``model`` over the paragraphs of ``documents`` and score it with its own schema."""
    results, seconds = predict_results(model, paragraphs_of(documents), batch_size, gold_spans)
    report = score(results, model.schema)
    if records:
        report["records"] = record_scores(documents, results, schema=model.schema)
    report["documents"] = len(documents)
    report["predict_seconds"] = round(seconds, 3)
    return report, results


# -- rendering ------------------------------------------------------------------------------
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
    if "records" in report:
        lines += ["", *_record_lines(report["records"])]
    return "\n".join(lines)


def _record_lines(rec: dict[str, Any]) -> list[str]:
    r, d = rec["records"], rec["dates"]
    kinds = "; ".join(f"{side}: " + ", ".join(f"{n} {k}" for k, n in sorted(c.items()))
                      for side, c in rec["kinds"].items())
    lines = [
        "## Records (model/records.py over predictions vs over gold spans and relations)",
        "",
        f"records P {_pct(r['precision'])} R {_pct(r['recall'])} F1 {_pct(r['f1'])} "
        f"({r['tp']} matched of {r['support']} gold, {r['predicted']} predicted; {kinds})",
        "",
        "| matched records agree on | agree | of | % |",
        "|---|---:|---:|---:|",
    ]
    for name, row in rec["matched"].items():
        lines.append(f"| {name} | {row['agree']} | {row['of']} | {_pct(row['rate'])} |")
    lines += ["", f"gold DATE spans: {d['spans']}; resolved {d['resolved']}, null {d['null']} "
                  f"(null share {_pct(d['null_share'])}%), without a publication date "
                  f"{d['no_publication_date']}"]
    return lines


_PALETTE = ("#e4572e", "#4c6ef5", "#a05195", "#2f9e44", "#f08c00", "#1098ad", "#868e96")


def _colors(schema: Schema) -> dict[str, str]:
    """A colour per entity label of ``schema`` (the palette repeats past seven labels)."""
    return {lab: _PALETTE[i % len(_PALETTE)] for i, lab in enumerate(schema.entity_labels)}

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


def _render_text(text: str, spans: Sequence[Any], other: set, bad: str,
                 colors: dict[str, str]) -> str:
    """``text`` with ``spans`` marked: ``ok`` if also in ``other``, else ``bad``."""
    out, pos = [], 0
    for s in sorted(spans, key=lambda s: (s.start, s.end)):
        if s.start < pos:  # overlapping (should not happen with flat spans): skip
            continue
        out.append(html.escape(text[pos : s.start]))
        key = (s.start, s.end, s.label)
        status = "ok" if key in other else bad
        color = colors.get(s.label, "#868e96")
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
    results: Sequence[ParagraphResult], title: str = "ghara: errors", only_errors: bool = True,
    schema: Schema = SCHEMA,
) -> str:
    """An RTL HTML page: per paragraph, gold vs predicted spans and relations, differences
    highlighted (missed in red, spurious in yellow, right in green). All text is escaped."""
    colors = _colors(schema)
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
        gold_line = _render_text(p.text, p.spans, pred_keys, "missed", colors)
        pred_line = _render_text(p.text, r.predicted.spans, gold_keys, "spurious", colors)
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
        f'<span class="ent ok" style="--c:{c}">{html.escape(lab)}</span>'
        for lab, c in colors.items()
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


# -- command line (evaluate.py, ghara evaluate) ----------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Evaluate a trained ghara model on Label Studio exports."
    )
    parser.add_argument("--model", required=True, help="model directory or hub id")
    parser.add_argument("--data", required=True, nargs="+", help="Label Studio export JSON file(s)")
    parser.add_argument("--out", help="write the full report as JSON here")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace --out / --errors files that exist already")
    parser.add_argument("--errors", help="write an HTML page of the differences here")
    parser.add_argument("--all-paragraphs", action="store_true",
                        help="--errors shows every paragraph, not only those with a difference")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default=None, help="cpu, cuda (default: auto)")
    parser.add_argument("--no-gold-spans", action="store_true",
                        help="skip the relation evaluation over gold spans")
    parser.add_argument("--no-records", action="store_true",
                        help="skip the record section (records from predictions vs from gold)")
    return parser


def _read_gold(
    sources: Sequence[str], schema: Schema, show: bool = True
) -> tuple[list[Document], list[dict[str, Any]]] | str:
    """The documents and conversion reports of the gold exports read with ``schema`` (each
    summary printed when ``show``), or the line saying why they cannot be evaluated."""
    from annotation.export import ExportError, read_export

    documents, conversions = [], []
    for source in sources:
        try:
            conversion = read_export(source, schema)
        except ExportError as err:
            return str(err)
        if show:
            print(conversion.report.summary(), flush=True)
        documents.extend(conversion.documents)
        conversions.append(conversion.report.to_dict())
    return (documents, conversions) if documents else "no documents to evaluate"


def _load_model(name_or_path: str, device: str | None) -> Any:
    """The model, or a :class:`ModelSourceError` whose message is one line for the user."""
    import torch

    from .network import JointModel

    source = model_source(name_or_path)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return JointModel.from_pretrained(source, device=device)
    except Exception as err:  # noqa: BLE001 - any loader failure is one line for the user
        raise ModelSourceError(load_failure(name_or_path, err)) from None


def main(argv: list[str] | None = None) -> int:
    """``evaluate.py``: exit 0 evaluated; 2 an output exists (no ``--overwrite``) or an export
    is unusable (reported before the model is loaded); 1 the model cannot be loaded (a
    missing directory, a file, a broken model or its unreadable config.json: one ``error:``
    line)."""
    from .config import ConfigError

    try:
        return _main(argv)
    except (ModelSourceError, ConfigError) as err:
        print(f"error: {err.code if isinstance(err, ConfigError) else err}", file=sys.stderr)
        return 1


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from .config import MODEL_CONFIG_NAME, saved_model_schema

    for target in (args.out, args.errors):
        if target and Path(target).exists() and not args.overwrite:
            print(f"error: {target} exists; pass --overwrite to replace it", file=sys.stderr)
            return 2

    # the gold is read with the model's own schema (a label of its own is scored, not
    # dropped), and an unusable export is reported (exit 2) before the model is loaded: a
    # local model's schema is read from its config.json; for a hub model the exports are
    # checked first (whether one is usable does not depend on the schema: an unknown label
    # only drops a span), then read again with the downloaded model's schema
    model = None
    if (Path(args.model) / MODEL_CONFIG_NAME).is_file():
        schema = saved_model_schema(args.model)
    else:
        if isinstance(problem := _read_gold(args.data, SCHEMA, show=False), str):
            print(f"error: {problem}", file=sys.stderr)
            return 2
        model = _load_model(args.model, args.device)
        schema = model.schema
    gold = _read_gold(args.data, schema)
    if isinstance(gold, str):
        print(f"error: {gold}", file=sys.stderr)
        return 2
    documents, conversions = gold
    if model is None:
        model = _load_model(args.model, args.device)
    report, results = evaluate_model(
        model, documents, batch_size=args.batch_size, gold_spans=not args.no_gold_spans,
        records=not args.no_records,
    )
    report = {
        "model": str(args.model),
        "data": [str(d) for d in args.data],
        "conversion": conversions,
        **report,
    }
    print()
    print(markdown_report(report))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"\nreport written to {args.out}")
    if args.errors:
        page = errors_html(results, title=f"ghara errors: {args.model} on {', '.join(args.data)}",
                           only_errors=not args.all_paragraphs, schema=model.schema)
        Path(args.errors).parent.mkdir(parents=True, exist_ok=True)
        Path(args.errors).write_text(page, encoding="utf-8")
        print(f"errors page written to {args.errors}")
    return 0
