"""A team's own label end to end: ``schema_file`` -> export read -> model trained with it ->
extractor -> ``evaluate.py`` scores it; bad schema files and a schema that contradicts
``init_from``'s model fail with one clear line.

The export is our own invented sentences with a WEAPON label and a ``weapon`` role (STRIKE
-> WEAPON), written as a Label Studio JSON export by the sample builder's ``to_task``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from _ghara_tiny import TINY_CONFIG, overrides
from annotation.export import read_export
from annotation.sample.build import to_task
from annotation.sample.markup import Article, MarkedRelation, MarkedSpan
from annotation.schema import SCHEMA, Schema
from model.config import MODEL_CONFIG_NAME, ConfigError, load_config, resume_changes

WEAPON_SCHEMA = {
    "version": "1.1+weapon",
    "entity_labels": [*SCHEMA.entity_labels, "WEAPON"],
    "roles": {**SCHEMA.roles, "weapon": "WEAPON"},
    "trigger_label": "STRIKE",
}

#: (paragraphs) per article; a paragraph is (text, spans as (phrase, label), relations as
#: (role, argument phrase) from the paragraph's first STRIKE)
ARTICLES = [
    [("قصفت طائرات حربية روسية بصواريخ موجهة مواقع في ريف إدلب الجنوبي فجر اليوم.",
      [("قصفت", "STRIKE"), ("طائرات حربية روسية", "ACTOR"), ("بصواريخ موجهة", "WEAPON"),
       ("مواقع", "TARGET"), ("ريف إدلب الجنوبي", "PLACE"), ("فجر اليوم", "DATE")],
      ["actor", "weapon", "target", "place", "date"]),
     ("وأفاد ناشطون بأن الغارات لم توقع إصابات بين المدنيين.", [], [])],
    [("استهدفت مسيرة تركية بقذائف صاروخية سيارة قرب بلدة عين عيسى مساء أمس.",
      [("استهدفت", "STRIKE"), ("مسيرة تركية", "ACTOR"), ("بقذائف صاروخية", "WEAPON"),
       ("سيارة", "TARGET"), ("بلدة عين عيسى", "PLACE"), ("مساء أمس", "DATE")],
      ["actor", "weapon", "target", "place", "date"])],
    [("شنت قوات النظام غارات بالبراميل المتفجرة على بلدة كفرنبل فقتل ثلاثة مدنيين.",
      [("قوات النظام", "ACTOR"), ("غارات", "STRIKE"), ("بالبراميل المتفجرة", "WEAPON"),
       ("بلدة كفرنبل", "PLACE"), ("ثلاثة", "COUNT")],
      ["actor", "weapon", "place", "killed"]),
     ("وقصفت المدفعية بقذائف الهاون أحياء مدينة درعا صباح اليوم.",
      [("وقصفت", "STRIKE"), ("المدفعية", "ACTOR"), ("بقذائف الهاون", "WEAPON"),
       ("أحياء مدينة درعا", "TARGET"), ("صباح اليوم", "DATE")],
      ["actor", "weapon", "target", "date"])],
    [("ضربت طائرة مسيرة بصاروخ موجه مستودعا للذخيرة في ريف حلب الشرقي.",
      [("ضربت", "STRIKE"), ("طائرة مسيرة", "ACTOR"), ("بصاروخ موجه", "WEAPON"),
       ("مستودعا للذخيرة", "TARGET"), ("ريف حلب الشرقي", "PLACE")],
      ["actor", "weapon", "target", "place"])],
]
N_WEAPON = sum(lab == "WEAPON" for art in ARTICLES for _, spans, _ in art for _, lab in spans)
N_WEAPON_ROLE = sum(r == "weapon" for art in ARTICLES for _, _, rels in art for r in rels)


def _article(index: int, paragraphs: list) -> Article:
    """An :class:`Article` as the sample's markup parser makes it (which knows only the
    built-in labels), so ``to_task`` writes it exactly as the sample export is written."""
    text = "\n".join(p[0] for p in paragraphs)
    spans: list[MarkedSpan] = []
    relations: list[MarkedRelation] = []
    offset = 0
    for p, (para, marked, roles) in enumerate(paragraphs):
        region = {}  # label -> region id (one span per label in a paragraph here)
        for i, (phrase, label) in enumerate(marked):
            start = offset + para.index(phrase)
            assert text[start : start + len(phrase)] == phrase
            region[label] = f"p{p}-{i}"
            spans.append(MarkedSpan(start, start + len(phrase), label, phrase, region[label]))
        for role in roles:
            tail = region[WEAPON_SCHEMA["roles"][role]]
            relations.append(MarkedRelation(region["STRIKE"], tail, role))
        offset += len(para) + 1
    return Article(f"weapon-{index}", {"source": "ghara-test"}, text, spans, relations)


def write_export(path: Path) -> Path:
    tasks = [to_task(_article(i, a), i) for i, a in enumerate(ARTICLES, start=1)]
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return path


def write_schema(path: Path, data: dict | str = WEAPON_SCHEMA) -> Path:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def weapon_run(tmp_path_factory):
    """A tiny model trained two epochs on the WEAPON export (train = dev), its log."""
    import contextlib
    import io

    from model.training import train_one

    tmp = tmp_path_factory.mktemp("weapon")
    export, schema_file = write_export(tmp / "weapon.json"), write_schema(tmp / "schema.json")
    cfg = load_config(TINY_CONFIG, overrides(
        tmp / "run", train_files=export, dev_file=export, schema_file=schema_file, epochs=2,
        batch_size=4, single_head_labels="[WEAPON]", rel_role_weights="{weapon: 2.0}",
    ))
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        result = train_one(cfg)
    return {"export": export, "schema_file": schema_file, "log": log.getvalue(), **result}


# -- the way in: reading, training, saving ------------------------------------------------
def test_export_with_an_own_label_is_read_only_with_its_schema(tmp_path):
    export = write_export(tmp_path / "weapon.json")
    schema = Schema.from_file(write_schema(tmp_path / "schema.json"))
    report = read_export(export, schema).report
    assert report.spans["WEAPON"] == N_WEAPON == 5
    assert report.relations["weapon"] == N_WEAPON_ROLE == 5
    assert not report.problems
    builtin = read_export(export).report  # the control: the built-in schema drops them
    assert builtin.problems_by_kind["unknown_label"] == N_WEAPON
    assert "WEAPON" not in builtin.spans


@pytest.mark.slow
def test_trained_model_carries_the_schema_file(weapon_run):
    saved = json.loads((Path(weapon_run["best_dir"]) / MODEL_CONFIG_NAME).read_text("utf-8"))
    assert saved["schema"] == WEAPON_SCHEMA
    assert saved["num_tags"] == 1 + 2 * len(WEAPON_SCHEMA["entity_labels"])
    assert saved["heads"]["single_head_labels"] == ["WEAPON"]
    log = weapon_run["log"]
    # the conversion summary lists the schema's own label and role with their counts
    assert f", WEAPON {N_WEAPON}\n" in log and f", weapon {N_WEAPON_ROLE}\n" in log
    assert "unknown_label" not in log and "problems: none" in log
    assert f"schema 1.1+weapon from {weapon_run['schema_file']}" in log
    assert weapon_run["epochs_done"] == 2
    per_label = weapon_run["best_metrics"]["entity_f1_per_label"]
    assert "WEAPON" in per_label  # dev scores use the model's schema too
    assert "weapon" in weapon_run["best_metrics"]["relation_f1_per_role"]


@pytest.mark.slow
def test_extractor_and_evaluate_use_the_models_schema(weapon_run, tmp_path, capsys):
    from model.evaluation import main as evaluate_main
    from model.extractor import StrikeExtractor

    extractor = StrikeExtractor.from_pretrained(weapon_run["best_dir"])
    assert extractor.model.schema == Schema.from_dict(WEAPON_SCHEMA)
    text = "قصفت طائرات حربية بصواريخ موجهة مواقع في ريف إدلب"
    events = extractor.extract(text, published="2024-03-01")
    assert isinstance(events, list)
    for event in events:
        assert text[event.trigger.start : event.trigger.end] == event.trigger.text

    out = tmp_path / "report.json"
    code = evaluate_main(["--model", weapon_run["best_dir"], "--data", str(weapon_run["export"]),
                          "--out", str(out), "--device", "cpu", "--batch-size", "4"])
    assert code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["entities"]["per_label"]["WEAPON"]["support"] == N_WEAPON
    assert report["relations"]["end_to_end"]["per_label"]["weapon"]["support"] == N_WEAPON_ROLE
    assert report["conversion"][0]["problems"] == {}
    printed = capsys.readouterr().out
    assert "| WEAPON |" in printed and "| weapon |" in printed


@pytest.mark.slow
def test_evaluate_reports_a_bad_export_with_exit_2(weapon_run, tmp_path, capsys):
    from model.evaluation import main as evaluate_main

    bad = tmp_path / "bad.json"
    bad.write_text("not json", encoding="utf-8")
    assert evaluate_main(["--model", weapon_run["best_dir"], "--data", str(bad)]) == 2
    assert "error:" in capsys.readouterr().err


# -- errors -------------------------------------------------------------------------------
def _load(tmp_path: Path, **extra):
    export = write_export(tmp_path / "weapon.json")
    return load_config(TINY_CONFIG, overrides(tmp_path / "run", train_files=export,
                                              dev_file=export, **extra))


@pytest.mark.parametrize("content, problem", [
    (None, "schema file not found"),
    ('{"version": "2", "entity_labels": ["STRIKE"', "not valid JSON"),
    ({"version": "2", "entity_labels": ["STRIKE", "WEAPON"]}, "missing key(s) 'roles'"),
    ({**WEAPON_SCHEMA, "roles": {**WEAPON_SCHEMA["roles"], "vehicle": "VEHICLE"}},
     "role 'vehicle' takes unknown label 'VEHICLE'"),
    ({**WEAPON_SCHEMA, "trigger": "STRIKE"}, "unknown key(s) ['trigger']"),
    ({**WEAPON_SCHEMA, "entity_labels": "STRIKE WEAPON"}, "'entity_labels' must be"),
])
def test_bad_schema_file_is_one_line_naming_file_and_problem(tmp_path, content, problem):
    path = tmp_path / "schema.json"
    if content is not None:
        write_schema(path, content)
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, schema_file=path)
    message = str(err.value)
    assert f"schema_file: {path}: " in message and problem in message
    assert "\n" not in message


def test_relative_schema_file_resolves_against_the_project_root(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "schemas").mkdir()
    write_schema(tmp_path / "schemas" / "weapon.json")
    export = write_export(tmp_path / "weapon.json")
    (tmp_path / "configs").mkdir()
    config = tmp_path / "configs" / "weapon.yaml"
    config.write_text("train_files: [weapon.json]\nschema_file: schemas/weapon.json\n"
                      "backbone: tiny\nsingle_head_labels: [WEAPON]\n", encoding="utf-8")
    cfg = load_config(config)
    assert cfg.schema_file == str(tmp_path / "schemas" / "weapon.json")
    assert cfg.train_files == [str(export)]


def test_schema_file_labels_and_roles_are_checked_against_that_schema(tmp_path):
    schema_file = write_schema(tmp_path / "schema.json")
    cfg = _load(tmp_path, schema_file=schema_file, single_head_labels="[WEAPON, COUNT]",
                rel_role_weights="{weapon: 3.0}")
    assert cfg.single_head_labels == ["WEAPON", "COUNT"]
    with pytest.raises(ConfigError, match=r"single_head_labels: \['WEAPON'\] are not argument"):
        _load(tmp_path, single_head_labels="[WEAPON]")  # the built-in schema has no WEAPON
    with pytest.raises(ConfigError, match=r"rel_role_weights: \['weapon'\] are not relation"):
        _load(tmp_path, rel_role_weights="{weapon: 3.0}")
    assert _load(tmp_path).schema_file is None  # the default: the built-in schema


def test_changing_schema_file_on_resume_is_refused(tmp_path):
    cfg = _load(tmp_path, schema_file=write_schema(tmp_path / "schema.json"))
    saved = {"schema_file": str(tmp_path / "other.json")}
    with pytest.raises(ConfigError, match="schema_file"):
        resume_changes(saved, cfg)


@pytest.mark.slow
def test_schema_file_must_agree_with_init_from_model(weapon_run, tmp_path):
    model_dir = weapon_run["best_dir"]
    same = _load(tmp_path, init_from=model_dir, schema_file=weapon_run["schema_file"])
    assert same.init_from == model_dir
    builtin = write_schema(tmp_path / "builtin.json", SCHEMA.to_dict())
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, init_from=model_dir, schema_file=builtin)
    message = str(err.value)
    assert f"schema_file {builtin} differs from the schema of the model in {model_dir}" in message
    assert "entity_labels" in message and "\n" not in message
    # without schema_file, the model's schema is the run's: its WEAPON spans are read
    from model.config import training_schema
    from model.trainset import split_documents

    cfg = _load(tmp_path, init_from=model_dir)
    assert training_schema(cfg) == Schema.from_dict(WEAPON_SCHEMA)
    train, _ = split_documents(cfg, log=lambda *a: None)
    assert sum(s.label == "WEAPON" for d in train for s in d.spans) == N_WEAPON


@pytest.mark.slow
def test_fine_tuning_keeps_init_from_schema_even_with_a_replaced_config(tmp_path, weapon_run):
    """``validate_config`` on a config built in code (``replace``) refuses the mismatch too."""
    from model.config import validate_config

    cfg = _load(tmp_path)
    bad = replace(cfg, init_from=weapon_run["best_dir"],
                  schema_file=str(write_schema(tmp_path / "b.json", SCHEMA.to_dict())))
    with pytest.raises(ConfigError, match="differs from the schema of the model"):
        validate_config(bad)


# -- the annotation side: the Label Studio config and the converter take the same file -----
def test_annotation_cli_config_and_convert_take_the_schema_file(tmp_path, capsys):
    from annotation.__main__ import main as annotation_main

    schema_file = write_schema(tmp_path / "schema.json")
    assert annotation_main(["config", "--schema", str(schema_file)]) == 0
    config = capsys.readouterr().out
    assert '<Label value="WEAPON"/>' in config and '<Relation value="weapon"/>' in config
    assert annotation_main(["config"]) == 0
    assert "WEAPON" not in capsys.readouterr().out  # the built-in schema by default
    export = write_export(tmp_path / "weapon.json")
    assert annotation_main(["convert", "--input", str(export), "--schema", str(schema_file)]) == 0
    report = capsys.readouterr().out
    assert f"WEAPON {N_WEAPON}" in report and "unknown_label" not in report
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    assert annotation_main(["config", "--schema", str(tmp_path / "bad.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --schema: ") and "bad.json" in err[0]
