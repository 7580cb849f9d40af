"""Paragraphs, BIO and examples: offsets survive every step."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotation import SCHEMA, Document, Relation, Span, read_export, split_paragraphs
from annotation.bio import spans_to_tags, tags_to_spans
from annotation.predictions import to_label_studio_results
from annotation.words import split_words
from model.backbone import build_tiny_backbone, load_tokenizer
from model.features import IGNORE_INDEX, build_examples

ARTICLE = (
    "قصفت طائرات حربية بلدة كفرنبل بريف إدلب فجر اليوم، ما أدى إلى مقتل ثلاثة مدنيين.\n"
    "\n"
    "وقال مراسلون إن الغارات استهدفت \"سوق الخضار\" وسط البلدة."
)


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    backbone = build_tiny_backbone([ARTICLE] * 3, tmp_path_factory.mktemp("tiny"), vocab_size=200)
    return load_tokenizer(backbone)


def make_doc():
    def s(word, label):
        start = ARTICLE.index(word)
        return Span(start, start + len(word), label, word)

    strike, actor, place, count = (s("قصفت", "STRIKE"), s("طائرات حربية", "ACTOR"),
                                   s("بلدة كفرنبل", "PLACE"), s("ثلاثة", "COUNT"))
    raid, market = s("الغارات", "STRIKE"), s('"سوق الخضار"', "TARGET")
    spans = [strike, actor, place, count, raid, market]
    relations = [Relation(strike, "actor", actor), Relation(strike, "place", place),
                 Relation(strike, "killed", count), Relation(raid, "target", market)]
    return Document("doc1", ARTICLE, spans, relations)


def test_paragraphs_keep_offsets_and_skip_blank_lines():
    doc = make_doc()
    paragraphs = split_paragraphs(doc)
    assert [p.index for p in paragraphs] == [0, 1]
    for p in paragraphs:
        assert ARTICLE[p.start:p.start + len(p.text)] == p.text
        for span in p.spans:
            assert p.text[span.start:span.end] == span.text
            assert span.shifted(p.start) in doc.spans
    assert sum(len(p.relations) for p in paragraphs) == 4
    assert paragraphs[1].relations[0].tail.text == '"سوق الخضار"'


def test_examples_label_first_subword_of_each_word(tokenizer):
    examples = build_examples([make_doc()], tokenizer)
    first = examples[0]
    assert first["id"] == "doc1#p0"
    tags = [SCHEMA.id2tag[t] for t in first["word_tags"]]
    words = [first["text"][s:e] for s, e in first["words"]]
    assert tags[words.index("طائرات")] == "B-ACTOR" and tags[words.index("حربية")] == "I-ACTOR"
    # exactly one label per word, on its first sub-word
    labelled = [w for w, lab in zip(first["word_ids"], first["labels"]) if lab != IGNORE_INDEX]
    assert labelled == sorted(set(first["word_ids"]))
    assert len(first["input_ids"]) == len(first["labels"]) == len(first["word_ids"])
    strike_index = next(i for i, sp in enumerate(first["spans"])
                        if SCHEMA.entity_labels[sp[2]] == "STRIKE")
    roles = sorted(SCHEMA.relation_classes[c] for h, _, c in first["relations"] if h == strike_index)
    assert roles == ["actor", "killed", "place"]
    assert len(examples) == 2
    assert examples[1]["relations"] == [[0, 1, SCHEMA.relation_classes.index("target")]]


def test_annotation_holds_no_model_code():
    """annotation/ is importable without torch, transformers or datasets (issue 12)."""
    import subprocess
    import sys

    code = (
        "import sys, annotation, annotation.examples, annotation.bio, annotation.export\n"
        "bad = sorted(m for m in ('torch', 'transformers', 'datasets', 'tokenizers') if m in sys.modules)\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_predictions_round_trip_through_the_export_reader():
    doc = make_doc()
    result = to_label_studio_results(doc.spans, doc.relations, scores=[0.9] * len(doc.spans))
    tasks = [{"id": 1, "data": {"text": doc.text}, "annotations": [{"id": 1, "result": result}]}]
    conversion = read_export(tasks)
    assert conversion.report.problems == []
    back = conversion.documents[0]
    assert sorted(back.spans) == sorted(doc.spans)
    assert set(back.relations) == set(doc.relations)


def test_relation_to_an_unknown_span_is_an_error():
    doc = make_doc()
    with pytest.raises(ValueError, match="not among the spans"):
        to_label_studio_results(doc.spans[:1], doc.relations[:1])


# -- property: spans on word boundaries -> BIO -> spans is the identity -------------------
ARABIC_LETTERS = "".join(chr(c) for c in range(0x0621, 0x064B))
arabic_word = st.text(alphabet=ARABIC_LETTERS + "٠١٢٣٤٥٦٧٨٩0123456789", min_size=1, max_size=8)
separator = st.sampled_from([" ", "  ", "، ", ". ", " - ", '"', " (", ") ", "؛ "])


@st.composite
def text_with_spans(draw):
    pieces = draw(st.lists(st.tuples(arabic_word, separator), min_size=1, max_size=25))
    text = "".join(w + sep for w, sep in pieces).strip()
    words = split_words(text)
    spans, i = [], 0
    while i < len(words):
        if draw(st.booleans()):
            length = draw(st.integers(1, 4))
            stop = min(len(words), i + length)
            label = draw(st.sampled_from(SCHEMA.entity_labels))
            start, end = words[i][0], words[stop - 1][1]
            spans.append(Span(start, end, label, text[start:end]))
            i = stop + draw(st.integers(0, 2))
        else:
            i += 1
    return text, spans


@settings(max_examples=300, deadline=None)
@given(text_with_spans())
def test_bio_round_trip_is_identity_at_word_boundaries(case):
    text, spans = case
    words = split_words(text)
    assert tags_to_spans(spans_to_tags(spans, words), words, text) == spans


def test_overlapping_spans_keep_the_first():
    text = "غارة جوية على حلب"
    words = split_words(text)
    spans = [Span(0, 9, "STRIKE", "غارة جوية"), Span(5, 9, "ACTOR", "جوية"),
             Span(14, 17, "PLACE", "حلب")]
    assert spans_to_tags(spans, words) == ["B-STRIKE", "I-STRIKE", "O", "B-PLACE"]


def test_invalid_inside_tag_starts_a_new_span():
    text = "غارة جوية على حلب"
    words = split_words(text)
    spans = tags_to_spans(["O", "I-STRIKE", "O", "I-PLACE"], words, text)
    assert [(s.text, s.label) for s in spans] == [("جوية", "STRIKE"), ("حلب", "PLACE")]
    spans = tags_to_spans(["B-STRIKE", "I-PLACE", "O", "O"], words, text)
    assert [(s.text, s.label) for s in spans] == [("غارة", "STRIKE"), ("جوية", "PLACE")]


@pytest.mark.parametrize("text", ["", "   ", "abc def", string.punctuation])
def test_split_words_is_total(text):
    for start, end in split_words(text):
        assert text[start:end].strip() == text[start:end] != ""


def test_split_words_keeps_clitics_and_splits_punctuation():
    text = 'واصل طيران التحالف، حقل "التنك النفطي" 27 غارة -الذي'
    assert [text[s:e] for s, e in split_words(text)] == [
        "واصل", "طيران", "التحالف", "،", "حقل", '"', "التنك", "النفطي", '"', "27", "غارة",
        "-", "الذي"]


def test_a_number_with_separators_is_one_word(tokenizer):
    """10.684 is one word (one COUNT, not 10 and 684); a dot or comma elsewhere still is a
    word of its own; the number's sub-words stay inside it."""
    text = "دمر 10.684 هدفا و1,200 آلية و١٠٫٥ طن. عام 2017، ثم 3.Then"
    assert [text[s:e] for s, e in split_words(text)] == [
        "دمر", "10.684", "هدفا", "و1,200", "آلية", "و١٠٫٥", "طن", ".", "عام", "2017", "،",
        "ثم", "3", ".", "Then"]
    from model.features import featurize

    item = featurize(tokenizer, [text])[0]
    assert item.words == split_words(text)
    start, end = item.ranges[1]
    assert end - start >= 2  # 10 . 684: several sub-words, one word
