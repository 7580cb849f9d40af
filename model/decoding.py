"""BIO decoding that never emits an invalid tag sequence: Viterbi with transition constraints.

The tagger scores every word independently; a greedy argmax can produce ``O I-PLACE`` or
``B-ACTOR I-TARGET``. We decode the per-word log-probabilities with hard constraints:
``I-X`` may only follow ``B-X`` or ``I-X`` and may not start a sequence. Viterbi then
returns the most probable *valid* sequence, which is at least as good as the "treat an
invalid I- as B-" repair and never needs that repair. A model trained with a CRF
(``HeadConfig.crf``, :mod:`model.crf`) passes its learned transition, start and end scores
too; they are added to the same hard constraints.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
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
    log_probs: torch.Tensor | np.ndarray,
    lengths: Sequence[int],
    allowed: torch.Tensor,
    allowed_start: torch.Tensor,
    scores: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> list[list[int]]:
    """Best valid tag-id sequence per row of ``log_probs`` ``[batch, words, tags]``.

    ``scores``: learned ``(transitions [from, to], start, end)`` of a CRF, added to the
    constraints (``None``: all 0). Runs in float32 numpy, vectorised over the batch (one
    small step per word position); ties go to the lowest tag id, as with ``torch.max``.
    """
    if isinstance(log_probs, torch.Tensor):
        log_probs = log_probs.detach().float().cpu().numpy()
    emissions = np.asarray(log_probs, dtype=np.float32)
    batch, steps, n_tags = emissions.shape
    if steps == 0 or batch == 0:
        return [[] for _ in range(batch)]
    neg = np.float32(-1e9)
    zero = np.float32(0.0)
    allowed_np = np.asarray(allowed.cpu() if isinstance(allowed, torch.Tensor) else allowed, bool)
    start_np = np.asarray(
        allowed_start.cpu() if isinstance(allowed_start, torch.Tensor) else allowed_start, bool
    )
    learned_trans, learned_start, learned_end = (
        (zero, zero, zero) if scores is None else (np.asarray(s, np.float32) for s in scores)
    )
    trans = np.where(allowed_np, learned_trans, neg).astype(np.float32)  # [from, to]
    lengths_np = np.asarray(list(lengths), dtype=np.int64).reshape(batch)
    score = emissions[:, 0] + np.where(start_np, learned_start, neg).astype(np.float32)
    # the score of each row at its own last word (rows stop at their length)
    final = score.copy()
    horizon = int(min(steps, lengths_np.max(initial=0)))
    by_time = np.ascontiguousarray(emissions.transpose(1, 0, 2))  # [words, B, tags]
    ending: dict[int, np.ndarray] = {}
    for n in np.unique(lengths_np):
        if 1 < n <= horizon:
            ending[int(n) - 1] = lengths_np == n
    backpointers = np.zeros((max(horizon - 1, 0), batch, n_tags), dtype=np.intp)
    step = _Step(allowed_np, trans, batch, learned=scores is not None)
    for t in range(1, horizon):
        score = step(score, backpointers[t - 1])
        score += by_time[t]
        rows_ending = ending.get(t)
        if rows_ending is not None:
            final[rows_ending] = score[rows_ending]
    tag = (final + learned_end).argmax(axis=1)
    paths = np.zeros((batch, max(horizon, 1)), dtype=np.intp)
    rows = np.arange(batch)
    for t in range(horizon - 1, -1, -1):
        inside = lengths_np > t
        paths[:, t] = tag
        if t > 0:
            tag = np.where(inside, backpointers[t - 1, rows, tag], tag)
    return [paths[b, : max(int(n), 0)].tolist() for b, n in enumerate(lengths_np)]


class _Step:
    """One Viterbi step: ``best[b, to] = max_from score[b, from] + trans[from, to]`` and its
    argmax (first on ties), written into ``backpointers``.

    Fast path (no learned scores: ``trans`` is 0 where allowed and -1e9 elsewhere):
    columns every tag may precede are the row max; a constrained column (``I-X``) is the max
    over its few allowed predecessors -- which is exactly the full max whenever it beats
    ``row max - 1e9``, the best any forbidden predecessor can reach (checked every step;
    otherwise the full ``[B, from, to]`` max is taken). Same numbers as the full max, far
    fewer operations.
    """

    def __init__(self, allowed: np.ndarray, trans: np.ndarray, batch: int, learned: bool = False):
        self.trans = trans
        n_tags = trans.shape[0]
        free = allowed.all(axis=0)
        self.free = np.flatnonzero(free)
        self.bound = np.flatnonzero(~free)
        sources = [np.flatnonzero(allowed[:, j]) for j in self.bound]
        # learned transition scores: every column needs the full max
        self.fast = not learned and all(len(src) for src in sources)
        if self.fast and len(sources):
            width = max(len(src) for src in sources)
            # ascending, padded with the last allowed predecessor (harmless for max/argmax)
            self.sources = np.array(
                [np.concatenate([src, np.repeat(src[-1], width - len(src))]) for src in sources]
            )
        else:
            self.sources = np.zeros((0, 1), dtype=np.intp)
        self.neg = np.float32(-1e9)
        self.cand = np.empty((batch, n_tags, n_tags), dtype=np.float32)
        self.best = np.empty((batch, n_tags), dtype=np.float32)

    def full(self, score: np.ndarray, backpointers: np.ndarray) -> np.ndarray:
        np.add(score[:, :, None], self.trans, out=self.cand)  # [B, from, to]
        self.cand.argmax(axis=1, out=backpointers)
        return self.cand.max(axis=1)

    def __call__(self, score: np.ndarray, backpointers: np.ndarray) -> np.ndarray:
        if not self.fast:
            return self.full(score, backpointers)
        row_arg = score.argmax(axis=1)
        row_max = score[np.arange(len(score)), row_arg]
        vals = score[:, self.sources]  # [B, bound, width]
        bound_max = vals[:, :, 0]
        bound_arg = np.broadcast_to(self.sources[:, 0], bound_max.shape)
        for k in range(1, self.sources.shape[1]):
            better = vals[:, :, k] > bound_max
            bound_max = np.where(better, vals[:, :, k], bound_max)
            bound_arg = np.where(better, self.sources[:, k], bound_arg)
        if not (bound_max > (row_max + self.neg)[:, None]).all():
            return self.full(score, backpointers)
        best = self.best.copy()
        best[:, self.free] = row_max[:, None]
        best[:, self.bound] = bound_max
        backpointers[:, self.free] = row_arg[:, None]
        backpointers[:, self.bound] = bound_arg
        return best
