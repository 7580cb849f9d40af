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
