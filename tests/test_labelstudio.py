"""Label Studio client and CLI, against a real server (``label_studio`` fixture, conftest.py).

The round trip is the point: what we send (config, tasks, pre-annotations, an annotation)
must come back from the server's JSON export, through ``read_export``, unchanged.
Input checks that need no server run first and fast.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import unicodedata
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from annotation.documents import Relation, Span
from annotation.export import ExportError, read_export
from annotation.labelstudio import (
    ARTICLE_ID_FIELD,
    ENV_API_KEY,
    LabelStudioError,
    MissingAPIKeyError,
    Prediction,
    ProjectResult,
    check_result,
    connect,
    ensure_project,
    export_project,
    import_articles,
    read_articles,
    read_predictions,
    redact,
    resolve_project,
)
from annotation.predictions import to_label_studio_results
from annotation.schema import SCHEMA

ROOT = Path(__file__).resolve().parents[1]

ARTICLE_1 = (
    "شنت طائرات التحالف الدولي 27 غارة على مواقع لتنظيم الدولة في دير الزور اليوم الجمعة.\n"
    "وقال المرصد إن الغارات قتلت 14 عنصراً ودمرت آلية عسكرية."
)
ARTICLE_2 = "قصفت المقاتلات الروسية بلدة معرة النعمان فجر اليوم، ما أدى إلى مقتل خمسة مدنيين."


def span(text: str, phrase: str, label: str, occurrence: int = 0) -> Span:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(phrase, start + 1)
    return Span(start, start + len(phrase), label, phrase)


def gold(text: str) -> tuple[list[Span], list[Relation]]:
    """Spans and relations of ARTICLE_1 / ARTICLE_2 (two paragraphs, relations inside each)."""
    if text == ARTICLE_1:
        strike, actor = span(text, "غارة", "STRIKE"), span(text, "طائرات التحالف الدولي", "ACTOR")
        count, target = span(text, "27", "COUNT"), span(text, "مواقع لتنظيم الدولة", "TARGET")
        place, date = span(text, "دير الزور", "PLACE"), span(text, "اليوم الجمعة", "DATE")
        strike2, killed = span(text, "الغارات", "STRIKE"), span(text, "14", "COUNT")
        spans = [strike, actor, count, target, place, date, strike2, killed]
        relations = [
            Relation(strike, "actor", actor), Relation(strike, "strikes", count),
            Relation(strike, "target", target), Relation(strike, "place", place),
            Relation(strike, "date", date), Relation(strike2, "killed", killed),
        ]
        return spans, relations
    strike, actor = span(text, "قصفت", "STRIKE"), span(text, "المقاتلات الروسية", "ACTOR")
    place, killed = span(text, "بلدة معرة النعمان", "PLACE"), span(text, "خمسة", "COUNT")
    return [strike, actor, place, killed], [
        Relation(strike, "actor", actor), Relation(strike, "place", place),
        Relation(strike, "killed", killed),
    ]


def write_jsonl(path: Path, lines: list[object]) -> Path:
    path.write_text(
        "".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines),
        encoding="utf-8",
    )
    return path


def unique(title: str) -> str:
    return f"{title} {uuid.uuid4().hex[:8]}"


# -- input checks (no server) -------------------------------------------------------------


def test_bad_jsonl_lines_are_reported_with_line_numbers(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "articles.jsonl", [
        {"id": "a1", "text": ARTICLE_1, "source": "test"},  # 1 ok
        "{not json",                                        # 2
        {"id": "a2"},                                       # 3 missing text
        {"id": "a3", "text": 42},                           # 4 not a string
        "",                                                 # 5 blank: not an article
        {"id": "a1", "text": ARTICLE_2},                    # 6 repeated id
        {"text": ARTICLE_2},                                # 7 no id
        ["a list"],                                         # 8 not an object
        {"id": "a4", "text": "   "},                        # 9 empty
        {"article_id": "a5", "text": ARTICLE_2},            # 10 ok, id from article_id
    ])
    with path.open("ab") as handle:
        handle.write(b'{"id": "a6", "text": "\xff"}\n')                 # 11 not UTF-8
        handle.write(b'{"id": "a7", "text": "bad", "article_id": "x"}\n')  # 12 ids disagree
    loaded = read_articles(path)
    assert [a.id for a in loaded.items] == ["a1", "a5"]
    assert loaded.items[0].fields == {"source": "test"}
    assert loaded.items[0].task_data() == {"source": "test", "text": ARTICLE_1, ARTICLE_ID_FIELD: "a1"}
    by_line = {p.line: p for p in loaded.problems}
    assert sorted(by_line) == [2, 3, 4, 6, 7, 8, 9, 11, 12]
    assert "UTF-8" in by_line[11].message and "disagree" in by_line[12].message
    assert "bad JSON" in by_line[2].message
    assert by_line[3].item_id == "a2" and "missing 'text'" in by_line[3].message
    assert by_line[4].item_id == "a3" and "int" in by_line[4].message
    assert "line 1" in by_line[6].message
    assert f"{path} line 4 (id a3)" in str(by_line[4])


def test_text_folder_and_nfc(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", ARTICLE_1)
    assert decomposed != ARTICLE_1  # آ decomposes, so NFC really is exercised
    (tmp_path / "art-1.txt").write_text(decomposed.replace("\n", "\r\n"), encoding="utf-8")
    (tmp_path / "art-2.txt").write_text(ARTICLE_2, encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00broken")
    (tmp_path / "notes.md").write_text("not an article", encoding="utf-8")
    loaded = read_articles(tmp_path)
    assert [(a.id, a.text) for a in loaded.items] == [("art-1", ARTICLE_1), ("art-2", ARTICLE_2)]
    assert [(p.item_id, "UTF-8" in p.message) for p in loaded.problems] == [("bad", True)]
    assert loaded.skipped == ["notes.md"]  # counted (the CLI names it), not a problem


def test_predictions_file_forms_and_errors(tmp_path: Path) -> None:
    spans, relations = gold(ARTICLE_2)
    results = to_label_studio_results(spans, relations)
    doc_form = {"id": "d", "text": ARTICLE_2, "spans": [s.to_dict() for s in spans],
                "relations": [r.to_dict() for r in relations], "meta": {}}
    path = write_jsonl(tmp_path / "pred.jsonl", [
        {"id": "r", "result": results, "score": 0.5, "model_version": "v1"},
        doc_form,
        {"id": "r", "result": results},          # 3 second prediction for r
        {"id": "x", "result": "nope"},            # 4
        {"id": "y", "score": 1},                  # 5 neither result nor spans
        {"id": "z", "result": [], "score": "hi"},  # 6
    ])
    loaded = read_predictions(path)
    assert [(p.article_id, p.score, p.model_version) for p in loaded.items] == [("r", 0.5, "v1"), ("d", None, None)]
    assert loaded.items[1].result == results
    assert [p.line for p in loaded.problems] == [3, 4, 5, 6]


def test_check_result_catches_what_the_server_would_accept() -> None:
    spans, relations = gold(ARTICLE_2)
    good = to_label_studio_results(spans, relations)
    assert check_result(ARTICLE_2, good) == []
    wrong_label = json.loads(json.dumps(good))
    wrong_label[0]["value"]["labels"] = ["BOGUS"]
    assert check_result(ARTICLE_2, wrong_label)
    shifted = json.loads(json.dumps(good))
    shifted[1]["value"]["start"] += 1
    assert check_result(ARTICLE_2, shifted)
    dangling = good + [{"type": "relation", "from_id": "nope", "to_id": good[0]["id"],
                        "direction": "right", "labels": ["actor"]}]
    assert check_result(ARTICLE_2, dangling)


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_API_KEY, raising=False)
    with pytest.raises(MissingAPIKeyError, match=ENV_API_KEY):
        connect("http://127.0.0.1:9")
    env = {k: v for k, v in os.environ.items() if k != ENV_API_KEY}
    done = run_cli(["project", "--url", "http://127.0.0.1:9"], env)
    assert done.returncode == 2 and ENV_API_KEY in done.stderr


def test_unreachable_server_error_hides_the_key() -> None:
    secret = "s3cret-" + uuid.uuid4().hex
    with pytest.raises(LabelStudioError) as info:
        connect("http://127.0.0.1:9", secret)
    assert secret not in str(info.value) and "127.0.0.1:9" in str(info.value)


class _EchoingServer(http.server.BaseHTTPRequestHandler):
    """A server that accepts any key and answers every other call with an error body
    echoing the request headers -- as some proxies and debug servers do."""

    def _answer(self) -> None:
        if self.path.startswith("/api/current-user/whoami"):
            status, body = 200, {"id": 1, "email": "me@example.org", "username": "me"}
        else:
            status, body = 500, {"detail": f"bad request, headers were: {dict(self.headers)}"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture()
def echoing_server() -> "Iterator[str]":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoingServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_key_echoed_by_the_server_is_redacted_on_every_call(echoing_server: str, tmp_path: Path) -> None:
    secret = "k" + uuid.uuid4().hex
    client = connect(echoing_server, secret)  # whoami succeeds; every later call echoes
    calls = [
        lambda: resolve_project(client, 3),
        lambda: resolve_project(client, "some title"),
        lambda: ensure_project(client, "some title"),
        lambda: import_articles(client, 3, []),
        lambda: export_project(client, 3, tmp_path / "x.json"),
    ]
    for call in calls:
        with pytest.raises(LabelStudioError) as info:
            call()
        message = str(info.value)
        assert "headers were" in message and "***" in message, message  # the body is shown...
        assert secret not in message  # ...without the key
    assert not (tmp_path / "x.json").exists()

    env = {**os.environ, ENV_API_KEY: secret}
    for args in (["export", "--project", "3", "--output", str(tmp_path / "y.json")],
                 ["import", "--project", "3", "--input", str(write_jsonl(tmp_path / "a.jsonl", [
                     {"id": "a", "text": ARTICLE_2}]))]):
        done = run_cli([*args, "--url", echoing_server], env)
        assert done.returncode == 2 and "headers were" in done.stderr, done.stderr
        assert secret not in done.stdout + done.stderr


def test_redact_removes_any_authorization_value() -> None:
    assert redact("Authorization: Token abcdef0123456789") == "Authorization: Token ***"
    assert redact("{'authorization': 'Bearer eyJhbGciOi.J9x-y_z'}") == "{'authorization': 'Bearer ***'}"
    assert redact("the token was rejected") == "the token was rejected"


# -- against the server ------------------------------------------------------------------


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, "-m", "annotation", *args], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )


@pytest.mark.slow
def test_project_config_on_the_server(label_studio) -> None:
    client = connect(label_studio.url, label_studio.api_key)
    title = unique("ghara config")
    created = ensure_project(client, title)
    assert created.action == "created"
    assert ensure_project(client, title) == ProjectResult(created.id, title, "unchanged")

    project = client.projects.get(created.id)
    assert project.label_config.strip() == SCHEMA.label_studio_config().strip()
    control = project.get_label_interface().get_control(SCHEMA.labels_name)
    assert tuple(control.labels) == SCHEMA.entity_labels
    root = ET.fromstring(project.label_config)
    assert tuple(r.get("value") for r in root.iter("Relation")) == SCHEMA.role_names

    # A project on an older config is brought up to the schema.
    stale_title = unique("ghara stale")
    stale = client.projects.create(
        title=stale_title,
        label_config='<View><Labels name="label" toName="text"><Label value="STRIKE"/></Labels>'
                     '<Text name="text" value="$text"/></View>',
    )
    updated = ensure_project(client, stale_title)
    assert (updated.id, updated.action) == (stale.id, "updated")
    assert client.projects.get(stale.id).label_config.strip() == SCHEMA.label_studio_config().strip()


@pytest.mark.slow
def test_round_trip_predictions_annotation_export(label_studio, tmp_path: Path) -> None:
    client = connect(label_studio.url, label_studio.api_key)
    project_id = ensure_project(client, unique("ghara round trip")).id
    source = write_jsonl(tmp_path / "articles.jsonl", [
        {"id": "a1", "text": unicodedata.normalize("NFD", ARTICLE_1), "source": "test"},
        {"id": "a2", "text": ARTICLE_2, "source": "test"},
        {"id": "a3", "text": "مقال بلا تنبؤات."},
    ])
    articles = read_articles(source).items
    predictions: dict[str, Prediction] = {}
    sent: dict[str, tuple[list[Span], list[Relation]]] = {}
    for article in articles[:2]:
        spans, relations = gold(article.text)
        sent[article.id] = (spans, relations)
        result = to_label_studio_results(spans, relations, scores=[0.9] * len(spans))
        predictions[article.id] = Prediction(article.id, result, score=0.75)
    report = import_articles(client, project_id, articles, predictions, model_version="test-model-1")
    assert (report.imported, report.with_predictions, report.problems) == (3, 2, [])

    tasks = {t.data[ARTICLE_ID_FIELD]: t for t in client.tasks.list(project=project_id)}
    assert tasks["a1"].data["text"] == ARTICLE_1  # NFC on the server
    assert tasks["a1"].data["source"] == "test"
    for article_id, prediction in predictions.items():
        (stored,) = tasks[article_id].predictions
        assert stored.result == prediction.result
        assert stored.model_version == "test-model-1" and stored.score == 0.75
    assert tasks["a3"].predictions == []

    # Re-importing the same articles adds nothing.
    again = import_articles(client, project_id, articles)
    assert (again.imported, sorted(again.already_there)) == (0, ["a1", "a2", "a3"])

    # Nothing submitted yet: the export holds all 3 tasks (download_all_tasks), none usable.
    output = tmp_path / "export.json"
    assert export_project(client, project_id, output) == 3
    with pytest.raises(ExportError, match="of 3 tasks, 3 without a submitted annotation"):
        read_export(output)

    # An annotator accepts the pre-annotation of a1 as it is, skips a2 (a cancelled
    # annotation) and submits a3 with no region: "no strike here", a real negative.
    client.annotations.create(id=tasks["a1"].id, result=predictions["a1"].result, project=project_id)
    client.annotations.create(id=tasks["a2"].id, result=[], was_cancelled=True, project=project_id)
    client.annotations.create(id=tasks["a3"].id, result=[], project=project_id)
    with pytest.raises(LabelStudioError, match="already exists; pass --overwrite"):
        export_project(client, project_id, output)
    assert export_project(client, project_id, output, overwrite=True) == 3

    raw = {t["data"][ARTICLE_ID_FIELD]: t for t in json.loads(output.read_text(encoding="utf-8"))}
    assert isinstance(raw["a1"]["annotations"][0]["completed_by"], int)  # an id, not a user
    assert raw["a2"]["annotations"][0]["was_cancelled"] is True and raw["a2"]["predictions"]

    conversion = read_export(output)
    docs = {d.meta[ARTICLE_ID_FIELD]: d for d in conversion.documents}
    assert set(docs) == {"a1", "a3"}
    spans, relations = sent["a1"]
    assert docs["a1"].text == ARTICLE_1
    assert docs["a1"].spans == sorted(spans)
    assert sorted(docs["a1"].relations, key=repr) == sorted(relations, key=repr)
    assert docs["a1"].meta["source"] == "test"
    assert docs["a3"].spans == [] and docs["a3"].relations == []
    kinds = [(p.kind, p.task_id) for p in conversion.report.problems]
    a2 = str(tasks["a2"].id)
    assert kinds == [("cancelled_annotation", a2), ("no_annotation", a2)]
    assert "1 prediction(s)" in conversion.report.problems[1].message


@pytest.mark.slow
def test_bad_prediction_rejects_its_article(label_studio, tmp_path: Path) -> None:
    client = connect(label_studio.url, label_studio.api_key)
    project_id = ensure_project(client, unique("ghara bad prediction")).id
    articles = read_articles(write_jsonl(tmp_path / "a.jsonl", [
        {"id": "ok", "text": ARTICLE_2}, {"id": "bad", "text": ARTICLE_1},
    ])).items
    good = to_label_studio_results(*gold(ARTICLE_2))
    bad = to_label_studio_results(*gold(ARTICLE_1))
    bad[0]["value"]["labels"] = ["WEAPON"]
    report = import_articles(client, project_id, articles, {
        "ok": Prediction("ok", good), "bad": Prediction("bad", bad), "ghost": Prediction("ghost", []),
    })
    assert report.imported == 1
    messages = {p.item_id: p.message for p in report.problems}
    assert set(messages) == {"bad", "ghost"}
    assert "WEAPON" in messages["bad"] and "no article" in messages["ghost"]


@pytest.mark.slow
def test_cli_end_to_end(label_studio, tmp_path: Path) -> None:
    env = label_studio.env()
    outputs: list[str] = []

    def cli(*args: str, code: int = 0) -> subprocess.CompletedProcess:
        done = run_cli(list(args), env)
        outputs.extend([done.stdout, done.stderr])
        assert done.returncode == code, done.stdout + done.stderr
        return done

    assert cli("config").stdout == SCHEMA.label_studio_config()
    title = unique("ghara cli")
    assert cli("project", "--title", title).stdout.startswith("created project ")
    assert cli("project", "--title", title).stdout.startswith("unchanged project ")

    articles = write_jsonl(tmp_path / "articles.jsonl", [
        {"id": "c1", "text": ARTICLE_1},
        "{broken",
        {"id": "c2", "text": None},
        {"id": "c3", "text": ARTICLE_2},
    ])
    spans, relations = gold(ARTICLE_2)
    predictions = write_jsonl(tmp_path / "pred.jsonl", [
        {"id": "c3", "spans": [s.to_dict() for s in spans], "relations": [r.to_dict() for r in relations]},
    ])
    done = cli("import", "--project", title, "--input", str(articles), "--predictions", str(predictions),
               "--model-version", "cli-v1", code=1)
    assert "imported 2 tasks" in done.stdout and "1 with pre-annotations" in done.stdout
    assert f"{articles} line 2: bad JSON" in done.stdout
    assert f"{articles} line 3 (id c2): missing 'text'" in done.stdout

    done = cli("import", "--project", title, "--input", str(articles), code=1)
    assert "imported 0 tasks" in done.stdout and "2 articles already in the project" in done.stdout

    export = tmp_path / "out" / "export.json"
    assert "exported 2 tasks" in cli("export", "--project", title, "--output", str(export)).stdout
    documents = tmp_path / "docs.jsonl"
    # Pre-annotations alone are not gold: one clear line, exit 2, nothing written.
    done = cli("convert", "--input", str(export), "--output", str(documents), code=2)
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert "of 2 tasks, 2 without a submitted annotation" in done.stderr
    assert not documents.exists()

    # The annotator submits c3's pre-annotation; c1 stays unannotated and is reported.
    client = connect(label_studio.url, label_studio.api_key)
    project_id = resolve_project(client, title)
    (c3,) = [t for t in client.tasks.list(project=project_id) if t.data[ARTICLE_ID_FIELD] == "c3"]
    client.annotations.create(id=c3.id, result=c3.predictions[0].result, project=project_id)
    before = export.read_bytes()
    done = cli("export", "--project", title, "--output", str(export), code=2)
    assert "already exists" in done.stderr and export.read_bytes() == before
    cli("export", "--project", title, "--output", str(export), "--overwrite")
    done = cli("convert", "--input", str(export), "--output", str(documents))
    assert "2 tasks -> 1 documents" in done.stdout and "wrote 1 documents" in done.stdout
    assert "problem no_annotation x1" in done.stdout
    rows = [json.loads(line) for line in documents.read_text(encoding="utf-8").splitlines()]
    assert [r["meta"][ARTICLE_ID_FIELD] for r in rows] == ["c3"]
    assert len(rows[0]["spans"]) == len(spans) and len(rows[0]["relations"]) == len(relations)
    cli("convert", "--input", str(export), "--output", str(documents), code=2)  # no --overwrite

    # Errors name the problem, not the key; a wrong key given on the command line stays hidden.
    done = cli("export", "--project", "no such project title", "--output", str(export), code=2)
    assert "no project titled" in done.stderr
    wrong = "wrong-" + uuid.uuid4().hex
    done = cli("export", "--project", title, "--output", str(export), "--api-key", wrong, code=2)
    assert ENV_API_KEY in done.stderr and wrong not in done.stdout + done.stderr

    assert all(label_studio.api_key not in text for text in outputs)
