"""Gazetteer cues (model/place_cues.py): each word's class from the offline gazetteer, and
a model that reads them (``HeadConfig.place_cues``) next to the casualty cues."""

from __future__ import annotations

import pytest
import torch

from _ghara_tiny import TINY_CONFIG, tiny_backbone
from annotation.documents import Document, Paragraph
from annotation.words import split_words
from model.config import ConfigError, HeadConfig
from model.cues import CUE_CLASSES, cue_class_count, word_cue
from model.features import encode_paragraph, featurize
from model.inference import predict_paragraphs
from model.network import JointModel
from model.place_cues import PLACE_CUE_CLASSES, word_place_cues

PLACE, ADJECTIVE = PLACE_CUE_CLASSES.index("place"), PLACE_CUE_CLASSES.index("adjective")
TEXT = "قصف الطيران الروسي مدينة حلب وبلدة ودير الزور فقُتل خمسة أشخاص في الأراضي السورية"


def classes_of(text: str) -> dict[str, int]:
    words = split_words(text)
    return {text[s:e]: int(c) for (s, e), c in zip(words, word_place_cues(text, words))}


def test_names_with_clitics_multiword_names_and_adjectives_get_their_class():
    got = classes_of(TEXT)
    assert got["حلب"] == PLACE
    assert got["ودير"] == got["الزور"] == PLACE  # a two-word name, its first word with و
    assert got["الروسي"] == got["السورية"] == ADJECTIVE
    # generic heads alone, verbs and common nouns are no place
    for word in ("مدينة", "وبلدة", "قصف", "الطيران", "فقُتل", "خمسة", "أشخاص", "في", "الأراضي"):
        assert got[word] == 0, word


def test_a_text_without_words_or_places_gives_no_cue():
    assert word_place_cues("", []).tolist() == []
    assert PLACE not in classes_of("قال المتحدث إن الاجتماع انتهى").values()


def test_featurize_combines_casualty_and_place_classes_in_one_id():
    from model.backbone import load_backbone

    _, tokenizer = load_backbone(tiny_backbone())
    (plain,) = featurize(tokenizer, [TEXT], cues=True)
    (item,) = featurize(tokenizer, [TEXT], cues=True, place_cues=True)
    place = word_place_cues(TEXT, item.words)
    for sub, word in enumerate(item.word_ids.tolist()):
        start, end = item.words[word]
        assert plain.cues[sub] == word_cue(TEXT[start:end])
        assert item.cues[sub] == word_cue(TEXT[start:end]) + len(CUE_CLASSES) * place[word]
    assert item.cues.max() < cue_class_count(place_cues=True) == 9
    assert plain.cues.max() < cue_class_count() == 3


def test_a_model_with_place_cues_trains_on_them_and_keeps_them_when_saved(tmp_path):
    from model.backbone import load_backbone

    encoder, tokenizer = load_backbone(tiny_backbone())
    torch.manual_seed(0)
    heads = HeadConfig(rel_hidden=16, lstm_hidden=8, cue_dim=4, place_cues=True)
    model = JointModel(encoder, tokenizer, heads)
    assert model.cue_embedding.num_embeddings == 9
    ex = model.examples([Document("d", TEXT)])[0]
    assert ex["cues"] == encode_paragraph(Paragraph("d", 0, 0, TEXT), tokenizer, cues=True,
                                          place_cues=True)["cues"]
    assert max(ex["cues"]) >= len(CUE_CLASSES)  # place ids reach the examples
    batch = model.collate([ex])
    model(**batch)["loss"].backward()
    place_rows = model.cue_embedding.weight.grad[len(CUE_CLASSES):]
    assert place_rows.abs().sum() > 0  # the place classes reach the loss
    before = predict_paragraphs(model, [TEXT])
    model.save_pretrained(tmp_path / "m")
    loaded = JointModel.from_pretrained(tmp_path / "m")
    assert loaded.heads.place_cues and loaded.cue_embedding.num_embeddings == 9
    after = predict_paragraphs(loaded, [TEXT])
    assert after[0].spans == before[0].spans and after[0].span_scores == before[0].span_scores


def test_place_cues_need_the_cue_embedding():
    from model.backbone import load_backbone
    from model.training import load_config

    assert load_config(TINY_CONFIG, ["cue_dim=8", "place_cues=true"]).head_config().place_cues
    with pytest.raises(ConfigError, match="place_cues needs cue_dim"):
        load_config(TINY_CONFIG, ["place_cues=true"])
    encoder, tokenizer = load_backbone(tiny_backbone())
    with pytest.raises(ValueError, match="place_cues needs cue_dim"):
        JointModel(encoder, tokenizer, HeadConfig(place_cues=True))
