"""Articles -> paragraphs (lines), the unit the model reads and relations live in."""

from __future__ import annotations

from collections.abc import Iterator

from .documents import Document, Paragraph


def paragraph_ranges(text: str) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of every non-blank line; offsets index the article text."""
    start = 0
    for line in text.split("\n"):
        end = start + len(line)
        if line.strip():
            yield start, end
        start = end + 1


def split_paragraphs(doc: Document) -> list[Paragraph]:
    """Cut a document into paragraphs, moving spans and relations to paragraph offsets."""
    paragraphs = []
    for index, (start, end) in enumerate(paragraph_ranges(doc.text)):
        inside = [s for s in doc.spans if start <= s.start and s.end <= end]
        relations = [
            r.shifted(-start)
            for r in doc.relations
            if start <= r.head.start and r.head.end <= end
        ]
        paragraph = Paragraph(
            doc_id=doc.id,
            index=index,
            start=start,
            text=doc.text[start:end],
            spans=[s.shifted(-start) for s in inside],
            relations=relations,
        )
        for span in paragraph.spans:
            assert paragraph.text[span.start : span.end] == span.text, (doc.id, span)
        paragraphs.append(paragraph)
    return paragraphs
