"""Build the sample's Label Studio export and article list from its markup source.

::

    python -m annotation.sample.build            # writes sample_export.json + articles.jsonl
    python -m annotation.sample.build --check    # exit 1 if either file is out of date

Why: the sample is written and reviewed as inline markup (``articles.txt``, see
:mod:`annotation.sample.markup`); the two files the rest of the project reads are generated
from it, deterministically (same source → byte-identical output), so a reviewer only ever
reads and edits the markup.

Outputs, next to the source:

- ``sample_export.json``: a Label Studio JSON export (one task per article, one
  ground-truth annotation each, spans as ``labels`` items and relations as ``relation``
  items), exactly what ``python -m annotation export`` writes;
- ``articles.jsonl``: one ``{"id", "title", "source", "url", "date", "text"}`` line per
  article (also the ``gold: no`` ones, which the export leaves out), the input of
  ``python -m model.batch`` and ``python -m model.demo``.

Exit codes: 0 written (or up to date with ``--check``), 1 out of date (``--check``),
2 the source has a problem (one line naming the article, paragraph and span).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from annotation.schema import SCHEMA

from .markup import Article, MarkupError, parse

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "articles.txt"
EXPORT = HERE / "sample_export.json"
ARTICLES = HERE / "articles.jsonl"
#: the keys of an article's data besides its text, in output order
META_KEYS = ("article_id", "title", "source", "url", "date")
#: source-only keys (never written out)
CONTROL_KEYS = ("gold",)


def to_task(article: Article, task_id: int) -> dict[str, Any]:
    """One Label Studio export task for an article."""
    result: list[dict[str, Any]] = []
    from_name, to_name = SCHEMA.labels_name, SCHEMA.text_name
    for span in article.spans:
        result.append({
            "id": span.region_id,
            "from_name": from_name,
            "to_name": to_name,
            "type": "labels",
            "value": {"start": span.start, "end": span.end, "text": span.text,
                      "labels": [span.label]},
        })
    for rel in article.relations:
        result.append({"type": "relation", "from_id": rel.head, "to_id": rel.tail,
                       "direction": "right", "labels": [rel.role]})
    data = {SCHEMA.text_name: article.text, "article_id": article.article_id}
    data.update({k: article.meta[k] for k in META_KEYS if k in article.meta})
    data.update({k: v for k, v in article.meta.items() if k not in META_KEYS + CONTROL_KEYS})
    return {
        "id": task_id,
        "data": data,
        "annotations": [{"id": 1000 + task_id, "completed_by": "ghara-team",
                         "was_cancelled": False, "ground_truth": True, "result": result}],
        "predictions": [],
    }


def to_line(article: Article) -> dict[str, Any]:
    """One ``articles.jsonl`` record (id = the article id)."""
    meta = {k: article.meta[k] for k in META_KEYS[1:] if k in article.meta}
    return {"id": article.article_id, **meta, "text": article.text}


def is_gold(article: Article) -> bool:
    """``gold: no`` marks an article that is only model input (articles.jsonl), not annotated:
    e.g. a very long single-paragraph article kept to exercise windowing in batch runs."""
    return article.meta.get("gold", "yes").strip().lower() not in ("no", "false")


def render_outputs(source: str, origin: str = "articles.txt") -> tuple[str, str]:
    """The export and the articles.jsonl text for a markup source."""
    articles = parse(source, origin)
    for a in articles:
        if not is_gold(a) and a.spans:
            raise MarkupError(f"{origin}: {a.article_id}: 'gold: no' but the text has marked spans")
    tasks = [to_task(a, i) for i, a in enumerate(filter(is_gold, articles), start=1)]
    export = json.dumps(tasks, ensure_ascii=False, indent=1) + "\n"
    lines = "".join(json.dumps(to_line(a), ensure_ascii=False) + "\n" for a in articles)
    return export, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m annotation.sample.build",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--export", type=Path, default=EXPORT)
    parser.add_argument("--articles", type=Path, default=ARTICLES)
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the outputs differ from the source")
    args = parser.parse_args(argv)
    try:
        export, lines = render_outputs(args.source.read_text(encoding="utf-8"), args.source.name)
    except (MarkupError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    outputs = {args.export: export, args.articles: lines}
    if args.check:
        stale = [p for p, text in outputs.items()
                 if not p.is_file() or p.read_text(encoding="utf-8") != text]
        for p in stale:
            print(f"out of date: {p} (run python -m annotation.sample.build)")
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
    n = export.count('"annotations"')
    print(f"wrote {args.export} ({n} articles) and {args.articles}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
