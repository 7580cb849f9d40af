"""The joint model: a BERT-style encoder, a word-level BIO tagger and a relation head.

Tagger
    One linear layer over every sub-word; only the first sub-word of a word carries a label
    (the rest are ignored in the loss), and decoding reads the first sub-words only, through
    constrained Viterbi (:mod:`model.decoding`) so that no invalid ``I-`` is ever emitted.
    With ``HeadConfig.crf`` the word scores feed a linear-chain CRF (:mod:`model.crf`): the
    loss is the gold sequence's negative log-likelihood and decoding adds its learned
    transition scores.

Relation head: SpERT-style, not PURE
    For each (STRIKE span, argument span) pair of one paragraph whose labels the schema
    allows, the pair representation is::

        [maxpool(head sub-words); width(head); maxpool(tail sub-words); width(tail);
         maxpool(sub-words between them); label(tail); signed distance bucket]

    and a small MLP scores it over ``SCHEMA.relation_classes`` (``none`` + 7 roles); roles
    the tail's label cannot take are masked to -inf before the softmax/loss.

    Why SpERT rather than PURE (Zhong & Chen 2021): PURE's strong relation model re-encodes
    the sentence once per span pair (or per group of pairs with levitated markers), i.e. a
    second encoder pass for relations. That doubles training and inference cost and cannot
    share the tagger's encoder pass -- a poor trade on the CPUs this project must run on and
    for our paragraphs, which hold few pairs that are usually close together. SpERT-style
    pooling reuses the single encoder pass, costs almost nothing on top of the tagger
    (bench/train_speed.py), and the between-context max-pool plus a distance bucket carry the
    signal PURE's markers mostly add (which mention of several is the argument).

    Max-pools over arbitrary sub-word ranges (``range_max``) split each range into its two
    partial end blocks (gathered position by position) and the whole blocks between them
    (read from per-block maxima), then take segment maxima: no ``[pairs, length, hidden]``
    tensor and no full copies of the features, even for long context ranges.

    Training uses gold spans: every allowed (STRIKE, argument) pair of the paragraph is a
    candidate, gold relations give its class and the others are ``none`` (negatives); when a
    paragraph has more than ``max_pairs`` candidates, all positives are kept and negatives
    are sampled. At inference the pairs come from the decoded spans (or given gold spans).

    Long paragraphs (an article without line breaks is one paragraph): candidate pairs are
    limited to ``HeadConfig.max_pair_distance`` words apart (above any gold paragraph's
    length, so normal paragraphs keep every pair), which makes their number linear in the
    paragraph's length instead of quadratic; at inference they are scored in blocks of
    about ``PAIR_BLOCK`` pairs (``pair_blocks``), and ``range_max`` gathers at most
    ``SEGMENT_MAX_ROWS`` feature rows at a time -- peak memory no longer grows with pairs x
    distance (tests/test_memory.py: 20,000 words in one paragraph stay far under 1 GB).

Optional relation features and decoding (``HeadConfig``, all off by default):
``rel_window`` > 0 adds to each span's representation the max-pools of the ``rel_window``
words before and after it (the casualty noun or verb next to a COUNT -- قتيلا / جريحا /
وإصابة -- lies outside both spans and outside the text between them);
``single_head_labels`` lets an argument of those labels keep only its most probable STRIKE
at decoding (95-98 % of gold arguments belong to one strike; :func:`single_head_keep`,
applied by ``model.inference`` once all pair blocks of a batch are scored);
``rel_role_weights`` weighs rare roles up in the relation loss.

Optional tricks for small/weak backbones (``HeadConfig``): ``concat_embeddings`` appends the
encoder's input word embeddings (e.g. pretrained skip-gram vectors under random transformer
layers) to its output; ``lstm_hidden`` > 0 adds a BiLSTM over the sub-words.

Persistence: ``save_pretrained(dir)`` writes ``config.json`` (encoder config, head config,
``SCHEMA.to_dict()``), ``model.safetensors`` and the tokenizer files; ``from_pretrained``
loads a local directory or a hub repo (via ``huggingface_hub.snapshot_download``), weights
from safetensors only.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from annotation.schema import SCHEMA, Schema

from .bilstm import run_bilstm
from .config import MODEL_CONFIG_NAME as CONFIG_NAME
from .config import HeadConfig
from .crf import TagTransitions, word_positions
from .cues import cue_class_count
from .decoding import transition_constraints
from .encoding import WindowBatch, encode_windows, make_window_batch
from .features import IGNORE_INDEX, word_subword_ranges
from .preprocess import preprocess_spec, spec_preprocessor

WEIGHTS_NAME = "model.safetensors"
MODEL_TYPE = "ghara-joint"
#: signed word-distance buckets: 0..9 tail before head, 10..19 tail after head
NUM_DISTANCE_BUCKETS = 20
#: sentence ends between a pair's spans: 0, 1, 2, 3 or more (``HeadConfig.rel_sentence``)
SENTENCE_GAP_BUCKETS = 4
#: the marks that end a sentence, for ``HeadConfig.rel_sentence``
SENTENCE_END_MARKS = (".", "!", "?", "؟", "؛")


def sentence_end_ids(tokenizer: Any) -> set[int]:
    """The tokenizer's ids of :data:`SENTENCE_END_MARKS` (those it has as sub-words)."""
    vocab = tokenizer.get_vocab()
    return {vocab[mark] for mark in SENTENCE_END_MARKS if mark in vocab}


#: ``JointModel(preprocess=...)`` default: the backbone's own preprocessing, if it has one
AUTO_PREPROCESS = "auto"


