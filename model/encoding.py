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

import numpy as np
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
    # per window: (sequence, first sub-word, sub-word count); per sub-word: (window, offset)
    win_seq: list[int] = []
    win_start: list[int] = []
    win_len: list[int] = []
    owner_rows: list[np.ndarray] = []
    owner_offsets: list[np.ndarray] = []
    for b, seq in enumerate(sequences):
        n = len(seq)
        if not n:
            continue
        windows = plan_windows(n, max_length, stride)
        first_row = len(win_seq)
        for start, end in windows:
            win_seq.append(b)
            win_start.append(start)
            win_len.append(end - start)
        if len(windows) == 1:  # the common case: every sub-word in the one window
            owner_rows.append(np.full(n, first_row, dtype=np.int64))
            owner_offsets.append(np.arange(n, dtype=np.int64))
        else:
            owners = np.array(token_owners(windows, n), dtype=np.int64).reshape(-1, 2)
            owner_rows.append(owners[:, 0] + first_row)
            owner_offsets.append(owners[:, 1])
    n_rows = max(len(win_seq), 1)  # only empty sequences: one dummy window keeps shapes valid
    width = max(win_len, default=0) + 2
    n_sub = np.asarray(lengths, dtype=np.int64)
    tokens = np.fromiter(
        (t for seq in sequences for t in seq), dtype=np.int64, count=int(n_sub.sum())
    )
    seq_first = np.cumsum(n_sub) - n_sub  # where each sequence starts in ``tokens``
    input_ids = np.full((n_rows, width), pad_id, dtype=np.int64)
    attention_mask = np.zeros((n_rows, width), dtype=np.int64)
    input_ids[:, 0] = cls_id
    if win_seq:
        w_len = np.asarray(win_len, dtype=np.int64)
        rows = np.repeat(np.arange(len(win_seq)), w_len)
        within = np.arange(len(rows)) - np.repeat(np.cumsum(w_len) - w_len, w_len)
        source = np.repeat(seq_first[win_seq] + np.asarray(win_start), w_len) + within
        input_ids[rows, within + 1] = tokens[source]
        input_ids[np.arange(len(win_seq)), w_len + 1] = sep_id
        attention_mask[np.arange(width)[None, :] < (w_len + 2)[:, None]] = 1
    else:
        input_ids[0, 1] = sep_id
        attention_mask[0, :2] = 1
    cols = max(longest, 1)
    gather_index = np.zeros((batch, cols), dtype=np.int64)
    token_mask = np.arange(cols)[None, :] < n_sub[:, None]
    token_ids = np.full((batch, cols), pad_id, dtype=np.int64)
    if owner_rows:
        # +1: position 0 of every window is [CLS]
        gather_index[token_mask] = np.concatenate(owner_rows) * width + np.concatenate(
            owner_offsets
        ) + 1
        token_ids[token_mask] = tokens
    return WindowBatch(
        torch.from_numpy(input_ids),
        torch.from_numpy(attention_mask),
        torch.from_numpy(gather_index),
        torch.from_numpy(token_mask),
        torch.from_numpy(token_ids),
        lengths,
    )


def merge_windows(
    window_hidden: torch.Tensor, gather_index: torch.Tensor, token_mask: torch.Tensor
) -> torch.Tensor:
    """``[windows, window_length, H]`` -> ``[batch, max_subwords, H]`` (zeros on padding)."""
    flat = window_hidden.reshape(-1, window_hidden.size(-1))
    merged = flat[gather_index.reshape(-1)].view(*gather_index.shape, -1)
    return merged * token_mask.unsqueeze(-1).to(merged.dtype)


#: most window positions (windows x window length) per encoder call: a very long paragraph
#: (hundreds of windows) goes through in chunks, so the encoder's activations (attention
#: scores, feed-forward) stay bounded; 64 full 512-windows, more than a normal batch holds
MAX_WINDOW_TOKENS = 64 * 512


def encode_windows(encoder: torch.nn.Module, batch: WindowBatch) -> torch.Tensor:
    """Encoder passes over all windows (in chunks of at most ``MAX_WINDOW_TOKENS``
    positions), merged back to ``[batch, max_subwords, H]``."""
    n_windows, width = batch.input_ids.shape
    step = max(1, MAX_WINDOW_TOKENS // max(width, 1))
    kwargs = {}
    outputs = []
    for lo in range(0, n_windows, step):
        ids = batch.input_ids[lo : lo + step]
        if getattr(getattr(encoder, "config", None), "type_vocab_size", 0):
            kwargs["token_type_ids"] = torch.zeros_like(ids)
        output = encoder(
            input_ids=ids, attention_mask=batch.attention_mask[lo : lo + step], **kwargs
        )
        outputs.append(output.last_hidden_state)
    hidden = outputs[0] if len(outputs) == 1 else torch.cat(outputs)
    return merge_windows(hidden, batch.gather_index, batch.token_mask)
