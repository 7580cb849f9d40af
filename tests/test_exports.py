"""model.exports: ACLED-style CSV and Airwars-style table from incident records."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from test_incidents import article_record, merged, write
from test_records import ARTICLE, events

from model.exports import ACLED_COLUMNS, AIRWARS_COLUMNS, acled_row, airwars_row, export
from model.records import build_records

REPO = Path(__file__).resolve().parents[1]


def incidents(tmp_path: Path) -> Path:
    recs = [article_record("a", 7, "طائرات التحالف", "حلب", "اليوم", "خمسة"),
            article_record("b", 8, "", "حلب", "أمس", "سبعة")]
    recs += build_records(events(), ARTICLE)  # 2 incidents, 1 aggregate, 1 planned
    _, out = merged(write(tmp_path / "r.jsonl", recs), tmp_path / "i.jsonl")
    assert len(out) == 5  # a and b are one incident
    return tmp_path / "i.jsonl"


def test_rows_of_a_merged_incident(tmp_path):
    rows = {}
    for line in incidents(tmp_path).read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if len(rec["sources"]) == 2:
            rows["acled"], rows["airwars"] = acled_row(rec), airwars_row(rec)
    acled, airwars = rows["acled"], rows["airwars"]
    assert list(acled) == list(ACLED_COLUMNS) and list(airwars) == list(AIRWARS_COLUMNS)
    assert acled["event_date"] == "2018-04-07" and acled["time_precision"] == "1"
    assert acled["fatalities"] == "5" and acled["actor1"] == "طائرات التحالف"
    assert acled["source"] == "مثال" and "2 mentions in 2 sources" in acled["notes"]
    assert airwars["killed"] == "5–7" and airwars["killed_conservative"] == "5"
    assert airwars["sources"] == "https://example.org/a https://example.org/b"
    assert (airwars["first_reported"], airwars["last_reported"]) == ("2018-04-07", "2018-04-08")
    assert airwars["mentions"] == "2"


def test_window_dates_formula_cells_and_unresolved_places():
    rec = {"id": "r1", "kind": "incident",
           "date": {"start": "2018-04-05", "end": "2018-04-07", "precision": "days"},
           "places": [{"text": "=قرية مجهولة", "status": "unresolved"}],
           "actors": ["-التحالف"], "targets": [], "killed": None, "sources": [], "evidence": []}
    row = acled_row(rec)
    assert row["event_date"] == "2018-04-06" and row["time_precision"] == "2"
    assert row["location"] == "'=قرية مجهولة" and row["latitude"] == ""
    assert row["actor1"] == "'-التحالف" and row["fatalities"] == ""
    assert airwars_row(rec)["date"] == "2018-04-05/2018-04-07"


def test_export_counts_what_is_not_a_row(tmp_path):
    path = incidents(tmp_path)
    with open(path, "a", encoding="utf-8") as f:
        f.write("{broken\n")
    err = io.StringIO()
    summary = export([path], tmp_path / "acled.csv", tmp_path / "airwars.csv", err=err)
    assert summary.rows == 3 and summary.not_incidents == {"aggregate": 1, "planned": 1}
    assert summary.bad == 1 and "i.jsonl:6: skipped" in err.getvalue()
    with open(tmp_path / "acled.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and {r["event_type"] for r in rows} == {"Explosions/Remote violence"}


def test_cli_never_overwrites_without_asking(tmp_path):
    path = incidents(tmp_path)
    acled = tmp_path / "acled.csv"
    acled.write_text("mine\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (os.environ.get("PYTHONPATH"), str(REPO)) if p)}
    cmd = [sys.executable, "-m", "model.exports", "--input", str(path), "--acled", str(acled),
           "--airwars", str(tmp_path / "aw.csv")]
    run = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert run.returncode == 2 and "--overwrite" in run.stderr
    assert acled.read_text(encoding="utf-8") == "mine\n" and not (tmp_path / "aw.csv").exists()
    run = subprocess.run(cmd + ["--overwrite"], cwd=REPO, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "3 rows" in run.stdout and "1 aggregate, 1 planned" in run.stdout
    assert acled.read_text(encoding="utf-8").startswith(",".join(ACLED_COLUMNS))


def test_numbers_are_never_escaped_as_formulas():
    from model.exports import _cell

    assert _cell(-13.25) == "-13.25"  # a longitude west of Greenwich stays a number
    assert _cell(-2) == "-2"
    assert _cell("-cmd") == "'-cmd" and _cell("=1+1") == "'=1+1"
    assert _cell(None) == ""
