"""Shared, cached tiny-model artefacts for tests/test_model.py and tests/test_training.py.

Built once per test session (plain module-level caches, so both test modules share them):
a tiny WordPiece + BERT backbone from the sample export's texts, a 6-paragraph training
export (the first two sample articles) and a joint model trained on it until it fits.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "annotation" / "sample" / "sample_export.json"
TINY_CONFIG = REPO / "configs" / "tiny.yaml"


@lru_cache(maxsize=None)
def workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="ghara-model-tests-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@lru_cache(maxsize=None)
def tiny_backbone() -> Path:
    from model.backbone import build_tiny_backbone

    texts = [t["data"]["text"] for t in json.loads(SAMPLE.read_text(encoding="utf-8"))]
    return build_tiny_backbone(
        texts, workdir() / "backbone", vocab_size=1500, hidden=64, layers=2, heads=2, seed=0
    )


@lru_cache(maxsize=None)
def small_export() -> Path:
    """The first two sample articles (6 paragraphs, 24 relations) as an export file."""
    tasks = json.loads(SAMPLE.read_text(encoding="utf-8"))[:2]
    path = workdir() / "small_export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return path


def overrides(out_dir: Path, **extra) -> list[str]:
    """``--set`` values for a fast tiny run on the small export (train = dev)."""
    values = {
        "train_files": str(small_export()),
        "dev_file": str(small_export()),
        "backbone": str(tiny_backbone()),
        "out_dir": str(out_dir),
        "progress": False,
        "dropout": 0.0,
        "word_dropout": 0.0,  # the demo config's regularisers would slow fitting the small export
        "lstm_hidden": 0,
        "batch_size": 2,
        "lr_encoder": 0.002,
        "lr_heads": 0.005,
        "warmup_ratio": 0.0,
        "epochs": 20,
        "patience": 5,
        **extra,
    }
    return [f"{k}={'null' if v is None else str(v).lower() if isinstance(v, bool) else v}"
            for k, v in values.items()]


@lru_cache(maxsize=None)
def overfit_run() -> dict:
    """Train the tiny model on the small export until dev (= train) stops improving."""
    from model.training import load_config, train_one

    cfg = load_config(TINY_CONFIG, overrides(workdir() / "overfit"))
    return train_one(cfg)
