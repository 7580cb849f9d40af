"""The public API: ``StrikeExtractor`` -- articles in, :class:`StrikeEvent` records out.

::

    from model import StrikeExtractor
    extractor = StrikeExtractor.from_pretrained("path/to/model")   # or a hub id
    for event in extractor.extract(article):
        print(event.to_dict())

Text is NFC-normalised on the way in (the model and the annotations live in NFC), but every
offset returned indexes the caller's ORIGINAL string: ``text[e.trigger.start:e.trigger.end]
== e.trigger.text`` always holds, also when NFC changed the text's length. The article is
cut into paragraphs (non-blank lines; relations never cross them); the paragraphs of a whole
batch go through the model together, sorted by length so padding stays small.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from annotation.documents import Document
from annotation.paragraphs import paragraph_ranges

from .events import StrikeEvent, build_events, normalize_events

__all__ = ["StrikeExtractor", "OffsetMap", "has_arabic"]

_ARABIC_LETTER = re.compile("[\u0620-\u064a\u0671-\u06d3\u06fa-\u06fc\u0750-\u077f\u08a0-\u08c9"
                            "\ufb50-\ufdfb\ufe70-\ufefc]")


def has_arabic(text: str) -> bool:
    """Whether ``text`` holds at least one Arabic letter."""
    return _ARABIC_LETTER.search(text) is not None


class OffsetMap:
    """NFC text of an original string, with offsets mapped back to the original.

    The original is cut into segments that NFC normalises independently (a starter and the
    combining marks after it); NFC offsets inside a segment widen to the whole segment, so a
    mapped span always covers whole characters of the original.
    """

    def __init__(self, original: str):
        self.original = original
        if unicodedata.is_normalized("NFC", original):
            self.text = original
            self._identity = True
            return
        self._identity = False
        segments = self._segments(original, lambda ch: unicodedata.combining(ch) == 0
                                  and not _composes_with_previous(ch))
        normalized = [unicodedata.normalize("NFC", original[s:e]) for s, e in segments]
        text = "".join(normalized)
        if text != unicodedata.normalize("NFC", original):  # exotic composition: coarser cut
            segments = self._segments(original, str.isspace)
            normalized = [unicodedata.normalize("NFC", original[s:e]) for s, e in segments]
            text = "".join(normalized)
        assert text == unicodedata.normalize("NFC", original)
        self.text = text
        self._nfc_starts, self._nfc_ends, self._orig = [], [], segments
        pos = 0
        for piece in normalized:
            self._nfc_starts.append(pos)
            pos += len(piece)
            self._nfc_ends.append(pos)

    @staticmethod
    def _segments(text: str, is_boundary) -> list[tuple[int, int]]:
        cuts = [0] + [i for i in range(1, len(text)) if is_boundary(text[i])] + [len(text)]
        return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``(start, end)`` for NFC ``(start, end)``."""
        if self._identity:
            return start, end
        if not self._orig:
            return 0, 0
        if start >= end:  # empty span: map its position
            i = bisect.bisect_right(self._nfc_starts, start) - 1
            pos = self._orig[max(i, 0)][0] if start < self._nfc_ends[-1] else len(self.original)
            return pos, pos
        first = bisect.bisect_right(self._nfc_starts, start) - 1
        last = bisect.bisect_left(self._nfc_ends, end)
        return self._orig[max(first, 0)][0], self._orig[min(last, len(self._orig) - 1)][1]


