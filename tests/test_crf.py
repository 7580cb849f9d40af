"""The CRF tagger option (``HeadConfig.crf``): exact likelihood, constrained decoding with
learned scores, and a model that trains, saves and predicts with it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from annotation.schema import SCHEMA
from model.crf import TagTransitions, word_positions
from model.decoding import transition_constraints, viterbi_decode
from model.features import IGNORE_INDEX


@torch.no_grad()
def _path_score(crf: TagTransitions, em: torch.Tensor, path: tuple[int, ...]) -> float:
    score = float(crf.start[path[0]]) + float(crf.end[path[-1]])
    score += sum(float(em[i, t]) for i, t in enumerate(path))
    score += sum(float(crf.transitions[a, b]) for a, b in zip(path, path[1:]))
    return score


def _random_crf(n_tags: int, seed: int) -> TagTransitions:
    torch.manual_seed(seed)
    crf = TagTransitions(n_tags)
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_(0, 1.0)
    return crf


def test_nll_is_the_exact_negative_log_likelihood_per_word():
    crf = _random_crf(3, 0)
    emissions = torch.randn(2, 4, 3)
    tags = torch.tensor([[0, 2, 1, 1], [1, 0, 0, 0]])
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    want = 0.0
    for b, n in enumerate([4, 2]):
        scores = [_path_score(crf, emissions[b], p)
                  for p in itertools.product(range(3), repeat=n)]
        log_z = float(torch.logsumexp(torch.tensor(scores), 0))
        want += log_z - _path_score(crf, emissions[b], tuple(tags[b, :n].tolist()))
    got = crf.nll(emissions, tags, mask)
    assert got.item() == pytest.approx(want / 6, rel=1e-5)
    got.backward()  # differentiable in every parameter
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in crf.parameters())


def test_rows_without_words_count_for_nothing():
    crf = _random_crf(3, 1)
    emissions = torch.randn(2, 3, 3)
    tags = torch.tensor([[0, 1, 2], [0, 0, 0]])
    mask = torch.tensor([[True, True, True], [False, False, False]])
    alone = crf.nll(emissions[:1], tags[:1], mask[:1])
    assert crf.nll(emissions, tags, mask).item() == pytest.approx(alone.item())
    assert crf.nll(emissions[1:], tags[1:], mask[1:]).item() == 0.0


def test_word_positions_pack_the_labelled_sub_words_in_order():
    i = IGNORE_INDEX
    labels = torch.tensor([[i, 3, i, 5, 7, i], [i, i, 2, i, i, i]])
    positions, mask = word_positions(labels, i)
    assert positions[0].tolist() == [1, 3, 4] and mask[0].tolist() == [True] * 3
    assert positions[1, 0].item() == 2 and mask[1].tolist() == [True, False, False]


def test_viterbi_with_learned_scores_is_the_best_valid_path():
    allowed, start = transition_constraints(SCHEMA)
    tags = SCHEMA.bio_tags
    n = len(tags)
    crf = _random_crf(n, 2)
    scores = crf.numpy_scores()
    torch.manual_seed(3)
    logp = torch.log_softmax(torch.randn(4, 3, n) * 2, dim=-1)
    lengths = [3, 3, 2, 1]
    paths = viterbi_decode(logp, lengths, allowed, start, scores=scores)
    for b, path in enumerate(paths):
        candidates = [
            seq for seq in itertools.product(range(n), repeat=lengths[b])
            if bool(start[seq[0]]) and all(bool(allowed[x, y]) for x, y in zip(seq, seq[1:]))
        ]
        best = max(candidates, key=lambda seq: _path_score(crf, logp[b], seq))
        assert list(best) == path
    # the learned scores matter: without them some row decodes differently
    strong = (np.zeros((n, n), np.float32), np.zeros(n, np.float32), np.zeros(n, np.float32))
    strong[1][:] = -50.0
    strong[1][tags.index("O")] = 0.0
    forced = viterbi_decode(logp, lengths, allowed, start, scores=strong)
    assert all(path[0] == tags.index("O") for path in forced)


def test_a_crf_model_trains_saves_and_predicts(tmp_path):
    from _ghara_tiny import small_export, tiny_backbone
    from model.backbone import load_backbone
    from model.config import HeadConfig
    from model.inference import predict_paragraphs
    from model.network import JointModel
    from annotation.export import read_export
    from annotation.paragraphs import split_paragraphs

    encoder, tokenizer = load_backbone(tiny_backbone())
    model = JointModel(encoder, tokenizer, HeadConfig(rel_hidden=16, crf=True))
    paragraphs = [p for d in read_export(small_export()).documents for p in split_paragraphs(d)]
    examples = model.examples(paragraphs[:4])
    batch = model.collate(examples)
    before = model.crf.transitions.detach().clone()
    optim = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(3):
        loss = model(**batch)["loss"]
        optim.zero_grad()
        loss.backward()
        optim.step()
    assert torch.isfinite(loss) and not torch.equal(before, model.crf.transitions)
    model.save_pretrained(tmp_path / "m")
    loaded = JointModel.from_pretrained(tmp_path / "m")
    assert loaded.crf is not None and torch.equal(loaded.crf.transitions, model.crf.transitions)
    model.eval()
    with torch.no_grad():
        a = predict_paragraphs(model, [p.text for p in paragraphs[:4]])
        b = predict_paragraphs(loaded, [p.text for p in paragraphs[:4]])
    assert [[(s.start, s.end, s.label) for s in p.spans] for p in a] == [
        [(s.start, s.end, s.label) for s in p.spans] for p in b]
    for p in a:
        assert all(p.text[s.start:s.end] == s.text for s in p.spans)
