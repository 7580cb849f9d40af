"""model.card: the card's metadata parses and carries exactly the report's numbers."""

from __future__ import annotations

import json
import sys

import pytest
import yaml
from huggingface_hub import ModelCard

from annotation.schema import SCHEMA
from model import card as card_module
from model.metrics import prf


def fake_report() -> dict:
    per_label = {lab: prf(i + 1, i + 3, i + 2) for i, lab in enumerate(SCHEMA.entity_labels)}
    per_role = {role: prf(1, 2, 3) for role in SCHEMA.role_names}
    return {
        "model": "runs/x",
        "data": ["/somewhere/dev_export.json"],
        "documents": 4,
        "paragraphs": 17,
        "entities": {"micro": prf(21, 33, 27), "macro": {"precision": 0.61, "recall": 0.72,
                                                         "f1": 0.6543},
                     "per_label": per_label},
        "relations": {
            "end_to_end": {"micro": prf(5, 9, 11), "macro": {"precision": 0, "recall": 0, "f1": 0},
                           "per_label": per_role},
            "gold_spans": {"micro": prf(8, 9, 11), "macro": {"precision": 0, "recall": 0, "f1": 0},
                           "per_label": per_role},
        },
        "events": {"trigger": prf(6, 7, 8),
                   "arguments": {"micro": prf(4, 10, 12), "macro": {"precision": 0, "recall": 0,
                                                                    "f1": 0},
                                 "per_label": per_role},
                   "exact": {"matched": 3, "support": 8, "rate": 3 / 8}},
    }


@pytest.fixture
def model_dir(tmp_path):
    path = tmp_path / "ghara-mini"
    path.mkdir()
    (path / "config.json").write_text(json.dumps({
        "model_type": "ghara-joint",
        "encoder": {"model_type": "bert", "num_hidden_layers": 4, "hidden_size": 256,
                    "_name_or_path": "/local/path/not/a/hub/id"},
        "training": {"backbone": "aubmindlab/bert-base-arabertv02"},
    }), encoding="utf-8")
    return path


def metrics_by_name(card) -> dict[str, float]:
    return {r.metric_name: r.metric_value for r in card.data.eval_results}


def test_card_metadata_parses_and_equals_the_report(model_dir, tmp_path):
    report = fake_report()
    out = tmp_path / "README.md"
    card_module.build_card(model_dir, report, repo_id="org/ghara-mini").save(out)

    loaded = ModelCard.load(out)
    assert loaded.data.language == "ar"
    assert loaded.data.pipeline_tag == "token-classification"
    assert loaded.data.license == "apache-2.0"
    assert loaded.data.base_model == "aubmindlab/bert-base-arabertv02"
    assert loaded.data.model_name == "ghara-mini"
    got = metrics_by_name(loaded)
    assert got["entity micro f1"] == report["entities"]["micro"]["f1"]
    assert got["entity micro precision"] == report["entities"]["micro"]["precision"]
    assert got["entity macro f1"] == report["entities"]["macro"]["f1"]
    for label in SCHEMA.entity_labels:
        assert got[f"{label} f1"] == report["entities"]["per_label"][label]["f1"]
    assert got["relation end to end micro f1"] == report["relations"]["end_to_end"]["micro"]["f1"]
    assert got["relation gold spans micro recall"] == report["relations"]["gold_spans"]["micro"]["recall"]
    assert got["trigger f1"] == report["events"]["trigger"]["f1"]
    assert got["argument micro f1"] == report["events"]["arguments"]["micro"]["f1"]
    assert got["exactly right events"] == 3 / 8

    # the front matter is plain YAML with a model-index
    text = out.read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---")[1])
    assert front["language"] == "ar" and front["model-index"][0]["name"] == "ghara-mini"
    assert {r["task"]["type"] for r in front["model-index"][0]["results"]} == {
        "token-classification", "relation-extraction", "event-extraction"}
    for heading in ("## Results", "## Label schema", "## Training data", "## How to use",
                    "## Intended use", "## Limitations", "## Ethical considerations"):
        assert heading in text
    assert 'StrikeExtractor.from_pretrained("org/ghara-mini")' in text
    for label in SCHEMA.entity_labels:
        assert f"| {label} |" in text
    for role in SCHEMA.role_names:
        assert f"| {role} |" in text


def test_local_paths_are_not_base_models(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"encoder": {"_name_or_path": "/x/y"}}))
    card = card_module.build_card(tmp_path, fake_report())
    assert card.data.base_model is None


def test_cli_writes_card_without_push(model_dir, tmp_path, capsys):
    report_path = tmp_path / "report.json"
    report_path.write_text(json.dumps(fake_report()), encoding="utf-8")
    assert card_module.main(["--model", str(model_dir), "--eval", str(report_path)]) == 0
    loaded = ModelCard.load(model_dir / "README.md")
    assert metrics_by_name(loaded)["entity micro f1"] == fake_report()["entities"]["micro"]["f1"]


def test_push_needs_a_token(model_dir, tmp_path, monkeypatch, capsys):
    report_path = tmp_path / "report.json"
    report_path.write_text(json.dumps(fake_report()), encoding="utf-8")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    rc = card_module.main(["--model", str(model_dir), "--eval", str(report_path),
                           "--push-to-hub", "org/name"])
    assert rc == 2
    assert "HF_TOKEN" in capsys.readouterr().err
    assert not (model_dir / "README.md").exists()


