"""Training: both heads learn, --resume is exact, --seeds summarises, bad configs fail clearly."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
from safetensors.torch import load_file

from _ghara_tiny import TINY_CONFIG, overfit_run, overrides
from model.config import TRAIN_CONFIG_NAME, ConfigError, resume_changes
from model.training import TrainConfig, TrainingDiverged, load_config, main

pytestmark = pytest.mark.slow


def test_tiny_model_overfits_small_data_with_both_heads():
    result = overfit_run()
    metrics = result["best_metrics"]
    assert metrics["entity_f1"] == 1.0
    assert metrics["relation_f1"] == 1.0  # end to end, over predicted spans
    best = json.loads((Path(result["best_dir"]) / "dev_metrics.json").read_text())
    assert best["epoch"] == result["best_epoch"]
    lines = (Path(result["out_dir"]) / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == result["epochs_done"]
    assert json.loads((Path(result["out_dir"]) / TRAIN_CONFIG_NAME).read_text())["epochs"] == 20
    record = json.loads(lines[0])
    for key in ("epoch", "loss", "tag_loss", "rel_loss", "entity_f1", "relation_f1", "lr_encoder"):
        assert key in record


def _strip_times(path):
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows:
        row.pop("train_seconds"), row.pop("eval_seconds")
    return rows


def test_resume_after_interruption_reaches_the_same_weights(tmp_path):
    common = {"epochs": 4, "patience": 0, "dropout": 0.2, "lr_encoder": 0.001}
    straight = tmp_path / "straight"
    main(["--config", str(TINY_CONFIG), "--set", *overrides(straight, **common)])
    resumed = tmp_path / "resumed"
    first = main(["--config", str(TINY_CONFIG),
                  "--set", *overrides(resumed, stop_after_epochs=2, **common)])
    assert first["epochs_done"] == 2
    state = json.loads((resumed / "last" / "trainer_state.json").read_text())
    assert state["epoch"] == 2 and "bad_epochs" in state
    second = main(
        ["--config", str(TINY_CONFIG), "--resume", "--set", *overrides(resumed, **common)]
    )
    assert second["epochs_done"] == 4
    a = load_file(straight / "last" / "model.safetensors")
    b = load_file(resumed / "last" / "model.safetensors")
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a), "resumed weights differ"
    assert _strip_times(straight / "metrics.jsonl") == _strip_times(resumed / "metrics.jsonl")


def test_resume_is_exact_with_ema_word_dropout_and_mention_replacement(tmp_path):
    common = {"epochs": 4, "patience": 0, "dropout": 0.2, "lr_encoder": 0.001,
              "ema_decay": 0.9, "eval_raw_weights": True, "word_dropout": 0.2,
              "mention_replace": 0.5}
    straight = tmp_path / "straight"
    main(["--config", str(TINY_CONFIG), "--set", *overrides(straight, **common)])
    resumed = tmp_path / "resumed"
    main(["--config", str(TINY_CONFIG), "--set", *overrides(resumed, stop_after_epochs=2, **common)])
    main(["--config", str(TINY_CONFIG), "--resume", "--set", *overrides(resumed, **common)])
    for name in ("last/model.safetensors", "last/ema.safetensors", "best/model.safetensors"):
        a, b = load_file(straight / name), load_file(resumed / name)
        assert a.keys() == b.keys()
        assert all((a[k] == b[k]).all() for k in a), f"resumed {name} differs"
    rows = _strip_times(straight / "metrics.jsonl")
    assert rows == _strip_times(resumed / "metrics.jsonl")
    assert "raw_entity_f1" in rows[0] and "raw_relation_f1" in rows[0]


def test_resume_with_a_longer_patience_goes_on_after_an_early_stop(tmp_path):
    """patience may change on --resume: a run stopped early goes on under a longer one (or
    0), and stays stopped under one it has used up."""
    common = {"epochs": 4, "lr_encoder": 1e-12, "lr_heads": 1e-12}  # none improves on the 1st
    first = main(["--config", str(TINY_CONFIG), "--set", *overrides(tmp_path, patience=1, **common)])
    assert first["epochs_done"] == 2
    assert json.loads((tmp_path / "last" / "trainer_state.json").read_text())["stopped_early"]
    same = main(["--config", str(TINY_CONFIG), "--resume",
                 "--set", *overrides(tmp_path, patience=1, **common)])
    assert same["epochs_done"] == 2
    longer = main(["--config", str(TINY_CONFIG), "--resume",
                   "--set", *overrides(tmp_path, patience=0, **common)])
    assert longer["epochs_done"] == 4
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 4


def test_ema_changes_the_saved_weights_but_not_the_training(tmp_path):
    common = {"epochs": 3, "patience": 0, "dropout": 0.2}
    main(["--config", str(TINY_CONFIG), "--set", *overrides(tmp_path / "plain", **common)])
    main(["--config", str(TINY_CONFIG),
          "--set", *overrides(tmp_path / "ema", ema_decay=0.9, **common)])
    # the raw training weights are the same: EMA only reads them
    a = load_file(tmp_path / "plain" / "last" / "model.safetensors")
    b = load_file(tmp_path / "ema" / "last" / "model.safetensors")
    assert all((a[k] == b[k]).all() for k in a)
    assert (tmp_path / "ema" / "last" / "ema.safetensors").is_file()
    assert not (tmp_path / "plain" / "last" / "ema.safetensors").exists()
    # the saved (best) model holds the averaged weights
    plain = load_file(tmp_path / "plain" / "best" / "model.safetensors")
    ema = load_file(tmp_path / "ema" / "best" / "model.safetensors")
    assert plain.keys() == ema.keys()
    assert any(not (plain[k] == ema[k]).all() for k in plain)
    averaged = load_file(tmp_path / "ema" / "last" / "ema.safetensors")
    best_epoch = json.loads((tmp_path / "ema" / "best" / "dev_metrics.json").read_text())["epoch"]
    if best_epoch == 3:  # the last epoch's average is what was saved
        assert all((averaged[k] == ema[k]).all() for k in averaged)


def test_word_dropout_replaces_whole_words_by_unk():
    import random

    from model.training import drop_words

    example = {"words": [[0, 3], [4, 9], [10, 12]], "input_ids": [5, 6, 7, 8, 9],
               "word_ids": [0, 1, 1, -1, 2], "labels": [1, 2, -100, -100, 3]}
    assert drop_words(example, 0.0, 100, random.Random(0)) is example
    all_dropped = drop_words(example, 0.999999, 100, random.Random(0))
    assert all_dropped["input_ids"] == [100, 100, 100, 8, 100]  # -1: no word, kept
    assert all_dropped["labels"] == example["labels"] and example["input_ids"][0] == 5
    some = [drop_words(example, 0.5, 100, random.Random(seed))["input_ids"] for seed in range(20)]
    assert all((ids[1] == 100) == (ids[2] == 100) for ids in some)  # word 1: both sub-words
    assert len({tuple(ids) for ids in some}) > 1


def test_seeds_train_one_model_each_and_summarise(tmp_path, capsys):
    summary = main(["--config", str(TINY_CONFIG), "--seeds", "1", "2",
                    "--set", *overrides(tmp_path, epochs=2, patience=0)])
    assert set(summary["per_seed"]) == {1, 2}
    for seed in (1, 2):
        assert (tmp_path / f"seed-{seed}" / "best" / "model.safetensors").is_file()
    saved = json.loads((tmp_path / "seeds_summary.json").read_text())
    assert set(saved["mean"]) == set(saved["sd"]) and "relation_f1" in saved["mean"]
    assert "±" in capsys.readouterr().out


def test_tiny_config_is_valid_and_relative_to_the_repo():
    cfg = load_config(TINY_CONFIG)
    assert cfg.backbone == "tiny"
    assert cfg.train_files[0].endswith("annotation/sample/sample_export.json")
    for name in ("mini", "arabert"):
        path = TINY_CONFIG.parent / f"{name}.yaml"
        import yaml

        keys = set(yaml.safe_load(path.read_text()))
        assert not keys - set(TrainConfig.__dataclass_fields__)


def test_head_config_fields_are_config_keys():
    from dataclasses import fields

    from model.network import HeadConfig

    assert {f.name for f in fields(HeadConfig)} <= set(TrainConfig.__dataclass_fields__)


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["learning_rate=0.1"], "unknown key 'learning_rate'"),
        (["epochs=many"], "'epochs' must be an integer"),
        (["train_files=/nonexistent/export.json"], "/nonexistent/export.json"),
        (["dev_file=/nonexistent/dev.json"], "dev_file"),
        (["select_metric=loss"], "select_metric"),
        (["ema_decay=1.0"], "ema_decay"),
        (["word_dropout=-0.1"], "word_dropout"),
        (["mention_replace=1.5"], "mention_replace must be in [0, 1]"),
        (["mention_replace_labels=[PLACE, WEAPON]"], "mention_replace_labels: ['WEAPON']"),
        (["lr_encoder=.nan"], "'lr_encoder' must be a finite number"),
        (["lr_heads=.inf"], "'lr_heads' must be a finite number"),
        (["lr_encoder=0"], "lr_encoder must be > 0"),
        (["lr_heads=-0.001"], "lr_heads must be > 0"),
        (["max_grad_norm=-.inf"], "'max_grad_norm' must be a finite number"),
    ],
)
def test_invalid_configs_fail_with_a_clear_message(tmp_path, extra, needle):
    with pytest.raises(SystemExit) as err:
        main(["--config", str(TINY_CONFIG), "--set", *overrides(tmp_path), *extra])
    assert needle in str(err.value.code)


def test_unknown_key_in_yaml_and_missing_config(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train_files: [x.json]\nlearnin_rate: 0.1\n")
    with pytest.raises(SystemExit) as err:
        load_config(bad)
    assert "unknown key 'learnin_rate'" in str(err.value.code) and str(bad) in str(err.value.code)
    with pytest.raises(SystemExit) as err:
        load_config(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(err.value.code)


def test_empty_export_fails_with_a_clear_message(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    with pytest.raises(SystemExit) as err:
        main(["--config", str(TINY_CONFIG), "--set", *overrides(tmp_path, train_files=str(empty))])
    assert "empty.json" in str(err.value.code) and "no tasks" in str(err.value.code)


def test_resume_without_checkpoint_fails(tmp_path):
    with pytest.raises(SystemExit) as err:
        main(["--config", str(TINY_CONFIG), "--resume", "--set", *overrides(tmp_path / "none")])
    assert "no checkpoint" in str(err.value.code)


@pytest.mark.parametrize("name", ["tiny", "mini", "arabert"])
def test_shipped_configs_parse(name):
    """Every config in configs/ is valid (data pointed at the sample: no ../shared needed;
    without ../shared, mini's local backbone is a clear error instead)."""
    repo = Path(__file__).resolve().parents[1]
    sample = str(repo / "annotation" / "sample" / "sample_export.json")
    overrides = [f"train_files=[{sample}]", f"dev_file={sample}"]
    mini_backbone = (repo / "../shared/models/arabic-news-bert-mini").resolve()
    if name == "mini" and not mini_backbone.is_dir():
        with pytest.raises(SystemExit, match="local model directory not found"):
            load_config(repo / "configs" / "mini.yaml", overrides)
        return
    cfg = load_config(repo / "configs" / f"{name}.yaml", overrides)
    expected = {"tiny": "tiny", "arabert": "aubmindlab/bert-base-arabertv02",
                "mini": str(mini_backbone)}
    assert cfg.backbone == expected[name]
    assert Path(cfg.out_dir).is_relative_to(repo / "runs")


def test_resume_changes_refuses_model_keys_and_warns_about_the_rest(tmp_path):
    cfg = load_config(TINY_CONFIG, overrides(tmp_path))
    saved = json.loads(json.dumps(asdict(cfg)))
    assert resume_changes(saved, cfg) == []
    assert resume_changes({**saved, "epochs": 3}, cfg) == ["epochs: 3 -> 20"]
    assert resume_changes({**saved, "patience": 1}, cfg) == []  # free to change
    old = {k: v for k, v in saved.items() if k != "lr_heads"}  # a key the checkpoint predates
    assert resume_changes(old, cfg) == []
    with pytest.raises(ConfigError) as err:
        resume_changes({**saved, "rel_hidden": 32, "lstm_hidden": 8, "epochs": 3}, cfg)
    message = str(err.value.code)
    assert f"rel_hidden: 32 -> {cfg.rel_hidden}" in message
    assert f"lstm_hidden: 8 -> {cfg.lstm_hidden}" in message
    assert "epochs" not in message


def test_resume_with_a_changed_architecture_is_refused_and_changes_nothing(tmp_path):
    common = {"epochs": 2, "patience": 0, "rel_hidden": 16}
    main(["--config", str(TINY_CONFIG),
          "--set", *overrides(tmp_path, stop_after_epochs=1, **common)])
    before = {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}
    with pytest.raises(ConfigError) as err:
        main(["--config", str(TINY_CONFIG), "--resume",
              "--set", *overrides(tmp_path, **{**common, "rel_hidden": 32})])
    assert "rel_hidden: 16 -> 32" in str(err.value.code)
    after = {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}
    assert after == before  # train_config.json still records the model that is there


def test_a_loss_that_is_not_finite_stops_training(tmp_path):
    with pytest.raises(TrainingDiverged) as err:
        main(["--config", str(TINY_CONFIG), "--set",
              *overrides(tmp_path, lr_encoder="1.0e+30", lr_heads="1.0e+30", max_grad_norm=0.0)])
    message = str(err.value.code)
    assert "training diverged" in message and "epoch 1" in message and "lr_encoder" in message
    assert not (tmp_path / "best").exists()  # nothing non-finite was saved


def test_config_reading_and_data_are_torch_free():
    import subprocess
    import sys

    code = ("import sys, model.config, model.trainset, model.dev_scores, model.card, "
            "model.training; assert 'torch' not in sys.modules, 'torch imported'")
    repo = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], cwd=repo, check=True)