def distance_bucket(head: tuple[int, int], tail: tuple[int, int]) -> int:
    """Signed log-bucket of the word gap between two spans (``[start, end)`` in words)."""
    if tail[0] >= head[1]:
        gap, after = tail[0] - head[1], True
    else:
        gap, after = max(head[0] - tail[1], 0), False
    if gap < 5:
        bucket = gap
    else:
        bucket = min(9, 5 + (gap.bit_length() - 3))  # 5-7 -> 5, 8-15 -> 6, ... 64+ -> 9
    return 10 + bucket if after else 9 - bucket


@dataclass
class RelationInputs:
    """Flat tensors describing candidate spans and pairs of a batch (see ``build_pairs``)."""

    span_batch: torch.Tensor  # [S] paragraph row
    span_start: torch.Tensor  # [S] first sub-word
    span_end: torch.Tensor  # [S] last sub-word + 1
    span_width: torch.Tensor  # [S] width bucket (words)
    span_label: torch.Tensor  # [S] index into schema.entity_labels
    pair_head: torch.Tensor  # [P] index into spans
    pair_tail: torch.Tensor  # [P]
    ctx_start: torch.Tensor  # [P] sub-words strictly between the two spans
    ctx_end: torch.Tensor  # [P]
    distance: torch.Tensor  # [P] bucket id
    targets: torch.Tensor | None  # [P] class id, or None at inference
    #: (paragraph row, head span position, tail span position) per pair, for the caller
    pair_keys: list[tuple[int, int, int]]
    #: [S] sub-word ranges of the ``window`` words before / after each span (``window`` > 0):
    #: ``before_start``..``span_start`` and ``span_end``..``after_end``; None when off
    before_start: torch.Tensor | None = None
    after_end: torch.Tensor | None = None

    @property
    def num_pairs(self) -> int:
        return len(self.pair_keys)

    def to(self, device: torch.device | str) -> "RelationInputs":
        moved = {
            f.name: (v.to(device) if isinstance(v := getattr(self, f.name), torch.Tensor) else v)
            for f in fields(self)
        }
        return RelationInputs(**moved)


def distance_buckets(
    head_start: np.ndarray, head_end: np.ndarray, tail_start: np.ndarray, tail_end: np.ndarray
) -> np.ndarray:
    """:func:`distance_bucket` for arrays of word ranges."""
    after = tail_start >= head_end
    gap = np.where(after, tail_start - head_end, np.maximum(head_start - tail_end, 0))
    bit_length = np.frexp(np.maximum(gap, 1).astype(np.float64))[1]
    bucket = np.where(gap < 5, gap, np.minimum(9, 5 + (bit_length - 3)))
    return np.where(after, 10 + bucket, 9 - bucket).astype(np.int64)


def build_pairs(
    span_lists: Sequence[Sequence[Sequence[int]]],
    word_ranges: Sequence[Sequence[tuple[int, int]]],
    schema: Schema,
    max_width: int,
    relation_lists: Sequence[Sequence[Sequence[int]]] | None = None,
    max_pairs: int | None = None,
    rng: random.Random | None = None,
    max_distance: int | None = None,
    window: int = 0,
) -> RelationInputs:
    """All candidate pairs of a batch as one :class:`RelationInputs` (see ``pair_blocks``)."""
    return next(
        pair_blocks(
            span_lists, word_ranges, schema, max_width, relation_lists, max_pairs, rng,
            max_distance, block_pairs=None, window=window,
        )
    )


#: candidate pairs per block at inference (``pair_blocks``): bounds the relation head's memory
PAIR_BLOCK = 4096


