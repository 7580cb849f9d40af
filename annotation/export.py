"""Label Studio JSON export -> :class:`Document` objects, validated and reported.

Nothing is dropped silently: every span, relation or task that cannot be used becomes a
:class:`Problem` naming the task, and :meth:`ConversionReport.summary` counts them by kind.
Problems that can be repaired without guessing (UTF-16 offsets from the browser, a
non-NFC text) are repaired and still reported.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .documents import Document, Relation, Span, nfc
from .paragraphs import paragraph_ranges
from .schema import SCHEMA, Schema
from .words import word_boundaries

#: Every kind of problem the reader can report, with whether the item is dropped.
PROBLEM_KINDS: dict[str, str] = {
    "invalid_task": "task skipped: no usable data.text",
    "cancelled_annotation": "annotation skipped: marked cancelled",
    "no_annotation": "task kept without spans: no usable annotation",
    "several_annotations": "one annotation chosen (ground_truth, else newest)",
    "not_nfc": "text NFC-normalised, offsets moved",
    "utf16_offsets": "offsets read as UTF-16 code units and repaired",
    "offset_mismatch": "span dropped: offsets do not match value.text",
    "unknown_label": "span dropped: label not in the schema",
    "overlapping_spans": "span dropped: overlaps a longer span",
    "span_crosses_paragraph": "span dropped: crosses a paragraph break",
    "not_word_boundary": "span kept: does not start/end on a word boundary",
    "relation_missing_end": "relation dropped: from_id/to_id names no kept span",
    "unknown_role": "relation dropped: role not in the schema",
    "wrong_argument_label": "relation dropped: role does not allow these span labels",
    "relation_crosses_paragraph": "relation dropped: ends in different paragraphs",
    "duplicate_relation": "relation dropped: same relation twice",
}


class ExportError(ValueError):
    """The export as a whole cannot be read (missing file, not JSON, no tasks)."""


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
            + ", ".join(f"{lab} {self.spans.get(lab, 0)}" for lab in SCHEMA.entity_labels),
            f"  relations {sum(self.relations.values())}: "
            + ", ".join(f"{role} {self.relations.get(role, 0)}" for role in SCHEMA.role_names),
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


def load_tasks(source: str | Path | list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    if isinstance(source, list):
        return source, "<tasks>"
    path = Path(source)
    if not path.is_file():
        raise ExportError(f"export file not found: {path}")
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ExportError(f"{path} is not valid JSON: {err}") from None
    if isinstance(tasks, dict):  # a single task, as the API returns it
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise ExportError(f"{path}: expected a list of Label Studio tasks")
    return tasks, str(path)


def read_export(
    source: str | Path | list[dict[str, Any]], schema: Schema = SCHEMA
) -> Conversion:
    """Read a Label Studio JSON export (path or parsed list) into validated documents."""
    tasks, name = load_tasks(source)
    if not tasks:
        raise ExportError(f"{name}: the export holds no tasks")
    report = ConversionReport(source=name, tasks=len(tasks))
    documents = []
    for position, task in enumerate(tasks):
        doc = _read_task(task, position, report, schema)
        if doc is not None:
            documents.append(doc)
    report.documents = len(documents)
    report.paragraphs = sum(1 for doc in documents for _ in paragraph_ranges(doc.text))
    for doc in documents:
        report.spans.update(s.label for s in doc.spans)
        report.relations.update(r.role for r in doc.relations)
    return Conversion(documents, report)


def _read_task(
    task: Any, position: int, report: ConversionReport, schema: Schema
) -> Document | None:
    if not isinstance(task, dict):
        report.add("invalid_task", f"#{position}", "task is not a JSON object")
        return None
    task_id = task.get("id", f"#{position}")
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    raw_text = data.get(schema.text_name)
    if not isinstance(raw_text, str):
        report.add("invalid_task", task_id, f"data.{schema.text_name} is missing or not a string")
        return None
    text = nfc(raw_text)
    meta = {k: v for k, v in data.items() if k != schema.text_name}
    doc = Document(id=str(task_id), text=text, meta=meta)
    if text != raw_text:
        report.add("not_nfc", task_id, "data.text was not NFC; normalised and offsets moved")

    annotation = _choose_annotation(task, task_id, report)
    if annotation is None:
        return doc
    meta["annotator"] = annotation.get("completed_by")
    meta["annotation_id"] = annotation.get("id")

    spans_by_id = _read_spans(annotation, raw_text, text, task_id, report, schema)
    doc.spans = sorted(spans_by_id.values())
    doc.relations = _read_relations(annotation, spans_by_id, text, task_id, report, schema)
    doc.check_offsets()
    return doc


def _choose_annotation(task: dict, task_id: Any, report: ConversionReport) -> dict | None:
    annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict)]
    usable = []
    for ann in annotations:
        if ann.get("was_cancelled"):
            report.add("cancelled_annotation", task_id, f"annotation {ann.get('id')} was cancelled")
        else:
            usable.append(ann)
    if not usable:
        report.add("no_annotation", task_id, f"{len(annotations)} annotation(s), none usable")
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
        f"by {chosen.get('completed_by')}",
    )
    return chosen


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _utf16_to_str_offsets(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Python offsets for a [start, end) given in UTF-16 code units, as browsers count."""
    units = 0
    mapping = {0: 0}
    for i, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        mapping[units] = i + 1
    if start in mapping and end in mapping:
        return mapping[start], mapping[end]
    return None


