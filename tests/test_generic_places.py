"""Generic place nouns are not PLACE (schema decision 5; model.places.is_generic_place)."""

from __future__ import annotations


import pytest

from model.places import is_generic_place


@pytest.mark.parametrize(
    "text", ["المنطقة", "هذه المناطق", "بالمنطقة", "للمنطقة", "والبلدات", "القريتين", "المدينة"]
)
def test_generic_place_nouns(text):
    assert is_generic_place(text)


@pytest.mark.parametrize(
    "text",
    ["المنطقة الشرقية", "مدينة الرقة", "بلدة الفوعة", "دير الزور", "ريف حلب", "الحي الشرقي",
     "هذه", "لبنان", "بلدتي كفريا والفوعة", ""],
)
def test_names_and_described_places_are_not_generic(text):
    assert not is_generic_place(text)


def test_no_gold_place_is_generic(gold_dir):
    from annotation.export import read_export

    places = [
        s.text
        for name in ("train.json", "seeds.json")
        for doc in read_export(gold_dir / name).documents
        for s in doc.spans
        if s.label == "PLACE"
    ]
    assert len(places) > 2000
    assert [t for t in places if is_generic_place(t)] == []


def test_inference_drops_a_generic_place_before_linking():
    import torch

    from _ghara_tiny import tiny_backbone
    from annotation.schema import SCHEMA
    from model.backbone import load_backbone
    from model.config import HeadConfig
    from model.inference import predict_paragraphs
    from model.network import JointModel

    encoder, tokenizer = load_backbone(tiny_backbone())
    model = JointModel(encoder, tokenizer, HeadConfig(rel_hidden=0)).eval()
    with torch.no_grad():  # every word a PLACE of its own
        model.tagger.weight.zero_()
        model.tagger.bias.fill_(-10.0)
        model.tagger.bias[SCHEMA.tag2id["B-PLACE"]] = 10.0
    pred = predict_paragraphs(model, ["قصفت المنطقة وبلدة الرقة"])[0]
    # المنطقة and وبلدة (each a span of its own here) are generic; الرقة is a name
    assert [s.text for s in pred.spans] == ["قصفت", "الرقة"]
    assert all(s.label == "PLACE" for s in pred.spans)
