"""Texts -> words and sub-words: the one sub-word alignment, shared by training and inference.

Training examples (:func:`build_examples`) and inference batches
(``model.inference.predict_paragraphs``) both come from :func:`featurize`, so the sub-words a
model was trained on are the sub-words it is run on. Words are always
``annotation.words.split_words`` of the original text; every sub-word belongs to at most one
word, and a word's sub-words are a contiguous ``[first, last + 1)`` range
(:func:`word_subword_ranges`). Two ways to get there, chosen by the model's ``preprocess``
(``model.preprocess``):

* raw text (``preprocess`` is ``None``; the tiny and mini backbones): the text is tokenised
  whole and a sub-word belongs to the first word ending after its first character, if that
  word has a character inside the sub-word (character offsets, vectorised over all texts);
* a backbone that expects preprocessed text (AraBERT): each word is rewritten on its own by
  the backbone's preprocessor and the words are tokenised with ``is_split_into_words=True``,
  so the tokenizer itself says which word each sub-word came from and every offset still
  indexes the original text.

The word-level targets of a training example (tags, span and relation rows) need no
tokenizer and come from ``annotation.examples``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from annotation.documents import Document, Paragraph
from annotation.examples import paragraph_targets
from annotation.paragraphs import split_paragraphs
from annotation.schema import SCHEMA, Schema
from annotation.words import char_classes, split_words, word_bounds

from .cues import subword_cues
from .preprocess import WordPreprocessor

#: label of a sub-word the tagger's loss ignores (not the first sub-word of a word)
IGNORE_INDEX = -100


@dataclass
class Featurized:
    """Words and sub-words of one text (``featurize``)."""

    #: position of the text in the list given to ``featurize``
    index: int
    text: str
    #: ``[start, end)`` of each word in ``text`` (``annotation.words.split_words``)
    words: list[tuple[int, int]]
    input_ids: list[int]
    #: the word of each sub-word, ``-1`` for none
    word_ids: np.ndarray
    #: ``[first, last + 1)`` sub-word range per word, ``(-1, -1)`` for a word without any,
    #: as an ``[n_words, 2]`` array (``word_subword_ranges``)
    ranges: np.ndarray
    #: the casualty cue class of each sub-word's word (``model.cues``; 0 for none); None
    #: unless asked for (``featurize(..., cues=True)``: a model with ``cue_dim`` > 0)
    cues: np.ndarray | None = None


class _quiet_length_warning:
    """Mute the tokenizer's one-off "Token indices sequence length is longer than the
    specified maximum sequence length" warning during one call: long paragraphs are cut into
    windows later (``model.encoding``), so it would only mislead. Other warnings are
    untouched, and the tokenizer's state is restored (its own later calls still warn)."""

    KEY = "sequence-length-is-longer-than-the-specified-maximum"

    def __init__(self, tokenizer: Any) -> None:
        self.flags = getattr(tokenizer, "deprecation_warnings", None)

    def __enter__(self) -> "_quiet_length_warning":
        if isinstance(self.flags, dict):
            self.had, self.value = self.KEY in self.flags, self.flags.get(self.KEY)
            self.flags[self.KEY] = True
        return self

    def __exit__(self, *exc: object) -> None:
        if isinstance(self.flags, dict):
            if self.had:
                self.flags[self.KEY] = self.value
            else:
                self.flags.pop(self.KEY, None)


def word_subword_ranges(word_ids: Sequence[int] | np.ndarray, n_words: int) -> np.ndarray:
    """``[first, last + 1)`` sub-word range per word as an ``[n_words, 2]`` array;
    ``(-1, -1)`` for a word without any sub-word. ``word_ids``: the word of each sub-word
    (``-1`` for none), in order (the sub-words of a word are contiguous)."""
    word_ids = np.asarray(word_ids, dtype=np.int64).reshape(-1)
    ranges = np.full((n_words, 2), -1, dtype=np.int64)
    valid = np.flatnonzero(word_ids >= 0)
    if not len(valid):
        return ranges
    wv = word_ids[valid]
    # first and last sub-word of each word: np.minimum/maximum.at are exact in any order
    ranges[:, 0] = np.iinfo(np.int64).max
    np.minimum.at(ranges[:, 0], wv, valid)
    np.maximum.at(ranges[:, 1], wv, valid + 1)
    ranges[ranges[:, 0] == np.iinfo(np.int64).max, 0] = -1
    return ranges


