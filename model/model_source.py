"""Where a ``--model`` argument points, checked before anything loads (torch-free).

Why: ``from_pretrained`` treats any string that is not a local directory as a hub id, so a
mistyped local path (``runs/x/bset``) became a network error ("check your internet
connection") after seconds of waiting. Every command that takes a model (``model.batch``,
its Ray engine, ``evaluate.py``) reports a missing directory, a file, or a failed load in
one line instead.
"""

from __future__ import annotations

from pathlib import Path


class ModelSourceError(ValueError):
    """The model argument names no usable model (the message is one line for the user)."""


def model_source(model: str) -> str:
    """What to pass to ``from_pretrained`` for ``model``: a local directory, or a hub id.

    A path that does not exist is only a hub id when it has the hub's ``org/name`` shape;
    anything else (``./x``, ``/abs``, ``runs/x/best``) is a missing directory."""
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelSourceError(f"--model {model} is a file; give the model directory")
        if not (path / "config.json").is_file():  # found here, not in a Ray actor later
            raise ModelSourceError(f"model directory {model} holds no config.json: not a "
                                   "saved model (train.py saves one in OUT_DIR/best)")
        return str(path)
    if model.startswith((".", "/", "~")) or model.count("/") != 1 or model.endswith("/"):
        raise ModelSourceError(f"model directory not found: {model}")
    return model


def load_failure(model: str, err: BaseException) -> str:
    """One line saying why ``model`` did not load (the first line of the loader's error)."""
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    where = "" if Path(model).expanduser().exists() else " (no such local directory; tried as a hub id)"
    return f"cannot load model {model}{where}: {type(err).__name__}: {first}"
