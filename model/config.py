"""Training configuration: the keys a ``train.py`` YAML file may hold, read and checked.

Torch-free on purpose: a config is read and validated (and a typo reported) before any
heavy import, and other torch-free tools (``model.card``) read the file names from here.

The head settings (:class:`HeadConfig`) are declared once, here; :class:`TrainConfig`
inherits them, so a YAML config is flat (``rel_hidden: 128`` next to ``epochs: 10``) and
``TrainConfig.head_config()`` hands exactly those keys to ``model.network.JointModel``.

A YAML file's keys are exactly the fields of :class:`TrainConfig` (typed; an unknown key, a
wrong type, a non-finite number, a missing data file stops with a :class:`ConfigError`
naming the key or file). ``--set key=value`` overrides a key (the value is read as YAML).
Relative paths (data files, ``schema_file``, ``out_dir``, a local ``backbone``) are
resolved against the *project root* of the config file (:func:`project_root`), so
``configs/mini.yaml`` works from any working directory.
"""

from __future__ import annotations

import json
import math
import types
import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from annotation.schema import SCHEMA, Schema

from .backbone import DEFAULT_BACKBONE

SELECT_METRICS = ("entity_f1", "relation_f1", "mean")
MIXED_PRECISION = ("auto", "no", "bf16", "fp16")
PATH_KEYS = ("train_files", "dev_file", "schema_file", "out_dir")
#: file names a saved model / training run holds (one source for writers and readers)
MODEL_CONFIG_NAME = "config.json"  # JointModel.save_pretrained (model.network.CONFIG_NAME)
TRAIN_CONFIG_NAME = "train_config.json"  # the run's TrainConfig, beside last/ and best/
TRAINER_STATE_NAME = "trainer_state.json"  # epoch, best score, ... in a checkpoint


class ConfigError(SystemExit):
    """A config problem; exits with its message (``SystemExit`` with a string code: exit 1)."""