def featurize(
    tokenizer: Any,
    texts: Sequence[str],
    preprocess: WordPreprocessor | None = None,
    cues: bool = False,
    place_cues: bool = False,
) -> list[Featurized]:
    """Words and sub-words of every text that has at least one word and one sub-word.

    ``preprocess``: the backbone's per-word preprocessing (``JointModel.word_preprocessor``),
    ``None`` for a raw-text backbone. ``cues``: also each sub-word's casualty cue class
    (``model.cues``), for a model with ``cue_dim`` > 0, combined with its word's gazetteer
    class with ``place_cues`` (``model.cues.subword_cues``). Texts without words or sub-words are
    left out; the others come back in input order, each with its ``index``.
    """
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError("ghara needs a fast tokenizer (offset mapping); got a slow one")
    candidates = [(i, t) for i, t in enumerate(texts) if t and t.strip()]
    if not candidates:
        return []
    # every text at its own place in one long string: a text starts one past the previous end
    text_start = np.zeros(len(candidates) + 1, dtype=np.int64)
    np.cumsum([len(t) + 1 for _, t in candidates], out=text_start[1:])
    joined = " ".join(char_classes(t) for _, t in candidates)
    starts, ends = word_bounds(np.frombuffer(joined.encode("ascii"), dtype=np.uint8))
    word_cut = np.searchsorted(starts, text_start)  # words of text k: word_cut[k]:word_cut[k+1]
    words = [
        list(zip((starts[w0:w1] - shift).tolist(), (ends[w0:w1] - shift).tolist()))
        for w0, w1, shift in zip(word_cut[:-1].tolist(), word_cut[1:].tolist(), text_start[:-1].tolist())
    ]
    if preprocess is None:
        all_ids, all_word_ids = _raw_subwords(tokenizer, candidates, text_start, starts, ends, word_cut)
    else:
        all_ids, all_word_ids = _word_subwords(tokenizer, candidates, words, preprocess)
    items = []
    for k, (i, text) in enumerate(candidates):
        if not words[k] or not all_ids[k]:
            continue
        word_ids = all_word_ids[k]
        ranges = word_subword_ranges(word_ids, len(words[k]))
        cue_ids = subword_cues(text, words[k], word_ids, place_cues) if cues else None
        items.append(Featurized(i, text, words[k], list(all_ids[k]), word_ids, ranges, cue_ids))
    return items


def _raw_subwords(
    tokenizer: Any,
    candidates: list[tuple[int, str]],
    text_start: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    word_cut: np.ndarray,
) -> tuple[list[list[int]], list[np.ndarray]]:
    """Sub-words of whole texts, tied to words by character offsets (all texts at once)."""
    with _quiet_length_warning(tokenizer):
        enc = tokenizer(
            [t for _, t in candidates], add_special_tokens=False, return_offsets_mapping=True
        )
    all_ids, all_offsets = enc["input_ids"], enc["offset_mapping"]
    n_sub = np.fromiter((len(ids) for ids in all_ids), dtype=np.int64, count=len(all_ids))
    sub_cut = np.zeros(len(candidates) + 1, dtype=np.int64)
    np.cumsum(n_sub, out=sub_cut[1:])
    offsets = np.array(
        [o for offs in all_offsets for o in offs], dtype=np.int64
    ).reshape(-1, 2) + np.repeat(text_start[:-1], n_sub)[:, None]
    # the word of a sub-word: the first word ending after its first character, if that word
    # has a character inside the sub-word
    w = np.searchsorted(ends, offsets[:, 0], side="right")
    inside = w < len(ends)
    wc = np.minimum(w, max(len(ends) - 1, 0))
    if len(ends):
        inside &= np.maximum(offsets[:, 0], starts[wc]) < offsets[:, 1]
    else:
        inside[:] = False
    word_of = np.where(inside, w, -1)
    local = [
        word_of[s0:s1] - np.where(word_of[s0:s1] >= 0, w0, 0)
        for s0, s1, w0 in zip(sub_cut[:-1].tolist(), sub_cut[1:].tolist(), word_cut[:-1].tolist())
    ]
    return list(all_ids), local


