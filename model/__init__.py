"""ghara.model: the joint tagger + relation model and its public API.

Public API::

    from model import StrikeExtractor, StrikeEvent, normalize_events, build_records, Record
    extractor = StrikeExtractor.from_pretrained("path/or/hub-id")
    events = extractor.extract(article_text)
    events = normalize_events(events, published="2023-05-14")   # dates, counts, places
    records = build_records(events, {"id": "a1", "date": "2023-05-14"}, normalize=False)

Names are imported lazily so that ``import model.metrics`` (or ``model.numbers``) does not
pull in torch and transformers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["StrikeExtractor", "StrikeEvent", "normalize_events", "Record", "build_records"]

_LAZY = {
    "StrikeExtractor": "model.extractor",
    "StrikeEvent": "model.events",
    "normalize_events": "model.events",  # torch-free
    "Record": "model.records",  # torch-free
    "build_records": "model.records",  # torch-free
}

if TYPE_CHECKING:  # pragma: no cover
    from model.events import StrikeEvent, normalize_events
    from model.extractor import StrikeExtractor
    from model.records import Record, build_records


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'model' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
