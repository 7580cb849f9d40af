"""Label Studio ML backend: live pre-annotations, uncertainty scores and retraining.

::

    LABEL_STUDIO_URL=http://localhost:8080 LABEL_STUDIO_API_KEY=... \\
        python -m model.backend --model runs/mini/best --port 9090 [--train-every 20]

then in Label Studio: project Settings -> Model -> Connect model, URL ``http://HOST:9090``
(or ``client.ml.create(url=..., project=...)``).

Why our own server and not ``label-studio-ml``: the PyPI package (1.0.9, 2022) pins
Flask 1.1.2 / Werkzeug 2.0.2 and predates the ``START_TRAINING`` webhook; the maintained
2.x lives only on GitHub and pins label-studio-sdk from git. The protocol is small, so it
is implemented here on Starlette + uvicorn, as Label Studio 1.23's ``ml/api_connector.py``
calls it:

* ``GET /health`` -> ``{"status": "UP", "model_class", "model_version"}`` (1 s timeout);
* ``POST /setup`` ``{project: "ID.TS", schema: <config>}`` -> ``{"model_version"}``; a
  project whose labeling config lacks our labels gets HTTP 400 (the model would be wrong);
* ``POST /predict`` ``{tasks: [...]}`` -> ``{"results": [{"result", "score",
  "model_version"}, ...]}``, one per task in order: our spans and relations
  (``annotation.predictions.to_label_studio_results``) with a confidence per region and,
  as the task ``score``, the article's uncertainty (:func:`model.active.task_uncertainty`;
  sort the Data Manager by prediction score, highest first, to annotate the least
  certain articles first);
* ``POST /webhook`` ``{action, project, ...}``: ``START_TRAINING`` (the "Start Training"
  button / ``POST /api/ml/{id}/train``) starts a training job; ``ANNOTATION_CREATED`` /
  ``ANNOTATION_UPDATED`` are counted and, with ``--train-every N``, start one after N;
* ``POST /train`` (the pre-webhook protocol) does what ``START_TRAINING`` does;
* ``GET /status``: model version, training state and progress, counters.

A training job runs in a child process (``python -m model.backend --train-job DIR``): it
exports the project (``annotation.labelstudio.export_project``), keeps the annotated tasks,
holds out a fixed slice of them (every task whose id hashes into :data:`HOLDOUT_BUCKETS`),
fine-tunes from the current model with ``model.training.train_one`` (dev file = the
held-out slice) and scores the current model on the same slice. The server switches to the
new model, with a new ``model_version``, only when its held-out score is not worse
(``select_metric`` of the training config, minus ``--tolerance``); ``/status`` and the log
say which way it went and why. The API key comes from ``LABEL_STUDIO_API_KEY`` and is never
printed, logged or written to a job file.

Exit codes (server): 0 stopped, 2 usage error (bad model directory or options).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from annotation.documents import Relation, Span
from annotation.predictions import to_label_studio_results
from annotation.schema import SCHEMA, Schema

from .active import annotate_with_scores, task_uncertainty

log = logging.getLogger("ghara.backend")

ENV_URL = "LABEL_STUDIO_URL"
ENV_API_KEY = "LABEL_STUDIO_API_KEY"
#: A task is held out for the accept/reject decision when hash(task id) % 5 == 0.
HOLDOUT_BUCKETS = 5
TRAIN_EVENTS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED")
REPO = Path(__file__).resolve().parents[1]
DEFAULT_TRAIN_CONFIG = REPO / "configs" / "mini.yaml"


# -- labeling config ----------------------------------------------------------------------


def config_problems(label_config: str | None, schema: Schema = SCHEMA) -> list[str]:
    """Why a project's labeling config cannot take our predictions ([] if it can)."""
    if not label_config:
        return ["the project has no labeling config"]
    try:
        root = ET.fromstring(label_config)
    except ET.ParseError as err:
        return [f"labeling config is not XML: {err}"]
    labels = [el for el in root.iter("Labels") if el.get("name") == schema.labels_name]
    if not labels:
        return [f"no <Labels name={schema.labels_name!r}> in the labeling config"]
    problems = []
    if labels[0].get("toName") != schema.text_name:
        problems.append(f"<Labels name={schema.labels_name!r}> does not point to {schema.text_name!r}")
    have = {el.get("value") for el in labels[0].iter("Label")}
    missing = [lab for lab in schema.entity_labels if lab not in have]
    if missing:
        problems.append(f"labels {missing} are missing from the labeling config")
    roles = {el.get("value") for el in root.iter("Relation")}
    missing_roles = [r for r in schema.roles if r not in roles]
    if missing_roles:
        problems.append(f"relation roles {missing_roles} are missing from the labeling config")
    return problems


