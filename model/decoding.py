"""BIO decoding that never emits an invalid tag sequence: Viterbi with transition constraints.

The tagger scores every word independently; a greedy argmax can produce ``O I-PLACE`` or
``B-ACTOR I-TARGET``. Instead of a CRF (extra parameters, slower training) we decode the
per-word log-probabilities with hard constraints: ``I-X`` may only follow ``B-X`` or
``I-X`` and may not start a sequence. Viterbi then returns the most probable *valid*
sequence, which is at least as good as the "treat an invalid I- as B-" repair and never
needs that repair.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from annotation.schema import Schema


def transition_constraints(schema: Schema) -> tuple[torch.Tensor, torch.Tensor]:
    """``(allowed[from, to], allowed_start[to])`` as bool tensors over ``schema.bio_tags``."""
    tags = schema.bio_tags
    n = len(tags)
    allowed = torch.ones((n, n), dtype=torch.bool)
    start = torch.ones(n, dtype=torch.bool)
    for j, to_tag in enumerate(tags):
        if not to_tag.startswith("I-"):
            continue
        label = to_tag[2:]
        start[j] = False
        for i, from_tag in enumerate(tags):
            allowed[i, j] = from_tag in (f"B-{label}", f"I-{label}")
    return allowed, start


def viterbi_decode(
    log_probs: torch.Tensor,
    lengths: Sequence[int],
    allowed: torch.Tensor,
    allowed_start: torch.Tensor,
) -> list[list[int]]:
    """Best valid tag-id sequence per row of ``log_probs`` ``[batch, words, tags]``."""
    log_probs = log_probs.detach().float().cpu()
    batch, steps, n_tags = log_probs.shape
    if steps == 0 or batch == 0:
        return [[] for _ in range(batch)]
    neg = torch.tensor(-1e9)
    trans = torch.where(allowed, torch.tensor(0.0), neg)  # [from, to]
    score = log_probs[:, 0] + torch.where(allowed_start, torch.tensor(0.0), neg)
    lengths_t = torch.tensor(list(lengths))
    backpointers = []
    for t in range(1, steps):
        cand = score.unsqueeze(2) + trans.unsqueeze(0)  # [B, from, to]
        best, arg = cand.max(dim=1)
        new_score = best + log_probs[:, t]
        active = (lengths_t > t).unsqueeze(1)
        score = torch.where(active, new_score, score)
        backpointers.append(arg)
    results = []
    last = score.argmax(dim=1)
    for b in range(batch):
        n = int(lengths[b])
        if n == 0:
            results.append([])
            continue
        tag = int(last[b])
        path = [tag]
        for t in range(n - 1, 0, -1):
            tag = int(backpointers[t - 1][b, tag])
            path.append(tag)
        results.append(path[::-1])
    return results
