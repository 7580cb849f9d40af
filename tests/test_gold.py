"""The shared gold exports convert completely (skipped where ../shared is absent)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from annotation import SCHEMA, read_export

GOLD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gold"
FILES = sorted(GOLD.glob("*.json")) if GOLD.is_dir() else []


def count_independently(path: Path) -> tuple[Counter, Counter, int]:
    """Counts straight from the raw JSON, without the reader's code."""
    spans, relations, paragraphs = Counter(), Counter(), 0
    for task in json.loads(path.read_text(encoding="utf-8")):
        paragraphs += sum(1 for line in task["data"]["text"].splitlines() if line.strip())
        annotation = task["annotations"][0]
        for item in annotation["result"]:
            if item["type"] == "labels":
                spans[item["value"]["labels"][0]] += 1
            elif item["type"] == "relation":
                relations[item["labels"][0]] += 1
    return spans, relations, paragraphs


@pytest.mark.skipif(not FILES, reason="../shared/data/gold is not present on this machine")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_gold_converts_and_summary_matches_independent_counts(path, capsys):
    conversion = read_export(path)
    report = conversion.report
    summary = report.summary()
    print(summary)
    spans, relations, paragraphs = count_independently(path)
    assert report.problems == [], summary
    assert report.documents == report.tasks
    assert report.spans == spans and report.relations == relations
    assert report.paragraphs == paragraphs
    assert f"spans {sum(spans.values())}: " in summary
    assert f"relations {sum(relations.values())}: " in summary
    for label in SCHEMA.entity_labels:
        assert f"{label} {spans[label]}" in summary
    for doc in conversion.documents:
        for span in doc.spans:
            assert doc.text[span.start:span.end] == span.text
