"""The ML backend (model/backend.py) against the real Label Studio server of the test suite.

Label Studio refuses to call a backend on a loopback address unless ``ML_BLOCK_LOCAL_IP``
and ``SSRF_PROTECTION_ENABLED`` are off; the ``label_studio`` fixture passes our
environment to the server, so they are set here, at import (collection happens before the
session fixture starts the server).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.request
from pathlib import Path

import pytest

from fixtures_model import REPO, tiny_model_dir

ARTICLES = REPO / "annotation" / "sample" / "articles.jsonl"
TRAIN_SET = ["epochs=2", "batch_size=4", "patience=0", "warmup_ratio=0.0", "dropout=0.0"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(url: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
    data = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _articles(n: int) -> list[dict]:
    lines = ARTICLES.read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x.strip()][:n]


@pytest.fixture(scope="module")
def backend(tmp_path_factory, label_studio):
    port = _free_port()
    workdir = tmp_path_factory.mktemp("backend")
    command = [
        sys.executable, "-m", "model.backend", "--model", str(tiny_model_dir()), "--port", str(port),
        "--workdir", str(workdir), "--train-config", str(REPO / "configs" / "tiny.yaml"),
        "--tolerance", "1.0", "--set", *TRAIN_SET,
    ]
    log = (workdir / "server.out").open("w")
    process = subprocess.Popen(command, cwd=REPO, env=label_studio.env(), stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _call(url, "/health")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, (workdir / "server.out").read_text()
            assert time.monotonic() < deadline, "backend did not come up"
            time.sleep(0.5)
        yield url, workdir
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        output = (workdir / "server.out").read_text()
        assert label_studio.api_key not in output  # the key is never printed


def test_predict_offsets_bad_tasks_and_nfc(backend):
    url, _ = backend
    text = _articles(1)[0]["text"]
    decomposed = text.replace("أ", "ا\u0654")  # same text, not NFC: offsets must index this one
    assert decomposed != text and unicodedata.normalize("NFC", decomposed) == text
    tasks = [{"id": 1, "data": {"text": text}}, {"id": 2, "data": {"title": "no text"}},
             {"id": 3, "data": {"text": decomposed}}]
    code, body = _call(url, "/predict", {"tasks": tasks, "project": "7.1700000000"})
    assert code == 200
    results = body["results"]
    assert len(results) == 3 and results[1]["result"] == []  # one entry per task, bad one empty
    for task, prediction in ((tasks[0], results[0]), (tasks[2], results[2])):
        regions = [r for r in prediction["result"] if r["type"] == "labels"]
        assert regions, "the tiny model fits the first sample article: it must find spans"
        for r in regions:
            v = r["value"]
            assert task["data"]["text"][v["start"]:v["end"]] == v["text"]
            assert 0.0 <= r["score"] <= 1.0
        assert 0.0 <= prediction["score"] <= 1.0 and prediction["model_version"] == "ghara-v1"
        assert any(r["type"] == "relation" for r in prediction["result"])
    assert len(results[0]["result"]) == len(results[2]["result"])
    status = _call(url, "/status")[1]
    assert status["tasks_skipped"] >= 1 and status["tasks_predicted"] >= 2


def test_setup_rejects_a_foreign_labeling_config(backend):
    url, _ = backend
    code, body = _call(url, "/setup", {"project": "3.17", "schema": "<View><Text name='text' value='$text'/></View>"})
    assert code == 400 and "Labels" in body["error"]


def test_label_studio_predicts_and_trains_through_the_backend(backend, label_studio, monkeypatch):
    from annotation.labelstudio import Article, connect, ensure_project, import_articles

    url, workdir = backend
    client = connect(label_studio.url, label_studio.api_key)
    project = ensure_project(client, title="ghara backend test").id
    articles = [Article(a["id"], a["text"]) for a in _articles(5)]
    assert import_articles(client, project, articles).imported == 5
    ml = client.ml.create(url=url, project=project, title="ghara")
    assert client.ml.get(id=ml.id).state != "ER"

    client.actions.create(id="retrieve_tasks_predictions", project=project,
                          selected_items={"all": True, "excluded": []})
    tasks = {t.id: t for t in client.tasks.list(project=project, fields="all")}
    predictions = list(client.predictions.list(project=project))
    assert len(predictions) == 5
    n_regions = 0
    for p in predictions:
        assert p.model_version == "ghara-v1" and 0.0 <= p.score <= 1.0
        text = tasks[p.task].data["text"]
        for r in p.result:
            if r["type"] == "labels":
                n_regions += 1
                assert text[r["value"]["start"]:r["value"]["end"]] == r["value"]["text"]
    assert n_regions > 10

    # annotators accept the pre-annotations; then "Start training"
    client.actions.create(id="predictions_to_annotations", project=project,
                          selected_items={"all": True, "excluded": []})
    client.ml.train(id=ml.id)
    deadline = time.monotonic() + 600
    while (status := _call(url, "/status")[1])["training"]["state"] in ("running", "idle"):
        assert time.monotonic() < deadline, status
        time.sleep(2)
    training = status["training"]
    assert training["state"] == "done", (training, _tail(workdir))
    assert training["train_tasks"] + training["heldout_tasks"] == 5 and training["heldout_tasks"] >= 1
    assert training["accepted"] and "accepted: held-out" in training["message"]
    assert status["model_version"] == "ghara-v2"

    # Label Studio picks up the new version on its next call and stores it with predictions
    client.actions.create(id="retrieve_tasks_predictions", project=project,
                          selected_items={"all": True, "excluded": []})
    versions = {p.model_version for p in client.predictions.list(project=project)}
    assert "ghara-v2" in versions, versions

    # a new model that must beat the served one by more than any score allows is rejected:
    # the served model and its version stay, and the status says why
    from model.backend import Backend

    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)  # the job's environment
    strict = Backend(tiny_model_dir(), workdir / "strict", url=label_studio.url,
                     train_config=REPO / "configs" / "tiny.yaml", train_overrides=TRAIN_SET,
                     tolerance=-2.0)
    strict.start_training(project, "test")
    while strict.training["state"] == "running" or "finished" not in strict.training:
        assert time.monotonic() < deadline + 300, strict.training
        time.sleep(1)
    assert strict.training["state"] == "done", strict.training
    assert strict.training["accepted"] is False and strict.training["message"].startswith("rejected")
    assert strict.model_version == "ghara-v1" and strict.model_dir == tiny_model_dir()


def _tail(workdir: Path) -> str:
    logs = sorted(workdir.glob("job-*/train.log"))
    return logs[-1].read_text()[-3000:] if logs else "(no job log)"
