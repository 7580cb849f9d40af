"""Label Studio client: project setup, article import (with pre-annotations), JSON export.

Built on label-studio-sdk 2.x (``from label_studio_sdk import LabelStudio``). Why a layer of
our own on top of the SDK:

* the labeling config always comes from :data:`annotation.schema.SCHEMA`, so the server
  can never drift from the labels the model is trained on;
* input articles and predictions are checked *before* anything reaches the server -- the
  server accepts labels that are not in the config and offsets that do not match the text
  -- and every rejected line is reported with its file, line number and article id;
* the API key never leaves this module: it is not printed, not logged and never part of an
  exception message. SDK errors carry response headers (e.g. session cookies), so they are
  re-raised as :class:`LabelStudioError` built from the status code and body only, and
  every such message -- from any call, not only ``connect`` -- goes through :func:`redact`,
  which removes every key this process was given and any echoed ``Token``/``Bearer`` value
  (a server that echoes the request's Authorization header in an error body would
  otherwise print the key).

Articles are stored as tasks with ``data = {"text": ..., "article_id": ..., <other keys>}``;
``article_id`` is how a re-import recognises tasks that are already in the project.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from .articles import ID_ALIAS, ArticleReader, InputError, read_id, read_objects
from .documents import Relation, Span, nfc
from .export import ExportError, read_export
from .predictions import to_label_studio_results
from .schema import SCHEMA, Schema

ENV_URL = "LABEL_STUDIO_URL"
ENV_API_KEY = "LABEL_STUDIO_API_KEY"
DEFAULT_URL = "http://localhost:8080"
DEFAULT_TITLE = "ghara strike events"
#: Data field holding our article id (the task id is Label Studio's own number).
ARTICLE_ID_FIELD = ID_ALIAS  # the article id in task data
#: Tasks per import request: keeps each request well under the server's size limits.
IMPORT_BATCH_SIZE = 200


class LabelStudioError(RuntimeError):
    """A Label Studio call failed; the message names the action, never the API key."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


class MissingAPIKeyError(LabelStudioError):
    """No API key was given and ``LABEL_STUDIO_API_KEY`` is not set."""


# -- connection ---------------------------------------------------------------------------


def connect(url: str | None = None, api_key: str | None = None, *, check: bool = True) -> LabelStudio:
    """A client for ``url`` (else ``$LABEL_STUDIO_URL``, else localhost:8080).

    With ``check`` one cheap request (who am I) is made so that a wrong URL or a rejected
    key fails here with a clear message instead of in the middle of an import.
    """
    url = (url or os.environ.get(ENV_URL) or DEFAULT_URL).rstrip("/")
    api_key = api_key or os.environ.get(ENV_API_KEY)
    if not api_key:
        raise MissingAPIKeyError(
            f"no Label Studio API key: set {ENV_API_KEY} (Account & Settings -> "
            "Access Token in Label Studio) or pass --api-key"
        )
    _SECRETS.add(api_key)
    with _api(f"connect to Label Studio at {url}"):
        client = LabelStudio(base_url=url, api_key=api_key)
        if check:
            client.users.whoami()
    return client


