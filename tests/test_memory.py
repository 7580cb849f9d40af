"""Memory stays bounded on long paragraphs (issue 11, defect 1).

An article without line breaks is one paragraph. The relation head once scored every
(STRIKE, argument) pair of a paragraph at once, with the between-span max-pool gathering
``pairs x distance`` feature rows: 4,000 words took 7.5 GB, 20,000 were killed. Now pairs
are capped at ``HeadConfig.max_pair_distance`` words, scored in blocks, and every big
gather, encoder call and batch is chunked; these tests check each piece against the
unchunked computation and the whole against a real RSS budget.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from annotation.schema import SCHEMA
from model import network
from model.network import build_pairs, pair_blocks, range_max

# our own sentence: "coalition aircraft launched three strikes at dawn today on positions in
# Deir ez-Zor, killing five civilians."
SENTENCE = "شنت طائرات التحالف فجر اليوم ثلاث غارات على مواقع في دير الزور وقتل خمسة مدنيين ."


def long_paragraph(n_words: int) -> str:
    words = SENTENCE.split()
    return " ".join((words * (n_words // len(words) + 1))[:n_words])


def random_batch(seed: int, n_par: int = 3, n_words: int = 300):
    """Random non-overlapping spans (all labels) over paragraphs of one sub-word per word."""
    rng = random.Random(seed)
    n_labels = len(SCHEMA.entity_labels)
    spans, ranges = [], []
    for _ in range(n_par):
        rows, w = [], 0
        while True:
            w += rng.randint(0, 12)
            width = rng.randint(1, 4)
            if w + width > n_words:
                break
            rows.append([w, w + width, rng.randrange(n_labels)])
            w += width
        spans.append(rows)
        ranges.append([(i, i + 1) for i in range(n_words)])
    return spans, ranges


def gap(head, tail) -> int:
    if tail[0] >= head[1]:
        return tail[0] - head[1]
    return max(head[0] - tail[1], 0)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("max_distance", [0, 3, 25, 100])
def test_capped_pairs_are_the_uncapped_pairs_within_the_distance_in_order(seed, max_distance):
    spans, ranges = random_batch(seed)
    full = build_pairs(spans, ranges, SCHEMA, 16)
    capped = build_pairs(spans, ranges, SCHEMA, 16, max_distance=max_distance)
    expected = [
        i for i, (b, h, t) in enumerate(full.pair_keys)
        if gap(spans[b][h][:2], spans[b][t][:2]) <= max_distance
    ]
    assert 0 < len(expected) < full.num_pairs  # the cap matters in this batch
    assert capped.pair_keys == [full.pair_keys[i] for i in expected]
    for name in ("pair_head", "pair_tail", "ctx_start", "ctx_end", "distance"):
        assert torch.equal(getattr(capped, name), getattr(full, name)[expected]), name
    # a cap above the paragraph length changes nothing
    assert build_pairs(spans, ranges, SCHEMA, 16, max_distance=300).pair_keys == full.pair_keys


def test_pair_blocks_split_the_pairs_without_changing_them():
    spans, ranges = random_batch(7, n_par=2, n_words=2000)
    whole = build_pairs(spans, ranges, SCHEMA, 16, max_distance=50)
    blocks = list(pair_blocks(spans, ranges, SCHEMA, 16, max_distance=50, block_pairs=64))
    assert len(blocks) > 5
    assert [k for blk in blocks for k in blk.pair_keys] == whole.pair_keys
    # a block holds whole heads and stays near its budget (one head's candidates at most over)
    for blk in blocks:
        heads = {(b, h) for b, h, _ in blk.pair_keys}
        assert blk.num_pairs <= 64 + max(
            sum(1 for k in blk.pair_keys if (k[0], k[1]) == head) for head in heads
        )
        assert torch.equal(blk.span_start, whole.span_start)


def test_blocked_segment_max_equals_one_gather(monkeypatch):
    torch.manual_seed(0)
    x = torch.randn(3, 700, 8)
    rows = torch.randint(0, 3, (400,))
    a, b = torch.randint(0, 700, (400,)), torch.randint(0, 700, (400,))
    start, end = torch.minimum(a, b), torch.maximum(a, b)
    end[:20] = start[:20]  # empty ranges give zeros
    reference = range_max(x, rows, start, end)
    monkeypatch.setattr(network, "SEGMENT_MAX_ROWS", 37)
    assert torch.equal(range_max(x, rows, start, end), reference)
    assert (reference[:20] == 0).all()


def test_long_paragraph_predictions_do_not_depend_on_block_sizes(monkeypatch):
    from fixtures_model import tiny_extractor

    from model import encoding, inference

    model = tiny_extractor().model
    texts = [long_paragraph(900), SENTENCE]
    reference = inference.predict_paragraphs(model, texts)
    assert len(reference[0].relations) > 20
    monkeypatch.setattr(network, "PAIR_BLOCK", 16)
    monkeypatch.setattr(network, "SEGMENT_MAX_ROWS", 100)
    monkeypatch.setattr(encoding, "MAX_WINDOW_TOKENS", 1)  # one window per encoder call
    monkeypatch.setattr(inference, "MAX_BATCH_SUBWORDS", 10)  # one paragraph per batch
    blocked = inference.predict_paragraphs(model, texts)
    for ref, got in zip(reference, blocked):
        assert got.spans == ref.spans
        assert got.relations == ref.relations
        assert got.relation_scores == pytest.approx(ref.relation_scores, abs=1e-5)


def test_batches_shrink_only_for_long_paragraphs(monkeypatch):
    from model import inference
    from model.features import Featurized

    def item(n):
        return Featurized(0, "", [], [1] * n, np.zeros(0, dtype=np.int64), np.zeros((0, 2), dtype=np.int64))

    monkeypatch.setattr(inference, "MAX_BATCH_SUBWORDS", 1000)
    monkeypatch.setattr(inference, "BATCH_LENGTH_RATIO", 0.0)  # sizes alone
    items = [item(n) for n in (900, 400, 300, 200, 100, 100, 50, 10)]
    sizes = [len(b) for b in inference._batches(items, 3)]
    assert sizes == [1, 2, 3, 2]
    assert sum(sizes) == len(items)
    with pytest.raises(ValueError, match="batch_size"):
        inference._batches(items, 0)


def test_a_batch_ends_where_the_next_paragraph_would_be_mostly_padding():
    from model.inference import BATCH_LENGTH_RATIO, batch_bounds

    assert BATCH_LENGTH_RATIO == 0.8
    lengths = [500, 450, 400, 390, 100, 95, 90, 85, 80, 79, 3, 1]
    bounds = batch_bounds(lengths, 4)
    assert bounds == [(0, 3), (3, 4), (4, 8), (8, 10), (10, 11), (11, 12)]
    # every batch: at most 4 items, each at least 0.8 of its first (longest)
    for lo, hi in bounds:
        assert hi - lo <= 4 and all(n >= 0.8 * lengths[lo] for n in lengths[lo:hi])
    assert batch_bounds([], 4) == []


MEASURE = textwrap.dedent(
    """
    import json, os, resource, sys
    import torch
    torch.set_num_threads(1)
    from model.extractor import StrikeExtractor
    sys.path.insert(0, "tests")
    from test_memory import long_paragraph, SENTENCE

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    extractor = StrikeExtractor.from_pretrained(sys.argv[1])
    extractor.extract(SENTENCE)  # warm-up: lazy imports and first-call allocations
    text = long_paragraph(int(sys.argv[2]))
    before = rss()
    # a run-away allocation fails here instead of taking the machine down
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        virtual = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (virtual + 6 * 2**30, hard))
    events = extractor.extract(text)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    ok = all(text[s.start:s.end] == s.text for e in events for s in e.spans())
    print(json.dumps({"above_model": peak - before, "events": len(events), "offsets_ok": ok}))
    """
)


@pytest.mark.slow
def test_20000_word_paragraph_stays_under_1_gb_above_the_model():
    from fixtures_model import REPO, tiny_model_dir

    run = subprocess.run(
        [sys.executable, "-c", MEASURE, str(tiny_model_dir()), "20000"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["offsets_ok"]
    assert result["events"] > 1000  # one strike per sentence: the model really ran over it all
    assert result["above_model"] < 2**30, f"{result['above_model'] / 2**20:.0f} MiB"
