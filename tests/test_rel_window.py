"""Relation-head options (issue 12 B): the word windows around each span
(``HeadConfig.rel_window``), one STRIKE per argument at decoding (``single_head_labels``) and
per-role loss weights (``rel_role_weights``). All are off by default (test_model.py and
test_extractor.py check the default predictions)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from _ghara_tiny import TINY_CONFIG, tiny_backbone
from _random_spans import random_paragraph
from annotation.documents import Paragraph, Span
from annotation.schema import SCHEMA
from model.config import ConfigError, HeadConfig
from model.features import encode_paragraph, word_subword_ranges
from model.network import JointModel, build_pairs, pair_blocks, single_head_keep

LABEL = {lab: i for i, lab in enumerate(SCHEMA.entity_labels)}
ROLE = {role: i for i, role in enumerate(SCHEMA.relation_classes)}
# invented sentence: STRIKE ... PLACE ... COUNT followed by the casualty noun (جريحا)
TEXT = "قصفت طائرات مجهولة بلدة صغيرة فأصيب 4 جريحا بينهم أطفال"


def _reference_windows(span_lists, word_ranges, window):
    """Per kept span: (before_start, after_end) by a plain loop over the words."""
    out = []
    for spans, ranges in zip(span_lists, word_ranges):
        for ws, we, _ in spans:
            inside = [ranges[w] for w in range(ws, we) if ranges[w][0] >= 0]
            if not inside:
                continue  # pair_blocks leaves spans without sub-words out
            start, end = inside[0][0], inside[-1][1]
            before = [ranges[w] for w in range(max(ws - window, 0), ws) if ranges[w][0] >= 0]
            after = [
                ranges[w] for w in range(we, min(we + window, len(ranges))) if ranges[w][0] >= 0
            ]
            out.append((before[0][0] if before else start, after[-1][1] if after else end))
    return out


def _random_batch(rng: random.Random):
    span_lists, word_ranges = [], []
    for _ in range(rng.randrange(1, 5)):
        spans, ranges = random_paragraph(rng, max_words=60, missing=0.2, keep_going=0.9,
                                         max_gap=3, max_width=5, n_labels=len(LABEL))
        span_lists.append(spans)
        word_ranges.append(ranges)
    return span_lists, word_ranges


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("window", [1, 3])
def test_windows_match_a_plain_loop_in_every_block(seed, window):
    span_lists, word_ranges = _random_batch(random.Random(seed))
    expected = _reference_windows(span_lists, word_ranges, window)
    rel = build_pairs(span_lists, word_ranges, SCHEMA, 16, window=window)
    assert list(zip(rel.before_start.tolist(), rel.after_end.tolist())) == expected
    # blocked (inference, max_distance on): every block carries the windows of all spans
    for block in pair_blocks(
        span_lists, word_ranges, SCHEMA, 16, max_distance=5, block_pairs=3, window=window
    ):
        assert list(zip(block.before_start.tolist(), block.after_end.tolist())) == expected
    off = build_pairs(span_lists, word_ranges, SCHEMA, 16)
    assert off.before_start is None and off.after_end is None


@pytest.fixture(scope="module")
def backbone():
    from model.backbone import load_backbone

    return load_backbone(tiny_backbone())


def test_count_tail_sees_the_casualty_noun_and_save_load_keeps_the_window(backbone, tmp_path):
    encoder, tokenizer = backbone
    model = JointModel(encoder, tokenizer, HeadConfig(rel_hidden=16, rel_window=2)).eval()
    ex = encode_paragraph(Paragraph("d", 0, 0, TEXT), tokenizer)
    spans = [[0, 1, LABEL["STRIKE"]], [3, 5, LABEL["PLACE"]], [6, 7, LABEL["COUNT"]]]
    ranges = word_subword_ranges(ex["word_ids"], len(ex["words"]))
    rel = build_pairs([spans], [ranges], SCHEMA, 16, window=model.heads.rel_window)
    count = 2
    # after-window of the COUNT: the sub-words of the next two words (جريحا بينهم)
    assert rel.span_end[count] == ranges[6][1] and rel.after_end[count] == ranges[8][1]
    assert rel.before_start[0] == rel.span_start[0]  # nothing before the first word
    with torch.no_grad():
        feats = model.features(model.window_batch([ex["input_ids"]]))
        logits = model.relation_logits(feats, rel)
        # a different word after the COUNT (outside both spans and the text between them)
        # changes its pair's scores
        feats2 = feats.clone()
        feats2[0, ranges[7][0]] += 10.0
        logits2 = model.relation_logits(feats2, rel)
    pair = [k for k, (_, _, t) in enumerate(rel.pair_keys) if t == count][0]
    assert not torch.allclose(logits[pair], logits2[pair])
    with pytest.raises(ValueError, match="rel_window"):
        model.relation_logits(feats, build_pairs([spans], [ranges], SCHEMA, 16))
    model.save_pretrained(tmp_path / "m")
    loaded = JointModel.from_pretrained(tmp_path / "m")
    assert loaded.heads.rel_window == 2
    with torch.no_grad():
        assert torch.equal(loaded.relation_logits(feats, rel), logits)


def test_single_head_keeps_the_best_strike_per_count_only():
    spans = [
        [0, 1, LABEL["STRIKE"]], [2, 3, LABEL["STRIKE"]], [4, 5, LABEL["COUNT"]],
        [6, 7, LABEL["PLACE"]],
    ]
    ranges = [(i, i + 1) for i in range(8)]
    rel = build_pairs([spans], [ranges], SCHEMA, 16)
    assert [(h, t) for _, h, t in rel.pair_keys] == [(0, 2), (0, 3), (1, 2), (1, 3)]
    tails = rel.pair_tail.numpy()
    tail_labels = rel.span_label.numpy()[tails]
    best_p = np.array([0.6, 0.7, 0.9, 0.8])
    best_c = np.array([ROLE["killed"], ROLE["place"], ROLE["killed"], ROLE["place"]])
    keep = single_head_keep(tails, tail_labels, best_p, best_c, [LABEL["COUNT"]])
    # the COUNT keeps only its more probable strike; PLACE (not listed) keeps both
    assert keep.tolist() == [False, True, True, True]
    best_c[2] = 0  # the better pair says none: the other one stays
    keep = single_head_keep(tails, tail_labels, best_p, best_c, [LABEL["COUNT"]])
    assert keep.tolist() == [True, True, False, True]
    best_p[:] = 0.5  # a tie: the earlier pair
    best_c[2] = ROLE["killed"]
    keep = single_head_keep(tails, tail_labels, best_p, best_c, [LABEL["COUNT"], LABEL["PLACE"]])
    assert keep.tolist() == [True, True, False, False]


def test_single_head_decoding_spans_pair_blocks(backbone, monkeypatch):
    """An argument's pairs in different pair blocks: still one STRIKE, the most probable."""
    from model import network
    from model.inference import predict_paragraphs

    encoder, tokenizer = backbone
    text = "قصفت طائرات مجهولة بلدة صغيرة وقصفت مدفعية قرية أخرى فأصيب 4 جريحا"
    words = text.split()

    def span(i: int, label: str) -> Span:
        start = len(" ".join(words[:i])) + (1 if i else 0)
        return Span(start, start + len(words[i]), label, words[i])

    gold = [[span(0, "STRIKE"), span(3, "PLACE"), span(5, "STRIKE"), span(7, "PLACE"),
             span(10, "COUNT")]]
    results = {}
    for labels in ([], ["COUNT", "PLACE"]):
        torch.manual_seed(0)
        model = JointModel(encoder, tokenizer, HeadConfig(rel_hidden=0, single_head_labels=labels))
        with torch.no_grad():  # every allowed pair gets a role: none is never best
            model.relation.bias[ROLE["none"]] = -100.0
        for block in (network.PAIR_BLOCK, 1):  # 1: one STRIKE's pairs per block
            monkeypatch.setattr(network, "PAIR_BLOCK", block)
            pred = predict_paragraphs(model, [text], gold_spans=gold)[0]
            results[len(labels), block] = [
                (r.head.start, r.role, r.tail.start, s)
                for r, s in zip(pred.relations, pred.relation_scores)
            ]
    every = results[0, network.PAIR_BLOCK]
    assert len(every) == 6 and results[0, 1] == every  # 2 strikes x 3 arguments
    single = results[2, 1]
    assert single == results[2, network.PAIR_BLOCK]
    # each argument keeps its most probable strike among all of its pairs
    best = {}
    for h, role, t, s in every:
        if t not in best or s > best[t][3]:
            best[t] = (h, role, t, s)
    assert sorted(single) == sorted(best.values())


