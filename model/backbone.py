"""Encoders for the joint model: a pretrained one (hub id or local dir) or a tiny local one.

``load_backbone`` is the one place an encoder and its tokenizer are loaded for training:
fast tokenizer required (ghara ties sub-words to words by character offsets), weights from
safetensors only, never remote code.

``build_tiny_backbone`` is the offline default for demos and tests: it trains a WordPiece
tokenizer (BERT normaliser and pre-tokenizer, so sub-words never straddle two words) on the
given texts and saves a small randomly initialised ``BertModel`` beside it, in the same
Hugging Face layout a hub checkpoint has. It learns nothing on its own; it only makes the
whole pipeline runnable without a network or a GPU.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

DEFAULT_BACKBONE = "aubmindlab/bert-base-arabertv02"
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def _quiet_transformers():
    """Context manager: hide transformers' load reports (unused MLM-head weights, ...)."""
    import contextlib

    from transformers.utils import logging as hf_logging

    @contextlib.contextmanager
    def quiet():
        level = hf_logging.get_verbosity()
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        try:
            yield
        finally:
            hf_logging.set_verbosity(level)
            if bars:
                hf_logging.enable_progress_bar()

    return quiet()


def load_tokenizer(name_or_path: str | Path) -> Any:
    """A fast tokenizer from a hub id or a local directory (``TypeError`` if it is slow)."""
    from transformers import AutoTokenizer

    with _quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(str(name_or_path), trust_remote_code=False)
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError(
            f"{name_or_path}: ghara needs a fast (Rust) tokenizer with offset mapping, "
            f"got {type(tokenizer).__name__}"
        )
    for attr in ("cls_token_id", "sep_token_id", "pad_token_id"):
        if getattr(tokenizer, attr) is None:
            raise ValueError(f"{name_or_path}: tokenizer has no {attr.removesuffix('_id')} token")
    return tokenizer


def load_encoder(name_or_path: str | Path, **kwargs: Any) -> Any:
    """``AutoModel`` (no pooler) from a hub id or local directory, safetensors weights only."""
    from transformers import AutoModel

    with _quiet_transformers():
        try:
            return AutoModel.from_pretrained(
                str(name_or_path),
                use_safetensors=True,
                trust_remote_code=False,
                add_pooling_layer=False,
                **kwargs,
            )
        except TypeError:  # an architecture without a pooler flag
            return AutoModel.from_pretrained(
                str(name_or_path), use_safetensors=True, trust_remote_code=False, **kwargs
            )


def encoder_from_config(config_dict: dict[str, Any]) -> Any:
    """A randomly initialised encoder from a saved config dict (weights are loaded after)."""
    from transformers import AutoConfig, AutoModel

    config_dict = dict(config_dict)
    model_type = config_dict.pop("model_type")
    config = AutoConfig.for_model(model_type, **config_dict)
    with _quiet_transformers():
        try:
            return AutoModel.from_config(config, add_pooling_layer=False, trust_remote_code=False)
        except TypeError:
            return AutoModel.from_config(config, trust_remote_code=False)


class LayerCountError(ValueError):
    """More encoder layers asked for than the backbone has."""


def load_backbone(
    name_or_path: str | Path = DEFAULT_BACKBONE, layers: int | None = None
) -> tuple[Any, Any]:
    """``(encoder, tokenizer)`` from a hub id (e.g. AraBERT) or a local directory.

    ``layers``: keep only the encoder's first ``layers`` transformer layers (None: all);
    more than the backbone has is a :class:`LayerCountError` (they would be random, not
    pretrained)."""
    if layers is None:
        return load_encoder(name_or_path), load_tokenizer(name_or_path)
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(name_or_path), trust_remote_code=False)
    have = getattr(config, "num_hidden_layers", None)
    if have is None or not 0 <= layers <= have:
        raise LayerCountError(f"{name_or_path}: cannot keep {layers} of its {have} encoder layers")
    encoder = load_encoder(name_or_path, **({"num_hidden_layers": layers} if layers < have else {}))
    return encoder, load_tokenizer(name_or_path)


def wordpiece_vocab(
    texts: Iterable[str], normalizer: Any, pre_tokenizer: Any, vocab_size: int,
    min_frequency: int = 1,
) -> dict[str, int]:
    """A WordPiece vocabulary from word counts, the same for the same texts on every run.

    The ``tokenizers`` WordPiece trainer breaks frequency ties in hash order, so two runs
    on the same texts gave different vocabularies (and so different tiny models). Here the
    pieces are every character (as a word start and as ``##`` continuation) and then the
    most frequent words, word starts and ``##`` word ends (2-6 characters), ranked by count
    with ties broken alphabetically.
    """
    words: Counter = Counter()
    for text in texts:
        normalized = normalizer.normalize_str(text)
        words.update(word for word, _ in pre_tokenizer.pre_tokenize_str(normalized))
    chars = sorted({c for word in words for c in word})
    pieces: Counter = Counter()
    for word, count in words.items():
        if count >= min_frequency:
            pieces[word] += count
        for n in range(2, min(len(word), 7)):
            pieces[word[:n]] += count
            pieces["##" + word[-n:]] += count
    vocab = list(SPECIAL_TOKENS) + chars + ["##" + c for c in chars]
    known = set(vocab)
    ranked = sorted((p for p in pieces if p not in known), key=lambda p: (-pieces[p], p))
    vocab += ranked[: max(0, vocab_size - len(vocab))]
    return {piece: i for i, piece in enumerate(vocab)}


def build_tiny_backbone(
    texts: Iterable[str],
    out_dir: str | Path,
    vocab_size: int = 2000,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 2,
    intermediate: int | None = None,
    max_position: int = 512,
    min_frequency: int = 1,
    seed: int = 0,
) -> Path:
    """Train a WordPiece tokenizer on ``texts`` and save it with a tiny random BertModel.

    The directory is a normal Hugging Face checkpoint (``tokenizer.json``, ``config.json``,
    ``model.safetensors``), loadable with :func:`load_backbone`. The normaliser strips
    Arabic diacritics (``strip_accents``) the way BERT strips accents.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    texts = [t for t in texts if t and t.strip()]
    if not texts:
        raise ValueError("build_tiny_backbone: no non-empty texts to train a tokenizer on")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=True
    )
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    vocab = wordpiece_vocab(texts, normalizer, pre_tokenizer, vocab_size, min_frequency)
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tok.decoder = decoders.WordPiece(prefix="##")
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=max_position,
    )
    fast.save_pretrained(str(out))

    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=intermediate or 4 * hidden,
        max_position_embeddings=max_position,
        pad_token_id=tok.token_to_id("[PAD]"),
    )
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = BertModel(config, add_pooling_layer=False)
    finally:
        torch.random.set_rng_state(state)
    with _quiet_transformers():
        model.save_pretrained(str(out))
    (out / "ghara_tiny_backbone.json").write_text(
        json.dumps(
            {
                "texts": len(texts),
                "vocab_size": tok.get_vocab_size(),
                "hidden": hidden,
                "layers": layers,
                "heads": heads,
                "seed": seed,
            },
            indent=2,
        )
    )
    return out
