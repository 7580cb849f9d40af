"""An exponential moving average (EMA) of a model's weights, and its file in a checkpoint.

Updated after every optimizer step with decay ``min(decay, (1 + n) / (10 + n))`` (``n`` =
updates so far, so the first steps do not drag the random initialisation along). Dev
metrics, best-epoch selection and ``out_dir/best`` use the averaged weights
(:meth:`WeightEMA.swapped_in`); the checkpoint keeps the raw weights plus the average
(``ema.safetensors``, with its update count), so ``--resume`` stays exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .config import ConfigError


class WeightEMA:
    """An exponential moving average of a model's trainable parameters."""

    FILE = "ema.safetensors"

    def __init__(self, model: Any, decay: float) -> None:
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
    def swapped_in(self) -> Iterator[None]:
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