#: Every API key this process has been given: redacted from every message we produce.
_SECRETS: set[str] = set()
#: An Authorization header echoed back by a server or proxy, whatever key it carries.
_AUTH_VALUE = re.compile(r"\b(Token|Bearer|Basic)(\s+|=)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)


def redact(message: str) -> str:
    """``message`` without any API key this process knows or any Authorization value."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        message = message.replace(secret, "***")
    return _AUTH_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}***", message)


@contextmanager
def _api(action: str) -> Iterator[None]:
    """Re-raise SDK/HTTP errors as :class:`LabelStudioError` with a clean, redacted message.

    Every server call goes through here, so a server error body that echoes the request
    (an ``Authorization: Token ...`` header) never reaches the terminal. ``from None``
    drops the SDK exception, whose text includes response headers.
    """
    try:
        yield
    except ApiError as err:
        raise LabelStudioError(f"{action}: {_describe(err)}") from None
    except httpx.HTTPError as err:
        raise LabelStudioError(f"{action}: {type(err).__name__}: {err}") from None


def _describe(err: ApiError) -> str:
    body = err.body
    if err.status_code == 401:
        return f"HTTP 401, the API key was rejected (check {ENV_API_KEY})"
    if isinstance(body, dict):
        detail = body.get("detail") or ""
        extra = body.get("validation_errors")
        text = f"{detail} {json.dumps(extra, ensure_ascii=False)}" if extra else str(detail)
    else:
        text = str(body)
    if len(text) > 2000:
        text = text[:2000] + " ..."
    return f"HTTP {err.status_code}: {text.strip()}"


# -- projects -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectResult:
    id: int
    title: str
    action: str  # "created", "updated" (config changed) or "unchanged"


def _same_config(a: str | None, b: str) -> bool:
    return " ".join((a or "").split()) == " ".join(b.split())


def find_project(client: LabelStudio, title: str) -> Any | None:
    """The project titled exactly ``title`` (the server's title filter is a substring match)."""
    with _api(f"list projects titled {title!r}"):
        matches = [p for p in client.projects.list(title=title) if p.title == title]
    if len(matches) > 1:
        ids = ", ".join(str(p.id) for p in matches)
        raise LabelStudioError(f"{len(matches)} projects are titled {title!r} (ids {ids}); use an id")
    return matches[0] if matches else None


def ensure_project(
    client: LabelStudio,
    title: str = DEFAULT_TITLE,
    description: str | None = None,
    schema: Schema = SCHEMA,
) -> ProjectResult:
    """Create the project, or bring an existing one's labeling config up to the schema.

    Idempotent, so it is safe to run before every import.
    """
    config = schema.label_studio_config()
    project = find_project(client, title)
    if project is None:
        kwargs: dict[str, Any] = {"title": title, "label_config": config}
        if description is not None:
            kwargs["description"] = description
        with _api(f"create project {title!r}"):
            created = client.projects.create(**kwargs)
        return ProjectResult(created.id, title, "created")
    if _same_config(project.label_config, config) and description in (None, project.description):
        return ProjectResult(project.id, title, "unchanged")
    kwargs = {"label_config": config}
    if description is not None:
        kwargs["description"] = description
    with _api(f"update project {project.id} ({title!r})"):
        client.projects.update(project.id, **kwargs)
    return ProjectResult(project.id, title, "updated")


def resolve_project(client: LabelStudio, project: int | str) -> int:
    """A project id from an id (int or all-digit string) or an exact title."""
    if isinstance(project, int) or str(project).isdigit():
        project_id = int(project)
        with _api(f"find project {project_id}"):
            client.projects.get(project_id)
        return project_id
    found = find_project(client, str(project))
    if found is None:
        raise LabelStudioError(f"no project titled {project!r}; create it with `python -m annotation project`")
    return found.id


# -- reading input ------------------------------------------------------------------------


@dataclass(frozen=True)
class InputProblem:
    """One rejected input item: where it was and why."""

    source: str
    line: int | None
    item_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.source + (f" line {self.line}" if self.line is not None else "")
        if self.item_id is not None:
            where += f" (id {self.item_id})"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Article:
    id: str
    text: str  # NFC, "\n" line ends
    fields: dict[str, Any] = field(default_factory=dict)  # other data fields, kept as-is
    where: str = ""  # "file line N", for messages

    def task_data(self) -> dict[str, Any]:
        return {**self.fields, SCHEMA.text_name: self.text, ARTICLE_ID_FIELD: self.id}


@dataclass(frozen=True)
class Prediction:
    """Pre-annotation for one article: Label Studio result items plus optional score."""

    article_id: str
    result: list[dict[str, Any]]
    score: float | None = None
    model_version: str | None = None
    where: str = ""


@dataclass
class Loaded:
    """Items read from a file or folder, and the ones rejected (never silently dropped)."""

    items: list[Any] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # folder entries that are not article files


def clean_text(text: str) -> str:
    """NFC and ``\\n`` line ends: the form all offsets (SCHEMA.md) refer to."""
    return nfc(text.replace("\r\n", "\n").replace("\r", "\n"))


def read_articles(path: str | Path) -> Loaded:
    """Articles from a JSONL file (``id`` or ``article_id``, ``text``, other keys kept as
    task data), a ``.jsonl.gz``, or a folder of such files and ``.txt`` files (id = stem).

    The reading rules are :mod:`annotation.articles`' (shared with batch extraction); the
    policy here is strict, because annotators must see the text exactly: every item the
    reader flags -- bad JSON, missing or repeated id, invalid UTF-8 (the reader would
    replace it), an empty text -- is an :class:`InputProblem` with its line number, and the
    rest is still read. Texts are NFC with ``\\n`` line ends (:func:`clean_text`).
    """
    loaded = Loaded()
    reader = ArticleReader()
    try:
        for item in reader.read(path):
            source = item.file
            if not item.ok:
                loaded.problems.append(InputProblem(source, item.number, item.id, item.problem or ""))
            elif item.replaced:
                loaded.problems.append(InputProblem(source, item.number, item.id, f"not UTF-8: {item.note}"))
            elif item.empty:
                loaded.problems.append(InputProblem(source, item.number, item.id, "text is empty"))
            else:
                where = source + (f" line {item.number}" if item.number is not None else "")
                loaded.items.append(Article(item.id or "", clean_text(item.text or ""), item.fields, where))
    except InputError as err:
        raise FileNotFoundError(str(err)) from None
    loaded.skipped = reader.counts.skipped_entries
    return loaded


def read_predictions(path: str | Path) -> Loaded:
    """Pre-annotations, one JSON object per line, keyed by article ``id``.

    A line is either ``{"id", "result": [Label Studio result items], "score"?,
    "model_version"?}`` or a document as ``Document.to_dict()`` writes it (``spans`` and
    ``relations``), which is turned into result items by
    :func:`annotation.predictions.to_label_studio_results` -- so ``convert --output`` and
    model output can be imported as pre-annotations directly.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such predictions file: {path}")
    loaded = Loaded()
    seen: set[str] = set()
    for item, obj in read_objects(path):
        lineno = item.number
        if obj is None or item.replaced:  # strict, as for articles: text is never altered
            why = item.problem if obj is None else f"not UTF-8: {item.note}"
            loaded.problems.append(InputProblem(str(path), lineno, None, why or ""))
            continue
        article_id, error = read_id(obj)
        if error is None and article_id is None:
            error = "missing 'id'"
        problem = lambda msg: InputProblem(str(path), lineno, article_id, msg)  # noqa: E731
        if error:
            loaded.problems.append(problem(error))
            continue
        if article_id in seen:
            loaded.problems.append(problem("a second prediction for this id"))
            continue
        score = obj.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
            loaded.problems.append(problem(f"score {score!r} is not a number"))
            continue
        model_version = obj.get("model_version")
        if "result" in obj:
            result = obj["result"]
            if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
                loaded.problems.append(problem("result is not a list of objects"))
                continue
        elif "spans" in obj:
            try:
                spans = [Span(**s) for s in obj["spans"]]
                relations = [
                    Relation(Span(**r["head"]), r["role"], Span(**r["tail"]))
                    for r in obj.get("relations") or []
                ]
                result = to_label_studio_results(spans, relations)
            except (TypeError, KeyError, ValueError) as err:
                loaded.problems.append(problem(f"unusable spans/relations: {err}"))
                continue
        else:
            loaded.problems.append(problem("neither result nor spans"))
            continue
        seen.add(article_id)
        loaded.items.append(
            Prediction(article_id, result, None if score is None else float(score),
                       model_version, f"{path} line {lineno}")
        )
    return loaded


def check_result(text: str, result: Sequence[dict[str, Any]], schema: Schema = SCHEMA) -> list[str]:
    """Why ``result`` would not come back unchanged from an export of ``text`` ([] if it would).

    The server stores unknown labels and wrong offsets without complaint, so this runs the
    export reader itself over the would-be task: whatever it reports or drops is an error.
    """
    task = {"id": "check", "data": {schema.text_name: text}, "annotations": [{"id": 1, "result": list(result)}]}
    try:
        conversion = read_export([task], schema)
    except ExportError as err:  # the task itself would be unusable: say why
        problems = err.report.problems if err.report is not None else []
        return [p.message for p in problems] or [str(err)]
    messages = [p.message for p in conversion.report.problems if p.kind != "not_word_boundary"]
    doc = conversion.documents[0] if conversion.documents else None
    n_spans = sum(1 for r in result if r.get("type") == "labels")
    n_relations = sum(1 for r in result if r.get("type") == "relation")
    if doc is None:
        messages.append("the task would not be readable")
    elif len(doc.spans) != n_spans or len(doc.relations) != n_relations:
        messages.append(
            f"{n_spans} spans / {n_relations} relations sent, {len(doc.spans)} / "
            f"{len(doc.relations)} would come back"
        )
    other = sorted({str(r.get("type")) for r in result} - {"labels", "relation"})
    if other:
        messages.append(f"result types {other} are not part of the schema")
    return messages


# -- import -------------------------------------------------------------------------------


@dataclass
class ImportReport:
    project_id: int
    imported: int = 0
    with_predictions: int = 0
    already_there: list[str] = field(default_factory=list)  # article ids skipped
    problems: list[InputProblem] = field(default_factory=list)
    queued_imports: list[int] = field(default_factory=list)  # async (Enterprise) import ids
    task_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"imported {self.imported} tasks into project {self.project_id} "
            f"({self.with_predictions} with pre-annotations)"
        ]
        if self.already_there:
            lines.append(f"  {len(self.already_there)} articles already in the project, not re-imported")
        if self.queued_imports:
            lines.append(f"  queued on the server as import(s) {self.queued_imports}")
        if self.problems:
            lines.append(f"  {len(self.problems)} rejected:")
            lines.extend(f"    - {p}" for p in self.problems)
        return "\n".join(lines)


def existing_article_ids(client: LabelStudio, project_id: int) -> set[str]:
    """Article ids already imported into the project (to make re-imports idempotent)."""
    with _api(f"list tasks of project {project_id}"):
        tasks = client.tasks.list(project=project_id, fields="task_only", page_size=1000)
        return {
            str(t.data[ARTICLE_ID_FIELD])
            for t in tasks
            if isinstance(t.data, dict) and ARTICLE_ID_FIELD in t.data
        }


def import_articles(
    client: LabelStudio,
    project_id: int,
    articles: Sequence[Article],
    predictions: Mapping[str, Prediction] | None = None,
    model_version: str | None = None,
    *,
    skip_existing: bool = True,
    batch_size: int = IMPORT_BATCH_SIZE,
) -> ImportReport:
    """Import ``articles`` as tasks, each with its prediction (if any) as pre-annotation.

    Predictions are checked against their article's text first; an article whose
    prediction would not survive an export round trip is rejected (reported), not imported
    without it. A prediction for an article not being imported is reported too.
    """
    report = ImportReport(project_id)
    predictions = dict(predictions or {})
    existing = existing_article_ids(client, project_id) if skip_existing else set()
    tasks: list[dict[str, Any]] = []
    for article in articles:
        prediction = predictions.pop(article.id, None)
        if article.id in existing:
            report.already_there.append(article.id)
            continue
        task: dict[str, Any] = {"data": article.task_data()}
        if prediction is not None:
            errors = check_result(article.text, prediction.result)
            if errors:
                report.problems.append(
                    InputProblem(prediction.where or "predictions", None, article.id,
                                 "prediction rejected, article not imported: " + "; ".join(errors))
                )
                continue
            entry: dict[str, Any] = {"result": prediction.result}
            version = prediction.model_version or model_version
            if version:
                entry["model_version"] = version
            if prediction.score is not None:
                entry["score"] = prediction.score
            task["predictions"] = [entry]
        tasks.append(task)
    for article_id, prediction in predictions.items():
        report.problems.append(
            InputProblem(prediction.where or "predictions", None, article_id, "no article with this id")
        )
    for first in range(0, len(tasks), batch_size):
        batch = tasks[first : first + batch_size]
        ids = [t["data"][ARTICLE_ID_FIELD] for t in batch]
        with _api(f"import articles {ids[0]} .. {ids[-1]} into project {project_id}"):
            response = client.projects.import_tasks(id=project_id, request=batch, return_task_ids=True)
        if response.task_count is None and response.import_ is not None:
            report.queued_imports.append(response.import_)
        else:
            report.imported += response.task_count or 0
            report.task_ids.extend(getattr(response, "task_ids", None) or [])
        report.with_predictions += sum(1 for t in batch if "predictions" in t)
    return report


# -- export -------------------------------------------------------------------------------


def export_project(
    client: LabelStudio, project_id: int, output: str | Path, timeout: int = 300,
    *, overwrite: bool = False,
) -> int:
    """Write the project's full JSON export to ``output``; returns the number of tasks.

    What is downloaded: *every* task of the project, annotated or not. On the open-source
    server the SDK's ``exports.as_binary`` calls ``GET /api/projects/{id}/export`` with
    ``download_all_tasks=true`` (the server's own default, ``false``, would keep only tasks
    that have an annotation row, cancelled ones included); on Enterprise it takes an export
    snapshot. Each task carries its ``annotations`` (cancelled ones flagged
    ``was_cancelled``), ``predictions`` and ``drafts``; :func:`annotation.export.read_export`
    makes documents of submitted annotations only and reports the rest (``no_annotation``).

    An existing ``output`` is not replaced unless ``overwrite``; the bytes are written as
    the server sent them, to a temporary file renamed into place, so a failed download never
    truncates an earlier export.
    """
    output = Path(output)
    if output.exists() and not overwrite:
        raise LabelStudioError(f"{output} already exists; pass --overwrite to replace it")
    with _api(f"export project {project_id}"):
        raw = client.projects.exports.as_binary(project_id, export_type="JSON", timeout=timeout)
    try:
        tasks = json.loads(raw)
    except json.JSONDecodeError as err:
        raise LabelStudioError(f"export of project {project_id} is not JSON: {err}") from None
    if not isinstance(tasks, list):
        raise LabelStudioError(f"export of project {project_id} is not a list of tasks")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    partial.write_bytes(raw)
    os.replace(partial, output)
    return len(tasks)
