"""The joint model: windows, constrained decoding, pairs, inference, save/load."""

from __future__ import annotations

import itertools
import json
import random

import pytest
import torch

from _ghara_tiny import SAMPLE, overfit_run, tiny_backbone
from _random_spans import random_paragraph
from annotation.documents import Paragraph, Span
from annotation.schema import SCHEMA
from model.decoding import transition_constraints, viterbi_decode
from model.encoding import make_window_batch, merge_windows, plan_windows, token_owners
from model.features import encode_paragraph, word_subword_ranges
from model.network import HeadConfig, JointModel, build_pairs, range_max


# -- windows -----------------------------------------------------------------------------
@pytest.mark.parametrize("length", [1, 5, 14, 15, 16, 40, 101])
@pytest.mark.parametrize("max_length,stride", [(16, 0), (16, 4), (16, 13), (8, 3)])
def test_windows_cover_everything_and_owner_is_most_central(length, max_length, stride):
    windows = plan_windows(length, max_length, stride)
    content = max_length - 2
    assert windows[0][0] == 0 and windows[-1][1] == length
    assert all(0 < e - s <= content for s, e in windows)
    for (s1, e1), (s2, _) in zip(windows, windows[1:]):
        assert s2 <= e1  # contiguous or overlapping: nothing is skipped
    owners = token_owners(windows, length)
    for i, (w, off) in enumerate(owners):
        s, e = windows[w]
        assert s + off == i
        best = max(min(i - a, b - 1 - i) for a, b in windows if a <= i < b)
        assert min(i - s, e - 1 - i) == best


def test_merge_windows_puts_every_subword_back():
    seqs = [list(range(10, 47)), [], list(range(100, 105))]
    batch = make_window_batch(seqs, max_length=10, stride=3, cls_id=1, sep_id=2, pad_id=0)
    assert batch.input_ids.size(1) <= 10
    assert (batch.input_ids[:, 0] == 1).all()
    # an "encoder" whose output at a position is the input id: merging must give the ids back
    hidden = batch.input_ids.unsqueeze(-1).float()
    merged = merge_windows(hidden, batch.gather_index, batch.token_mask).squeeze(-1).long()
    for b, seq in enumerate(seqs):
        assert merged[b, : len(seq)].tolist() == seq
        assert batch.token_ids[b, : len(seq)].tolist() == seq


def test_range_max_matches_naive():
    torch.manual_seed(0)
    x = torch.randn(3, 37, 5)
    queries = [(b, s, e) for b in range(3) for s in range(0, 37, 3) for e in range(s, 38, 5)]
    rows, starts, ends = (torch.tensor(v) for v in zip(*queries))
    got = range_max(x, rows, starts, ends)
    for (b, s, e), row in zip(queries, got):
        want = x[b, s:e].max(0).values if e > s else torch.zeros(5)
        assert torch.equal(row, want)


# -- decoding ----------------------------------------------------------------------------
def _valid(tags):
    prev = "O"
    for tag in tags:
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            return False
        prev = tag
    return True


def test_viterbi_is_exact_and_never_emits_invalid_i():
    allowed, start = transition_constraints(SCHEMA)
    tags = SCHEMA.bio_tags
    torch.manual_seed(1)
    logp = torch.log_softmax(torch.randn(6, 3, len(tags)) * 3, dim=-1)
    paths = viterbi_decode(logp, [3, 3, 3, 3, 2, 1], allowed, start)
    for b, path in enumerate(paths):
        n = len(path)
        assert _valid([tags[t] for t in path])
        best = max(
            (seq for seq in itertools.product(range(len(tags)), repeat=n)
             if _valid([tags[t] for t in seq])),
            key=lambda seq: sum(float(logp[b, i, t]) for i, t in enumerate(seq)),
        )
        assert list(best) == path


