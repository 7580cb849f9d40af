"""Training data: the documents of a run, its dev split, batch order and word dropout.

Why a module of its own: everything here is a pure function of the config and the
``(seed, epoch, step)`` it is given -- never of global RNG state -- which is what makes
``--resume`` reach the same weights as an uninterrupted run. Torch-free.

Exports are read with the run's schema (``model.config.training_schema``: the saved model's,
``schema_file``'s or the built-in one), so a label of a team's own is kept, not dropped.

The dev set is ``dev_file`` when given, otherwise a seeded fraction of the *articles*
(``dev_fraction``, ``split_seed``), so no article has paragraphs on both sides.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from annotation.documents import Document
from annotation.schema import SCHEMA, Schema

from .config import ConfigError, TrainConfig, training_schema


def read_documents(
    files: list[str], key: str, log: Callable[[str], None] = print, schema: Schema = SCHEMA
) -> list[Document]:
    """Documents of one or more exports read with ``schema``; logs each conversion summary."""
    from annotation.export import ExportError, read_export

    documents = []
    for f in files:
        try:
            conversion = read_export(f, schema)
        except ExportError as err:
            raise ConfigError(f"{key}: {err}") from None
        log(conversion.report.summary())
        if not conversion.documents:
            raise ConfigError(f"{key}: {f}: the export holds no usable documents")
        documents.extend(conversion.documents)
    return documents


def split_documents(
    cfg: TrainConfig, log: Callable[[str], None] = print, schema: Schema | None = None
) -> tuple[list[Document], list[Document]]:
    """``(train, dev)`` articles: ``dev_file``, or a seeded article-level split; read with
    ``schema`` (None: the config's, :func:`model.config.training_schema`)."""
    schema = schema or training_schema(cfg)
    train_docs = read_documents(cfg.train_files, "train_files", log, schema)
    if cfg.dev_file:
        dev_docs = read_documents([cfg.dev_file], "dev_file", log, schema)
        overlap = {d.id for d in train_docs} & {d.id for d in dev_docs}
        if overlap:
            log(f"warning: {len(overlap)} dev articles are also in the training data")
        return train_docs, dev_docs
    if len(train_docs) < 2:
        raise ConfigError("train_files: need at least 2 articles to split off a dev set")
    order = sorted(range(len(train_docs)), key=lambda i: str(train_docs[i].id))
    random.Random(cfg.split_seed).shuffle(order)
    n_dev = min(max(1, round(cfg.dev_fraction * len(order))), len(order) - 1)
    dev_idx = set(order[:n_dev])
    dev = [d for i, d in enumerate(train_docs) if i in dev_idx]
    train = [d for i, d in enumerate(train_docs) if i not in dev_idx]
    log(f"dev split: {len(dev)} of {len(train_docs)} articles (split_seed {cfg.split_seed})")
    return train, dev


def make_batches(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffled, length-bucketed batches of example indices; a function of (seed, epoch)."""
    import numpy as np

    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths)).tolist()
    chunk = batch_size * 50
    batches = []
    for lo in range(0, len(order), chunk):
        part = sorted(order[lo : lo + chunk], key=lambda i: lengths[i])
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    return [batches[i] for i in rng.permutation(len(batches)).tolist()]


def step_rng(seed: int, epoch: int, step: int) -> random.Random:
    """The RNG of one step's negative-pair sampling (``JointModel.collate``)."""
    return random.Random(seed * 1_000_003 + epoch * 10_007 + step)


def drop_words(example: dict, p: float, unk_id: int, rng: random.Random) -> dict:
    """``example`` with each word's sub-words replaced by ``unk_id`` with probability ``p``.

    Lengths and labels are unchanged; the input is never modified (a copy is returned).
    """
    dropped = {w for w in range(len(example["words"])) if rng.random() < p}
    if not dropped:
        return example
    ids = [
        unk_id if w in dropped else t for t, w in zip(example["input_ids"], example["word_ids"])
    ]
    return {**example, "input_ids": ids}


def step_examples(
    examples: list[dict], cfg: TrainConfig, epoch: int, step: int, unk_id: int | None
) -> list[dict]:
    """The examples of one step, after word dropout drawn from ``(seed, epoch, step)``."""
    if cfg.word_dropout <= 0:
        return examples
    rng = random.Random(f"word-dropout {cfg.seed} {epoch} {step}")
    return [drop_words(ex, cfg.word_dropout, unk_id, rng) for ex in examples]
