"""The sample export is built from its readable source, and the source is checked."""

from __future__ import annotations

import pytest

from annotation.export import read_export
from annotation.sample import build
from annotation.sample.markup import MarkupError, parse


def test_built_files_are_current() -> None:
    """``articles.txt`` is the source of truth: the shipped export and articles match it."""
    assert build.main(["--check"]) == 0


def test_the_sample_converts_without_problems_and_has_negatives() -> None:
    conversion = read_export(build.EXPORT)
    assert len(conversion.documents) >= 40
    assert conversion.report.problems == []
    strikeless = [d for d in conversion.documents if not any(s.label == "STRIKE" for s in d.spans)]
    assert strikeless, "some sample articles must have no strike at all"


@pytest.mark.parametrize("body, needle", [
    ("[غارة]{STRIKE s1} على [حلب]{PLACE p1 >s9:place}", "s9"),        # a link to no strike
    ("[غارة]{WEAPON w1}", "WEAPON"),                                   # not a schema label
    ("[غارة]{STRIKE s1} على [حلب]{PLACE p1 >s1:killed}", "killed"),    # wrong role for a PLACE
])
def test_markup_errors_name_the_article_and_the_problem(body: str, needle: str) -> None:
    source = f"=== sample-x\ntitle: t\nsource: s\ndate: 2023-01-01\n---\n{body}\n"
    with pytest.raises(MarkupError, match=needle) as err:
        parse(source, "test")
    assert "sample-x" in str(err.value)