def test_push_uploads_folder_with_token_never_printed(model_dir, tmp_path, monkeypatch, capsys):
    report_path = tmp_path / "report.json"
    report_path.write_text(json.dumps(fake_report()), encoding="utf-8")
    secret = "hf_SECRET_do_not_print_123"
    monkeypatch.setenv("HF_TOKEN", secret)
    calls = []

    class FakeApi:
        def __init__(self, token=None):
            calls.append(("init", token))

        def create_repo(self, repo_id, **kwargs):
            calls.append(("create_repo", repo_id, kwargs))
            return f"https://huggingface.co/{repo_id}"

        def upload_folder(self, **kwargs):
            calls.append(("upload_folder", kwargs))
            assert (model_dir / "README.md").is_file()

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    rc = card_module.main(["--model", str(model_dir), "--eval", str(report_path),
                           "--push-to-hub", "org/name", "--private"])
    assert rc == 0
    assert calls[0] == ("init", secret)
    assert calls[1][0] == "create_repo" and calls[1][2]["private"] is True
    assert calls[2][1]["repo_id"] == "org/name"
    assert calls[2][1]["folder_path"] == str(model_dir)
    output = capsys.readouterr()
    assert secret not in output.out + output.err


def test_module_runs_as_script(model_dir, tmp_path):
    import os
    import subprocess
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    report_path = tmp_path / "report.json"
    report_path.write_text(json.dumps(fake_report()), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "model.card", "--model", str(model_dir),
                          "--eval", str(report_path), "--out", str(tmp_path / "card.md")],
                         capture_output=True, text=True, cwd=repo,
                         env={**os.environ, "PYTHONPATH": str(repo)})
    assert run.returncode == 0, run.stderr
    assert ModelCard.load(tmp_path / "card.md").data.language == "ar"


def test_card_uses_the_model_schema_and_the_seed_summary(tmp_path, capsys):
    from annotation.schema import SCHEMA

    schema = SCHEMA.to_dict()
    schema["entity_labels"] = [*schema["entity_labels"], "WEAPON"]
    schema["roles"] = {**schema["roles"], "weapon": "WEAPON"}
    best = tmp_path / "runs" / "seed-2" / "best"
    best.mkdir(parents=True)
    (best / "config.json").write_text(json.dumps({
        "model_type": "ghara-joint", "encoder": {"model_type": "bert"}, "schema": schema,
    }), encoding="utf-8")
    summary = {"seeds": [1, 2, 3], "mean": {"entity_f1": 0.7812, "relation_f1": 0.6234},
               "sd": {"entity_f1": 0.0123, "relation_f1": 0.0211}, "per_seed": {}}
    (tmp_path / "runs" / "seeds_summary.json").write_text(json.dumps(summary))
    report_path = tmp_path / "report.json"
    report_path.write_text(json.dumps(fake_report()), encoding="utf-8")
    assert card_module.main(["--model", str(best), "--eval", str(report_path)]) == 0
    text = (best / "README.md").read_text(encoding="utf-8")
    assert "| WEAPON |" in text and "| weapon | WEAPON |" in text and "B-WEAPON" in text
    assert "Variation over training seeds (1, 2, 3)" in text
    assert "| entity f1 | 78.1 | 1.2 |" in text and "| relation f1 | 62.3 | 2.1 |" in text
    assert "seeds_summary.json" in capsys.readouterr().out
    # left out on request; a summary that cannot be read is an error, not a silent omission
    assert card_module.main(["--model", str(best), "--eval", str(report_path),
                             "--seeds-summary", "none"]) == 0
    assert "Variation over training seeds" not in (best / "README.md").read_text("utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    assert card_module.main(["--model", str(best), "--eval", str(report_path),
                             "--seeds-summary", str(bad)]) == 2
    assert "cannot read the seeds summary" in capsys.readouterr().err


def test_licence_follows_the_backbones_training_texts(tmp_path):
    # a local backbone trained on SaudiNewsNet (its README says so): non-commercial
    backbone = tmp_path / "my-news-bert"
    backbone.mkdir()
    (backbone / "README.md").write_text("WordPiece trained on ANT 2018 + SaudiNewsNet 2015.\n")
    best = tmp_path / "run" / "best"
    best.mkdir(parents=True)
    (best / "config.json").write_text(json.dumps({"encoder": {"_name_or_path": "/x/y"}}))
    train_config = tmp_path / "run" / "train_config.json"

    def licence(backbone_value, explicit=None):
        train_config.write_text(json.dumps({"backbone": backbone_value}), encoding="utf-8")
        return card_module.build_card(best, fake_report(), license=explicit).data.license

    assert licence(str(backbone)) == "cc-by-nc-sa-4.0"
    # the shipped mini backbone, known by name even where its folder is not at hand
    assert licence("/elsewhere/models/arabic-news-bert-mini") == "cc-by-nc-sa-4.0"
    assert licence("tiny") == "apache-2.0"  # built from the team's own sample articles
    assert licence("aubmindlab/bert-base-arabertv02") == "apache-2.0"
    assert licence(str(backbone), explicit="other") == "other"  # --license wins
