"""model.batch: streaming, malformed lines, resume after a kill, shards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model.batch import Record, merge_shards, process, read_records, repair_output

REPO = Path(__file__).resolve().parents[1]


class FakeExtractor:
    """Counts calls; one event-like object per Arabic text; fails on the text 'BOOM'."""

    def __init__(self):
        self.calls = 0

    def extract_batch(self, texts, batch_size=32):
        self.calls += 1
        if "BOOM" in texts:
            raise RuntimeError("kaboom")
        return [[_Event(t)] if any("\u0600" <= c <= "\u06ff" for c in t) else [] for t in texts]


class _Event:
    def __init__(self, text):
        self.text = text

    def to_dict(self):
        return {"trigger": {"text": self.text[:5], "start": 0, "end": 5}}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_output(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


MIXED = [
    json.dumps({"id": "a", "text": "غارة على حلب"}, ensure_ascii=False),
    "{not json",
    json.dumps({"id": "b"}),
    json.dumps({"id": "c", "text": 42}),
    json.dumps({"text": "نص بلا معرف"}, ensure_ascii=False),
    "",
    json.dumps(["a", "list"]),
    json.dumps({"id": 7, "text": "English only"}),
    json.dumps({"id": "a", "text": "مكرر"}, ensure_ascii=False),
    json.dumps({"id": "d", "text": "BOOM"}),
    json.dumps({"id": None, "text": "x"}),
]


def test_malformed_lines_become_error_records(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", MIXED)
    out = tmp_path / "out.jsonl"
    summary = process(FakeExtractor(), src, out, max_chars_per_batch=10_000, progress=False)
    records = {r["id"]: r for r in read_output(out)}
    assert list(records) == ["a", "line:2", "b", "c", "line:5", "line:7", "7", "a@line:9", "d",
                             "line:11"]
    assert len(records["a"]["events"]) == 1 and records["7"]["events"] == []
    assert "bad JSON" in records["line:2"]["error"]
    assert records["b"]["error"] == "missing 'text'"
    assert "not a string" in records["c"]["error"]
    assert records["line:5"]["error"] == "missing 'id'"
    assert "not a JSON object" in records["line:7"]["error"]
    assert "duplicate id 'a'" in records["a@line:9"]["error"]
    assert "extraction failed: RuntimeError: kaboom" == records["d"]["error"]
    assert summary.records == 10 and summary.errors == 8 and summary.blank_lines == 1
    assert summary.events == 1


def test_rerun_skips_done_and_repairs_a_half_written_line(tmp_path):
    lines = [json.dumps({"id": f"n{i}", "text": f"غارة رقم {i}"}, ensure_ascii=False)
             for i in range(25)]
    src = write_lines(tmp_path / "in.jsonl", lines)
    out = tmp_path / "out.jsonl"
    process(FakeExtractor(), src, out, max_records_per_chunk=4, progress=False)
    full = out.read_text(encoding="utf-8").splitlines(keepends=True)
    # simulate a kill: 10 complete records and half of the 11th
    out.write_text("".join(full[:10]) + full[10][:17], encoding="utf-8")
    assert repair_output(out) == {f"n{i}" for i in range(10)}
    assert out.read_text(encoding="utf-8") == "".join(full[:10])
    out.write_text("".join(full[:10]) + full[10][:17], encoding="utf-8")
    fake = FakeExtractor()
    summary = process(fake, src, out, max_records_per_chunk=4, progress=False)
    assert summary.skipped_done == 10 and summary.records == 15
    ids = [r["id"] for r in read_output(out)]
    assert sorted(ids) == sorted(f"n{i}" for i in range(25)) and len(ids) == len(set(ids))
    # a third run has nothing to do
    again = process(fake, src, out, progress=False)
    assert again.records == 0 and again.skipped_done == 25


def test_shards_cover_every_line_once(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", MIXED)
    out = tmp_path / "out.jsonl"
    for rank in range(3):
        shard = out.with_name(f"out.jsonl.rank{rank}")
        process(FakeExtractor(), src, shard, rank=rank, world_size=3, progress=False)
    assert merge_shards(out, 3) == 10
    ids = [r["id"] for r in read_output(out)]
    assert len(ids) == len(set(ids)) == 10
    assert not list(tmp_path.glob("*.rank*"))


def test_folder_input_and_chunking(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "one.txt").write_text("غارة جوية", encoding="utf-8")
    write_lines(folder / "b.jsonl", [json.dumps({"id": "x", "text": "قصف"}, ensure_ascii=False),
                                     "oops"])
    records = list(read_records(folder))
    assert [(r.id, r.error is None) for r in records] == [("x", True), ("b.jsonl:line:2", False),
                                                          ("one", True)]
    assert isinstance(records[0], Record)
    fake = FakeExtractor()
    process(fake, folder, tmp_path / "o.jsonl", max_chars_per_batch=1, progress=False)
    assert fake.calls == 2  # one chunk per record with text (chunks of >= 1 char)


N_RECORDS = 150


@pytest.mark.slow
def test_cli_killed_midway_then_resumed(tmp_path):
    from fixtures_model import small_documents, tiny_model_dir

    model_dir = tiny_model_dir()
    texts = [d.text for d in small_documents()]
    articles = [json.loads(line) for line in
                (REPO / "annotation" / "sample" / "articles.jsonl").read_text("utf-8").splitlines()
                if line.strip()]
    texts += [a["text"] for a in articles]
    lines = [json.dumps({"id": f"doc{i}", "text": texts[i % len(texts)]}, ensure_ascii=False)
             for i in range(N_RECORDS)]
    lines.insert(5, "{broken json")
    lines.insert(50, json.dumps({"id": "no-text"}))
    src = write_lines(tmp_path / "in.jsonl", lines)
    out = tmp_path / "events.jsonl"
    cmd = [sys.executable, "-m", "model.batch", "--model", str(model_dir), "--input", str(src),
           "--output", str(out), "--max-chars-per-batch", "1500", "--batch-size", "8",
           "--no-progress", "--device", "cpu"]
    # one torch thread: tiny ops on a busy 2-core machine are much faster without OpenMP
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if out.exists() and out.read_text(encoding="utf-8").count("\n") >= 20:
            break
        time.sleep(0.05)
    killed = proc.poll() is None
    if killed:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    written_before = out.read_text(encoding="utf-8").count("\n")
    print(f"killed: {killed}, after {written_before} complete records")
    # and as if the kill had cut a line in half
    with open(out, "a", encoding="utf-8") as handle:
        handle.write('{"id": "doc149", "events": [{"trig')
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"skipped as done {written_before}" in done.stdout
    records = read_output(out)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == N_RECORDS + 2
    assert set(ids) == {f"doc{i}" for i in range(N_RECORDS)} | {"line:6", "no-text"}
    by_id = {r["id"]: r for r in records}
    assert "bad JSON" in by_id["line:6"]["error"] and "missing 'text'" in by_id["no-text"]["error"]
    # the training articles give their events, in order and with offsets into the text
    first = by_id["doc0"]["events"]
    assert first and all(texts[0][e["trigger"]["start"]:e["trigger"]["end"]] == e["trigger"]["text"]
                         for e in first)
    assert by_id["doc0"]["events"] == by_id[f"doc{len(texts)}"]["events"]
    assert killed or written_before == N_RECORDS + 2  # (on a very fast machine it may finish first)


@pytest.mark.slow
def test_two_processes_write_shards_and_merge(tmp_path):
    from fixtures_model import small_documents, tiny_model_dir

    texts = [d.text for d in small_documents()]
    lines = [json.dumps({"id": f"d{i}", "text": texts[i % 2]}, ensure_ascii=False)
             for i in range(12)] + ["{bad"]
    src = write_lines(tmp_path / "in.jsonl", lines)
    out = tmp_path / "events.jsonl"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "model.batch", "--model", str(tiny_model_dir()), "--input", str(src),
           "--output", str(out), "--no-progress", "--device", "cpu"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    run = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "merged 2 shards" in run.stdout
    ids = [r["id"] for r in read_output(out)]
    assert sorted(ids) == sorted([f"d{i}" for i in range(12)] + ["line:13"])
    assert not list(tmp_path.glob("events.jsonl.rank*"))
