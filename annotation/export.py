"""Label Studio JSON export -> :class:`Document` objects, validated and reported.

Nothing is dropped silently: every task, annotation, span or relation that cannot be used
becomes a :class:`Problem` naming the task, and :meth:`ConversionReport.summary` counts
them by kind. Problems that can be repaired without guessing (UTF-16 or CRLF-counted
offsets, a non-NFC text, offsets snapped to words) are repaired and still reported.

Only a *submitted* annotation makes a gold document. A task with predictions only, with
skipped/cancelled annotations only, with drafts only or with nothing at all is reported
(``no_annotation``) and left out: kept, it would train as an all-"O" article and be scored
in dev sets as one. A submitted annotation with no regions stays a document -- that is an
annotator saying "no strike here". When nothing usable is left, :class:`ExportError`.

Real exports come in more shapes than the server writes today; the reader takes:

* the JSON export (a list of tasks), or a single task object as the API returns it;
* pre-1.0 exports, whose tasks carry ``completions`` instead of ``annotations`` -- read as
  annotations and reported (``completions_key``);
* ``completed_by`` as an id or as a user object (``annotations__completed_by`` expanded):
  only the id is kept, never the e-mail or name.

It refuses, with one line naming the problem: JSON_MIN exports (flat records, no
relations), a ``{"tasks": [...]}`` wrapper and anything that is not a list of tasks.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .documents import Document, Relation, Span, nfc
from .paragraphs import paragraph_ranges
from .schema import SCHEMA, Schema
from .words import WORD, char_classes, word_boundaries

#: Every kind of problem the reader can report, with what happens to the item.
PROBLEM_KINDS: dict[str, str] = {
    "invalid_task": "task skipped: not an object, no usable text, or annotations not a list",
    "url_text": "task skipped: data.text is a URL (valueType=url), not the article",
    "duplicate_task": "task skipped: its id repeats an earlier task",
    "completions_key": "pre-1.0 export: completions read as annotations",
    "malformed": "item skipped: a field has the wrong JSON type",
    "cancelled_annotation": "annotation skipped: marked cancelled (skipped)",
    "no_annotation": "task skipped: no submitted annotation (predictions, drafts or "
                     "cancelled only, or none)",
    "several_annotations": "one annotation chosen (ground_truth, else newest)",
    "not_nfc": "text NFC-normalised, offsets moved",
    "utf16_offsets": "task's offsets read as UTF-16 code units and repaired",
    "crlf_offsets": "task's offsets counted with CRLF as one character and repaired",
    "word_snapped": "span kept: value.text is the raw selection, offsets snapped to words",
    "bad_offsets": "span dropped: offsets not integers, negative, empty, reversed, "
                   "beyond the text or on white space only",
    "offset_mismatch": "span dropped: offsets do not match value.text",
    "not_one_label": "span dropped: no label or several labels",
    "unknown_label": "span dropped: label not in the schema",
    "overlapping_spans": "span dropped: overlaps a longer span",
    "span_crosses_paragraph": "span dropped: crosses a paragraph break",
    "not_word_boundary": "span kept: does not start/end on a word boundary",
    "ignored_result": "result item ignored: its type is not labels or relation",
    "relation_missing_end": "relation dropped: from_id/to_id names no kept span",
    "not_one_role": "relation dropped: no role or several roles",
    "unknown_role": "relation dropped: role not in the schema",
    "wrong_argument_label": "relation dropped: role does not allow these span labels",
    "relation_crosses_paragraph": "relation dropped: ends in different paragraphs",
    "duplicate_relation": "relation dropped: same relation twice",
}

#: A text that is only a link or an uploaded-file path: the article is not in the export.
_URL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://|/data/(?:upload|local-files)/)\S*$")
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class ExportError(ValueError):
    """The export as a whole cannot be used (missing file, not JSON, not a list of tasks,
    JSON_MIN, or no task left with a submitted annotation). ``report`` is the conversion
    report when the tasks were read."""

    def __init__(self, message: str, report: "ConversionReport | None" = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class Problem:
    kind: str
    task_id: str
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] task {self.task_id}: {self.message}"


@dataclass
class ConversionReport:
    source: str
    tasks: int = 0
    documents: int = 0
    paragraphs: int = 0
    spans: Counter = field(default_factory=Counter)
    relations: Counter = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    #: the schema the export was read with: its labels and roles are what ``summary`` lists
    schema: Schema = field(default=SCHEMA, repr=False, compare=False)

    def add(self, kind: str, task_id: Any, message: str) -> None:
        if kind not in PROBLEM_KINDS:
            raise KeyError(f"unknown problem kind {kind!r}")
        self.problems.append(Problem(kind, str(task_id), message))

    @property
    def problems_by_kind(self) -> Counter:
        return Counter(p.kind for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "tasks": self.tasks,
            "documents": self.documents,
            "paragraphs": self.paragraphs,
            "spans": dict(self.spans),
            "relations": dict(self.relations),
            "problems": dict(self.problems_by_kind),
        }

    def summary(self, max_examples: int = 3) -> str:
        """A human summary: counts per label/role and per problem kind, with examples."""
        lines = [
            f"conversion of {self.source}: {self.tasks} tasks -> {self.documents} documents, "
            f"{self.paragraphs} paragraphs",
            f"  spans {sum(self.spans.values())}: "
            + ", ".join(f"{lab} {self.spans.get(lab, 0)}" for lab in self.schema.entity_labels),
            f"  relations {sum(self.relations.values())}: "
            + ", ".join(f"{role} {self.relations.get(role, 0)}"
                        for role in self.schema.role_names),
        ]
        by_kind = self.problems_by_kind
        if not by_kind:
            lines.append("  problems: none")
        for kind, count in sorted(by_kind.items()):
            lines.append(f"  problem {kind} x{count} ({PROBLEM_KINDS[kind]})")
            examples = [p for p in self.problems if p.kind == kind][:max_examples]
            lines.extend(f"    - task {p.task_id}: {p.message}" for p in examples)
        return "\n".join(lines)


@dataclass
class Conversion:
    documents: list[Document]
    report: ConversionReport


# -- the file as a whole -----------------------------------------------------------------


def load_tasks(source: str | Path | list[dict[str, Any]]) -> tuple[list[Any], str]:
    """The list of tasks in ``source`` and a name for messages; :class:`ExportError` if the
    file is not a Label Studio JSON export."""
    if isinstance(source, list):
        return source, "<tasks>"
    path = Path(source)
    if not path.is_file():
        raise ExportError(f"export file not found: {path}")
    try:
        tasks = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as err:
        raise ExportError(f"{path} is not UTF-8: {err}") from None
    except json.JSONDecodeError as err:
        raise ExportError(f"{path} is not valid JSON: {err}") from None
    if isinstance(tasks, dict):
        if "data" not in tasks and isinstance(tasks.get("tasks"), list):
            raise ExportError(
                f"{path}: a JSON object with a 'tasks' list, not a Label Studio JSON export "
                "(a list of tasks); write the list itself, or export again with "
                "`python -m annotation export`"
            )
        tasks = [tasks]  # a single task, as the API returns it
    if not isinstance(tasks, list):
        raise ExportError(f"{path}: expected a list of Label Studio tasks, got "
                          f"{type(tasks).__name__}")
    return tasks, str(path)


def _looks_json_min(tasks: list[Any], text_key: str) -> bool:
    """JSON_MIN records are flat: data fields, ``annotator`` and one key per control."""
    records = [t for t in tasks[:50] if isinstance(t, dict)]
    return bool(records) and all(
        "data" not in t and "annotations" not in t and "completions" not in t
        and ("annotation_id" in t or "annotator" in t or text_key in t)
        for t in records
    )


def read_export(
    source: str | Path | list[dict[str, Any]], schema: Schema = SCHEMA,
    *, text_key: str | None = None,
) -> Conversion:
    """Read a Label Studio JSON export (path or parsed list) into validated documents.

    ``text_key`` names the data field holding the article when the project's ``<Text>``
    tag reads another one than ``schema.text_name``. Raises :class:`ExportError` when the
    export as a whole is unusable, including when no task has a submitted annotation.
    """
    text_key = text_key or schema.text_name
    tasks, name = load_tasks(source)
    if not tasks:
        raise ExportError(f"{name}: the export holds no tasks")
    if _looks_json_min(tasks, text_key):
        raise ExportError(
            f"{name}: a JSON_MIN export (flat records, no annotations, no relations); "
            "export the project as JSON (`python -m annotation export`)"
        )
    report = ConversionReport(source=name, tasks=len(tasks), schema=schema)
    documents: list[Document] = []
    seen_ids: set[str] = set()
    for position, task in enumerate(tasks):
        doc = _read_task(task, position, report, schema, text_key)
        if doc is None:
            continue
        if doc.id in seen_ids:
            report.add("duplicate_task", doc.id, f"task #{position} repeats task id {doc.id}")
            continue
        seen_ids.add(doc.id)
        documents.append(doc)
    report.documents = len(documents)
    report.paragraphs = sum(1 for doc in documents for _ in paragraph_ranges(doc.text))
    for doc in documents:
        report.spans.update(s.label for s in doc.spans)
        report.relations.update(r.role for r in doc.relations)
    if not documents:
        raise ExportError(f"{name}: no usable task: {_why_none(report)}", report)
    return Conversion(documents, report)


_SKIPPED = {"no_annotation": "without a submitted annotation", "invalid_task": "unreadable",
            "url_text": "with a link for text", "malformed": "with a malformed result"}


def _why_none(report: ConversionReport) -> str:
    """One line: why no task made a document, counted by reason."""
    skipped = [p for p in report.problems if p.kind in _SKIPPED]
    counts = Counter(p.kind for p in skipped)
    parts = ", ".join(f"{n} {_SKIPPED[kind]}" for kind, n in sorted(counts.items()))
    if set(counts) == {"no_annotation"}:
        hint = "submit annotations in Label Studio and export again"
    elif skipped:
        hint = f"e.g. task {skipped[0].task_id}: {skipped[0].message}"
    else:
        hint = "see `python -m annotation convert`"
    return f"of {report.tasks} tasks, {parts or 'none usable'}; {hint}"


# -- one task ----------------------------------------------------------------------------


def _kind_of(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _read_task(
    task: Any, position: int, report: ConversionReport, schema: Schema, text_key: str
) -> Document | None:
    if not isinstance(task, dict):
        report.add("invalid_task", f"#{position}", f"task is {_kind_of(task)}, not a JSON object")
        return None
    task_id = task.get("id", f"#{position}")
    data = task.get("data")
    if not isinstance(data, dict):
        report.add("invalid_task", task_id, f"data is {_kind_of(data)}, not an object")
        return None
    raw_text = data.get(text_key)
    if not isinstance(raw_text, str) or not raw_text.strip():
        if text_key not in data:
            keys = ", ".join(repr(k) for k in data) or "none"
            why = (f"data has no {text_key!r} (keys present: {keys}); "
                   "name the article's key with --text-key")
        else:
            why = f"data.{text_key} is {_kind_of(raw_text)}, not a non-empty string"
        report.add("invalid_task", task_id, why)
        return None
    if _URL.match(raw_text.strip()):
        report.add("url_text", task_id,
                   f"data.{text_key} is a link, {raw_text.strip()[:80]!r}: the article text "
                   "is not in the export (valueType=url); import the text itself")
        return None

    annotation = _choose_annotation(task, task_id, report)
    if annotation is None:
        return None
    result = annotation.get("result")
    if result is None:
        result = []
    if not isinstance(result, list):
        report.add("malformed", task_id, f"annotation {annotation.get('id')}: result is "
                                         f"{_kind_of(result)}, not a list; task skipped")
        return None

    text = nfc(raw_text)
    if text != raw_text:
        report.add("not_nfc", task_id, f"data.{text_key} was not NFC; normalised and offsets moved")
    meta = {k: v for k, v in data.items() if k != text_key}
    meta["annotator"] = annotator_id(annotation.get("completed_by"))
    meta["annotation_id"] = annotation.get("id")
    doc = Document(id=str(task_id), text=text, meta=meta)
    spans_by_id = _read_spans(result, raw_text, text, task_id, report, schema)
    doc.spans = sorted(spans_by_id.values())
    doc.relations = _read_relations(result, spans_by_id, text, task_id, report, schema)
    doc.check_offsets()
    return doc


def annotator_id(completed_by: Any) -> Any:
    """The annotator's id only: a user object gives its ``id``; an e-mail becomes a stable
    pseudonym, so outputs and reports never carry personal data."""
    if isinstance(completed_by, dict):
        completed_by = completed_by.get("id")
    if isinstance(completed_by, str) and _EMAIL.search(completed_by):
        return "user-" + hashlib.sha256(completed_by.encode("utf-8")).hexdigest()[:10]
    if isinstance(completed_by, (str, int)) and not isinstance(completed_by, bool):
        return completed_by
    return None


def _choose_annotation(task: dict, task_id: Any, report: ConversionReport) -> dict | None:
    if "annotations" not in task and "completions" in task:
        report.add("completions_key", task_id, "pre-1.0 export: completions read as annotations")
        annotations = task.get("completions")
    else:
        annotations = task.get("annotations")
    if annotations is None:
        annotations = []
    if not isinstance(annotations, list):
        report.add("invalid_task", task_id, f"annotations is {_kind_of(annotations)}, not a list")
        return None
    usable = []
    for ann in annotations:
        if not isinstance(ann, dict):
            report.add("malformed", task_id, f"annotation is {_kind_of(ann)}, not an object")
        elif ann.get("was_cancelled"):
            report.add("cancelled_annotation", task_id, f"annotation {ann.get('id')} was cancelled")
        else:
            usable.append(ann)
    if not usable:
        found = [f"{len(annotations)} annotation(s)"]
        for key in ("predictions", "drafts"):
            if isinstance(task.get(key), list) and task[key]:
                found.append(f"{len(task[key])} {key[:-1]}(s)")
        report.add("no_annotation", task_id,
                   f"no submitted annotation ({', '.join(found)}); not a document")
        return None
    if len(usable) == 1:
        return usable[0]
    truth = [a for a in usable if a.get("ground_truth")]
    pool = truth or usable
    chosen = max(pool, key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""),
                                      _as_int(a.get("id"))))
    why = "ground_truth" if truth else "newest"
    report.add(
        "several_annotations",
        task_id,
        f"{len(usable)} annotations; chose {chosen.get('id')} ({why}) "
        f"by {annotator_id(chosen.get('completed_by'))}",
    )
    return chosen


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


# -- offsets -----------------------------------------------------------------------------


def _unit_map(text: str, utf16: bool, crlf: bool) -> list[int]:
    """For each offset counted in another unit, the Python ``str`` offset (-1 if none).

    ``utf16``: characters beyond the BMP count two (browsers count UTF-16 code units);
    ``crlf``: a ``\\r\\n`` pair counts one (offsets taken after ``\\r\\n`` -> ``\\n``).
    """
    mapping = [0]
    for i, char in enumerate(text):
        if crlf and char == "\r" and text[i + 1 : i + 2] == "\n":
            continue  # the pair's one unit is counted at its "\n"
        if utf16 and ord(char) > 0xFFFF:
            mapping.append(-1)
        mapping.append(i + 1)
    return mapping


OffsetSystem = tuple[str, Callable[[int, int], "tuple[int, int] | None"]]


def _offset_systems(raw: str) -> list[OffsetSystem]:
    """The ways a task's offsets may have been counted, Python code points first."""
    systems: list[OffsetSystem] = [("code points", lambda s, e: (s, e) if e <= len(raw) else None)]
    astral = _ASTRAL.search(raw) is not None
    crlf = "\r\n" in raw
    for name, utf16, pairs in (("utf16", True, False), ("crlf", False, True),
                               ("utf16+crlf", True, True)):
        if (utf16 and not astral) or (pairs and not crlf):
            continue
        mapping = _unit_map(raw, utf16, pairs)

        def convert(s: int, e: int, mapping: list[int] = mapping) -> tuple[int, int] | None:
            if e >= len(mapping) or mapping[s] < 0 or mapping[e] < 0:
                return None
            return mapping[s], mapping[e]

        systems.append((name, convert))
    return systems


