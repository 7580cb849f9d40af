"""Training: both heads learn, --resume is exact, --seeds summarises, bad configs fail clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

from _ghara_tiny import TINY_CONFIG, overfit_run, overrides
from model.training import TrainConfig, load_config, main

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


def test_resume_is_exact_with_ema_and_word_dropout(tmp_path):
    common = {"epochs": 4, "patience": 0, "dropout": 0.2, "lr_encoder": 0.001,
              "ema_decay": 0.9, "eval_raw_weights": True, "word_dropout": 0.2}
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