def pair_blocks(
    span_lists: Sequence[Sequence[Sequence[int]]],
    word_ranges: Sequence[Sequence[tuple[int, int]]],
    schema: Schema,
    max_width: int,
    relation_lists: Sequence[Sequence[Sequence[int]]] | None = None,
    max_pairs: int | None = None,
    rng: random.Random | None = None,
    max_distance: int | None = None,
    block_pairs: int | None = PAIR_BLOCK,
    window: int = 0,
) -> Iterator[RelationInputs]:
    """Candidate (trigger, argument) pairs for a batch of paragraphs.

    ``span_lists[b]``: ``[word_start, word_end, label_index]`` per span of paragraph ``b``;
    ``word_ranges[b]``: sub-word range per word (``features.word_subword_ranges``, a list or an
    ``[n_words, 2]`` array); ``relation_lists[b]``: gold ``[head_index, tail_index,
    class_id]`` (training) -- pairs not listed get class 0 (``none``). Spans without
    sub-words are left out. Pairs come paragraph by paragraph, heads in span order, each
    head's tails in span order. Vectorised over the batch with numpy.

    ``max_distance``: leave out pairs more than that many words apart (``distance_bucket``'s
    gap; ``HeadConfig.max_pair_distance``), found by binary search so that the work stays
    linear in the number of spans. ``block_pairs``: yield the pairs in blocks of consecutive
    heads with at most about that many candidates each (a head's candidates are never
    split), so that memory stays bounded however many spans a paragraph has; ``None``: one
    block. Every block's span tensors hold all spans of the batch. At least one block is
    yielded (possibly without pairs).

    ``window`` > 0 (``HeadConfig.rel_window``) also gives each span the sub-word ranges of
    up to ``window`` words before and after it within its paragraph (``before_start`` ..
    ``span_start``, ``span_end`` .. ``after_end``; words without sub-words are skipped, and
    an empty side is the span's own edge).
    """
    labels = schema.entity_labels
    trigger = labels.index(schema.trigger_label)
    arg_labels = np.array(sorted({labels.index(lab) for lab in schema.argument_labels}))
    n_par = len(span_lists)

    def ints(values) -> np.ndarray:
        return np.asarray(values, dtype=np.int64)

    # all words of the batch in one array; spans in global word coordinates
    ranges = [ints(r).reshape(-1, 2) for r in word_ranges[:n_par]]
    word_offset = np.zeros(n_par + 1, dtype=np.int64)
    np.cumsum([len(r) for r in ranges], out=word_offset[1:])
    all_ranges = np.concatenate(ranges) if ranges else np.zeros((0, 2), dtype=np.int64)
    n_spans = np.array([len(s) for s in span_lists], dtype=np.int64)
    span_par = np.repeat(np.arange(n_par), n_spans)
    span_local = np.arange(len(span_par)) - np.repeat(np.cumsum(n_spans) - n_spans, n_spans)
    spans = ints([row[:3] for s in span_lists for row in s]).reshape(-1, 3)
    word_start, word_end, span_label = spans[:, 0], spans[:, 1], spans[:, 2]
    g_start, g_end = word_start + word_offset[span_par], word_end + word_offset[span_par]
    # first and last word with sub-words inside each span
    with_sub = np.flatnonzero(all_ranges[:, 0] >= 0)
    first = np.searchsorted(with_sub, g_start)
    last = np.searchsorted(with_sub, g_end) - 1
    first_word = with_sub[np.minimum(first, len(with_sub) - 1)] if len(with_sub) else first
    keep = (first < len(with_sub)) & (first_word < g_end) & (first <= last)
    kept = np.flatnonzero(keep)
    s_batch = span_par[kept]
    s_start = all_ranges[first_word[kept], 0] if len(kept) else kept
    s_end = all_ranges[with_sub[last[kept]], 1] if len(kept) else kept
    s_width = np.minimum(word_end[kept] - word_start[kept], max_width)
    s_label = span_label[kept]
    s_local = span_local[kept]
    b_start = a_end = None
    if window > 0 and len(kept):
        ks, ke = g_start[kept], g_end[kept]
        # before: from the first word with sub-words among the `window` words before the span
        idx = np.searchsorted(with_sub, np.maximum(ks - window, word_offset[s_batch]))
        word = with_sub[np.minimum(idx, len(with_sub) - 1)]
        b_start = np.where((idx < len(with_sub)) & (word < ks), all_ranges[word, 0], s_start)
        # after: up to the last word with sub-words among the `window` words after the span
        idx = np.searchsorted(with_sub, np.minimum(ke + window, word_offset[s_batch + 1])) - 1
        word = with_sub[np.maximum(idx, 0)]
        a_end = np.where((idx >= 0) & (word >= ke), all_ranges[word, 1], s_end)
    elif window > 0:
        b_start, a_end = s_start, s_end

    # every (head, tail) of one paragraph at most ``max_distance`` words apart, in span order
    heads = np.flatnonzero(s_label == trigger)
    tails = np.flatnonzero(np.isin(s_label, arg_labels))
    k_start, k_end = word_start[kept], word_end[kept]
    ordered, first, count = _candidates(
        s_batch, k_start, k_end, heads, tails, max_distance, n_par
    )
    if block_pairs is None or len(heads) == 0:
        cuts = [0, len(heads)]
    else:
        block_of = (np.cumsum(count) - count) // max(block_pairs, 1)
        cuts = np.flatnonzero(np.diff(block_of)) + 1
        cuts = [0, *cuts.tolist(), len(heads)]
    for lo, hi in zip(cuts, cuts[1:]):
        p_head, p_tail = _pairs(
            heads[lo:hi], ordered, first[lo:hi], count[lo:hi], k_start, k_end, max_distance
        )
        yield _relation_inputs(
            p_head, p_tail, n_par, s_batch, s_start, s_end, s_width, s_label, s_local,
            k_start, k_end, relation_lists, max_pairs, rng, b_start, a_end,
        )


def _relation_inputs(
    p_head: np.ndarray,
    p_tail: np.ndarray,
    n_par: int,
    s_batch: np.ndarray,
    s_start: np.ndarray,
    s_end: np.ndarray,
    s_width: np.ndarray,
    s_label: np.ndarray,
    s_local: np.ndarray,
    k_start: np.ndarray,
    k_end: np.ndarray,
    relation_lists: Sequence[Sequence[Sequence[int]]] | None,
    max_pairs: int | None,
    rng: random.Random | None,
    b_start: np.ndarray | None = None,
    a_end: np.ndarray | None = None,
) -> RelationInputs:
    """Gold classes, negative sampling and the tensors for the pairs ``(p_head, p_tail)``
    (``b_start``/``a_end``: the spans' word windows, ``pair_blocks``' ``window``)."""
    p_batch = s_batch[p_head]

    targets = None
    if relation_lists is not None or max_pairs is not None:
        pairs_per_par = np.bincount(p_batch, minlength=n_par)
        keep_pair = np.ones(len(p_head), dtype=bool)
        targets = np.zeros(len(p_head), dtype=np.int64)
        pair_first = np.cumsum(pairs_per_par) - pairs_per_par
        for b in range(n_par):
            lo, hi = int(pair_first[b]), int(pair_first[b] + pairs_per_par[b])
            gold = {}
            if relation_lists is not None:
                gold = {(h, t): c for h, t, c in relation_lists[b]}
            pairs = list(zip(s_local[p_head[lo:hi]].tolist(), s_local[p_tail[lo:hi]].tolist()))
            if gold:
                targets[lo:hi] = [gold.get(p, 0) for p in pairs]
            if max_pairs is not None and len(pairs) > max_pairs:
                positives = [p for p in pairs if gold.get(p, 0) != 0]
                negatives = [p for p in pairs if gold.get(p, 0) == 0]
                room = max(max_pairs - len(positives), 0)
                chosen = set(
                    positives + (rng or random).sample(negatives, min(room, len(negatives)))
                )
                keep_pair[lo:hi] = [p in chosen for p in pairs]
        p_head, p_tail, p_batch = p_head[keep_pair], p_tail[keep_pair], p_batch[keep_pair]
        targets = targets[keep_pair]

    h_start, h_end = s_start[p_head], s_end[p_head]
    t_start, t_end = s_start[p_tail], s_end[p_tail]
    # sub-words strictly between the two spans (empty when adjacent)
    c_start = np.minimum(h_end, t_end)
    c_end = np.maximum(h_start, t_start)
    dist = distance_buckets(k_start[p_head], k_end[p_head], k_start[p_tail], k_end[p_tail])
    keys = list(zip(p_batch.tolist(), s_local[p_head].tolist(), s_local[p_tail].tolist()))

    def long(values: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(values, dtype=np.int64))

    return RelationInputs(
        span_batch=long(s_batch),
        span_start=long(s_start),
        span_end=long(s_end),
        span_width=long(s_width),
        span_label=long(s_label),
        pair_head=long(p_head),
        pair_tail=long(p_tail),
        ctx_start=long(c_start),
        ctx_end=long(c_end),
        distance=long(dist),
        targets=long(targets) if relation_lists is not None else None,
        pair_keys=keys,
        before_start=long(b_start) if b_start is not None else None,
        after_end=long(a_end) if a_end is not None else None,
    )