def _composes_with_previous(ch: str) -> bool:
    """Starters that NFC can merge into the character before them (Hangul V/T jamo, and the
    few Indic/Sinhala vowel signs with combining class 0)."""
    cp = ord(ch)
    return 0x1161 <= cp <= 0x11C2 or unicodedata.decomposition(ch) == "" and unicodedata.category(
        ch
    ) == "Mc"


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(text: Any, what: str = "text") -> str:
    """``text`` itself, or a one-line error naming ``what`` and the problem: a non-str is a
    TypeError; a lone surrogate (half of a UTF-16 pair, e.g. from a bad ``json.loads`` or
    ``surrogateescape`` decoding) is a ValueError here rather than an obscure tokenizer
    error later, so that a batch job can record it against its item and go on."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, got {type(text).__name__}")
    bad = _SURROGATE.search(text)
    if bad is not None:
        raise ValueError(
            f"{what} holds a lone surrogate U+{ord(bad.group()):04X} at offset {bad.start()} "
            "(not valid Unicode text; fix its decoding)"
        )
    return text


class StrikeExtractor:
    """Strike events from Arabic news text with a trained :class:`model.network.JointModel`."""

    def __init__(self, model: Any, device: str = "cpu", batch_size: int = 32):
        self.model = model
        self.device = device
        self.batch_size = batch_size

    # -- loading / saving -------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        path_or_hub_id: str | Path,
        device: str = "cpu",
        batch_size: int = 32,
        **hub_kwargs: Any,
    ) -> "StrikeExtractor":
        """Load a model saved by ``save_pretrained`` (local directory or Hugging Face hub id;
        ``hub_kwargs`` such as ``revision=`` or ``token=`` go to ``snapshot_download``)."""
        from .network import JointModel

        model = JointModel.from_pretrained(str(path_or_hub_id), **hub_kwargs)
        model.to(device)
        model.eval()
        return cls(model, device=device, batch_size=batch_size)

    def save_pretrained(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(directory))
        return directory

    @property
    def tokenizer(self):
        return self.model.tokenizer

    # -- extraction -----------------------------------------------------------------------
    def extract(self, text: str, published: Any = None, *, normalize: bool = True) -> list[StrikeEvent]:
        """Strike events of one article (offsets into ``text``).

        ``published``: the article's publication date (RFC 2822, ``2015-07-27 16:58:52``, a
        ``date``/``datetime``), the anchor that DATE arguments resolve against; see
        :meth:`extract_batch` for ``normalize``.
        """
        _check_text(text)
        return self.extract_batch([text], published=[published], normalize=normalize)[0]

    def extract_batch(
        self,
        texts: Sequence[str],
        batch_size: int | None = None,
        *,
        published: Sequence[Any] | None = None,
        normalize: bool = True,
    ) -> list[list[StrikeEvent]]:
        """Strike events of each article; one list per input text, in input order.

        All paragraphs of all texts are predicted together, longest first, ``batch_size``
        paragraphs per forward pass. With ``normalize`` (the default) every event also carries
        normalised values (:func:`model.events.normalize_events`): COUNT ranges, PLACE gazetteer
        entries and -- where ``published[i]`` gives text ``i``'s publication date -- DATE
        intervals. An unreadable publication date raises ``ValueError`` naming it. Batch
        inference passes ``normalize=False`` and normalises per article itself, so that one bad
        date becomes a counted note instead of an exception.
        """
        if published is not None and len(published) != len(texts):
            raise ValueError(f"published: {len(published)} dates for {len(texts)} texts")
        maps, paragraphs = self._predict_articles(texts, batch_size)
        results: list[list[StrikeEvent]] = [[] for _ in maps]
        for t, p, start, para, prediction in paragraphs:
            results[t].extend(build_events(prediction, p, start, para, self.model.schema))
        for t, events in enumerate(results):
            omap = maps[t]
            if omap is None or omap._identity:
                self._check(texts[t], events)
                continue
            mapped = [e.map_offsets(omap.span, texts[t]) for e in events]
            for before, after in zip(events, mapped):  # same characters, original form
                for a, b in zip(before.spans(), after.spans()):
                    assert a.text in unicodedata.normalize("NFC", b.text), (a, b)
            results[t] = mapped
        if normalize:
            dates = published if published is not None else [None] * len(texts)
            results = [normalize_events(events, date) for events, date in zip(results, dates)]
        return results

    def annotate_batch(
        self, texts: Sequence[str], batch_size: int | None = None
    ) -> list[tuple[Document, list[float]]]:
        """Every predicted span and relation of each article, for pre-annotation.

        Unlike :meth:`extract_batch` this keeps spans that no strike links (an ACTOR named
        as a belligerent, a casualty COUNT), as an annotator needs them all. Offsets index
        the NFC text (``Document.text``), which is what Label Studio stores on import.
        Returns ``(document, span_scores)`` per text.
        """
        maps, paragraphs = self._predict_articles(texts, batch_size)
        docs = [Document(id=str(t), text=omap.text if omap else unicodedata.normalize("NFC", text))
                for t, (omap, text) in enumerate(zip(maps, texts))]
        scores: list[list[float]] = [[] for _ in texts]
        for t, _, start, _, prediction in paragraphs:
            docs[t].spans.extend(s.shifted(start) for s in prediction.spans)
            docs[t].relations.extend(r.shifted(start) for r in prediction.relations)
            scores[t].extend(prediction.span_scores)
        for doc in docs:
            doc.check_offsets()
        return list(zip(docs, scores))

    def _predict_articles(
        self, texts: Sequence[str], batch_size: int | None
    ) -> tuple[list[OffsetMap | None], list[tuple[int, int, int, str, Any]]]:
        """NFC maps of the texts and ``(text, paragraph index, start, paragraph, prediction)``
        for every paragraph with Arabic in it, in text order (NFC coordinates)."""
        if isinstance(texts, (str, bytes)) or not isinstance(texts, Iterable):
            raise TypeError(
                f"texts must be a list of str, got {type(texts).__name__}"
                + (" (use extract() for one text)" if isinstance(texts, str) else "")
            )
        texts = list(texts)
        for i, text in enumerate(texts):
            _check_text(text, f"texts[{i}]")
        maps = [OffsetMap(text) if text and has_arabic(text) else None for text in texts]
        jobs: list[tuple[int, int, int, str]] = []
        for t, omap in enumerate(maps):
            if omap is None:
                continue
            for p, (start, end) in enumerate(paragraph_ranges(omap.text)):
                para = omap.text[start:end]
                if has_arabic(para):
                    jobs.append((t, p, start, para))
        if not jobs:
            return maps, []
        order = sorted(range(len(jobs)), key=lambda j: -len(jobs[j][3]))
        predictions = self._predict([jobs[j][3] for j in order], batch_size or self.batch_size)
        by_job: list[Any] = [None] * len(jobs)
        for j, prediction in zip(order, predictions):
            by_job[j] = prediction
        return maps, [(*job, prediction) for job, prediction in zip(jobs, by_job)]

    def _predict(self, paragraphs: list[str], batch_size: int) -> list[Any]:
        from .inference import predict_paragraphs

        return predict_paragraphs(self.model, paragraphs, batch_size=batch_size)

    @staticmethod
    def _check(text: str, events: list[StrikeEvent]) -> None:
        for event in events:
            for s in event.spans():
                assert text[s.start : s.end] == s.text, (s, text[s.start : s.end])

    def __repr__(self) -> str:
        return f"StrikeExtractor(model={type(self.model).__name__}, device={self.device!r})"
