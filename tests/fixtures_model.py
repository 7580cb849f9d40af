"""Model fixtures for the eval helper's tests (extractor, batch, evaluate, card).

The tiny joint model is the one ``_ghara_tiny.overfit_run()`` trains once per test session
(shared with tests/test_model.py and tests/test_training.py through its module-level
cache): a tiny WordPiece + BERT backbone trained to fit the first two sample articles, so
on those articles its predictions equal the gold annotation.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from _ghara_tiny import REPO, SAMPLE, overfit_run, small_export  # noqa: F401  (re-exported)


@lru_cache(maxsize=None)
def tiny_model_dir() -> Path:
    return Path(overfit_run()["best_dir"])


@lru_cache(maxsize=None)
def tiny_extractor():
    from model import StrikeExtractor

    return StrikeExtractor.from_pretrained(tiny_model_dir())


@lru_cache(maxsize=None)
def small_documents() -> tuple:
    from annotation import read_export

    return tuple(read_export(small_export()).documents)