def single_head_keep(
    tails: np.ndarray,
    tail_labels: np.ndarray,
    best_p: np.ndarray,
    best_c: np.ndarray,
    label_ids: Sequence[int],
) -> np.ndarray:
    """Which predicted pairs survive ``HeadConfig.single_head_labels``.

    Per pair: its tail span (a ``RelationInputs.pair_tail`` value: span indices are shared
    by all pair blocks of a batch, so pairs of several blocks may be passed together), that
    tail's label id, and the best class and its probability. A pair whose tail has one of
    ``label_ids`` is kept only if no other non-``none`` pair of that tail scores higher
    (ties: the earlier pair); every other non-``none`` pair is kept as predicted."""
    tails, best_p, best_c = np.asarray(tails), np.asarray(best_p), np.asarray(best_c)
    keep = best_c != 0
    single = keep & np.isin(np.asarray(tail_labels), np.asarray(label_ids, dtype=np.int64))
    idx = np.flatnonzero(single)
    if len(idx):
        order = idx[np.lexsort((idx, -best_p[idx], tails[idx]))]
        first = np.ones(len(order), dtype=bool)
        first[1:] = tails[order[1:]] != tails[order[:-1]]
        keep[order[~first]] = False
    return keep


def _candidates(
    par: np.ndarray,
    w_start: np.ndarray,
    w_end: np.ndarray,
    heads: np.ndarray,
    tails: np.ndarray,
    max_distance: int | None,
    n_par: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ordered tails, first, count)``: head ``i``'s candidate tails are
    ``ordered[first[i] : first[i] + count[i]]`` (a superset of its pairs; see ``_pairs``)."""
    if not len(heads) or not len(tails):
        return tails, np.zeros(len(heads), dtype=np.int64), np.zeros(len(heads), dtype=np.int64)
    if max_distance is None:  # every tail of the paragraph
        tails_per_par = np.bincount(par[tails], minlength=n_par)
        first = (np.cumsum(tails_per_par) - tails_per_par)[par[heads]]
        return tails, first, tails_per_par[par[heads]]
    # tails sorted by (paragraph, first word); a head's candidates are one slice of them:
    # those starting in [head start - max_distance - widest tail, head end + max_distance]
    ordered = tails[np.lexsort((w_start[tails], par[tails]))]
    widest = int((w_end[tails] - w_start[tails]).max())
    stride = int(max(w_end.max(), 0)) + 2 * max_distance + widest + 2
    key = par[ordered] * stride + w_start[ordered]
    base = par[heads] * stride
    low = np.maximum(w_start[heads] - max_distance - widest, 0)
    first = np.searchsorted(key, base + low, side="left")
    count = np.searchsorted(key, base + w_end[heads] + max_distance, side="right") - first
    return ordered, first, count


def _pairs(
    heads: np.ndarray,
    ordered: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
    w_start: np.ndarray,
    w_end: np.ndarray,
    max_distance: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(head, tail)`` span indices from ``_candidates``: distinct, at most
    ``max_distance`` words apart, ordered by head then tail (span order)."""
    p_head = np.repeat(heads, count)
    within = np.arange(len(p_head)) - np.repeat(np.cumsum(count) - count, count)
    p_tail = ordered[np.repeat(first, count) + within]
    keep = p_head != p_tail
    if max_distance is not None:
        hs, he, ts, te = w_start[p_head], w_end[p_head], w_start[p_tail], w_end[p_tail]
        gap = np.where(ts >= he, ts - he, np.maximum(hs - te, 0))
        keep &= gap <= max_distance
    p_head, p_tail = p_head[keep], p_tail[keep]
    if max_distance is not None:
        order = np.lexsort((p_tail, p_head))
        p_head, p_tail = p_head[order], p_tail[order]
    return p_head, p_tail