@dataclass
class HeadConfig:
    """Everything about the model besides the encoder; saved in the model's ``config.json``."""

    max_length: int = 512  # window length incl. [CLS]/[SEP]
    stride: int = 128  # overlap between consecutive windows (sub-words)
    dropout: float = 0.1
    width_dim: int = 32  # span-width embedding (width in words)
    max_width: int = 16  # widths above this share one bucket
    label_dim: int = 32  # tail-label embedding
    distance_dim: int = 32  # signed distance-bucket embedding
    rel_hidden: int = 256  # relation MLP hidden size (0: a single linear layer)
    concat_embeddings: bool = False
    lstm_hidden: int = 0  # per direction; 0 = no BiLSTM
    lstm_layers: int = 1  # stacked BiLSTM layers (with lstm_hidden > 0)
    rel_loss_weight: float = 1.0
    max_pairs: int = 256  # candidate pairs per paragraph in training (positives always kept)
    #: word gap above which a (STRIKE, argument) pair is no candidate, in training and at
    #: inference. Without it a paragraph's pairs grow with its length squared (an article
    #: without line breaks: millions of pairs, gigabytes); with it they grow linearly. Above
    #: the longest gold paragraph (447 words; the longest gold relation gap is 46), so no
    #: training pair and no prediction on a paragraph of normal length changes.
    max_pair_distance: int = 512
    #: words on each side of every span whose max-pool joins its representation (0 = off):
    #: the casualty noun after a COUNT (قتيلا / جريحا) lies outside both spans and outside
    #: the text between them, so without this the head cannot tell killed from injured
    rel_window: int = 0
    #: decoding: an argument with one of these labels keeps only its most probable STRIKE
    #: (in the gold data 95 % of COUNT and 98 % of TARGET spans belong to a single strike);
    #: labels must be argument labels of the schema (checked by ``JointModel``)
    single_head_labels: list[str] = field(default_factory=list)
    #: training: relation loss weight per role (others 1.0), e.g. ``{injured: 3.0}`` for a
    #: role with few examples that the head otherwise folds into a frequent one (killed);
    #: roles must be relation roles of the schema (checked by ``JointModel``)
    rel_role_weights: dict[str, float] = field(default_factory=dict)
    #: tagger: a linear-chain CRF (learned tag-to-tag scores, trained on whole sequences;
    #: ``model.crf``) instead of independent per-word decisions under the BIO constraints
    crf: bool = False
    #: size of an embedding of each word's casualty cue class (``model.cues``: none /
    #: killed / injured from a small lexicon) joined to the sub-word features before the
    #: BiLSTM, tagger and relation head; 0 = off
    cue_dim: int = 0
    #: also each word's gazetteer class (``model.place_cues``: none / in a known place name /
    #: country adjective), in the same cue embedding (needs ``cue_dim`` > 0)
    place_cues: bool = False
    #: the strike's sentence as a relation feature: the max-pool of the sentence holding
    #: the STRIKE span (up to a sentence-ending mark: . ! ? ؟ ؛) and an embedding (of
    #: ``distance_dim``) of how many sentence ends lie between the two spans (0, 1, 2, 3+)
    rel_sentence: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "HeadConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class TrainConfig(HeadConfig):
    """Every key a training config may have (see configs/*.yaml for commented examples).

    The model keys (``max_length`` ... ``max_pairs``) come from :class:`HeadConfig`.
    """

    # -- data ----------------------------------------------------------------------------
    train_files: list[str] = field(default_factory=list)  # Label Studio JSON exports
    dev_file: str | None = None  # when None: dev_fraction of the articles
    dev_fraction: float = 0.1
    split_seed: int = 0
    #: the labels and roles of a new model: a JSON file in ``Schema.to_dict()`` form
    #: (``version``, ``entity_labels``, ``roles``, optional ``trigger_label``); None = the
    #: built-in ``annotation.schema.SCHEMA``. The exports are read with it and the model
    #: saves it in its config.json. With ``init_from`` the saved model's schema is used
    #: (a ``schema_file`` that differs from it is refused).
    schema_file: str | None = None
    out_dir: str = "runs/model"
    # -- backbone ------------------------------------------------------------------------
    backbone: str = DEFAULT_BACKBONE  # hub id, local dir, or "tiny" (built from train texts)
    tiny_vocab_size: int = 2000
    tiny_hidden: int = 64
    tiny_layers: int = 2
    tiny_heads: int = 2
    #: keep only the backbone's first N transformer layers (None: all of them): for a
    #: backbone whose layers are untrained, fewer random layers can be better and are faster
    encoder_layers: int | None = None
    #: start from a whole saved JointModel (encoder, tokenizer and heads: fine-tuning, as the
    #: Label Studio backend does) instead of ``backbone`` + new heads; the model keys must be
    #: the saved model's own
    init_from: str | None = None
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
    # -- regularisers (see model.training) ---------------------------------------------
    ema_decay: float = 0.0  # 0 = off; evaluate/save an exponential moving average of weights
    eval_raw_weights: bool = False  # with EMA: also log the raw weights' dev metrics
    word_dropout: float = 0.0  # probability of replacing a training word by [UNK]
    #: probability of replacing each training mention of ``mention_replace_labels`` by
    #: another mention of its label from the training set, drawn anew each epoch
    #: (``model.augment``); 0 = off
    mention_replace: float = 0.0
    mention_replace_labels: list[str] = field(default_factory=lambda: ["ACTOR", "PLACE", "TARGET"])
    progress: bool = True  # tqdm progress bars

    def head_config(self) -> HeadConfig:
        """The model keys alone, as ``JointModel`` takes them."""
        return HeadConfig(**{f.name: getattr(self, f.name) for f in fields(HeadConfig)})


#: keys the resumed model takes from its checkpoint, not from the config: changing one
#: on ``--resume`` would be silently ignored, so it is refused instead
MODEL_KEYS = (
    *(f.name for f in fields(HeadConfig)),
    "backbone", "tiny_vocab_size", "tiny_hidden", "tiny_layers", "tiny_heads", "init_from",
    "encoder_layers",
    "schema_file",
)
#: keys that may change on ``--resume`` without a warning
RESUME_FREE_KEYS = ("stop_after_epochs", "progress", "patience")


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
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: key {key!r} must be a mapping, got {value!r}")
        return {
            _coerce(key, k, args[0], source): _coerce(key, v, args[1], source)
            for k, v in value.items()
        }
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: key {key!r} must be true/false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: key {key!r} must be an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, str):  # YAML 1.1 reads 1e-5 (no dot) as a string
            try:
                value = float(value.strip())
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: key {key!r} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{source}: key {key!r} must be a finite number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{source}: key {key!r} must be a string, got {value!r}")
        return str(value)
    raise TypeError(f"unsupported config type {hint!r} for {key}")


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys to values")
    return raw


def _parse_overrides(overrides: list[str]) -> dict[str, Any]:
    import yaml

    parsed: dict[str, Any] = {}
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r}: expected key=value")
        parsed[key.strip()] = yaml.safe_load(text) if text.strip() else None
    return parsed


