"""Scale of the cross-article merge: time and peak memory on synthetic records.

::

    python bench/incidents_scale.py                 # 1,000,000 records
    python bench/incidents_scale.py --n 100000 --chunk-records 50000

Writes N synthetic records (the shape of ``Record.to_dict()``: one report, one piece of
evidence, one place) to a temporary file -- spread over ``--days`` days and ``--places``
GeoNames-like keys, with a few actors, 10 % aggregates and 5 % without a place, so that
blocks hold a handful of records and many of them merge -- then runs
``python -m model.incidents`` on it in a child process and prints the wall time, the
child's peak resident memory (``ru_maxrss``) and the summary line. Memory should stay flat
as N grows (one sort run of ``--chunk-records`` plus the open window of days).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ACTORS = [["تحالف"], ["روسيه"], ["تركيه"], []]


def synthetic(n: int, days: int, places: int, seed: int = 0):
    """N record dicts (JSON-ready)."""
    rng = random.Random(seed)
    first = dt.date(2015, 1, 1)
    for i in range(n):
        day = first + dt.timedelta(days=rng.randrange(days))
        published = day + dt.timedelta(days=rng.choice((0, 0, 1)))
        kind = "aggregate" if rng.random() < 0.10 else "incident"
        start = day if kind == "incident" else day - dt.timedelta(days=90)
        date = {"start": start.isoformat(), "end": day.isoformat(),
                "precision": "day" if kind == "incident" else "year"}
        place = rng.randrange(places)
        keys = [] if rng.random() < 0.05 else [f"gn:{100000 + place}"]
        actors = rng.choice(ACTORS)
        killed = rng.randrange(0, 20)
        figure = {"min": killed, "max": killed, "conservative": killed, "texts": [str(killed)]}
        aid, rid = f"art{i // 3}", f"r{i:08d}"
        yield {
            "id": rid, "kind": kind, "date": date, "date_source": "text",
            "places": [{"text": f"مكان {place}", "key": keys[0]}] if keys else [],
            "actors": actors, "targets": [], "strikes": None, "killed": figure, "injured": None,
            "sources": [{"article_id": aid, "url": f"https://example.org/{aid}",
                         "outlet": "مثال", "published": published.isoformat()}],
            "first_reported": published.isoformat(), "last_reported": published.isoformat(),
            "evidence": [{"article_id": aid, "paragraph": 0,
                          "trigger": {"text": "غارة", "start": 10, "end": 14}, "arguments": []}],
            "reports": [{"record_id": rid, "article_id": aid, "url": f"https://example.org/{aid}",
                         "outlet": "مثال", "published": published.isoformat(), "kind": kind,
                         "date": date, "date_source": "text", "place_keys": keys,
                         "actor_keys": actors, "strikes": None, "killed": figure,
                         "injured": None}],
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=1100)
    parser.add_argument("--places", type=int, default=300)
    parser.add_argument("--chunk-records", type=int, default=100_000)
    parser.add_argument("--keep", help="keep the synthetic input and the output in this folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ghara-bench-") as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        records, output = folder / "records.jsonl", folder / "incidents.jsonl"
        began = time.perf_counter()
        with open(records, "w", encoding="utf-8") as out:
            for rec in synthetic(args.n, args.days, args.places):
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        made = time.perf_counter() - began
        size = records.stat().st_size / 2**20
        print(f"input: {args.n:,} records, {size:.0f} MiB, written in {made:.1f}s")
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        began = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "model.incidents", "--input", str(records), "--output",
             str(output), "--overwrite", "--chunk-records", str(args.chunk_records)],
            cwd=REPO, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - began
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB -> MiB
        print(run.stdout.strip() or run.stderr.strip()[-500:])
        print(f"merge: {seconds:.1f}s wall, {args.n / seconds:,.0f} records/s, "
              f"peak RSS {peak:.0f} MiB (exit {run.returncode})")
        return run.returncode


if __name__ == "__main__":
    sys.exit(main())