def range_max(
    x: torch.Tensor, rows: torch.Tensor, start: torch.Tensor, end: torch.Tensor
) -> torch.Tensor:
    """Max over ``x[rows[i], start[i]:end[i]]`` for every query ``i`` (zeros if empty).

    ``x``: ``[B, N, H]``. Positions are cut into blocks of ``RANGE_MAX_BLOCK``; a query is
    the max of its partial first and last blocks (gathered position by position, at most
    ``2 * RANGE_MAX_BLOCK`` rows) and of the whole blocks between them (gathered from the
    ``[B, N / RANGE_MAX_BLOCK, H]`` block maxima). Both are segment maxima over a flat
    gather (``scatter_reduce(amax)``), so work and memory stay near ``queries * (2 *
    block + N / block) * H`` -- no full copies of the features, long context ranges
    included.
    """
    if rows.numel() == 0:
        return x.new_zeros((0, x.size(-1)))
    batch, n, hidden = x.shape
    size = RANGE_MAX_BLOCK
    n_blocks = -(-n // size)
    length = (end - start).clamp(min=0)
    nonempty = length > 0
    first_block = start // size
    last_block = (start + length - 1).clamp(min=0) // size
    # the partial ends: [start, end of its first block) and [start of its last block, end)
    head_end = torch.minimum(start + length, (first_block + 1) * size)
    head_len = torch.where(nonempty, head_end - start, 0)
    tail_start = torch.maximum(last_block * size, head_end)
    tail_len = torch.where(nonempty, start + length - tail_start, 0).clamp(min=0)
    flat = x.reshape(batch * n, hidden)
    base = rows * n
    out = _segment_max(
        flat,
        x.new_zeros((rows.numel(), hidden)),
        torch.cat([base + start, base + tail_start]),
        torch.cat([head_len, tail_len]),
        rows.numel(),
    )
    middle_len = torch.where(nonempty, last_block - first_block - 1, 0).clamp(min=0)
    if int(middle_len.max()) == 0:
        return out
    padded = F.pad(x, (0, 0, 0, n_blocks * size - n)) if n_blocks * size != n else x
    block_max = padded.reshape(batch, n_blocks, size, hidden).amax(dim=2)
    middle = _segment_max(
        block_max.reshape(batch * n_blocks, hidden),
        x.new_full((rows.numel(), hidden), float("-inf")),
        rows * n_blocks + first_block + 1,
        middle_len,
        rows.numel(),
    )
    return torch.maximum(out, middle)


#: block length (sub-words) of ``range_max``
RANGE_MAX_BLOCK = 16


def _segment_max(
    flat: torch.Tensor, out: torch.Tensor, first: torch.Tensor, length: torch.Tensor, n_out: int
) -> torch.Tensor:
    """Row ``r`` of the result: the max of ``flat[first[i] : first[i] + length[i]]`` over
    the segments ``i`` with ``i % n_out == r`` and ``length[i] > 0``; ``out[r]`` for a row
    without any."""
    total = int(length.sum())
    if total == 0:
        return out
    if total > SEGMENT_MAX_ROWS:  # gather at most SEGMENT_MAX_ROWS rows at a time
        return _segment_max_blocked(flat, out, first, length, n_out)
    device = flat.device
    segment = torch.repeat_interleave(torch.arange(length.numel(), device=device), length)
    offset = torch.cumsum(length, 0) - length
    position = first[segment] + torch.arange(total, device=device) - offset[segment]
    values = flat.index_select(0, position)
    index = (segment % n_out).unsqueeze(1).expand(-1, flat.size(1))
    return out.scatter_reduce(0, index, values, reduce="amax", include_self=False)


#: most feature rows ``_segment_max`` gathers at once (a long context range of a long
#: paragraph would otherwise copy ``pairs x range length`` rows)
SEGMENT_MAX_ROWS = 1 << 16


def _segment_max_blocked(
    flat: torch.Tensor, out: torch.Tensor, first: torch.Tensor, length: torch.Tensor, n_out: int
) -> torch.Tensor:
    """``_segment_max`` over groups of whole segments of about ``SEGMENT_MAX_ROWS`` rows
    each: the same maxima (max is exact in any order), bounded memory."""
    device = flat.device
    acc = torch.full_like(out, float("-inf"))
    ends = torch.cumsum(length, 0)
    group = torch.div(ends - length, SEGMENT_MAX_ROWS, rounding_mode="floor")
    cuts = [0, *(torch.nonzero(torch.diff(group)).flatten() + 1).tolist(), length.numel()]
    for lo, hi in zip(cuts, cuts[1:]):
        part_len = length[lo:hi]
        total = int(part_len.sum())
        if total == 0:
            continue
        local = torch.repeat_interleave(torch.arange(hi - lo, device=device), part_len)
        offset = torch.cumsum(part_len, 0) - part_len
        position = first[lo:hi][local] + torch.arange(total, device=device) - offset[local]
        values = flat.index_select(0, position)
        index = ((local + lo) % n_out).unsqueeze(1).expand(-1, flat.size(1))
        acc = acc.scatter_reduce(0, index, values, reduce="amax", include_self=True)
    touched = torch.zeros(n_out, dtype=torch.bool, device=device)
    touched[torch.nonzero(length > 0).flatten() % n_out] = True
    return torch.where(touched.unsqueeze(1), acc, out)


class JointModel(nn.Module):
    """Encoder + word-level BIO tagger + SpERT-style relation head (see module docstring)."""

    def __init__(
        self,
        encoder: nn.Module,
        tokenizer: Any,
        heads: HeadConfig | None = None,
        schema: Schema = SCHEMA,
        preprocess: str | None = AUTO_PREPROCESS,
    ) -> None:
        """``preprocess``: the text preprocessing the backbone expects (``model.preprocess``:
        ``"arabert:<model>"`` or ``None`` for raw text), saved in config.json so that training
        and inference always feed the same sub-words. ``AUTO_PREPROCESS`` (the default, when a
        model is built from a backbone for training): found from the encoder's
        ``name_or_path``."""
        super().__init__()
        self.encoder = encoder
        self.tokenizer = tokenizer
        if preprocess == AUTO_PREPROCESS:
            preprocess = preprocess_spec(getattr(encoder.config, "name_or_path", None))
        self.preprocess = preprocess
        #: per-word function for ``model.features.featurize`` (``None``: raw text)
        self.word_preprocessor = spec_preprocessor(preprocess)
        self.heads = heads = heads or HeadConfig()
        self.schema = schema
        max_positions = getattr(encoder.config, "max_position_embeddings", None)
        if max_positions and heads.max_length > max_positions:
            raise ValueError(
                f"max_length {heads.max_length} exceeds the encoder's {max_positions} positions"
            )
        unknown = set(heads.single_head_labels) - set(schema.argument_labels)
        if unknown:
            raise ValueError(
                f"single_head_labels: {sorted(unknown)} are not argument labels of the schema "
                f"({sorted(schema.argument_labels)})"
            )
        bad_roles = set(heads.rel_role_weights) - set(schema.relation_classes[1:])
        if bad_roles:
            raise ValueError(
                f"rel_role_weights: {sorted(bad_roles)} are not relation roles of the schema "
                f"({list(schema.relation_classes[1:])})"
            )
        if heads.rel_window < 0:
            raise ValueError(f"rel_window must be >= 0 (0 = off), got {heads.rel_window}")
        if heads.cue_dim < 0:
            raise ValueError(f"cue_dim must be >= 0 (0 = off), got {heads.cue_dim}")
        if heads.place_cues and heads.cue_dim == 0:
            raise ValueError("place_cues needs cue_dim > 0 (they share the cue embedding)")
        hidden = encoder.config.hidden_size
        feat = hidden
        if heads.concat_embeddings:
            feat += encoder.get_input_embeddings().embedding_dim
        self.cue_embedding = None
        if heads.cue_dim > 0:
            self.cue_embedding = nn.Embedding(cue_class_count(heads.place_cues), heads.cue_dim)
            feat += heads.cue_dim
        self.lstm = None
        if heads.lstm_hidden > 0:
            self.lstm = nn.LSTM(feat, heads.lstm_hidden, num_layers=heads.lstm_layers,
                                batch_first=True, bidirectional=True)
            feat = 2 * heads.lstm_hidden
        self.feature_dim = feat
        self.dropout = nn.Dropout(heads.dropout)
        n_tags, n_labels = len(schema.bio_tags), len(schema.entity_labels)
        n_classes = len(schema.relation_classes)
        self.tagger = nn.Linear(feat, n_tags)
        self.crf = TagTransitions(n_tags) if heads.crf else None
        self.width_embedding = nn.Embedding(heads.max_width + 1, heads.width_dim)
        self.label_embedding = nn.Embedding(n_labels, heads.label_dim)
        self.distance_embedding = nn.Embedding(NUM_DISTANCE_BUCKETS, heads.distance_dim)
        rel_in = 3 * feat + 2 * heads.width_dim + heads.label_dim + heads.distance_dim
        if heads.rel_window > 0:  # words before and after head and tail
            rel_in += 4 * feat
        self.sentence_gap_embedding = None
        if heads.rel_sentence:  # the strike's sentence and the sentence ends between
            self.sentence_gap_embedding = nn.Embedding(SENTENCE_GAP_BUCKETS, heads.distance_dim)
            rel_in += feat + heads.distance_dim
        end_ids = sorted(sentence_end_ids(tokenizer)) if heads.rel_sentence else []
        self.register_buffer("sentence_end_ids", torch.tensor(end_ids, dtype=torch.long),
                             persistent=False)
        if heads.rel_hidden > 0:
            self.relation = nn.Sequential(
                nn.Linear(rel_in, heads.rel_hidden),
                nn.GELU(),
                nn.Dropout(heads.dropout),
                nn.Linear(heads.rel_hidden, n_classes),
            )
        else:
            self.relation = nn.Linear(rel_in, n_classes)
        # which classes each tail label allows (none always); derived from the schema
        allowed = torch.zeros((n_labels, n_classes), dtype=torch.bool)
        allowed[:, 0] = True
        for li, label in enumerate(schema.entity_labels):
            for ci, role in enumerate(schema.relation_classes[1:], start=1):
                allowed[li, ci] = schema.allows(schema.trigger_label, role, label)
        self.register_buffer("allowed_classes", allowed, persistent=False)
        weights = None  # relation loss weight per class (rel_role_weights; None: all 1)
        if heads.rel_role_weights:
            weights = torch.tensor(
                [float(heads.rel_role_weights.get(c, 1.0)) for c in schema.relation_classes]
            )
        self.register_buffer("rel_class_weights", weights, persistent=False)
        trans, start = transition_constraints(schema)
        self.register_buffer("allowed_transitions", trans, persistent=False)
        self.register_buffer("allowed_start", start, persistent=False)

    # -- pieces ----------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def head_parameters(self) -> list[nn.Parameter]:
        return [p for n, p in self.named_parameters() if not n.startswith("encoder.")]

    def examples(self, documents: Iterable[Any]) -> list[dict[str, Any]]:
        """Training/evaluation examples of ``documents`` for this model (its tokenizer,
        schema and preprocessing: ``model.features.build_examples``)."""
        from .features import build_examples

        return build_examples(documents, self.tokenizer, self.schema, self.word_preprocessor,
                              cues=self.cue_embedding is not None,
                              place_cues=self.heads.place_cues)

    def window_batch(self, sequences: Sequence[Sequence[int]]) -> WindowBatch:
        tok = self.tokenizer
        return make_window_batch(
            sequences,
            self.heads.max_length,
            self.heads.stride,
            tok.cls_token_id,
            tok.sep_token_id,
            tok.pad_token_id,
        )

    def cue_batch(self, cue_lists: Sequence[Sequence[int]], width: int) -> torch.Tensor | None:
        """The sub-words' casualty cue classes (``Featurized.cues`` / example ``"cues"``)
        as a ``[B, width]`` tensor for :meth:`features`; None when the model has no cues."""
        if self.cue_embedding is None:
            return None
        if any(row is None for row in cue_lists):
            raise ValueError("this model reads casualty cues: featurize them (cues=True)")
        cues = torch.zeros((len(cue_lists), width), dtype=torch.long)
        for b, row in enumerate(cue_lists):
            if len(row):
                cues[b, : len(row)] = torch.as_tensor(np.asarray(row, dtype=np.int64))
        return cues

    def features(self, windows: WindowBatch, cues: torch.Tensor | None = None) -> torch.Tensor:
        """Sub-word features ``[B, N, feature_dim]`` from one encoder pass over the windows.

        ``cues``: :meth:`cue_batch` of the same sequences, required when ``cue_dim`` > 0."""
        hidden = encode_windows(self.encoder, windows)
        if self.heads.concat_embeddings:
            emb = self.encoder.get_input_embeddings()(windows.token_ids)
            hidden = torch.cat([hidden, emb.to(hidden.dtype)], dim=-1)
        if self.cue_embedding is not None:
            if cues is None:
                raise ValueError("this model reads casualty cues (cue_dim > 0): pass cues")
            cue = self.cue_embedding(cues.to(hidden.device)[:, : hidden.size(1)])
            hidden = torch.cat([hidden, cue.to(hidden.dtype)], dim=-1)
        if self.lstm is not None:
            lengths = torch.tensor([max(n, 1) for n in windows.lengths])
            hidden = run_bilstm(self.lstm, hidden, lengths)
        return hidden

    def sentence_index(self, windows: WindowBatch) -> torch.Tensor | None:
        """``[B, N]`` sentence number of every sub-word (a sentence-ending mark belongs to
        the sentence it ends; padding gets ``N``, past every sentence) for
        :meth:`relation_logits`; None when ``rel_sentence`` is off."""
        if not self.heads.rel_sentence:
            return None
        token_ids = windows.token_ids
        is_end = torch.isin(token_ids, self.sentence_end_ids.to(token_ids.device)).long()
        index = torch.cumsum(is_end, dim=1) - is_end
        positions = torch.arange(token_ids.size(1), device=token_ids.device)
        lengths = torch.tensor(windows.lengths, device=token_ids.device)
        padding = positions.unsqueeze(0) >= lengths.unsqueeze(1)
        return index.masked_fill(padding, token_ids.size(1))

    def tag_logits(self, features: torch.Tensor) -> torch.Tensor:
        return self.tagger(self.dropout(features))

    def span_representations(self, features: torch.Tensor, rel: RelationInputs) -> torch.Tensor:
        """``[S, feature_dim + width_dim]``: max-pooled sub-words and width of every span
        (with ``rel_window`` > 0 also the max-pools of the words before and after it:
        ``[S, 3 * feature_dim + width_dim]``).

        Computed once per batch when the pairs come in several blocks (``pair_blocks``) and
        passed to :meth:`relation_logits`; ``features`` must already be dropped out."""
        spans = range_max(features, rel.span_batch, rel.span_start, rel.span_end)
        widths = self.width_embedding(rel.span_width)
        parts = [spans, widths.to(spans.dtype)]
        if self.heads.rel_window > 0:
            if rel.before_start is None or rel.after_end is None:
                raise ValueError("rel_window > 0 needs pair_blocks(..., window=rel_window)")
            parts.append(range_max(features, rel.span_batch, rel.before_start, rel.span_start))
            parts.append(range_max(features, rel.span_batch, rel.span_end, rel.after_end))
        return torch.cat(parts, dim=-1)

    def relation_logits(
        self,
        features: torch.Tensor,
        rel: RelationInputs,
        span_repr: torch.Tensor | None = None,
        sentences: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Masked class logits ``[P, classes]`` (float32; disallowed roles at -inf).

        ``span_repr``: :meth:`span_representations` of ``rel``'s spans, if already known
        (inference over pair blocks; dropout is then not applied again). ``sentences``:
        :meth:`sentence_index` of the batch, required with ``rel_sentence``."""
        if span_repr is None:
            features = self.dropout(features)
            span_repr = self.span_representations(features, rel)
        spans = span_repr
        rows = rel.span_batch[rel.pair_head]
        context = range_max(features, rows, rel.ctx_start, rel.ctx_end)
        tail_labels = rel.span_label[rel.pair_tail]
        parts = [
            span_repr[rel.pair_head],
            span_repr[rel.pair_tail],
            context,
            self.label_embedding(tail_labels).to(spans.dtype),
            self.distance_embedding(rel.distance).to(spans.dtype),
        ]
        if self.sentence_gap_embedding is not None:
            if sentences is None:
                raise ValueError("this model reads sentences (rel_sentence): pass sentences")
            parts += self._sentence_parts(features, rel, sentences, spans.dtype)
        pair = torch.cat(parts, dim=-1)
        logits = self.relation(pair).float()
        return logits.masked_fill(~self.allowed_classes[tail_labels], float("-inf"))

    def _sentence_parts(
        self, features: torch.Tensor, rel: RelationInputs, sentences: torch.Tensor, dtype
    ) -> list[torch.Tensor]:
        """The max-pool of each pair's STRIKE sentence and the embedding of the sentence
        ends between its two spans (``rel_sentence``). Every sentence of the batch is pooled
        once (one ``scatter_reduce`` over the sub-words: memory and time stay linear in the
        batch's size, however many spans share a sentence)."""
        rows, width = sentences.shape
        # one id per (row, sentence); padding has its own id in each row, never read
        key = sentences + torch.arange(rows, device=sentences.device).unsqueeze(1) * (width + 1)
        flat = features.reshape(rows * width, -1)
        pools = flat.new_zeros(rows * (width + 1), flat.size(1)).scatter_reduce(
            0, key.reshape(-1, 1).expand(-1, flat.size(1)), flat, "amax", include_self=False
        )
        own = sentences[rel.span_batch, rel.span_start]  # [S] sentence of each span
        pooled = pools[own + rel.span_batch * (width + 1)][rel.pair_head]
        gap = (own[rel.pair_head] - own[rel.pair_tail]).abs().clamp(max=SENTENCE_GAP_BUCKETS - 1)
        return [pooled, self.sentence_gap_embedding(gap).to(dtype)]

    # -- training --------------------------------------------------------------------------
    def collate(
        self, examples: Sequence[dict[str, Any]], rng: random.Random | None = None
    ) -> dict[str, Any]:
        """Training batch from ``model.features`` example dicts (gold spans and relations)."""
        windows = self.window_batch([ex["input_ids"] for ex in examples])
        n = windows.gather_index.size(1)
        labels = torch.full((len(examples), n), IGNORE_INDEX, dtype=torch.long)
        for b, ex in enumerate(examples):
            if ex["labels"]:
                labels[b, : len(ex["labels"])] = torch.tensor(ex["labels"], dtype=torch.long)
        rel = build_pairs(
            [ex["spans"] for ex in examples],
            [word_subword_ranges(ex["word_ids"], len(ex["words"])) for ex in examples],
            self.schema,
            self.heads.max_width,
            relation_lists=[ex["relations"] for ex in examples],
            max_pairs=self.heads.max_pairs,
            rng=rng,
            max_distance=self.heads.max_pair_distance,
            window=self.heads.rel_window,
        )
        cues = None
        if self.cue_embedding is not None:
            cues = self.cue_batch([ex["cues"] for ex in examples], n)
        return {"windows": windows, "labels": labels, "relations": rel, "cues": cues}

    @staticmethod
    def batch_to(batch: dict[str, Any], device: torch.device | str) -> dict[str, Any]:
        return {k: (v.to(device) if hasattr(v, "to") else v) for k, v in batch.items()}

    def forward(
        self,
        windows: WindowBatch,
        labels: torch.Tensor,
        relations: RelationInputs,
        cues: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Losses for a training batch (``**model.collate(examples)``, moved to the device)."""
        features = self.features(windows, cues)
        logits = self.tag_logits(features)
        if self.crf is not None:
            positions, mask = word_positions(labels, IGNORE_INDEX)
            emissions = logits.gather(1, positions.unsqueeze(-1).expand(-1, -1, logits.size(-1)))
            tag_loss = self.crf.nll(emissions, labels.gather(1, positions), mask)
        else:
            tag_loss = F.cross_entropy(
                logits.float().reshape(-1, logits.size(-1)),
                labels.reshape(-1),
                ignore_index=IGNORE_INDEX,
            )
        if relations.num_pairs:
            rel_logits = self.relation_logits(
                features, relations, sentences=self.sentence_index(windows)
            )
            rel_loss = F.cross_entropy(
                rel_logits, relations.targets, weight=self.rel_class_weights
            )
        else:  # keep every parameter in the graph (DDP), contributing nothing
            rel_loss = sum(p.sum() for p in self.head_parameters()) * 0.0
        loss = tag_loss + self.heads.rel_loss_weight * rel_loss
        return {"loss": loss, "tag_loss": tag_loss.detach(), "rel_loss": rel_loss.detach()}

    # -- persistence -----------------------------------------------------------------------
    def config_dict(self) -> dict[str, Any]:
        encoder_config = self.encoder.config.to_dict()
        return {
            "model_type": MODEL_TYPE,
            "encoder": encoder_config,
            "heads": asdict(self.heads),
            "schema": self.schema.to_dict(),
            "preprocess": self.preprocess,
            "feature_dim": self.feature_dim,
            "num_tags": len(self.schema.bio_tags),
            "num_relation_classes": len(self.schema.relation_classes),
        }

    def save_pretrained(self, save_directory: str | Path) -> Path:
        """``config.json`` + ``model.safetensors`` + tokenizer files in ``save_directory``."""
        from safetensors.torch import save_file

        out = Path(save_directory)
        out.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_file(state, str(out / WEIGHTS_NAME), metadata={"format": "pt"})
        (out / CONFIG_NAME).write_text(
            json.dumps(self.config_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        self.tokenizer.save_pretrained(str(out))
        return out

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | Path, device: torch.device | str | None = None, **hub_kwargs: Any
    ) -> "JointModel":
        """Load a saved model from a local directory or a Hugging Face hub repo id."""
        from safetensors.torch import load_file

        from .backbone import encoder_from_config, load_tokenizer

        path = Path(name_or_path)
        if not path.is_dir():
            from huggingface_hub import snapshot_download

            path = Path(
                snapshot_download(
                    str(name_or_path),
                    allow_patterns=["*.json", "*.safetensors", "*.txt", "*.model"],
                    **hub_kwargs,
                )
            )
        config_file = path / CONFIG_NAME
        if not config_file.is_file():
            raise FileNotFoundError(f"{path}: no {CONFIG_NAME}")
        config = json.loads(config_file.read_text(encoding="utf-8"))
        if config.get("model_type") != MODEL_TYPE:
            raise ValueError(
                f"{config_file}: model_type {config.get('model_type')!r} is not {MODEL_TYPE!r} "
                "(is this a bare encoder? train one with train.py)"
            )
        weights = path / WEIGHTS_NAME
        if not weights.is_file():
            raise FileNotFoundError(f"{path}: no {WEIGHTS_NAME} (only safetensors is loaded)")
        encoder = encoder_from_config(config["encoder"])
        tokenizer = load_tokenizer(path)
        model = cls(
            encoder,
            tokenizer,
            HeadConfig.from_dict(config["heads"]),
            Schema.from_dict(config["schema"]),
            # a model saved before preprocessing was recorded was trained on raw text
            preprocess=config.get("preprocess"),
        )
        state = load_file(str(weights))
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(
                f"{weights}: weights do not match the model (missing {missing[:5]}, "
                f"unexpected {unexpected[:5]})"
            )
        model.eval()
        if device is not None:
            model.to(device)
        return model