def _snapped(raw: str, start: int, end: int, selection: str, bounds: tuple[set, set]) -> bool:
    """Offsets snapped to whole words (``granularity="word"``) around a raw selection: the
    selection lies inside ``raw[start:end]`` and differs only inside the first/last word."""
    segment, inner = raw[start:end], selection.strip()
    if not inner or segment == selection or start not in bounds[0] or end not in bounds[1]:
        return False
    at = segment.find(inner)
    if at < 0:
        return False
    edges = segment[:at] + segment[at + len(inner):]
    return all(c == WORD for c in char_classes(edges))


# -- spans -------------------------------------------------------------------------------


@dataclass
class _Candidate:
    rid: str
    label: str
    start: int
    end: int
    text: str
    where: str


def _span_candidates(
    result: list, task_id: Any, report: ConversionReport, schema: Schema
) -> list[_Candidate]:
    """The ``labels`` items with one known label and integer offsets, as given."""
    candidates = []
    for item in result:
        if not isinstance(item, dict):
            report.add("malformed", task_id, f"result item is {_kind_of(item)}, not an object")
            continue
        kind = item.get("type")
        if kind == "relation":
            continue
        rid = str(item.get("id"))
        if kind != "labels":
            report.add("ignored_result", task_id, f"result {rid} of type {kind!r} ignored")
            continue
        value = item.get("value")
        if not isinstance(value, dict):
            report.add("malformed", task_id, f"span {rid}: value is {_kind_of(value)}, not an object")
            continue
        labels = value.get("labels")
        start, end, span_text = value.get("start"), value.get("end"), value.get("text")
        where = f"span {rid} {span_text!r} [{start}:{end}]"
        if not isinstance(labels, list):
            report.add("malformed", task_id, f"{where}: labels is {_kind_of(labels)}, not a list")
            continue
        if len(labels) != 1:
            report.add("not_one_label", task_id,
                       f"{where}: {len(labels)} labels {labels}; a span takes exactly one")
            continue
        if labels[0] not in schema.entity_labels:
            report.add("unknown_label", task_id, f"{where}: label {labels[0]!r} not one of "
                                                 f"{list(schema.entity_labels)}")
            continue
        if not isinstance(span_text, str):
            report.add("malformed", task_id, f"{where}: value.text is {_kind_of(span_text)}, "
                                             "not a string")
            continue
        bad = [f"{k} is {_kind_of(v)} {v!r}" for k, v in (("start", start), ("end", end))
               if isinstance(v, bool) or not isinstance(v, int)]
        if bad:
            report.add("bad_offsets", task_id, f"{where}: {' and '.join(bad)}, not an integer")
            continue
        if start < 0 or end <= start:
            why = "negative" if start < 0 else ("empty" if end == start else "reversed")
            report.add("bad_offsets", task_id, f"{where}: offsets {why}")
            continue
        candidates.append(_Candidate(rid, labels[0], start, end, span_text, where))
    return candidates


