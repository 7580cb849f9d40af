"""Training-step speed of the joint model vs a bare encoder forward+backward, same batches.

    python bench/train_speed.py                                   # mini backbone, gold data
    python bench/train_speed.py --config configs/mini.yaml        # heads as in a config
    python bench/train_speed.py --config configs/mini.yaml --heads lstm_hidden=0 --threads 1
    python bench/train_speed.py --backbone aubmindlab/bert-base-arabertv02 --device cuda

Both measurements run in one process on identical window batches (length-bucketed batches
of real paragraphs, long ones windowed): the bare step is ``encoder(windows)`` plus a
trivial loss and ``backward``; the joint step is ``JointModel(**batch)`` (window merge,
tagger, pair pooling, relation head, both losses) and ``backward``. Tokens are the real
sub-words of the paragraphs. Batch preparation (``JointModel.collate``: windows, labels,
candidate pairs) is timed apart, since a data loader can overlap it with the GPU. Rounds
alternate bare/joint and the median round is reported. Goal: joint/bare <= 1.2.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from annotation.export import read_export  # noqa: E402
from model.backbone import load_backbone  # noqa: E402
from model.config import HeadConfig, load_config  # noqa: E402
from model.network import JointModel  # noqa: E402
from model.trainset import make_batches  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--backbone", default=str(REPO.parent / "shared/models/arabic-news-bert-mini")
    )
    parser.add_argument("--data", default=str(REPO.parent / "shared/data/gold/train.json"))
    parser.add_argument("--config", help="take head settings (and backbone) from a train config")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--heads", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override head settings, e.g. --heads lstm_hidden=0")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    heads = HeadConfig(dropout=0.1)
    backbone = args.backbone
    if args.config:
        cfg = load_config(args.config)
        heads = cfg.head_config()
        if cfg.backbone != "tiny":
            backbone = cfg.backbone
    if args.heads:
        import yaml

        updates = {k: yaml.safe_load(v) for k, _, v in (h.partition("=") for h in args.heads)}
        heads = HeadConfig(**{**heads.__dict__, **updates})
    encoder, tokenizer = load_backbone(backbone)
    model = JointModel(encoder, tokenizer, heads).to(args.device).train()

    docs = read_export(args.data).documents
    examples = [ex for ex in model.examples(docs) if ex["input_ids"]]
    batches = make_batches([len(ex["input_ids"]) for ex in examples], args.batch_size, 0, 0)
    batches = [[examples[i] for i in b] for b in batches[: args.batches]]
    tokens = sum(len(ex["input_ids"]) for b in batches for ex in b)

    started = time.perf_counter()
    prepared = [
        JointModel.batch_to(model.collate(b, random.Random(i)), args.device)
        for i, b in enumerate(batches)
    ]
    collate_s = time.perf_counter() - started
    pairs = sum(p["relations"].num_pairs for p in prepared)
    windows = sum(p["windows"].input_ids.size(0) for p in prepared)

    def sync() -> None:
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    def bare_step(batch) -> None:
        w = batch["windows"]
        out = model.encoder(
            input_ids=w.input_ids,
            attention_mask=w.attention_mask,
            token_type_ids=torch.zeros_like(w.input_ids),
        )
        out.last_hidden_state.float().pow(2).mean().backward()

    def joint_step(batch) -> None:
        model(**batch)["loss"].backward()

    def timed(step) -> float:
        sync()
        t0 = time.perf_counter()
        for batch in prepared:
            step(batch)
            model.zero_grad(set_to_none=True)
        sync()
        return time.perf_counter() - t0

    for step in (bare_step, joint_step):  # warm-up
        for batch in prepared[:3]:
            step(batch)
            model.zero_grad(set_to_none=True)
    bare, joint = [], []
    for _ in range(args.rounds):
        bare.append(timed(bare_step))
        joint.append(timed(joint_step))
    bare_s, joint_s = statistics.median(bare), statistics.median(joint)
    result = {
        "backbone": backbone,
        "device": args.device,
        "threads": torch.get_num_threads(),
        "heads": heads.__dict__,
        "batches": len(prepared),
        "batch_size": args.batch_size,
        "tokens": tokens,
        "windows": windows,
        "pairs": pairs,
        "bare_tokens_per_s": tokens / bare_s,
        "joint_tokens_per_s": tokens / joint_s,
        "ratio_joint_over_bare": joint_s / bare_s,
        "collate_s_per_batch": collate_s / len(prepared),
        "ratio_incl_collate": (joint_s + collate_s) / bare_s,
    }
    print(
        f"{backbone} on {args.device} ({result['threads']} threads): {len(prepared)} batches "
        f"of {args.batch_size} paragraphs, {tokens} sub-words, {windows} windows, {pairs} pairs"
    )
    print(f"  bare encoder fwd+bwd : {result['bare_tokens_per_s']:10.0f} tokens/s")
    print(f"  joint model step     : {result['joint_tokens_per_s']:10.0f} tokens/s")
    print(f"  ratio joint / bare   : {result['ratio_joint_over_bare']:.3f}x (goal <= 1.2)")
    print(
        f"  batch preparation    : {1000 * result['collate_s_per_batch']:.1f} ms/batch "
        f"(ratio incl. it: {result['ratio_incl_collate']:.3f}x)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
