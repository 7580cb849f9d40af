"""Learning curves: uncertainty(+diversity) sampling vs random selection, on the gold data.

For each seed: start from the same random first ``--sizes`` articles of the pool
(``../shared/data/gold/train.json``), train ``configs/mini.yaml`` (reduced epochs), then
grow the labelled set to each further size, either at random or with
:func:`model.active.select` over the current model's uncertainties (least confidence of
spans and relations, diversity penalty ``--penalty``); every model is trained from scratch
on its labelled set and scored on the same held-out articles (by default 25 articles of
the pool drawn once and never selected from). Writes ``OUT/results.json``, a Markdown table
on stdout and ``--plot`` (PNG).

    OMP_NUM_THREADS=1 nice .venv/bin/python bench/active_learning.py --sizes 10 40 70 \\
        --seeds 1 2 --set epochs=8 --plot docs/active_learning.png

Cost: (1 + 2 * (rounds - 1)) trainings per seed plus one pool scoring per uncertainty round.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from model.active import score_articles, select, text_vector  # noqa: E402
from model.training import load_config, train_one  # noqa: E402


def train_on(cfg, tasks: list[dict], out_dir: Path, seed: int) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    data = out_dir / "train.json"
    data.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    result = train_one(replace(cfg, train_files=[str(data)], out_dir=str(out_dir), seed=seed, progress=False))
    return result


def pick_uncertain(best_dir: str, pool: list[dict], chosen: set[int], k: int, penalty: float) -> list[int]:
    from model.extractor import StrikeExtractor

    extractor = StrikeExtractor.from_pretrained(best_dir)
    free = [i for i in range(len(pool)) if i not in chosen]
    texts = [pool[i]["data"]["text"] for i in free]
    uncertainties = [u for u, _, _ in score_articles(extractor, texts)]
    vectors = __import__("numpy").stack([text_vector(t) for t in texts])
    return [free[j] for j in select(uncertainties, vectors, k, penalty)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(REPO / "configs" / "mini.yaml"))
    parser.add_argument("--pool", default=str(REPO / ".." / "shared" / "data" / "gold" / "train.json"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 40, 70])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--heldout", type=int, default=25,
                        help="articles of the pool held out (fixed draw) as the test set of every "
                             "model; 0 = use the config's dev file instead")
    parser.add_argument("--penalty", type=float, default=0.5)
    parser.add_argument("--set", dest="overrides", nargs="+", default=["epochs=6"])
    parser.add_argument("--out", default=str(REPO / "runs" / "active_learning"))
    parser.add_argument("--plot", default=str(REPO / "docs" / "active_learning.png"))
    args = parser.parse_args(argv)
    cfg = load_config(args.config, [*args.overrides, "patience=0"])
    pool = json.loads(Path(args.pool).read_text(encoding="utf-8"))
    out = Path(args.out)
    if args.heldout:  # the same held-out articles for every model, never selected from
        held = set(random.Random(0).sample(range(len(pool)), args.heldout))
        heldout_file = out / "heldout.json"
        heldout_file.parent.mkdir(parents=True, exist_ok=True)
        heldout_file.write_text(json.dumps([pool[i] for i in sorted(held)], ensure_ascii=False),
                                encoding="utf-8")
        pool = [task for i, task in enumerate(pool) if i not in held]
        cfg = replace(cfg, dev_file=str(heldout_file))
    rows: list[dict] = []
    started = time.time()
    for seed in args.seeds:
        rng = random.Random(seed)
        start = set(rng.sample(range(len(pool)), args.sizes[0]))
        first = train_on(cfg, [pool[i] for i in sorted(start)], out / f"seed{seed}" / f"n{args.sizes[0]}", seed)
        for strategy in ("random", "uncertainty"):
            chosen, result = set(start), first
            rows.append({"seed": seed, "strategy": strategy, "n": len(chosen), **_scores(result)})
            for size in args.sizes[1:]:
                k = size - len(chosen)
                if strategy == "random":
                    new = rng_pick(random.Random(f"{seed}-{size}"), len(pool), chosen, k)
                else:
                    new = pick_uncertain(result["best_dir"], pool, chosen, k, args.penalty)
                chosen |= set(new)
                result = train_on(cfg, [pool[i] for i in sorted(chosen)],
                                  out / f"seed{seed}" / f"{strategy}-n{size}", seed)
                rows.append({"seed": seed, "strategy": strategy, "n": len(chosen), **_scores(result)})
                print(json.dumps(rows[-1]), flush=True)
    summary = _table(rows)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"rows": rows, "config": args.config, "overrides": args.overrides,
                                                  "heldout": args.heldout or cfg.dev_file,
                                                  "penalty": args.penalty, "seconds": round(time.time() - started)},
                                                 indent=2))
    print(summary)
    _plot(rows, Path(args.plot))
    return 0


def rng_pick(rng: random.Random, n: int, chosen: set[int], k: int) -> list[int]:
    return rng.sample([i for i in range(n) if i not in chosen], k)


def _scores(result: dict) -> dict:
    m = result["best_metrics"] or {}
    return {"entity_f1": m.get("entity_f1"), "relation_f1": m.get("relation_f1")}


def _table(rows: list[dict]) -> str:
    lines = ["| articles | strategy | entity F1 (mean of seeds) | relation F1 (mean of seeds) | seeds |",
             "|---:|---|---:|---:|---:|"]
    keys = sorted({(r["n"], r["strategy"]) for r in rows})
    for n, strategy in keys:
        sel = [r for r in rows if r["n"] == n and r["strategy"] == strategy]
        ent = statistics.fmean(r["entity_f1"] for r in sel)
        rel = statistics.fmean(r["relation_f1"] for r in sel)
        lines.append(f"| {n} | {strategy} | {ent:.3f} | {rel:.3f} | {len(sel)} |")
    return "\n".join(lines)


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, metric in zip(axes, ("entity_f1", "relation_f1")):
        for strategy, style in (("random", "o--"), ("uncertainty", "s-")):
            ns = sorted({r["n"] for r in rows if r["strategy"] == strategy})
            means = [statistics.fmean(r[metric] for r in rows if r["n"] == n and r["strategy"] == strategy) for n in ns]
            ax.plot(ns, means, style, label=strategy)
            for r in rows:
                if r["strategy"] == strategy:
                    ax.plot(r["n"], r[metric], style[0], alpha=0.25, color=ax.lines[-1].get_color())
        ax.set_xlabel("training articles")
        ax.set_ylabel(metric.replace("_", " "))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("configs/mini.yaml, the same held-out articles; lines: mean of seeds, dots: each seed")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