def _choose_system(raw: str, candidates: list[_Candidate], bounds: tuple[set, set]) -> OffsetSystem:
    """The one offset system for the whole task: the one under which most spans match.

    Decided per task, not per span, so that a wrong offset can never be "repaired" onto
    another occurrence of its text by a system the rest of the task does not use.
    """
    systems = _offset_systems(raw)
    if len(systems) == 1:
        return systems[0]

    def score(system: OffsetSystem) -> int:
        hits = 0
        for c in candidates:
            found = system[1](c.start, c.end)
            if found and (raw[found[0]:found[1]] == c.text
                          or _snapped(raw, found[0], found[1], c.text, bounds)):
                hits += 1
        return hits

    scores = [score(s) for s in systems]
    return systems[max(range(len(systems)), key=lambda i: (scores[i], -i))]


def _read_spans(
    result: list, raw_text: str, text: str, task_id: Any, report: ConversionReport,
    schema: Schema,
) -> dict[str, Span]:
    candidates = _span_candidates(result, task_id, report, schema)
    starts, ends = word_boundaries(text)
    raw_bounds = (starts, ends) if text == raw_text else word_boundaries(raw_text)
    system_name, convert = _choose_system(raw_text, candidates, raw_bounds)
    repaired = 0
    spans: list[tuple[str, Span]] = []
    for c in candidates:
        found = convert(c.start, c.end)
        if found is None:
            why = (f"beyond the text ({len(raw_text)} characters)" if system_name == "code points"
                   else f"beyond the text or inside a character (offsets read as {system_name})")
            report.add("bad_offsets", task_id, f"{c.where}: {why}")
            continue
        start, end = found
        span_text = raw_text[start:end]
        if span_text != c.text:
            if not _snapped(raw_text, start, end, c.text, raw_bounds):
                report.add("offset_mismatch", task_id, f"{c.where}: text there is {span_text!r}")
                continue
            report.add("word_snapped", task_id,
                       f"{c.where}: selection {c.text!r} snapped to words {span_text!r}")
        repaired += (start, end) != (c.start, c.end)
        if text != raw_text:  # NFC moved the offsets
            start, end = len(nfc(raw_text[:start])), len(nfc(raw_text[:end]))
            span_text = text[start:end]
        if not span_text.strip():
            report.add("bad_offsets", task_id, f"{c.where}: covers only white space")
            continue
        if "\n" in text[start:end]:
            report.add("span_crosses_paragraph", task_id, f"{c.where}: contains a line break")
            continue
        if start not in starts or end not in ends:
            report.add("not_word_boundary", task_id, f"{c.where}: not on word boundaries")
        spans.append((c.rid, Span(start, end, c.label, span_text)))
    if system_name != "code points" and repaired:
        for kind, part in (("utf16_offsets", "utf16"), ("crlf_offsets", "crlf")):
            if part in system_name:
                report.add(kind, task_id,
                           f"offsets of all {len(candidates)} spans read as {system_name}; "
                           f"{repaired} moved")
    return _flat(spans, task_id, report)