def _word_subwords(
    tokenizer: Any,
    candidates: list[tuple[int, str]],
    words: list[list[tuple[int, int]]],
    preprocess: WordPreprocessor,
) -> tuple[list[list[int]], list[np.ndarray]]:
    """Sub-words of each preprocessed word, tokenised as pre-split words: the tokenizer's
    ``word_ids`` tie every sub-word to the original word it came from."""
    keep = [k for k in range(len(candidates)) if words[k]]
    seen: dict[str, str] = {}  # the preprocessor is slow Python; words repeat a lot

    def form(word: str) -> str:
        if word not in seen:
            seen[word] = preprocess(word)
        return seen[word]

    forms = [[form(candidates[k][1][start:end]) for start, end in words[k]] for k in keep]
    all_ids: list[list[int]] = [[] for _ in candidates]
    all_word_ids = [np.zeros(0, dtype=np.int64) for _ in candidates]
    if not keep:
        return all_ids, all_word_ids
    with _quiet_length_warning(tokenizer):
        enc = tokenizer(forms, is_split_into_words=True, add_special_tokens=False)
    for j, k in enumerate(keep):
        all_ids[k] = list(enc["input_ids"][j])
        all_word_ids[k] = np.array(
            [-1 if w is None else w for w in enc.word_ids(j)], dtype=np.int64
        )
    return all_ids, all_word_ids


def encode_paragraph(
    paragraph: Paragraph,
    tokenizer: Any,
    schema: Schema = SCHEMA,
    preprocess: WordPreprocessor | None = None,
    cues: bool = False,
    place_cues: bool = False,
) -> dict[str, Any]:
    """One training example for one paragraph (see docs/CONTRACTS.md)."""
    return build_paragraph_examples([paragraph], tokenizer, schema, preprocess, cues,
                                    place_cues)[0]


def build_paragraph_examples(
    paragraphs: Sequence[Paragraph],
    tokenizer: Any,
    schema: Schema = SCHEMA,
    preprocess: WordPreprocessor | None = None,
    cues: bool = False,
    place_cues: bool = False,
) -> list[dict[str, Any]]:
    """Training examples of ``paragraphs``, one each, in order, featurised in one call
    (``cues``: with each sub-word's casualty cue class, key ``"cues"``; else ``None``;
    ``place_cues``: combined with the gazetteer class, as ``featurize``).

    A paragraph without words or sub-words gets an example with no sub-words (training
    leaves it out; evaluation still counts its gold spans)."""
    texts = [p.text for p in paragraphs]
    items = {it.index: it for it in featurize(tokenizer, texts, preprocess, cues, place_cues)}
    examples = []
    for i, paragraph in enumerate(paragraphs):
        item = items.get(i)
        words = item.words if item else split_words(paragraph.text)
        input_ids = item.input_ids if item else []
        word_ids = item.word_ids.tolist() if item else []
        cue_ids = (item.cues.tolist() if item else []) if cues else None
        targets = paragraph_targets(paragraph, words, schema)
        labels, seen = [], set()
        for word in word_ids:
            if word < 0 or word in seen:
                labels.append(IGNORE_INDEX)
            else:
                seen.add(word)
                labels.append(targets.word_tags[word])
        examples.append(
            {
                "id": paragraph.id,
                "doc_id": paragraph.doc_id,
                "paragraph_index": paragraph.index,
                "paragraph_start": paragraph.start,
                "text": paragraph.text,
                "input_ids": input_ids,
                "word_ids": word_ids,
                "cues": cue_ids,
                "words": [list(w) for w in words],
                "word_tags": targets.word_tags,
                "labels": labels,
                "spans": targets.spans,
                "relations": targets.relations,
            }
        )
    return examples


def build_examples(
    documents: Iterable[Document],
    tokenizer: Any,
    schema: Schema = SCHEMA,
    preprocess: WordPreprocessor | None = None,
    cues: bool = False,
    place_cues: bool = False,
) -> list[dict[str, Any]]:
    """Training examples of every paragraph of ``documents`` (``preprocess``, ``cues`` and
    ``place_cues``: the model's, so examples match what inference feeds the model)."""
    paragraphs = [p for doc in documents for p in split_paragraphs(doc)]
    return build_paragraph_examples(paragraphs, tokenizer, schema, preprocess, cues,
                                    place_cues)
