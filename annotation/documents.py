"""Core types shared by annotation/ and model/: plain, JSON-ready dataclasses.

Offsets are Python ``str`` indices into the NFC-normalised article text; every span keeps
its ``text`` so any boundary crossing can check ``doc.text[start:end] == span.text``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    label: str
    text: str

    def shifted(self, offset: int) -> "Span":
        """The same span with offsets moved (paragraph <-> article coordinates)."""
        return Span(self.start + offset, self.end + offset, self.label, self.text)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Relation:
    head: Span  # always a STRIKE
    role: str
    tail: Span

    def shifted(self, offset: int) -> "Relation":
        return Relation(self.head.shifted(offset), self.role, self.tail.shifted(offset))

    def to_dict(self) -> dict[str, Any]:
        return {"head": self.head.to_dict(), "role": self.role, "tail": self.tail.to_dict()}


@dataclass
class Document:
    """One Label Studio task: an article with its spans and relations."""

    id: str
    text: str
    spans: list[Span] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def check_offsets(self) -> None:
        for span in self.spans:
            if self.text[span.start : span.end] != span.text:
                raise ValueError(
                    f"document {self.id}: span {span.label} [{span.start}:{span.end}] "
                    f"is {self.text[span.start:span.end]!r}, expected {span.text!r}"
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "spans": [s.to_dict() for s in self.spans],
            "relations": [r.to_dict() for r in self.relations],
            "meta": self.meta,
        }


@dataclass
class Paragraph:
    """One line of an article, with spans and relations in paragraph coordinates.

    ``start`` is the paragraph's offset in the article, so ``span.shifted(start)`` gives
    article offsets back.
    """

    doc_id: str
    index: int
    start: int
    text: str
    spans: list[Span] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.doc_id}#p{self.index}"