def _resolve_paths(cfg: TrainConfig, root: Path) -> None:
    def resolve(p: str) -> str:
        return str(p if Path(p).is_absolute() else (root / p).resolve())

    cfg.train_files = [resolve(p) for p in cfg.train_files]
    if cfg.dev_file:
        cfg.dev_file = resolve(cfg.dev_file)
    if cfg.schema_file:
        cfg.schema_file = resolve(cfg.schema_file)
    cfg.out_dir = resolve(cfg.out_dir)
    if cfg.init_from:
        cfg.init_from = resolve(cfg.init_from)
    if cfg.backbone != "tiny" and not Path(cfg.backbone).is_absolute():
        local = root / cfg.backbone
        if local.exists() or cfg.backbone.startswith((".", "/")):
            cfg.backbone = str(local.resolve())


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML config (+ ``key=value`` overrides) into a checked :class:`TrainConfig`."""
    path = Path(path)
    hints = typing.get_type_hints(TrainConfig)
    known = ", ".join(hints)
    values: dict[str, Any] = {}
    sources = [(str(path), _read_yaml(path)), ("--set", _parse_overrides(overrides or []))]
    for source, mapping in sources:
        for key, value in mapping.items():
            if key not in hints:
                raise ConfigError(f"{source}: unknown key {key!r} (known keys: {known})")
            values[key] = _coerce(key, value, hints[key], source)
    cfg = TrainConfig(**values)
    _resolve_paths(cfg, project_root(path))
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
    for f in fields(cfg):  # replace() and direct construction skip _coerce's check
        value = getattr(cfg, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{source}: key {f.name!r} must be a finite number, got {value!r}")
    if cfg.dev_file is None and not 0.0 < cfg.dev_fraction < 1.0:
        raise ConfigError(f"{source}: dev_fraction must be in (0, 1) when no dev_file is given")
    if cfg.select_metric not in SELECT_METRICS:
        raise ConfigError(f"{source}: select_metric must be one of {SELECT_METRICS}")
    if cfg.mixed_precision not in MIXED_PRECISION:
        raise ConfigError(f"{source}: mixed_precision must be one of {MIXED_PRECISION}")
    for key in ("lr_encoder", "lr_heads"):
        if not getattr(cfg, key) > 0:
            raise ConfigError(f"{source}: {key} must be > 0, got {getattr(cfg, key)!r}")
    for key in ("weight_decay", "max_grad_norm", "rel_loss_weight"):
        if getattr(cfg, key) < 0:
            raise ConfigError(f"{source}: {key} must be >= 0, got {getattr(cfg, key)!r}")
    if not 0.0 <= cfg.warmup_ratio <= 1.0:
        raise ConfigError(f"{source}: warmup_ratio must be in [0, 1]")
    if not 0.0 <= cfg.dropout < 1.0:
        raise ConfigError(f"{source}: dropout must be in [0, 1)")
    if not 0.0 <= cfg.ema_decay < 1.0:
        raise ConfigError(f"{source}: ema_decay must be in [0, 1) (0 = off)")
    if not 0.0 <= cfg.word_dropout < 1.0:
        raise ConfigError(f"{source}: word_dropout must be in [0, 1) (0 = off)")
    if cfg.encoder_layers is not None and cfg.encoder_layers < 0:
        raise ConfigError(f"{source}: encoder_layers must be >= 0 (or null: all)")
    if not 0.0 <= cfg.mention_replace <= 1.0:
        raise ConfigError(f"{source}: mention_replace must be in [0, 1] (0 = off)")
    if cfg.rel_window < 0:
        raise ConfigError(f"{source}: rel_window must be >= 0 (0 = off), got {cfg.rel_window!r}")
    if cfg.lstm_layers < 1:
        raise ConfigError(f"{source}: lstm_layers must be >= 1, got {cfg.lstm_layers!r}")
    if cfg.cue_dim < 0:
        raise ConfigError(f"{source}: cue_dim must be >= 0 (0 = off), got {cfg.cue_dim!r}")
    if cfg.place_cues and cfg.cue_dim == 0:
        raise ConfigError(f"{source}: place_cues needs cue_dim > 0 (they share its embedding)")
    if cfg.init_from is not None and cfg.schema_file is not None:
        training_schema(cfg, source)  # refuses a schema_file that differs from the model's
    if cfg.init_from is None:  # a new model gets SCHEMA or schema_file's (model.training)
        schema = training_schema(cfg, source)
        arguments, roles = set(schema.argument_labels), set(schema.relation_classes[1:])
        if bad := sorted(set(cfg.single_head_labels) - arguments):
            raise ConfigError(
                f"{source}: single_head_labels: {bad} are not argument labels "
                f"(known: {sorted(arguments)})"
            )
        if bad := sorted(set(cfg.rel_role_weights) - roles):
            raise ConfigError(
                f"{source}: rel_role_weights: {bad} are not relation roles (known: {sorted(roles)})"
            )
        if bad := sorted(set(cfg.mention_replace_labels) - set(schema.entity_labels)):
            raise ConfigError(
                f"{source}: mention_replace_labels: {bad} are not entity labels "
                f"(known: {sorted(schema.entity_labels)})"
            )
    for role, weight in cfg.rel_role_weights.items():
        if not (math.isfinite(weight) and weight >= 0):
            raise ConfigError(
                f"{source}: rel_role_weights[{role!r}] must be a finite number >= 0, got {weight!r}"
            )
    for key in ("epochs", "batch_size", "eval_batch_size", "grad_accum", "max_length"):
        if getattr(cfg, key) < 1:
            raise ConfigError(f"{source}: {key} must be >= 1")
    if not 0 <= cfg.stride < cfg.max_length - 2:
        raise ConfigError(f"{source}: stride must be in [0, max_length - 2)")
    backbone = Path(cfg.backbone)
    if cfg.backbone != "tiny" and backbone.is_absolute() and not backbone.is_dir():
        raise ConfigError(f"{source}: backbone: local model directory not found: {backbone}")


def saved_model_schema(model_dir: str | Path) -> Schema:
    """The schema a saved model was trained with (its config.json), read without torch;
    the built-in schema for a model saved before schemas were recorded."""
    config_file = Path(model_dir) / MODEL_CONFIG_NAME
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{model_dir}: not a saved model: no {MODEL_CONFIG_NAME}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"{config_file}: cannot be read: {err}") from None
    if not isinstance(config, dict) or not config.get("schema"):
        return SCHEMA
    try:
        return Schema.from_dict(config["schema"])
    except ValueError as err:
        raise ConfigError(f"{config_file}: schema: {err}") from None


def training_schema(
    cfg: TrainConfig, source: str = "config", model_dir: str | Path | None = None
) -> Schema:
    """The schema a run reads its exports with and trains: the saved model's when there is
    one (``model_dir``, e.g. the checkpoint on ``--resume``, else ``init_from``), else the
    ``schema_file``'s, else the built-in :data:`annotation.schema.SCHEMA`.

    A ``schema_file`` that differs from the saved model's schema is refused: the model's
    tag and relation layers are sized for its own labels.
    """
    file_schema = None
    if cfg.schema_file is not None:
        try:
            file_schema = Schema.from_file(cfg.schema_file)
        except ValueError as err:
            raise ConfigError(f"{source}: schema_file: {err}") from None
    if model_dir is None and cfg.init_from:
        if not Path(cfg.init_from).is_dir():
            raise ConfigError(f"init_from: model directory not found: {cfg.init_from}")
        model_dir = cfg.init_from
    if model_dir is None:
        return file_schema or SCHEMA
    saved = saved_model_schema(model_dir)
    if file_schema is not None and file_schema != saved:
        new, old = file_schema.to_dict(), saved.to_dict()
        differ = "; ".join(f"{k} {old[k]!r} (model) vs {new[k]!r} (file)"
                           for k in old if old[k] != new[k])
        raise ConfigError(
            f"{source}: schema_file {cfg.schema_file} differs from the schema of the model in "
            f"{model_dir} ({differ}): leave schema_file out to keep the model's schema, or "
            "train a new model (no init_from) with the new schema"
        )
    return saved


def resume_changes(saved: dict[str, Any], cfg: TrainConfig) -> list[str]:
    """Keys changed since a checkpoint's config (``key: old -> new``, free keys left out).

    A changed model key (:data:`MODEL_KEYS`) is a :class:`ConfigError` naming every such
    key: the resumed model keeps the checkpoint's architecture, so the new value would be
    recorded in ``train_config.json`` without ever being used. Keys a checkpoint predates
    are not compared.
    """
    current = asdict(cfg)
    changed = {
        k: f"{k}: {saved[k]!r} -> {current[k]!r}"
        for k in current
        if k in saved and k not in RESUME_FREE_KEYS and saved[k] != current[k]
    }
    refused = [line for k, line in changed.items() if k in MODEL_KEYS]
    if refused:
        raise ConfigError(
            "--resume: the checkpoint's model was built with other settings ("
            + "; ".join(refused)
            + "): set them back, or train afresh without --resume"
        )
    return list(changed.values())
