"""The sample's source form: invented articles written as inline markup, one block each.

Why: a Label Studio export is unreadable to review (offsets, ids, relation items), so the
sample is written and reviewed as plain text with marked spans, and the export is built from
it (``python -m annotation.sample.build``). A block looks like::

    === sample-012
    title: غارات على ...
    source: ghara-sample
    url: https://example.org/news/12
    date: Sat, 07 Apr 2018 09:44:45 GMT
    ---
    شنت [طائرات التحالف]{ACTOR >s1:actor} [فجر اليوم]{DATE >s1:date}
    [ثلاث]{COUNT >s1:strikes} [غارات]{STRIKE s1} ...   (one line in the file)
    second paragraph (one line = one paragraph) ...

A span is ``[words]{LABEL [id] [>strike_id:role ...]}``: ``>s1:actor`` draws the relation
STRIKE ``s1`` → this span with role ``actor`` (relations always start at a STRIKE, SCHEMA.md).
Ids are scoped to their paragraph (``s1`` may be reused on the next line), because relations
never cross a line. Lines starting with ``#`` outside a text are comments.

Everything is checked against ``annotation.schema.SCHEMA`` while parsing; a problem raises
:class:`MarkupError` naming the article, the paragraph and the span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from annotation.documents import nfc
from annotation.schema import SCHEMA

SPAN_RE = re.compile(r"\[([^\[\]{}\n]+)\]\{([^\[\]{}\n]+)\}")
HEADER = "=== "
BODY_START = "---"


class MarkupError(ValueError):
    """A block of the source cannot be turned into an annotated article."""


@dataclass
class MarkedSpan:
    start: int  # offsets into the article text
    end: int
    label: str
    text: str
    region_id: str  # unique in the article: p{paragraph}-{id}


@dataclass
class MarkedRelation:
    head: str  # region ids
    tail: str
    role: str


@dataclass
class Article:
    article_id: str
    meta: dict[str, str]
    text: str
    spans: list[MarkedSpan] = field(default_factory=list)
    relations: list[MarkedRelation] = field(default_factory=list)


def _parse_paragraph(
    line: str, paragraph: int, offset: int, where: str
) -> tuple[str, list[MarkedSpan], list[MarkedRelation]]:
    """Plain text of one marked line, its spans (article offsets) and relations."""
    plain: list[str] = []
    spans: list[MarkedSpan] = []
    links: list[tuple[str, str, str, str]] = []  # (strike local id, role, tail region, label)
    local: dict[str, MarkedSpan] = {}
    pos = 0
    auto = 0
    for match in SPAN_RE.finditer(line):
        plain.append(line[pos : match.start()])
        start = offset + sum(len(p) for p in plain)
        words, tag = match.group(1), match.group(2).split()
        label, rest = tag[0], tag[1:]
        if label not in SCHEMA.entity_labels:
            raise MarkupError(f"{where} ¶{paragraph + 1}: [{words}]: unknown label {label!r}")
        if words != words.strip():
            raise MarkupError(f"{where} ¶{paragraph + 1}: [{words}]: span starts/ends with a space")
        local_id = None
        for item in rest:
            if item.startswith(">"):
                head, _, role = item[1:].partition(":")
                if not head or not role:
                    raise MarkupError(f"{where} ¶{paragraph + 1}: [{words}]: bad link {item!r}")
                links.append((head, role, "", label))
            elif local_id is None:
                local_id = item
            else:
                raise MarkupError(f"{where} ¶{paragraph + 1}: [{words}]: two ids in {tag}")
        if local_id is None:
            auto += 1
            local_id = f"x{auto}"
        if local_id in local:
            raise MarkupError(f"{where} ¶{paragraph + 1}: [{words}]: id {local_id!r} used twice")
        span = MarkedSpan(start, start + len(words), label, words, f"p{paragraph}-{local_id}")
        local[local_id] = span
        spans.append(span)
        links = [(h, r, t or span.region_id, lab) for h, r, t, lab in links]
        plain.append(words)
        pos = match.end()
    plain.append(line[pos:])
    text = "".join(plain)
    stray = re.search(r"[\[\]{}]", text)
    if stray:
        near = text[max(0, stray.start() - 15) : stray.end() + 15]
        raise MarkupError(f"{where} ¶{paragraph + 1}: unmatched {stray.group()!r} near {near!r}")
    relations = []
    by_region = {s.region_id: s for s in spans}
    for head_id, role, tail_region, tail_label in links:
        head = local.get(head_id)
        tail = by_region[tail_region]
        if head is None:
            raise MarkupError(
                f"{where} ¶{paragraph + 1}: [{tail.text}]: no span {head_id!r} in this paragraph"
            )
        if not SCHEMA.allows(head.label, role, tail_label):
            raise MarkupError(
                f"{where} ¶{paragraph + 1}: [{tail.text}]: "
                f"{head.label} -{role}-> {tail_label} is not in the schema"
            )
        relations.append(MarkedRelation(head.region_id, tail_region, role))
    return text, spans, relations


def parse(source: str, origin: str = "source") -> list[Article]:
    """Every article block of ``source`` (NFC-normalised first), in order."""
    articles: list[Article] = []
    current: Article | None = None
    in_body = False
    lines: list[str] = []

    def finish() -> None:
        if current is None:
            return
        if not lines:
            raise MarkupError(f"{origin}: {current.article_id}: no text")
        offset = 0
        texts = []
        for index, line in enumerate(lines):
            where = f"{origin}: {current.article_id}"
            text, spans, relations = _parse_paragraph(line, index, offset, where)
            texts.append(text)
            current.spans += spans
            current.relations += relations
            offset += len(text) + 1
        current.text = "\n".join(texts)
        for span in current.spans:
            assert current.text[span.start : span.end] == span.text
        articles.append(current)

    for number, line in enumerate(nfc(source).split("\n"), start=1):
        line = line.rstrip()
        if line.startswith(HEADER):
            finish()
            article_id = line[len(HEADER):].strip()
            if any(a.article_id == article_id for a in articles):
                raise MarkupError(f"{origin}:{number}: article id {article_id!r} used twice")
            current, in_body, lines = Article(article_id, {}, ""), False, []
        elif current is None or (not in_body and (not line.strip() or line.startswith("#"))):
            if line.strip() and not line.startswith("#"):
                raise MarkupError(f"{origin}:{number}: text outside an article block")
        elif not in_body:
            if line == BODY_START:
                in_body = True
                continue
            key, sep, value = line.partition(":")
            if not sep or not key.strip():
                raise MarkupError(f"{origin}:{number}: expected 'key: value' or '---'")
            current.meta[key.strip()] = value.strip()
        elif line.strip():
            lines.append(line)
    finish()
    return articles


def render(text: str, spans: list[tuple[int, int, str, str]], links: dict[str, list[str]]) -> str:
    """Markup for one article's text (the inverse of :func:`parse`, used to convert an
    existing export once). ``spans`` are ``(start, end, label, region_id)``; ``links`` maps a
    region id to its ``>strike:role`` items. Region ids must look like ``p{N}-{id}``."""
    out, pos = [], 0
    for start, end, label, region_id in sorted(spans):
        local_id = region_id.split("-", 1)[1]
        out.append(text[pos:start])
        tag = " ".join([label, local_id, *links.get(region_id, [])])
        out.append(f"[{text[start:end]}]{{{tag}}}")
        pos = end
    out.append(text[pos:])
    return "".join(out)
