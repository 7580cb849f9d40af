"""The backbone's own text preprocessing, applied word by word so offsets stay exact.

aubmindlab's AraBERT models were pre-trained on text passed through
``arabert.preprocess.ArabertPreprocessor`` (diacritics and tatweel stripped, Arabic-Indic
digits mapped to ASCII, URLs replaced by ``[رابط]``, spaces around punctuation, repeated
letters squeezed). Feeding them raw text wastes vocabulary on forms they never saw.

The preprocessor rewrites text, so its output no longer indexes the article. We therefore
apply it to each word of :func:`annotation.words.split_words` on its own: every sub-word of a
preprocessed word belongs to that word, and the word keeps its character range in the
original text. Spans start and end on word boundaries, so every offset still indexes the
original text exactly (``text[start:end] == span text``), whatever the preprocessor did
inside a word. A word the preprocessor empties (a lone emoji, a rejected character) keeps its
original form, so every word still has at least one sub-word.

Farasa-segmented models (``bert-base-arabert``, ``...-arabertv2``) need a Java segmenter
downloaded at run time; they are refused with a clear message rather than fed unsegmented
text.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

#: a function from one word of the original text to the text the backbone expects for it
WordPreprocessor = Callable[[str], str]


class PreprocessingError(ValueError):
    """The backbone needs preprocessing that cannot be applied here."""


def arabert_model_name(name_or_path: str | Path | None) -> str | None:
    """The AraBERT model name (``bert-base-arabertv02``) a hub id or local folder stands for.

    A local folder is recognised by the ``_name_or_path`` its ``config.json`` recorded, so a
    downloaded or fine-tuned copy of an AraBERT backbone still gets its preprocessing.
    """
    if not name_or_path:
        return None
    candidates = [str(name_or_path)]
    config = Path(name_or_path) / "config.json"
    if config.is_file():
        try:
            recorded = json.loads(config.read_text(encoding="utf-8")).get("_name_or_path")
        except (OSError, ValueError):
            recorded = None
        if recorded:
            # what the folder holds decides before what the folder happens to be called
            candidates.insert(0, str(recorded))
    for candidate in candidates:
        base = candidate.rstrip("/").split("/")[-1]
        if "arabert" in base or base.startswith(("araelectra", "aragpt2")):
            return base
    return None


@functools.lru_cache(maxsize=8)
def _arabert(model_name: str) -> WordPreprocessor:
    try:
        from arabert.preprocess import ACCEPTED_MODELS, SEGMENTED_MODELS, ArabertPreprocessor
    except ImportError as err:
        raise PreprocessingError(
            f"backbone {model_name} expects ArabertPreprocessor input: pip install -e '.[arabert]'"
        ) from err
    if model_name not in ACCEPTED_MODELS:
        raise PreprocessingError(f"backbone {model_name}: not a model ArabertPreprocessor knows")
    if model_name in SEGMENTED_MODELS:
        raise PreprocessingError(
            f"backbone {model_name} needs Farasa segmentation (Java, downloaded at run time); "
            "use an unsegmented v02 model such as bert-base-arabertv02"
        )
    return ArabertPreprocessor(model_name).preprocess


def backbone_preprocessor(name_or_path: str | Path | None) -> WordPreprocessor | None:
    """The per-word preprocessing a backbone expects, or ``None`` when it takes raw text."""
    model_name = arabert_model_name(name_or_path)
    if model_name is None:
        return None
    preprocess = _arabert(model_name)

    def word(text: str) -> str:
        out = preprocess(text)
        return out if out.strip() else text

    return word


def preprocess_words(text: str, words: list[tuple[int, int]], preprocess: WordPreprocessor) -> list[str]:
    """The backbone's form of each word ``text[start:end]``; index i belongs to ``words[i]``."""
    return [preprocess(text[start:end]) for start, end in words]


#: prefix of the ``preprocess`` entry of a saved model's config.json for AraBERT preprocessing
ARABERT_SPEC = "arabert:"


def preprocess_spec(name_or_path: str | Path | None) -> str | None:
    """What a model built on this backbone records as its ``preprocess`` (config.json):
    ``"arabert:<model name>"``, or ``None`` for a raw-text backbone."""
    model_name = arabert_model_name(name_or_path)
    if model_name is None:
        return None
    _arabert(model_name)  # refuse a backbone we cannot preprocess for now, not at inference
    return ARABERT_SPEC + model_name


def spec_preprocessor(spec: str | None) -> WordPreprocessor | None:
    """The per-word function a recorded ``preprocess`` entry stands for (``None``: raw text)."""
    if spec is None:
        return None
    if not isinstance(spec, str) or not spec.startswith(ARABERT_SPEC):
        raise PreprocessingError(f"preprocess {spec!r}: unknown (expected 'arabert:<model>' or null)")
    model_name = spec[len(ARABERT_SPEC):]
    preprocess = backbone_preprocessor(model_name)
    if preprocess is None:
        raise PreprocessingError(f"preprocess {spec!r}: {model_name!r} is not an AraBERT model")
    return preprocess
