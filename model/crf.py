"""A linear-chain CRF over the tagger's word scores (``HeadConfig.crf``).

Why: the tagger scores each word on its own and decoding only forbids invalid BIO moves
(``model.decoding``). A CRF adds learned scores for every tag-to-tag move and for the first
and last tag, and trains the tagger on whole tag sequences (the log-likelihood of the gold
path against all paths), so that a span's boundaries are chosen together: on a weak
backbone the long TARGET and PLACE spans are where per-word decisions go wrong.

Training is unconstrained (a gold path that skips a word without sub-words may contain
``O I-X``, which a constrained CRF would score -inf); decoding adds the learned scores to
the hard BIO constraints (:func:`model.decoding.viterbi_decode`), so no invalid ``I-`` is
ever emitted. Decoding reads the log-softmax of the word scores, as without a CRF: that
subtracts one constant per word, which moves every path alike and so never the best one.
Plain ``torch``: the forward algorithm is one ``logsumexp`` per word position, vectorised
over the batch -- a few percent of a training step.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class TagTransitions(nn.Module):
    """Learned transition, start and end scores over ``n_tags`` tags."""

    def __init__(self, n_tags: int) -> None:
        super().__init__()
        self.transitions = nn.Parameter(torch.zeros(n_tags, n_tags))  # [from, to]
        self.start = nn.Parameter(torch.zeros(n_tags))
        self.end = nn.Parameter(torch.zeros(n_tags))

    def numpy_scores(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(transitions, start, end)`` as float32 arrays, for ``viterbi_decode``."""
        return tuple(p.detach().float().cpu().numpy() for p in (self.transitions, self.start,
                                                                self.end))

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of ``tags`` per word (summed over rows, divided by the
        number of words, so that it weighs like the per-word cross-entropy it replaces).

        ``emissions`` ``[B, L, T]``, ``tags`` ``[B, L]``, ``mask`` ``[B, L]`` bool with each
        row's words first (a prefix); rows without words count for nothing.
        """
        emissions = emissions.float()
        counts = mask.sum(dim=1)
        if int(counts.sum()) == 0:
            return emissions.sum() * 0.0
        batch, length, _ = emissions.shape
        tags = tags.masked_fill(~mask, 0)
        rows = torch.arange(batch, device=emissions.device)
        # score of the gold path
        emitted = emissions.gather(2, tags.unsqueeze(-1)).squeeze(-1)
        gold = (emitted * mask).sum(dim=1) + self.start[tags[:, 0]]
        if length > 1:
            moves = self.transitions[tags[:, :-1], tags[:, 1:]]
            gold = gold + (moves * mask[:, 1:]).sum(dim=1)
        gold = gold + self.end[tags[rows, (counts - 1).clamp(min=0)]]
        # log of the sum over all paths (forward algorithm)
        alpha = self.start + emissions[:, 0]
        for t in range(1, length):
            step = torch.logsumexp(alpha.unsqueeze(2) + self.transitions, dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t : t + 1], step, alpha)
        log_z = torch.logsumexp(alpha + self.end, dim=1)
        has_words = counts > 0
        return (log_z - gold)[has_words].sum() / counts.sum()


def word_positions(labels: torch.Tensor, ignore_index: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(positions [B, L], mask [B, L])``: each row's labelled sub-word positions (the
    first sub-word of every word, in order) packed to the left; ``L`` = most words in a row.
    """
    labelled = labels != ignore_index
    counts = labelled.sum(dim=1)
    length = max(int(counts.max()) if counts.numel() else 0, 1)
    # a stable sort puts the labelled positions first, in their order
    order = torch.sort((~labelled).to(torch.int8), dim=1, stable=True).indices[:, :length]
    mask = torch.arange(length, device=labels.device).unsqueeze(0) < counts.unsqueeze(1)
    return order, mask
