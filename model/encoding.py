"""Long sub-word sequences through a fixed-length encoder: windows with overlap, merged back.

A paragraph's sub-words (no special tokens, never truncated) are cut into windows of at most
``max_length - 2`` sub-words (each window gets its own ``[CLS]``/``[SEP]``); consecutive
windows overlap by ``stride`` sub-words (the meaning Hugging Face tokenizers give
``stride``). Every sub-word's representation is taken from the one window where it is most
central -- where the smaller of its left and right context inside the window is largest
(the "max context" rule of BERT's SQuAD code) -- so no sub-word is ever read without
context on both sides when a better window exists, and nothing is dropped.

All windows of a batch of paragraphs go through the encoder as one batch; a single gather
then puts every sub-word back in place (``merge_windows``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


def plan_windows(length: int, max_length: int, stride: int) -> list[tuple[int, int]]:
    """Sub-word ranges ``[start, end)`` of the windows covering ``length`` sub-words.

    ``max_length`` counts ``[CLS]`` and ``[SEP]``; ``stride`` is the overlap between
    consecutive windows. The last window is aligned to the end of the sequence, so every
    window but a single short one is full.
    """
    content = max_length - 2
    if content < 1:
        raise ValueError(f"max_length {max_length} leaves no room for sub-words")
    if not 0 <= stride < content:
        raise ValueError(f"stride (overlap) {stride} must be in [0, {content})")
    if length <= content:
        return [(0, length)]
    step = content - stride
    windows = []
    start = 0
    while True:
        if start + content >= length:
            windows.append((length - content, length))
            break
        windows.append((start, start + content))
        start += step
    return windows


def token_owners(windows: Sequence[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """For each sub-word: ``(window index, offset inside the window's content)``.

    The owner is the window where the sub-word has the most context on its poorer side;
    ties go to the earlier window.
    """
    owners = []
    for i in range(length):
        best, best_score = -1, -1
        for w, (start, end) in enumerate(windows):
            if start <= i < end:
                score = min(i - start, end - 1 - i)
                if score > best_score:
                    best, best_score = w, score
        owners.append((best, i - windows[best][0]))
    return owners


@dataclass
class WindowBatch:
    """Tensors for one encoder pass over the windows of a batch of sequences.

    ``input_ids``/``attention_mask``: ``[windows, window_length]`` with ``[CLS]``/``[SEP]``;
    ``gather_index``: ``[batch, max_subwords]`` flat index into ``windows * window_length``
    of the position each sub-word is read from (0 on padding); ``token_mask``: ``[batch,
    max_subwords]``; ``token_ids``: the merged sub-word ids ``[batch, max_subwords]`` (pad id
    on padding); ``lengths``: sub-words per sequence.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    gather_index: torch.Tensor
    token_mask: torch.Tensor
    token_ids: torch.Tensor
    lengths: list[int]

    def to(self, device: torch.device | str) -> "WindowBatch":
        return WindowBatch(
            self.input_ids.to(device),
            self.attention_mask.to(device),
            self.gather_index.to(device),
            self.token_mask.to(device),
            self.token_ids.to(device),
            self.lengths,
        )


def make_window_batch(
    sequences: Sequence[Sequence[int]],
    max_length: int,
    stride: int,
    cls_id: int,
    sep_id: int,
    pad_id: int,
) -> WindowBatch:
    """Cut every sequence into windows and record where each sub-word will be read from."""
    lengths = [len(seq) for seq in sequences]
    batch, longest = len(sequences), max(lengths, default=0)
    rows: list[list[int]] = []
    owners_per_seq: list[list[tuple[int, int]]] = []
    for seq in sequences:
        if not seq:
            owners_per_seq.append([])
            continue
        windows = plan_windows(len(seq), max_length, stride)
        first_row = len(rows)
        for start, end in windows:
            rows.append([cls_id, *seq[start:end], sep_id])
        owners_per_seq.append([(first_row + w, off) for w, off in token_owners(windows, len(seq))])
    if not rows:  # only empty sequences: one dummy window keeps shapes valid
        rows.append([cls_id, sep_id])
    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for r, row in enumerate(rows):
        input_ids[r, : len(row)] = torch.tensor(row, dtype=torch.long)
        attention_mask[r, : len(row)] = 1
    gather_index = torch.zeros((batch, max(longest, 1)), dtype=torch.long)
    token_mask = torch.zeros((batch, max(longest, 1)), dtype=torch.bool)
    token_ids = torch.full((batch, max(longest, 1)), pad_id, dtype=torch.long)
    for b, (seq, owners) in enumerate(zip(sequences, owners_per_seq)):
        if not seq:
            continue
        n = len(seq)
        # +1: position 0 of every window is [CLS]
        gather_index[b, :n] = torch.tensor([row * width + off + 1 for row, off in owners])
        token_mask[b, :n] = True
        token_ids[b, :n] = torch.tensor(list(seq), dtype=torch.long)
    return WindowBatch(input_ids, attention_mask, gather_index, token_mask, token_ids, lengths)


def merge_windows(
    window_hidden: torch.Tensor, gather_index: torch.Tensor, token_mask: torch.Tensor
) -> torch.Tensor:
    """``[windows, window_length, H]`` -> ``[batch, max_subwords, H]`` (zeros on padding)."""
    flat = window_hidden.reshape(-1, window_hidden.size(-1))
    merged = flat[gather_index.reshape(-1)].view(*gather_index.shape, -1)
    return merged * token_mask.unsqueeze(-1).to(merged.dtype)


def encode_windows(encoder: torch.nn.Module, batch: WindowBatch) -> torch.Tensor:
    """One encoder pass over all windows, merged back to ``[batch, max_subwords, H]``."""
    kwargs = {}
    if getattr(getattr(encoder, "config", None), "type_vocab_size", 0):
        kwargs["token_type_ids"] = torch.zeros_like(batch.input_ids)
    output = encoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask, **kwargs)
    return merge_windows(output.last_hidden_state, batch.gather_index, batch.token_mask)