# -- pairs -------------------------------------------------------------------------------
def test_pairs_only_allowed_labels_and_negatives_capped():
    label = {lab: i for i, lab in enumerate(SCHEMA.entity_labels)}
    spans = [[0, 1, label["STRIKE"]], [2, 4, label["ACTOR"]], [5, 6, label["STRIKE"]],
             [7, 8, label["PLACE"]], [9, 10, label["COUNT"]]]
    ranges = [(i, i + 1) for i in range(11)]
    rel = build_pairs([spans], [ranges], SCHEMA, 16, relation_lists=[[[0, 1, 1]]])
    # heads: the two STRIKEs; tails: ACTOR, PLACE, COUNT (never a STRIKE)
    assert sorted((h, t) for _, h, t in rel.pair_keys) == [
        (0, 1), (0, 3), (0, 4), (2, 1), (2, 3), (2, 4)]
    assert rel.targets.tolist().count(1) == 1 and rel.targets.sum() == 1
    capped = build_pairs([spans], [ranges], SCHEMA, 16, relation_lists=[[[0, 1, 1]]],
                         max_pairs=2, rng=random.Random(0))
    assert capped.num_pairs == 2 and 1 in capped.targets.tolist()
    assert rel.ctx_start[0] == 1 and rel.ctx_end[0] == 2  # the word between STRIKE and ACTOR


def test_relation_logits_mask_roles_the_tail_cannot_take():
    from model.backbone import load_backbone

    encoder, tokenizer = load_backbone(tiny_backbone())
    model = JointModel(encoder, tokenizer, HeadConfig(rel_hidden=16)).eval()
    text = "قصفت طائرات التحالف مدينة الرقة أمس وقتل 5 مدنيين"
    label = {lab: i for i, lab in enumerate(SCHEMA.entity_labels)}
    ex = encode_paragraph(Paragraph("d", 0, 0, text), tokenizer)
    spans = [[0, 1, label["STRIKE"]], [1, 3, label["ACTOR"]], [3, 5, label["PLACE"]],
             [5, 6, label["DATE"]], [7, 8, label["COUNT"]]]
    ranges = word_subword_ranges(ex["word_ids"], len(ex["words"]))
    rel = build_pairs([spans], [ranges], SCHEMA, 16)
    with torch.no_grad():
        feats = model.features(model.window_batch([ex["input_ids"]]))
        logits = model.relation_logits(feats, rel)
    classes = SCHEMA.relation_classes
    for (_, _, t), row in zip(rel.pair_keys, logits):
        tail_label = SCHEMA.entity_labels[spans[t][2]]
        for c, value in enumerate(row.tolist()):
            allowed = c == 0 or SCHEMA.allows("STRIKE", classes[c], tail_label)
            assert (value != float("-inf")) == allowed


# -- inference and persistence -----------------------------------------------------------
def _paragraph_texts():
    from annotation.export import read_export
    from annotation.paragraphs import split_paragraphs
    from _ghara_tiny import small_export

    docs = read_export(small_export()).documents
    return [p for d in docs for p in split_paragraphs(d)]


def test_predictions_are_well_formed_and_empty_texts_are_empty():
    from model.inference import predict_paragraphs

    model = JointModel.from_pretrained(overfit_run()["best_dir"])
    paragraphs = _paragraph_texts()
    texts = ["", "   "] + [p.text for p in paragraphs] + ["،،،"]
    preds = predict_paragraphs(model, texts, batch_size=3)
    assert preds[0].spans == [] and preds[0].relations == [] and preds[1].spans == []
    for text, pred in zip(texts, preds):
        assert len(pred.spans) == len(pred.span_scores)
        assert len(pred.relations) == len(pred.relation_scores)
        for span in pred.spans:
            assert text[span.start : span.end] == span.text
        for rel in pred.relations:
            assert rel.head.label == "STRIKE" and SCHEMA.allows("STRIKE", rel.role, rel.tail.label)
            assert rel.head in pred.spans and rel.tail in pred.spans
        assert all(0.0 <= s <= 1.0 for s in pred.span_scores + pred.relation_scores)


def test_gold_spans_mode_returns_given_spans():
    from model.inference import predict_paragraphs

    model = JointModel.from_pretrained(overfit_run()["best_dir"])
    paragraphs = _paragraph_texts()
    preds = predict_paragraphs(model, [p.text for p in paragraphs],
                               gold_spans=[p.spans for p in paragraphs])
    for p, pred in zip(paragraphs, preds):
        assert pred.spans == p.spans
        assert set(pred.relations) == set(p.relations)  # the fitted model gets them all


def test_save_load_gives_identical_predictions(tmp_path):
    from model.inference import predict_paragraphs

    model = JointModel.from_pretrained(overfit_run()["best_dir"])
    texts = [p.text for p in _paragraph_texts()]
    before = predict_paragraphs(model, texts)
    model.save_pretrained(tmp_path / "saved")
    assert (tmp_path / "saved" / "model.safetensors").is_file()
    assert not list((tmp_path / "saved").glob("*.bin"))
    loaded = JointModel.from_pretrained(tmp_path / "saved")
    assert loaded.heads == model.heads and loaded.schema == model.schema
    after = predict_paragraphs(loaded, texts)
    assert before == after
    assert sum(len(p.spans) for p in after) > 0 and sum(len(p.relations) for p in after) > 0


