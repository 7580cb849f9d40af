"""Casualty cues (``model.cues``, ``HeadConfig.cue_dim``): the lexicon, their sub-word
alignment in ``featurize``, and a model that reads them (trains, predicts, saves, loads)."""

from __future__ import annotations

import pytest
import torch

from _ghara_tiny import TINY_CONFIG, tiny_backbone
from annotation.documents import Document, Paragraph
from model.config import ConfigError, HeadConfig
from model.cues import CUE_CLASSES, word_cue
from model.features import encode_paragraph, featurize
from model.inference import predict_paragraphs
from model.network import JointModel

KILLED, INJURED = CUE_CLASSES.index("killed"), CUE_CLASSES.index("injured")
# invented sentence: a strike, then a killed count and an injured count
TEXT = "قصفت طائرات مجهولة بلدة صغيرة فقُتل 3 وأصيب 4 جريحا بينهم أطفال"


@pytest.mark.parametrize("word, cue", [
    ("قتلى", KILLED), ("والقتلى", KILLED), ("بالقتلى", KILLED), ("لقتلى", KILLED),
    ("قُتل", KILLED), ("مقتل", KILLED), ("قتيلا", KILLED), ("استشهاد", KILLED),
    ("حتفهم", KILLED), ("جرحى", INJURED), ("والجرحى", INJURED), ("بجروح", INJURED),
    ("أصيب", INJURED), ("بإصابة", INJURED), ("للمصابين", INJURED), ("مصابين", INJURED),
    # look-alikes that are no casualty word: fighting, fighter, morning, Egypt, delegation
    ("قتال", 0), ("مقاتل", 0), ("اقتتال", 0), ("صباح", 0), ("مصر", 0), ("وفد", 0), ("3", 0),
])
def test_word_cue(word, cue):
    assert word_cue(word) == cue


def test_featurize_gives_every_subword_its_words_cue():
    from model.backbone import load_backbone

    _, tokenizer = load_backbone(tiny_backbone())
    assert featurize(tokenizer, [TEXT])[0].cues is None  # only when asked for
    (item,) = featurize(tokenizer, [TEXT], cues=True)
    assert len(item.cues) == len(item.input_ids)
    for sub, word in enumerate(item.word_ids.tolist()):
        start, end = item.words[word]
        assert item.cues[sub] == word_cue(TEXT[start:end])
    cue_words = {TEXT[slice(*item.words[w])] for w, c in zip(item.word_ids, item.cues) if c}
    assert cue_words == {"فقُتل", "وأصيب", "جريحا"}


@pytest.fixture(scope="module")
def backbone():
    from model.backbone import load_backbone

    return load_backbone(tiny_backbone())


def test_a_model_with_cues_reads_them_trains_and_keeps_them_when_saved(backbone, tmp_path):
    encoder, tokenizer = backbone
    torch.manual_seed(0)
    model = JointModel(encoder, tokenizer, HeadConfig(rel_hidden=16, lstm_hidden=8, cue_dim=4))
    ex = encode_paragraph(Paragraph("d", 0, 0, TEXT), tokenizer, cues=True)
    assert any(ex["cues"]) and len(ex["cues"]) == len(ex["input_ids"])
    assert model.examples([Document("d", TEXT)])[0]["cues"] == ex["cues"]  # the model's own
    with pytest.raises(ValueError, match="cues=True"):  # examples made without them
        model.collate([encode_paragraph(Paragraph("d", 0, 0, TEXT), tokenizer)])
    batch = model.collate([ex])
    assert batch["cues"].shape == batch["labels"].shape
    model(**batch)["loss"].backward()
    assert model.cue_embedding.weight.grad.abs().sum() > 0  # the cues reach the loss
    model.eval()
    windows = model.window_batch([ex["input_ids"]])
    with torch.no_grad():
        feats = model.features(windows, batch["cues"])
        other = model.features(windows, torch.zeros_like(batch["cues"]))
        assert not torch.allclose(feats, other)  # the cues change the features
        with pytest.raises(ValueError, match="cue"):
            model.features(windows)
    before = predict_paragraphs(model, [TEXT])
    model.save_pretrained(tmp_path / "m")
    loaded = JointModel.from_pretrained(tmp_path / "m")
    assert loaded.heads.cue_dim == 4
    after = predict_paragraphs(loaded, [TEXT])
    assert after[0].spans == before[0].spans and after[0].span_scores == before[0].span_scores
    # a model without cues neither needs nor builds them
    plain = JointModel(encoder, tokenizer, HeadConfig(rel_hidden=16))
    assert plain.collate([ex])["cues"] is None and plain.cue_embedding is None


def test_cue_dim_is_checked():
    from model.training import load_config

    assert load_config(TINY_CONFIG, ["cue_dim=8"]).head_config().cue_dim == 8
    with pytest.raises(ConfigError, match="cue_dim"):
        load_config(TINY_CONFIG, ["cue_dim=-1"])