def _read_spans(
    annotation: dict, raw_text: str, text: str, task_id: Any, report: ConversionReport,
    schema: Schema,
) -> dict[str, Span]:
    starts, ends = word_boundaries(text)
    candidates: list[tuple[str, Span]] = []
    for item in annotation.get("result") or []:
        if not isinstance(item, dict) or item.get("type") != "labels":
            continue
        value = item.get("value") or {}
        labels = value.get("labels") or []
        rid = str(item.get("id"))
        where = f"span {rid} {value.get('text')!r} [{value.get('start')}:{value.get('end')}]"
        if len(labels) != 1 or labels[0] not in schema.entity_labels:
            report.add("unknown_label", task_id, f"{where}: labels {labels} not one of "
                                                 f"{list(schema.entity_labels)}")
            continue
        start, end, span_text = value.get("start"), value.get("end"), value.get("text")
        if not (isinstance(start, int) and isinstance(end, int) and isinstance(span_text, str)):
            report.add("offset_mismatch", task_id, f"{where}: start/end/text missing")
            continue
        if raw_text[start:end] != span_text:
            repaired = _utf16_to_str_offsets(raw_text, start, end)
            if repaired and raw_text[repaired[0]:repaired[1]] == span_text:
                report.add("utf16_offsets", task_id, f"{where}: read as UTF-16 -> {repaired}")
                start, end = repaired
            else:
                report.add("offset_mismatch", task_id,
                           f"{where}: text there is {raw_text[start:end]!r}")
                continue
        if text != raw_text:  # NFC moved the offsets
            start, end = len(nfc(raw_text[:start])), len(nfc(raw_text[:end]))
            span_text = text[start:end]
        if "\n" in text[start:end]:
            report.add("span_crosses_paragraph", task_id, f"{where}: contains a line break")
            continue
        if start not in starts or end not in ends:
            report.add("not_word_boundary", task_id, f"{where}: not on word boundaries")
        candidates.append((rid, Span(start, end, labels[0], span_text)))

    # Flat spans: the longer span wins an overlap (SCHEMA.md, rules for overlaps).
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


def _read_relations(
    annotation: dict, spans_by_id: dict[str, Span], text: str, task_id: Any,
    report: ConversionReport, schema: Schema,
) -> list[Relation]:
    relations: list[Relation] = []
    seen: set[Relation] = set()
    for item in annotation.get("result") or []:
        if not isinstance(item, dict) or item.get("type") != "relation":
            continue
        from_id, to_id = str(item.get("from_id")), str(item.get("to_id"))
        where = f"relation {from_id}->{to_id}"
        if from_id not in spans_by_id or to_id not in spans_by_id:
            missing = [i for i in (from_id, to_id) if i not in spans_by_id]
            report.add("relation_missing_end", task_id, f"{where}: no kept span {missing}")
            continue
        head, tail = spans_by_id[from_id], spans_by_id[to_id]
        if item.get("direction") == "left":
            head, tail = tail, head
        roles = item.get("labels") or []
        if len(roles) != 1 or roles[0] not in schema.roles:
            report.add("unknown_role", task_id,
                       f"{where}: labels {roles} not one of {list(schema.roles)}")
            continue
        role = roles[0]
        if not schema.allows(head.label, role, tail.label):
            report.add("wrong_argument_label", task_id,
                       f"{where}: {head.label} {head.text!r} -{role}-> {tail.label} "
                       f"{tail.text!r}; {role} needs STRIKE -> {schema.roles[role]}")
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