def test_paragraph_several_windows_long_gets_the_spans_of_its_pieces():
    from model.inference import predict_paragraphs

    model = JointModel.from_pretrained(overfit_run()["best_dir"])
    piece = _paragraph_texts()[0].text
    alone = predict_paragraphs(model, [piece])[0].spans
    assert alone
    n = len(model.tokenizer(piece, add_special_tokens=False)["input_ids"])
    # three copies; windows of exactly one piece each (and, second, overlapping windows)
    long_text = " ".join([piece] * 3)
    for max_length, stride in [(n + 2, 0), (n // 2 + 2, n // 4)]:
        model.heads.max_length, model.heads.stride = max_length, stride
        assert len(plan_windows(3 * n, max_length, stride)) >= 3
        spans = predict_paragraphs(model, [long_text])[0].spans
        if stride == 0:
            shift = len(piece) + 1
            want = [Span(s.start + k * shift, s.end + k * shift, s.label, s.text)
                    for k in range(3) for s in alone]
            assert spans == want
        else:  # overlapping half-length windows: still well-formed, nothing dropped
            assert spans and all(long_text[s.start : s.end] == s.text for s in spans)
            assert spans[-1].start > 2 * (len(piece) + 1)


# -- fast paths match the plain reference implementations --------------------------------
def _reference_viterbi(log_probs, lengths, allowed, allowed_start):
    """The step-by-step torch Viterbi the numpy one replaced (same float32 arithmetic)."""
    batch, steps, _ = log_probs.shape
    neg = torch.tensor(-1e9)
    trans = torch.where(allowed, torch.tensor(0.0), neg)
    score = log_probs[:, 0] + torch.where(allowed_start, torch.tensor(0.0), neg)
    lengths_t = torch.tensor(list(lengths))
    backpointers = []
    for t in range(1, steps):
        best, arg = (score.unsqueeze(2) + trans.unsqueeze(0)).max(dim=1)
        score = torch.where((lengths_t > t).unsqueeze(1), best + log_probs[:, t], score)
        backpointers.append(arg)
    last, paths = score.argmax(dim=1), []
    for b in range(batch):
        if lengths[b] == 0:
            paths.append([])
            continue
        path = [int(last[b])]
        for t in range(lengths[b] - 1, 0, -1):
            path.append(int(backpointers[t - 1][b, path[-1]]))
        paths.append(path[::-1])
    return paths


@pytest.mark.parametrize("case", ["plain", "ties", "uniform_words", "huge_negative"])
def test_viterbi_matches_the_full_max_reference(case):
    allowed, start = transition_constraints(SCHEMA)
    gen = torch.Generator().manual_seed(3)
    for _ in range(40):
        batch, steps = int(torch.randint(1, 12, (1,), generator=gen)), int(
            torch.randint(1, 30, (1,), generator=gen))
        x = torch.randn(batch, steps, len(SCHEMA.bio_tags), generator=gen) * 3
        if case == "ties":
            x = x.round()
        logp = torch.log_softmax(x, dim=-1)
        if case == "uniform_words":
            logp[:, ::2] = 0.0
        if case == "huge_negative":  # forbidden predecessors can win: the full-max fallback
            logp[:, :, 1::2] = -3e9
        lengths = torch.randint(0, steps + 1, (batch,), generator=gen).tolist()
        lengths[0] = steps
        assert viterbi_decode(logp, lengths, allowed, start) == _reference_viterbi(
            logp, lengths, allowed, start)


def test_range_max_long_ranges_and_gradients_match_naive():
    torch.manual_seed(0)
    x = torch.randn(2, 100, 4, requires_grad=True)
    queries = [(b, s, e) for b in range(2) for s in range(0, 100, 7) for e in range(s, 101, 9)]
    rows, starts, ends = (torch.tensor(v) for v in zip(*queries))
    got = range_max(x, rows, starts, ends)
    want = torch.stack([x[b, s:e].max(0).values if e > s else torch.zeros(4)
                        for b, s, e in queries])
    assert torch.equal(got, want)
    weights = torch.randn_like(want)
    (grad_got,) = torch.autograd.grad((got * weights).sum(), x)
    (grad_want,) = torch.autograd.grad((want * weights).sum(), x)
    torch.testing.assert_close(grad_got, grad_want)


def _reference_build_pairs(span_lists, word_ranges, max_width, relation_lists, max_pairs, rng):
    """The per-pair Python loop build_pairs replaced: (keys, starts, ends, ctx, dist, targets)."""
    from model.network import distance_bucket

    labels = SCHEMA.entity_labels
    trigger = labels.index(SCHEMA.trigger_label)
    arg_labels = {labels.index(lab) for lab in SCHEMA.argument_labels}
    spans_out, pairs_out = [], []
    for b, spans in enumerate(span_lists):
        ranges, flat, sub = word_ranges[b], {}, {}
        for k, (ws, we, lab) in enumerate(spans):
            subs = [ranges[w] for w in range(ws, we) if ranges[w][0] >= 0]
            if subs:
                sub[k] = (subs[0][0], subs[-1][1])
                flat[k] = len(spans_out)
                spans_out.append((b, *sub[k], min(we - ws, max_width), lab))
        gold = {(h, t): c for h, t, c in relation_lists[b]} if relation_lists else {}
        pairs = [(h, t) for h in flat if spans[h][2] == trigger
                 for t in flat if spans[t][2] in arg_labels and h != t]
        if max_pairs is not None and len(pairs) > max_pairs:
            pos = [p for p in pairs if gold.get(p, 0) != 0]
            neg = [p for p in pairs if gold.get(p, 0) == 0]
            neg = rng.sample(neg, min(max(max_pairs - len(pos), 0), len(neg)))
            pairs = sorted(pos + neg)
        for h, t in pairs:
            (hs, he), (ts, te) = sub[h], sub[t]
            pairs_out.append(((b, h, t), flat[h], flat[t], min(he, te), max(hs, ts),
                              distance_bucket(tuple(spans[h][:2]), tuple(spans[t][:2])),
                              gold.get((h, t), 0)))
    return spans_out, pairs_out


@pytest.mark.parametrize("seed", range(6))
def test_build_pairs_matches_the_reference_loop(seed):
    rng = random.Random(seed)
    n_labels = len(SCHEMA.entity_labels)
    span_lists, word_ranges, relation_lists = [], [], []
    for _ in range(rng.randrange(1, 6)):
        spans, ranges = random_paragraph(rng, max_words=120, missing=0.1, keep_going=0.95,
                                         max_gap=4, max_width=20, n_labels=n_labels)
        rels = [[rng.randrange(len(spans)), rng.randrange(len(spans)), rng.randrange(1, 8)]
                for _ in range(rng.randrange(0, 4))] if spans else []
        span_lists.append(spans), word_ranges.append(ranges), relation_lists.append(rels)
    for rels, cap in [(None, None), (relation_lists, None), (relation_lists, 5)]:
        got = build_pairs(span_lists, word_ranges, SCHEMA, 16, relation_lists=rels,
                          max_pairs=cap, rng=random.Random(7))
        spans_want, pairs_want = _reference_build_pairs(
            span_lists, word_ranges, 16, rels, cap, random.Random(7))
        spans_got = list(zip(*(getattr(got, f).tolist() for f in (
            "span_batch", "span_start", "span_end", "span_width", "span_label"))))
        assert spans_got == spans_want
        assert got.pair_keys == [p[0] for p in pairs_want]
        assert got.pair_head.tolist() == [p[1] for p in pairs_want]
        assert got.pair_tail.tolist() == [p[2] for p in pairs_want]
        assert got.ctx_start.tolist() == [p[3] for p in pairs_want]
        assert got.ctx_end.tolist() == [p[4] for p in pairs_want]
        assert got.distance.tolist() == [p[5] for p in pairs_want]
        if rels is None:
            assert got.targets is None
        else:
            assert got.targets.tolist() == [p[6] for p in pairs_want]


def test_window_batch_matches_plain_construction():
    rng = random.Random(0)
    for _ in range(100):
        max_length = rng.choice([6, 10, 16])
        stride = rng.randrange(0, max_length - 2)
        seqs = [[rng.randrange(5, 99) for _ in range(rng.choice([0, 1, 4, 13, 40]))]
                for _ in range(rng.randrange(1, 5))]
        batch = make_window_batch(seqs, max_length, stride, cls_id=1, sep_id=2, pad_id=0)
        rows = []
        for seq in seqs:
            if seq:
                windows = plan_windows(len(seq), max_length, stride)
                first = len(rows)
                rows += [[1, *seq[s:e], 2] for s, e in windows]
                owners = [(first + w, off) for w, off in token_owners(windows, len(seq))]
                b = seqs.index(seq)
                assert batch.gather_index[b, : len(seq)].tolist() == [
                    r * batch.input_ids.size(1) + off + 1 for r, off in owners]
        rows = rows or [[1, 2]]
        assert batch.input_ids.size() == (len(rows), max(map(len, rows)))
        for r, row in enumerate(rows):
            assert batch.input_ids[r, : len(row)].tolist() == row
            assert (batch.input_ids[r, len(row):] == 0).all()
            assert batch.attention_mask[r].tolist() == [1] * len(row) + [0] * (
                batch.input_ids.size(1) - len(row))
        for b, seq in enumerate(seqs):
            assert batch.token_mask[b].tolist()[: len(seq)] == [True] * len(seq)
            assert not batch.token_mask[b, len(seq):].any()


def _reference_word_ids(offsets, words, text_length):
    """The word of each sub-word by a plain character loop (oracle for ``featurize``)."""
    char_to_word = [-1] * text_length
    for index, (start, end) in enumerate(words):
        for c in range(start, end):
            char_to_word[c] = index
    return [
        next((char_to_word[c] for c in range(start, end) if char_to_word[c] >= 0), -1)
        for start, end in offsets
    ]


def _reference_ranges(word_ids, n_words):
    ranges = [[-1, -1] for _ in range(n_words)]
    for i, w in enumerate(word_ids):
        if w >= 0:
            ranges[w][0] = i if ranges[w][0] < 0 else ranges[w][0]
            ranges[w][1] = i + 1
    return [tuple(r) for r in ranges]


def test_featurize_matches_split_words_and_word_ids():
    from annotation.words import split_words
    from model.backbone import load_tokenizer
    from model.features import featurize as _featurize

    tokenizer = load_tokenizer(tiny_backbone())
    texts = [p.text for p in _paragraph_texts()] + [
        "", "  ", "،،،", "قصف (الطيران) «الرقة» — أمس؛ 5 قتلى!", "ـــ مدينةٌ  ُ x-ray 3.5%",
        "A\u0301b\tc\u00a0d\u2003e\u200bf", "\U0001f600 قصف", "abc def ghi " * 40,
    ]
    items = {it.index: it for it in _featurize(tokenizer, texts)}
    for i, text in enumerate(texts):
        words = split_words(text)
        ids = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        if not text.strip() or not ids["input_ids"] or not words:
            assert i not in items
            continue
        it = items[i]
        assert it.words == words and it.input_ids == ids["input_ids"]
        word_ids = _reference_word_ids([tuple(o) for o in ids["offset_mapping"]], words, len(text))
        assert it.word_ids.tolist() == word_ids
        expected = _reference_ranges(word_ids, len(words))
        assert [tuple(r) for r in it.ranges.tolist()] == expected
        assert [tuple(r) for r in word_subword_ranges(word_ids, len(words)).tolist()] == expected


def test_featurize_silences_only_the_too_long_warning():
    import logging

    from model.backbone import load_tokenizer
    from model.features import featurize as _featurize

    tokenizer = load_tokenizer(tiny_backbone())
    tokenizer.model_max_length = 8
    long_text = "قصفت طائرات التحالف مدينة الرقة أمس وقتل خمسة مدنيين في الغارة"
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("transformers")
    logger.addHandler(handler)
    try:
        assert _featurize(tokenizer, [long_text])
        assert not [r for r in records if "sequence length is longer" in r.getMessage()]
        tokenizer(long_text, add_special_tokens=False)  # the tokenizer's own calls still warn
        assert [r for r in records if "sequence length is longer" in r.getMessage()]
    finally:
        logger.removeHandler(handler)


def test_tiny_backbone_is_the_same_on_every_build(tmp_path):
    """The tokenizers WordPiece trainer broke ties in hash order: two builds differed."""
    from model.backbone import build_tiny_backbone

    texts = [d["data"]["text"] for d in json.loads(SAMPLE.read_text(encoding="utf-8"))]
    first = build_tiny_backbone(texts, tmp_path / "a", vocab_size=800)
    second = build_tiny_backbone(texts, tmp_path / "b", vocab_size=800)
    for name in ("tokenizer.json", "model.safetensors"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    vocab = json.loads((first / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    assert len(vocab) == 800 and "[UNK]" in vocab