def _flat(candidates: list[tuple[str, Span]], task_id: Any, report: ConversionReport) -> dict[str, Span]:
    """Flat spans: the longer span wins an overlap (SCHEMA.md, rules for overlaps)."""
    kept: dict[str, Span] = {}
    for rid, span in sorted(candidates, key=lambda c: (c[1].start - c[1].end, c[1].start)):
        clash = next((k for k in kept.values() if span.start < k.end and k.start < span.end), None)
        if clash is not None:
            if clash == span:
                report.add("overlapping_spans", task_id, f"span {rid} duplicates {clash.text!r}")
            else:
                report.add("overlapping_spans", task_id,
                           f"span {rid} {span.label} {span.text!r} [{span.start}:{span.end}] "
                           f"overlaps {clash.label} {clash.text!r} [{clash.start}:{clash.end}]")
            continue
        kept[rid] = span
    return kept


# -- relations ---------------------------------------------------------------------------


def _read_relations(
    result: list, spans_by_id: dict[str, Span], text: str, task_id: Any,
    report: ConversionReport, schema: Schema,
) -> list[Relation]:
    relations: list[Relation] = []
    seen: set[Relation] = set()
    for item in result:
        if not isinstance(item, dict) or item.get("type") != "relation":
            continue
        from_id, to_id = str(item.get("from_id")), str(item.get("to_id"))
        where = f"relation {from_id}->{to_id}"
        roles = item.get("labels")
        if roles is None:
            roles = []
        if not isinstance(roles, list):
            report.add("malformed", task_id, f"{where}: labels is {_kind_of(roles)}, not a list")
            continue
        if from_id not in spans_by_id or to_id not in spans_by_id:
            missing = [i for i in (from_id, to_id) if i not in spans_by_id]
            report.add("relation_missing_end", task_id, f"{where}: no kept span {missing}")
            continue
        head, tail = spans_by_id[from_id], spans_by_id[to_id]
        direction = item.get("direction")
        if direction == "left":
            head, tail = tail, head
        elif direction == "bi" and head.label != schema.trigger_label \
                and tail.label == schema.trigger_label:
            head, tail = tail, head  # undirected: read from its STRIKE end
        if len(roles) != 1:
            report.add("not_one_role", task_id,
                       f"{where}: {len(roles)} roles {roles}; a relation takes exactly one")
            continue
        role = roles[0]
        if role not in schema.roles:
            report.add("unknown_role", task_id,
                       f"{where}: role {role!r} not one of {list(schema.roles)}")
            continue
        if not schema.allows(head.label, role, tail.label):
            report.add("wrong_argument_label", task_id,
                       f"{where}: {head.label} {head.text!r} -{role}-> {tail.label} "
                       f"{tail.text!r}; {role} needs {schema.trigger_label} -> {schema.roles[role]}")
            continue
        lo, hi = min(head.start, tail.start), max(head.end, tail.end)
        if "\n" in text[lo:hi]:
            report.add("relation_crosses_paragraph", task_id,
                       f"{where}: {head.text!r} and {tail.text!r} are in different paragraphs")
            continue
        relation = Relation(head, role, tail)
        if relation in seen:
            report.add("duplicate_relation", task_id, f"{where}: {role} given twice")
            continue
        seen.add(relation)
        relations.append(relation)
    return relations
