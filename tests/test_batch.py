"""model.batch: streaming, malformed lines, resume after a kill, locks, exit codes."""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model.batch import (EXIT_OK, EXIT_RECORD_ERRORS, EXIT_USAGE, Record, Summary, UsageError,
                         open_output, process, read_records, repair_output)

REPO = Path(__file__).resolve().parents[1]


class FakeExtractor:
    """Counts calls; one real StrikeEvent (its first word as trigger) per Arabic text; fails
    on the text 'BOOM'.

    Used where the test is about input/output handling, so it runs in milliseconds (no
    model, no places: the gazetteer is never loaded); the command-line tests below run the
    real tiny model."""

    def __init__(self):
        self.calls = 0

    def extract_batch(self, texts, batch_size=32, *, published=None, normalize=True):
        self.calls += 1
        if "BOOM" in texts:
            raise RuntimeError("kaboom")
        return [[_event(t)] if any("\u0600" <= c <= "\u06ff" for c in t) else [] for t in texts]


def _event(text):
    from model.events import EventSpan, StrikeEvent

    word = text.split()[0]
    return StrikeEvent(trigger=EventSpan(word, 0, len(word)))


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_output(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def arabic_lines(n: int, prefix: str = "n") -> list[str]:
    return [json.dumps({"id": f"{prefix}{i}", "text": f"غارة رقم {i}"}, ensure_ascii=False)
            for i in range(n)]


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
    assert records["7"]["note"] == "no Arabic letters: nothing to extract"
    assert "bad JSON" in records["line:2"]["error"]
    assert records["b"]["error"] == "missing 'text'"
    assert "not a string" in records["c"]["error"]
    assert records["line:5"]["error"] == "missing 'id'"
    assert "not a JSON object" in records["line:7"]["error"]
    assert records["a@line:9"]["error"] == "duplicate id 'a' (first at line 1)"
    assert "extraction failed: RuntimeError: kaboom" == records["d"]["error"]
    assert summary.records == 10 and summary.errors == 8 and summary.blank_lines == 1
    assert summary.events == 1 and summary.no_arabic == 2 and summary.duplicate_ids == 1  # "7", "d"
    assert summary.generated_ids == 4 and summary.exit_code == EXIT_RECORD_ERRORS


def test_lone_surrogates_cost_one_record_not_the_corpus(tmp_path):
    # escaped lone surrogates are valid JSON but cannot be written as UTF-8
    src = write_lines(tmp_path / "in.jsonl", [
        '{"id": "x\\udc00", "text": "غارة"}',
        '{"id": "ok1", "text": "قصف \\ud83d على المدينة"}',
        json.dumps({"id": "after", "text": "غارة جوية"}, ensure_ascii=False),
    ])
    out = tmp_path / "out.jsonl"
    summary = process(FakeExtractor(), src, out, progress=False)
    records = read_output(out)
    assert [r["id"] for r in records] == ["x\\udc00", "ok1", "after"]
    assert "'id' holds a lone surrogate" in records[0]["error"]
    assert records[1]["error"].startswith("'text' holds a lone surrogate '\\ud83d' at character 4")
    assert records[2]["events"] and summary.errors == 2


def test_rerun_skips_done_and_cuts_only_a_torn_last_line(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", arabic_lines(25))
    out = tmp_path / "out.jsonl"
    process(FakeExtractor(), src, out, max_records_per_chunk=4, progress=False)
    full = out.read_text(encoding="utf-8").splitlines(keepends=True)
    # simulate a kill: 10 complete records and half of the 11th
    out.write_text("".join(full[:10]) + full[10][:17], encoding="utf-8")
    resume = repair_output(out)
    assert resume.done == {f"n{i}" for i in range(10)}
    assert "cut a torn last line" in resume.repaired and "line 11" in resume.repaired
    assert out.read_text(encoding="utf-8") == "".join(full[:10])
    out.write_text("".join(full[:10]) + full[10][:17], encoding="utf-8")
    fake = FakeExtractor()
    summary = process(fake, src, out, max_records_per_chunk=4, progress=False)
    assert summary.skipped_done == 10 and summary.records == 15 and summary.repaired
    ids = [r["id"] for r in read_output(out)]
    assert sorted(ids) == sorted(f"n{i}" for i in range(25)) and len(ids) == len(set(ids))
    # a third run has nothing to do
    again = process(fake, src, out, progress=False)
    assert again.records == 0 and again.skipped_done == 25 and again.repaired is None


def test_a_complete_last_record_without_newline_is_kept(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a", "events": []}\n{"id": "b", "events": []}', encoding="utf-8")
    assert repair_output(out).done == {"a", "b"}
    assert out.read_text(encoding="utf-8").endswith('{"id": "b", "events": []}\n')


def test_output_that_is_the_input_is_refused_untouched(tmp_path, monkeypatch):
    src = write_lines(tmp_path / "in.jsonl", arabic_lines(19))
    before = src.read_bytes()
    (tmp_path / "link.jsonl").symlink_to(src)
    monkeypatch.chdir(tmp_path)
    for output in (src, tmp_path / "link.jsonl", Path("in.jsonl"), Path("./sub/../in.jsonl")):
        with pytest.raises(UsageError, match="is the input file"):
            process(FakeExtractor(), src, output, progress=False)
    assert src.read_bytes() == before


def test_output_inside_the_input_folder_is_refused(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_lines(folder / "a.jsonl", arabic_lines(2))
    with pytest.raises(UsageError, match="inside the input folder"):
        process(FakeExtractor(), folder, folder / "events.jsonl", progress=False)


def test_a_foreign_file_is_refused_and_a_blank_line_keeps_its_records(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", arabic_lines(8))
    out = tmp_path / "out.jsonl"
    process(FakeExtractor(), src, out, progress=False)
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    # a blank line inside a real output: the 4 records after it are kept, not cut
    out.write_text("".join(lines[:4]) + "\n" + "".join(lines[4:]), encoding="utf-8")
    summary = process(FakeExtractor(), src, out, progress=False)
    assert summary.skipped_done == 8 and summary.records == 0
    assert len(read_output(out)) == 8
    # a file that is not our output (here: some other JSON lines) is refused, byte for byte
    notes = tmp_path / "notes.jsonl"
    write_lines(notes, ['{"id": "a", "events": []}', '{"title": "my notes"}', "more"])
    before = notes.read_bytes()
    with pytest.raises(UsageError, match="line 2 is not a ghara output record"):
        process(FakeExtractor(), src, notes, progress=False)
    assert notes.read_bytes() == before
    # also when its only (last, unterminated) line does not look like ours
    plain = tmp_path / "plain.txt"
    plain.write_text("hello", encoding="utf-8")
    with pytest.raises(UsageError, match="not a ghara output record"):
        repair_output(plain)
    assert plain.read_text(encoding="utf-8") == "hello"


def test_a_second_run_on_a_locked_output_stops(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", arabic_lines(3))
    out = tmp_path / "out.jsonl"
    with open(tmp_path / "out.jsonl.lock", "ab") as held:  # as a running batch holds it
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(UsageError, match="another run is writing"):
            process(FakeExtractor(), src, out, progress=False)
        assert not out.exists()
    assert process(FakeExtractor(), src, out, progress=False).records == 3  # released: runs


def test_an_input_that_cannot_be_read_at_all_is_exit_2(tmp_path):
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(b'{"id": "a", "text": "not gzip"}\n')
    summary = process(FakeExtractor(), src, tmp_path / "o.jsonl", progress=False)
    assert summary.records == 0 and len(summary.input_problems) == 1
    assert "BadGzipFile" in summary.input_problems[0] and summary.exit_code == EXIT_USAGE


def test_one_output_under_two_names_has_one_writer(tmp_path):
    """A symbolic or a hard link to an output another run writes is refused too."""
    src = write_lines(tmp_path / "in.jsonl", arabic_lines(3))
    out = tmp_path / "out.jsonl"
    (tmp_path / "sym.jsonl").symlink_to(out)
    with open_output(out, src):  # a running batch
        os.link(out, tmp_path / "hard.jsonl")
        for name in ("sym.jsonl", "hard.jsonl"):
            with pytest.raises(UsageError, match="another run is writing"):
                process(FakeExtractor(), src, tmp_path / name, progress=False)
    assert process(FakeExtractor(), src, tmp_path / "hard.jsonl", progress=False).records == 3
    assert len(read_output(out)) == 3


def test_output_repair_keeps_a_blank_last_line_apart_and_drops_nan(tmp_path):
    """A whitespace-only last line without newline is ended before appending; NaN and
    Infinity (which Python's json reads) never reach the output, which stays strict JSON."""
    src = write_lines(tmp_path / "in.jsonl", [
        '{"id": "n1", "text": "غارة", "date": NaN}', '{"id": "n2", "text": "غارة", "url": Infinity}'])
    out = tmp_path / "out.jsonl"
    out.write_bytes(b'{"id": "old", "events": []}\n   ')
    summary = process(FakeExtractor(), src, out, progress=False)

    def strict(constant):
        raise ValueError(f"not JSON: {constant}")

    lines = [json.loads(x, parse_constant=strict) for x in out.read_text("utf-8").splitlines()
             if x.strip()]
    assert [x["id"] for x in lines] == ["old", "n1", "n2"]
    assert "'date' nan is not a JSON value: dropped" in lines[1]["note"]
    assert summary.dropped_values == 2 and summary.exit_code == EXIT_OK
    assert summary.repaired == f"added the missing newline after line 2 of {out}"
    assert any("2 NaN/Infinity field values dropped" in line for line in summary.report())


def test_truncated_gzip_keeps_every_readable_record(tmp_path):
    lines = arabic_lines(400)
    whole = gzip.compress("".join(x + "\n" for x in lines).encode("utf-8"))
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(whole[: len(whole) * 2 // 3])
    import zlib

    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    complete = d.decompress(src.read_bytes()).count(b"\n")
    out = tmp_path / "out.jsonl"
    summary = process(FakeExtractor(), src, out, progress=False)
    assert 0 < complete < 400 and summary.records == complete
    assert len(summary.input_problems) == 1
    assert f"unreadable after line {complete}" in summary.input_problems[0]
    assert "EOFError" in summary.input_problems[0]
    assert summary.exit_code == EXIT_RECORD_ERRORS


def test_folder_input_counts_what_it_skips_and_names_the_file(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "one.txt").write_text("غارة جوية", encoding="utf-8")
    (folder / "TWO.TXT").write_text("قصف مدفعي", encoding="utf-8")
    (folder / "notes.json").write_text("{}", encoding="utf-8")
    (folder / "sub").mkdir()
    write_lines(folder / "b.jsonl", [json.dumps({"id": "x", "text": "قصف"}, ensure_ascii=False),
                                     "oops", json.dumps({"id": "x", "text": "قصف"}),
                                     json.dumps({"id": "b.jsonl:line:2", "text": "غارة"},
                                                ensure_ascii=False)])
    (folder / "c.jsonl").write_bytes(b'{"id": "bad-utf8", "text": "\xd8\xba\xff"}\n'
                                     b'{"id": "x", "text": ""}\n')
    summary = Summary()
    records = list(read_records(folder, summary))
    assert [(r.id, r.error is None) for r in records] == [
        ("TWO", True), ("x", True), ("b.jsonl:line:2#2", False), ("x@b.jsonl:line:3", False),
        ("b.jsonl:line:2", True), ("bad-utf8", True), ("x@c.jsonl:line:2", False),
        ("one", True)]  # the made-up id of line 2 leaves the real one of line 4 alone
    assert isinstance(records[0], Record)
    assert records[3].error == "duplicate id 'x' (first at b.jsonl line 1)"
    assert records[6].error == "duplicate id 'x' (first at b.jsonl line 1)"
    assert records[5].note.startswith("invalid UTF-8 replaced") and records[5].text == "غ\ufffd"
    assert summary.skipped_files == ["notes.json", "sub/"] and summary.invalid_utf8 == 1
    assert any("skipped 2 folder entries" in line for line in summary.report())
    fake = FakeExtractor()
    process(fake, folder, tmp_path / "o.jsonl", max_chars_per_batch=1, progress=False)
    assert fake.calls == 5  # one chunk per record with text (chunks of >= 1 char)


def test_a_generated_id_never_takes_a_real_one(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", [
        json.dumps({"id": "ok1@line:3", "text": "غارة"}, ensure_ascii=False),
        json.dumps({"id": "ok1", "text": "غارة"}, ensure_ascii=False),
        json.dumps({"id": "ok1", "text": "غارة"}, ensure_ascii=False),
        json.dumps({"id": "line:5", "text": "غارة"}, ensure_ascii=False),
        "{no id",
        # the real ids that the made-up ones would take come later: they keep them
        json.dumps({"id": "ok1", "text": "غارة"}, ensure_ascii=False),
        json.dumps({"id": "ok1@line:6", "text": "غارة"}, ensure_ascii=False),
        json.dumps({"text": "غارة"}, ensure_ascii=False),
        json.dumps({"id": "line:8", "text": "غارة"}, ensure_ascii=False),
    ])
    summary = Summary()
    records = list(read_records(src, summary))
    assert [r.id for r in records] == ["ok1@line:3", "ok1", "ok1@line:3#2", "line:5", "line:5#2",
                                       "ok1@line:6#2", "ok1@line:6", "line:8#2", "line:8"]
    # a repeat, a real id, a line without id (an error record), a real id
    assert [r.error is None for r in records[5:]] == [False, True, False, True]
    assert summary.duplicate_ids == 2 and summary.generated_ids == 2


def test_empty_text_gets_a_note(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", [json.dumps({"id": "e", "text": "  \n"}),
                                               json.dumps({"id": "f", "text": "no arabic"})])
    out = tmp_path / "out.jsonl"
    summary = process(FakeExtractor(), src, out, progress=False)
    assert [r.get("note") for r in read_output(out)] == [
        "empty text", "no Arabic letters: nothing to extract"]
    assert summary.empty_text == 1 and summary.no_arabic == 1 and summary.exit_code == EXIT_OK


# -- command line: exit codes and one-line user errors (no model needed: checked first) ----
def run_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "model.batch", *args, "--no-progress"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def one_line_error(run: subprocess.CompletedProcess, fragment: str) -> None:
    assert run.returncode == EXIT_USAGE, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1, run.stderr
    assert fragment in run.stderr


def test_user_errors_are_one_line_and_exit_2(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", arabic_lines(2))
    missing_model = str(tmp_path / "no-such-model")
    # the output is checked before the model loads (the model path is missing too)
    one_line_error(run_cli("--model", missing_model, "--input", str(src), "--output",
                           str(src / "out.jsonl")), "cannot create the folder of --output")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if not os.access(ro, os.W_OK):  # (root may write anywhere)
            one_line_error(run_cli("--model", missing_model, "--input", str(src), "--output",
                                   str(ro / "out.jsonl")), "cannot")
    finally:
        ro.chmod(0o700)
    one_line_error(run_cli("--model", missing_model, "--input", str(src),
                           "--output", str(tmp_path)), "is a folder")
    one_line_error(run_cli("--model", missing_model, "--input", str(tmp_path / "nope.jsonl"),
                           "--output", str(tmp_path / "o.jsonl")), "input not found")
    one_line_error(run_cli("--model", missing_model, "--input", str(src),
                           "--output", str(src)), "is the input file")
    one_line_error(run_cli("--model", missing_model, "--input", str(src),
                           "--output", str(tmp_path / "o.jsonl")),
                   f"model directory not found: {missing_model}")
    one_line_error(run_cli("--model", "runs/nothing/best", "--input", str(src),
                           "--output", str(tmp_path / "o.jsonl")), "model directory not found")
    assert src.read_text(encoding="utf-8").count("\n") == 2


def _without_root_powers() -> list[str]:
    """A command prefix under which file permissions hold even for root (CI runs as root),
    or [] when they already do; None when they cannot be made to."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"] \
        if setpriv else None


def test_unreadable_files_and_pipes_are_one_line_and_exit_2(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", arabic_lines(2))
    model = str(tmp_path / "no-such-model")
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)  # opening it would wait for a reader forever
    one_line_error(run_cli("--model", model, "--input", str(src), "--output", str(fifo),
                           timeout=60), "is not a regular file")
    # a missing model leaves no empty output behind
    one_line_error(run_cli("--model", model, "--input", str(src), "--output",
                           str(tmp_path / "o.jsonl")), "model directory not found")
    assert not (tmp_path / "o.jsonl").exists()
    prefix = _without_root_powers()
    if prefix is None:
        pytest.skip("running as root without setpriv: file permissions cannot be tested")
    locked = write_lines(tmp_path / "locked.jsonl", arabic_lines(2))
    locked.chmod(0)
    old = tmp_path / "old.jsonl"
    old.write_text('{"id": "x", "events": []}\n', encoding="utf-8")
    old.chmod(0o200)  # writable, not readable: cannot be resumed

    def cli(*args):
        env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
        return subprocess.run([*prefix, sys.executable, "-m", "model.batch", *args,
                               "--no-progress"], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=120)

    one_line_error(cli("--model", model, "--input", str(locked), "--output",
                       str(tmp_path / "o2.jsonl")), f"cannot read input {locked}")
    one_line_error(cli("--model", model, "--input", str(src), "--output", str(old)),
                   f"cannot read --output {old}")
    assert not (tmp_path / "o2.jsonl").exists()


def test_an_unreadable_file_in_a_folder_is_an_input_problem(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_lines(folder / "a.jsonl", arabic_lines(2, "a"))
    (folder / "b.txt").write_text("غارة", encoding="utf-8")
    (folder / "c.jsonl").mkdir()  # a folder named like an input file: read fails
    summary = Summary()
    ids = [r.id for r in read_records(folder, summary)]
    assert ids == ["a0", "a1", "b"]
    assert summary.skipped_files == ["c.jsonl/"] and summary.exit_code == EXIT_OK


def test_help_documents_the_exit_codes():
    text = run_cli("--help", timeout=60).stdout
    assert "exit codes:" in text and "0  every record" in text and "2  unusable" in text


@pytest.mark.slow
def test_cli_exit_codes_with_the_real_model(tmp_path):
    from fixtures_model import small_documents, tiny_model_dir

    model = str(tiny_model_dir())
    texts = [d.text for d in small_documents()]
    good = write_lines(tmp_path / "good.jsonl", [
        json.dumps({"id": f"g{i}", "text": t}, ensure_ascii=False) for i, t in enumerate(texts)])
    run = run_cli("--model", model, "--input", str(good), "--output", str(tmp_path / "g.jsonl"))
    assert run.returncode == EXIT_OK, run.stdout + run.stderr
    # 13 of 18 records are errors: exit 1, and the summary says so
    bad = write_lines(tmp_path / "bad.jsonl",
                      [json.dumps({"id": f"g{i}", "text": texts[i % 2]}, ensure_ascii=False)
                       for i in range(5)] + ["{broken"] * 13)
    run = run_cli("--model", model, "--input", str(bad), "--output", str(tmp_path / "b.jsonl"))
    assert run.returncode == EXIT_RECORD_ERRORS, run.stdout + run.stderr
    assert "records written 18" in run.stdout and "errors 13" in run.stdout


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
    dates = ["2023-05-14"] * (len(texts) - len(articles)) + [a.get("date") for a in articles]
    inputs = [{"id": f"doc{i}", "url": f"https://example.org/{i}", "source": "outlet",
               "date": dates[i % len(texts)], "text": texts[i % len(texts)]}
              for i in range(N_RECORDS)]
    for x in inputs:  # a sample article without a date: no "date" key at all
        if x["date"] is None:
            del x["date"]
    inputs[7]["date"] = "the day before"  # counted, noted, normalised without an anchor
    lines = [json.dumps(x, ensure_ascii=False) for x in inputs]
    lines.insert(5, "{broken json")
    lines.insert(50, json.dumps({"id": "no-text"}))
    src = write_lines(tmp_path / "in.jsonl", lines)
    out, rec = tmp_path / "events.jsonl", tmp_path / "records.jsonl"
    cmd = [sys.executable, "-m", "model.batch", "--model", str(model_dir), "--input", str(src),
           "--output", str(out), "--max-chars-per-batch", "1500", "--batch-size", "8",
           "--no-progress", "--device", "cpu", "--records", str(rec)]
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
        # while it runs it holds the lock a second run would need
        with open(out.with_name("events.jsonl.lock"), "ab") as lock:
            with pytest.raises(BlockingIOError):
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    written_before = out.read_text(encoding="utf-8").count("\n")
    ids_before = {r["id"] for r in read_output(out)}
    errors_left = {"line:6", "no-text"} - ids_before
    print(f"killed: {killed}, after {written_before} complete records")
    # and as if the kill had cut a line in half
    with open(out, "a", encoding="utf-8") as handle:
        handle.write('{"id": "doc149", "events": [{"trig')
    with open(rec, "a", encoding="utf-8") as handle:
        handle.write('{"id": "0123456789abcdef", "kind": "inc')
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    # the exit code is this run's: 1 when it wrote an error record
    assert done.returncode == (EXIT_RECORD_ERRORS if errors_left else EXIT_OK), done.stdout
    assert f"skipped as done {written_before}" in done.stdout
    assert "cut a torn last line" in done.stdout
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
    # each article's incident records exactly once: what build_records makes of its events line
    assert by_id["doc7"]["note"].startswith("publication date 'the day before'")
    # counted by the run that did the article (this one, unless it was done before the kill)
    assert ("1 unparseable publication dates" in done.stdout) == ("doc7" not in ids_before)
    check_records(rec, by_id, {x["id"]: x for x in inputs})


def check_records(path: Path, lines: dict, inputs: dict) -> None:
    """Every record of ``path`` once, and for each article exactly the records
    ``build_records`` makes of its (normalised) events line."""
    from model.events import StrikeEvent
    from model.records import build_records

    records = read_output(path)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "a record was written twice"
    got: dict = {}
    for r in records:
        got.setdefault(r["sources"][0]["article_id"], []).append(r)
    expected = {}
    for rid, line in lines.items():
        if "events" not in line or not line["events"]:
            continue
        article = {k: v for k, v in inputs[rid].items() if k != "text"}
        if "note" in line and "publication date" in line["note"]:
            article.pop("date")
        events = [StrikeEvent.from_dict(e) for e in line["events"]]
        expected[rid] = [r.to_dict() for r in build_records(events, article, normalize=False)]
    assert set(got) == set(expected)
    for rid, recs in expected.items():
        assert sorted(got[rid], key=lambda r: r["id"]) == sorted(recs, key=lambda r: r["id"]), rid
    kinds = {r["kind"] for r in records}
    assert "incident" in kinds and any(r["date_source"] == "text" for r in records)
    assert any(p.get("status") in ("exact", "fuzzy") for r in records for p in r["places"])


# -- incident records (--records) ------------------------------------------------------------
class DatedExtractor(FakeExtractor):
    """One real StrikeEvent per Arabic text, with the word أمس (yesterday) as its DATE."""

    def extract_batch(self, texts, batch_size=32, *, published=None, normalize=True):
        from model.events import EventSpan

        events = super().extract_batch(texts, batch_size)
        for text, found in zip(texts, events):
            if "أمس" in text and found:
                start = text.index("أمس")
                found[0].dates.append(EventSpan("أمس", start, start + 3))
        return events


DATED = [
    json.dumps({"id": "a1", "url": "https://example.org/a1", "source": "outlet-x",
                "date": "2023-05-14", "text": "غارة أمس على القرية"}, ensure_ascii=False),
    json.dumps({"id": "a2", "date": "not a date", "text": "غارة أمس"}, ensure_ascii=False),
    json.dumps({"id": "a3", "text": "قصف أمس"}, ensure_ascii=False),
    json.dumps({"id": "a4", "date": "2023-05-14", "text": "no strikes here"}),
]


def test_records_carry_the_article_and_normalised_dates_and_a_bad_date_is_counted(tmp_path):
    from model.records import Record as IncidentRecord

    src = write_lines(tmp_path / "in.jsonl", DATED)
    out, rec = tmp_path / "events.jsonl", tmp_path / "records.jsonl"
    summary = process(DatedExtractor(), src, out, records_path=rec, progress=False)
    lines = {r["id"]: r for r in read_output(out)}
    a1 = lines["a1"]
    assert (a1["url"], a1["source"], a1["date"]) == ("https://example.org/a1", "outlet-x",
                                                     "2023-05-14")
    assert a1["events"][0]["dates"][0]["interval"] == {
        "start": "2023-05-13", "end": "2023-05-13", "precision": "day"}
    assert "interval" not in lines["a2"]["events"][0]["dates"][0]  # no usable anchor
    assert lines["a2"]["note"].startswith("publication date 'not a date'")
    assert lines["a2"]["note"].endswith("dates not normalised")
    assert "note" not in a1 and "note" not in lines["a3"]
    assert summary.bad_dates == 1 and summary.no_date == 1 and summary.incidents == 3
    report = "\n".join(summary.report())
    assert "incident records written 3" in report
    assert "1 unparseable publication dates" in report and "1 articles without a publication" in report
    records = read_output(rec)
    by_article = {r["sources"][0]["article_id"]: r for r in records}
    assert sorted(by_article) == ["a1", "a2", "a3"] and len(records) == 3
    assert by_article["a1"]["sources"][0] == {"article_id": "a1", "url": "https://example.org/a1",
                                              "outlet": "outlet-x", "published": "2023-05-14"}
    assert by_article["a1"]["date"]["start"] == "2023-05-13"
    assert by_article["a1"]["date_source"] == "text" and by_article["a1"]["kind"] == "incident"
    assert by_article["a2"]["date"] is None and by_article["a2"]["sources"][0]["published"] is None
    assert all(IncidentRecord.from_dict(r).to_dict() == r for r in records)


def test_records_resume_writes_each_record_exactly_once(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", DATED)
    out, rec = tmp_path / "events.jsonl", tmp_path / "records.jsonl"
    process(DatedExtractor(), src, out, records_path=rec, progress=False)
    events = out.read_text(encoding="utf-8").splitlines(keepends=True)
    records = rec.read_text(encoding="utf-8").splitlines(keepends=True)
    # killed after a chunk's records were written, before its events lines: a1 done; the
    # records of a1 and a2 complete, a3's torn in half
    out.write_text(events[0], encoding="utf-8")
    rec.write_text("".join(records[:2]) + records[2][:30], encoding="utf-8")
    summary = process(DatedExtractor(), src, out, records_path=rec, progress=False)
    assert summary.skipped_done == 1 and summary.records == 3
    assert summary.incidents == 1 and summary.incidents_done == 1  # a3 written, a2 kept
    assert "cut a torn last line" in summary.repaired
    assert rec.read_text(encoding="utf-8") == "".join(records)
    assert [r["id"] for r in read_output(out)] == ["a1", "a2", "a3", "a4"]
    again = process(DatedExtractor(), src, out, records_path=rec, progress=False)
    assert again.records == 0 and again.incidents == 0 and rec.read_text("utf-8") == "".join(records)


def test_records_option_refuses_what_would_lose_or_overwrite(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", DATED)
    out = tmp_path / "events.jsonl"
    process(DatedExtractor(), src, out, progress=False)  # an output made without --records
    with pytest.raises(UsageError, match="does not exist but --output .* holds 4 articles"):
        process(DatedExtractor(), src, out, records_path=tmp_path / "new.jsonl", progress=False)
    assert not (tmp_path / "new.jsonl").exists()
    with pytest.raises(UsageError, match="is the --output file"):
        process(DatedExtractor(), src, out, records_path=out, progress=False)
    notes = write_lines(tmp_path / "notes.jsonl", ['{"id": "x", "title": "mine"}'])
    fresh = tmp_path / "fresh.jsonl"
    with pytest.raises(UsageError, match="line 1 is not a ghara output record"):
        process(DatedExtractor(), src, fresh, records_path=notes, progress=False)
    assert notes.read_text(encoding="utf-8") == '{"id": "x", "title": "mine"}\n'
    with pytest.raises(UsageError, match="--records needs --format events"):
        process(DatedExtractor(), src, tmp_path / "ls.jsonl", records_path=tmp_path / "r.jsonl",
                output_format="labelstudio", progress=False)


def test_batch_reads_with_the_shared_rules(tmp_path):
    """annotation/articles.py rules reach batch: the article_id alias, a BOM, ids that disagree."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + "\n".join([
        json.dumps({"article_id": "a1", "text": "غارة", "url": "u"}, ensure_ascii=False),
        json.dumps({"id": "b", "article_id": "c", "text": "غارة"}, ensure_ascii=False),
        json.dumps({"id": "a1", "text": "قصف"}, ensure_ascii=False),
    ]).encode() + b"\n")
    summary = Summary()
    records = list(read_records(src, summary))
    assert [(r.id, r.error) for r in records] == [
        ("a1", None), ("line:2", "'id' 'b' and 'article_id' 'c' disagree"),
        ("a1@line:3", "duplicate id 'a1' (first at line 1)")]
    assert records[0].meta == {"url": "u"} and records[0].text == "غارة"
    assert summary.generated_ids == 1 and summary.duplicate_ids == 1
