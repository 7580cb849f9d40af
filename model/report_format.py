"""How scores are written in the human-readable reports (evaluation report, model card).

One place so that the evaluation report and the model card never disagree on a number's
rounding. Torch-free.
"""

from __future__ import annotations


def pct(x: float) -> str:
    """A 0..1 score as a percentage with one decimal: ``0.8765 -> "87.7"``."""
    return f"{100 * x:.1f}"
