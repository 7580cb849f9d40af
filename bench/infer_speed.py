"""Inference speed: ``StrikeExtractor.extract_batch`` vs a HF pipeline vs the bare encoder.

::

    python bench/infer_speed.py --model runs/mini [--texts FILE|DIR] [--batch-size 32]
        [--repeats 3] [--device cpu|cuda] [--limit N]

One run, one model, the same texts for all three:

1. ``extract_batch`` -- the whole product: NFC, paragraphs, tokenising, encoder, tagger with
   Viterbi decoding, relation head, event records (NER + relations + events);
2. ``pipeline("token-classification")`` -- NER only, on a ``BertForTokenClassification``
   built from the same encoder weights with a random classifier head, with
   ``aggregation_strategy="simple"`` and ``stride`` so texts over 512 sub-words are windowed
   instead of crashing;
3. bare forward -- the floor: the same paragraphs tokenised, sorted by length, batched as
   ``extract_batch`` batches them (``model.inference.batch_bounds``: ``--batch-size``
   paragraphs, a batch ends where the next is under 0.8 of its longest), cut into the
   model's windows and run through the encoder alone (no heads, no decoding); and the same
   in fixed batches of ``--batch-size`` (length-sorted, no split: the floor as first
   measured), which pads the long tail more;
4. for a model with a BiLSTM or concatenated embeddings (configs/mini.yaml): the same with
   the model's whole feature pass (``JointModel.features``), which shows how much of the
   gap above the bare forward is the model's own BiLSTM and how much the heads, decoding,
   tokenising and Python.

Reports articles/s and sub-words/s (the sub-word count of the texts without special
tokens, the same numerator for all three), the best of ``--repeats`` timed runs after one
warm-up, taken round-robin (each repeat runs all three in turn, so load swings on a shared
machine hit all alike), the ratios extract/bare and extract/pipeline, and peak memory: the peak resident
set size (RSS) above the RSS just before each timed run, sampled every 2 ms from
``/proc/self/statm`` by a thread (falls back to ``resource.getrusage`` ``ru_maxrss`` deltas
where /proc is missing); on CUDA also ``torch.cuda.max_memory_allocated``.

Default texts: the articles of ``../shared/data/gold/*.json`` when that folder exists, else
``annotation/sample/articles.jsonl``, else the sample export's articles.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL = 1.25  # extract_batch should be within this factor of the bare forward pass
#: the bare forward in fixed length-sorted batches (no split where lengths drop)
FIXED = "bare encoder forward, fixed batches"
#: the contender for models with a BiLSTM or concatenated embeddings
FEATURES = "encoder + BiLSTM (model.features)"


# -- texts ----------------------------------------------------------------------------------
def default_texts() -> tuple[list[str], str]:
    gold = ROOT.parent / "shared" / "data" / "gold"
    if gold.is_dir() and sorted(gold.glob("*.json")):
        from annotation.export import read_export

        texts = []
        for path in sorted(gold.glob("*.json")):
            texts += [d.text for d in read_export(path).documents]
        return texts, f"{gold} (articles of the gold exports)"
    articles = ROOT / "annotation" / "sample" / "articles.jsonl"
    if articles.is_file():
        return load_texts(articles), str(articles)
    from annotation.export import read_export

    export = ROOT / "annotation" / "sample" / "sample_export.json"
    return [d.text for d in read_export(export).documents], str(export)


def load_texts(path: Path) -> list[str]:
    if path.is_dir():
        return [p.read_text(encoding="utf-8") for p in sorted(path.glob("*.txt"))]
    if path.suffix == ".json":
        from annotation.export import read_export

        return [d.text for d in read_export(path).documents]
    texts = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                obj = json.loads(line)
                if isinstance(obj.get("text"), str):
                    texts.append(obj["text"])
    return texts


# -- memory ---------------------------------------------------------------------------------
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss() -> int | None:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except OSError:
        return None


class PeakMemory:
    """Peak RSS above the starting RSS while the block runs (sampled by a thread)."""

    def __init__(self, interval: float = 0.002):
        self.interval = interval
        self.peak_delta = 0
        self.method = "RSS sampled from /proc/self/statm"

    def __enter__(self):
        gc.collect()
        self.start = _rss()
        if self.start is None:  # no /proc: ru_maxrss (KiB on Linux) can only grow
            self.method = "ru_maxrss delta (lower bound)"
            self.start_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            return self
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            rss = _rss()
            if rss and rss > self.peak:
                self.peak = rss
            time.sleep(self.interval)

    def __exit__(self, *exc):
        if self.start is None:
            self.peak_delta = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - self.start_max
            return
        self._stop.set()
        self._thread.join()
        rss = _rss()
        self.peak = max(self.peak, rss or 0)
        self.peak_delta = self.peak - self.start


# -- the three contenders -------------------------------------------------------------------
#: how peak memory was sampled (``PeakMemory.method``), for the report
memory_method = ""


def time_interleaved(
    fns: dict[str, Callable[[], object]], repeats: int, device: str
) -> dict[str, tuple[float, list[float], int, int]]:
    """Best-of-N time and peak memory of each contender, round-robin: one warm-up each, then every repeat
    runs each contender once, so a load swing on a shared machine hits them all alike and
    the best-of-N ratios compare like with like."""
    import torch

    global memory_method
    for fn in fns.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in fns}
    peaks = {name: 0 for name in fns}
    cuda_peaks = {name: 0 for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            if device.startswith("cuda"):
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            with PeakMemory() as mem:
                start = time.perf_counter()
                fn()
                if device.startswith("cuda"):
                    torch.cuda.synchronize()
                times[name].append(time.perf_counter() - start)
            peaks[name] = max(peaks[name], mem.peak_delta)
            memory_method = mem.method
            if device.startswith("cuda"):
                cuda_peaks[name] = max(cuda_peaks[name], torch.cuda.max_memory_allocated())
    return {name: (min(times[name]), times[name], peaks[name], cuda_peaks[name]) for name in fns}


def paragraphs_of(texts: list[str]) -> list[str]:
    from annotation.documents import nfc
    from annotation.paragraphs import paragraph_ranges

    out = []
    for text in texts:
        t = nfc(text)
        out += [t[s:e] for s, e in paragraph_ranges(t)]
    return out


def bare_forward(
    model, paragraphs: list[str], batch_size: int, features: bool = False, fixed: bool = False
) -> Callable[[], object]:
    """The encoder alone over the paragraphs' windows, in ``extract_batch``'s batches (with
    ``fixed``: consecutive length-sorted batches of ``batch_size``); with ``features`` the
    model's whole sub-word feature pass (``JointModel.features``: encoder, concatenated
    embeddings and BiLSTM where the config has them), so that the heads' and decoding's own
    share shows."""
    import torch

    from model.encoding import encode_windows
    from model.inference import batch_bounds

    tokenizer = model.tokenizer

    def run():
        ids = tokenizer(paragraphs, add_special_tokens=False)["input_ids"]
        ordered = sorted((seq for seq in ids if seq), key=len, reverse=True)
        if fixed:
            bounds = [(lo, lo + batch_size) for lo in range(0, len(ordered), batch_size)]
        else:
            bounds = batch_bounds([len(seq) for seq in ordered], batch_size)
        with torch.inference_mode():
            for lo, hi in bounds:
                seqs = ordered[lo:hi]
                windows = model.window_batch(seqs).to(model.device)
                if features:  # cue classes all "none": the same work, for timing only
                    width = windows.gather_index.size(1)
                    model.features(windows, model.cue_batch([[]] * len(seqs), width))
                else:
                    encode_windows(model.encoder, windows)
    return run


def token_classification_pipeline(model, device: str, stride: int):
    """A HF token-classification pipeline on the same encoder weights, random head."""
    from transformers import AutoConfig, AutoModelForTokenClassification, pipeline

    from annotation.schema import SCHEMA

    config = AutoConfig.for_model(**{
        **model.encoder.config.to_dict(),
        "num_labels": len(SCHEMA.bio_tags),
        "id2label": dict(SCHEMA.id2tag),
        "label2id": SCHEMA.tag2id,
    })
    clf = AutoModelForTokenClassification.from_config(config)
    base = getattr(clf, clf.base_model_prefix)
    missing, unexpected = base.load_state_dict(model.encoder.state_dict(), strict=False)
    if unexpected or [m for m in missing if "pooler" not in m]:
        raise RuntimeError(f"encoder weights do not fit: {missing[:3]} {unexpected[:3]}")
    clf.eval().to(device)
    # the pipeline windows a text (stride) only up to the tokenizer's model_max_length: a
    # tokenizer saved without one (1e30) would send 700 sub-words into 512 positions
    tokenizer = copy.deepcopy(model.tokenizer)
    tokenizer.model_max_length = min(tokenizer.model_max_length, config.max_position_embeddings)
    return pipeline(
        "token-classification",
        model=clf,
        tokenizer=tokenizer,
        aggregation_strategy="simple",
        stride=stride,
        device=device,
    )


# -- main -----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="trained ghara model directory / hub id")
    parser.add_argument("--texts", help=".jsonl (id, text), a Label Studio export .json, or a "
                                        "folder of .txt (default: see module doc)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N texts")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--json", help="also write the results as JSON here")
    args = parser.parse_args(argv)

    import torch

    from model.extractor import StrikeExtractor

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "sequence longer than 512": windowed, not an error
    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.texts:
        texts, source = load_texts(Path(args.texts)), args.texts
    else:
        texts, source = default_texts()
    if args.limit:
        texts = texts[: args.limit]
    if not texts:
        print("error: no texts", file=sys.stderr)
        return 2
    extractor = StrikeExtractor.from_pretrained(args.model, device=device)
    model = extractor.model
    paragraphs = paragraphs_of(texts)
    n_tokens = sum(len(ids) for ids in model.tokenizer(paragraphs, add_special_tokens=False)["input_ids"])
    n_chars = sum(len(t) for t in texts)
    print(f"model {args.model} on {device} (torch threads {torch.get_num_threads()}); texts: {source}")
    print(f"{len(texts)} articles, {len(paragraphs)} paragraphs, {n_chars} chars, "
          f"{n_tokens} sub-words; batch size {args.batch_size}; best of {args.repeats}\n")

    rows = {}
    events_found = []

    def run_extract():
        result = extractor.extract_batch(texts, batch_size=args.batch_size, normalize=False)
        events_found[:] = [sum(len(r) for r in result)]

    contenders = {
        "extract_batch (NER+relations+events)": run_extract,
        "bare encoder forward": bare_forward(model, paragraphs, args.batch_size),
        FIXED: bare_forward(model, paragraphs, args.batch_size, fixed=True),
    }
    has_extras = model.lstm is not None or model.heads.concat_embeddings
    if has_extras:
        contenders[FEATURES] = bare_forward(model, paragraphs, args.batch_size, features=True)
    if not args.skip_pipeline:
        pipe = token_classification_pipeline(model, device, stride=min(128, model.heads.stride))
        contenders["HF pipeline token-classification (NER only)"] = (
            lambda: pipe(texts, batch_size=args.batch_size)
        )
    rows.update(time_interleaved(contenders, args.repeats, device))

    print("| method | best s | articles/s | sub-words/s | peak RSS delta MiB |"
          + (" peak CUDA MiB |" if device.startswith("cuda") else ""))
    print("|---|---:|---:|---:|---:|" + ("---:|" if device.startswith("cuda") else ""))
    results = {}
    for name, (best, times, peak, cuda_peak) in rows.items():
        results[name] = {
            "best_seconds": best, "seconds": times, "articles_per_s": len(texts) / best,
            "subwords_per_s": n_tokens / best, "peak_rss_delta_mib": peak / 2**20,
            "peak_cuda_mib": cuda_peak / 2**20 if cuda_peak else None,
        }
        print(f"| {name} | {best:.3f} | {len(texts) / best:.1f} | {n_tokens / best:.0f} | "
              f"{peak / 2**20:.1f} |" + (f" {cuda_peak / 2**20:.0f} |" if cuda_peak else ""))
    ext = rows["extract_batch (NER+relations+events)"][0]
    bare = rows["bare encoder forward"][0]
    ratio_bare = ext / bare
    fixed = rows[FIXED][0]
    print(f"\nextract_batch / bare forward = {ratio_bare:.2f}x "
          f"({'within' if ratio_bare <= GOAL else 'OVER'} the {GOAL}x goal); "
          f"/ bare forward in fixed batches = {ext / fixed:.2f}x "
          f"(fixed batches / extract's batches = {fixed / bare:.2f}x)")
    ratio_features = None
    if has_extras:
        feats = rows[FEATURES][0]
        ratio_features = ext / feats
        print(f"extract_batch / {FEATURES} = {ratio_features:.2f}x (the heads, decoding, "
              f"tokenising and Python); the BiLSTM etc. cost {feats / bare - 1:.0%} of the "
              "bare forward")
    ratio_pipe = None
    if not args.skip_pipeline:
        pipe_t = rows["HF pipeline token-classification (NER only)"][0]
        ratio_pipe = ext / pipe_t
        print(f"extract_batch / HF pipeline = {ratio_pipe:.2f}x "
              f"(pipeline / bare = {pipe_t / bare:.2f}x)")
    print(f"events found: {events_found[0] if events_found else 0}; "
          f"memory: {memory_method}, peak above the pre-run level")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "model": args.model, "device": device, "texts": source, "articles": len(texts),
            "paragraphs": len(paragraphs), "subwords": n_tokens, "results": results,
            "extract_over_bare": ratio_bare, "extract_over_pipeline": ratio_pipe,
            "extract_over_features": ratio_features, "extract_over_fixed_bare": ext / fixed,
            "memory_method": memory_method,
        }, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
