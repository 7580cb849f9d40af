"""A bidirectional ``nn.LSTM`` (one layer or more) over padded rows of different lengths, on
CPU without ``PackedSequence``.

Why: on CPU PyTorch runs a *packed* LSTM one time step at a time, the input projection
included (a ``[rows, 512] x [512, 512]`` product per step and direction, about 90 % of the
LSTM's arithmetic). Over a *padded* tensor it first computes the input projection of all
steps as one large product. Each direction is run here over the padded rows, the backward
one over every row reversed within its own length, so that the padding always comes after
the valid positions and never reaches them: every valid output is the packed LSTM's (up to
float rounding, below 1e-5 on the gold paragraphs). Rows are run in groups of similar
length (each at least ``GROUP_RATIO`` of its group's longest), so that little time goes to
padding. Over the 1,465 gold paragraphs (mini model, idle 2 cores): 0.46-0.49 s on two
threads, against 0.60-0.66 s for the packed LSTM on two threads and 0.91-0.94 s on the one
thread it used to be given; 0.85-0.89 s against 0.91-0.94 s on one thread. Positions past a
row's length are zero, as ``pad_packed_sequence`` leaves them.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["GROUP_RATIO", "reverse_within", "run_bilstm"]

#: a row joins the group of longer rows while it is at least this fraction of the group's
#: longest row (0.5-0.9 measured alike; none: 25 % slower on the gold paragraphs)
GROUP_RATIO = 0.7


def reverse_within(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``x`` ``[rows, steps, dim]`` with each row's first ``lengths[row]`` steps reversed
    and the steps after them left in place."""
    steps = torch.arange(x.size(1), device=x.device).unsqueeze(0)
    n = lengths.to(x.device).unsqueeze(1)
    index = torch.where(steps < n, n - 1 - steps, steps)
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.size(-1)))


#: the parameters of one direction of layer 0, in the order ``torch.lstm`` takes them
_WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _direction(lstm: nn.LSTM, x: torch.Tensor, layer: int, suffix: str) -> torch.Tensor:
    zeros = x.new_zeros(1, x.size(0), lstm.hidden_size)
    weights = [getattr(lstm, f"{name}_l{layer}{suffix}") for name in _WEIGHT_NAMES]
    output, _, _ = torch.lstm(x, (zeros, zeros), weights, True, 1, 0.0, False, False, True)
    return output


def run_bilstm(lstm: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``lstm`` over the rows of ``x`` ``[rows, steps, input]``, each ``lengths[row]`` long
    (at least 1): ``[rows, steps, 2 * hidden]``, zero past each row's length.

    On CPU the two directions run over the padded rows (see the module docstring);
    elsewhere (cuDNN runs packed sequences well) through ``pack_padded_sequence``. Both
    give the same outputs."""
    if not (lstm.bidirectional and lstm.batch_first and lstm.bias):
        raise ValueError("run_bilstm needs a bidirectional batch_first LSTM with biases")
    if lstm.dropout and lstm.num_layers > 1:
        raise ValueError("run_bilstm does not support dropout between LSTM layers")
    if lstm.proj_size:
        raise ValueError("run_bilstm does not support an LSTM with proj_size")
    if x.device.type != "cpu":
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, _ = lstm(packed)
        return nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.size(1))[0]
    rows, steps = x.shape[:2]
    out = x.new_zeros(rows, steps, 2 * lstm.hidden_size)
    order = torch.argsort(lengths, descending=True, stable=True)
    sorted_lengths = lengths[order].tolist()
    start = 0
    while start < rows:
        longest = sorted_lengths[start]
        end = start + 1
        while end < rows and sorted_lengths[end] >= GROUP_RATIO * longest:
            end += 1
        group = order[start:end]
        out[group, :longest] = _padded_bilstm(lstm, x[group, :longest], lengths[group])
        start = end
    return out


def _padded_bilstm(lstm: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    # each layer reads the previous one's outputs; padding never reaches a valid position
    # (see the module docstring), so the outputs past a row's length need no zeroing between
    for layer in range(lstm.num_layers):
        forward = _direction(lstm, x, layer, "")
        backward = reverse_within(
            _direction(lstm, reverse_within(x, lengths), layer, "_reverse"), lengths
        )
        x = torch.cat([forward, backward], dim=-1)
    valid = torch.arange(x.size(1)).unsqueeze(0) < lengths.unsqueeze(1)
    return x.masked_fill(~valid.unsqueeze(-1), 0.0)
