"""StrikeExtractor: the public API, with the tiny model trained on the sample data."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata

import pytest

from fixtures_model import small_documents, tiny_extractor
from model.extractor import OffsetMap, has_arabic

pytestmark = pytest.mark.slow


def relation_set(events):
    out = set()
    for e in events:
        t = (e.trigger.start, e.trigger.end)
        for name, role in (("actors", "actor"), ("targets", "target"), ("places", "place"),
                           ("dates", "date")):
            out |= {(t, role, a.start, a.end) for a in getattr(e, name)}
        for role in ("strikes", "killed", "injured"):
            if (c := getattr(e, role)) is not None:
                out.add((t, role, c.start, c.end))
    return out


def test_extract_reproduces_the_training_articles():
    extractor = tiny_extractor()
    for doc in small_documents():
        events = extractor.extract(doc.text)
        gold_triggers = {(s.start, s.end) for s in doc.spans if s.label == "STRIKE"}
        assert {(e.trigger.start, e.trigger.end) for e in events} == gold_triggers
        gold = {((r.head.start, r.head.end), r.role, r.tail.start, r.tail.end)
                for r in doc.relations}
        assert relation_set(events) == gold
        for e in events:
            for s in e.spans():
                assert doc.text[s.start : s.end] == s.text
        counts = [c for e in events for c in (e.strikes, e.killed, e.injured) if c]
        assert counts and all(isinstance(c.value, int) for c in counts)


def test_offsets_index_the_original_text_when_nfc_changes_it():
    extractor = tiny_extractor()
    doc = small_documents()[0]
    # decompose every composed character (آ أ إ ؤ ئ -> letter + combining hamza/madda) and
    # add a non-NFC prefix line: lengths and offsets change under NFC
    original = "ا\u0653ا\u0654 مقدمة\n" + unicodedata.normalize("NFD", doc.text)
    assert unicodedata.normalize("NFC", original) != original
    assert len(unicodedata.normalize("NFC", original)) < len(original)
    events = extractor.extract(original)
    reference = extractor.extract(doc.text)
    assert len(events) == len(reference) > 0
    for got, ref in zip(events, reference):
        for s, r in zip(got.spans(), ref.spans()):
            assert original[s.start : s.end] == s.text
            assert unicodedata.normalize("NFC", s.text) == r.text
    assert any(s.start != r.start for s, r in zip(events[-1].spans(), reference[-1].spans()))


def test_type_errors_and_empty_inputs():
    extractor = tiny_extractor()
    for bad in (None, 12, b"bytes", ["list"]):
        with pytest.raises(TypeError, match="must be a str"):
            extractor.extract(bad)
    with pytest.raises(TypeError, match="extract\\(\\)"):
        extractor.extract_batch("a string, not a list")
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        extractor.extract_batch(["نص", None])
    # a lone surrogate: a clear ValueError naming the item and the offset, not a tokenizer
    # error, also when the text holds no Arabic (annotate_batch goes the same way)
    for bad, at in (("غارة \ud83d على", 5), ("\udc80", 0)):
        with pytest.raises(ValueError, match=rf"texts\[1\] holds a lone surrogate U\+D.* {at} "):
            extractor.extract_batch(["نص", bad])
        with pytest.raises(ValueError, match=r"^text holds a lone surrogate"):
            extractor.extract(bad)
        with pytest.raises(ValueError, match=r"texts\[0\]"):
            extractor.annotate_batch([bad])
    for empty in ("", "   \n\n ", "hello world, no Arabic here", "12345 67", "\u200f"):
        assert extractor.extract(empty) == []
    assert extractor.extract_batch([]) == []


def test_extract_batch_matches_extract_in_order():
    extractor = tiny_extractor()
    docs = small_documents()
    texts = [docs[1].text, "", "English only", docs[0].text, docs[1].text]
    batch = extractor.extract_batch(texts, batch_size=2)
    assert len(batch) == len(texts)
    assert batch[1] == [] and batch[2] == []
    as_dicts = [[e.to_dict() for e in events] for events in batch]
    assert as_dicts[0] == [e.to_dict() for e in extractor.extract(docs[1].text)]
    assert as_dicts[3] == [e.to_dict() for e in extractor.extract(docs[0].text)]
    assert as_dicts[4] == as_dicts[0]
    json.dumps(as_dicts, ensure_ascii=False)  # JSON-ready


def test_save_and_load_round_trip(tmp_path):
    from model import StrikeExtractor

    extractor = tiny_extractor()
    extractor.save_pretrained(tmp_path / "saved")
    again = StrikeExtractor.from_pretrained(tmp_path / "saved")
    text = small_documents()[0].text
    assert [e.to_dict() for e in again.extract(text)] == [e.to_dict() for e in extractor.extract(text)]


def test_offset_map_units():
    assert OffsetMap("abc").span(1, 2) == (1, 2)
    original = "ا\u0653 ب"  # alef + madda -> آ
    m = OffsetMap(original)
    assert m.text == "آ ب"
    assert m.span(0, 1) == (0, 2) and m.span(2, 3) == (3, 4) and m.span(0, 3) == (0, 4)
    assert has_arabic("غارة") and not has_arabic("raid 12")


def test_package_exports_are_lazy():
    code = (
        "import sys, model, model.metrics, model.numbers, model.events\n"
        "assert 'torch' not in sys.modules\n"
        "from model import StrikeExtractor, StrikeEvent\n"
        "assert StrikeEvent.__module__ == 'model.events'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


_ALPHABET = "اأإآبتثجحخدذرزسشصضطظعغفقكلمنهويىةءؤئ" + "\u0653\u0654\u0655\u064b\u064e\u0650\u0651\u0652" + " \n،." + "e\u0301\u0327"


def test_offset_map_words_round_trip():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from annotation.words import split_words

    @settings(max_examples=400, deadline=None, derandomize=True, database=None)
    @given(st.text(alphabet=_ALPHABET, max_size=60))
    def check(original):
        m = OffsetMap(original)
        assert m.text == unicodedata.normalize("NFC", original)
        for start, end in split_words(m.text):
            o_start, o_end = m.span(start, end)
            assert 0 <= o_start < o_end <= len(original)
            assert m.text[start:end] in unicodedata.normalize("NFC", original[o_start:o_end])

    check()


def test_extract_normalises_with_the_publication_date():
    """Dates become intervals anchored on ``published``; counts get ranges; places a gazetteer
    entry; ``normalize=False`` keeps the raw mention events (batch normalises per article)."""
    extractor = tiny_extractor()
    doc = small_documents()[0]
    published = "Sun, 14 May 2023 06:00:00 GMT"
    events = extractor.extract(doc.text, published=published)
    data = [e.to_dict() for e in events]
    dates = [d for e in data for d in e["dates"]]
    assert dates and all("interval" in d for d in dates)
    assert any(d["interval"] is not None for d in dates)
    places = [p for e in data for p in e["places"]]
    assert places and all(p["geo"]["status"] in {"exact", "fuzzy", "unresolved"} for p in places)
    counts = [c for e in data for c in (e["strikes"], e["killed"], e["injured"]) if c]
    assert counts and all({"min", "max", "conservative"} <= set(c) for c in counts)

    raw = extractor.extract(doc.text, normalize=False)
    assert all("interval" not in d for e in raw for d in e.to_dict()["dates"])
    undated = extractor.extract(doc.text)  # no publication date: no interval, the rest normalised
    assert all(d.get("interval") is None for e in undated for d in e.to_dict()["dates"])
    with pytest.raises(ValueError, match="not a date"):
        extractor.extract(doc.text, published="not a date")
    with pytest.raises(ValueError, match="2 dates for 1 texts"):
        extractor.extract_batch([doc.text], published=["2023-05-14", "2023-05-15"])
