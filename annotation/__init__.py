"""ghara's annotation side: the label schema, Label Studio exports, documents, word-level targets."""

from .documents import Document, Paragraph, Relation, Span
from .export import Conversion, ConversionReport, ExportError, Problem, read_export
from .paragraphs import split_paragraphs
from .predictions import to_label_studio_results
from .schema import SCHEMA, Schema

__all__ = [
    "SCHEMA",
    "Conversion",
    "ConversionReport",
    "Document",
    "ExportError",
    "Paragraph",
    "Problem",
    "Relation",
    "Schema",
    "Span",
    "read_export",
    "split_paragraphs",
    "to_label_studio_results",
]
