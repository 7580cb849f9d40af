"""A full training checkpoint (``out_dir/last``): what ``--resume`` needs to be exact.

It holds the model (``JointModel.save_pretrained``), optimizer, scheduler, grad scaler,
the EMA when on, the RNG states of python/numpy/torch (one file per process) and
``trainer_state.json`` (epoch, step, best score, patience counter, the run's config). It
is written beside its place and swapped in, so an interruption never leaves half of one.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

from .config import TRAINER_STATE_NAME, ConfigError


def rng_state() -> dict[str, Any]:
    """The global RNG states of python, numpy, torch (and CUDA when present)."""
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


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
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
    directory: Path, accelerator: Any, model: Any, optimizer: Any, scheduler: Any,
    state: dict, ema: Any = None,
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
        (tmp / TRAINER_STATE_NAME).write_text(json.dumps(state, indent=2))
    accelerator.wait_for_everyone()
    torch.save(rng_state(), tmp / f"rng_state_{accelerator.process_index}.pt")
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        if directory.exists():
            shutil.rmtree(directory)
        tmp.rename(directory)
    accelerator.wait_for_everyone()


def read_trainer_state(directory: Path) -> dict[str, Any]:
    """The ``trainer_state.json`` of a checkpoint (``ConfigError`` when there is none)."""
    path = directory / TRAINER_STATE_NAME
    if not path.is_file():
        raise ConfigError(f"--resume: no checkpoint in {directory}")
    return json.loads(path.read_text())


def restore_checkpoint(
    directory: Path, accelerator: Any, optimizer: Any, scheduler: Any, ema: Any = None
) -> None:
    """Load optimizer, scheduler, scaler, this process's RNG state and the EMA."""
    import torch

    optimizer.load_state_dict(torch.load(directory / "optimizer.pt", weights_only=True))
    scheduler.load_state_dict(torch.load(directory / "scheduler.pt", weights_only=True))
    if accelerator.scaler is not None and (directory / "scaler.pt").is_file():
        accelerator.scaler.load_state_dict(torch.load(directory / "scaler.pt", weights_only=True))
    rng_file = directory / f"rng_state_{accelerator.process_index}.pt"
    set_rng_state(torch.load(rng_file, weights_only=True))
    if ema is not None:
        ema.load(directory)
