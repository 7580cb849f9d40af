"""Paragraph texts -> spans and relations, in batches, with a :class:`JointModel`.

Paragraphs are sorted by sub-word length and batched (little padding); each batch makes one
encoder pass over all its windows (long paragraphs are windowed, never truncated), the
tagger's first-sub-word scores are decoded per word with constrained Viterbi, spans are
snapped to words (``annotation.words.split_words``), and the relation head scores every
allowed (STRIKE, argument) pair of the paragraph on the same encoder output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from annotation.bio import span_word_range, tags_to_word_ranges
from annotation.documents import Relation, Span
from annotation.examples import subword_word_ids
from annotation.words import split_words

from .decoding import viterbi_decode
from .network import JointModel, build_pairs, word_subword_ranges


@dataclass
class ParagraphPrediction:
    """Spans and relations of one paragraph, in paragraph coordinates, with scores.

    ``span_scores[i]``: mean probability of the decoded tags over the words of ``spans[i]``
    (1.0 for given gold spans); ``relation_scores[i]``: the relation head's probability of
    ``relations[i].role``.
    """

    spans: list[Span] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    span_scores: list[float] = field(default_factory=list)
    relation_scores: list[float] = field(default_factory=list)


@dataclass
class _Item:
    index: int
    text: str
    words: list[tuple[int, int]]
    input_ids: list[int]
    word_ids: list[int]


def _featurize(tokenizer, texts: Sequence[str]) -> list[_Item]:
    """Words and sub-words of every non-empty text (those with at least one sub-word)."""
    items = []
    candidates = [(i, t) for i, t in enumerate(texts) if t and t.strip()]
    if not candidates:
        return items
    enc = tokenizer(
        [t for _, t in candidates], add_special_tokens=False, return_offsets_mapping=True
    )
    for (i, text), ids, offsets in zip(candidates, enc["input_ids"], enc["offset_mapping"]):
        words = split_words(text)
        if not ids or not words:
            continue
        word_ids = subword_word_ids([tuple(o) for o in offsets], words, len(text))
        items.append(_Item(i, text, words, list(ids), word_ids))
    return items


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
    items = _featurize(model.tokenizer, texts)
    items.sort(key=lambda it: len(it.input_ids), reverse=True)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for lo in range(0, len(items), batch_size):
                batch = items[lo : lo + batch_size]
                _predict_batch(model, batch, results, gold_spans)
    finally:
        model.train(was_training)
    return results


def _predict_batch(
    model: JointModel,
    batch: list[_Item],
    results: list[ParagraphPrediction],
    gold_spans: Sequence[Sequence[Span]] | None,
) -> None:
    schema = model.schema
    device = model.device
    label_index = {lab: i for i, lab in enumerate(schema.entity_labels)}
    windows = model.window_batch([it.input_ids for it in batch]).to(device)
    features = model.features(windows)
    word_ranges = [word_subword_ranges(it.word_ids, len(it.words)) for it in batch]

    # spans per paragraph: (word_start, word_end, label_index) + the Span objects
    span_rows: list[list[list[int]]] = []
    span_objs: list[list[Span]] = []
    if gold_spans is None:
        log_probs = torch.log_softmax(model.tag_logits(features).float(), dim=-1)
        n_words = max(len(it.words) for it in batch)
        first = torch.zeros((len(batch), n_words), dtype=torch.long)
        has_sub = torch.zeros((len(batch), n_words), dtype=torch.bool)
        for b, ranges in enumerate(word_ranges):
            for w, (s, _) in enumerate(ranges):
                if s >= 0:
                    first[b, w], has_sub[b, w] = s, True
        emissions = log_probs.gather(
            1, first.to(device).unsqueeze(-1).expand(-1, -1, log_probs.size(-1))
        ).cpu()
        # a word without sub-words gets uniform scores: the transitions decide its tag
        emissions = emissions.masked_fill(~has_sub.unsqueeze(-1), 0.0)
        paths = viterbi_decode(
            emissions,
            [len(it.words) for it in batch],
            model.allowed_transitions.cpu(),
            model.allowed_start.cpu(),
        )
        id2tag = schema.id2tag
        probs_np = emissions.exp().numpy()
        has_sub_np = has_sub.numpy()
        for b, (it, path) in enumerate(zip(batch, paths)):
            rows, objs, scores = [], [], []
            for ws, we, label in tags_to_word_ranges([id2tag[t] for t in path]):
                start, end = it.words[ws][0], it.words[we - 1][1]
                span = Span(start, end, label, it.text[start:end])
                assert span.text == it.text[span.start : span.end]
                probs = [float(probs_np[b, w, path[w]]) for w in range(ws, we) if has_sub_np[b, w]]
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

    rel = build_pairs(span_rows, word_ranges, schema, model.heads.max_width)
    if rel.num_pairs == 0:
        return
    probs = torch.softmax(model.relation_logits(features, rel.to(device)), dim=-1).cpu()
    best_p, best_c = probs.max(dim=-1)
    classes = schema.relation_classes
    for (b, h, t), p, c in zip(rel.pair_keys, best_p.tolist(), best_c.tolist()):
        if c == 0:
            continue
        res = results[batch[b].index]
        res.relations.append(Relation(span_objs[b][h], classes[c], span_objs[b][t]))
        res.relation_scores.append(p)
