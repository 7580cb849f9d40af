"""Batch throughput at scale: the single process vs Ray Data with 1 and 2 actors.

::

    python bench/batch_scale.py --model runs/mini/best [--n 2000] [--corpus] [--threads 1]
        [--engines local,ray1,ray2,ray1-cluster,ray2-cluster] [--repeats 1] [--keep DIR]

The same N articles go through ``python -m model.batch`` (the local engine) and through
``python -m model.batch --engine ray --actors 1`` / ``--actors 2``, each a fresh command in
its own output folder, as a user would run them. Reported per run: wall time of the whole
command (Python start, model load, and for Ray the start of a local cluster), records/s on
that wall time, the tool's own timed seconds, and the peak resident memory of the whole
process tree (driver, raylet and Ray workers: summed RSS from ``/proc``, sampled every
0.2 s). With ``--repeats N`` every engine runs N times, round-robin, and its fastest run is reported
(all wall times in ``walls_s``). Ray's overhead at 1 actor is
``wall(ray, 1 actor) / wall(local)``; the goal is
<= 1.15 on a corpus large enough that Ray's fixed start (~10 s) is amortised.

``ray1-cluster`` / ``ray2-cluster`` run the same command against a running cluster, as on
a team's machines (``RAY_ADDRESS``): a local one is started with ``ray start --head``
before the timed command and stopped after it, so its start is not in the wall time. Its
raylet and workers are not children of the command, so their memory is not in the peak
(the driver's only). ``ray1_cluster_overhead`` = ``wall(ray1-cluster) / wall(local)``.

Articles: the sample articles (``annotation/sample/articles.jsonl``) repeated and shuffled
to N, with fresh ids; with ``--corpus`` the first N articles of
``../shared/data/corpus/*.jsonl.gz`` instead (read only, never copied into the repo).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 1.15


def build_input(path: Path, n: int, corpus: bool, seed: int = 0) -> str:
    """Write N ``{"id", "text"}`` lines to ``path``; returns where they came from."""
    texts: list[str] = []
    if corpus:
        folder = ROOT.parent / "shared" / "data" / "corpus"
        for file in sorted(folder.glob("*.jsonl.gz")):
            with gzip.open(file, "rt", encoding="utf-8") as handle:
                for line in handle:
                    obj = json.loads(line)
                    if isinstance(obj.get("text"), str):
                        texts.append(obj["text"])
                    if len(texts) >= n:
                        break
            if len(texts) >= n:
                break
        source = f"first {len(texts)} articles of {folder}"
    else:
        sample = ROOT / "annotation" / "sample" / "articles.jsonl"
        base = [json.loads(x)["text"] for x in sample.read_text("utf-8").splitlines() if x.strip()]
        rng = random.Random(seed)
        while len(texts) < n:
            batch = base[:]
            rng.shuffle(batch)
            texts += batch
        texts = texts[:n]
        source = f"{len(base)} sample articles repeated and shuffled"
    with open(path, "w", encoding="utf-8") as out:
        for i, text in enumerate(texts):
            out.write(json.dumps({"id": f"a{i}", "text": text}, ensure_ascii=False) + "\n")
    return source


def _tree_rss(root: int) -> int:
    """Summed RSS (bytes) of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as handle:
                rss[int(entry)] = int(handle.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def run(cmd: list[str], env: dict[str, str]) -> dict:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - start
    log = proc.stdout.read()
    match = re.search(r"records written (\d+).*?([\d.]+) s \(", log)
    if proc.returncode not in (0, 1) or not match:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{log[-3000:]}")
    return {"wall_s": round(wall, 2), "records": int(match[1]), "tool_s": float(match[2]),
            "peak_rss_mb": round(peak / 2**20), "exit": proc.returncode}


class LocalCluster:
    """``ray start --head`` for the ``*-cluster`` engines, ``ray stop`` on exit."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.ray = str(Path(sys.executable).with_name("ray"))

    def __enter__(self) -> str:
        cpus = (os.cpu_count() or 1) + 2  # as model.ray_batch gives a cluster of its own
        subprocess.run([self.ray, "start", "--head", f"--num-cpus={cpus}",
                        f"--object-store-memory={1 << 30}", "--include-dashboard=false",
                        "--disable-usage-stats"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return "auto"

    def __exit__(self, *exc: object) -> None:
        subprocess.run([self.ray, "stop", "--force"], env=self.env, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--corpus", action="store_true",
                        help="read the articles from ../shared/data/corpus instead")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process/actor")
    parser.add_argument("--engines", default="local,ray1,ray2")
    parser.add_argument("--keep", default=None, help="keep inputs/outputs in this folder")
    parser.add_argument("--repeats", type=int, default=1,
                        help="run every engine this many times, round-robin (a load swing "
                             "hits them all alike); each engine's fastest run is reported")
    args = parser.parse_args(argv)

    work = Path(args.keep or tempfile.mkdtemp(prefix="ghara-batch-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    src = work / "input.jsonl"
    source = build_input(src, args.n, args.corpus)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(args.threads),
           "RAY_DISABLE_USAGE_STATS": "1"}
    base = [sys.executable, "-m", "model.batch", "--model", args.model, "--input", str(src),
            "--device", "cpu", "--threads", str(args.threads), "--no-progress"]
    results: dict[str, dict] = {}
    for repeat in range(args.repeats):
        for engine in args.engines.split(","):
            out = work / f"out-{engine}-{repeat}"
            if engine == "local":
                cmd = base + ["--output", str(out / "events.jsonl")]
                result = run(cmd, env)
            else:
                actors = engine.removeprefix("ray").removesuffix("-cluster")
                cmd = base + ["--engine", "ray", "--actors", actors, "--output", str(out)]
                if engine.endswith("-cluster"):
                    with LocalCluster(env) as address:
                        result = run(cmd, {**env, "RAY_ADDRESS": address})
                else:
                    result = run(cmd, env)
            result["records_per_s"] = round(result["records"] / result["wall_s"], 1)
            print(f"{engine:6s} {json.dumps(result)}", flush=True)
            best = results.get(engine)
            walls = (best or {}).get("walls_s", []) + [result["wall_s"]]
            if best is None or result["wall_s"] < best["wall_s"]:
                best = result
            results[engine] = {**best, "walls_s": walls}
            if not args.keep:  # the next run starts from nothing, as a user's would
                shutil.rmtree(out, ignore_errors=True)
    report = {"n": args.n, "source": source, "threads": args.threads, "cpus": os.cpu_count(),
              "runs": results}
    if "local" in results and "ray1" in results:
        report["ray1_overhead"] = round(results["ray1"]["wall_s"] / results["local"]["wall_s"], 2)
        report["goal"] = GOAL
    if "local" in results and "ray1-cluster" in results:
        report["ray1_cluster_overhead"] = round(
            results["ray1-cluster"]["wall_s"] / results["local"]["wall_s"], 2)
    if "ray1" in results and "ray2" in results:
        report["ray2_speedup_over_ray1"] = round(results["ray1"]["wall_s"]
                                                 / results["ray2"]["wall_s"], 2)
    print(json.dumps(report, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
