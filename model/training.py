"""Training the joint model: the loop, ``--seeds`` and the command line.

Run through ``train.py`` (a thin command line)::

    python train.py --config configs/tiny.yaml [--set key=value ...] [--resume] [--seeds 1 2 3]
    accelerate launch train.py --config configs/arabert.yaml      # several GPUs, no change

Exit codes: 0 trained; 1 a config, data or checkpoint problem, or training diverged (the
message names the key, file or step); 2 bad command-line usage (argparse).

Where each part lives
    ``model.config``      the config keys (:class:`TrainConfig`, head settings declared once
                          in ``HeadConfig``), YAML loading, ``--set``, checks, project root
    ``model.trainset``    documents, dev split, batch order, negative sampling RNG, word dropout
    ``model.dev_scores``  dev metrics after each epoch and best-epoch selection
    ``model.checkpoint``  ``out_dir/last``: model, optimizer, scheduler, scaler, RNG states
    ``model.ema``         the exponential moving average of the weights
    this module           the loop, ``--seeds``, ``main``

Config
    A YAML file whose keys are exactly the fields of :class:`TrainConfig`; relative paths
    are resolved against the config file's project root (see ``model.config``). A learning
    rate that is not a finite number > 0 is refused before anything is read.

Data
    One or more Label Studio exports (``train_files``), read with
    ``annotation.export.read_export`` (its conversion summary is printed first) and the
    run's schema: ``schema_file`` (a JSON file in ``Schema.to_dict()`` form, for a model
    with labels of its own), the ``init_from`` model's or, by default, the built-in
    ``annotation.schema.SCHEMA``; the new model is built with it and saves it. The dev set
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
    so ``--resume`` continues to the same weights an uninterrupted run reaches. Batch order
    and negative sampling are functions of ``(seed, epoch, step)``, not of global RNG state.
    ``--resume`` refuses a changed model key (head settings, backbone): the checkpoint's
    model keeps its own. A loss that is not finite stops training (:class:`TrainingDiverged`)
    before the weights are updated; ``out_dir/last`` keeps the last good epoch.

Regularisers (both off by default)
    ``ema_decay`` (0 = off; e.g. 0.995): keep an exponential moving average of the weights
    (``model.ema``). Dev metrics, best-epoch selection and ``out_dir/best`` use the
    *averaged* weights; ``out_dir/last`` keeps the raw training weights plus the average.
    ``eval_raw_weights: true`` additionally logs the raw weights' dev metrics
    (``raw_entity_f1``, ...) in ``metrics.jsonl`` -- one more dev pass per epoch.
    ``word_dropout`` (0 = off; e.g. 0.1): at training time every word of a paragraph is
    replaced, with this probability, by ``[UNK]`` (all its sub-words; lengths and labels
    unchanged). The draw is a function of ``(seed, epoch, step)`` as well.
    ``mention_replace`` (0 = off; e.g. 0.3): each epoch, every training mention of
    ``mention_replace_labels`` (ACTOR, PLACE, TARGET) is replaced with this probability by
    another mention of its label from the training articles, and the articles are encoded
    again (``model.augment``; drawn from ``(seed, epoch)``), so the tagger learns contexts
    rather than the names it was shown.

Seeds
    ``--seeds 1 2 3`` trains one model per seed in ``out_dir/seed-N`` and writes the mean
    and sample standard deviation of the best-epoch dev metrics to
    ``out_dir/seeds_summary.json``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from annotation.schema import Schema

# re-exported: model.backend, model.demo, bench/ and tests import these from here
from .augment import augmented_documents, mention_pool
from .checkpoint import read_trainer_state, restore_checkpoint, save_checkpoint
from .config import (
    MIXED_PRECISION,
    PATH_KEYS,
    SELECT_METRICS,
    TRAIN_CONFIG_NAME,
    ConfigError,
    HeadConfig,
    TrainConfig,
    load_config,
    project_root,
    resume_changes,
    training_schema,
    validate_config,
)
from .evaluation import paragraphs_of
from .dev_scores import SUMMARY_KEYS, evaluate, gold_relation_tuples, gold_spans_of, select_score
from .ema import WeightEMA
from .trainset import (
    drop_words,
    make_batches,
    read_documents,
    split_documents,
    step_examples,
    step_rng,
)

__all__ = [
    "ConfigError", "HeadConfig", "MIXED_PRECISION", "PATH_KEYS", "SELECT_METRICS",
    "SUMMARY_KEYS", "TrainConfig", "TrainingDiverged", "WeightEMA", "drop_words", "evaluate",
    "gold_relation_tuples", "gold_spans_of", "load_config", "main", "make_batches",
    "project_root", "read_documents", "select_score", "split_documents", "train_one",
    "train_seeds", "validate_config",
]


class TrainingDiverged(SystemExit):
    """The training loss stopped being a finite number; exits 1 with its message."""


# -- setup -------------------------------------------------------------------------------
def _mixed_precision(setting: str) -> str | None:
    import torch

    if setting != "auto":
        return setting
    if os.environ.get("ACCELERATE_MIXED_PRECISION"):
        return None  # `accelerate launch --mixed_precision ...` decides
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "no"


def _param_groups(model: Any, cfg: TrainConfig) -> list[dict]:
    """Encoder / head learning rates; no weight decay on biases and norms."""
    groups = {(is_head, decay): [] for is_head in (False, True) for decay in (False, True)}
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


def _fresh_state() -> dict[str, Any]:
    return {"epoch": 0, "global_step": 0, "best_score": None, "best_epoch": None,
            "best_metrics": None, "bad_epochs": 0, "stopped_early": False}


def _new_model(
    cfg: TrainConfig, train_docs: list, accelerator: Any, log: Callable,
    schema: Schema | None = None,
) -> Any:
    """A fresh ``JointModel`` on the configured backbone (a tiny one built when asked) with
    ``schema`` (None: the config's, :func:`model.config.training_schema`), or the saved
    model ``init_from`` names, to fine-tune it."""
    from accelerate.utils import set_seed

    from .backbone import LayerCountError, build_tiny_backbone, load_backbone
    from .network import JointModel

    if cfg.init_from:
        if not Path(cfg.init_from).is_dir():
            raise ConfigError(f"init_from: model directory not found: {cfg.init_from}")
        model = JointModel.from_pretrained(cfg.init_from)
        differ = [
            f"{key}: {old!r} (saved) vs {new!r} (config)"
            for key, old in asdict(model.heads).items()
            if key in asdict(cfg.head_config()) and (new := getattr(cfg, key)) != old
        ]
        if differ:
            raise ConfigError("init_from: the config's model keys differ from the saved model's: "
                              + "; ".join(differ))
        log(f"fine-tuning the saved model {cfg.init_from}")
        set_seed(cfg.seed)
        return model

    backbone = cfg.backbone
    if backbone == "tiny":
        backbone_dir = Path(cfg.out_dir) / "backbone"
        if accelerator.is_main_process:
            build_tiny_backbone(
                [d.text for d in train_docs], backbone_dir, vocab_size=cfg.tiny_vocab_size,
                hidden=cfg.tiny_hidden, layers=cfg.tiny_layers, heads=cfg.tiny_heads,
                seed=cfg.seed,
            )
        accelerator.wait_for_everyone()
        backbone = str(backbone_dir)
        log(f"built a tiny backbone from {len(train_docs)} training articles in {backbone}")
    try:
        encoder, tokenizer = load_backbone(backbone, cfg.encoder_layers)
    except LayerCountError as err:
        raise ConfigError(f"encoder_layers: {err}") from None
    set_seed(cfg.seed)
    schema = schema or training_schema(cfg)
    if cfg.schema_file:
        log(f"schema {schema.version} from {cfg.schema_file}: {len(schema.entity_labels)} "
            f"labels, {len(schema.roles)} roles")
    return JointModel(encoder, tokenizer, cfg.head_config(), schema)


def _examples(train_docs: list, dev_docs: list, model: Any, log: Callable):
    """Examples built by the model itself (``JointModel.examples``): its tokenizer and its
    recorded preprocessing, the same inference will use."""
    train = [ex for ex in model.examples(train_docs) if ex["input_ids"]]
    dev = model.examples(dev_docs)
    if not train:
        raise ConfigError("train_files: no training paragraph has any text")
    log(
        f"train: {len(train_docs)} articles, {len(train)} paragraphs, "
        f"{sum(len(ex['input_ids']) for ex in train)} sub-words, "
        f"{sum(len(ex['relations']) for ex in train)} relations; "
        f"dev: {len(dev_docs)} articles, {len(dev)} paragraphs"
    )
    return train, dev


@dataclass
class _Run:
    """What one training run holds between epochs."""

    cfg: TrainConfig
    accelerator: Any
    model: Any  # as prepared by accelerate (maybe DDP-wrapped)
    unwrapped: Any
    optimizer: Any
    scheduler: Any
    ema: WeightEMA | None
    train_examples: list[dict]
    train_docs: list  # for mention replacement (cfg.mention_replace), which re-encodes them
    dev_paragraphs: list  # gold paragraphs, scored exactly as evaluate.py scores them
    steps_per_process: int  # batches per process and epoch
    unk_id: int | None
    state: dict[str, Any]

    @property
    def out_dir(self) -> Path:
        return Path(self.cfg.out_dir)

    @property
    def metrics_path(self) -> Path:
        return self.out_dir / "metrics.jsonl"


def _prepare(cfg: TrainConfig, resume: bool, accelerator: Any, log: Callable) -> _Run:
    """Data, model, optimizer, scheduler, EMA -- restored from ``out_dir/last`` on resume."""
    import torch
    from accelerate.utils import set_seed
    from transformers import get_linear_schedule_with_warmup

    from .network import JointModel

    last_dir = Path(cfg.out_dir) / "last"
    state = _fresh_state()
    if resume:  # before anything is read or written: a refused resume changes nothing
        saved = read_trainer_state(last_dir)
        changes = resume_changes(saved.get("config", {}), cfg)
        state.update({k: v for k, v in saved.items() if k != "config"})
    # the resumed checkpoint's schema, else init_from's, else schema_file's, else SCHEMA
    schema = training_schema(cfg, model_dir=last_dir if resume else None)
    train_docs, dev_docs = split_documents(cfg, log, schema)
    set_seed(cfg.seed)
    if resume:
        for line in changes:
            log(f"warning: config changed since the checkpoint: {line}")
        model = JointModel.from_pretrained(last_dir)
        log(f"resuming from {last_dir} after epoch {state['epoch']}")
    else:
        model = _new_model(cfg, train_docs, accelerator, log, schema)
    train_examples, dev_examples = _examples(train_docs, dev_docs, model, log)
    dev_paragraphs = paragraphs_of(dev_docs)

    optimizer = torch.optim.AdamW(_param_groups(model, cfg))
    n_batches = math.ceil(len(train_examples) / cfg.batch_size)
    per_process = math.ceil(n_batches / accelerator.num_processes)
    total_steps = math.ceil(per_process / cfg.grad_accum) * cfg.epochs
    scheduler = get_linear_schedule_with_warmup(
        optimizer, int(cfg.warmup_ratio * total_steps), total_steps
    )
    model, optimizer = accelerator.prepare(model, optimizer)
    unwrapped = accelerator.unwrap_model(model)
    ema = WeightEMA(unwrapped, cfg.ema_decay) if cfg.ema_decay > 0 else None
    unk_id = unwrapped.tokenizer.unk_token_id
    if cfg.word_dropout > 0 and unk_id is None:
        raise ConfigError("word_dropout: the tokenizer has no [UNK] token")
    run = _Run(cfg, accelerator, model, unwrapped, optimizer, scheduler, ema, train_examples,
               train_docs, dev_paragraphs, per_process, unk_id, state)
    if resume:
        restore_checkpoint(last_dir, accelerator, optimizer, scheduler, ema)
    _prepare_out_dir(run, resume)
    return run


def _prepare_out_dir(run: _Run, resume: bool) -> None:
    """Fresh run: empty metrics, stale last/best removed. Resume: metrics past it dropped."""
    if not run.accelerator.is_main_process:
        return
    out_dir, metrics_path = run.out_dir, run.metrics_path
    if resume and metrics_path.is_file():
        kept = [
            line
            for line in metrics_path.read_text().splitlines()
            if line.strip() and json.loads(line)["epoch"] <= run.state["epoch"]
        ]
        metrics_path.write_text("".join(line + "\n" for line in kept))
    elif not resume:
        out_dir.mkdir(parents=True, exist_ok=True)
        metrics_path.write_text("")
        for stale in (out_dir / "last", out_dir / "best"):
            if stale.exists():
                shutil.rmtree(stale)
    (out_dir / TRAIN_CONFIG_NAME).write_text(json.dumps(asdict(run.cfg), indent=2))


# -- one epoch ---------------------------------------------------------------------------
def _check_finite(run: _Run, loss: Any, epoch: int, step: int) -> None:
    """Stop before a non-finite loss reaches the weights (checked on every process)."""
    import torch

    bad = (~torch.isfinite(loss.detach())).any().float().reshape(1)
    if run.accelerator.num_processes > 1:  # every process stops, not just the one that saw it
        bad = run.accelerator.reduce(bad, "sum")
    if bad.item() > 0:
        kept = (f"{run.out_dir / 'last'} holds epoch {run.state['epoch']}"
                if run.state["epoch"] else "no epoch had finished, nothing was saved")
        raise TrainingDiverged(
            f"training diverged: the loss is {float(loss.detach())} at epoch {epoch + 1}, "
            f"step {step + 1}; lower lr_encoder/lr_heads (now {run.cfg.lr_encoder}/"
            f"{run.cfg.lr_heads}) or raise warmup_ratio; {kept}"
        )


def _epoch_examples(run: _Run, epoch: int) -> list[dict]:
    """The training examples of ``epoch``: the run's own, or with ``mention_replace`` the
    documents' mentions replaced from ``(seed, epoch)`` (``model.augment``) and re-encoded."""
    cfg = run.cfg
    if cfg.mention_replace <= 0:
        return run.train_examples
    pool = mention_pool(run.train_docs, cfg.mention_replace_labels)
    docs = augmented_documents(run.train_docs, pool, cfg.mention_replace, cfg.seed, epoch)
    return [ex for ex in run.unwrapped.examples(docs) if ex["input_ids"]]


def _train_epoch(run: _Run, epoch: int) -> dict[str, float]:
    """One pass over the training batches; mean losses."""
    from tqdm.auto import tqdm

    cfg, accelerator, model = run.cfg, run.accelerator, run.model
    train_examples = _epoch_examples(run, epoch)
    lengths = [len(ex["input_ids"]) for ex in train_examples]
    batches = make_batches(lengths, cfg.batch_size, cfg.seed, epoch)
    mine = batches[accelerator.process_index :: accelerator.num_processes]
    while len(mine) < run.steps_per_process:  # equal step counts on every process
        mine.append(batches[len(mine) % len(batches)])
    model.train()
    sums = {"loss": 0.0, "tag_loss": 0.0, "rel_loss": 0.0}
    bar = tqdm(mine, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False,
               disable=not (cfg.progress and accelerator.is_local_main_process))
    for i, index_batch in enumerate(bar):
        group_start = (i // cfg.grad_accum) * cfg.grad_accum
        group_size = min(cfg.grad_accum, len(mine) - group_start)
        boundary = i == group_start + group_size - 1
        examples = step_examples(
            [train_examples[j] for j in index_batch], cfg, epoch, i, run.unk_id
        )
        batch = run.unwrapped.collate(examples, step_rng(cfg.seed, epoch, i))
        batch = run.unwrapped.batch_to(batch, accelerator.device)
        with nullcontext() if boundary else accelerator.no_sync(model):
            out = model(**batch)
            _check_finite(run, out["loss"], epoch, i)
            accelerator.backward(out["loss"] / group_size)
        if boundary:
            _optimizer_step(run)
        for k in sums:
            sums[k] += float(out[k].detach())
        bar.set_postfix(loss=f"{sums['loss'] / (i + 1):.4f}")
    bar.close()
    return {k: v / max(len(mine), 1) for k, v in sums.items()}


def _optimizer_step(run: _Run) -> None:
    if run.cfg.max_grad_norm > 0:
        run.accelerator.clip_grad_norm_(run.model.parameters(), run.cfg.max_grad_norm)
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    run.state["global_step"] += 1
    if run.ema is not None:
        run.ema.update()


def _dev_metrics(run: _Run) -> tuple[dict[str, Any], dict[str, Any]]:
    """Dev metrics of the weights that are selected (the EMA when on) + raw-weight extras."""
    cfg, ema, model = run.cfg, run.ema, run.unwrapped
    raw: dict[str, Any] = {}
    with run.accelerator.autocast():
        if ema is None or cfg.eval_raw_weights:
            metrics = evaluate(model, run.dev_paragraphs, cfg.eval_batch_size)
        if ema is not None:
            if cfg.eval_raw_weights:
                raw = {f"raw_{k}": v for k, v in metrics.items() if k in SUMMARY_KEYS}
            with ema.swapped_in():
                metrics = evaluate(model, run.dev_paragraphs, cfg.eval_batch_size)
    return metrics, raw


def _select(run: _Run, epoch: int, metrics: dict[str, Any]) -> tuple[float, bool]:
    """Best-epoch bookkeeping; saves ``out_dir/best`` when the score improved."""
    state, best_dir = run.state, run.out_dir / "best"
    score = select_score(metrics, run.cfg.select_metric)
    state["epoch"] = epoch + 1
    improved = state["best_score"] is None or score > state["best_score"]
    if improved:
        state.update(best_score=score, best_epoch=epoch + 1, best_metrics=metrics, bad_epochs=0)
        if run.accelerator.is_main_process:
            with run.ema.swapped_in() if run.ema is not None else nullcontext():
                run.unwrapped.save_pretrained(best_dir)
            (best_dir / "dev_metrics.json").write_text(
                json.dumps({"epoch": epoch + 1, **metrics}, indent=2)
            )
    else:
        state["bad_epochs"] += 1
    if _still_stopped(run.cfg.patience, state["bad_epochs"]):
        state["stopped_early"] = True
    return score, improved


def _still_stopped(patience: int, bad_epochs: int) -> bool:
    """Whether ``bad_epochs`` epochs without improvement stop a run (``patience`` 0: never)."""
    return patience > 0 and bad_epochs >= patience


def _log_epoch(run: _Run, record: dict[str, Any], log: Callable) -> None:
    if run.accelerator.is_main_process:
        with run.metrics_path.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
    log(
        f"epoch {record['epoch']}: loss {record['loss']:.4f} | dev entity F1 "
        f"{record['entity_f1']:.4f} relation F1 {record['relation_f1']:.4f} "
        f"(gold spans {record['relation_f1_gold_spans']:.4f})"
        + (" *best*" if record["best"] else f" | no improvement for {run.state['bad_epochs']}")
    )
    if run.state["stopped_early"]:
        log(f"early stopping: no improvement for {run.cfg.patience} epochs")


# -- the loop ----------------------------------------------------------------------------
def train_one(cfg: TrainConfig, resume: bool = False) -> dict[str, Any]:
    """Train one model; returns ``{"out_dir", "best_dir", "epochs_done", "best_epoch",
    "best_metrics"}``. Raises :class:`ConfigError` / :class:`TrainingDiverged` (exit 1)."""
    from accelerate import Accelerator

    accelerator = Accelerator(mixed_precision=_mixed_precision(cfg.mixed_precision))
    log = accelerator.print
    run = _prepare(cfg, resume, accelerator, log)
    state = run.state
    if state["stopped_early"] and not _still_stopped(cfg.patience, state["bad_epochs"]):
        # patience is free to change on --resume: a longer one (or 0) goes on from there
        log(f"the checkpoint in {run.out_dir / 'last'} stopped early after "
            f"{state['bad_epochs']} epochs without improvement; patience {cfg.patience} "
            "goes on")
        state["stopped_early"] = False
    if state["stopped_early"]:
        log(f"the checkpoint in {run.out_dir / 'last'} had already stopped early; nothing to do")
    for epoch in range(state["epoch"], cfg.epochs):
        if state["stopped_early"]:
            break
        if cfg.stop_after_epochs is not None and epoch >= cfg.stop_after_epochs:
            log(f"stopping after epoch {epoch} (stop_after_epochs); resume with --resume")
            break
        started = time.time()
        losses = _train_epoch(run, epoch)
        train_time = time.time() - started
        metrics, raw_metrics = _dev_metrics(run)
        score, improved = _select(run, epoch, metrics)
        save_checkpoint(run.out_dir / "last", accelerator, run.model, run.optimizer,
                        run.scheduler, {**state, "config": asdict(cfg)}, run.ema)
        _log_epoch(run, {
            "epoch": epoch + 1, "step": state["global_step"], **losses,
            "lr_encoder": run.optimizer.param_groups[0]["lr"],
            "lr_heads": run.optimizer.param_groups[-1]["lr"],
            "score": score, "best": improved, "train_seconds": round(train_time, 2),
            "eval_seconds": round(time.time() - started - train_time, 2),
            **metrics, **raw_metrics,
        }, log)
    best_dir = run.out_dir / "best"
    if state["best_metrics"]:
        bm = state["best_metrics"]
        log(f"best model (epoch {state['best_epoch']}: dev entity F1 {bm['entity_f1']:.4f}, "
            f"relation F1 {bm['relation_f1']:.4f}) saved to {best_dir}")
    accelerator.wait_for_everyone()
    return {"out_dir": str(run.out_dir), "best_dir": str(best_dir),
            "epochs_done": state["epoch"], "best_epoch": state["best_epoch"],
            "best_metrics": state["best_metrics"]}


# -- seeds and command line --------------------------------------------------------------
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
    """``train.py``: parse arguments, load the config, train one model or one per seed."""
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