def test_single_head_labels_must_be_argument_labels(backbone):
    encoder, tokenizer = backbone
    with pytest.raises(ValueError, match="single_head_labels"):
        JointModel(encoder, tokenizer, HeadConfig(single_head_labels=["STRIKE"]))


def test_role_weights_change_the_relation_loss_and_unknown_roles_fail(backbone):
    encoder, tokenizer = backbone
    ex = encode_paragraph(Paragraph("d", 0, 0, TEXT), tokenizer)
    ex["spans"] = [[0, 1, LABEL["STRIKE"]], [6, 7, LABEL["COUNT"]]]
    ex["relations"] = [[0, 1, ROLE["injured"]]]

    def rel_loss(weights):
        torch.manual_seed(0)
        model = JointModel(encoder, tokenizer, HeadConfig(rel_hidden=16, rel_role_weights=weights))
        model.eval()
        with torch.no_grad():
            return float(model(**model.collate([ex]))["rel_loss"])

    # one pair only: a class weight cancels in the weighted mean
    assert rel_loss({}) == pytest.approx(rel_loss({"injured": 3.0, "killed": 0.5}))
    ex["spans"].append([3, 5, LABEL["PLACE"]])  # a second pair (place, class none)
    assert rel_loss({}) != pytest.approx(rel_loss({"injured": 3.0}))
    with pytest.raises(ValueError, match="rel_role_weights"):
        JointModel(encoder, tokenizer, HeadConfig(rel_role_weights={"wounded": 2.0}))


