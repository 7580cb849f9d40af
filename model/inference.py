"""Paragraph texts -> spans and relations, in batches, with a :class:`JointModel`.

Paragraphs are split into words and sub-words by ``model.features.featurize`` (the same
alignment and preprocessing training used), sorted by sub-word length and batched (little
padding); each batch makes one encoder pass over all its windows (long paragraphs are
windowed, never truncated), the tagger's first-sub-word scores are decoded per word with
constrained Viterbi, spans are snapped to words (``annotation.words.split_words``) and their
edges fitted to the schema's punctuation rules (``model.span_edges``), a PLACE that is only a
generic place noun is dropped (``model.places.is_generic_place``), and the relation head scores every
allowed (STRIKE, argument) pair of the paragraph on the same encoder output.

Memory is bounded for any paragraph length: batches shrink so that ``batch x longest`` stays
under ``MAX_BATCH_SUBWORDS`` sub-words, the encoder sees at most
``encoding.MAX_WINDOW_TOKENS`` positions per call, and the relation head scores pairs in
blocks (``network.pair_blocks``). None of these limits is reached by paragraphs of normal
length, whose batches and predictions are exactly as without them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from annotation.bio import span_word_range, tags_to_word_ranges
from annotation.documents import Relation, Span

from .decoding import viterbi_decode
from . import network
from .features import Featurized, featurize
from .network import JointModel, pair_blocks, single_head_keep
from .places import PLACE_LABEL, is_generic_place
from .predictions import ParagraphPrediction
from .span_edges import fit_edges


#: most padded sub-words per batch: long paragraphs go in smaller batches, so the features of
#: a batch (``batch x longest x feature_dim``) stay bounded; far above a batch of 32
#: paragraphs of normal length, whose batches it never changes
MAX_BATCH_SUBWORDS = 1 << 16

#: a paragraph joins a batch only while it is at least this fraction of the batch's longest:
#: the encoder computes every padded position, and length-sorted batches of 32 still padded
#: the gold paragraphs by 22 % (their long tail), 3 % with this split (52-54 batches, not 46)
BATCH_LENGTH_RATIO = 0.8


def batch_bounds(lengths: Sequence[int], batch_size: int) -> list[tuple[int, int]]:
    """``(lo, hi)`` of consecutive batches of items sorted longest first (``lengths``: their
    sub-word counts): ``batch_size`` items, fewer where ``len(batch) x longest`` would
    exceed ``MAX_BATCH_SUBWORDS`` (one item at least) or where the next item is shorter
    than ``BATCH_LENGTH_RATIO`` of the batch's longest. The one batching of inference
    (``bench/infer_speed.py``'s bare forward uses it too)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    bounds, lo = [], 0
    while lo < len(lengths):
        longest = max(lengths[lo], 1)
        end = min(lo + max(1, min(batch_size, MAX_BATCH_SUBWORDS // longest)), len(lengths))
        hi = lo + 1
        while hi < end and lengths[hi] >= BATCH_LENGTH_RATIO * longest:
            hi += 1
        bounds.append((lo, hi))
        lo = hi
    return bounds


def _batches(items: list[Featurized], batch_size: int) -> list[list[Featurized]]:
    """The length-sorted items in :func:`batch_bounds`' batches."""
    return [items[lo:hi] for lo, hi in batch_bounds([len(it.input_ids) for it in items],
                                                     batch_size)]


def predict_paragraphs(
    model: JointModel,
    texts: Sequence[str],
    batch_size: int = 32,
    gold_spans: Sequence[Sequence[Span]] | None = None,
) -> list[ParagraphPrediction]:
    """Predict spans and relations for each paragraph text (see docs/CONTRACTS.md).

    With ``gold_spans`` (one list per text) the tagger is skipped and the relation head runs
    over the given spans; they are returned as the prediction's spans (score 1.0).
    """
    if gold_spans is not None and len(gold_spans) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(gold_spans)} gold span lists")
    results = [ParagraphPrediction() for _ in texts]
    if gold_spans is not None:
        for i, spans in enumerate(gold_spans):
            results[i].spans = list(spans)
            results[i].span_scores = [1.0] * len(spans)
    items = featurize(model.tokenizer, texts, model.word_preprocessor,
                      cues=model.cue_embedding is not None, place_cues=model.heads.place_cues)
    items.sort(key=lambda it: len(it.input_ids), reverse=True)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for batch in _batches(items, batch_size):
                _predict_batch(model, batch, results, gold_spans)
    finally:
        model.train(was_training)
    return results


def _predict_batch(
    model: JointModel,
    batch: list[Featurized],
    results: list[ParagraphPrediction],
    gold_spans: Sequence[Sequence[Span]] | None,
) -> None:
    schema = model.schema
    device = model.device
    label_index = {lab: i for i, lab in enumerate(schema.entity_labels)}
    windows = model.window_batch([it.input_ids for it in batch]).to(device)
    cues = model.cue_batch([it.cues for it in batch], windows.gather_index.size(1))
    features = model.features(windows, cues)
    sentences = model.sentence_index(windows)
    word_ranges = [it.ranges for it in batch]

    # spans per paragraph: (word_start, word_end, label_index) + the Span objects
    span_rows: list[list[list[int]]] = []
    span_objs: list[list[Span]] = []
    if gold_spans is None:
        logits = model.tag_logits(features).float()
        n_words = max(len(it.words) for it in batch)
        first_np = np.zeros((len(batch), n_words), dtype=np.int64)
        has_sub_np = np.zeros((len(batch), n_words), dtype=bool)
        for b, ranges in enumerate(word_ranges):
            starts = ranges[:, 0]
            has_sub_np[b, : len(starts)] = starts >= 0
            first_np[b, : len(starts)] = np.maximum(starts, 0)
        first, has_sub = torch.from_numpy(first_np), torch.from_numpy(has_sub_np)
        # log-probabilities of the first sub-word of every word (softmax is per position)
        emissions = torch.log_softmax(
            logits.gather(1, first.to(device).unsqueeze(-1).expand(-1, -1, logits.size(-1))),
            dim=-1,
        ).cpu()
        # a word without sub-words gets uniform scores: the transitions decide its tag
        emissions = emissions.masked_fill(~has_sub.unsqueeze(-1), 0.0)
        lengths = [len(it.words) for it in batch]
        paths = viterbi_decode(
            emissions.numpy(),
            lengths,
            model.allowed_transitions.cpu(),
            model.allowed_start.cpu(),
            scores=model.crf.numpy_scores() if model.crf is not None else None,
        )
        id2tag = schema.id2tag
        probs_np = emissions.exp().numpy()
        for b, (it, path) in enumerate(zip(batch, paths)):
            rows, objs, scores = [], [], []
            ranges = fit_edges(tags_to_word_ranges([id2tag[t] for t in path]), it.words, it.text)
            ranges = [
                (ws, we, label) for ws, we, label in ranges
                if label != PLACE_LABEL
                or not is_generic_place(it.text[it.words[ws][0]:it.words[we - 1][1]])
            ]
            if ranges:
                n = len(path)
                # probability of the decoded tag per word (None: a word without sub-words)
                word_prob = probs_np[b, np.arange(n), path].tolist()
                has = has_sub_np[b, :n].tolist()
            for ws, we, label in ranges:
                start, end = it.words[ws][0], it.words[we - 1][1]
                span = Span(start, end, label, it.text[start:end])
                probs = [word_prob[w] for w in range(ws, we) if has[w]]
                rows.append([ws, we, label_index[label]])
                objs.append(span)
                scores.append(sum(probs) / len(probs) if probs else 0.0)
            span_rows.append(rows)
            span_objs.append(objs)
            results[it.index].spans = objs
            results[it.index].span_scores = scores
    else:
        for it in batch:
            rows, objs = [], []
            for span in gold_spans[it.index]:
                if span.label not in label_index:
                    raise ValueError(f"gold span label {span.label!r} is not in the schema")
                rng = span_word_range(span, it.words)
                if rng is None:
                    continue
                rows.append([rng[0], rng[1], label_index[span.label]])
                objs.append(span)
            span_rows.append(rows)
            span_objs.append(objs)

    # pairs in blocks of consecutive STRIKE spans: memory stays bounded however long the
    # paragraph (see network.pair_blocks); the span representations are shared by the blocks.
    # Only the predicted (non-none) pairs are kept across blocks: single_head_labels needs
    # all of an argument's pairs, which can fall in different blocks, before it decides.
    span_repr = None
    classes = schema.relation_classes
    found: list[tuple[np.ndarray, ...]] = []  # per block: keys, tails, tail labels, p, class
    for rel in pair_blocks(
        span_rows, word_ranges, schema, model.heads.max_width,
        max_distance=model.heads.max_pair_distance, block_pairs=network.PAIR_BLOCK,
        window=model.heads.rel_window,
    ):
        if rel.num_pairs == 0:
            continue
        rel = rel.to(device)
        if span_repr is None:
            span_repr = model.span_representations(features, rel)
        logits = model.relation_logits(features, rel, span_repr, sentences)
        probs = torch.softmax(logits, dim=-1).cpu()
        best_p, best_c = (t.numpy() for t in probs.max(dim=-1))
        hit = np.flatnonzero(best_c != 0)
        tails = rel.pair_tail.cpu().numpy()[hit]
        found.append(
            (
                np.asarray(rel.pair_keys, dtype=np.int64).reshape(-1, 3)[hit],
                tails,
                rel.span_label.cpu().numpy()[tails],
                best_p[hit],
                best_c[hit],
            )
        )
    if not found:
        return
    keys, tails, tail_labels, best_p, best_c = (np.concatenate(parts) for parts in zip(*found))
    chosen = best_c != 0
    if model.heads.single_head_labels:
        ids = [label_index[lab] for lab in model.heads.single_head_labels]
        chosen = single_head_keep(tails, tail_labels, best_p, best_c, ids)
    for k in np.flatnonzero(chosen).tolist():
        b, h, t = keys[k].tolist()
        res = results[batch[b].index]
        res.relations.append(Relation(span_objs[b][h], classes[int(best_c[k])], span_objs[b][t]))
        res.relation_scores.append(float(best_p[k]))