def test_head_settings_and_file_names_have_one_source():
    from model import config, network
    from model.backbone import DEFAULT_BACKBONE

    assert network.HeadConfig is config.HeadConfig
    assert network.CONFIG_NAME == config.MODEL_CONFIG_NAME
    assert TrainConfig().backbone == DEFAULT_BACKBONE
    cfg = TrainConfig(rel_hidden=7, lstm_hidden=3)
    assert cfg.head_config() == config.HeadConfig(rel_hidden=7, lstm_hidden=3)


def test_exponent_numbers_without_a_dot_are_numbers() -> None:
    """YAML 1.1 reads ``1e-5`` as a string; ``--set lr_encoder=1e-5`` must still work."""
    from model.config import _coerce

    assert _coerce("lr_encoder", "1e-5", float, "--set") == 1e-5
    with pytest.raises(SystemExit, match="must be a number"):
        _coerce("lr_encoder", "fast", float, "--set")


def test_init_from_fine_tunes_a_saved_model_and_keeps_what_it_learned(tmp_path):
    """A run started from a fitted model starts where that model was, not from scratch."""
    fitted = overfit_run()
    result = main(["--config", str(TINY_CONFIG), "--set",
                   *overrides(tmp_path / "ft", init_from=fitted["best_dir"], epochs=1, patience=0,
                              lr_encoder=1e-6, lr_heads=1e-6)])
    assert result["best_metrics"]["entity_f1"] >= fitted["best_metrics"]["entity_f1"] - 0.05


