"""Training the joint model: config, data, loop, checkpoints, dev metrics, seeds.

Run through ``train.py`` (a thin command line)::

    python train.py --config configs/tiny.yaml [--set key=value ...] [--resume] [--seeds 1 2 3]
    accelerate launch train.py --config configs/arabert.yaml      # several GPUs, no change

Config
    A YAML file whose keys are exactly the fields of :class:`TrainConfig` (typed; an unknown
    key, a wrong type, a missing data file or an empty export stops with a message naming the
    key or file). ``--set key=value`` overrides a key (the value is read as YAML).
    **Relative paths** (data files, ``out_dir``, a local ``backbone``) are resolved against
    the *project root* of the config file: the nearest directory at or above it holding a
    ``pyproject.toml`` or ``.git`` (for ``configs/*.yaml`` in this repo: the repo root), or
    the config file's own directory when there is none. So ``configs/mini.yaml`` works from
    any working directory.

Data
    One or more Label Studio exports (``train_files``), read with
    ``annotation.export.read_export`` (its conversion summary is printed first). The dev set
    is ``dev_file`` when given, otherwise a seeded fraction of the *articles*
    (``dev_fraction``, ``split_seed``), so no article has paragraphs on both sides.

Loop
    AdamW with separate encoder / head learning rates (no decay on biases and LayerNorm),
    linear warmup + decay, gradient accumulation, clipping, bf16/fp16 on GPU through
    ``accelerate`` (``mixed_precision: auto``), fixed seeds. After every epoch: dev entity
    F1 (seqeval strict IOB2 on word tags) and end-to-end strict relation F1 (relations over
    *predicted* spans) -- plus relation F1 over gold spans as a diagnostic -- one JSON line
    in ``out_dir/metrics.jsonl``; the best epoch (``select_metric``) is saved to
    ``out_dir/best`` (``JointModel.save_pretrained``), training stops early after
    ``patience`` epochs without improvement, and ``out_dir/last`` holds a full checkpoint
    (model, optimizer, scheduler, grad scaler, RNG states of python/numpy/torch, epoch,
    best score, patience counter) so ``--resume`` continues to the same weights an
    uninterrupted run reaches. Batch order and negative sampling are functions of
    ``(seed, epoch, step)``, not of global RNG state.

Regularisers (both off by default)
    ``ema_decay`` (0 = off; e.g. 0.995): keep an exponential moving average of the weights,
    updated after every optimizer step with decay ``min(ema_decay, (1 + n) / (10 + n))``
    (``n`` = updates so far, so the first steps do not drag the random initialisation
    along). Dev metrics, best-epoch selection and ``out_dir/best`` use the *averaged*
    weights; ``out_dir/last`` keeps the raw training weights plus the average
    (``ema.safetensors``), so ``--resume`` stays exact. ``eval_raw_weights: true``
    additionally logs the raw weights' dev metrics (``raw_entity_f1``, ``raw_relation_f1``,
    ...) in ``metrics.jsonl`` -- a diagnostic costing one more dev pass per epoch.
    ``word_dropout`` (0 = off; e.g. 0.1): at training time every word of a paragraph is
    replaced, with this probability, by ``[UNK]`` (all its sub-words; lengths and labels
    unchanged), which the encoder and, with ``concat_embeddings``, the heads then see. The
    draw is a function of ``(seed, epoch, step)`` as well.

Seeds
    ``--seeds 1 2 3`` trains one model per seed in ``out_dir/seed-N`` and writes the mean
    and sample standard deviation of the best-epoch dev metrics to
    ``out_dir/seeds_summary.json``.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import statistics
import sys
import time
import types
import typing
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_BACKBONE = "aubmindlab/bert-base-arabertv02"
SELECT_METRICS = ("entity_f1", "relation_f1", "mean")
MIXED_PRECISION = ("auto", "no", "bf16", "fp16")


@dataclass
class TrainConfig:
    """Every key a training config may have (see configs/*.yaml for commented examples)."""

    # -- data ----------------------------------------------------------------------------
    train_files: list[str] = field(default_factory=list)  # Label Studio JSON exports
    dev_file: str | None = None  # when None: dev_fraction of the articles
    dev_fraction: float = 0.1
    split_seed: int = 0
    out_dir: str = "runs/model"
    # -- backbone ------------------------------------------------------------------------
    backbone: str = DEFAULT_BACKBONE  # hub id, local dir, or "tiny" (built from train texts)
    tiny_vocab_size: int = 2000
    tiny_hidden: int = 64
    tiny_layers: int = 2
    tiny_heads: int = 2
    # -- model (model.network.HeadConfig) ------------------------------------------------
    max_length: int = 512
    stride: int = 128
    dropout: float = 0.1
    width_dim: int = 32
    max_width: int = 16
    label_dim: int = 32
    distance_dim: int = 32
    rel_hidden: int = 256
    concat_embeddings: bool = False
    lstm_hidden: int = 0
    rel_loss_weight: float = 1.0
    max_pairs: int = 256
    # -- optimisation --------------------------------------------------------------------
    epochs: int = 10
    batch_size: int = 16
    eval_batch_size: int = 32
    grad_accum: int = 1
    lr_encoder: float = 5e-5
    lr_heads: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    mixed_precision: str = "auto"  # auto (bf16/fp16 on GPU, no on CPU) | no | bf16 | fp16
    seed: int = 42
    patience: int = 5  # epochs without improvement before stopping; 0 = never stop early
    select_metric: str = "mean"  # entity_f1 | relation_f1 | mean (of the two)
    stop_after_epochs: int | None = None  # stop once this many epochs are done (resumable)
    # -- regularisers (see the module docstring) ---------------------------------------
    ema_decay: float = 0.0  # 0 = off; evaluate/save an exponential moving average of weights
    eval_raw_weights: bool = False  # with EMA: also log the raw weights' dev metrics
    word_dropout: float = 0.0  # probability of replacing a training word by [UNK]
    progress: bool = True  # tqdm progress bars

    def head_config(self):
        from .network import HeadConfig

        names = {f.name for f in fields(HeadConfig)}
        return HeadConfig(**{k: v for k, v in asdict(self).items() if k in names})


PATH_KEYS = ("train_files", "dev_file", "out_dir")


class ConfigError(SystemExit):
    """A config problem; exits with its message (``SystemExit`` with a string code)."""


# -- config ------------------------------------------------------------------------------
def project_root(config_path: Path) -> Path:
    """The nearest directory at or above ``config_path`` with pyproject.toml or .git."""
    start = config_path.resolve().parent
    for directory in (start, *start.parents):
        if (directory / "pyproject.toml").is_file() or (directory / ".git").exists():
            return directory
    return start


def _coerce(key: str, value: Any, hint: Any, source: str) -> Any:
    """``value`` checked (and gently converted) against the type hint of ``key``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(key, value, inner[0], source)
    if origin is list:
        if isinstance(value, (str, int, float)):
            value = [value]
        if not isinstance(value, list):
            raise ConfigError(f"{source}: key {key!r} must be a list, got {value!r}")
        return [_coerce(key, v, args[0], source) for v in value]
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: key {key!r} must be true/false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: key {key!r} must be an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: key {key!r} must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{source}: key {key!r} must be a string, got {value!r}")
        return str(value)
    raise TypeError(f"unsupported config type {hint!r} for {key}")


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML config (+ ``key=value`` overrides) into a checked :class:`TrainConfig`."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys to values")
    hints = typing.get_type_hints(TrainConfig)
    known = ", ".join(hints)
    values: dict[str, Any] = {}
    sources: list[tuple[str, dict]] = [(str(path), raw)]
    parsed_overrides: dict[str, Any] = {}
    for item in overrides or []:
        key, sep, text = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r}: expected key=value")
        parsed_overrides[key.strip()] = yaml.safe_load(text) if text.strip() else None
    sources.append(("--set", parsed_overrides))
    for source, mapping in sources:
        for key, value in mapping.items():
            if key not in hints:
                raise ConfigError(f"{source}: unknown key {key!r} (known keys: {known})")
            values[key] = _coerce(key, value, hints[key], source)
    cfg = TrainConfig(**values)

    root = project_root(path)

    def resolve(p: str) -> str:
        return str(p if Path(p).is_absolute() else (root / p).resolve())

    cfg.train_files = [resolve(p) for p in cfg.train_files]
    if cfg.dev_file:
        cfg.dev_file = resolve(cfg.dev_file)
    cfg.out_dir = resolve(cfg.out_dir)
    if cfg.backbone != "tiny" and not Path(cfg.backbone).is_absolute():
        local = root / cfg.backbone
        if local.exists() or cfg.backbone.startswith((".", "/")):
            cfg.backbone = str(local.resolve())
    validate_config(cfg, str(path))
    return cfg


def validate_config(cfg: TrainConfig, source: str = "config") -> None:
    """Value checks beyond types; data files must exist."""
    if not cfg.train_files:
        raise ConfigError(f"{source}: key 'train_files' is empty: give at least one export")
    for i, f in enumerate(cfg.train_files):
        if not Path(f).is_file():
            raise ConfigError(f"{source}: train_files[{i}]: data file not found: {f}")
    if cfg.dev_file is not None and not Path(cfg.dev_file).is_file():
        raise ConfigError(f"{source}: dev_file: data file not found: {cfg.dev_file}")
    if cfg.dev_file is None and not 0.0 < cfg.dev_fraction < 1.0:
        raise ConfigError(f"{source}: dev_fraction must be in (0, 1) when no dev_file is given")
    if cfg.select_metric not in SELECT_METRICS:
        raise ConfigError(f"{source}: select_metric must be one of {SELECT_METRICS}")
    if cfg.mixed_precision not in MIXED_PRECISION:
        raise ConfigError(f"{source}: mixed_precision must be one of {MIXED_PRECISION}")
    if not 0.0 <= cfg.ema_decay < 1.0:
        raise ConfigError(f"{source}: ema_decay must be in [0, 1) (0 = off)")
    if not 0.0 <= cfg.word_dropout < 1.0:
        raise ConfigError(f"{source}: word_dropout must be in [0, 1) (0 = off)")
    for key in ("epochs", "batch_size", "eval_batch_size", "grad_accum", "max_length"):
        if getattr(cfg, key) < 1:
            raise ConfigError(f"{source}: {key} must be >= 1")
    if not 0 <= cfg.stride < cfg.max_length - 2:
        raise ConfigError(f"{source}: stride must be in [0, max_length - 2)")
    backbone = Path(cfg.backbone)
    if cfg.backbone != "tiny" and backbone.is_absolute() and not backbone.is_dir():
        raise ConfigError(f"{source}: backbone: local model directory not found: {backbone}")


# -- data --------------------------------------------------------------------------------
def read_documents(files: list[str], key: str, log=print) -> list:
    """Documents of one or more exports; prints each conversion summary."""
    from annotation.export import ExportError, read_export

    documents = []
    for f in files:
        try:
            conversion = read_export(f)
        except ExportError as err:
            raise ConfigError(f"{key}: {err}") from None
        log(conversion.report.summary())
        if not conversion.documents:
            raise ConfigError(f"{key}: {f}: the export holds no usable documents")
        documents.extend(conversion.documents)
    return documents


def split_documents(cfg: TrainConfig, log=print) -> tuple[list, list]:
    train_docs = read_documents(cfg.train_files, "train_files", log)
    if cfg.dev_file:
        dev_docs = read_documents([cfg.dev_file], "dev_file", log)
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


# -- evaluation --------------------------------------------------------------------------
def gold_spans_of(example: dict, schema) -> list:
    from annotation.documents import Span

    words, text = example["words"], example["text"]
    spans = []
    for ws, we, label in example["spans"]:
        start, end = words[ws][0], words[we - 1][1]
        spans.append(Span(start, end, schema.entity_labels[label], text[start:end]))
    return spans


def gold_relation_tuples(example: dict, schema) -> set:
    spans = gold_spans_of(example, schema)
    classes = schema.relation_classes
    return {
        (spans[h].start, spans[h].end, spans[h].label, classes[c], spans[t].start,
         spans[t].end, spans[t].label)
        for h, t, c in example["relations"]
    }


def evaluate(model, examples: list[dict], batch_size: int = 32) -> dict[str, Any]:
    """Dev metrics: entity (strict IOB2) and end-to-end relation F1, + gold-span relations."""
    from annotation.bio import spans_to_tags

    from .inference import predict_paragraphs
    from .metrics import entity_scores, relation_scores, relation_tuples

    schema = model.schema
    texts = [ex["text"] for ex in examples]
    preds = predict_paragraphs(model, texts, batch_size=batch_size)
    gold_tags = [[schema.id2tag[t] for t in ex["word_tags"]] for ex in examples]
    pred_tags = [spans_to_tags(p.spans, ex["words"]) for ex, p in zip(examples, preds)]
    ent = entity_scores(gold_tags, pred_tags)
    gold_rel = [gold_relation_tuples(ex, schema) for ex in examples]
    rel = relation_scores(gold_rel, [relation_tuples(p.relations) for p in preds])
    gold_spans = [gold_spans_of(ex, schema) for ex in examples]
    with_gold = predict_paragraphs(model, texts, batch_size=batch_size, gold_spans=gold_spans)
    rel_gold = relation_scores(gold_rel, [relation_tuples(p.relations) for p in with_gold])
    return {
        "entity_f1": ent["micro"]["f1"],
        "entity_precision": ent["micro"]["precision"],
        "entity_recall": ent["micro"]["recall"],
        "relation_f1": rel["micro"]["f1"],
        "relation_precision": rel["micro"]["precision"],
        "relation_recall": rel["micro"]["recall"],
        "relation_f1_gold_spans": rel_gold["micro"]["f1"],
        "entity_f1_per_label": {k: v["f1"] for k, v in ent["per_label"].items()},
        "relation_f1_per_role": {k: v["f1"] for k, v in rel["per_label"].items()},
    }


def select_score(metrics: dict, name: str) -> float:
    if name == "mean":
        return (metrics["entity_f1"] + metrics["relation_f1"]) / 2
    return metrics[name]


# -- regularisers ------------------------------------------------------------------------
class WeightEMA:
    """An exponential moving average of a model's trainable parameters."""

    FILE = "ema.safetensors"

    def __init__(self, model, decay: float) -> None:
        self.decay = decay
        self.params = {n: p for n, p in model.named_parameters() if p.requires_grad}
        self.shadow = {n: p.detach().clone().float() for n, p in self.params.items()}
        self.updates = 0

    def update(self) -> None:
        import torch

        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        with torch.no_grad():
            for name, param in self.params.items():
                self.shadow[name].lerp_(param.detach().float(), 1.0 - decay)

    @contextmanager
    def swapped_in(self):
        """The averaged weights in the model for the duration of the block."""
        import torch

        backup = {n: p.detach().clone() for n, p in self.params.items()}
        with torch.no_grad():
            for name, param in self.params.items():
                param.copy_(self.shadow[name])
        try:
            yield
        finally:
            with torch.no_grad():
                for name, param in self.params.items():
                    param.copy_(backup[name])

    def save(self, directory: Path) -> None:
        from safetensors.torch import save_file

        state = {n: t.detach().contiguous().cpu() for n, t in self.shadow.items()}
        save_file(state, str(directory / self.FILE), metadata={"updates": str(self.updates)})

    def load(self, directory: Path) -> None:
        from safetensors import safe_open

        path = directory / self.FILE
        if not path.is_file():
            raise ConfigError(f"--resume: ema_decay is on but {path} is missing")
        with safe_open(str(path), framework="pt") as fh:
            self.updates = int(fh.metadata()["updates"])
            for name in self.shadow:
                self.shadow[name].copy_(fh.get_tensor(name))


def drop_words(example: dict, p: float, unk_id: int, rng: random.Random) -> dict:
    """``example`` with each word's sub-words replaced by ``unk_id`` with probability ``p``."""
    dropped = {w for w in range(len(example["words"])) if rng.random() < p}
    if not dropped:
        return example
    ids = [
        unk_id if w in dropped else t for t, w in zip(example["input_ids"], example["word_ids"])
    ]
    return {**example, "input_ids": ids}


# -- checkpoints -------------------------------------------------------------------------
def _rng_state() -> dict[str, Any]:
    import numpy as np
    import torch

    np_state = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
        "torch": torch.random.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    python = state["python"]
    random.setstate((python[0], tuple(python[1]), python[2]))
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), *rest))
    torch.random.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    directory: Path, accelerator, model, optimizer, scheduler, state: dict, ema=None
) -> None:
    """Full training state in ``directory`` (written beside it, then swapped in)."""
    import torch

    tmp = directory.with_name(directory.name + ".tmp")
    if accelerator.is_main_process:
        if tmp.exists():
            shutil.rmtree(tmp)
        accelerator.unwrap_model(model).save_pretrained(tmp)
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        if accelerator.scaler is not None:
            torch.save(accelerator.scaler.state_dict(), tmp / "scaler.pt")
        if ema is not None:
            ema.save(tmp)
        (tmp / "trainer_state.json").write_text(json.dumps(state, indent=2))
    accelerator.wait_for_everyone()
    torch.save(_rng_state(), tmp / f"rng_state_{accelerator.process_index}.pt")
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        if directory.exists():
            shutil.rmtree(directory)
        tmp.rename(directory)
    accelerator.wait_for_everyone()


# -- training ----------------------------------------------------------------------------
def _mixed_precision(setting: str) -> str | None:
    import torch

    if setting != "auto":
        return setting
    if os.environ.get("ACCELERATE_MIXED_PRECISION"):
        return None  # `accelerate launch --mixed_precision ...` decides
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "no"


def _param_groups(model, cfg: TrainConfig) -> list[dict]:
    groups = {
        (is_head, decay): [] for is_head in (False, True) for decay in (False, True)
    }
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        is_head = not name.startswith("encoder.")
        decay = not (name.endswith("bias") or "LayerNorm" in name or "norm" in name.lower())
        groups[(is_head, decay)].append(param)
    return [
        {
            "params": params,
            "lr": cfg.lr_heads if is_head else cfg.lr_encoder,
            "weight_decay": cfg.weight_decay if decay else 0.0,
        }
        for (is_head, decay), params in groups.items()
        if params
    ]


def _same_config(saved: dict, cfg: TrainConfig) -> list[str]:
    ignore = {"stop_after_epochs", "progress", "patience"}
    current = asdict(cfg)
    return [
        f"{k}: {saved.get(k)!r} -> {current[k]!r}"
        for k in current
        if k not in ignore and saved.get(k) != current[k]
    ]


def train_one(cfg: TrainConfig, resume: bool = False) -> dict[str, Any]:
    """Train one model; returns ``{"out_dir", "best_epoch", "best_metrics", ...}``."""
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    from annotation.examples import build_examples

    from .backbone import build_tiny_backbone, load_backbone
    from .network import JointModel

    accelerator = Accelerator(mixed_precision=_mixed_precision(cfg.mixed_precision))
    log = accelerator.print
    out_dir = Path(cfg.out_dir)
    last_dir, best_dir = out_dir / "last", out_dir / "best"
    metrics_path = out_dir / "metrics.jsonl"
    state: dict[str, Any] = {
        "epoch": 0,
        "global_step": 0,
        "best_score": None,
        "best_epoch": None,
        "best_metrics": None,
        "bad_epochs": 0,
        "stopped_early": False,
    }
    if resume and not (last_dir / "trainer_state.json").is_file():
        raise ConfigError(f"--resume: no checkpoint in {last_dir}")

    train_docs, dev_docs = split_documents(cfg, log)
    set_seed(cfg.seed)
    if resume:
        saved = json.loads((last_dir / "trainer_state.json").read_text())
        state.update({k: v for k, v in saved.items() if k != "config"})
        for line in _same_config(saved.get("config", {}), cfg):
            log(f"warning: config changed since the checkpoint: {line}")
        model = JointModel.from_pretrained(last_dir)
        log(f"resuming from {last_dir} after epoch {state['epoch']}")
    else:
        backbone = cfg.backbone
        if backbone == "tiny":
            backbone_dir = out_dir / "backbone"
            if accelerator.is_main_process:
                build_tiny_backbone(
                    [d.text for d in train_docs],
                    backbone_dir,
                    vocab_size=cfg.tiny_vocab_size,
                    hidden=cfg.tiny_hidden,
                    layers=cfg.tiny_layers,
                    heads=cfg.tiny_heads,
                    seed=cfg.seed,
                )
            accelerator.wait_for_everyone()
            backbone = str(backbone_dir)
            log(f"built a tiny backbone from {len(train_docs)} training articles in {backbone}")
        encoder, tokenizer = load_backbone(backbone)
        set_seed(cfg.seed)
        model = JointModel(encoder, tokenizer, cfg.head_config())
    tokenizer = model.tokenizer

    train_examples = [ex for ex in build_examples(train_docs, tokenizer) if ex["input_ids"]]
    dev_examples = build_examples(dev_docs, tokenizer)
    if not train_examples:
        raise ConfigError("train_files: no training paragraph has any text")
    n_rel = sum(len(ex["relations"]) for ex in train_examples)
    log(
        f"train: {len(train_docs)} articles, {len(train_examples)} paragraphs, "
        f"{sum(len(ex['input_ids']) for ex in train_examples)} sub-words, {n_rel} relations; "
        f"dev: {len(dev_docs)} articles, {len(dev_examples)} paragraphs"
    )

    optimizer = torch.optim.AdamW(_param_groups(model, cfg))
    lengths = [len(ex["input_ids"]) for ex in train_examples]
    n_batches = math.ceil(len(train_examples) / cfg.batch_size)
    per_process = math.ceil(n_batches / accelerator.num_processes)
    steps_per_epoch = math.ceil(per_process / cfg.grad_accum)
    total_steps = steps_per_epoch * cfg.epochs
    scheduler = get_linear_schedule_with_warmup(
        optimizer, int(cfg.warmup_ratio * total_steps), total_steps
    )
    model, optimizer = accelerator.prepare(model, optimizer)
    unwrapped = accelerator.unwrap_model(model)
    ema = WeightEMA(unwrapped, cfg.ema_decay) if cfg.ema_decay > 0 else None
    unk_id = tokenizer.unk_token_id
    if cfg.word_dropout > 0 and unk_id is None:
        raise ConfigError("word_dropout: the tokenizer has no [UNK] token")

    if resume:
        optimizer.load_state_dict(torch.load(last_dir / "optimizer.pt", weights_only=True))
        scheduler.load_state_dict(torch.load(last_dir / "scheduler.pt", weights_only=True))
        if accelerator.scaler is not None and (last_dir / "scaler.pt").is_file():
            scaler_state = torch.load(last_dir / "scaler.pt", weights_only=True)
            accelerator.scaler.load_state_dict(scaler_state)
        rng_file = last_dir / f"rng_state_{accelerator.process_index}.pt"
        _set_rng_state(torch.load(rng_file, weights_only=True))
        if ema is not None:
            ema.load(last_dir)
        if accelerator.is_main_process and metrics_path.is_file():  # drop lines past the checkpoint
            kept = [
                line
                for line in metrics_path.read_text().splitlines()
                if line.strip() and json.loads(line)["epoch"] <= state["epoch"]
            ]
            metrics_path.write_text("".join(line + "\n" for line in kept))
    elif accelerator.is_main_process:
        out_dir.mkdir(parents=True, exist_ok=True)
        metrics_path.write_text("")
        for stale in (last_dir, best_dir):
            if stale.exists():
                shutil.rmtree(stale)
    if accelerator.is_main_process:
        (out_dir / "train_config.json").write_text(json.dumps(asdict(cfg), indent=2))

    if state["stopped_early"]:
        log(f"the checkpoint in {last_dir} had already stopped early; nothing to do")
    start_epoch = state["epoch"]
    for epoch in range(start_epoch, cfg.epochs):
        if state["stopped_early"]:
            break
        if cfg.stop_after_epochs is not None and epoch >= cfg.stop_after_epochs:
            log(f"stopping after epoch {epoch} (stop_after_epochs); resume with --resume")
            break
        started = time.time()
        batches = make_batches(lengths, cfg.batch_size, cfg.seed, epoch)
        mine = batches[accelerator.process_index :: accelerator.num_processes]
        while len(mine) < per_process:  # equal step counts on every process
            mine.append(batches[len(mine) % len(batches)])
        model.train()
        sums = {"loss": 0.0, "tag_loss": 0.0, "rel_loss": 0.0}
        bar = tqdm(
            mine,
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            disable=not (cfg.progress and accelerator.is_local_main_process),
            leave=False,
        )
        for i, index_batch in enumerate(bar):
            group_start = (i // cfg.grad_accum) * cfg.grad_accum
            group_size = min(cfg.grad_accum, len(mine) - group_start)
            boundary = i == group_start + group_size - 1
            rng = random.Random(cfg.seed * 1_000_003 + epoch * 10_007 + i)
            examples = [train_examples[j] for j in index_batch]
            if cfg.word_dropout > 0:
                word_rng = random.Random(f"word-dropout {cfg.seed} {epoch} {i}")
                examples = [drop_words(ex, cfg.word_dropout, unk_id, word_rng) for ex in examples]
            batch = unwrapped.collate(examples, rng)
            batch = unwrapped.batch_to(batch, accelerator.device)
            with nullcontext() if boundary else accelerator.no_sync(model):
                out = model(**batch)
                accelerator.backward(out["loss"] / group_size)
            if boundary:
                if cfg.max_grad_norm > 0:
                    accelerator.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                state["global_step"] += 1
                if ema is not None:
                    ema.update()
            for k in sums:
                sums[k] += float(out[k].detach())
            bar.set_postfix(loss=f"{sums['loss'] / (i + 1):.4f}")
        bar.close()
        train_time = time.time() - started

        raw_metrics = {}
        with accelerator.autocast():
            if ema is None or cfg.eval_raw_weights:
                metrics = evaluate(unwrapped, dev_examples, cfg.eval_batch_size)
            if ema is not None:
                if cfg.eval_raw_weights:
                    raw_metrics = {
                        f"raw_{k}": v for k, v in metrics.items() if k in SUMMARY_KEYS
                    }
                with ema.swapped_in():
                    metrics = evaluate(unwrapped, dev_examples, cfg.eval_batch_size)
        score = select_score(metrics, cfg.select_metric)
        state["epoch"] = epoch + 1
        improved = state["best_score"] is None or score > state["best_score"]
        if improved:
            state.update(best_score=score, best_epoch=epoch + 1, best_metrics=metrics, bad_epochs=0)
            if accelerator.is_main_process:
                with ema.swapped_in() if ema is not None else nullcontext():
                    unwrapped.save_pretrained(best_dir)
                (best_dir / "dev_metrics.json").write_text(
                    json.dumps({"epoch": epoch + 1, **metrics}, indent=2)
                )
        else:
            state["bad_epochs"] += 1
        if cfg.patience > 0 and state["bad_epochs"] >= cfg.patience:
            state["stopped_early"] = True
        save_checkpoint(
            last_dir, accelerator, model, optimizer, scheduler, {**state, "config": asdict(cfg)},
            ema,
        )
        record = {
            "epoch": epoch + 1,
            "step": state["global_step"],
            **{k: v / max(len(mine), 1) for k, v in sums.items()},
            "lr_encoder": optimizer.param_groups[0]["lr"],
            "lr_heads": optimizer.param_groups[-1]["lr"],
            "score": score,
            "best": improved,
            "train_seconds": round(train_time, 2),
            "eval_seconds": round(time.time() - started - train_time, 2),
            **metrics,
            **raw_metrics,
        }
        if accelerator.is_main_process:
            with metrics_path.open("a") as fh:
                fh.write(json.dumps(record) + "\n")
        log(
            f"epoch {epoch + 1}: loss {record['loss']:.4f} | dev entity F1 "
            f"{metrics['entity_f1']:.4f} relation F1 {metrics['relation_f1']:.4f} "
            f"(gold spans {metrics['relation_f1_gold_spans']:.4f})"
            + (" *best*" if improved else f" | no improvement for {state['bad_epochs']}")
        )
        if state["stopped_early"]:
            log(f"early stopping: no improvement for {cfg.patience} epochs")

    result = {
        "out_dir": str(out_dir),
        "best_dir": str(best_dir),
        "epochs_done": state["epoch"],
        "best_epoch": state["best_epoch"],
        "best_metrics": state["best_metrics"],
    }
    if state["best_metrics"]:
        bm = state["best_metrics"]
        log(
            f"best model (epoch {state['best_epoch']}: dev entity F1 {bm['entity_f1']:.4f}, "
            f"relation F1 {bm['relation_f1']:.4f}) saved to {best_dir}"
        )
    accelerator.wait_for_everyone()
    return result


SUMMARY_KEYS = (
    "entity_f1",
    "entity_precision",
    "entity_recall",
    "relation_f1",
    "relation_precision",
    "relation_recall",
    "relation_f1_gold_spans",
)


def train_seeds(cfg: TrainConfig, seeds: list[int], resume: bool = False) -> dict[str, Any]:
    """One model per seed in ``out_dir/seed-N``; mean and sd of the best dev metrics."""
    base = Path(cfg.out_dir)
    per_seed = {}
    for seed in seeds:
        result = train_one(replace(cfg, seed=seed, out_dir=str(base / f"seed-{seed}")), resume)
        per_seed[seed] = {"best_epoch": result["best_epoch"], **{
            k: result["best_metrics"][k] for k in SUMMARY_KEYS
        }}
    summary = {"seeds": seeds, "per_seed": per_seed, "mean": {}, "sd": {}}
    for key in SUMMARY_KEYS:
        values = [per_seed[s][key] for s in seeds]
        summary["mean"][key] = statistics.fmean(values)
        summary["sd"][key] = statistics.stdev(values) if len(values) > 1 else 0.0
    base.mkdir(parents=True, exist_ok=True)
    (base / "seeds_summary.json").write_text(json.dumps(summary, indent=2))
    print(f"dev metrics over seeds {seeds} (mean ± sd):")
    for key in SUMMARY_KEYS:
        print(f"  {key:24s} {summary['mean'][key]:.4f} ± {summary['sd'][key]:.4f}")
    print(f"models in {base}/seed-N/best; summary in {base / 'seeds_summary.json'}")
    return summary


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import argparse

    parser = argparse.ArgumentParser(
        prog="train.py", description="Train the ghara joint tagger + relation model."
    )
    parser.add_argument("--config", required=True, help="YAML config (see configs/)")
    parser.add_argument(
        "--set", dest="overrides", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
        help="override config keys (values read as YAML): --set epochs=3 seed=1",
    )
    parser.add_argument("--resume", action="store_true", help="continue from OUT_DIR/last")
    parser.add_argument(
        "--seeds", type=int, nargs="+", help="train one model per seed (OUT_DIR/seed-N)"
    )
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.overrides)
    if args.seeds:
        return train_seeds(cfg, args.seeds, args.resume)
    return train_one(cfg, args.resume)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main() and 0)
