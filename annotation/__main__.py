"""``python -m annotation``: the Label Studio side of ghara from the command line.

    config    print the labeling config generated from the schema
    project   create the project, or update its labeling config
    import    import articles (JSONL or a folder of .txt) as tasks, optionally pre-annotated
    export    write the project's JSON export (every task, annotated or not) to a file
    convert   read an export into documents and print the conversion report

Server commands take ``--url``/``--api-key``, defaulting to ``$LABEL_STUDIO_URL`` and
``$LABEL_STUDIO_API_KEY``. Prefer the environment variable for the key: a command-line
argument is visible to other users in the process list. The key is never printed: every
error line goes through :func:`annotation.labelstudio.redact`.

Existing output files are never replaced unless ``--overwrite`` is given. ``config``,
``project`` and ``convert`` take ``--schema FILE`` for a project with labels of its own (the
JSON file a training config names as ``schema_file``); the default is the built-in schema.

Exit status: 0 success (``convert``: at least one document; tasks without a submitted
annotation and every other problem are listed in its report), 1 some input was rejected
(``import``; the rest was processed), 2 usage or fatal error -- one ``error:`` line, e.g.
an export with no task left to use.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Any

from .schema import SCHEMA, Schema

EXIT_OK, EXIT_REJECTED, EXIT_ERROR = 0, 1, 2


def _server_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=None, help="Label Studio URL (default: $LABEL_STUDIO_URL, else http://localhost:8080)")
    parser.add_argument("--api-key", default=None, help="API token (default: $LABEL_STUDIO_API_KEY; prefer the variable)")


def _schema_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schema", type=Path, default=None,
                        help="schema JSON file (Schema.to_dict() form; default: the built-in schema)")


class UsageError(Exception):
    """A bad argument (e.g. an unusable ``--schema`` file): one ``error:`` line, exit 2."""


def _schema(args: argparse.Namespace) -> Schema:
    """``--schema``'s schema, or the built-in one."""
    if args.schema is None:
        return SCHEMA
    try:
        return Schema.from_file(args.schema)
    except ValueError as err:
        raise UsageError(f"--schema: {err}") from None


def _project_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", required=True, help="project id or exact title")


def build_parser() -> argparse.ArgumentParser:
    from .labelstudio import DEFAULT_TITLE

    parser = argparse.ArgumentParser(prog="python -m annotation", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("config", help="print the Label Studio labeling config")
    _schema_arg(p)

    p = sub.add_parser("project", help="create the project or update its labeling config")
    p.add_argument("--title", default=DEFAULT_TITLE)
    p.add_argument("--description", default=None)
    _schema_arg(p)
    _server_args(p)

    p = sub.add_parser("import", help="import articles as tasks")
    _project_arg(p)
    p.add_argument("--input", required=True, type=Path, help="articles: .jsonl / .jsonl.gz (id or article_id, text, other keys) or a folder of them and .txt files")
    p.add_argument("--predictions", type=Path, default=None,
                   help="JSONL of pre-annotations: {id, result[, score, model_version]} or documents {id, spans, relations}")
    p.add_argument("--model-version", default=None, help="model_version stored with the pre-annotations")
    p.add_argument("--reimport", action="store_true", help="import articles whose id is already in the project again")
    _server_args(p)

    p = sub.add_parser("export", help="write the project's JSON export (all tasks)")
    _project_arg(p)
    p.add_argument("--output", required=True, type=Path)
    p.add_argument("--overwrite", action="store_true", help="replace --output if it exists")
    _server_args(p)

    p = sub.add_parser("convert", help="read a JSON export and print the conversion report")
    p.add_argument("--input", required=True, type=Path, help="Label Studio JSON export")
    p.add_argument("--output", type=Path, default=None, help="write the documents as JSONL")
    p.add_argument("--overwrite", action="store_true", help="replace --output if it exists")
    p.add_argument("--text-key", default=None,
                   help=f"data key holding the article (default: {SCHEMA.text_name!r})")
    _schema_arg(p)
    return parser


def _connect(args: argparse.Namespace) -> Any:
    from .labelstudio import connect

    return connect(args.url, args.api_key)


def cmd_config(args: argparse.Namespace) -> int:
    print(_schema(args).label_studio_config(), end="")
    return EXIT_OK


def cmd_project(args: argparse.Namespace) -> int:
    from .labelstudio import ensure_project

    schema = _schema(args)
    result = ensure_project(_connect(args), args.title, args.description, schema)
    print(f"{result.action} project {result.id} ({result.title!r})")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from .labelstudio import import_articles, read_articles, read_predictions, resolve_project

    articles = read_articles(args.input)
    problems = list(articles.problems)
    print(f"read {len(articles.items)} articles from {args.input}")
    if articles.skipped:
        print(f"skipped {len(articles.skipped)} folder entries that are not .jsonl/.jsonl.gz/.txt "
              f"files: {', '.join(articles.skipped[:5])}" + (" ..." if len(articles.skipped) > 5 else ""))
    predictions = None
    if args.predictions is not None:
        loaded = read_predictions(args.predictions)
        problems += loaded.problems
        predictions = {p.article_id: p for p in loaded.items}
        print(f"read {len(loaded.items)} predictions from {args.predictions}")
    client = _connect(args)
    project_id = resolve_project(client, args.project)
    report = import_articles(
        client, project_id, articles.items, predictions, args.model_version,
        skip_existing=not args.reimport,
    )
    report.problems[:0] = problems
    print(report.summary())
    return EXIT_REJECTED if report.problems else EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .labelstudio import connect, export_project, resolve_project

    client = connect(args.url, args.api_key)
    project_id = resolve_project(client, args.project)
    count = export_project(client, project_id, args.output, overwrite=args.overwrite)
    print(f"exported {count} tasks (annotated or not) of project {project_id} to {args.output}")
    return EXIT_OK


def cmd_convert(args: argparse.Namespace) -> int:
    from .export import ExportError, read_export

    if args.output is not None and args.output.exists() and not args.overwrite:
        raise ExportError(f"{args.output} already exists; pass --overwrite to replace it")
    conversion = read_export(args.input, _schema(args), text_key=args.text_key)
    print(conversion.report.summary())
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        partial = args.output.with_name(f".{args.output.name}.partial")
        with partial.open("w", encoding="utf-8") as handle:
            for doc in conversion.documents:
                handle.write(json.dumps(doc.to_dict(), ensure_ascii=False) + "\n")
        partial.replace(args.output)
        print(f"wrote {len(conversion.documents)} documents to {args.output}")
    return EXIT_OK


COMMANDS = {
    "config": cmd_config,
    "project": cmd_project,
    "import": cmd_import,
    "export": cmd_export,
    "convert": cmd_convert,
}


def main(argv: list[str] | None = None) -> int:
    """Run one command; known failures become one ``error:`` line and exit status 2."""
    from .export import ExportError
    from .labelstudio import LabelStudioError, redact

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (LabelStudioError, ExportError, OSError, UsageError) as err:
        print(redact(f"error: {err}"), file=sys.stderr)
        return EXIT_ERROR
    except Exception:  # a bug: keep the traceback, but never with a key in it
        print(redact(traceback.format_exc()), file=sys.stderr, end="")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
