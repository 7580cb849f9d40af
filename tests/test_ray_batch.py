"""--engine ray: a real local Ray cluster, the tiny real model, a killed and rerun job.

Few and slow-marked: each job starts its own local Ray (~10 s on 2 cores)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray.data.checkpoint")

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "annotation" / "sample" / "articles.jsonl"


def corpus(tmp_path: Path, n: int) -> Path:
    articles = [json.loads(x) for x in SAMPLE.read_text("utf-8").splitlines() if x.strip()]
    lines = [json.dumps(article_line(i, articles[i % len(articles)]), ensure_ascii=False)
             for i in range(n)]
    lines[3] = "{broken json"                                   # -> error row line:4
    lines[7] = '{"id": "x\\udc00", "text": "غارة"}'              # lone surrogate id
    lines[9] = json.dumps({"id": "doc0", "text": "مكرر"}, ensure_ascii=False)  # duplicate
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text("\n".join(lines[: n // 2]) + "\n", encoding="utf-8")
    (folder / "b.jsonl").write_text("\n".join(lines[n // 2:]) + "\n", encoding="utf-8")
    return folder


def article_line(i: int, article: dict) -> dict:
    """Input line ``doc{i}``: the sample article's text and date, an url and an outlet."""
    line = {"id": f"doc{i}", "url": f"https://example.org/{i}", "source": "outlet",
            "text": article["text"]}
    if article.get("date"):
        line["date"] = article["date"]
    return line


def expected_ids(n: int) -> set[str]:
    ids = {f"doc{i}" for i in range(n)} - {"doc3", "doc7", "doc9"}
    return ids | {"a.jsonl:line:4", "x\\udc00", "doc0@a.jsonl:line:10"}


def ray_cmd(model: Path, src: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "model.batch", "--engine", "ray", "--model", str(model),
            "--input", str(src), "--output", str(out), "--device", "cpu", "--threads", "1",
            "--max-chars-per-batch", "1500", "--no-progress", *extra]


def env() -> dict[str, str]:
    e = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1",
         "GHARA_RAY_OBJECT_STORE_BYTES": str(150 << 20), "RAY_DISABLE_USAGE_STATS": "1"}
    e.pop("RAY_ADDRESS", None)
    return e


def committed_ids(checkpoint: Path) -> set[str]:
    """Ids in Ray's committed checkpoint files (pending ones are undone by the rerun)."""
    import pyarrow.parquet as pq

    files = sorted(checkpoint.glob("*.parquet")) if checkpoint.exists() else []
    return {i for f in files for i in pq.read_table(f).column("id").to_pylist()}


def output_records(out: Path) -> list[dict]:
    return [json.loads(line) for f in sorted(out.glob("*.jsonl"))
            for line in f.read_text("utf-8").splitlines() if line.strip()]