def test_config_reads_the_new_keys_and_rejects_unknown_names():
    from model.training import load_config

    cfg = load_config(TINY_CONFIG, ["rel_role_weights={injured: 3}", "rel_window=2",
                                    "single_head_labels=[COUNT, TARGET]"])
    heads = cfg.head_config()
    assert heads.rel_role_weights == {"injured": 3.0}
    assert heads.rel_window == 2 and heads.single_head_labels == ["COUNT", "TARGET"]
    assert load_config(TINY_CONFIG).head_config().rel_role_weights == {}
    bad = {
        "rel_role_weights=[injured]": "must be a mapping",
        "rel_role_weights={injured: lots}": "must be a number",
        "rel_role_weights={wounded: 2}": "not relation roles",
        "rel_role_weights={injured: -1}": "rel_role_weights",
        "single_head_labels=[STRIKE]": "not argument labels",
        "rel_window=-1": "rel_window",
    }
    for override, message in bad.items():
        with pytest.raises(ConfigError, match=message) as err:
            load_config(TINY_CONFIG, [override])
        assert "\n" not in str(err.value)


# invented: a STRIKE and a PLACE in one sentence, a COUNT in the next
SENTENCES = "قصفت طائرات بلدة صغيرة أمس . فأصيب 4 بينهم أطفال ."


def test_sentence_feature_pools_the_strike_sentence_and_counts_sentence_ends(backbone, tmp_path):
    encoder, tokenizer = backbone
    torch.manual_seed(0)
    model = JointModel(encoder, tokenizer, HeadConfig(rel_hidden=16, rel_sentence=True)).eval()
    ex = encode_paragraph(Paragraph("d", 0, 0, SENTENCES), tokenizer)
    ranges = word_subword_ranges(ex["word_ids"], len(ex["words"]))
    spans = [[0, 1, LABEL["STRIKE"]], [2, 4, LABEL["PLACE"]], [7, 8, LABEL["COUNT"]]]
    rel = build_pairs([spans], [ranges], SCHEMA, 16)
    windows = model.window_batch([ex["input_ids"], ex["input_ids"][:3]])  # a padded row too
    sentences = model.sentence_index(windows)
    dot, n = ranges[5][0], len(ex["input_ids"])
    assert sentences[0, : dot + 1].tolist() == [0] * (dot + 1)  # the mark ends its sentence
    assert sentences[0, dot + 1: n - 1].unique().tolist() == [1]
    assert sentences[1, :3].tolist() == [0, 0, 0] and set(sentences[1, 3:].tolist()) == {n}
    windows = model.window_batch([ex["input_ids"]])
    sentences = model.sentence_index(windows)
    with torch.no_grad():
        feats = model.features(windows)
        pooled, gap = model._sentence_parts(feats, rel, sentences, feats.dtype)
        # the strike's sentence is words 0-5 (the mark included) for both of its pairs
        assert torch.equal(pooled[0], feats[0, : dot + 1].amax(dim=0))
        assert torch.equal(gap, model.sentence_gap_embedding(torch.tensor([0, 1])))
        logits = model.relation_logits(feats, rel, sentences=sentences)
        # a word of the strike's sentence outside both spans and the text between them
        # changes the scores; a word of the next sentence after the COUNT does not
        inside, after = feats.clone(), feats.clone()
        inside[0, ranges[4][0]] += 10.0
        after[0, ranges[9][0]] += 10.0
        assert not torch.allclose(model.relation_logits(inside, rel, sentences=sentences)[0],
                                  logits[0])
        assert torch.equal(model.relation_logits(after, rel, sentences=sentences)[0], logits[0])
    with pytest.raises(ValueError, match="sentences"):
        model.relation_logits(feats, rel)
    model.save_pretrained(tmp_path / "m")
    loaded = JointModel.from_pretrained(tmp_path / "m").eval()
    assert loaded.heads.rel_sentence
    with torch.no_grad():
        assert torch.equal(loaded.relation_logits(feats, rel, sentences=sentences), logits)
    # training and inference both read the sentences
    ex["spans"], ex["relations"] = spans, [[0, 1, ROLE["place"]], [0, 2, ROLE["injured"]]]
    loss = model.train()(**model.collate([ex]))["loss"]
    assert torch.isfinite(loss)
    from model.inference import predict_paragraphs

    gold = [[Span(0, 4, "STRIKE", "قصفت"), Span(12, 22, "PLACE", "بلدة صغيرة")]]
    pred = predict_paragraphs(model, [SENTENCES], gold_spans=gold)[0]
    assert len(pred.spans) == 2
