"""Evaluate a trained ghara model on Label Studio exports.

::

    python evaluate.py --model runs/tiny --data annotation/sample/sample_export.json \\
        --out report.json --errors errors.html

Prints the export's conversion summary, then Markdown tables: entities (seqeval strict IOB2
per label, micro, macro), relations per role (end to end and with gold spans), events (gold
STRIKE matched by trigger; argument-role F1), records (model/records.py over predictions vs
over gold: matched records, date/place/actor/casualty agreement, gold DATE resolution;
``--no-records`` skips it). ``--out`` writes the full report as JSON (the
input of ``python -m model.card``); ``--errors`` writes an RTL HTML page of the paragraphs
where gold and prediction differ. The engine is :mod:`model.evaluation`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model directory or hub id")
    parser.add_argument("--data", required=True, nargs="+", help="Label Studio export JSON file(s)")
    parser.add_argument("--out", help="write the full report as JSON here")
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from annotation.export import ExportError, read_export

    documents, conversions = [], []
    for source in args.data:
        try:
            conversion = read_export(source)
        except ExportError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        print(conversion.report.summary(), flush=True)
        documents.extend(conversion.documents)
        conversions.append(conversion.report.to_dict())
    if not documents:
        print("error: no documents to evaluate", file=sys.stderr)
        return 2

    import torch

    from model.evaluation import errors_html, evaluate_model, markdown_report
    from model.network import JointModel

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = JointModel.from_pretrained(args.model, device=device)
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
                           only_errors=not args.all_paragraphs)
        Path(args.errors).parent.mkdir(parents=True, exist_ok=True)
        Path(args.errors).write_text(page, encoding="utf-8")
        print(f"errors page written to {args.errors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