@pytest.mark.slow
def test_ray_job_killed_and_rerun_writes_every_id_once(tmp_path):
    from fixtures_model import tiny_model_dir

    n = 160
    src, out = corpus(tmp_path, n), tmp_path / "events"
    cmd = ray_cmd(tiny_model_dir(), src, out, "--records", str(out / "records"))
    proc = subprocess.Popen(cmd, cwd=REPO, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if out.exists() and any(out.glob("*.jsonl")):
            break
        time.sleep(0.1)
    killed = proc.poll() is None
    if killed:
        os.killpg(proc.pid, signal.SIGKILL)
    log = proc.communicate(timeout=60)[0].decode(errors="replace")
    before = committed_ids(tmp_path / "events.checkpoint")
    on_disk = len(output_records(out)) if out.exists() else 0
    print(f"killed: {killed}, {on_disk} records on disk, {len(before)} committed")
    rerun = subprocess.run(cmd, cwd=REPO, env=env(), capture_output=True, text=True, timeout=400)
    # the exit code is this run's: 1 when it wrote one of the error records. Which ids the
    # killed job got done is read from the rerun's own summary, not from ``before``: a Ray
    # write task already running when the driver was killed can still commit after it
    summary = re.search(r"records written (\d+), events \d+, errors (\d+), skipped as done "
                        r"(\d+)", rerun.stdout)
    assert summary, log + rerun.stdout + rerun.stderr
    written, errors, done = map(int, summary.groups())
    assert done >= len(before) and written + done == len(expected_ids(n))
    assert rerun.returncode == (1 if errors else 0), log + rerun.stdout + rerun.stderr
    records = output_records(out)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "an id was written twice"
    assert set(ids) == expected_ids(n)
    by_id = {r["id"]: r for r in records}
    assert "bad JSON" in by_id["a.jsonl:line:4"]["error"]
    assert "lone surrogate" in by_id["x\\udc00"]["error"]
    assert by_id["doc0@a.jsonl:line:10"]["error"].startswith("duplicate id 'doc0'")
    assert by_id["doc0"]["events"], "the sample article gives events"
    # a third run finds everything done and writes nothing new
    again = subprocess.run(cmd, cwd=REPO, env=env(), capture_output=True, text=True, timeout=400)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "records written 0" in again.stdout
    assert sorted(r["id"] for r in output_records(out)) == sorted(ids)
    # incident records: each article's exactly once, in files named like their events file
    from test_batch import check_records

    names = {f.stem for f in (out / "records").glob("*.jsonl")}
    assert names and names <= {f.stem for f in out.glob("*.jsonl")}
    merged = tmp_path / "records.jsonl"
    merged.write_text("".join(f.read_text("utf-8") for f in sorted((out / "records").glob("*"))),
                      encoding="utf-8")
    articles = [json.loads(x) for x in SAMPLE.read_text("utf-8").splitlines() if x.strip()]
    inputs = {f"doc{i}": article_line(i, articles[i % len(articles)]) for i in range(n)}
    check_records(merged, by_id, inputs)
    assert "incident records written 0" in again.stdout


def test_ray_engine_user_errors_come_before_ray_starts(tmp_path):
    src = corpus(tmp_path, 12)
    a_file = tmp_path / "events.jsonl"
    a_file.write_text("", encoding="utf-8")
    for output, fragment, extra in (
            (a_file, "is a file; with --engine ray it is a folder", ()),
            (src / "out", "overlap (one inside the other)", ()),
            (tmp_path / "out", "must be a folder inside --output",
             ("--records", str(tmp_path / "records")))):
        run = subprocess.run(ray_cmd(tmp_path / "no-model", src, output, *extra), cwd=REPO,
                             env=env(), capture_output=True, text=True, timeout=120)
        assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
        assert fragment in run.stderr and "Traceback" not in run.stderr
    run = subprocess.run(ray_cmd(tmp_path / "no-model", src, tmp_path / "out"), cwd=REPO,
                         env=env(), capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "model directory not found" in run.stderr, run.stderr


def test_ray_engine_refuses_inputs_it_would_misread_before_ray_starts(tmp_path):
    """Checked in the driver, in a second or so: Ray never starts (no model is needed)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def refused(src, out, fragment, *extra):
        run = subprocess.run(ray_cmd(tmp_path / "no-model", src, out, *extra), cwd=REPO,
                             env=env(), capture_output=True, text=True, timeout=120)
        assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
        assert fragment in run.stderr and "Traceback" not in run.stderr

    src = corpus(tmp_path, 12)
    refused(src, tmp_path / "o1", "--actors must be 0", "--actors", "-1")
    pq.write_table(pa.table({"id": ["a", None], "text": ["غارة", "قصف"]}), src / "c.parquet")
    refused(src, tmp_path / "o2", "holds both .parquet and .jsonl/.txt files")
    refused(src / "c.parquet", tmp_path / "o3", "1 rows have no id")
    (tmp_path / "empty").mkdir()
    refused(tmp_path / "empty", tmp_path / "o4", "no .jsonl, .jsonl.gz or .txt files")
    (tmp_path / "o5").mkdir()
    (tmp_path / "o5" / "records").write_text("", encoding="utf-8")
    refused(src / "a.jsonl", tmp_path / "o5", "is a file; it is a folder",
            "--records", str(tmp_path / "o5" / "records"))
    refused(src / "a.jsonl", src.parent, "overlap (one inside the other)")  # output holds it
    refused(src / "a.jsonl", Path("/proc/ghara-out"), "cannot write into --output")
    run = subprocess.run(ray_cmd(tmp_path / "empty", src / "a.jsonl", tmp_path / "o6"),
                         cwd=REPO, env=env(), capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "holds no config.json" in run.stderr, run.stderr


@pytest.mark.slow
def test_ray_parquet_in_and_out_with_labelstudio_records(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from fixtures_model import tiny_model_dir

    articles = [json.loads(x) for x in SAMPLE.read_text("utf-8").splitlines() if x.strip()][:4]
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": [f"p{i}" for i in range(4)] + ["no-text"],
                             "text": [a["text"] for a in articles] + [None]}), src)
    out = tmp_path / "out"
    run = subprocess.run(ray_cmd(tiny_model_dir(), src, out, "--output-format", "parquet",
                                 "--format", "labelstudio"),
                         cwd=REPO, env=env(), capture_output=True, text=True, timeout=400)
    assert run.returncode == 1, run.stdout + run.stderr  # the row without text
    table = pq.read_table(sorted(out.glob("*.parquet")))
    assert table.column_names == ["id", "error", "record"]
    rows = {r["id"]: r for r in table.to_pylist()}
    assert set(rows) == {"p0", "p1", "p2", "p3", "no-text"}
    assert rows["no-text"]["error"] == "missing 'text'"
    first = json.loads(rows["p0"]["record"])
    assert first["id"] == "p0" and first["result"] and first["model_version"]
    assert "errors 1" in run.stdout and "events 0" not in run.stdout


@pytest.mark.slow
def test_ray_reads_a_folder_as_the_local_engine_does_and_one_output_has_one_checkpoint(tmp_path):
    """Names starting with _ or . are read, subfolders and .json files skipped and counted, a
    truncated .gz gives its complete lines; the same output through a symlink (or a relative
    path) is the same job: its rerun writes nothing."""
    import gzip

    from fixtures_model import tiny_model_dir

    texts = [json.loads(x)["text"] for x in SAMPLE.read_text("utf-8").splitlines() if x.strip()]

    def lines(prefix, n):
        return "".join(json.dumps({"id": f"{prefix}{i}", "text": texts[i]}, ensure_ascii=False)
                       + "\n" for i in range(n))

    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "a.jsonl").write_text(lines("a", 2), encoding="utf-8")
    (src / "_b.jsonl").write_text(lines("b", 1) + lines("a", 1), encoding="utf-8")  # a0 again
    (src / ".c.jsonl").write_text(lines("c", 1), encoding="utf-8")
    (src / "notes.json").write_text("{}", encoding="utf-8")
    (src / "sub" / "x.jsonl").write_text(lines("x", 1), encoding="utf-8")
    packed = gzip.compress(lines("d", 3).encode("utf-8") + lines("e", 40).encode("utf-8"))
    (src / "d.jsonl.gz").write_bytes(packed[: len(packed) * 2 // 3])  # cut short
    out = tmp_path / "out"
    # two actors: the reads run as tasks of their own (not fused into one actor)
    run = subprocess.run(ray_cmd(tiny_model_dir(), src, out, "--actors", "2"), cwd=REPO,
                         env=env(), capture_output=True, text=True, timeout=400)
    assert run.returncode == 1, run.stdout + run.stderr  # the truncated file's error row
    ids = [r["id"] for r in output_records(out)]
    assert {"a0", "a1", "b0", "c0", "d0", "d1", "d2", "d.jsonl.gz:unreadable"} <= set(ids)
    assert not {"x0"} & set(ids) and len(ids) == len(set(ids)) + 1 and ids.count("a0") == 2
    assert "skipped 2 folder entries" in run.stdout and "notes.json" in run.stdout
    # an id repeated across files cannot be caught while Ray streams them: it is said after
    assert ("1 ids written more than once, from different input files (Ray catches a repeat "
            "within one file only): a0") in run.stdout

    (tmp_path / "link").symlink_to(out)
    rerun = subprocess.run(ray_cmd(tiny_model_dir(), src, Path("link")), cwd=tmp_path,
                           env=env(), capture_output=True, text=True, timeout=400)
    assert "records written 0" in rerun.stdout, rerun.stdout + rerun.stderr
    assert [r["id"] for r in output_records(out)] == ids
    assert not (tmp_path / "link.checkpoint").exists()


@pytest.mark.slow
def test_ray_parquet_with_integer_ids_resumes(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from fixtures_model import tiny_model_dir

    texts = [json.loads(x)["text"] for x in SAMPLE.read_text("utf-8").splitlines() if x.strip()]
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": [101, 102, 103], "text": texts[:3], "extra": [1, 2, 3]}), src)
    out = tmp_path / "out"
    first = subprocess.run(ray_cmd(tiny_model_dir(), src, out), cwd=REPO, env=env(),
                           capture_output=True, text=True, timeout=400)
    assert first.returncode == 0, first.stdout + first.stderr
    assert sorted(r["id"] for r in output_records(out)) == ["101", "102", "103"]
    again = subprocess.run(ray_cmd(tiny_model_dir(), src, out), cwd=REPO, env=env(),
                           capture_output=True, text=True, timeout=400)
    assert again.returncode == 0 and "skipped as done 3" in again.stdout, again.stdout + again.stderr


@pytest.mark.slow
def test_ray_blocks_hold_about_max_chars_of_text_whatever_the_file_count(tmp_path):
    """One block is one actor call, so blocks are cut at --max-chars-per-batch characters, as
    the local engine's chunks are: Ray's default split the blocks of a corpus held in one
    file into more, smaller ones (more padding per encoder batch), or merged them up to
    128 MiB."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray

    from model.ray_batch import read_input

    texts = [json.loads(x)["text"] for x in SAMPLE.read_text("utf-8").splitlines() if x.strip()]
    rows = [{"id": f"d{i}", "text": texts[i % len(texts)]} for i in range(120)]
    total = sum(len(r["text"]) for r in rows)
    src = tmp_path / "one.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "one.parquet")

    def block_chars(path, max_chars, separate_tasks=False):
        ds = read_input(str(path), max_chars, separate_tasks)
        return [sum(map(len, b.column("text").to_pylist()))
                for b in ds.iter_batches(batch_size=None, batch_format="pyarrow")]

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=150 << 20)
    try:
        for path in (src, tmp_path / "one.parquet"):
            assert block_chars(path, 2 * total) == [total], path  # one block: not split
            sizes = block_chars(path, 5000)
            assert sum(sizes) == total
            assert 5000 / 2 <= sum(sizes) / len(sizes) <= 5000 * 1.5, (path, sizes)
            assert max(sizes) <= 5000 * 2, (path, sizes)
            assert block_chars(path, 5000, separate_tasks=True) == sizes
    finally:
        ray.shutdown()


def test_parquet_ids_are_checked_through_any_filesystem_uri_with_or_without_statistics(tmp_path):
    """The null-id check reads object stores through pyarrow's filesystems (here a file://
    URI, the same code path as s3:// or gs://), a folder's files included, and reads the ids
    of a file written without column statistics instead of trusting a missing count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from model.batch import UsageError
    from model.ray_batch import _check_parquet_ids

    folder = tmp_path / "corpus"
    (folder / "part").mkdir(parents=True)
    pq.write_table(pa.table({"id": ["a", "b"], "text": ["غارة", "قصف"]}), folder / "ok.parquet")
    _check_parquet_ids([folder.as_uri()])  # all ids present: no error
    pq.write_table(pa.table({"id": ["c", None, None], "text": ["غارة", "قصف", "غارة"]}),
                   folder / "part" / "nostats.parquet", write_statistics=False)
    assert pq.ParquetFile(folder / "part" / "nostats.parquet").metadata.row_group(0) \
        .column(0).statistics is None
    for uri in (folder.as_uri(), (folder / "part" / "nostats.parquet").as_uri()):
        with pytest.raises(UsageError, match="2 rows have no id"):
            _check_parquet_ids([uri])
    with pytest.raises(UsageError, match="not a readable Parquet file"):
        _check_parquet_ids([(tmp_path / "missing.parquet").as_uri()])