# -- predictions --------------------------------------------------------------------------


def _to_original(text: str, doc: Any) -> tuple[list[Span], list[Relation]]:
    """Spans/relations of ``doc`` (NFC offsets) re-expressed in ``text``'s own offsets."""
    if doc.text == text:
        return list(doc.spans), list(doc.relations)
    from .extractor import OffsetMap

    omap = OffsetMap(text)
    moved: dict[Span, Span] = {}
    for span in doc.spans:
        start, end = omap.span(span.start, span.end)
        moved[span] = Span(start, end, span.label, text[start:end])
    return [moved[s] for s in doc.spans], [
        Relation(moved[r.head], r.role, moved[r.tail]) for r in doc.relations
    ]


def predict_tasks(extractor: Any, tasks: list[dict[str, Any]], model_version: str) -> tuple[list[dict], list[str]]:
    """One Label Studio prediction per task (same order) and a message per skipped task.

    A task without usable text, or whose prediction would not survive an export round trip
    (``annotation.labelstudio.check_result``), gets an empty result -- Label Studio needs
    one entry per task -- and is named in the messages.
    """
    from annotation.labelstudio import check_result

    results: list[dict[str, Any]] = [{"result": [], "model_version": model_version} for _ in tasks]
    problems: list[str] = []
    usable: list[tuple[int, str]] = []
    for i, task in enumerate(tasks):
        task_id = task.get("id") if isinstance(task, dict) else None
        data = task.get("data") if isinstance(task, dict) else None
        text = data.get(SCHEMA.text_name) if isinstance(data, dict) else None
        if not isinstance(text, str) or not text.strip():
            problems.append(f"task {task_id}: no {SCHEMA.text_name!r} text in data, not predicted")
        else:
            usable.append((i, text))
    if not usable:
        return results, problems
    predicted = annotate_with_scores(extractor, [t for _, t in usable])
    for (i, text), (doc, span_scores, rel_scores) in zip(usable, predicted):
        # checked in NFC (what the export reader works in), then moved to the task's own text
        errors = check_result(doc.text, to_label_studio_results(doc.spans, doc.relations, span_scores))
        spans, relations = _to_original(text, doc)
        result = to_label_studio_results(spans, relations, span_scores)
        if errors:
            problems.append(f"task {tasks[i].get('id')}: prediction dropped: {'; '.join(errors)}")
            continue
        results[i] = {
            "result": result,
            "score": round(task_uncertainty(span_scores, rel_scores), 6),
            "model_version": model_version,
        }
    return results, problems


# -- training job (child process) ---------------------------------------------------------


def holdout(task_id: Any) -> bool:
    """Whether a task belongs to the fixed held-out slice (same answer on every run)."""
    digest = hashlib.sha256(str(task_id).encode()).digest()
    return digest[0] % HOLDOUT_BUCKETS == 0


