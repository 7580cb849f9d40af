"""ghara.model: the joint tagger + relation model and its public API.

Public API::

    from model import StrikeExtractor, StrikeEvent
    extractor = StrikeExtractor.from_pretrained("path/or/hub-id")
    events = extractor.extract(article_text)

Names are imported lazily so that ``import model.metrics`` (or ``model.numbers``) does not
pull in torch and transformers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["StrikeExtractor", "StrikeEvent"]

_LAZY = {
    "StrikeExtractor": "model.extractor",
    "StrikeEvent": "model.events",
}

if TYPE_CHECKING:  # pragma: no cover
    from model.events import StrikeEvent
    from model.extractor import StrikeExtractor


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'model' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