def test_init_from_refuses_model_keys_other_than_the_saved_ones(tmp_path):
    fitted = overfit_run()
    with pytest.raises(ConfigError, match="rel_hidden"):
        main(["--config", str(TINY_CONFIG), "--set",
              *overrides(tmp_path / "bad", init_from=fitted["best_dir"], rel_hidden=7)])


def test_best_epoch_is_chosen_on_the_numbers_evaluate_reports(tmp_path):
    """The dev metrics saved with ``best`` are what evaluate.py reports for that model on
    the same dev data (one scorer); one epoch, so the numbers are not a trivial 1.0."""
    from _ghara_tiny import small_export
    from annotation import read_export
    from model.dev_scores import SUMMARY_KEYS, summary
    from model.evaluation import evaluate_model
    from model.network import JointModel
    from model.training import train_one

    result = train_one(load_config(TINY_CONFIG, overrides(tmp_path / "one", epochs=1)))
    saved = json.loads((Path(result["best_dir"]) / "dev_metrics.json").read_text())
    model = JointModel.from_pretrained(result["best_dir"], device="cpu")
    report, _ = evaluate_model(model, read_export(small_export()).documents, records=False)
    reported = summary(report)
    assert {k: saved[k] for k in SUMMARY_KEYS} == {k: reported[k] for k in SUMMARY_KEYS}
    assert saved["entity_f1_per_label"] == reported["entity_f1_per_label"]
    assert saved["relation_f1"] < 1.0


def test_encoder_layers_keeps_the_first_layers_and_the_saved_model_has_them(tmp_path):
    from model.network import JointModel

    result = main(["--config", str(TINY_CONFIG),
                   "--set", *overrides(tmp_path / "one", epochs=1, encoder_layers=1)])
    model = JointModel.from_pretrained(result["best_dir"])
    assert model.encoder.config.num_hidden_layers == 1 and len(model.encoder.encoder.layer) == 1
    with pytest.raises(SystemExit) as err:  # the tiny backbone has 2: a third would be random
        main(["--config", str(TINY_CONFIG),
              "--set", *overrides(tmp_path / "three", epochs=1, encoder_layers=3)])
    assert "encoder_layers:" in str(err.value.code) and "cannot keep 3 of its 2" in str(err.value.code)