def split_tasks(tasks: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """Annotated tasks split into (train, held-out); at least one of each when there are 2+."""
    annotated = [
        t for t in tasks
        if any(not a.get("was_cancelled") and a.get("result") for a in t.get("annotations") or [])
    ]
    annotated.sort(key=lambda t: str(t.get("id")))
    held = [t for t in annotated if holdout(t.get("id"))]
    train = [t for t in annotated if not holdout(t.get("id"))]
    if annotated and len(annotated) >= 2 and not held:
        held, train = train[-1:], train[:-1]
    if annotated and len(annotated) >= 2 and not train:
        train, held = held[:1], held[1:]
    return train, held


def run_training_job(job_dir: Path) -> dict[str, Any]:
    """Export, split, fine-tune, compare; writes ``result.json`` and returns it."""
    from annotation.export import read_export
    from annotation.labelstudio import connect, export_project

    from .evaluation import paragraphs_of
    from .network import JointModel
    from .training import TrainConfig, evaluate, load_config, select_score, train_one

    spec = json.loads((job_dir / "job.json").read_text())
    out: dict[str, Any] = {"job": spec["job"], "accepted": False}

    client = connect(spec.get("url"))
    n_tasks = export_project(client, spec["project"], job_dir / "export.json")
    tasks = json.loads((job_dir / "export.json").read_text(encoding="utf-8"))
    train, held = split_tasks(tasks)
    out.update(tasks=n_tasks, train_tasks=len(train), heldout_tasks=len(held))
    print(f"project {spec['project']}: {n_tasks} tasks, {len(train)} for training, "
          f"{len(held)} held out", flush=True)
    if not train or not held:
        out["message"] = f"not trained: {len(train) + len(held)} annotated tasks, need at least 2"
        return out
    for name, part in (("train.json", train), ("heldout.json", held)):
        (job_dir / name).write_text(json.dumps(part, ensure_ascii=False), encoding="utf-8")
    held_docs = read_export(job_dir / "heldout.json").documents

    current = JointModel.from_pretrained(spec["model_dir"])
    cfg = load_config(spec["config"], spec.get("overrides") or [])
    names = {f.name for f in fields(TrainConfig)}
    heads = {k: v for k, v in current.config_dict()["heads"].items() if k in names}
    start: dict[str, Any]
    if "init_from" in names:  # training.py can start from a whole saved model
        start = {"init_from": spec["model_dir"]}
    else:  # fine-tune the current encoder; the heads start afresh (see docs/ACTIVE_LEARNING.md)
        backbone = job_dir / "backbone"
        current.encoder.save_pretrained(str(backbone))  # safetensors
        current.tokenizer.save_pretrained(str(backbone))
        start = {"backbone": str(backbone)}
    cfg = replace(
        cfg, **heads, **start, train_files=[str(job_dir / "train.json")],
        dev_file=str(job_dir / "heldout.json"), out_dir=str(job_dir / "run"), progress=False,
    )
    old_metrics = evaluate(current, paragraphs_of(held_docs), cfg.eval_batch_size)
    del current
    trained = train_one(cfg)
    new_metrics = trained["best_metrics"] or {}
    old_score = select_score(old_metrics, cfg.select_metric)
    new_score = select_score(new_metrics, cfg.select_metric) if new_metrics else float("-inf")
    accepted = new_score >= old_score - spec.get("tolerance", 0.0)
    out.update(
        accepted=accepted, metric=cfg.select_metric, old_score=old_score, new_score=new_score,
        best_dir=trained["best_dir"],
        message=(f"{'accepted' if accepted else 'rejected'}: held-out {cfg.select_metric} "
                 f"{new_score:.4f} (new) vs {old_score:.4f} (current) on {len(held)} tasks"),
    )
    return out


# -- server state -------------------------------------------------------------------------


class Backend:
    """The served model, its version and the training job, shared by the request handlers."""

    def __init__(self, model_dir: Path, workdir: Path, *, url: str | None = None,
                 train_config: Path = DEFAULT_TRAIN_CONFIG, train_overrides: list[str] | None = None,
                 train_every: int = 0, tolerance: float = 0.0, version_prefix: str = "ghara"):
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.train_config = train_config
        self.train_overrides = list(train_overrides or [])
        self.train_every = train_every
        self.tolerance = tolerance
        self.prefix = version_prefix
        state_file = workdir / "state.json"
        state = json.loads(state_file.read_text()) if state_file.is_file() else {}
        self.version_number = int(state.get("version_number", 1))
        self.model_dir = Path(state.get("model_dir", model_dir))
        self.project: int | None = state.get("project")
        self._lock = threading.Lock()  # model swap and inference
        self._train_lock = threading.Lock()  # training state (never waits for an inference)
        self._extractor = None
        self.new_annotations = 0
        self.predicted = 0
        self.skipped = 0
        self.training: dict[str, Any] = {"state": "idle"}
        self._process: subprocess.Popen | None = None
        self.load()

    @property
    def model_version(self) -> str:
        return f"{self.prefix}-v{self.version_number}"

    def load(self) -> None:
        from .extractor import StrikeExtractor

        extractor = StrikeExtractor.from_pretrained(self.model_dir)
        with self._lock:
            self._extractor = extractor
        log.info("serving %s from %s", self.model_version, self.model_dir)

    def _save_state(self) -> None:
        (self.workdir / "state.json").write_text(json.dumps(
            {"version_number": self.version_number, "model_dir": str(self.model_dir),
             "project": self.project}, indent=2))

    def predict(self, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._lock:
            version = self.model_version
            results, problems = predict_tasks(self._extractor, tasks, version)
        for message in problems:
            log.warning(message)
        self.predicted += len(tasks) - len(problems)
        self.skipped += len(problems)
        return results

    # training
    def start_training(self, project: int | None, reason: str) -> dict[str, Any]:
        """Start a job unless one runs; returns the training status."""
        with self._train_lock:
            if self.training.get("state") == "running":
                return {**self.training, "note": "a training job is already running"}
            project = project or self.project
            if project is None:
                self.training = {"state": "failed", "message": "no project known yet (call /setup first)"}
                return self.training
            job = f"job-{int(time.time() * 1000)}"
            job_dir = self.workdir / job
            job_dir.mkdir(parents=True)
            spec = {"job": job, "project": int(project), "url": self.url, "model_dir": str(self.model_dir),
                    "config": str(self.train_config), "overrides": self.train_overrides,
                    "tolerance": self.tolerance}
            (job_dir / "job.json").write_text(json.dumps(spec, indent=2))
            logfile = (job_dir / "train.log").open("w")
            self._process = subprocess.Popen(
                [sys.executable, "-m", "model.backend", "--train-job", str(job_dir)],
                cwd=str(REPO), stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
            logfile.close()
            self.new_annotations = 0
            self.training = {"state": "running", "job": job, "reason": reason, "project": int(project),
                             "started": time.time(), "log": str(job_dir / "train.log")}
            log.info("training %s started (%s), log in %s", job, reason, job_dir / "train.log")
        threading.Thread(target=self._wait, args=(self._process, job_dir), daemon=True).start()
        return self.training

    def _wait(self, process: subprocess.Popen, job_dir: Path) -> None:
        code = process.wait()
        result_file = job_dir / "result.json"
        result = json.loads(result_file.read_text()) if result_file.is_file() else {}
        status = {**self.training, "state": "done" if code == 0 else "failed", "finished": time.time(),
                  "exit_code": code, **{k: v for k, v in result.items() if k != "best_dir"}}
        if code != 0:
            status["message"] = f"training job exited with status {code}; see {job_dir / 'train.log'}"
        elif result.get("accepted"):
            try:
                previous = self.model_dir
                self.model_dir = Path(result["best_dir"])
                self.load()
                self.version_number += 1
                self._save_state()
            except Exception as err:  # keep serving the old model, say why
                self.model_dir = previous
                status.update(state="failed", accepted=False,
                              message=f"new model could not be loaded: {type(err).__name__}: {err}")
        status["model_version"] = self.model_version
        self.training = status
        log.info("training %s: %s", status.get("job"), status.get("message"))

    def progress(self) -> dict[str, Any]:
        status = dict(self.training)
        if status.get("state") == "running":
            metrics = self.workdir / status["job"] / "run" / "metrics.jsonl"
            if metrics.is_file():
                lines = [json.loads(x) for x in metrics.read_text().splitlines() if x.strip()]
                status["epochs_done"] = len(lines)
                if lines:
                    status["last_epoch"] = {k: lines[-1].get(k) for k in ("epoch", "loss", "entity_f1", "relation_f1")}
        return status

    def status(self) -> dict[str, Any]:
        return {"model_version": self.model_version, "model_dir": str(self.model_dir),
                "project": self.project, "training": self.progress(),
                "annotations_since_training": self.new_annotations, "train_every": self.train_every,
                "tasks_predicted": self.predicted, "tasks_skipped": self.skipped}

    def on_annotation(self, project: int | None) -> dict[str, Any]:
        self.new_annotations += 1
        if self.train_every and self.new_annotations >= self.train_every:
            return self.start_training(project, f"{self.new_annotations} new annotations")
        return {"state": self.training.get("state"), "annotations_since_training": self.new_annotations}


def _project_id(value: Any) -> int | None:
    """Project id from ``"12.1700000000"`` (setup/predict), ``{"id": 12}`` (webhook) or 12."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        return None
    head = str(value).split(".", 1)[0]
    return int(head) if head.isdigit() else None


def create_app(backend: Backend):
    """The Starlette application serving ``backend``."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def body(request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            raise ValueError("request body is not a JSON object")
        return data

    def error(message: str, code: int = 400) -> JSONResponse:
        log.warning("%s", message)
        return JSONResponse({"status": "error", "error": message}, status_code=code)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "UP", "model_class": "ghara.StrikeExtractor",
                             "model_version": backend.model_version})

    async def setup(request: Request) -> JSONResponse:
        try:
            data = await body(request)
        except ValueError as err:
            return error(f"/setup: {err}")
        problems = config_problems(data.get("schema"))
        project = _project_id(data.get("project"))
        if problems:
            return error(f"/setup project {project}: " + "; ".join(problems))
        if project is not None and project != backend.project:
            backend.project = project
            backend._save_state()
        return JSONResponse({"model_version": backend.model_version})

    async def predict(request: Request) -> JSONResponse:
        try:
            data = await body(request)
        except ValueError as err:
            return error(f"/predict: {err}")
        tasks = data.get("tasks")
        if not isinstance(tasks, list):
            return error("/predict: 'tasks' is not a list")
        project = _project_id(data.get("project"))
        if project is not None and backend.project is None:
            backend.project = project
        results = await run_in_threadpool(backend.predict, tasks)
        return JSONResponse({"results": results, "model_version": backend.model_version})

    async def webhook(request: Request) -> JSONResponse:
        try:
            data = await body(request)
        except ValueError as err:
            return error(f"/webhook: {err}")
        action = data.get("action")
        project = _project_id(data.get("project"))
        if action == "START_TRAINING":
            status = await run_in_threadpool(backend.start_training, project, "START_TRAINING")
        elif action in TRAIN_EVENTS:
            status = await run_in_threadpool(backend.on_annotation, project)
        else:
            return JSONResponse({"status": "ignored", "action": action})
        return JSONResponse({"status": "ok", "result": status}, status_code=201)

    async def train(request: Request) -> JSONResponse:
        try:
            data = await body(request)
        except ValueError as err:
            return error(f"/train: {err}")
        status = await run_in_threadpool(backend.start_training, _project_id(data.get("project")), "/train")
        return JSONResponse({"status": "ok", "job": status.get("job"), "result": status}, status_code=201)

    async def status(request: Request) -> JSONResponse:
        return JSONResponse(backend.status())

    async def versions(request: Request) -> JSONResponse:
        return JSONResponse({"versions": [backend.model_version]})

    return Starlette(routes=[
        Route("/", health, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/setup", setup, methods=["POST"]),
        Route("/predict", predict, methods=["POST"]),
        Route("/webhook", webhook, methods=["POST"]),
        Route("/train", train, methods=["POST"]),
        Route("/status", status, methods=["GET"]),
        Route("/versions", versions, methods=["GET", "POST"]),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.backend", description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="trained model directory to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9090)
    parser.add_argument("--workdir", type=Path, default=Path("runs/backend"),
                        help="training jobs, state.json and backend.log (default runs/backend)")
    parser.add_argument("--train-config", type=Path, default=DEFAULT_TRAIN_CONFIG,
                        help="training config for fine-tuning (default configs/mini.yaml)")
    parser.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[],
                        metavar="KEY=VALUE", help="training config overrides, e.g. epochs=5")
    parser.add_argument("--train-every", type=int, default=0,
                        help="start training after this many new annotations (0 = only on request)")
    parser.add_argument("--tolerance", type=float, default=0.0,
                        help="accept a new model this much worse on the held-out slice (default 0)")
    parser.add_argument("--train-job", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    if args.train_job is not None:
        result = run_training_job(args.train_job)
        (args.train_job / "result.json").write_text(json.dumps(result, indent=2))
        print(result.get("message", ""), flush=True)
        return 0
    if not args.model or not (Path(args.model) / "config.json").is_file():
        parser.error(f"--model: {args.model} is not a saved model directory (no config.json)")
    if not os.environ.get(ENV_API_KEY):
        log.warning("%s is not set: predictions work, training jobs will fail", ENV_API_KEY)
    args.workdir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(args.workdir / "backend.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    backend = Backend(Path(args.model), args.workdir, url=os.environ.get(ENV_URL),
                      train_config=args.train_config, train_overrides=args.overrides,
                      train_every=args.train_every, tolerance=args.tolerance)
    import uvicorn

    uvicorn.run(create_app(backend), host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
