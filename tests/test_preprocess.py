"""The backbone's own preprocessing (ArabertPreprocessor), applied per word, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotation.words import split_words
from model.preprocess import (
    PreprocessingError,
    arabert_model_name,
    backbone_preprocessor,
    preprocess_words,
)

pytest.importorskip("arabert", reason="the arabert extra is part of the test install")


def test_recognises_hub_ids_and_local_copies(tmp_path: Path) -> None:
    assert arabert_model_name("aubmindlab/bert-base-arabertv02") == "bert-base-arabertv02"
    assert arabert_model_name("some/other-bert") is None
    assert arabert_model_name(None) is None
    local = tmp_path / "my-copy"
    local.mkdir()
    (local / "config.json").write_text(json.dumps({"_name_or_path": "aubmindlab/bert-base-arabertv02"}))
    assert arabert_model_name(local) == "bert-base-arabertv02"
    (local / "config.json").write_text(json.dumps({"_name_or_path": "tiny"}))
    assert arabert_model_name(local) is None


def test_raw_text_backbones_get_no_preprocessing() -> None:
    assert backbone_preprocessor("models/arabic-news-bert-mini") is None


def test_farasa_segmented_models_are_refused_with_a_reason() -> None:
    with pytest.raises(PreprocessingError, match="Farasa"):
        backbone_preprocessor("aubmindlab/bert-base-arabertv2")


def test_each_word_is_rewritten_on_its_own_and_keeps_its_offsets() -> None:
    text = "قَصَفَت الطائرات ١٥ موقعاً في بـــغداد، http://example.org 🙂"
    words = split_words(text)
    pre = backbone_preprocessor("aubmindlab/bert-base-arabertv02")
    forms = preprocess_words(text, words, pre)
    assert len(forms) == len(words)
    by_word = {text[s:e]: f for (s, e), f in zip(words, forms)}
    assert by_word["قَصَفَت"] == "قصفت"  # diacritics stripped
    assert by_word["١٥"] == "15"  # Arabic-Indic digits mapped
    assert by_word["بـــغداد"] == "بغداد"  # tatweel stripped
    assert all(f.strip() for f in forms)  # a word the preprocessor empties keeps its own form
    for (start, end), form in zip(words, forms):
        assert text[start:end]  # offsets index the original text, untouched


# -- the featurizer and the model apply it (issue 12 part C) --------------------------------

#: our own invented sentences, in the clean form ArabertPreprocessor produces
CLEAN = "قصفت طائرات التحالف مدينة الرقة فجر اليوم وقتل 5 مدنيين"
#: the same sentence as an article may write it: diacritics, tatweel, Arabic-Indic digits
DECORATED = "قَصَفَتْ طائراتُ التحالـــف مدينةَ الرقـة فجر اليوم وقتل ٥ مدنيين"


@pytest.fixture(scope="module")
def arabert_like(tmp_path_factory) -> Path:
    """A tiny local backbone whose config says it is a copy of bert-base-arabertv02."""
    from model.backbone import build_tiny_backbone

    out = build_tiny_backbone([CLEAN, "غارة جوية على مدينة الرقة"] * 3,
                              tmp_path_factory.mktemp("arabert-like"), vocab_size=120, hidden=32)
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    config["_name_or_path"] = "aubmindlab/bert-base-arabertv02"
    (out / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return out


def test_featurize_preprocesses_words_and_keeps_original_offsets(arabert_like: Path) -> None:
    from model.backbone import load_tokenizer
    from model.features import featurize

    tokenizer = load_tokenizer(arabert_like)
    pre = backbone_preprocessor(arabert_like)
    assert pre is not None
    clean, decorated = featurize(tokenizer, [CLEAN, DECORATED], pre)
    # the decorations no longer change the sub-words ...
    assert decorated.input_ids == clean.input_ids
    assert decorated.word_ids.tolist() == clean.word_ids.tolist()
    # ... while the words still index the original text
    assert decorated.words == split_words(DECORATED)
    assert DECORATED[slice(*decorated.words[-2])] == "٥"
    assert all(r[0] >= 0 for r in decorated.ranges.tolist())  # every word has sub-words
    # raw tokenisation (what we did before) sees tatweel and Arabic-Indic digits
    raw_clean, raw_decorated = featurize(tokenizer, [CLEAN, DECORATED])
    assert raw_decorated.input_ids != raw_clean.input_ids


def _strike_doc(text: str, doc_id: str):
    from annotation.documents import Document, Relation, Span

    words = split_words(text)

    def span(first: int, last: int, label: str) -> Span:
        start, end = words[first][0], words[last][1]
        return Span(start, end, label, text[start:end])

    strike, actor, place = span(0, 0, "STRIKE"), span(1, 2, "ACTOR"), span(3, 4, "PLACE")
    count = span(8, 8, "COUNT")
    relations = [Relation(strike, "actor", actor), Relation(strike, "place", place),
                 Relation(strike, "killed", count)]
    return Document(doc_id, text, [strike, actor, place, count], relations)


def test_model_trained_on_an_arabert_backbone_records_and_reuses_its_preprocessing(
    arabert_like: Path, tmp_path: Path
) -> None:
    import random

    import torch

    from model.backbone import build_tiny_backbone, load_backbone
    from model.inference import predict_paragraphs
    from model.network import HeadConfig, JointModel

    torch.manual_seed(0)
    encoder, tokenizer = load_backbone(arabert_like)
    model = JointModel(encoder, tokenizer, HeadConfig(rel_hidden=16, max_length=64, stride=16))
    assert model.preprocess == "arabert:bert-base-arabertv02"
    docs = [_strike_doc(DECORATED, "d1")]
    examples = model.examples(docs)
    assert examples[0]["input_ids"] == model.examples([_strike_doc(CLEAN, "d2")])[0]["input_ids"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for step in range(60):
        batch = model.collate(examples, random.Random(step))
        loss = model(**batch)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    saved = model.save_pretrained(tmp_path / "model")
    config = json.loads((saved / "config.json").read_text(encoding="utf-8"))
    assert config["preprocess"] == "arabert:bert-base-arabertv02"
    loaded = JointModel.from_pretrained(saved)
    assert loaded.preprocess == model.preprocess and loaded.word_preprocessor is not None

    gold = {(s.start, s.end, s.label) for s in docs[0].spans}
    decorated, clean = predict_paragraphs(loaded, [DECORATED, CLEAN])
    assert {(s.start, s.end, s.label) for s in decorated.spans} == gold
    for span in decorated.spans:  # offsets index the original, decorated text
        assert DECORATED[span.start:span.end] == span.text
    assert {r.role for r in decorated.relations} == {"actor", "place", "killed"}
    # the clean form of the sentence gets the same words tagged
    clean_words, decorated_words = split_words(CLEAN), split_words(DECORATED)

    def word_spans(spans, words):
        return {(next(i for i, w in enumerate(words) if w[0] == s.start), s.label) for s in spans}

    assert word_spans(clean.spans, clean_words) == word_spans(decorated.spans, decorated_words)

    # a raw-text backbone records null and keeps raw tokenisation
    raw_dir = build_tiny_backbone([CLEAN] * 3, tmp_path / "raw", vocab_size=120, hidden=32)
    raw = JointModel(*load_backbone(raw_dir), HeadConfig(rel_hidden=16, max_length=64, stride=16))
    assert raw.preprocess is None and raw.word_preprocessor is None
    assert json.loads((raw.save_pretrained(tmp_path / "raw-model") / "config.json")
                      .read_text(encoding="utf-8"))["preprocess"] is None
